package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"orderdesk/app/apptest"
	"orderdesk/modules/staff"
)

func TestLoginForm(t *testing.T) {
	env := apptest.Start(t)
	env.CreateUser(t, "lf-user", staff.RoleSupport, "correct horse battery")
	cases := []struct {
		name, username, password string
		status                   int
		message                  string
	}{
		{"empty fields", "", "", 422, "Enter your username."},
		{"no password", "lf-user", "", 422, "Enter your password."},
		{"wrong password", "lf-user", "wrong password!", 422, "Wrong username or password."},
		{"unknown user", "nobody-here", "wrong password!", 422, "Wrong username or password."},
		{"over-long username", strings.Repeat("a", 300), "x", 422, "Wrong username or password."},
		{"markup in username", "<script>alert(1)</script>", "x", 422, "&lt;script&gt;"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := env.NewClient(t)
			c.Get("/admin/login")
			resp, body := c.Post("/admin/login", url.Values{"username": {tc.username}, "password": {tc.password}})
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.message) {
				t.Fatalf("status %d, want %d with %q:\n%s", resp.StatusCode, tc.status, tc.message, body)
			}
			if strings.Contains(body, "<script>alert") {
				t.Fatal("username echoed unescaped")
			}
			if r, _ := c.Get("/admin/users"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/admin/login") {
				t.Fatalf("not logged in expected, got %d", r.StatusCode)
			}
		})
	}
}

func TestLoginThrottleDoesNotRevealUsers(t *testing.T) {
	env := apptest.Start(t)
	env.CreateUser(t, "throttled", staff.RolePacker, "correct horse battery")
	for _, name := range []string{"throttled", "ghost-user"} {
		c := env.NewClient(t)
		c.Get("/admin/login")
		for i := 0; i < staff.MaxLoginFailures; i++ {
			resp, _ := c.Post("/admin/login", url.Values{"username": {name}, "password": {"bad password"}})
			if resp.StatusCode != 422 {
				t.Fatalf("%s attempt %d: %d", name, i, resp.StatusCode)
			}
		}
		resp, body := c.Post("/admin/login", url.Values{"username": {name}, "password": {"correct horse battery"}})
		if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed attempts") {
			t.Fatalf("%s after %d failures: %d\n%s", name, staff.MaxLoginFailures, resp.StatusCode, body)
		}
	}
}

func TestCSRFRequired(t *testing.T) {
	env := apptest.Start(t)
	env.CreateUser(t, "csrf-admin", staff.RoleAdmin, "correct horse battery")
	anon := env.NewClient(t)
	anon.Get("/admin/login")
	resp, _ := anon.Do("POST", "/admin/login", url.Values{"username": {"csrf-admin"}, "password": {"correct horse battery"}}, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without token: %d", resp.StatusCode)
	}
	c := env.NewClient(t)
	c.Login("csrf-admin", "correct horse battery")
	form := url.Values{"username": {"csrf-victim"}, "role": {"admin"}, "password": {"correct horse battery"}}
	for _, tok := range []string{"", "forged-token"} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("_csrf", tok)
		resp, body := c.Do("POST", "/admin/users", f, nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "This form has expired") {
			t.Fatalf("token %q: %d", tok, resp.StatusCode)
		}
	}
	// The header form, as htmx sends it, works.
	resp, _ = c.Do("POST", "/admin/users", form, http.Header{"X-Csrf-Token": {c.CSRF}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("with header token: %d", resp.StatusCode)
	}
	users, _, err := env.App.Staff.Users(t.Context(), staff.UserFilter{Query: "csrf-victim"})
	if err != nil || len(users) != 1 {
		t.Fatalf("users named csrf-victim: %d, %v", len(users), err)
	}
}

func TestDefaultAdminMustChangePassword(t *testing.T) {
	env := apptest.Start(t)
	c := env.NewClient(t)
	c.Get("/admin/login")
	resp, _ := c.Post("/admin/login", url.Values{"username": {"admin"}, "password": {"admin"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/password" {
		t.Fatalf("login as default admin: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Every other page sends them back to the password page.
	for _, p := range []string{"/admin", "/admin/users", "/admin/dashboard", "/admin/audit"} {
		resp, _ := c.Get(p)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/password" {
			t.Fatalf("%s before the change: %d → %s", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	c.Get("/admin/password")
	bad := []struct {
		current, next, confirm, message string
	}{
		{"wrong", "a much better password", "a much better password", "The current password is wrong."},
		{"admin", "short", "short", "at least 10 characters"},
		{"admin", "admin", "admin", "at least 10 characters"},
		{"admin", "a much better password", "another password!!", "The two new passwords differ."},
		{"admin", strings.Repeat("x", 129), strings.Repeat("x", 129), "at most 128 characters"},
	}
	for _, b := range bad {
		resp, body := c.Post("/admin/password", url.Values{"current_password": {b.current}, "new_password": {b.next}, "confirm_password": {b.confirm}})
		if resp.StatusCode != 422 || !strings.Contains(body, b.message) {
			t.Fatalf("%+v: %d\n%s", b, resp.StatusCode, body)
		}
	}
	resp, _ = c.Post("/admin/password", url.Values{"current_password": {"admin"}, "new_password": {"a much better password"}, "confirm_password": {"a much better password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if resp, _ := c.Get("/admin/users"); resp.StatusCode != http.StatusOK {
		t.Fatalf("users after change: %d", resp.StatusCode)
	}
	// The default password no longer works; the new one does.
	c2 := env.NewClient(t)
	c2.Get("/admin/login")
	if resp, _ := c2.Post("/admin/login", url.Values{"username": {"admin"}, "password": {"admin"}}); resp.StatusCode != 422 {
		t.Fatalf("old password still accepted: %d", resp.StatusCode)
	}
	c2.Login("admin", "a much better password")
}

func TestLogoutAndSessionsAcrossServers(t *testing.T) {
	env := apptest.Start(t)
	other := apptest.Start(t) // a second serve process on the same database
	env.CreateUser(t, "multi", staff.RoleManager, "correct horse battery")
	c := env.NewClient(t)
	c.Login("multi", "correct horse battery")
	u, _ := url.Parse(env.URL)
	u2, _ := url.Parse(other.URL)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		c2 := other.NewClient(t)
		c2.HTTP.Jar.SetCookies(u2, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/admin"}})
		if ck.Name == "od_session" {
			if resp, _ := c2.Get("/admin/dashboard"); resp.StatusCode != http.StatusOK {
				t.Fatalf("session not honoured by the second server: %d", resp.StatusCode)
			}
		}
	}
	resp, _ := c.Post("/admin/logout", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login" {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := c.Get("/admin/dashboard"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("still logged in after logout: %d", resp.StatusCode)
	}
}

func TestErrorPages(t *testing.T) {
	env := apptest.Start(t)
	env.CreateUser(t, "err-packer", staff.RolePacker, "correct horse battery")
	c := env.NewClient(t)
	c.Login("err-packer", "correct horse battery")
	resp, body := c.Get("/admin/no-such-page")
	if resp.StatusCode != 404 || !strings.Contains(body, "There is no page at this address.") || !strings.Contains(body, `href="/admin/fulfilment"`) {
		t.Fatalf("404 page: %d\n%s", resp.StatusCode, body)
	}
	resp, body = c.Get("/admin/users")
	if resp.StatusCode != 403 || !strings.Contains(body, "403") {
		t.Fatalf("403 page: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = c.Get("/admin/users/not-a-uuid")
	if resp.StatusCode != 403 {
		t.Fatalf("packer on a user page: %d", resp.StatusCode)
	}
	if h := resp.Header.Get("Content-Security-Policy"); !strings.Contains(h, "script-src 'self'") || strings.Contains(h, "unsafe-inline") {
		t.Fatalf("CSP on error page: %q", h)
	}
}

// TestLongFiltersAreClippedWhole sends filters longer than their limit made of
// two-byte characters: clipping must not cut one in half (PostgreSQL would refuse it).
func TestLongFiltersAreClippedWhole(t *testing.T) {
	env := apptest.Start(t)
	env.CreateUser(t, "clip-admin", staff.RoleAdmin, "correct horse battery")
	c := env.NewClient(t)
	c.Login("clip-admin", "correct horse battery")
	// One ASCII letter first, so that every limit (64, 200 bytes) falls inside an "é".
	long := url.QueryEscape("x" + strings.Repeat("é", 150))
	for _, p := range []string{"/admin/audit?actor=" + long, "/admin/catalog/products?q=" + long} {
		if resp, body := c.Get(p); resp.StatusCode != 200 {
			t.Errorf("%s: %d\n%.300s", p, resp.StatusCode, body)
		}
	}
}
