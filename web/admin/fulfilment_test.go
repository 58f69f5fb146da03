package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"orderdesk/adapters/sandbox"
	"orderdesk/app"
	"orderdesk/app/apptest"
	"orderdesk/modules/fulfilment"
	"orderdesk/modules/ordering"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

var system = ports.WithActor(context.Background(), ports.System)

// paidOrder places an order for the shop (to postcode, when given) and settles it.
func paidOrder(t *testing.T, env *apptest.Env, shop *apptest.Shop, postcode string) *ordering.Order {
	t.Helper()
	addr := apptest.Address
	if postcode != "" {
		addr.Postcode = postcode
	}
	in := ordering.PlaceInput{Items: []ordering.Item{{ProductID: shop.Product.ID.String(), Quantity: 2}},
		ShippingMethodID: shop.Method.ID.String(), ShippingAddress: addr}
	body, _ := json.Marshal(in)
	cl := ordering.Client{AppID: shop.App.App.ID, AppName: shop.App.App.Name, IdentityRef: "tg-" + uuid.NewString()[:6]}
	o, _, err := env.App.Orders.PlaceOrder(context.Background(), cl, uuid.NewString(), body, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Orders.Transition(system, o.ID, ordering.StatusProcessing, "paid"); err != nil {
		t.Fatal(err)
	}
	return o
}

func htmx(c *apptest.Client, path string, form url.Values) (*http.Response, string) {
	form.Set("_csrf", c.CSRF)
	return c.Do("POST", path, form, http.Header{"Hx-Request": {"true"}})
}

func TestPackerPicksFromTheQueue(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "packing")
	older := paidOrder(t, env, shop, "")
	newer := paidOrder(t, env, shop, "")
	unpaid := shop.Place(t, "tg-unpaid", 1)
	env.CreateUser(t, "pia", staff.RolePacker, "correct horse battery")
	c := env.NewClient(t)
	c.Login("pia", "correct horse battery")

	resp, body := c.Get("/admin/fulfilment")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="pick-`+older.ID.String()) || strings.Contains(body, unpaid.Number) ||
		strings.Index(body, older.Number) > strings.Index(body, newer.Number) || !strings.Contains(body, *shop.Product.SKU) ||
		!strings.Contains(body, `hx-get="/admin/fulfilment/live"`) {
		t.Fatalf("queue %d:\n%s", resp.StatusCode, body)
	}
	if resp, body := c.Do("GET", "/admin/fulfilment/live", nil, http.Header{"Hx-Request": {"true"}}); resp.StatusCode != 200 || !strings.Contains(body, `id="pick-queue"`) ||
		strings.Contains(body, "<html") {
		t.Fatalf("live part %d:\n%.500s", resp.StatusCode, body)
	}

	// A weight the format cannot take: the card again, with the message (422).
	resp, body = htmx(c, "/admin/fulfilment/orders/"+older.ID.String()+"/picked", url.Values{"package_format": {"letter"}, "weight": {"600"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "at most 100 g") || !strings.Contains(body, `id="pick-`+older.ID.String()) ||
		strings.Contains(body, "<html") {
		t.Fatalf("bad weight %d:\n%s", resp.StatusCode, body)
	}
	// Picked: the card turns into a confirmation.
	resp, body = htmx(c, "/admin/fulfilment/orders/"+older.ID.String()+"/picked", url.Values{"package_format": {"parcel"}, "weight": {"700"}})
	if resp.StatusCode != 200 || !strings.Contains(body, older.Number+" picked") {
		t.Fatalf("picked %d:\n%s", resp.StatusCode, body)
	}
	// A double press changes nothing and says so.
	resp, body = htmx(c, "/admin/fulfilment/orders/"+older.ID.String()+"/picked", url.Values{})
	if resp.StatusCode != 200 || !strings.Contains(body, "picked already") {
		t.Fatalf("second press %d:\n%s", resp.StatusCode, body)
	}
	sh, err := env.App.Fulfilment.Shipment(context.Background(), older.ID)
	if err != nil || sh.WeightGrams != 700 || sh.PackageFormat != "parcel" || sh.PickedBy != "pia" {
		t.Fatalf("shipment %+v, %v", sh, err)
	}
	// Without JavaScript: back to the queue with a message.
	resp, _ = c.Post("/admin/fulfilment/orders/"+newer.ID.String()+"/picked", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/fulfilment" {
		t.Fatalf("form post %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// An unpaid order cannot be picked.
	resp, body = htmx(c, "/admin/fulfilment/orders/"+unpaid.ID.String()+"/picked", url.Values{})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "only paid orders") {
		t.Fatalf("unpaid %d:\n%s", resp.StatusCode, body)
	}

	// The job registers both; the list shows them shipped with their labels.
	for _, o := range []*ordering.Order{older, newer} {
		if err := env.App.Fulfilment.Register(system, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	resp, body = c.Get("/admin/fulfilment/shipments")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="print-`+older.Number) || !strings.Contains(body, "shipped") {
		t.Fatalf("shipments %d:\n%s", resp.StatusCode, body)
	}
	resp, body = c.Get("/admin/fulfilment/orders/" + older.ID.String() + "/label.pdf")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Fatalf("label %d %v", resp.StatusCode, resp.Header)
	}
	both := "id=" + older.ID.String() + "&id=" + newer.ID.String()
	for _, path := range []string{"/admin/fulfilment/labels.pdf?", "/admin/fulfilment/picklist.pdf?", "/admin/fulfilment/slips.pdf?"} {
		resp, body := c.Get(path + both)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF") {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, resp.Header)
		}
	}
	resp, body = c.Get("/admin/fulfilment/print?" + both)
	if resp.StatusCode != 200 || !strings.Contains(body, `data-autoprint`) || !strings.Contains(body, "/admin/fulfilment/labels.pdf?id=") ||
		strings.Contains(body, "<script>") {
		t.Fatalf("print page %d:\n%s", resp.StatusCode, body)
	}
	// A batch without a selection goes back with a message.
	resp, _ = c.Get("/admin/fulfilment/labels.pdf")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("empty batch %d", resp.StatusCode)
	}
	if resp, body := c.Get("/admin/fulfilment/shipments"); !strings.Contains(body, "Select at least one order") {
		t.Fatalf("no message after an empty batch (%d)", resp.StatusCode)
	}
	// The label of an order that is not picked is a 404.
	if resp, _ := c.Get("/admin/fulfilment/orders/" + unpaid.ID.String() + "/label.pdf"); resp.StatusCode != 404 {
		t.Fatalf("label of an unpicked order: %d", resp.StatusCode)
	}
	// Packers see nothing beyond fulfilment.
	for _, path := range []string{"/admin/catalog/products", "/admin/clients", "/admin/orders/" + older.ID.String()} {
		if resp, _ := c.Get(path); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("packer got %s: %d", path, resp.StatusCode)
		}
	}
}

// refusing is the sandbox carrier refusing one (valid-looking) postcode, as Royal Mail
// refuses an address it does not know.
type refusing struct {
	*sandbox.Carrier
	postcode string
}

func (r refusing) CreateOrder(ctx context.Context, req ports.ShipmentRequest) (*ports.CarrierOrder, error) {
	if req.Recipient.Postcode == r.postcode {
		return nil, ports.Errorf(ports.EINVALID, "Royal Mail refused the parcel: the postcode %s is not known.", r.postcode)
	}
	return r.Carrier.CreateOrder(ctx, req)
}

func TestRefusedParcelFixAddressAndCancelAfterPicking(t *testing.T) {
	const unknown = "EC1A 9ZZ"
	env := apptest.StartOpts(t, nil, app.Options{Carrier: refusing{sandbox.NewCarrier(ports.SystemClock), unknown}})
	shop := env.NewShop(t, "refused")
	o := paidOrder(t, env, shop, unknown)
	env.CreateUser(t, "pat", staff.RolePacker, "correct horse battery")
	c := env.NewClient(t)
	c.Login("pat", "correct horse battery")
	c.Get("/admin/fulfilment")
	if resp, _ := c.Post("/admin/fulfilment/orders/"+o.ID.String()+"/picked", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("picked %d", resp.StatusCode)
	}
	if err := env.App.Fulfilment.Register(system, o.ID); err != nil {
		t.Fatal(err)
	}
	resp, body := c.Get("/admin/fulfilment/shipments")
	if resp.StatusCode != 200 || !strings.Contains(body, "refused by Royal Mail") || !strings.Contains(body, `id="fix-`+o.Number) ||
		!strings.Contains(body, `id="retry-`+o.Number) {
		t.Fatalf("failed shipment %d:\n%s", resp.StatusCode, body)
	}
	resp, body = c.Get("/admin/fulfilment/orders/" + o.ID.String() + "/address")
	if resp.StatusCode != 200 || !strings.Contains(body, `value="`+unknown+`"`) || !strings.Contains(body, "Royal Mail said") {
		t.Fatalf("address form %d:\n%s", resp.StatusCode, body)
	}
	form := url.Values{"name": {"Ann Example"}, "line1": {"1 High Street"}, "city": {"London"}, "postcode": {"nonsense"}, "countryCode": {"GB"}}
	resp, body = c.Post("/admin/fulfilment/orders/"+o.ID.String()+"/address", form)
	if resp.StatusCode != 422 || !strings.Contains(body, "not a valid UK postcode") || !strings.Contains(body, `value="nonsense"`) {
		t.Fatalf("bad postcode %d:\n%s", resp.StatusCode, body)
	}
	form.Set("postcode", "SW1A 2AA")
	resp, _ = c.Post("/admin/fulfilment/orders/"+o.ID.String()+"/address", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("fix %d", resp.StatusCode)
	}
	if sh, _ := env.App.Fulfilment.Shipment(context.Background(), o.ID); sh.State != fulfilment.StateQueued {
		t.Fatalf("after the fix: %s", sh.State)
	}
	// Cancelling after picking is for the roles that cancel orders, on the order page.
	if resp, _ := c.Post("/admin/fulfilment/orders/"+o.ID.String()+"/cancel", url.Values{"reason": {"no"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("packer cancelled: %d", resp.StatusCode)
	}
	env.CreateUser(t, "moe", staff.RoleManager, "correct horse battery")
	m := env.NewClient(t)
	m.Login("moe", "correct horse battery")
	resp, body = m.Get("/admin/orders/" + o.ID.String())
	if resp.StatusCode != 200 || !strings.Contains(body, `id="cancel-picked-form"`) || !strings.Contains(body, "waiting to be registered") {
		t.Fatalf("order page %d:\n%s", resp.StatusCode, body)
	}
	resp, body = m.Post("/admin/fulfilment/orders/"+o.ID.String()+"/cancel", url.Values{"reason": {""}})
	if resp.StatusCode != 422 || !strings.Contains(body, "Say why") {
		t.Fatalf("cancel without reason %d:\n%.3000s", resp.StatusCode, body)
	}
	resp, _ = m.Post("/admin/fulfilment/orders/"+o.ID.String()+"/cancel", url.Values{"reason": {"Out of the country"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel %d", resp.StatusCode)
	}
	resp, body = m.Get("/admin/orders/" + o.ID.String())
	if !strings.Contains(body, "back in stock") || !strings.Contains(body, `id="order-status">cancelled`) || strings.Contains(body, `id="cancel-picked-form"`) {
		t.Fatalf("after cancel %d:\n%s", resp.StatusCode, body)
	}
}

func TestOrderPageShowsShipment(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "panel")
	o := paidOrder(t, env, shop, "")
	staffCtx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, Name: "pat"})
	if _, _, err := env.App.Fulfilment.Picked(staffCtx, o.ID, fulfilment.PickInput{}); err != nil {
		t.Fatal(err)
	}
	if err := env.App.Fulfilment.Register(system, o.ID); err != nil {
		t.Fatal(err)
	}
	sh, _ := env.App.Fulfilment.Shipment(context.Background(), o.ID)
	env.CreateUser(t, "sue", staff.RoleSupport, "correct horse battery")
	c := env.NewClient(t)
	c.Login("sue", "correct horse battery")
	resp, body := c.Get("/admin/orders/" + o.ID.String())
	if resp.StatusCode != 200 || !strings.Contains(body, `id="tracking-link"`) || !strings.Contains(body, sh.TrackingNumber()) ||
		strings.Contains(body, `id="shipment-label"`) || strings.Contains(body, `id="cancel-picked-form"`) {
		t.Fatalf("order page for support %d:\n%s", resp.StatusCode, body)
	}
}
