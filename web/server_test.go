package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"orderdesk/app"
	"orderdesk/app/apptest"
)

func TestMain(m *testing.M) { apptest.Main(m) }

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHealthReadyMetrics(t *testing.T) {
	env := apptest.Start(t)
	if resp, body := get(t, env.URL+"/healthz"); resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, env.URL+"/readyz"); resp.StatusCode != 200 {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body)
	}
	get(t, env.URL+"/admin/login")
	get(t, env.URL+"/admin/nowhere") // redirected to the login page: a second login GET
	resp, body := get(t, env.URL+"/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`orderdesk_http_requests_total{method="GET",route="/admin/login",status="200"} 2`,
		`orderdesk_http_request_duration_seconds_bucket{method="GET",route="/admin/login"`,
		`go_sql_max_open_connections{db_name="orderdesk"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q in\n%s", want, grep(body, "orderdesk_http_requests_total"))
		}
	}
}

func TestReadyzFailsWithoutRedis(t *testing.T) {
	env := apptest.Start(t)
	cfg := *env.App.Config
	cfg.RedisURL = "redis://127.0.0.1:1/0" // nothing listens there
	a, err := app.Open(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{PasswordParams: &apptest.CheapPasswords})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	err = a.Ready(context.Background())
	if err == nil || !strings.Contains(err.Error(), "redis") {
		t.Fatalf("Ready with Redis down: %v", err)
	}
}

func TestStaticAndSecurityHeaders(t *testing.T) {
	env := apptest.Start(t)
	for _, p := range []string{"/static/vendor/htmx.min.js", "/static/admin.css", "/static/admin.js"} {
		resp, body := get(t, env.URL+p)
		if resp.StatusCode != 200 || len(body) < 100 {
			t.Fatalf("%s: %d (%d bytes)", p, resp.StatusCode, len(body))
		}
		if !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
			t.Errorf("%s: no cache header", p)
		}
	}
	resp, body := get(t, env.URL+"/admin/login")
	h := resp.Header
	checks := map[string]string{
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Content-Security-Policy": "script-src 'self';",
	}
	for k, v := range checks {
		if !strings.Contains(h.Get(k), v) {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if strings.Contains(h.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Error("CSP allows inline scripts on the admin")
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "cdn") || strings.Contains(body, "https://") {
		t.Error("login page has an inline script or an external asset")
	}
	if h.Get("X-Request-Id") == "" {
		t.Error("no request id")
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "od_csrf" && (!ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode) {
			t.Errorf("csrf cookie flags: %+v", ck)
		}
	}
	resp, body = get(t, env.URL+"/nothing-here")
	if resp.StatusCode != 404 || !strings.Contains(body, `"status":404`) {
		t.Fatalf("unknown path: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, env.URL+"/api/v1/nothing-here")
	if resp.StatusCode != 401 || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, `"title":"Unauthorized"`) {
		t.Fatalf("unknown API path: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func grep(body, prefix string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestInvalidTextRefused sends query and form values that are not UTF-8 or hold NUL:
// each is a clear 422 naming the field, never a 500 from the database.
func TestInvalidTextRefused(t *testing.T) {
	env := apptest.Start(t)
	api := env.API(t, env.NewAPIKey(t, "text"))
	for _, q := range []string{"q=%FF%FE", "q=tea%00", "category=%C3"} {
		resp, body := api.Get("/api/v1/products?" + q)
		field, _, _ := strings.Cut(q, "=")
		if resp.StatusCode != 422 || !strings.Contains(string(body), `"field":"`+field+`"`) {
			t.Errorf("GET /api/v1/products?%s: %d %s", q, resp.StatusCode, body)
		}
	}
	c := env.NewClient(t)
	c.Get("/admin/login")
	resp, body := c.Post("/admin/login", url.Values{"username": {"adm\xffin"}, "password": {"x"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "username is not valid text") {
		t.Errorf("login with invalid UTF-8: %d\n%.500s", resp.StatusCode, body)
	}
	resp, _ = c.Post("/admin/login", url.Values{"username": {"admin\x00"}, "password": {"x"}})
	if resp.StatusCode != 422 {
		t.Errorf("login with NUL: %d", resp.StatusCode)
	}
	// Valid Unicode passes untouched.
	if resp, body := api.Get("/api/v1/products?q=th%C3%A9+%F0%9F%8D%B5"); resp.StatusCode != 200 {
		t.Errorf("valid UTF-8 query: %d %s", resp.StatusCode, body)
	}
}
