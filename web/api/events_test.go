package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"

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

// TestNoPaymentEventForInvoiceInAnswer: an order placed through the API gets its
// invoice while the request is answered, and the 201 carries it: the app is sent
// order.created only. A later change of the payment is an order.payment_updated.
func TestNoPaymentEventForInvoiceInAnswer(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "inline")
	api := env.API(t, env.NewAPIKey(t, "inline"))
	body, _ := json.Marshal(map[string]any{"items": []map[string]any{{"productId": shop.Product.ID.String(), "quantity": 1}},
		"shippingMethodId": shop.Method.ID.String(), "shippingAddress": map[string]any{"name": "Ann", "line1": "1 High St",
			"city": "York", "postcode": "YO1 7HH", "countryCode": "GB"}})
	resp, out := api.Do("POST", "/api/v1/orders", body, http.Header{"X-Identity-Reference": {"tg:inline"},
		"Idempotency-Key": {"inline-1"}, "Content-Type": {"application/json"}})
	var placed struct {
		ID      string `json:"id"`
		Payment struct {
			Methods []any `json:"methods"`
		} `json:"payment"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(out, &placed) != nil || len(placed.Payment.Methods) == 0 {
		t.Fatalf("place: %d %s", resp.StatusCode, out)
	}
	types := func() []string {
		var types []string
		if err := env.App.DB.SelectContext(context.Background(), &types, `SELECT type FROM clients.events WHERE subject = $1
			ORDER BY created_at, id`, placed.ID); err != nil {
			t.Fatal(err)
		}
		return types
	}
	if got := types(); len(got) != 1 || got[0] != ordering.EventCreated {
		t.Fatalf("events after placing: %v, want only %s", got, ordering.EventCreated)
	}
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, Name: "ann"})
	if _, err := env.App.Payments.Simulate(ctx, uuid.MustParse(placed.ID), "pay"); err != nil {
		t.Fatal(err)
	}
	if got := types(); len(got) < 2 || got[1] != ordering.EventPaymentUpdated {
		t.Fatalf("events after the payment: %v", got)
	}
}
