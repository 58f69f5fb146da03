package api_test

import (
	"context"
	"testing"

	"orderdesk/app/apptest"
	"orderdesk/modules/ordering"
	"orderdesk/ports"
)

// TestOrderEventsToClientApp checks which events a client app's webhook is sent, in
// order, as an order is placed, gets its invoice, is answered by staff and cancelled.
func TestOrderEventsToClientApp(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "events")
	o := shop.Place(t, "tg:events", 1) // through the service: the invoice is left to the job
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, Name: "ann"})
	if err := env.App.Payments.CreateInvoiceJob(ctx, []byte(`{"orderId":"`+o.ID.String()+`"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Orders.ReplyAsStaff(ctx, o, "We are on it."); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Orders.Cancel(ctx, o, "changed mind"); err != nil {
		t.Fatal(err)
	}
	var types []string
	if err := env.App.DB.SelectContext(ctx, &types, `SELECT type FROM clients.events WHERE subject = $1 ORDER BY created_at, id`,
		o.ID.String()); err != nil {
		t.Fatal(err)
	}
	want := []string{ordering.EventCreated, ordering.EventPaymentUpdated, ordering.EventMessage, ordering.EventStatusChanged}
	if len(types) != len(want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("events %v, want %v", types, want)
		}
	}
	// Creating the invoice again (a retried job) sends nothing.
	if _, err := env.App.Payments.CreateInvoice(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := env.App.DB.GetContext(ctx, &n, `SELECT count(*) FROM clients.events WHERE subject = $1 AND type = $2`,
		o.ID.String(), ordering.EventPaymentUpdated); err != nil || n != 1 {
		t.Fatalf("payment_updated events: %d, %v", n, err)
	}
}
