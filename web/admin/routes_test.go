package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"orderdesk/app/apptest"
	"orderdesk/modules/staff"
)

// allowed is the policy of issue #2 written out by hand, independently of policy.go:
// which roles may read and write each admin section.
var allowed = map[string]struct{ read, write []staff.Role }{
	"":                 {read: staff.Roles, write: staff.Roles}, // any logged-in user
	staff.ObjDashboard: {read: []staff.Role{"admin", "manager", "accountant", "support"}},
	staff.ObjUsers:     {read: []staff.Role{"admin"}, write: []staff.Role{"admin"}},
	staff.ObjAudit:     {read: []staff.Role{"admin"}, write: []staff.Role{"admin"}},
	staff.ObjJobs:      {read: []staff.Role{"admin"}, write: []staff.Role{"admin"}},
	staff.ObjClients:   {read: []staff.Role{"admin"}, write: []staff.Role{"admin"}},
	staff.ObjSettings:  {read: []staff.Role{"admin"}, write: []staff.Role{"admin"}},
	staff.ObjCatalog:   {read: []staff.Role{"admin", "manager"}, write: []staff.Role{"admin", "manager"}},
	staff.ObjFulfilment: {read: []staff.Role{"admin", "manager", "packer"},
		write: []staff.Role{"admin", "manager", "packer"}},
	staff.ObjOrders: {read: []staff.Role{"admin", "manager", "accountant", "support"},
		write: []staff.Role{"admin", "manager", "support"}},
	staff.ObjMessages: {read: []staff.Role{"admin", "manager", "support"}, write: []staff.Role{"admin", "manager", "support"}},
	staff.ObjReviews:  {read: []staff.Role{"admin", "manager", "support"}, write: []staff.Role{"admin", "manager", "support"}},
	staff.ObjPayments: {read: []staff.Role{"admin", "manager", "accountant", "support"}, write: []staff.Role{"admin", "manager"}},
	staff.ObjAccounting: {read: []staff.Role{"admin", "manager", "accountant"},
		write: []staff.Role{"admin", "accountant"}},
}

func roleIn(r staff.Role, rs []staff.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// TestEveryRouteEveryRole walks every registered admin route as every role and checks
// that the server allows or refuses it exactly as the policy says.
func TestEveryRouteEveryRole(t *testing.T) {
	env := apptest.Start(t)
	routes := env.App.Web.Admin.Routes()
	if len(routes) < 15 {
		t.Fatalf("only %d admin routes registered", len(routes))
	}
	n := 0
	for _, role := range staff.Roles {
		for i, rt := range routes {
			if rt.Public {
				continue
			}
			want, ok := allowed[rt.Obj]
			if !ok {
				t.Fatalf("route %s %s uses object %q, which this test has no expectation for", rt.Method, rt.Path, rt.Obj)
			}
			mayWrite := roleIn(role, want.write)
			may := roleIn(role, want.read)
			if rt.Act == staff.ActWrite {
				may = mayWrite
			}
			name := fmt.Sprintf("%s/%s_%s", role, rt.Method, rt.Path)
			t.Run(name, func(t *testing.T) {
				user := fmt.Sprintf("r%d-%s", i, role)
				env.CreateUser(t, user, role, "correct horse battery")
				target := env.CreateUser(t, "target-"+user, staff.RoleSupport, "correct horse battery")
				c := env.NewClient(t)
				c.Login(user, "correct horse battery")
				path := strings.ReplaceAll(rt.Path, ":id", target.ID.String())
				path = strings.ReplaceAll(path, ":photo", target.ID.String())
				path = strings.ReplaceAll(path, "*", "api/queues")
				var form url.Values
				if rt.Method != http.MethodGet {
					form = url.Values{"_csrf": {c.CSRF}}
				}
				resp, body := c.Do(rt.Method, path, form, http.Header{"Sec-Fetch-Site": {"same-origin"}})
				got := resp.StatusCode != http.StatusForbidden
				if got != may {
					t.Fatalf("%s %s as %s: status %d, want allowed=%v\n%.300s", rt.Method, path, role, resp.StatusCode, may, body)
				}
				if resp.StatusCode >= 500 {
					t.Fatalf("%s %s as %s: status %d", rt.Method, path, role, resp.StatusCode)
				}
				if !may && !strings.Contains(body, "Your role does not give access") {
					t.Fatalf("403 without the friendly page: %.300s", body)
				}
			})
			n++
		}
	}
	t.Logf("checked %d route × role pairs", n)
}
