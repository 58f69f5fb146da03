package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"orderdesk/ports"
	"orderdesk/web/api"
)

// OpenAPI holds the API's OpenAPI 3.1 document (api.Document), loaded and validated,
// and checks requests and responses against it.
type OpenAPI struct {
	Doc    *openapi3.T
	router routers.Router
}

var (
	openapiOnce sync.Once
	openapiSpec *OpenAPI
	openapiErr  error
)

// LoadOpenAPI returns the API's document, loaded and validated once per test binary.
func LoadOpenAPI() (*OpenAPI, error) {
	openapiOnce.Do(func() {
		raw, err := api.Document()
		if err != nil {
			openapiErr = err
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(raw)
		if err != nil {
			openapiErr = fmt.Errorf("load the OpenAPI document: %w", err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			openapiErr = fmt.Errorf("the OpenAPI document is not valid: %w", err)
			return
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			openapiErr = fmt.Errorf("route the OpenAPI document: %w", err)
			return
		}
		openapiSpec = &OpenAPI{Doc: doc, router: router}
	})
	return openapiSpec, openapiErr
}

// uuidFormat is RFC 9562's UUID (versions 1 to 8, nil and max): the RFC 4122 pattern
// would refuse the UUIDv7 ids OrderDesk makes.
var uuidFormat = openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)

// uriFormat accepts an absolute URI with a scheme and a host, as photo URLs are.
var uriFormat = openapi3.NewCallbackValidator(func(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if !u.IsAbs() || u.Host == "" {
		return errors.New("not an absolute URI")
	}
	return nil
})

func (o *OpenAPI) options() *openapi3filter.Options {
	return &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		SkipSettingDefaults:   true,
		// The key's value is the server's business; the request only needs to carry one.
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			h := in.RequestValidationInput.Request.Header.Get("Authorization")
			scheme, key, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
				return errors.New("no Authorization: Bearer <key> header")
			}
			return nil
		},
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid", uuidFormat),
			openapi3.WithStringFormatValidator("uri", uriFormat),
		},
	}
}

// route finds the documented operation of req.
func (o *OpenAPI) route(req *http.Request) (*openapi3filter.RequestValidationInput, error) {
	route, params, err := o.router.FindRoute(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s is not in the OpenAPI document: %w", req.Method, req.URL.Path, err)
	}
	return &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: o.options()}, nil
}

// ValidateRequest checks a request (with its body) against the document: its
// operation exists, its parameters, body and security requirements match.
func (o *OpenAPI) ValidateRequest(req *http.Request, body []byte) error {
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(body))
	in, err := o.route(r)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequest(context.Background(), in)
}

// ValidateResponse checks a response to req against the document: the operation
// exists, the status is documented for it, the headers it declares are present when
// required and match their schema, and the body has a documented content type and
// matches its schema. A status documented without content (304) must have no body.
// Problem responses must repeat the HTTP status, and a 422 must name the fields.
func (o *OpenAPI) ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	in, err := o.route(req)
	if err != nil {
		return err
	}
	op := in.Route.Operation
	ref := op.Responses.Status(status)
	if ref == nil {
		ref = op.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("status %d is not documented for %s %s", status, req.Method, in.Route.Path)
	}
	resp := ref.Value
	if len(resp.Content) == 0 {
		if len(body) != 0 {
			return fmt.Errorf("status %d is documented without a body, but the response has %d bytes", status, len(body))
		}
		if ct := header.Get("Content-Type"); ct != "" && status == http.StatusNotModified {
			return fmt.Errorf("status 304 has a Content-Type (%s)", ct)
		}
	} else {
		ct := header.Get("Content-Type")
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return fmt.Errorf("status %d: Content-Type %q: %w", status, ct, err)
		}
		if resp.Content.Get(ct) == nil {
			return fmt.Errorf("status %d: Content-Type %q is not one the document gives (%v)", status, ct, contentTypes(resp.Content))
		}
		if mt == "application/json" || strings.HasSuffix(mt, "+json") {
			if !utf8.Valid(body) || !json.Valid(body) {
				return fmt.Errorf("status %d: the body is not one valid UTF-8 JSON value", status)
			}
		}
		if mt == "application/problem+json" {
			if err := checkProblem(status, body); err != nil {
				return err
			}
		}
	}
	// The library leaves 304 (and redirects) alone; check the headers declared for them here.
	if status == http.StatusNotModified {
		for name, h := range resp.Headers {
			if h.Value != nil && h.Value.Required && header.Get(name) == "" {
				return fmt.Errorf("status 304: required header %s is missing", name)
			}
		}
		return nil
	}
	rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: in.Options}
	rin.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), rin)
}

func contentTypes(c openapi3.Content) []string {
	var out []string
	for k := range c {
		out = append(out, k)
	}
	return out
}

// checkProblem holds an RFC 9457 problem to what DESIGN.md asks of it.
func checkProblem(status int, body []byte) error {
	var p struct {
		Status int `json:"status"`
		Errors []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return fmt.Errorf("status %d: problem body: %w", status, err)
	}
	if p.Status != status {
		return fmt.Errorf("problem says status %d but the response is %d", p.Status, status)
	}
	if status == http.StatusUnprocessableEntity {
		if len(p.Errors) == 0 {
			return errors.New("a 422 problem must name the fields at fault in errors")
		}
		for _, e := range p.Errors {
			if e.Field == "" || e.Message == "" {
				return fmt.Errorf("a 422 problem has an error without field or message: %+v", e)
			}
		}
	}
	return nil
}

// APIClient calls the REST API of an Env as a client app and holds every response
// to the OpenAPI document: a response that does not match fails the test.
type APIClient struct {
	t    testing.TB
	base string
	key  string
	spec *OpenAPI
	// HTTP is the client used; it never follows redirects.
	HTTP *http.Client
	// ValidateRequests also checks each request against the document, failing the
	// test when it does not match. Leave it off for requests invalid on purpose.
	ValidateRequests bool
}

// API returns a client of the env's REST API sending "Authorization: Bearer key"
// (no Authorization header when key is empty).
func (e *Env) API(t testing.TB, key string) *APIClient {
	t.Helper()
	spec, err := LoadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	return &APIClient{t: t, base: e.URL, key: key, spec: spec, HTTP: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Strict returns a copy of c that also validates every request it sends.
func (c *APIClient) Strict() *APIClient {
	cp := *c
	cp.ValidateRequests = true
	return &cp
}

// Spec is the loaded OpenAPI document the client validates against.
func (c *APIClient) Spec() *OpenAPI { return c.spec }

// Get sends a GET of path (under the server root, e.g. "/api/v1/products?limit=5")
// with the given extra headers.
func (c *APIClient) Get(path string, header ...http.Header) (*http.Response, []byte) {
	c.t.Helper()
	h := http.Header{}
	for _, x := range header {
		for k, v := range x {
			h[http.CanonicalHeaderKey(k)] = v
		}
	}
	return c.Do(http.MethodGet, path, nil, h)
}

// Do sends a request and returns the response with its body read. Headers given
// replace the client's own (an Authorization given here is sent instead of the key).
// A JSON body gets Content-Type application/json unless the headers say otherwise.
// The response is validated against the document; failures are reported with
// t.Errorf, so the test goes on to its own assertions.
func (c *APIClient) Do(method, path string, body []byte, header http.Header) (*http.Response, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	if c.ValidateRequests {
		if err := c.spec.ValidateRequest(req, body); err != nil {
			c.t.Errorf("OpenAPI: request %s %s does not match the document: %v", method, path, err)
		}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if err := c.spec.ValidateResponse(req, resp.StatusCode, resp.Header, b); err != nil {
		c.t.Errorf("OpenAPI: response to %s %s (status %d) does not match the document: %v\nheaders: %v\nbody: %s",
			method, path, resp.StatusCode, err, resp.Header, clip(b, 2000))
	}
	return resp, b
}

// JSON sends a GET, fails the test unless the status is want, and decodes the body
// into v (when v is not nil).
func (c *APIClient) JSON(path string, want int, v any, header ...http.Header) (*http.Response, []byte) {
	c.t.Helper()
	resp, b := c.Get(path, header...)
	if resp.StatusCode != want {
		c.t.Fatalf("GET %s: status %d, want %d: %s", path, resp.StatusCode, want, clip(b, 2000))
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			c.t.Fatalf("GET %s: decode: %v: %s", path, err, clip(b, 2000))
		}
	}
	return resp, b
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// NewAPIKey registers a client app with the given name (no webhook) and returns its
// plain API key.
func (e *Env) NewAPIKey(t testing.TB, name string) string {
	t.Helper()
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorSystem, Name: "test"})
	created, err := e.App.Clients.CreateApp(ctx, name, "")
	if err != nil {
		t.Fatalf("create client app %q: %v", name, err)
	}
	return created.APIKey
}
