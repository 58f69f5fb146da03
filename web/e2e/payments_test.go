package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"orderdesk/app/apptest"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// TestPartialPaymentOnHoldAccepted is the payments issue's staff flow: a manager opens
// a pending order, has the sandbox pay part of it and let the invoice expire, finds
// the order in the on-hold queue, accepts the payment, and sees the order in the pick
// queue with its payment and a link to the transaction. A support agent then sees the
// same panel without any decision.
func TestPartialPaymentOnHoldAccepted(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "Pay shop")
	o := shop.Place(t, "tg-777", 2)
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorSystem, Name: "test"})
	if _, err := env.App.Payments.CreateInvoice(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	env.CreateUser(t, "mia", staff.RoleManager, "correct horse battery")
	env.CreateUser(t, "sue", staff.RoleSupport, "correct horse battery")
	bctx := apptest.Browser(t, 90*time.Second)
	u := env.URL
	page := u + "/admin/orders/" + o.ID.String()

	run(t, bctx, chromedp.Steps(
		logIn(u, "mia", "correct horse battery"),
		chromedp.WaitVisible(chromedp.ID("menu")),
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS(`#payment-status.pay-pending`)),
	))
	box := run(t, bctx, chromedp.Text(chromedp.ID("sandbox")))
	if !strings.Contains(box, "SANDBOX — simulated customer payments") {
		t.Fatalf("sandbox box %q", box)
	}

	// The customer pays half, then the invoice expires: the order goes on hold.
	run(t, bctx, chromedp.Steps(
		chromedp.Click(chromedp.ID("sim-pay_partial")),
		chromedp.WaitVisible(chromedp.CSS(`#payment-status.pay-partially_paid`)),
		chromedp.Click(chromedp.ID("sim-expire")),
		chromedp.WaitVisible(chromedp.CSS(`#order-status.status-on_hold`)),
	))
	if due := run(t, bctx, chromedp.Text(chromedp.ID("payment-due"))); !strings.Contains(due, "£6.25") {
		t.Fatalf("due %q", due)
	}

	// The on-hold queue lists it; the manager opens it from there and accepts.
	run(t, bctx, chromedp.Steps(
		chromedp.Click(chromedp.CSS(`#menu a[href="/admin/payments/on-hold"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#on-hold-table tr[data-number="`+o.Number+`"]`)),
	))
	row := run(t, bctx, chromedp.Text(chromedp.CSS(`#on-hold-table tr[data-number="`+o.Number+`"]`)))
	for _, want := range []string{"partially_paid", "paid £6.25 of £12.50", "£6.25 due"} {
		if !strings.Contains(row, want) {
			t.Fatalf("queue row lacks %q: %q", want, row)
		}
	}
	run(t, bctx, chromedp.Steps(
		chromedp.Click(chromedp.ID("decide-"+o.Number)),
		chromedp.WaitVisible(chromedp.ID("accept-form")),
	))
	run(t, bctx, chromedp.Evaluate[bool](`window.confirm = () => true; true`))
	run(t, bctx, chromedp.Steps(
		chromedp.SendKeys(chromedp.ID("accept-note"), "regular customer, close enough"),
		chromedp.Click(chromedp.ID("accept-payment")),
		chromedp.WaitVisible(chromedp.CSS(`#order-status.status-processing`)),
		chromedp.WaitVisible(chromedp.CSS(`#payment-status.pay-paid`)),
	))
	if flash := run(t, bctx, chromedp.Text(chromedp.CSS(".flash-ok"))); !strings.Contains(flash, "accepted; the order goes to the pick queue") {
		t.Fatalf("flash %q", flash)
	}
	ps, err := env.App.Payments.Payments(ctx, o.ID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("payments %+v, %v", ps, err)
	}
	href := run(t, bctx, chromedp.Evaluate[string](`document.querySelector('#payment-rows a.txid').href`))
	if href != "https://mempool.space/tx/"+ps[0].TxID {
		t.Fatalf("transaction link %q, want the explorer's page of %s", href, ps[0].TxID)
	}
	rows := run(t, bctx, chromedp.Text(chromedp.ID("payment-rows")))
	if !strings.Contains(rows, ps[0].TxID) || !strings.Contains(rows, "0.00012500") || !strings.Contains(rows, "confirmed") {
		t.Fatalf("payment rows %q", rows)
	}
	history := run(t, bctx, chromedp.Text(chromedp.ID("payment-history")))
	for _, want := range []string{"sandbox: pay partial", "sandbox: expire", "regular customer, close enough"} {
		if !strings.Contains(history, want) {
			t.Fatalf("payment history lacks %q:\n%s", want, history)
		}
	}
	if n := run(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll('#on-hold-table').length`)); n != 0 {
		t.Fatal("still on the queue page")
	}

	// Support reads the panel and decides nothing.
	run(t, bctx, chromedp.Steps(
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("username")),
		logIn(u, "sue", "correct horse battery"),
		chromedp.WaitVisible(chromedp.ID("menu")),
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.ID("payment-history")),
	))
	if rows := run(t, bctx, chromedp.Text(chromedp.ID("payment-rows"))); !strings.Contains(rows, ps[0].TxID) {
		t.Fatalf("support's payment rows %q", rows)
	}
	n := run(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll('#payment-decisions, #sandbox, #accept-form, #mark-paid-form, #refund-form, #ask-form, [action*="/payment/"]').length`))
	if n != 0 {
		t.Fatalf("support sees %d payment decisions", n)
	}
	if menu := run(t, bctx, chromedp.Text(chromedp.ID("menu"))); !strings.Contains(menu, "Payments") {
		t.Fatalf("support's menu lacks Payments: %q", menu)
	}
}
