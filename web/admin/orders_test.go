package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"orderdesk/app/apptest"
	"orderdesk/modules/ordering"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

func roleClient(t *testing.T, env *apptest.Env, name string, role staff.Role) *apptest.Client {
	t.Helper()
	env.CreateUser(t, name, role, "correct horse battery")
	c := env.NewClient(t)
	c.Login(name, "correct horse battery")
	return c
}

func countShipping(t *testing.T, env *apptest.Env) int {
	t.Helper()
	ms, err := env.App.Orders.ShippingMethods(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func auditRows(t *testing.T, env *apptest.Env, action, objectID string) []ports.AuditEntry {
	t.Helper()
	es, err := env.App.Audit.ListAudit(context.Background(), ports.AuditFilter{Action: action, ObjectID: objectID})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestShippingMethodForm(t *testing.T) {
	env := apptest.Start(t)
	c := roleClient(t, env, "ship-manager", staff.RoleManager)
	good := url.Values{"name": {"Tracked 24"}, "service_code": {"tpn24"}, "package_format": {"smallParcel"}, "price": {"4.20"},
		"max_weight": {"2000"}, "position": {"1"}, "active": {"on"}}
	cases := []struct{ name, field, value, message string }{
		{"empty name", "name", "", "Enter a name of at most 100 characters."},
		{"long name", "name", strings.Repeat("é", 101), "Enter a name of at most 100 characters."},
		{"bad service code", "service_code", "TPN 24!", "Enter Royal Mail&#39;s service code"},
		{"empty service code", "service_code", "", "Enter Royal Mail&#39;s service code"},
		{"unknown format", "package_format", "crate", "Choose a package format from the list."},
		{"price with 3 decimals", "price", "1.234", "at most 2 decimal places"},
		{"negative price", "price", "-1", "cannot be negative"},
		{"zero weight", "max_weight", "0", "in grams (1 to 30000)"},
		{"too heavy", "max_weight", "30001", "in grams (1 to 30000)"},
		{"weight in words", "max_weight", "heavy", "in grams (1 to 30000)"},
		{"bad position", "position", "first", "Enter a whole number, like 10."},
	}
	c.Get("/admin/shipping/new")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := countShipping(t, env)
			f := url.Values{}
			for k, v := range good {
				f[k] = v
			}
			f.Set(tc.field, tc.value)
			resp, body := c.Post("/admin/shipping", f)
			if resp.StatusCode != 422 || !strings.Contains(body, tc.message) || !strings.Contains(body, `id="`+tc.field+`" `) {
				t.Fatalf("status %d, want 422 with %q:\n%.3000s", resp.StatusCode, tc.message, body)
			}
			if countShipping(t, env) != before {
				t.Fatal("a shipping method was created")
			}
		})
	}
	resp, _ := c.Post("/admin/shipping", good)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	ms, _ := env.App.Orders.ShippingMethods(context.Background(), false)
	var m *ordering.ShippingMethod
	for i := range ms {
		if ms[i].Name == "Tracked 24" {
			m = &ms[i]
		}
	}
	if m == nil || m.ServiceCode != "TPN24" || m.PriceMinor != 420 || m.MaxWeightGrams != 2000 || !m.Active || m.Express {
		t.Fatalf("created %+v", m)
	}
	if len(auditRows(t, env, "shipping_method.create", m.ID.String())) != 1 {
		t.Fatal("creation not audited")
	}
	_, body := c.Get("/admin/shipping")
	if !strings.Contains(body, `id="shipping-`+m.ID.String()+`"`) || !strings.Contains(body, "£4.20") {
		t.Fatalf("list:\n%.3000s", body)
	}
	// A bad edit changes nothing.
	f := url.Values{}
	for k, v := range good {
		f[k] = v
	}
	f.Set("price", "abc")
	if resp, body := c.Post("/admin/shipping/"+m.ID.String(), f); resp.StatusCode != 422 || !strings.Contains(body, "using digits") {
		t.Fatalf("bad edit: %d", resp.StatusCode)
	}
	if again, _ := env.App.Orders.ShippingMethod(context.Background(), m.ID); again.PriceMinor != 420 {
		t.Fatalf("price changed to %d by a refused edit", again.PriceMinor)
	}
	f.Set("price", "5")
	f.Set("express", "on")
	if resp, _ := c.Post("/admin/shipping/"+m.ID.String(), f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	if again, _ := env.App.Orders.ShippingMethod(context.Background(), m.ID); again.PriceMinor != 500 || !again.Express {
		t.Fatalf("after edit %+v", again)
	}
	// Switching off from the list answers the row.
	hx := http.Header{"Hx-Request": {"true"}, "X-Csrf-Token": {c.CSRF}}
	resp, body = c.Do("POST", "/admin/shipping/"+m.ID.String()+"/active", url.Values{}, hx)
	if resp.StatusCode != 200 || !strings.HasPrefix(strings.TrimSpace(body), `<tr id="shipping-`+m.ID.String()) || !strings.Contains(body, "Switch on") {
		t.Fatalf("toggle: %d\n%s", resp.StatusCode, body)
	}
	if again, _ := env.App.Orders.ShippingMethod(context.Background(), m.ID); again.Active {
		t.Fatal("still active")
	}
	if n := len(auditRows(t, env, "shipping_method.update", m.ID.String())); n != 2 {
		t.Fatalf("%d update audit entries, want 2", n)
	}

	// Support reads the list but cannot change it.
	s := roleClient(t, env, "ship-support", staff.RoleSupport)
	resp, body = s.Get("/admin/shipping")
	if resp.StatusCode != 200 || !strings.Contains(body, "Tracked 24") || strings.Contains(body, "new-shipping") || strings.Contains(body, "Switch on") {
		t.Fatalf("support's list: %d\n%.2000s", resp.StatusCode, body)
	}
	if resp, _ := s.Post("/admin/shipping/"+m.ID.String()+"/active", nil); resp.StatusCode != 403 {
		t.Fatalf("support toggled: %d", resp.StatusCode)
	}
}

func TestOrdersListFilters(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "List shop")
	other := env.NewShop(t, "Other shop")
	o1 := shop.Place(t, "cust-1", 1)
	o2 := shop.Place(t, "cust-2", 2)
	o3 := other.Place(t, "cust-1", 1)
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorSystem, Name: "test"})
	if _, err := env.App.Orders.Transition(ctx, o2.ID, ordering.StatusProcessing, "paid"); err != nil {
		t.Fatal(err)
	}
	c := roleClient(t, env, "list-support", staff.RoleSupport)
	rows := func(query string) []string {
		t.Helper()
		resp, body := c.Get("/admin/orders?" + query)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d\n%.2000s", query, resp.StatusCode, body)
		}
		var out []string
		for _, o := range []*ordering.Order{o1, o2, o3} {
			if strings.Contains(body, `data-number="`+o.Number+`"`) {
				out = append(out, o.Number)
			}
		}
		return out
	}
	check := func(query string, want ...*ordering.Order) {
		t.Helper()
		var w []string
		for _, o := range want {
			w = append(w, o.Number)
		}
		if got := rows(query); strings.Join(got, ",") != strings.Join(w, ",") {
			t.Fatalf("%s: %v, want %v", query, got, w)
		}
	}
	check("", o1, o2, o3)
	check("status=processing", o2)
	check("identity=cust-1", o1, o3)
	check("app="+shop.App.App.ID.String(), o1, o2)
	check("number="+o3.Number, o3)
	check("number="+strings.TrimPrefix(o3.Number, "OD-"), o3)
	check("payment=pending", o1, o2, o3)
	check("payment=paid")
	today := o1.CreatedAt.UTC().Format("2006-01-02")
	check("from="+today+"&to="+today, o1, o2, o3)
	check("to=2001-01-01")
	// Counts per status as tabs, with the other filters kept in their links.
	_, body := c.Get("/admin/orders?identity=cust-1&status=processing")
	if !strings.Contains(body, `data-status="All">All <span class="count">2</span>`) ||
		!strings.Contains(body, `data-status="pending payment">pending payment <span class="count">2</span>`) ||
		!strings.Contains(body, `href="/admin/orders?identity=cust-1&amp;status=pending_payment"`) {
		t.Fatalf("tabs:\n%.4000s", body)
	}
	// The live part polls with the page's filters and answers only itself.
	if !strings.Contains(body, `hx-get="/admin/orders/live?identity=cust-1&amp;status=processing"`) {
		t.Fatalf("polling address missing:\n%.4000s", body)
	}
	resp, live := c.Do("GET", "/admin/orders/live?identity=cust-1", nil, http.Header{"Hx-Request": {"true"}})
	if resp.StatusCode != 200 || !strings.HasPrefix(strings.TrimSpace(live), `<div id="orders-live" hx-get="/admin/orders/live?identity=cust-1"`) ||
		strings.Contains(live, "<html") || !strings.Contains(live, o3.Number) || strings.Contains(live, o2.Number) {
		t.Fatalf("live part: %d\n%.3000s", resp.StatusCode, live)
	}
	// Bad dates are pointed out, not guessed at.
	resp, body = c.Get("/admin/orders?from=yesterday")
	if resp.StatusCode != 422 || !strings.Contains(body, "Use a date like 2026-01-31.") {
		t.Fatalf("bad date: %d", resp.StatusCode)
	}
	resp, body = c.Get("/admin/orders?from=2026-02-01&to=2026-01-01")
	if resp.StatusCode != 422 || !strings.Contains(body, "cannot be before") {
		t.Fatalf("reversed dates: %d", resp.StatusCode)
	}
}

func TestOrderPageByRole(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "Role shop")
	o := shop.Place(t, "cust-roles", 2)
	shop.Ask(t, o, "Where is my parcel?")
	path := "/admin/orders/" + o.ID.String()
	for _, tc := range []struct {
		role                           staff.Role
		address, thread, cancel, reply bool
	}{
		{staff.RoleAdmin, true, true, true, true},
		{staff.RoleManager, true, true, true, true},
		{staff.RoleSupport, false, true, true, true},
		{staff.RoleAccountant, false, false, false, false},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			c := roleClient(t, env, "page-"+string(tc.role), tc.role)
			resp, body := c.Get(path)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for _, want := range []string{o.Number, "Role shop tea", "£9.00", "£3.50", "£12.50", `id="payment-status">pending`,
				`id="shipment-status">pending`, "Status: pending payment"} {
				if !strings.Contains(body, want) {
					t.Fatalf("page lacks %q:\n%.5000s", want, body)
				}
			}
			has := func(s string) bool { return strings.Contains(body, s) }
			if has("SW1A 1AA") != tc.address || has("1 High Street") != tc.address || has(`id="address-hidden"`) == tc.address {
				t.Fatalf("address shown=%v, want %v", has("SW1A 1AA"), tc.address)
			}
			if has("Where is my parcel?") != tc.thread || has(`id="cancel-form"`) != tc.cancel || has(`id="reply-form"`) != tc.reply {
				t.Fatalf("thread %v cancel %v reply %v, want %+v", has("Where is my parcel?"), has(`id="cancel-form"`), has(`id="reply-form"`), tc)
			}
		})
	}
	// The accountant reads but cannot act.
	acc := roleClient(t, env, "acc-act", staff.RoleAccountant)
	acc.Get(path)
	if resp, _ := acc.Post(path+"/cancel", url.Values{"reason": {"no"}}); resp.StatusCode != 403 {
		t.Fatalf("accountant cancel: %d", resp.StatusCode)
	}
	if resp, _ := acc.Post(path+"/messages", url.Values{"body": {"hello"}}); resp.StatusCode != 403 {
		t.Fatalf("accountant reply: %d", resp.StatusCode)
	}
	if now, _ := env.App.Orders.Order(context.Background(), o.ID); now.Status != ordering.StatusPendingPayment {
		t.Fatalf("status %s", now.Status)
	}
	// A packer has no business on the order page.
	pk := roleClient(t, env, "packer-page", staff.RolePacker)
	if resp, _ := pk.Get(path); resp.StatusCode != 403 {
		t.Fatalf("packer: %d", resp.StatusCode)
	}
	if resp, _ := acc.Get("/admin/orders/" + strings.Repeat("0", 8) + "-0000-0000-0000-000000000000"); resp.StatusCode != 404 {
		t.Fatalf("unknown order: %d", resp.StatusCode)
	}
}

func TestStaffCancel(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "Cancel shop")
	c := roleClient(t, env, "canceller", staff.RoleSupport)
	ctx := context.Background()

	unpaid := shop.Place(t, "cust-c1", 3)
	path := "/admin/orders/" + unpaid.ID.String()
	c.Get(path)
	resp, body := c.Post(path+"/cancel", url.Values{"reason": {"   "}})
	if resp.StatusCode != 422 || !strings.Contains(body, "Say why the order is cancelled") || !strings.Contains(body, `id="cancel-reason" maxlength="500" aria-invalid="true"`) {
		t.Fatalf("no reason: %d\n%.3000s", resp.StatusCode, body)
	}
	resp, body = c.Post(path+"/cancel", url.Values{"reason": {strings.Repeat("x", 501)}})
	if resp.StatusCode != 422 || !strings.Contains(body, "at most 500 characters") {
		t.Fatalf("long reason: %d", resp.StatusCode)
	}
	if o, _ := env.App.Orders.Order(ctx, unpaid.ID); o.Status != ordering.StatusPendingPayment {
		t.Fatalf("refused cancel changed the status to %s", o.Status)
	}
	if len(auditRows(t, env, "order.cancel", unpaid.ID.String())) != 0 {
		t.Fatal("refused cancel audited")
	}
	resp, _ = c.Post(path+"/cancel", url.Values{"reason": {"Customer phoned: ordered twice"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	o, _ := env.App.Orders.Order(ctx, unpaid.ID)
	if o.Status != ordering.StatusCancelled || o.RefundDue || o.CancelReason != "Customer phoned: ordered twice" {
		t.Fatalf("after cancel %s refund=%v %q", o.Status, o.RefundDue, o.CancelReason)
	}
	audit := auditRows(t, env, "order.cancel", unpaid.ID.String())
	if len(audit) != 1 || audit[0].Actor != "canceller" || !strings.Contains(audit[0].Detail, "ordered twice") {
		t.Fatalf("audit %+v", audit)
	}
	_, body = c.Get(path)
	if !strings.Contains(body, "cancelled; its stock is released") || !strings.Contains(body, "Staff action order.cancel") ||
		!strings.Contains(body, "Status: cancelled") || strings.Contains(body, `id="cancel-form"`) {
		t.Fatalf("page after cancel:\n%.6000s", body)
	}
	// Cancelling again breaks the rule: 409, said at the top of the page.
	resp, body = c.Post(path+"/cancel", url.Values{"reason": {"again"}})
	if resp.StatusCode != 409 || !strings.Contains(body, "can no longer be cancelled") || !strings.Contains(body, "flash-error") {
		t.Fatalf("second cancel: %d\n%.3000s", resp.StatusCode, body)
	}

	// A paid order: the page warns of the refund, and the flash names the amount.
	paid := shop.Place(t, "cust-c2", 1)
	if _, err := env.App.Orders.Transition(ctx, paid.ID, ordering.StatusProcessing, "paid"); err != nil {
		t.Fatal(err)
	}
	path = "/admin/orders/" + paid.ID.String()
	_, body = c.Get(path)
	if !strings.Contains(body, `id="refund-note"`) {
		t.Fatal("no refund note on a paid order")
	}
	c.Post(path+"/cancel", url.Values{"reason": {"Out of stock after all"}})
	_, body = c.Get(path)
	if !strings.Contains(body, "refund £8.00 to the customer") || !strings.Contains(body, `id="refund-due"`) {
		t.Fatalf("paid cancel page:\n%.3000s", body)
	}
	if o, _ := env.App.Orders.Order(ctx, paid.ID); !o.RefundDue {
		t.Fatal("no refund due")
	}
}

func TestStaffReplyAndInbox(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "Reply shop")
	o := shop.Place(t, "cust-r1", 1)
	quiet := shop.Place(t, "cust-r2", 1)
	shop.Ask(t, o, "Can you gift-wrap it?")
	c := roleClient(t, env, "replier", staff.RoleSupport)

	_, body := c.Get("/admin/messages")
	if !strings.Contains(body, `id="conversation-`+o.ID.String()+`"`) || !strings.Contains(body, "Can you gift-wrap it?") ||
		strings.Contains(body, quiet.Number) {
		t.Fatalf("inbox:\n%.3000s", body)
	}
	path := "/admin/orders/" + o.ID.String()
	c.Get(path)
	for _, bad := range []string{"", "   ", strings.Repeat("y", 4001)} {
		resp, body := c.Post(path+"/messages", url.Values{"body": {bad}})
		if resp.StatusCode != 422 || !strings.Contains(body, "Write a reply of at most 4000 characters.") {
			t.Fatalf("bad reply %.10q: %d", bad, resp.StatusCode)
		}
	}
	if msgs, _ := env.App.Orders.Messages(context.Background(), o.ID); len(msgs) != 1 {
		t.Fatalf("%d messages after refused replies", len(msgs))
	}
	resp, _ := c.Post(path+"/messages", url.Values{"body": {"Yes, with pleasure."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", resp.StatusCode)
	}
	msgs, _ := env.App.Orders.Messages(context.Background(), o.ID)
	if len(msgs) != 2 || msgs[1].AuthorKind != "staff" || msgs[1].Author != "replier" || msgs[1].Body != "Yes, with pleasure." {
		t.Fatalf("messages %+v", msgs)
	}
	if a := auditRows(t, env, "order.reply", o.ID.String()); len(a) != 1 || a[0].Actor != "replier" {
		t.Fatalf("reply audit %+v", a)
	}
	// The client app is sent order.message.
	ds, _, err := env.App.Clients.Deliveries(context.Background(), shop.App.App.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	sent := false
	for _, d := range ds {
		sent = sent || (d.EventType == ordering.EventMessage && d.Subject == o.ID.String())
	}
	if !sent {
		t.Fatalf("no order.message delivery among %+v", ds)
	}
	_, body = c.Get(path)
	if !strings.Contains(body, "Reply sent to cust-r1") || !strings.Contains(body, "Reply from staff") {
		t.Fatalf("page after reply:\n%.3000s", body)
	}
	if _, body = c.Get("/admin/messages"); strings.Contains(body, o.Number) {
		t.Fatal("answered conversation still in the inbox")
	}
	// The customer writes again: back in the inbox.
	shop.Ask(t, o, "Thanks! Blue paper please.")
	if _, body = c.Get("/admin/messages"); !strings.Contains(body, "Blue paper please.") {
		t.Fatal("new message not in the inbox")
	}
}

func TestOrderNotes(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "notes")
	o := shop.Place(t, "tg:notes", 1)
	env.CreateUser(t, "note-support", staff.RoleSupport, "correct horse battery")
	env.CreateUser(t, "note-accountant", staff.RoleAccountant, "correct horse battery")
	c := env.NewClient(t)
	c.Login("note-support", "correct horse battery")
	page := "/admin/orders/" + o.ID.String()
	c.Get(page)
	for _, bad := range []string{"", "   ", strings.Repeat("n", 4001)} {
		resp, body := c.Post(page+"/notes", url.Values{"note": {bad}})
		if resp.StatusCode != 422 || !strings.Contains(body, "Write a note of at most 4000 characters.") {
			t.Fatalf("note %.10q: %d", bad, resp.StatusCode)
		}
	}
	if notes, _ := env.App.Orders.Notes(t.Context(), o.ID); len(notes) != 0 {
		t.Fatalf("bad notes stored: %v", notes)
	}
	if resp, _ := c.Post(page+"/notes", url.Values{"note": {"Customer called: <b>leave at the door</b>"}}); resp.StatusCode != 303 {
		t.Fatalf("note: %d", resp.StatusCode)
	}
	_, body := c.Get(page)
	if !strings.Contains(body, "Internal note") || !strings.Contains(body, "&lt;b&gt;leave at the door&lt;/b&gt;") {
		t.Fatal("note not on the timeline (as text)")
	}
	entries, err := env.App.Audit.ListAudit(t.Context(), ports.AuditFilter{ObjectID: o.ID.String(), Action: "order.note"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "note-support" {
		t.Fatalf("audit %v %v", entries, err)
	}
	// Notes are not messages: the client app never sees them.
	msgs, _ := env.App.Orders.Messages(t.Context(), o.ID)
	if len(msgs) != 0 {
		t.Fatalf("a note became a message: %v", msgs)
	}
	// The accountant reads orders but may not write notes.
	a := env.NewClient(t)
	a.Login("note-accountant", "correct horse battery")
	a.Get(page)
	if resp, _ := a.Post(page+"/notes", url.Values{"note": {"hi"}}); resp.StatusCode != 403 {
		t.Fatalf("accountant note: %d", resp.StatusCode)
	}
}

func TestPickQueueListsPaidOrders(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "queue")
	unpaid := shop.Place(t, "tg:queue", 1)
	paid := shop.Place(t, "tg:queue", 2)
	ctx := ports.WithActor(t.Context(), ports.Actor{Kind: ports.ActorSystem, Name: "test"})
	if _, err := env.App.Orders.Transition(ctx, paid.ID, ordering.StatusProcessing, "paid"); err != nil {
		t.Fatal(err)
	}
	env.CreateUser(t, "queue-packer", staff.RolePacker, "correct horse battery")
	c := env.NewClient(t)
	c.Login("queue-packer", "correct horse battery")
	resp, body := c.Get("/admin/fulfilment")
	if resp.StatusCode != 200 || !strings.Contains(body, `data-number="`+paid.Number+`"`) || strings.Contains(body, `data-number="`+unpaid.Number+`"`) {
		t.Fatalf("pick queue %d: want %s and not %s\n%s", resp.StatusCode, paid.Number, unpaid.Number, body)
	}
}
