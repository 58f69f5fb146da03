package rmtest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"go.yaml.in/yaml/v3"
)

var (
	//go:embed testdata/click-and-drop-api-v1.yaml
	clickDropYAML []byte
	//go:embed testdata/tracking-api-v2.swagger.yaml
	trackingYAML []byte

	specsOnce                sync.Once
	clickDropSpec, trackSpec *openapi3.T
	specsErr                 error
)

// specs loads both specifications once per test binary.
func specs() (clickDrop, tracking *openapi3.T, err error) {
	specsOnce.Do(func() {
		if clickDropSpec, specsErr = loadSwagger(clickDropYAML); specsErr != nil {
			specsErr = fmt.Errorf("click & drop spec: %w", specsErr)
			return
		}
		if trackSpec, specsErr = loadSwagger(trackingYAML); specsErr != nil {
			specsErr = fmt.Errorf("tracking spec: %w", specsErr)
		}
	})
	return clickDropSpec, trackSpec, specsErr
}

// loadSwagger reads a Swagger 2.0 YAML document as OpenAPI 3.
func loadSwagger(y []byte) (*openapi3.T, error) {
	var doc any
	if err := yaml.Unmarshal(y, &doc); err != nil {
		return nil, err
	}
	m, ok := stringKeys(doc).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a YAML mapping")
	}
	// The tracking export has "contact: []" where an object belongs; it says nothing.
	if info, ok := m["info"].(map[string]any); ok {
		if _, isList := info["contact"].([]any); isList {
			delete(info, "contact")
		}
	}
	j, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var v2 openapi2.T
	if err := json.Unmarshal(j, &v2); err != nil {
		return nil, err
	}
	return openapi2conv.ToV3(&v2)
}

// stringKeys turns YAML mappings with non-string keys (response codes such as 200)
// into JSON-ready ones.
func stringKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = stringKeys(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = stringKeys(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = stringKeys(e)
		}
	}
	return v
}

// operation is one operation of a specification, checked against requests and
// answers.
type operation struct {
	route *routers.Route
}

func findOperation(doc *openapi3.T, method, path string) (*operation, error) {
	item := doc.Paths.Find(path)
	if item == nil {
		return nil, fmt.Errorf("no path %s in the spec", path)
	}
	op := item.GetOperation(method)
	if op == nil {
		return nil, fmt.Errorf("no %s %s in the spec", method, path)
	}
	return &operation{route: &routers.Route{Spec: doc, Server: nil, Path: path, PathItem: item, Method: method, Operation: op}}, nil
}

var validationOptions = &openapi3filter.Options{
	MultiError: true,
	// rmtest checks the credentials itself, after the spec check says they are there.
	AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
}

// checkRequest validates r (its body is read and put back) against the operation.
func (o *operation) checkRequest(r *http.Request, pathParams map[string]string) (*openapi3filter.RequestValidationInput, error) {
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: pathParams, Route: o.route, Options: validationOptions}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		return in, err
	}
	return in, nil
}

// checkResponse validates an answer rmtest is about to send. Statuses the spec does
// not list (Tracking's documented 404s, for one) pass; PDFs are not parsed.
func (o *operation) checkResponse(in *openapi3filter.RequestValidationInput, rep *reply) error {
	h := http.Header{}
	for k, v := range rep.header {
		h[k] = v
	}
	h.Set("Content-Type", rep.contentType)
	opts := &openapi3filter.Options{MultiError: true, ExcludeResponseBody: rep.contentType == "application/pdf" || len(rep.body) == 0}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: rep.status, Header: h, Body: io.NopCloser(bytes.NewReader(rep.body)), Options: opts,
	})
}
