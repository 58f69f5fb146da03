package staff

import (
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// Objects the policy rules on: the sections of the admin. Actions are ActRead and
// ActWrite (anything that changes state).
const (
	ObjDashboard  = "dashboard"
	ObjUsers      = "users"
	ObjAudit      = "audit"
	ObjJobs       = "jobs"
	ObjSettings   = "settings"
	ObjClients    = "clients"
	ObjCatalog    = "catalog"
	ObjOrders     = "orders"
	ObjMessages   = "messages"
	ObjPayments   = "payments"
	ObjFulfilment = "fulfilment"
	ObjAccounting = "accounting"
	ObjReviews    = "reviews"

	ActRead  = "read"
	ActWrite = "write"
)

// Objects lists every object of the policy, in menu order.
var Objects = []string{
	ObjDashboard, ObjOrders, ObjMessages, ObjPayments, ObjFulfilment, ObjCatalog, ObjReviews,
	ObjAccounting, ObjClients, ObjUsers, ObjAudit, ObjJobs, ObjSettings,
}

const policyModel = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.sub == p.sub && (p.obj == "*" || r.obj == p.obj) && (p.act == "*" || r.act == p.act)
`

// policyRules is the whole RBAC policy: role, object, action ("*" matches any).
// write implies nothing by itself: a role that may write is also given read.
const policyRules = `
admin, *, *

manager, dashboard, read
manager, catalog, *
manager, orders, *
manager, messages, *
manager, payments, *
manager, fulfilment, *
manager, reviews, *
manager, accounting, read

packer, fulfilment, *

accountant, dashboard, read
accountant, accounting, *
accountant, orders, read
accountant, payments, read

support, dashboard, read
support, orders, *
support, messages, *
support, payments, read
support, reviews, *
`

// Policy answers "may this role do that" from the Casbin policy above.
type Policy struct {
	e *casbin.SyncedEnforcer
}

// NewPolicy builds the enforcer from the embedded model and rules.
func NewPolicy() (*Policy, error) {
	m, err := model.NewModelFromString(policyModel)
	if err != nil {
		return nil, fmt.Errorf("policy model: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("policy enforcer: %w", err)
	}
	var rules [][]string
	for _, line := range strings.Split(policyRules, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		parts := strings.Split(line, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		rules = append(rules, parts)
	}
	if _, err := e.AddPolicies(rules); err != nil {
		return nil, fmt.Errorf("policy rules: %w", err)
	}
	return &Policy{e: e}, nil
}

// Allowed reports whether role may perform act on obj. An unknown role may do nothing.
func (p *Policy) Allowed(role Role, obj, act string) bool {
	ok, err := p.e.Enforce(string(role), obj, act)
	return err == nil && ok
}
