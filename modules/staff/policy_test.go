package staff

import (
	"slices"
	"sync"
	"testing"
)

// The expected permissions, written out from the spec rather than from policyRules:
// "rw" read and write, "r" read only, "" nothing. Objects a role does not list get "".
var wantPolicy = map[Role]map[string]string{
	"admin": {
		"dashboard": "rw", "orders": "rw", "messages": "rw", "fulfilment": "rw", "catalog": "rw",
		"reviews": "rw", "accounting": "rw", "clients": "rw", "users": "rw", "audit": "rw",
		"jobs": "rw", "settings": "rw", "payments": "rw",
	},
	"manager": {
		"catalog": "rw", "orders": "rw", "messages": "rw", "fulfilment": "rw", "reviews": "rw",
		"accounting": "r", "dashboard": "r", "payments": "rw",
	},
	"packer": {
		"fulfilment": "rw",
	},
	"accountant": {
		"accounting": "rw", "orders": "r", "dashboard": "r", "payments": "r",
	},
	"support": {
		"orders": "rw", "messages": "rw", "reviews": "rw", "dashboard": "r", "payments": "r",
	},
}

// allObjects is the full list of objects the spec names, in menu order.
var allObjects = []string{
	"dashboard", "orders", "messages", "payments", "fulfilment", "catalog", "reviews",
	"accounting", "clients", "users", "audit", "jobs", "settings",
}

func newTestPolicy(t *testing.T) *Policy {
	t.Helper()
	p, err := NewPolicy()
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	return p
}

func TestPolicyObjects(t *testing.T) {
	if !slices.Equal(Objects, allObjects) {
		t.Fatalf("Objects = %v, want %v (update the expected matrix when adding objects)", Objects, allObjects)
	}
	if len(wantPolicy) != len(Roles) {
		t.Fatalf("matrix has %d roles, Roles has %d", len(wantPolicy), len(Roles))
	}
	for _, r := range Roles {
		if _, ok := wantPolicy[r]; !ok {
			t.Errorf("role %q missing from the expected matrix", r)
		}
	}
}

func TestPolicyMatrix(t *testing.T) {
	p := newTestPolicy(t)
	for _, role := range Roles {
		for _, obj := range Objects {
			want := wantPolicy[role][obj]
			for _, act := range []string{ActRead, ActWrite} {
				wantOK := (act == ActRead && (want == "r" || want == "rw")) || (act == ActWrite && want == "rw")
				if got := p.Allowed(role, obj, act); got != wantOK {
					t.Errorf("Allowed(%s, %s, %s) = %v, want %v", role, obj, act, got, wantOK)
				}
			}
		}
	}
}

func TestPolicyAdminOnlyObjects(t *testing.T) {
	p := newTestPolicy(t)
	for _, obj := range []string{ObjUsers, ObjAudit, ObjJobs, ObjSettings, ObjClients} {
		for _, role := range Roles {
			for _, act := range []string{ActRead, ActWrite} {
				if got, want := p.Allowed(role, obj, act), role == RoleAdmin; got != want {
					t.Errorf("Allowed(%s, %s, %s) = %v, want %v", role, obj, act, got, want)
				}
			}
		}
	}
}

func TestPolicyUnknown(t *testing.T) {
	p := newTestPolicy(t)
	for _, role := range []Role{"", "root", "Admin", "ADMIN", "admin ", "*", "guest", "manager,admin"} {
		for _, obj := range append(slices.Clone(Objects), "*", "") {
			for _, act := range []string{ActRead, ActWrite, "*", ""} {
				if p.Allowed(role, obj, act) {
					t.Errorf("unknown role %q allowed %s %s", role, obj, act)
				}
			}
		}
	}
	// Known roles other than admin get nothing on an object that does not exist,
	// nor through a "*" in the request.
	for _, role := range []Role{RoleManager, RolePacker, RoleAccountant, RoleSupport} {
		for _, obj := range []string{"nonexistent", "*", "Orders"} {
			if p.Allowed(role, obj, ActRead) {
				t.Errorf("Allowed(%s, %q, read) = true", role, obj)
			}
		}
		if p.Allowed(role, ObjAccounting, "*") && role != RoleAccountant {
			t.Errorf("Allowed(%s, accounting, *) = true", role)
		}
	}
}

func TestPolicyConcurrent(t *testing.T) {
	p := newTestPolicy(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			role := Roles[i%len(Roles)]
			for range 50 {
				for _, obj := range Objects {
					want := wantPolicy[role][obj] == "rw"
					if got := p.Allowed(role, obj, ActWrite); got != want {
						t.Errorf("concurrent Allowed(%s, %s, write) = %v, want %v", role, obj, got, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
