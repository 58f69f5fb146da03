package btcpaytest

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specFiles are BTCPay's OpenAPI fragments (see spec/SOURCE.txt).
//
//go:embed spec
var specFiles embed.FS

// spec is one version's Greenfield document, merged and ready to validate against.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	specOnce [2]sync.Once
	specs    [2]*spec
	specErrs [2]error
)

// loadSpec returns the document of a shape, built once per process.
func loadSpec(shape Shape) (*spec, error) {
	i := 0
	if shape == V1 {
		i = 1
	}
	specOnce[i].Do(func() { specs[i], specErrs[i] = buildSpec(shape) })
	return specs[i], specErrs[i]
}

// The fragments of each shape, the first of each group defining what the later ones do
// not: 1.x takes pull payments, stores and API keys from 2.4.1 (the 1.13.7 copies are
// only of the invoice and webhook fragments).
var (
	v2Common = []string{"v2/swagger.template.json", "v2/swagger.template.pull-payments.json", "v2/swagger.template.stores.json",
		"v2/swagger.template.users.json", "v2/swagger.template.api-keys.json", "orderdesk.extra.json"}
	v2Files = append([]string{"v2/swagger.template.invoices.json", "v2/swagger.template.webhooks.json"}, v2Common...)
	v1Files = append([]string{"v1/swagger.template.json", "v1/swagger.template.invoices.json", "v1/swagger.template.webhooks.json"}, v2Common...)
)

func buildSpec(shape Shape) (*spec, error) {
	files := v2Files
	if shape == V1 {
		files = v1Files
	}
	merged := map[string]any{}
	for _, name := range files {
		raw, err := specFiles.ReadFile(path.Join("spec", name))
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		if err := json.Unmarshal(raw, &frag); err != nil {
			return nil, fmt.Errorf("btcpaytest: %s: %w", name, err)
		}
		mergeFragment(merged, frag)
	}
	addStoreAliases(merged)
	flattenAllOf(merged)
	raw, err := json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("btcpaytest: load the merged Greenfield document: %w", err)
	}
	// The fragments carry a few examples and defaults of the wrong type (BOLT11Expiration
	// "example": 30 on a string): documentation, not the API.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation()); err != nil {
		return nil, fmt.Errorf("btcpaytest: the merged Greenfield document is not valid: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("btcpaytest: route the Greenfield document: %w", err)
	}
	return &spec{doc: doc, router: router}, nil
}

// mergeFragment adds a fragment's paths, components and extensions to the document;
// what the document already has wins (so the version's own fragments come first).
func mergeFragment(doc, frag map[string]any) {
	for k, v := range frag {
		switch k {
		case "paths", "x-webhooks":
			dst, _ := doc[k].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				doc[k] = dst
			}
			for p, item := range v.(map[string]any) {
				if _, ok := dst[p]; !ok {
					dst[p] = item
				}
			}
		case "components":
			dst, _ := doc[k].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				doc[k] = dst
			}
			for section, entries := range v.(map[string]any) {
				ds, _ := dst[section].(map[string]any)
				if ds == nil {
					ds = map[string]any{}
					dst[section] = ds
				}
				for name, e := range entries.(map[string]any) {
					if _, ok := ds[name]; !ok {
						ds[name] = e
					}
				}
			}
		case "tags":
			// Documentation only.
		default:
			if _, ok := doc[k]; !ok {
				doc[k] = v
			}
		}
	}
}

// addStoreAliases documents /api/v1/stores/{storeId}/invoices/{invoiceId}/… and
// /api/v1/stores/{storeId}/webhooks/{webhookId}/… next to 2.4's storeId-less forms, as
// the server routes both (1.x documents only the store form, which it keeps).
func addStoreAliases(doc map[string]any) {
	paths := doc["paths"].(map[string]any)
	for p, item := range paths {
		if !strings.HasPrefix(p, "/api/v1/invoices/{invoiceId}") && !strings.HasPrefix(p, "/api/v1/webhooks/{webhookId}") {
			continue
		}
		alias := "/api/v1/stores/{storeId}/" + strings.TrimPrefix(p, "/api/v1/")
		if _, ok := paths[alias]; ok {
			continue
		}
		cp := deepCopy(item).(map[string]any)
		for _, op := range cp {
			if o, ok := op.(map[string]any); ok && o["operationId"] != nil {
				o["operationId"] = fmt.Sprint(o["operationId"], "_ByStore")
			}
		}
		params, _ := cp["parameters"].([]any)
		cp["parameters"] = append(params, map[string]any{"$ref": "#/components/parameters/StoreId"})
		paths[alias] = cp
	}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// flattenAllOf replaces every allOf in the document by the one schema its members make
// together: properties and required lists joined, additionalProperties false when any
// member says so, the schema's own keywords last. BTCPay's fragments put
// additionalProperties:false on one member of an allOf, which read literally refuses the
// properties of the other members (an InvoiceData with metadata); flattened, a property
// none of the members knows is still refused.
func flattenAllOf(doc map[string]any) {
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	f := &flattener{schemas: schemas, done: map[string]map[string]any{}}
	for name := range schemas {
		schemas[name] = f.named(name)
	}
	for k, v := range doc {
		if k != "components" {
			doc[k] = f.walk(v)
		}
	}
	for section, entries := range comps {
		if section == "schemas" {
			continue
		}
		comps[section] = f.walk(entries)
	}
}

type flattener struct {
	schemas map[string]any
	done    map[string]map[string]any
}

func (f *flattener) named(name string) map[string]any {
	if s, ok := f.done[name]; ok {
		return s
	}
	raw, _ := f.schemas[name].(map[string]any)
	out, _ := f.walk(raw).(map[string]any)
	f.done[name] = out
	return out
}

func (f *flattener) walk(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = f.walk(e)
		}
		members, ok := out["allOf"].([]any)
		if !ok {
			return out
		}
		merged := map[string]any{}
		for _, m := range members {
			ms, _ := m.(map[string]any)
			if ref, ok := ms["$ref"].(string); ok && strings.HasPrefix(ref, "#/components/schemas/") {
				ms = f.named(strings.TrimPrefix(ref, "#/components/schemas/"))
			}
			mergeSchema(merged, ms)
		}
		delete(out, "allOf")
		mergeSchema(merged, out)
		return merged
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = f.walk(e)
		}
		return out
	}
	return v
}

func mergeSchema(dst, src map[string]any) {
	for k, v := range src {
		switch k {
		case "properties":
			props, _ := dst[k].(map[string]any)
			if props == nil {
				props = map[string]any{}
			}
			for name, s := range v.(map[string]any) {
				props[name] = s
			}
			dst[k] = props
		case "required":
			have, _ := dst[k].([]any)
			for _, r := range v.([]any) {
				if !containsValue(have, r) {
					have = append(have, r)
				}
			}
			dst[k] = have
		case "additionalProperties":
			if b, ok := dst[k].(bool); ok && !b {
				continue
			}
			dst[k] = v
		default:
			dst[k] = v
		}
	}
}

func containsValue(list []any, v any) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
