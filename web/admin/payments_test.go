package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/btcpay/btcpaytest"
	"orderdesk/adapters/postgres"
	"orderdesk/app/apptest"
	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

var sysCtx = ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorSystem, Name: "test"})

// invoiced places an order of qty and creates its invoice at the (sandbox) gateway,
// as the placing request does.
func invoiced(t *testing.T, env *apptest.Env, shop *apptest.Shop, qty int) *ordering.Order {
	t.Helper()
	o := shop.Place(t, "tg:"+uuid.NewString()[:8], qty)
	if _, err := env.App.Payments.CreateInvoice(sysCtx, o.ID); err != nil {
		t.Fatal(err)
	}
	return o
}

func simulateAll(t *testing.T, env *apptest.Env, id uuid.UUID, actions ...string) {
	t.Helper()
	for _, a := range actions {
		if _, err := env.App.Payments.Simulate(sysCtx, id, a); err != nil {
			t.Fatalf("simulate %s: %v", a, err)
		}
	}
}

// payState is an order's status, its payment status and the length of its payment
// history: what a refused action must leave as it was.
type payState struct {
	order   ordering.Status
	payment payments.Status
	history int
}

func payStateOf(t *testing.T, env *apptest.Env, id uuid.UUID) payState {
	t.Helper()
	o, err := env.App.Orders.Order(sysCtx, id)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := env.App.Payments.ForOrder(sysCtx, id)
	if err != nil {
		t.Fatal(err)
	}
	h, err := env.App.Payments.History(sysCtx, id)
	if err != nil {
		t.Fatal(err)
	}
	return payState{o.Status, inv.Status, len(h)}
}

func wantRedirect(t *testing.T, resp *http.Response, body, to string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != to {
		t.Fatalf("status %d to %q, want 303 to %q\n%.3000s", resp.StatusCode, resp.Header.Get("Location"), to, body)
	}
}

// TestPaymentPanelPartialPaymentDecisions walks a short payment from the sandbox
// buttons to the on-hold queue and an accepted payment, with every refusal on the way
// re-rendering the page with its message and changing nothing.
func TestPaymentPanelPartialPaymentDecisions(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "Panel shop")
	o := invoiced(t, env, shop, 2) // £12.50
	c := roleClient(t, env, "pay-manager", staff.RoleManager)
	page := "/admin/orders/" + o.ID.String()
	base := page + "/payment/"

	_, body := c.Get(page)
	for _, want := range []string{`id="payment-status">pending`, "SANDBOX — simulated customer payments", `id="sim-pay_partial"`,
		`id="sim-expire"`, `id="checkout-link"`, `id="invoice-id">sbx_`, `id="mark-paid-form"`, "Nothing received yet."} {
		if !strings.Contains(body, want) {
			t.Fatalf("pending order's panel lacks %q:\n%.6000s", want, body)
		}
	}
	for _, absent := range []string{`id="accept-form"`, `id="refund-form"`, `id="ask-form"`} {
		if strings.Contains(body, absent) {
			t.Fatalf("pending order's panel offers %s", absent)
		}
	}

	// An unknown simulation is pointed out.
	before := payStateOf(t, env, o.ID)
	resp, body := c.Post(base+"simulate", url.Values{"action": {"dance"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "Choose a simulation") || !strings.Contains(body, `id="simulate-form"`) {
		t.Fatalf("unknown simulation: %d\n%.3000s", resp.StatusCode, body)
	}
	if got := payStateOf(t, env, o.ID); got != before {
		t.Fatalf("a refused simulation changed %+v to %+v", before, got)
	}

	// Pay half, then let the invoice expire: the order goes on hold.
	resp, body = c.Post(base+"simulate", url.Values{"action": {"pay_partial"}})
	wantRedirect(t, resp, body, page+"#payment")
	_, body = c.Get(page)
	if !strings.Contains(body, `Sandbox: &#34;Pay partially&#34; simulated; the payment is partially paid.`) {
		t.Fatalf("no flash after simulating:\n%.3000s", body)
	}
	resp, body = c.Post(base+"simulate", url.Values{"action": {"expire"}})
	wantRedirect(t, resp, body, page+"#payment")
	if got := payStateOf(t, env, o.ID); got != (payState{ordering.StatusOnHold, payments.StatusPartiallyPaid, 2}) {
		t.Fatalf("after partial payment and expiry: %+v", got)
	}
	// Expiring again is the gateway's refusal, shown as a conflict.
	resp, body = c.Post(base+"simulate", url.Values{"action": {"expire"}})
	if resp.StatusCode != 409 || !strings.Contains(body, "cannot expire an invoice that is Expired") {
		t.Fatalf("second expiry: %d\n%.3000s", resp.StatusCode, body)
	}

	ps, err := env.App.Payments.Payments(sysCtx, o.ID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("payments %+v, %v", ps, err)
	}
	_, body = c.Get(page)
	for _, want := range []string{`id="payment-status">partially_paid`, `id="gateway-status">Expired · PaidPartial`,
		`id="payment-received">£6.25 (0.00012500 BTC)`, `id="payment-due">£6.25 (0.00012500 BTC)`,
		`href="https://mempool.space/tx/` + ps[0].TxID + `"`, "£50000.00/BTC", "confirmed",
		`id="accept-form"`, `id="ask-form"`, `id="refund-form"`, `id="mark-paid-form"`, `id="cancel-hint"`, `id="cancel-form"`,
		"sandbox: pay partial", "sandbox: expire", "£6.25 (0.00012500 BTC) is still due. Please send the rest to bcrt1q"} {
		if !strings.Contains(body, want) {
			t.Fatalf("on-hold panel lacks %q:\n%.9000s", want, body)
		}
	}

	// The queue lists it with what was paid and what is due.
	_, body = c.Get("/admin/payments/on-hold")
	row := between(body, `data-number="`+o.Number+`"`, "</tr>")
	for _, want := range []string{"partially_paid", "paid £6.25 of £12.50", "£6.25 due", `id="accept-` + o.Number + `"`, "just now"} {
		if !strings.Contains(row, want) {
			t.Fatalf("queue row lacks %q:\n%s", want, row)
		}
	}

	// Bad input to every decision is pointed out; nothing changes.
	before = payStateOf(t, env, o.ID)
	for _, tc := range []struct {
		action string
		form   url.Values
		status int
		field  string
		want   string
	}{
		{"mark-paid", url.Values{"reason": {"   "}}, 422, "mark-paid-reason", "Give a reason (1 to 500 characters)."},
		{"mark-paid", url.Values{"reason": {strings.Repeat("x", 501)}}, 422, "mark-paid-reason", "Give a reason (1 to 500 characters)."},
		{"refund", url.Values{"policy": {"Sideways"}}, 422, "refund-policy", "Choose how to value the refund"},
		{"refund", url.Values{"policy": {"OverpaidAmount"}}, 422, "refund-policy", "This order was not overpaid"},
		{"accept", url.Values{"note": {strings.Repeat("é", 501)}}, 422, "accept-note", "At most 500 characters"},
		{"ask", url.Values{"body": {" "}}, 422, "ask-body", "Write a reply of at most 4000 characters."},
	} {
		t.Run(tc.action+" "+tc.want, func(t *testing.T) {
			resp, body := c.Post(base+tc.action, tc.form)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) ||
				!strings.Contains(body, `id="`+tc.field+`"`) || !strings.Contains(between(body, `id="`+tc.field+`"`, ">"), `aria-invalid="true"`) {
				t.Fatalf("status %d, want %d with %q at #%s:\n%.9000s", resp.StatusCode, tc.status, tc.want, tc.field, body)
			}
			if got := payStateOf(t, env, o.ID); got != before {
				t.Fatalf("a refused %s changed %+v to %+v", tc.action, before, got)
			}
		})
	}
	// What was typed is kept.
	_, body = c.Post(base+"mark-paid", url.Values{"reason": {strings.Repeat("y", 501)}})
	if !strings.Contains(body, `value="`+strings.Repeat("y", 501)+`"`) {
		t.Fatal("the refused reason is not kept in the form")
	}

	// Ask for the rest: a staff message to the customer, in the audit log.
	resp, body = c.Post(base+"ask", url.Values{"body": {"Please send the remaining £6.25."}})
	wantRedirect(t, resp, body, page+"#payment")
	msgs, err := env.App.Orders.Messages(sysCtx, o.ID)
	if err != nil || len(msgs) != 1 || msgs[0].AuthorKind != "staff" || msgs[0].Body != "Please send the remaining £6.25." {
		t.Fatalf("messages %+v, %v", msgs, err)
	}
	if len(auditRows(t, env, "order.reply", o.ID.String())) != 1 {
		t.Fatal("the request is not audited")
	}

	// Accept from the queue: back to the queue, the order in the pick queue.
	resp, body = c.Post(base+"accept", url.Values{"back": {"on-hold"}})
	wantRedirect(t, resp, body, "/admin/payments/on-hold")
	if got := payStateOf(t, env, o.ID); got.order != ordering.StatusProcessing || got.payment != payments.StatusPaid {
		t.Fatalf("after accept: %+v", got)
	}
	if len(auditRows(t, env, "payment.accept", o.ID.String())) != 1 {
		t.Fatal("accept is not audited")
	}
	_, body = c.Get("/admin/payments/on-hold")
	if strings.Contains(body, `data-number="`+o.Number+`"`) || !strings.Contains(body, "accepted; the order goes to the pick queue") {
		t.Fatalf("queue after accept:\n%.3000s", body)
	}
	// Accepting a paid order is refused in words.
	before = payStateOf(t, env, o.ID)
	resp, body = c.Post(base+"accept", nil)
	if resp.StatusCode != 409 || !strings.Contains(body, "A payment that is paid cannot be accepted.") {
		t.Fatalf("accept a paid order: %d\n%.3000s", resp.StatusCode, body)
	}
	if got := payStateOf(t, env, o.ID); got != before {
		t.Fatalf("refused accept changed %+v to %+v", before, got)
	}
	for _, absent := range []string{`id="accept-form"`, `id="ask-form"`, `id="mark-paid-form"`, `id="payment-due"`} {
		if strings.Contains(body, absent) {
			t.Fatalf("paid order's panel offers %s", absent)
		}
	}
	if !strings.Contains(body, "accepted by staff") || !strings.Contains(body, `id="payment-status">paid`) {
		t.Fatalf("history after accept:\n%.6000s", body)
	}
}

// between returns the part of s from the first from up to the next to.
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

// TestPaymentRefundAndMarkPaid refunds a late payment and an overpayment, and marks
// an unpaid order paid.
func TestPaymentRefundAndMarkPaid(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "Refund shop")
	c := roleClient(t, env, "refund-admin", staff.RoleAdmin)

	late := invoiced(t, env, shop, 1) // £8.00
	simulateAll(t, env, late.ID, "pay_late")
	page := "/admin/orders/" + late.ID.String()
	_, body := c.Get(page)
	if !strings.Contains(body, `<option value="RateThen">`) || strings.Contains(body, `<option value="OverpaidAmount"`) {
		t.Fatalf("refund policies of a late payment:\n%s", between(body, `id="refund-form"`, "</form>"))
	}
	resp, body := c.Post(page+"/payment/refund", url.Values{"policy": {"RateThen"}})
	wantRedirect(t, resp, body, page+"#payment")
	if got := payStateOf(t, env, late.ID); got.order != ordering.StatusRefunded || got.payment != payments.StatusRefunded {
		t.Fatalf("after refund: %+v", got)
	}
	_, body = c.Get(page)
	if !strings.Contains(body, "Refund of £8.00 (RateThen) issued for "+late.Number) || !strings.Contains(body, `id="refund-link"`) ||
		!strings.Contains(body, "/sandbox/refunds/sbxr_") || strings.Contains(body, `id="refund-form"`) {
		t.Fatalf("page after refund:\n%.6000s", body)
	}
	if len(auditRows(t, env, "payment.refund", late.ID.String())) != 1 {
		t.Fatal("refund not audited")
	}
	// A second refund is refused (straight to the route: the page no longer offers it).
	if resp, body := c.Post(page+"/payment/refund", url.Values{"policy": {"RateThen"}}); resp.StatusCode != 409 ||
		!strings.Contains(body, "was refunded already") {
		t.Fatalf("second refund: %d", resp.StatusCode)
	}

	// An overpaid order in the pick queue may have only the excess refunded.
	over := invoiced(t, env, shop, 1)
	simulateAll(t, env, over.ID, "overpay")
	page = "/admin/orders/" + over.ID.String()
	_, body = c.Get(page)
	if form := between(body, `id="refund-form"`, "</form>"); !strings.Contains(form, `value="OverpaidAmount"`) || strings.Contains(form, `value="RateThen"`) {
		t.Fatalf("refund policies of an overpaid order in the pick queue:\n%s", form)
	}
	if !strings.Contains(body, `id="payment-overpaid">£0.80`) {
		t.Fatalf("overpayment not shown:\n%.6000s", body)
	}
	resp, body = c.Post(page+"/payment/refund", url.Values{"policy": {"OverpaidAmount"}})
	wantRedirect(t, resp, body, page+"#payment")
	if got := payStateOf(t, env, over.ID); got.order != ordering.StatusProcessing || got.payment != payments.StatusOverpaid {
		t.Fatalf("after refunding the excess: %+v", got)
	}

	// Mark paid, with the reason kept in the history.
	unpaid := invoiced(t, env, shop, 1)
	page = "/admin/orders/" + unpaid.ID.String()
	c.Get(page)
	resp, body = c.Post(page+"/payment/mark-paid", url.Values{"reason": {"paid by bank transfer, ref 1234"}})
	wantRedirect(t, resp, body, page+"#payment")
	if got := payStateOf(t, env, unpaid.ID); got.order != ordering.StatusProcessing || got.payment != payments.StatusPaid {
		t.Fatalf("after mark paid: %+v", got)
	}
	_, body = c.Get(page)
	if !strings.Contains(body, "marked paid: paid by bank transfer, ref 1234") || !strings.Contains(body, "marked paid; the order goes to the pick queue") {
		t.Fatalf("page after mark paid:\n%.6000s", body)
	}
	if len(auditRows(t, env, "payment.mark_paid", unpaid.ID.String())) != 1 {
		t.Fatal("mark paid not audited")
	}
}

// TestPaymentPagesByRole: support and accountants read the panel and the queue but
// decide nothing; only admin and manager see the webhook inbox.
func TestPaymentPagesByRole(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "Role pay shop")
	o := invoiced(t, env, shop, 1)
	simulateAll(t, env, o.ID, "pay_partial", "expire")
	page := "/admin/orders/" + o.ID.String()
	for _, role := range []staff.Role{staff.RoleSupport, staff.RoleAccountant} {
		t.Run(string(role), func(t *testing.T) {
			c := roleClient(t, env, "payrole-"+string(role), role)
			resp, body := c.Get(page)
			if resp.StatusCode != 200 || !strings.Contains(body, `id="payment-history"`) || !strings.Contains(body, `id="payment-rows"`) ||
				!strings.Contains(body, `id="payment-status">partially_paid`) {
				t.Fatalf("panel: %d\n%.6000s", resp.StatusCode, body)
			}
			for _, absent := range []string{`id="payment-decisions"`, `id="sandbox"`, `/payment/accept`, `/payment/mark-paid`, `/payment/simulate`} {
				if strings.Contains(body, absent) {
					t.Fatalf("%s sees %s", role, absent)
				}
			}
			resp, body = c.Get("/admin/payments/on-hold")
			if resp.StatusCode != 200 || !strings.Contains(body, `data-number="`+o.Number+`"`) || strings.Contains(body, `id="accept-`+o.Number+`"`) ||
				strings.Contains(body, `id="webhooks-link"`) || !strings.Contains(body, `href="/admin/payments/on-hold"`) {
				t.Fatalf("queue: %d\n%.4000s", resp.StatusCode, body)
			}
			for _, a := range []string{"accept", "ask", "refund", "mark-paid", "simulate"} {
				if resp, _ := c.Post(page+"/payment/"+a, url.Values{"reason": {"x"}, "policy": {"RateThen"}, "action": {"pay"}}); resp.StatusCode != 403 {
					t.Fatalf("%s %s: %d", role, a, resp.StatusCode)
				}
			}
			if resp, _ := c.Get("/admin/payments/webhooks"); resp.StatusCode != 403 {
				t.Fatalf("%s webhooks: %d", role, resp.StatusCode)
			}
		})
	}
	if got := payStateOf(t, env, o.ID); got.order != ordering.StatusOnHold || got.history != 2 {
		t.Fatalf("refused actions changed the order: %+v", got)
	}
	if msgs, _ := env.App.Orders.Messages(sysCtx, o.ID); len(msgs) != 0 {
		t.Fatalf("a refused request sent %d messages", len(msgs))
	}
	// Packers see nothing of payments.
	p := roleClient(t, env, "payrole-packer", staff.RolePacker)
	if resp, _ := p.Get("/admin/payments/on-hold"); resp.StatusCode != 403 {
		t.Fatalf("packer queue: %d", resp.StatusCode)
	}
}

// TestPaymentWebhookInbox lists the gateway's deliveries for a manager.
func TestPaymentWebhookInbox(t *testing.T) {
	env := apptest.Start(t)
	store := postgres.NewPaymentStore(env.App.DB)
	now := time.Now().UTC()
	done := now.Add(time.Second)
	for _, d := range []*payments.WebhookDelivery{
		{DeliveryID: "dlv-processed", Provider: "btcpay", Type: "InvoiceSettled", StoreID: "store1", InvoiceID: "inv-111", Body: []byte(`{}`),
			Deliveries: 1, Outcome: "processed", ReceivedAt: now, LastSeenAt: now, ProcessedAt: &done},
		{DeliveryID: "dlv-queued", Provider: "btcpay", Type: "InvoiceReceivedPayment", StoreID: "store1", InvoiceID: "inv-222", Body: []byte(`{}`),
			Deliveries: 1, Outcome: "queued", ReceivedAt: now, LastSeenAt: now},
	} {
		if _, err := store.RecordWebhook(sysCtx, d, ports.Job{}); err != nil {
			t.Fatal(err)
		}
	}
	// A redelivery counts once more.
	again := &payments.WebhookDelivery{DeliveryID: "dlv-queued", Provider: "btcpay", Type: "InvoiceReceivedPayment", InvoiceID: "inv-222",
		Body: []byte(`{}`), Deliveries: 1, Outcome: "queued", ReceivedAt: now, LastSeenAt: now.Add(time.Minute)}
	if _, err := store.RecordWebhook(sysCtx, again, ports.Job{}); err != nil {
		t.Fatal(err)
	}
	c := roleClient(t, env, "hook-manager", staff.RoleManager)
	_, body := c.Get("/admin/payments/on-hold")
	if !strings.Contains(body, `id="webhooks-link"`) {
		t.Fatalf("queue:\n%.3000s", body)
	}
	resp, body := c.Get("/admin/payments/webhooks")
	if resp.StatusCode != 200 {
		t.Fatalf("webhooks: %d", resp.StatusCode)
	}
	processed := between(body, `data-delivery="dlv-processed"`, "</tr>")
	queued := between(body, `data-delivery="dlv-queued"`, "</tr>")
	if !strings.Contains(processed, "InvoiceSettled") || !strings.Contains(processed, "inv-111") || !strings.Contains(processed, `badge ok">processed`) ||
		!strings.Contains(processed, done.Format("2006-01-02 15:04")) {
		t.Fatalf("processed delivery:\n%s", processed)
	}
	if !strings.Contains(queued, "inv-222") || !strings.Contains(queued, `<td class="num">2</td>`) || !strings.Contains(queued, "not yet") {
		t.Fatalf("queued delivery:\n%s", queued)
	}
}

// TestPaymentTxLinksFollowSettings links transactions to the explorer of the shop
// settings.
func TestPaymentTxLinksFollowSettings(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "Explorer shop")
	o := invoiced(t, env, shop, 1)
	simulateAll(t, env, o.ID, "pay")
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, Name: "test"})
	s, err := env.App.Settings.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old := s
	s.BlockExplorerTxURL = "https://blockstream.info/tx/{txid}?from=orderdesk"
	if _, err := env.App.Settings.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = env.App.Settings.Update(ctx, old) })
	ps, err := env.App.Payments.Payments(sysCtx, o.ID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("payments %+v, %v", ps, err)
	}
	c := roleClient(t, env, "explorer-support", staff.RoleSupport)
	_, body := c.Get("/admin/orders/" + o.ID.String())
	if !strings.Contains(body, `href="https://blockstream.info/tx/`+ps[0].TxID+`?from=orderdesk"`) {
		t.Fatalf("tx link:\n%s", between(body, `id="payment-rows"`, "</table>"))
	}
}

// TestPaymentPanelWithBTCPay runs the admin against a (fake) BTCPay Server: no
// sandbox box and the simulate route refused with 403, while the decisions work on
// BTCPay's invoice.
func TestPaymentPanelWithBTCPay(t *testing.T) {
	fake := btcpaytest.New(t, btcpaytest.Config{})
	env := apptest.StartWith(t, map[string]string{"PAYMENTS_PROVIDER": "btcpay", "BTCPAY_URL": fake.URL(),
		"BTCPAY_API_KEY": fake.APIKey(), "BTCPAY_STORE_ID": fake.StoreID(), "BTCPAY_WEBHOOK_SECRET": "panel-test-secret"})
	if env.App.Payments.Sandbox() {
		t.Fatal("BTCPay counts as the sandbox")
	}
	shop := env.NewShop(t, "BTCPay panel shop")
	o := invoiced(t, env, shop, 1) // £8.00: 16000 sats at £50,000
	inv, err := env.App.Payments.ForOrder(sysCtx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := roleClient(t, env, "btcpay-manager", staff.RoleManager)
	page := "/admin/orders/" + o.ID.String()
	resp, body := c.Get(page)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="invoice-id">`+*inv.InvoiceID) ||
		!strings.Contains(body, `href="`+inv.CheckoutLink+`"`) || strings.Contains(body, `id="sandbox"`) || strings.Contains(body, "SANDBOX") {
		t.Fatalf("order page with BTCPay: %d\n%.6000s", resp.StatusCode, body)
	}
	resp, body = c.Post(page+"/payment/simulate", url.Values{"action": {"pay"}})
	if resp.StatusCode != 403 || !strings.Contains(body, "Payments can be simulated only with the sandbox gateway.") {
		t.Fatalf("simulate with BTCPay: %d\n%.3000s", resp.StatusCode, body)
	}
	if got := payStateOf(t, env, o.ID); got != (payState{ordering.StatusPendingPayment, payments.StatusPending, 0}) {
		t.Fatalf("refused simulation changed the order: %+v", got)
	}
	if n := fake.Calls(btcpaytest.RouteMarkStatus); n != 0 {
		t.Fatalf("%d status changes at BTCPay", n)
	}

	// Half paid on chain, then expired at BTCPay: on hold, accepted from the panel.
	fake.Pay(*inv.InvoiceID, "BTC-CHAIN", 8000, true)
	fake.Expire(*inv.InvoiceID)
	if _, err := env.App.Payments.Sync(sysCtx, o.ID, payments.SourceReconcile); err != nil {
		t.Fatal(err)
	}
	ps, err := env.App.Payments.Payments(sysCtx, o.ID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("payments %+v, %v", ps, err)
	}
	_, body = c.Get(page)
	for _, want := range []string{`id="order-status">on_hold`, `id="payment-received">£4.00 (0.00008000 BTC)`, `id="payment-due">£4.00`,
		`href="https://mempool.space/tx/` + ps[0].TxID + `"`, `id="accept-form"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("on-hold page lacks %q:\n%.8000s", want, body)
		}
	}
	resp, body = c.Post(page+"/payment/accept", url.Values{"note": {"half now, half next week"}})
	wantRedirect(t, resp, body, page+"#payment")
	if got := payStateOf(t, env, o.ID); got.order != ordering.StatusProcessing || got.payment != payments.StatusPaid {
		t.Fatalf("after accept: %+v", got)
	}
	if n := fake.Calls(btcpaytest.RouteMarkStatus); n != 1 {
		t.Fatalf("%d status changes at BTCPay, want 1", n)
	}
}
