package api_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"orderdesk/app/apptest"
	"orderdesk/modules/fulfilment"
	"orderdesk/modules/ordering"
	"orderdesk/ports"
)

// TestOrderShipment: the order's shipment follows the fulfilment module: pending,
// preparing once picked, shipped with the tracking number and URL; the list says the
// same as the single order, and both match the OpenAPI document (Strict client).
func TestOrderShipment(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	c := env.API(t, env.NewAPIKey(t, "ship-"+s.tag)).Strict()
	ident := "ship-" + s.tag
	o := placeOK(t, c, ident, s.body(it(s.tea, 1)))
	if o.Shipment.Status != "pending" || o.Shipment.Carrier != "Royal Mail" || o.Shipment.Service != "CRL1" || o.Shipment.TrackingNumber != nil {
		t.Fatalf("new order's shipment %+v", o.Shipment)
	}
	transition(t, env, o.ID, ordering.StatusProcessing)
	id := uuid.MustParse(o.ID)
	packer := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, Name: "packer"})
	if _, _, err := env.App.Fulfilment.Picked(packer, id, fulfilment.PickInput{}); err != nil {
		t.Fatal(err)
	}
	if got := getOrder(t, c, ident, o.ID); got.Status != "picked" || got.Shipment.Status != "preparing" || got.Shipment.TrackingURL != nil {
		t.Fatalf("picked order's shipment %s %+v", got.Status, got.Shipment)
	}
	if err := env.App.Fulfilment.Register(ports.WithActor(context.Background(), ports.System), id); err != nil {
		t.Fatal(err)
	}
	got := getOrder(t, c, ident, o.ID)
	sh, _ := env.App.Fulfilment.Shipment(context.Background(), id)
	if got.Status != "shipped" || got.Shipment.Status != "shipped" || got.Shipment.TrackingNumber == nil ||
		*got.Shipment.TrackingNumber != sh.TrackingNumber() || got.Shipment.TrackingURL == nil ||
		*got.Shipment.TrackingURL != env.App.Carrier.TrackingURL(sh.TrackingNumber()) {
		t.Fatalf("shipped order's shipment %s %+v", got.Status, got.Shipment)
	}
	list := listOrders(t, c, ident, "")
	if len(list.Data) != 1 || !reflect.DeepEqual(list.Data[0].Shipment, got.Shipment) {
		t.Fatalf("list shipment %+v, single %+v", list.Data, got.Shipment)
	}
	// The customer can no longer cancel.
	resp, body := cancel(t, c, ident, o.ID, nil)
	wantProblem(t, resp, body, http.StatusConflict, "")
}
