package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/app/apptest"
	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
	"orderdesk/ports"
)

var staffCtx = ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, Name: "ann"})

// placed places an order of qty and creates its invoice, as the placing request does.
func placed(t *testing.T, env *apptest.Env, shop *apptest.Shop, qty int) *ordering.Order {
	t.Helper()
	o := shop.Place(t, "tg:"+uuid.NewString()[:8], qty)
	if _, err := env.App.Payments.CreateInvoice(staffCtx, o.ID); err != nil {
		t.Fatal(err)
	}
	return o
}

// state is an order's status, its payment status, and how many history entries each
// side has.
type state struct {
	order    ordering.Status
	payment  payments.Status
	orderH   int
	paymentH int
}

func stateOf(t *testing.T, env *apptest.Env, id uuid.UUID) state {
	t.Helper()
	o, err := env.App.Orders.Order(staffCtx, id)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := env.App.Payments.ForOrder(staffCtx, id)
	if err != nil {
		t.Fatal(err)
	}
	h, err := env.App.Payments.History(staffCtx, id)
	if err != nil {
		t.Fatal(err)
	}
	return state{o.Status, inv.Status, len(o.History), len(h)}
}

func reserved(t *testing.T, env *apptest.Env, productID uuid.UUID) int {
	t.Helper()
	var n int
	if err := env.App.DB.GetContext(staffCtx, &n, `SELECT reserved FROM catalog.products WHERE id = $1`, productID); err != nil {
		t.Fatal(err)
	}
	return n
}

func ledgerJobs(t *testing.T, env *apptest.Env, orderID uuid.UUID) []string {
	t.Helper()
	var kinds []string
	if err := env.App.DB.SelectContext(staffCtx, &kinds, `SELECT convert_from(payload, 'UTF8')::jsonb->>'kind' FROM platform.outbox
		WHERE job_type = $1 AND convert_from(payload, 'UTF8')::jsonb->>'orderId' = $2 ORDER BY id`, ports.JobLedgerPost, orderID.String()); err != nil {
		t.Fatal(err)
	}
	return kinds
}

func simulate(t *testing.T, env *apptest.Env, id uuid.UUID, actions ...string) {
	t.Helper()
	for _, a := range actions {
		if _, err := env.App.Payments.Simulate(staffCtx, id, a); err != nil {
			t.Fatalf("simulate %s: %v", a, err)
		}
	}
}

// TestSandboxPaymentOutcomes drives orders through every customer behaviour the
// sandbox simulates and checks where order, payment, stock and ledger end, with one
// history entry per real transition.
func TestSandboxPaymentOutcomes(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "paysbx")
	tests := []struct {
		name    string
		actions []string
		want    state
		held    bool // the stock stays reserved
		ledger  []string
	}{
		{"paid in full", []string{"pay"}, state{ordering.StatusProcessing, payments.StatusPaid, 2, 1}, true, []string{ports.LedgerPaymentSettled}},
		{"overpaid", []string{"overpay"}, state{ordering.StatusProcessing, payments.StatusOverpaid, 2, 1}, true,
			[]string{ports.LedgerPaymentSettled, ports.LedgerOverpayment}},
		{"expired unpaid", []string{"expire"}, state{ordering.StatusExpired, payments.StatusExpired, 2, 1}, false, nil},
		{"partial, still open", []string{"pay_partial"}, state{ordering.StatusPendingPayment, payments.StatusPartiallyPaid, 1, 1}, true, nil},
		{"partial then expiry", []string{"pay_partial", "expire"}, state{ordering.StatusOnHold, payments.StatusPartiallyPaid, 2, 2}, true, nil},
		{"seen, unconfirmed", []string{"pay_unconfirmed"}, state{ordering.StatusPendingPayment, payments.StatusConfirming, 1, 1}, true, nil},
		{"seen, then confirmed", []string{"pay_unconfirmed", "confirm"}, state{ordering.StatusProcessing, payments.StatusPaid, 2, 2}, true,
			[]string{ports.LedgerPaymentSettled}},
		{"paid late", []string{"pay_late"}, state{ordering.StatusOnHold, payments.StatusPaidLate, 2, 1}, true, nil},
		{"expired, then paid late", []string{"expire", "pay_late"}, state{ordering.StatusOnHold, payments.StatusPaidLate, 3, 2}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := reserved(t, env, shop.Product.ID)
			o := placed(t, env, shop, 2)
			simulate(t, env, o.ID, tt.actions...)
			// The same state read again changes nothing.
			if _, err := env.App.Payments.Sync(staffCtx, o.ID, payments.SourceReconcile); err != nil {
				t.Fatal(err)
			}
			if got := stateOf(t, env, o.ID); got != tt.want {
				t.Fatalf("state %+v, want %+v", got, tt.want)
			}
			wantReserved := before
			if tt.held {
				wantReserved += 2
			}
			if got := reserved(t, env, shop.Product.ID); got != wantReserved {
				t.Fatalf("reserved %d, want %d", got, wantReserved)
			}
			got := ledgerJobs(t, env, o.ID)
			if len(got) != len(tt.ledger) {
				t.Fatalf("ledger postings %v, want %v", got, tt.ledger)
			}
			for i := range got {
				if got[i] != tt.ledger[i] {
					t.Fatalf("ledger postings %v, want %v", got, tt.ledger)
				}
			}
		})
	}
}

// TestPaymentExceptionDecisions covers what staff do with an order on hold: accept a
// partial payment, refund a late one, mark one paid outside the gateway.
func TestPaymentExceptionDecisions(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "payhold")

	// Accept a partial payment: to the pick queue, posted as a late payment accepted.
	o := placed(t, env, shop, 1)
	simulate(t, env, o.ID, "pay_partial", "expire")
	if _, err := env.App.Payments.Accept(staffCtx, o.ID, "customer is a regular"); err != nil {
		t.Fatal(err)
	}
	if got := stateOf(t, env, o.ID); got.order != ordering.StatusProcessing || got.payment != payments.StatusPaid {
		t.Fatalf("after accept: %+v", got)
	}
	if got := ledgerJobs(t, env, o.ID); len(got) != 1 || got[0] != ports.LedgerLatePaymentAccepted {
		t.Fatalf("ledger postings %v", got)
	}
	if _, err := env.App.Payments.Accept(staffCtx, o.ID, ""); ports.ErrorCodeOf(err) != ports.ECONFLICT {
		t.Fatalf("accepting a paid order: %v", err)
	}

	// Refund a late payment: the order is refunded and the customer gets the claim
	// link as a message.
	o = placed(t, env, shop, 1)
	simulate(t, env, o.ID, "pay_late")
	if _, err := env.App.Payments.Refund(staffCtx, o.ID, "Sideways"); ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("unknown policy: %v", err)
	}
	if _, err := env.App.Payments.Refund(staffCtx, o.ID, "OverpaidAmount"); ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("overpaid-amount refund of an order not overpaid: %v", err)
	}
	inv, err := env.App.Payments.Refund(staffCtx, o.ID, "RateThen")
	if err != nil {
		t.Fatal(err)
	}
	if inv.RefundLink == "" || inv.RefundMinor != o.TotalMinor {
		t.Fatalf("refund %q %d, want a link and %d", inv.RefundLink, inv.RefundMinor, o.TotalMinor)
	}
	if got := stateOf(t, env, o.ID); got.order != ordering.StatusRefunded || got.payment != payments.StatusRefunded {
		t.Fatalf("after refund: %+v", got)
	}
	msgs, err := env.App.Orders.Messages(staffCtx, o.ID)
	if err != nil || len(msgs) != 1 || msgs[0].AuthorKind != "staff" {
		t.Fatalf("refund message: %+v, %v", msgs, err)
	}
	if _, err := env.App.Payments.Refund(staffCtx, o.ID, "RateThen"); ports.ErrorCodeOf(err) != ports.ECONFLICT {
		t.Fatalf("second refund: %v", err)
	}
	if got := ledgerJobs(t, env, o.ID); len(got) != 1 || got[0] != ports.LedgerRefund {
		t.Fatalf("ledger postings %v", got)
	}

	// A paid order cancelled (before picking) turns its sale into a refund owed.
	o = placed(t, env, shop, 1)
	simulate(t, env, o.ID, "pay")
	if _, err := env.App.Orders.Cancel(staffCtx, o, "out of stock after all"); err != nil {
		t.Fatal(err)
	}
	if got := ledgerJobs(t, env, o.ID); len(got) != 2 || got[1] != ports.LedgerPaidOrderCancelled {
		t.Fatalf("ledger postings %v", got)
	}

	// Mark paid needs a reason, then moves the order on.
	o = placed(t, env, shop, 1)
	if _, err := env.App.Payments.MarkPaid(staffCtx, o.ID, "  "); ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("mark paid without reason: %v", err)
	}
	if got := stateOf(t, env, o.ID); got.order != ordering.StatusPendingPayment || got.paymentH != 0 {
		t.Fatalf("a refused mark-paid changed the order: %+v", got)
	}
	if _, err := env.App.Payments.MarkPaid(staffCtx, o.ID, "paid by bank transfer"); err != nil {
		t.Fatal(err)
	}
	if got := stateOf(t, env, o.ID); got.order != ordering.StatusProcessing || got.payment != payments.StatusPaid {
		t.Fatalf("after mark paid: %+v", got)
	}
	var audits int
	if err := env.App.DB.GetContext(staffCtx, &audits, `SELECT count(*) FROM platform.audit_log WHERE object_id = $1
		AND action LIKE 'payment.%'`, o.ID.String()); err != nil || audits != 1 {
		t.Fatalf("audit entries: %d, %v", audits, err)
	}
}

// TestCancelledOrderInvoiceVoided checks that cancelling an unpaid order voids its
// invoice at the gateway, so that the customer cannot pay it any more.
func TestCancelledOrderInvoiceVoided(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "payvoid")
	o := placed(t, env, shop, 1)
	if _, err := env.App.Orders.Cancel(staffCtx, o, "changed mind"); err != nil {
		t.Fatal(err)
	}
	if err := env.App.Payments.VoidJob(staffCtx, []byte(`{"orderId":"`+o.ID.String()+`"}`)); err != nil {
		t.Fatal(err)
	}
	inv, err := env.App.Payments.ForOrder(staffCtx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if inv.GatewayStatus != "Invalid" || inv.Status != payments.StatusInvalid {
		t.Fatalf("invoice %s/%s, want Invalid/invalid", inv.GatewayStatus, inv.Status)
	}
	if got := stateOf(t, env, o.ID); got.order != ordering.StatusCancelled {
		t.Fatalf("order %+v", got)
	}
	if _, err := env.App.Payments.Simulate(staffCtx, o.ID, "pay"); ports.ErrorCodeOf(err) != ports.ECONFLICT {
		t.Fatalf("paying a voided invoice: %v", err)
	}
}

// TestLedgerPostsPaymentEvents runs every money event the payments module produces
// through the accounting module, as the worker would: each is a valid event, posts one
// balanced entry, and posting it again posts nothing.
func TestLedgerPostsPaymentEvents(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "ledger")
	var orders []uuid.UUID
	for _, actions := range [][]string{{"pay"}, {"overpay"}, {"pay_partial", "expire"}, {"pay_late"}, {"pay"}, {}} {
		o := placed(t, env, shop, 1)
		simulate(t, env, o.ID, actions...)
		orders = append(orders, o.ID)
	}
	if _, err := env.App.Payments.Accept(staffCtx, orders[2], ""); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Payments.Refund(staffCtx, orders[3], "RateThen"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Payments.Refund(staffCtx, orders[1], "OverpaidAmount"); err != nil {
		t.Fatal(err)
	}
	o4, err := env.App.Orders.Order(staffCtx, orders[4])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Orders.Cancel(staffCtx, o4, "customer changed mind"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Payments.MarkPaid(staffCtx, orders[5], "bank transfer"); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(orders))
	for i, id := range orders {
		ids[i] = id.String()
	}
	var payloads [][]byte
	if err := env.App.DB.SelectContext(staffCtx, &payloads, `SELECT payload FROM platform.outbox WHERE job_type = $1
		AND convert_from(payload, 'UTF8')::jsonb->>'orderId' = ANY($2) ORDER BY id`, ports.JobLedgerPost, ids); err != nil {
		t.Fatal(err)
	}
	// Five settlements (one an accepted partial payment, one marked paid), an
	// overpayment, two refunds (a late payment, an overpayment) and a cancellation.
	if len(payloads) != 9 {
		t.Fatalf("%d ledger events, want 9", len(payloads))
	}
	count := func() int {
		var n int
		if err := env.App.DB.GetContext(staffCtx, &n, `SELECT count(*) FROM accounting.journal_entries`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	for round := 0; round < 2; round++ {
		for _, p := range payloads {
			if err := env.App.Accounting.PostJob(staffCtx, p); err != nil {
				t.Fatalf("post %s: %v", p, err)
			}
		}
	}
	if got := count() - before; got != len(payloads) {
		t.Fatalf("%d entries posted for %d events", got, len(payloads))
	}
	tb, err := env.App.Accounting.TrialBalance(staffCtx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if tb.Net() != 0 || tb.DebitPence != tb.CreditPence {
		t.Fatalf("trial balance: net %d, debits %d, credits %d", tb.Net(), tb.DebitPence, tb.CreditPence)
	}
}
