package fulfilment_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"orderdesk/adapters/royalmail/rmtest"
	"orderdesk/app/apptest"
	"orderdesk/modules/catalog"
	"orderdesk/modules/fulfilment"
	"orderdesk/modules/ordering"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// hook is a client app's webhook receiver.
type hook struct {
	mu     sync.Mutex
	events []map[string]any
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var ev map[string]any
	if json.Unmarshal(b, &ev) == nil && r.Header.Get("OrderDesk-Signature") != "" {
		h.mu.Lock()
		h.events = append(h.events, ev)
		h.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *hook) shipped(orderID string) map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ev := range h.events {
		data, _ := ev["data"].(map[string]any)
		if ev["type"] == ordering.EventShipped && data["orderId"] == orderID {
			return data
		}
	}
	return nil
}

// TestRoyalMailPickedToShipped boots the whole app with SHIPPING_PROVIDER=royalmail
// against the fake Click & Drop and runs the worker: a packer presses Picked in the
// admin, the job registers the parcel through the real adapter, the label and
// tracking number are stored, the order ships, and the client app's webhook receives
// order.shipped with the tracking number and URL. A parcel Royal Mail refuses fails in
// words, without a second order.
func TestRoyalMailPickedToShipped(t *testing.T) {
	rm := rmtest.New(t)
	rm.RefusePostcode("EC1A 9ZZ")
	receiver := &hook{}
	hs := httptest.NewServer(receiver)
	t.Cleanup(hs.Close)
	env := apptest.StartWith(t, map[string]string{"SHIPPING_PROVIDER": "royalmail", "ROYALMAIL_API_URL": rm.URL,
		"ROYALMAIL_API_KEY": rmtest.APIKey})
	env.RunWorker(t)
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorSystem, Name: "test"})
	created, err := env.App.Clients.CreateApp(ctx, "Royal Mail shop", "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := env.App.Catalog.CreateProduct(ctx, catalog.ProductInput{Name: "Loose tea", SKU: "TEA-RM-1", Price: "6.00",
		WeightUnit: "grams", Weight: "250", ShippingWeight: "320", TrackStock: true, InitialStock: "50", Status: "active"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := env.App.Orders.CreateShippingMethod(ctx, ordering.ShippingMethodInput{Name: "Tracked 24", ServiceCode: "TPN24",
		PackageFormat: "smallParcel", Price: "3.90", MaxWeight: "2000", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	place := func(postcode string) *ordering.Order {
		addr := apptest.Address
		addr.Postcode = postcode
		in := ordering.PlaceInput{Items: []ordering.Item{{ProductID: p.ID.String(), Quantity: 2}}, ShippingMethodID: m.ID.String(),
			ShippingAddress: addr}
		body, _ := json.Marshal(in)
		o, _, err := env.App.Orders.PlaceOrder(ctx, ordering.Client{AppID: created.App.ID, AppName: created.App.Name,
			IdentityRef: "tg-rm"}, "key-"+strings.ReplaceAll(postcode, " ", ""), body, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Orders.Transition(ctx, o.ID, ordering.StatusProcessing, "paid"); err != nil {
			t.Fatal(err)
		}
		return o
	}
	good, refused := place("SW1A 1AA"), place("EC1A 9ZZ")

	// The webhook is added now, so that the deliveries of placing and paying (which a
	// client app takes one at a time, in order) do not hold up the ones of shipping.
	if _, err := env.App.Clients.AddWebhook(ctx, created.App.ID, hs.URL+"/hook"); err != nil {
		t.Fatal(err)
	}
	env.CreateUser(t, "rmpacker", staff.RolePacker, "correct horse battery")
	c := env.NewClient(t)
	c.Login("rmpacker", "correct horse battery")
	c.Get("/admin/fulfilment")
	for _, o := range []*ordering.Order{good, refused} {
		if resp, body := c.Post("/admin/fulfilment/orders/"+o.ID.String()+"/picked", url.Values{}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("picked %s: %d %s", o.Number, resp.StatusCode, body)
		}
	}

	deadline := time.Now().Add(90 * time.Second)
	var data map[string]any
	for data == nil && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		data = receiver.shipped(good.ID.String())
	}
	if data == nil {
		sh, _ := env.App.Fulfilment.Shipment(context.Background(), good.ID)
		t.Fatalf("no order.shipped reached the webhook; shipment %+v", sh)
	}
	sh, err := env.App.Fulfilment.Shipment(context.Background(), good.ID)
	if err != nil || sh.State != fulfilment.StateShipped || !sh.LabelReady() {
		t.Fatalf("shipment %+v, %v", sh, err)
	}
	rmOrder, ok := rm.Order(good.Number)
	if !ok || rmOrder.TrackingNumber != sh.TrackingNumber() || rmOrder.ServiceCode != "TPN24" || rmOrder.WeightGrams != 640 {
		t.Fatalf("Royal Mail's order %+v (ours %+v)", rmOrder, sh)
	}
	if data["trackingNumber"] != sh.TrackingNumber() || !strings.Contains(data["trackingUrl"].(string), sh.TrackingNumber()) ||
		data["number"] != good.Number {
		t.Fatalf("order.shipped data %v", data)
	}
	resp, body := c.Get("/admin/fulfilment/orders/" + good.ID.String() + "/label.pdf")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "%PDF") {
		t.Fatalf("label %d", resp.StatusCode)
	}

	// The refused parcel: failed in Royal Mail's words, and Royal Mail has no order.
	for time.Now().Before(deadline) {
		if sh, _ := env.App.Fulfilment.Shipment(context.Background(), refused.ID); sh.State == fulfilment.StateFailed {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	sh, _ = env.App.Fulfilment.Shipment(context.Background(), refused.ID)
	if sh.State != fulfilment.StateFailed || !strings.Contains(strings.ToLower(sh.ErrorMessage), "postcode") {
		t.Fatalf("refused shipment %+v", sh)
	}
	if _, ok := rm.Order(refused.Number); ok {
		t.Fatal("Royal Mail kept a refused order")
	}
	n := 0
	for _, o := range rm.Orders() {
		if o.Reference == good.Number || o.Reference == refused.Number {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("Royal Mail has %d orders of this test, want 1", n)
	}
	if _, body := c.Get("/admin/fulfilment/shipments"); !strings.Contains(body, sh.ErrorMessage[:20]) {
		t.Fatalf("the failure is not shown:\n%s", body)
	}
}
