package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"orderdesk/app/apptest"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

func TestCreateUserBadInput(t *testing.T) {
	env := apptest.Start(t)
	env.CreateUser(t, "cu-admin", staff.RoleAdmin, "correct horse battery")
	env.CreateUser(t, "taken-name", staff.RolePacker, "correct horse battery")
	c := env.NewClient(t)
	c.Login("cu-admin", "correct horse battery")
	good := url.Values{"username": {"new-packer"}, "display_name": {"New Packer"}, "role": {"packer"}, "password": {"correct horse battery"}}
	cases := []struct {
		name, field, value, message string
	}{
		{"empty username", "username", "", "Enter a username."},
		{"over-long username", "username", strings.Repeat("a", 33), "at most 32 characters"},
		{"short username", "username", "ab", "at least 3 characters"},
		{"bad characters", "username", "bob smith", "Use only letters"},
		{"taken username", "username", "Taken-Name", "This username is taken."},
		{"short password", "password", "short", "at least 10 characters"},
		{"empty password", "password", "", "Enter a password."},
		{"unknown role", "role", "owner", "Choose one of the roles."},
		{"long display name", "display_name", strings.Repeat("é", 101), "at most 100 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _, _ := env.App.Staff.Users(t.Context(), staff.UserFilter{Limit: 100})
			f := url.Values{}
			for k, v := range good {
				f[k] = v
			}
			f.Set(tc.field, tc.value)
			resp, body := c.Post("/admin/users", f)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.message) {
				t.Fatalf("status %d, want 422 with %q:\n%s", resp.StatusCode, tc.message, body)
			}
			if !strings.Contains(body, `aria-invalid="true"`) {
				t.Fatal("field not marked invalid")
			}
			after, _, _ := env.App.Staff.Users(t.Context(), staff.UserFilter{Limit: 100})
			if len(after) != len(before) {
				t.Fatalf("users changed: %d → %d", len(before), len(after))
			}
		})
	}
	resp, _ := c.Post("/admin/users", good)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("valid user: %d", resp.StatusCode)
	}
	resp, body := c.Get("/admin/users")
	if resp.StatusCode != 200 || !strings.Contains(body, "new-packer") || !strings.Contains(body, "User new-packer created") {
		t.Fatalf("list after create: %d\n%s", resp.StatusCode, body)
	}
}

func TestLastAdminAndSelfProtection(t *testing.T) {
	env := apptest.Start(t)
	// The default admin exists but must change password; disable it so "lone" is the
	// only active admin.
	ctx := ports.WithActor(t.Context(), ports.Actor{Kind: ports.ActorSystem, Name: "test"})
	lone := env.CreateUser(t, "lone-admin", staff.RoleAdmin, "correct horse battery")
	// Every other admin of the package's database, page by page (the route walk makes
	// one per route).
	for after := ""; ; {
		admins, next, err := env.App.Staff.Users(ctx, staff.UserFilter{Role: staff.RoleAdmin, After: after, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range admins {
			if a.ID != lone.ID && !a.Disabled {
				if _, err := env.App.Staff.SetDisabled(ctx, a.ID, true); err != nil {
					t.Fatal(err)
				}
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	c := env.NewClient(t)
	c.Login("lone-admin", "correct horse battery")
	id := lone.ID.String()
	c.Get("/admin/users/" + id)

	resp, _ := c.Post("/admin/users/"+id+"/delete", nil)
	_, body := c.Get("/admin/users/" + id)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(body, "You cannot delete your own account.") {
		t.Fatalf("self delete: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = c.Post("/admin/users/"+id+"/disable", nil)
	_, body = c.Get("/admin/users/" + id)
	if !strings.Contains(body, "last active admin and cannot be disabled") {
		t.Fatalf("disable last admin: %d\n%s", resp.StatusCode, body)
	}
	resp, body = c.Post("/admin/users/"+id, url.Values{"display_name": {"Lone"}, "role": {"manager"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "must stay an admin") {
		t.Fatalf("demote last admin: %d\n%s", resp.StatusCode, body)
	}
	u, err := env.App.Staff.User(ctx, lone.ID)
	if err != nil || u.Role != staff.RoleAdmin || u.Disabled || u.DisplayName != "" {
		t.Fatalf("last admin changed: %+v %v", u, err)
	}

	// With a second active admin, demoting, disabling and deleting the first works.
	second := env.CreateUser(t, "second-admin", staff.RoleAdmin, "correct horse battery")
	sid := second.ID.String()
	c.Get("/admin/users/" + sid)
	if resp, _ := c.Post("/admin/users/"+sid, url.Values{"display_name": {"Second"}, "role": {"accountant"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("demote second: %d", resp.StatusCode)
	}
	if resp, _ := c.Post("/admin/users/"+sid+"/password", url.Values{"password": {"short"}}); resp.StatusCode != 422 {
		t.Fatalf("short reset: %d", resp.StatusCode)
	}
	if resp, _ := c.Post("/admin/users/"+sid+"/password", url.Values{"password": {"a fresh password"}, "must_change": {"on"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	got, _ := env.App.Staff.User(ctx, second.ID)
	if got.Role != staff.RoleAccountant || got.DisplayName != "Second" || !got.MustChangePassword || !staff.CheckPassword(got.PasswordHash, "a fresh password") {
		t.Fatalf("second after edit: %+v", got)
	}
	if resp, _ := c.Post("/admin/users/"+sid+"/disable", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if resp, _ := c.Post("/admin/users/"+sid+"/delete", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if _, err := env.App.Staff.User(ctx, second.ID); ports.ErrorCodeOf(err) != ports.ENOTFOUND {
		t.Fatalf("deleted user still there: %v", err)
	}
	// Every one of those actions is in the audit log, attributed to lone-admin.
	entries, err := env.App.Audit.ListAudit(ctx, ports.AuditFilter{ObjectID: sid, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.Actor == "lone-admin" {
			actions = append(actions, e.Action)
		}
	}
	want := "user.delete user.disable user.reset_password user.update"
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit actions %v, want %s", actions, want)
	}
	resp, body = c.Get("/admin/audit?object_id=" + sid)
	if resp.StatusCode != 200 || !strings.Contains(body, "user.reset_password") {
		t.Fatalf("audit page: %d", resp.StatusCode)
	}
	if resp, _ := c.Get("/admin/audit?from=yesterday"); resp.StatusCode != 422 {
		t.Fatalf("bad date filter: %d", resp.StatusCode)
	}
}

func TestUnknownUserIDs(t *testing.T) {
	env := apptest.Start(t)
	env.CreateUser(t, "uid-admin", staff.RoleAdmin, "correct horse battery")
	c := env.NewClient(t)
	c.Login("uid-admin", "correct horse battery")
	for _, p := range []string{"/admin/users/nope", "/admin/users/00000000-0000-0000-0000-000000000000"} {
		if resp, _ := c.Get(p); resp.StatusCode != 404 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
		if resp, _ := c.Post(p+"/delete", nil); resp.StatusCode != 404 {
			t.Fatalf("%s delete: %d", p, resp.StatusCode)
		}
	}
}
