package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"orderdesk/app/apptest"
	"orderdesk/modules/ordering"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// TestPackerPicksAndPrints is the fulfilment issue's packer flow: a packer logs in and
// sees the paid order in the queue; the queue refreshes itself with a new paid order
// without losing what the packer is typing; Picked turns the card into a confirmation;
// the worker registers the parcel with the (sandbox) carrier, and the picked list shows
// the label ready, whose PDF opens. The packer sees nothing of the catalog or the
// client apps.
func TestPackerPicksAndPrints(t *testing.T) {
	env := apptest.Start(t)
	env.RunWorker(t)
	shop := env.NewShop(t, "Packing shop")
	system := ports.WithActor(context.Background(), ports.System)
	pay := func(o *ordering.Order) {
		if _, err := env.App.Orders.Transition(system, o.ID, ordering.StatusProcessing, "paid"); err != nil {
			t.Fatal(err)
		}
	}
	first := shop.Place(t, "tg-101", 2)
	pay(first)
	env.CreateUser(t, "pete", staff.RolePacker, "correct horse battery")
	ctx := apptest.Browser(t, 120*time.Second)
	u := env.URL
	card := `#pick-` + first.ID.String()

	run(t, ctx, chromedp.Steps(
		logIn(u, "pete", "correct horse battery"),
		chromedp.WaitVisible(chromedp.CSS(card)),
	))
	text := run(t, ctx, chromedp.Text(chromedp.CSS(card)))
	for _, want := range []string{first.Number, "2 ×", *shop.Product.SKU, shop.Method.Name} {
		if !strings.Contains(text, want) {
			t.Fatalf("card lacks %q:\n%s", want, text)
		}
	}

	// The packer starts typing a weight; a new paid order arrives meanwhile.
	weight := card + ` input[name="weight"]`
	run(t, ctx, chromedp.Steps(chromedp.Clear(chromedp.CSS(weight)), chromedp.SendKeys(chromedp.CSS(weight), "720")))
	second := shop.Place(t, "tg-102", 1)
	pay(second)
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#pick-`+second.ID.String())))
	if v := run(t, ctx, chromedp.Value(chromedp.CSS(weight))); v != "720" {
		t.Fatalf("the live refresh lost the typed weight: %q", v)
	}

	// Picked.
	run(t, ctx, chromedp.Steps(
		chromedp.Click(chromedp.ID("picked-"+first.Number)),
		chromedp.WaitVisible(chromedp.CSS(card+`.done`)),
	))
	if msg := run(t, ctx, chromedp.Text(chromedp.CSS(card))); !strings.Contains(msg, first.Number+" picked") {
		t.Fatalf("confirmation %q", msg)
	}
	// The label becomes ready on the picked list, without a reload.
	run(t, ctx, chromedp.Steps(
		chromedp.Click(chromedp.ID("tab-shipments")),
		chromedp.WaitVisible(chromedp.ID("shipments-table")),
		chromedp.WaitVisible(chromedp.ID("print-"+first.Number)),
	))
	row := run(t, ctx, chromedp.Text(chromedp.CSS(`#sh-`+first.ID.String())))
	if !strings.Contains(row, "shipped") || !strings.Contains(row, "SB") || !strings.Contains(row, "720 g") {
		t.Fatalf("row %q", row)
	}
	pdf := run(t, ctx, chromedp.Evaluate[string](`fetch(document.getElementById("label-`+first.Number+`").href).then(r =>
		r.arrayBuffer().then(b => r.status + " " + r.headers.get("content-type") + " " + new TextDecoder().decode(new Uint8Array(b).slice(0, 5))))`,
		chromedp.EvalAwaitPromise))
	if pdf != "200 application/pdf %PDF-" {
		t.Fatalf("label.pdf: %q", pdf)
	}
	got, err := env.App.Orders.Order(context.Background(), first.ID)
	if err != nil || got.Status != ordering.StatusShipped {
		t.Fatalf("order after the label: %v, %v", got.Status, err)
	}
	// The client app is sent order.shipped with the tracking number.
	var bodies []string
	if err := env.App.DB.SelectContext(context.Background(), &bodies, `SELECT e.body FROM clients.events e
		JOIN clients.deliveries d ON d.event_id = e.id WHERE e.subject = $1 AND e.type = 'order.shipped'`, first.ID.String()); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 || !strings.Contains(bodies[0], `"trackingNumber":"SB`) {
		t.Fatalf("order.shipped deliveries: %v", bodies)
	}

	// Packers see only fulfilment.
	menu := run(t, ctx, chromedp.Text(chromedp.ID("menu")))
	if strings.TrimSpace(menu) != "Fulfilment" {
		t.Fatalf("packer's menu: %q", menu)
	}
	for _, path := range []string{"/admin/catalog/products", "/admin/clients"} {
		run(t, ctx, chromedp.Steps(chromedp.Navigate(u+path), chromedp.WaitVisible(chromedp.CSS(".error-page"))))
		if body := run(t, ctx, chromedp.Text(chromedp.CSS(".error-page"))); !strings.Contains(body, "Your role does not give access") {
			t.Fatalf("%s: %q", path, body)
		}
	}
}
