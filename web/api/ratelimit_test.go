package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"orderdesk/app/apptest"
	"orderdesk/web/api"
)

// TestRateLimitPerKeyAcrossServers: with API_RATE_LIMIT=3, a key's 4th request in
// the minute is a documented 429 with Retry-After, whichever server it reaches; another
// key is unaffected; the OpenAPI document is never limited.
func TestRateLimitPerKeyAcrossServers(t *testing.T) {
	vars := map[string]string{"API_RATE_LIMIT": "3"}
	one := apptest.StartWith(t, vars)
	two := apptest.StartWith(t, vars)
	keyA := one.NewAPIKey(t, "rate-a-"+tag(t))
	keyB := one.NewAPIKey(t, "rate-b-"+tag(t))
	a1, a2 := one.API(t, keyA), two.API(t, keyA)
	a1.JSON("/api/v1/categories", http.StatusOK, nil)
	a2.JSON("/api/v1/categories", http.StatusOK, nil)
	a1.JSON("/api/v1/products", http.StatusOK, nil)
	resp, body := a2.Get("/api/v1/categories") // the 4th, on the other server
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th request: status %d, want 429: %s", resp.StatusCode, body)
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	if resp, _ := a1.Get("/api/v1/products"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("5th request on the first server: %d", resp.StatusCode)
	}
	b := two.API(t, keyB)
	for range 3 {
		b.JSON("/api/v1/categories", http.StatusOK, nil)
	}
	for range 5 {
		a1.JSON("/api/v1/openapi.json", http.StatusOK, nil)
	}
	// A bad key is refused by authentication, not counted against anyone.
	if resp, _ := one.API(t, "od_nope_nope").Get("/api/v1/categories"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad key: %d", resp.StatusCode)
	}
}

// TestRateLimitOff: API_RATE_LIMIT=0 disables the limit.
func TestRateLimitOff(t *testing.T) {
	env := apptest.StartWith(t, map[string]string{"API_RATE_LIMIT": "0"})
	c := env.API(t, env.NewAPIKey(t, "rate-off-"+tag(t)))
	for range 10 {
		c.JSON("/api/v1/categories", http.StatusOK, nil)
	}
}

type fakeLimiter struct {
	ok    bool
	retry time.Duration
	err   error
	keys  []string
}

func (f *fakeLimiter) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	f.keys = append(f.keys, key)
	return f.ok, f.retry, f.err
}

func limited(t *testing.T, l *fakeLimiter) *http.Response {
	t.Helper()
	app := fiber.New()
	app.Get("/x", api.RateLimit(l, slog.New(slog.NewTextHandler(io.Discard, nil))), func(c *fiber.Ctx) error {
		return c.SendString("ok")
	})
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("Authorization", "Bearer od_abc_secret")
	resp, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestRateLimitMiddleware: the limiter's answer becomes 429 with Retry-After rounded
// up to whole seconds; a failing limiter (Redis down) lets the request through; the
// key itself never reaches the limiter.
func TestRateLimitMiddleware(t *testing.T) {
	l := &fakeLimiter{ok: false, retry: 1500 * time.Millisecond}
	resp := limited(t, l)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d Retry-After %q type %q", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
	}
	if len(l.keys) != 1 || l.keys[0] == "" || l.keys[0] == "od_abc_secret" {
		t.Fatalf("limiter keys %q", l.keys)
	}
	if resp := limited(t, &fakeLimiter{ok: false, retry: 10 * time.Millisecond}); resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q for 10 ms, want 1", resp.Header.Get("Retry-After"))
	}
	if resp := limited(t, &fakeLimiter{err: errors.New("dial tcp: connection refused")}); resp.StatusCode != http.StatusOK {
		t.Fatalf("limiter down: status %d, want 200", resp.StatusCode)
	}
	if resp := limited(t, &fakeLimiter{ok: true}); resp.StatusCode != http.StatusOK {
		t.Fatalf("allowed: status %d", resp.StatusCode)
	}
}
