package api_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"orderdesk/app/apptest"
	"orderdesk/web/api"
)

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestDocsPage: /api/v1/docs is public HTML that loads only same-origin scripts (Redoc
// from /static/vendor and its initialiser), with no inline script, under a policy that
// relaxes styles and a blob: worker only.
func TestDocsPage(t *testing.T) {
	env := apptest.Start(t)
	resp, body := get(t, env.URL+"/api/v1/docs")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/docs: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if csp != api.DocsContentSecurityPolicy {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, bad := range []string{"'unsafe-eval'", "http:", "https:", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("policy allows %s: %q", bad, csp)
		}
	}
	if !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("policy allows scripts other than the site's own: %q", csp)
	}
	if !strings.Contains(body, `data-spec-url="/api/v1/openapi.json"`) {
		t.Errorf("the page does not point Redoc at the OpenAPI document:\n%s", body)
	}

	scripts := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`).FindAllStringSubmatch(body, -1)
	src := regexp.MustCompile(`\bsrc="([^"]*)"`)
	var srcs []string
	for _, s := range scripts {
		if strings.TrimSpace(s[2]) != "" {
			t.Errorf("inline script in the page: %q", s[2])
		}
		m := src.FindStringSubmatch(s[1])
		if m == nil {
			t.Errorf("script without src: %q", s[0])
			continue
		}
		u, err := url.Parse(m[1])
		if err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			t.Errorf("script %q is not a same-origin path", m[1])
		}
		srcs = append(srcs, m[1])
	}
	if strings.Join(srcs, " ") != "/static/vendor/redoc.standalone.js /static/api-docs.js" {
		t.Errorf("scripts %q", srcs)
	}
	for _, l := range regexp.MustCompile(`(?i)<link\b[^>]*\bhref="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if l[1] == "data:," {
			continue // the empty favicon
		}
		if !strings.HasPrefix(l[1], "/") || strings.HasPrefix(l[1], "//") {
			t.Errorf("link to %q is not same-origin", l[1])
		}
	}

	// The bundle and the initialiser are served from /static.
	resp, bundle := get(t, env.URL+"/static/vendor/redoc.standalone.js")
	if resp.StatusCode != http.StatusOK || len(bundle) < 500_000 || !strings.Contains(bundle, "Redoc") {
		t.Errorf("/static/vendor/redoc.standalone.js: %d, %d bytes", resp.StatusCode, len(bundle))
	}
	if strings.Contains(bundle, "fonts.googleapis.com") {
		t.Errorf("the Redoc bundle loads Google fonts")
	}
	resp, init := get(t, env.URL+"/static/api-docs.js")
	if resp.StatusCode != http.StatusOK || !strings.Contains(init, "Redoc.init") {
		t.Errorf("/static/api-docs.js: %d %q", resp.StatusCode, init)
	}
	if resp, _ := get(t, env.URL+"/static/vendor/redoc.LICENSE"); resp.StatusCode != http.StatusOK {
		t.Errorf("redoc.LICENSE: %d", resp.StatusCode)
	}

	// Everything else under /api/v1 still wants a key.
	if resp, _ := get(t, env.URL+"/api/v1/products"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/products without a key: %d", resp.StatusCode)
	}
}
