// Package apptest boots a whole OrderDesk for end-to-end tests: a throwaway PostgreSQL
// database and Redis database per test package, the real wiring of package app, and
// the HTTP server on a free port of 127.0.0.1.
package apptest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"orderdesk/adapters/asynq/redistest"
	"orderdesk/adapters/postgres/pgtest"
	"orderdesk/app"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

var dbURL, redisURL string

// Main is the TestMain of a package that boots the app: it creates the package's
// database and Redis index, runs the tests and removes both.
func Main(m *testing.M) {
	ctx := context.Background()
	var dropDB, releaseRedis func()
	var err error
	dbURL, dropDB, err = pgtest.Create(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apptest:", err)
		os.Exit(1)
	}
	redisURL, releaseRedis, err = redistest.Acquire(ctx)
	if err != nil {
		dropDB()
		fmt.Fprintln(os.Stderr, "apptest:", err)
		os.Exit(1)
	}
	code := m.Run()
	releaseRedis()
	dropDB()
	os.Exit(code)
}

// CheapPasswords keeps argon2id fast in tests.
var CheapPasswords = staff.PasswordParams{Time: 1, Memory: 1024, Threads: 1}

// Env is a running OrderDesk.
type Env struct {
	App *app.App
	URL string
}

// Start opens the app against the package's database and serves it until the test
// ends. The default admin exists (admin/admin, must change password).
func Start(t testing.TB) *Env {
	t.Helper()
	return StartWith(t, nil)
}

// StartWith is Start with extra configuration variables (e.g. API_RATE_LIMIT).
func StartWith(t testing.TB, vars map[string]string) *Env {
	t.Helper()
	return StartOpts(t, vars, app.Options{})
}

// StartOpts is StartWith with options for app.Open (a fake carrier, a clock); cheap
// passwords unless opts says otherwise.
func StartOpts(t testing.TB, vars map[string]string, opts app.Options) *Env {
	t.Helper()
	if dbURL == "" {
		t.Fatal("apptest.Start needs apptest.Main as the package's TestMain")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "HTTP_ADDR": ln.Addr().String(),
		"BASE_URL": "http://" + ln.Addr().String(), "DATA_DIR": t.TempDir(),
	}
	for k, v := range vars {
		env[k] = v
	}
	cfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.ShutdownTimeout = 10 * time.Second
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if opts.PasswordParams == nil {
		opts.PasswordParams = &CheapPasswords
	}
	a, err := app.Open(context.Background(), cfg, log, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Staff.EnsureDefaultAdmin(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		// The test clients share http.DefaultTransport. Close its idle connections first:
		// a connection it dialled but never sent a request on would hold the server's
		// graceful shutdown until the read timeout.
		http.DefaultClient.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		a.Close()
	})
	return &Env{App: a, URL: "http://" + ln.Addr().String()}
}

// RunWorker runs the app's worker (Asynq server, scheduler, outbox relay) against the
// package's Redis database until the test ends.
func (e *Env) RunWorker(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.App.Work(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
}

// CreateUser adds a staff user who need not change their password.
func (e *Env) CreateUser(t testing.TB, username string, role staff.Role, password string) *staff.User {
	t.Helper()
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorSystem, Name: "test"})
	u, err := e.App.Staff.CreateUser(ctx, staff.NewUser{Username: username, Role: role, Password: password}, false)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Client is a browser-like HTTP client: a cookie jar, no automatic redirects, and the
// CSRF token of the last page it read.
type Client struct {
	t    testing.TB
	base string
	HTTP *http.Client
	CSRF string
}

// NewClient returns a client of the env.
func (e *Env) NewClient(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, base: e.URL, HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

// Do sends a request and returns the response with its body read.
func (c *Client) Do(method, path string, form url.Values, header http.Header) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	if m := csrfMeta.FindStringSubmatch(string(b)); m != nil {
		c.CSRF = m[1]
	}
	return resp, string(b)
}

// Base is the server's URL.
func (c *Client) Base() string { return c.base }

// Get fetches a page.
func (c *Client) Get(path string) (*http.Response, string) { return c.Do("GET", path, nil, nil) }

// Post submits a form with the current CSRF token.
func (c *Client) Post(path string, form url.Values) (*http.Response, string) {
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.CSRF)
	}
	return c.Do("POST", path, form, nil)
}

// Login logs in and fails the test unless it succeeds.
func (c *Client) Login(username, password string) {
	c.t.Helper()
	c.Get("/admin/login")
	resp, body := c.Post("/admin/login", url.Values{"username": {username}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login as %s: status %d: %s", username, resp.StatusCode, body)
	}
	c.Get("/admin/password") // any page, to pick up the session's CSRF token
}
