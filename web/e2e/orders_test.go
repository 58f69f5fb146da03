package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"orderdesk/app/apptest"
	"orderdesk/modules/staff"
)

// TestStaffAnswerHelpMessage is the ordering issue's staff flow: a client app places
// an order and its customer asks for help; a support agent finds the order by its
// number, reads the timeline, answers, and sees the reply in the thread. On the way,
// the filtered list refreshes itself with a new order of the same customer and keeps
// out another customer's.
func TestStaffAnswerHelpMessage(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "Telegram shop")
	o := shop.Place(t, "tg-4242", 2)
	shop.Ask(t, o, "Has my order shipped yet? 📦")
	env.CreateUser(t, "sam", staff.RoleSupport, "correct horse battery")
	ctx := apptest.Browser(t, 90*time.Second)
	u := env.URL

	if err := chromedp.Do(ctx,
		logIn(u, "sam", "correct horse battery"),
		chromedp.WaitVisible(chromedp.ID("menu")),
		chromedp.Click(chromedp.CSS(`#menu a[href="/admin/orders"]`)),
		chromedp.WaitVisible(chromedp.ID("orders-filters")),
		chromedp.SendKeys(chromedp.ID("identity"), "tg-4242"),
		chromedp.Click(chromedp.ID("filter-orders")),
		// The order was listed before filtering too; the link to clear the filters
		// shows that the filtered list has arrived.
		chromedp.WaitVisible(chromedp.ID("clear-filters")),
		chromedp.WaitVisible(chromedp.CSS(`#orders-table tr[data-number="`+o.Number+`"]`)),
	); err != nil {
		t.Fatal(err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.Contains(loc, "identity=tg-4242") {
		t.Fatalf("the filter is not in the address: %s", loc)
	}

	// Live refresh: a new order of this customer appears without a reload; another
	// customer's, placed first, does not.
	stranger := shop.Place(t, "tg-9999", 1)
	again := shop.Place(t, "tg-4242", 1)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#orders-table tr[data-number="`+again.Number+`"]`))); err != nil {
		t.Fatal(err)
	}
	strangers, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#orders-table tr[data-number="`+stranger.Number+`"]').length`))
	if err != nil || strangers != 0 {
		t.Fatalf("the refreshed list lost its filter (%d rows of another customer, %v)", strangers, err)
	}

	// Find the first order by its number and open it.
	if err := chromedp.Do(ctx,
		chromedp.Clear(chromedp.ID("identity")),
		chromedp.SendKeys(chromedp.ID("number"), strings.TrimPrefix(o.Number, "OD-")),
		chromedp.Click(chromedp.ID("filter-orders")),
		chromedp.WaitNotPresent(chromedp.CSS(`#orders-table tr[data-number="`+again.Number+`"]`)),
		chromedp.Click(chromedp.CSS(`#orders-table tr[data-number="`+o.Number+`"] a`)),
		chromedp.WaitVisible(chromedp.ID("timeline")),
	); err != nil {
		t.Fatal(err)
	}
	timeline, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("timeline")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Status: pending payment", shop.App.App.Name + " (client)", "Message from the customer", "Has my order shipped yet? 📦"} {
		if !strings.Contains(timeline, want) {
			t.Fatalf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	hidden := run(t, ctx, chromedp.Text(chromedp.ID("address")))
	if !strings.Contains(hidden, "Hidden") || strings.Contains(hidden, apptest.Address.Postcode) {
		t.Fatalf("support sees the address: %q", hidden)
	}

	// Answer, with one mistake first.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("send-reply")),
		chromedp.WaitVisible(chromedp.CSS(`#reply-form .field-error`)),
		chromedp.SendKeys(chromedp.ID("reply-body"), "It leaves today by Tracked 24 ✉️"),
		chromedp.Click(chromedp.ID("send-reply")),
		chromedp.WaitVisible(chromedp.CSS(`#thread .msg-staff`)),
	); err != nil {
		t.Fatal(err)
	}
	reply, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#thread .msg-staff`)))
	if !strings.Contains(reply, "It leaves today by Tracked 24 ✉️") || !strings.Contains(reply, "sam (staff)") {
		t.Fatalf("reply in the thread: %q", reply)
	}
	flash, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash-ok")))
	if !strings.Contains(flash, "Reply sent to tg-4242") {
		t.Fatalf("flash %q", flash)
	}
	timeline, _ = chromedp.Run(ctx, chromedp.Text(chromedp.ID("timeline")))
	if !strings.Contains(timeline, "Reply from staff") || !strings.Contains(timeline, "Staff action order.reply") {
		t.Fatalf("timeline after the reply:\n%s", timeline)
	}
	// The conversation has left the inbox.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#menu a[href="/admin/messages"]`)),
		chromedp.WaitVisible(chromedp.ID("inbox-table")),
	); err != nil {
		t.Fatal(err)
	}
	if inbox := run(t, ctx, chromedp.Text(chromedp.ID("inbox-table"))); strings.Contains(inbox, o.Number) {
		t.Fatalf("answered conversation still in the inbox:\n%s", inbox)
	}
}
