package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	qrcode "github.com/skip2/go-qrcode"

	"orderdesk/app/apptest"
	"orderdesk/modules/catalog"
	"orderdesk/modules/ordering"
)

// ---- wire types of orders, as a client app would write them ----

type paymentMethod struct {
	Method      string `json:"method"`
	Destination string `json:"destination"`
	PaymentURI  string `json:"paymentUri"`
	Amount      money  `json:"amount"`
	Rate        money  `json:"rate"`
	Due         money  `json:"due"`
}

type orderLine struct {
	ProductID  string  `json:"productId"`
	Name       string  `json:"name"`
	SKU        *string `json:"sku"`
	Quantity   int     `json:"quantity"`
	UnitPrice  money   `json:"unitPrice"`
	Total      money   `json:"total"`
	Weight     *string `json:"weight"`
	WeightUnit string  `json:"weightUnit"`
}

type address struct {
	Name        string `json:"name"`
	Line1       string `json:"line1"`
	Line2       string `json:"line2,omitempty"`
	Line3       string `json:"line3,omitempty"`
	City        string `json:"city"`
	County      string `json:"county,omitempty"`
	Postcode    string `json:"postcode"`
	CountryCode string `json:"countryCode"`
	Phone       string `json:"phone,omitempty"`
}

type order struct {
	ID             string      `json:"id"`
	Number         string      `json:"number"`
	Status         string      `json:"status"`
	Items          []orderLine `json:"items"`
	Subtotal       money       `json:"subtotal"`
	Shipping       money       `json:"shipping"`
	Total          money       `json:"total"`
	ShippingMethod struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Service string `json:"service"`
	} `json:"shippingMethod"`
	ShippingAddress address `json:"shippingAddress"`
	Note            string  `json:"note"`
	Payment         struct {
		Status       string          `json:"status"`
		Amount       money           `json:"amount"`
		ExpiresAt    *string         `json:"expiresAt"`
		CheckoutLink *string         `json:"checkoutLink"`
		Methods      []paymentMethod `json:"methods"`
	} `json:"payment"`
	Shipment struct {
		Status         string  `json:"status"`
		Carrier        string  `json:"carrier"`
		Service        string  `json:"service"`
		TrackingNumber *string `json:"trackingNumber"`
		TrackingURL    *string `json:"trackingUrl"`
	} `json:"shipment"`
	History []struct {
		Status string `json:"status"`
		At     string `json:"at"`
	} `json:"history"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

type message struct {
	ID        string `json:"id"`
	From      string `json:"from"`
	Body      string `json:"body"`
	CreatedAt string `json:"createdAt"`
}

type item struct {
	ProductID string `json:"productId"`
	Quantity  int    `json:"quantity"`
}

type placeBody struct {
	Items            []item  `json:"items"`
	ShippingMethodID string  `json:"shippingMethodId"`
	ShippingAddress  address `json:"shippingAddress"`
	Note             string  `json:"note,omitempty"`
}

// ---- fixtures ----

func goodAddress() address {
	return address{Name: "Ada Lovelace", Line1: "10 Downing Street", City: "London", Postcode: "SW1A 2AA", CountryCode: "GB", Phone: "+44 20 7946 0000"}
}

func newMethod(t *testing.T, env *apptest.Env, name, price, maxWeight string, active bool) *ordering.ShippingMethod {
	t.Helper()
	m, err := env.App.Orders.CreateShippingMethod(staffCtx(), ordering.ShippingMethodInput{
		Name: name, ServiceCode: "CRL1", PackageFormat: "smallParcel", Price: price, MaxWeight: maxWeight, Active: active})
	if err != nil {
		t.Fatalf("create shipping method: %v", err)
	}
	return m
}

// shop is a catalog and shipping methods for order tests.
type shop struct {
	env    *apptest.Env
	tag    string
	cat    *catalog.Category
	tea    *catalog.Product // £12.50, 250 g, 10 in stock
	cup    *catalog.Product // £3.99, 100 g, 10 in stock
	free   *catalog.Product // untracked, £1.00, 1 g
	method *ordering.ShippingMethod
}

func newShop(t *testing.T, env *apptest.Env) *shop {
	t.Helper()
	s := &shop{env: env, tag: tag(t)}
	s.cat = newCategory(t, env, s.tag+" shop", nil, 0, true)
	s.tea = newProduct(t, env, productIn(s.tag+" tea", s.cat))
	cup := productIn(s.tag+" cup", s.cat)
	cup.Price, cup.Weight = "3.99", "100"
	s.cup = newProduct(t, env, cup)
	free := productIn(s.tag+" sticker", s.cat)
	free.Price, free.Weight, free.TrackStock, free.InitialStock = "1.00", "1", false, ""
	s.free = newProduct(t, env, free)
	s.method = newMethod(t, env, s.tag+" 1st class", "3.20", "30000", true)
	return s
}

func (s *shop) body(items ...item) placeBody {
	return placeBody{Items: items, ShippingMethodID: s.method.ID.String(), ShippingAddress: goodAddress()}
}

func it(p *catalog.Product, q int) item { return item{ProductID: p.ID.String(), Quantity: q} }

func orderHeaders(identity, key string) http.Header {
	h := http.Header{}
	if identity != "" {
		h.Set("X-Identity-Reference", identity)
	}
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	return h
}

func place(t *testing.T, c *apptest.APIClient, identity, key string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return c.Do(http.MethodPost, "/api/v1/orders", body, orderHeaders(identity, key))
}

// placeOK places an order with a fresh Idempotency-Key and wants a 201.
func placeOK(t *testing.T, c *apptest.APIClient, identity string, b placeBody) order {
	t.Helper()
	resp, body := place(t, c, identity, uuid.NewString(), mustJSON(t, b))
	return decodeOrder(t, resp, body, http.StatusCreated)
}

// placeKeyOK places an order with the given Idempotency-Key and wants a 201.
func placeKeyOK(t *testing.T, c *apptest.APIClient, identity, key string, body []byte) order {
	t.Helper()
	resp, b := place(t, c, identity, key, body)
	return decodeOrder(t, resp, b, http.StatusCreated)
}

// cancelOK cancels an order and wants a 200.
func cancelOK(t *testing.T, c *apptest.APIClient, identity, id string, body []byte) order {
	t.Helper()
	resp, b := cancel(t, c, identity, id, body)
	return decodeOrder(t, resp, b, http.StatusOK)
}

func decodeOrder(t *testing.T, resp *http.Response, body []byte, want int) order {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, body)
	}
	var o order
	if err := json.Unmarshal(body, &o); err != nil {
		t.Fatalf("decode order: %v: %s", err, body)
	}
	return o
}

func getOrder(t *testing.T, c *apptest.APIClient, identity, id string) order {
	t.Helper()
	resp, body := c.Do(http.MethodGet, "/api/v1/orders/"+id, nil, orderHeaders(identity, ""))
	return decodeOrder(t, resp, body, http.StatusOK)
}

func cancel(t *testing.T, c *apptest.APIClient, identity, id string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return c.Do(http.MethodPost, "/api/v1/orders/"+id+"/cancel", body, orderHeaders(identity, ""))
}

func listOrders(t *testing.T, c *apptest.APIClient, identity, query string) page[order] {
	t.Helper()
	resp, body := c.Do(http.MethodGet, "/api/v1/orders"+query, nil, orderHeaders(identity, ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /orders%s: status %d: %s", query, resp.StatusCode, body)
	}
	var pg page[order]
	if err := json.Unmarshal(body, &pg); err != nil {
		t.Fatal(err)
	}
	return pg
}

// allOrders walks every page of the identity's orders.
func allOrders(t *testing.T, c *apptest.APIClient, identity, query string) []order {
	t.Helper()
	var out []order
	next := query
	for n := 0; ; n++ {
		pg := listOrders(t, c, identity, next)
		out = append(out, pg.Data...)
		if pg.NextCursor == nil {
			return out
		}
		if n > 100 {
			t.Fatal("more than 100 pages")
		}
		sep := "?"
		if query != "" {
			sep = "&"
		}
		next = query + sep + "cursor=" + url.QueryEscape(*pg.NextCursor)
	}
}

func orderIDs(os []order) []string { return ids(os, func(o order) string { return o.ID }) }

func staffOrder(t *testing.T, env *apptest.Env, id string) *ordering.Order {
	t.Helper()
	o, err := env.App.Orders.Order(context.Background(), uuid.MustParse(id))
	if err != nil {
		t.Fatalf("order %s: %v", id, err)
	}
	return o
}

func transition(t *testing.T, env *apptest.Env, id string, to ordering.Status) {
	t.Helper()
	if _, err := env.App.Orders.Transition(staffCtx(), uuid.MustParse(id), to, ""); err != nil {
		t.Fatalf("transition %s to %s: %v", id, to, err)
	}
}

// stock is a product's counters as the database holds them.
func stock(t *testing.T, env *apptest.Env, id uuid.UUID) (onHand, reserved int) {
	t.Helper()
	var row struct {
		OnHand   int `db:"stock_on_hand"`
		Reserved int `db:"reserved"`
	}
	if err := env.App.DB.GetContext(context.Background(), &row, `SELECT stock_on_hand, reserved FROM catalog.products WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	return row.OnHand, row.Reserved
}

// available is the product's availableQuantity through the API.
func available(t *testing.T, c *apptest.APIClient, id uuid.UUID) any {
	t.Helper()
	p, _, _ := getProduct(t, c, id.String())
	return deref(p.AvailableQuantity)
}

// state counts what placing an order (or a message) writes.
type state struct {
	Orders, Lines, History, Reservations, Reserved, Keys, Messages, Invoices int
}

func snapshot(t *testing.T, env *apptest.Env) state {
	t.Helper()
	var s state
	for _, q := range []struct {
		dst *int
		sql string
	}{
		{&s.Orders, `SELECT count(*) FROM ordering.orders`},
		{&s.Lines, `SELECT count(*) FROM ordering.order_lines`},
		{&s.History, `SELECT count(*) FROM ordering.history`},
		{&s.Reservations, `SELECT count(*) FROM catalog.reservations`},
		{&s.Reserved, `SELECT coalesce(sum(reserved), 0) FROM catalog.products`},
		{&s.Keys, `SELECT count(*) FROM ordering.idempotency_keys`},
		{&s.Messages, `SELECT count(*) FROM ordering.messages`},
		{&s.Invoices, `SELECT count(*) FROM payments.invoices`},
	} {
		if err := env.App.DB.GetContext(context.Background(), q.dst, q.sql); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return s
}

// sats is a sandbox amount in BTC for pence (1p = 20 sats), as a decimal string.
func sats(pence int64) string {
	s := pence * 20
	return fmt.Sprintf("%d.%08d", s/100_000_000, s%100_000_000)
}

// ---- the document ----

// TestOrderDocument: every order endpoint is in the document, and its limits are the
// ones the code enforces.
func TestOrderDocument(t *testing.T) {
	spec, err := apptest.LoadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	doc := spec.Doc
	for _, op := range []struct{ method, path string }{
		{"GET", "/shipping-methods"}, {"POST", "/orders"}, {"GET", "/orders"}, {"GET", "/orders/{id}"},
		{"POST", "/orders/{id}/cancel"}, {"POST", "/orders/{id}/messages"}, {"GET", "/orders/{id}/messages"},
		{"GET", "/orders/{id}/payment/qr.png"},
	} {
		item := doc.Paths.Value(op.path)
		if item == nil || item.GetOperation(op.method) == nil {
			t.Errorf("the document has no %s %s", op.method, op.path)
		}
	}
	maxLen := func(schema, prop string) int {
		t.Helper()
		s := doc.Components.Schemas[schema]
		if s == nil || s.Value.Properties[prop] == nil || s.Value.Properties[prop].Value.MaxLength == nil {
			t.Fatalf("%s.%s has no maxLength", schema, prop)
		}
		return int(*s.Value.Properties[prop].Value.MaxLength)
	}
	for _, c := range []struct {
		prop string
		want int
	}{
		{"name", ordering.AddressNameMax}, {"line1", ordering.AddressLineMax}, {"line2", ordering.AddressLineMax},
		{"line3", ordering.AddressLineMax}, {"city", ordering.AddressCityMax}, {"county", ordering.AddressCountyMax},
		{"postcode", ordering.AddressPostcodeMax}, {"phone", ordering.AddressPhoneMax},
	} {
		if got := maxLen("Address", c.prop); got != c.want {
			t.Errorf("Address.%s maxLength %d, the code allows %d", c.prop, got, c.want)
		}
	}
	if got := maxLen("PlaceOrder", "note"); got != ordering.NoteMax {
		t.Errorf("note maxLength %d, want %d", got, ordering.NoteMax)
	}
	place := doc.Components.Schemas["PlaceOrder"].Value
	if place.AdditionalProperties.Has == nil || *place.AdditionalProperties.Has {
		t.Errorf("PlaceOrder allows additional properties")
	}
	if items := place.Properties["items"].Value; items.MaxItems == nil || int(*items.MaxItems) != ordering.MaxLines {
		t.Errorf("items maxItems %v, want %d", items.MaxItems, ordering.MaxLines)
	}
}

// ---- placing and reading ----

func TestPlaceOrder(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	c := env.API(t, env.NewAPIKey(t, "place-"+s.tag)).Strict()
	ident := "tg:" + s.tag

	b := s.body(it(s.tea, 2), it(s.cup, 1))
	b.Note = "Please ring twice."
	before := time.Now()
	resp, body := place(t, c, ident, uuid.NewString(), mustJSON(t, b))
	o := decodeOrder(t, resp, body, http.StatusCreated)

	if loc := resp.Header.Get("Location"); loc != "/api/v1/orders/"+o.ID {
		t.Errorf("Location %q", loc)
	}
	if resp.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("a first placement says Idempotent-Replayed")
	}
	if !strings.HasPrefix(o.Number, "OD-") || o.Status != "pending_payment" {
		t.Errorf("number %q status %q", o.Number, o.Status)
	}
	// 2 × 12.50 + 3.99 = 28.99; shipping 3.20; total 32.19.
	if o.Subtotal != (money{"28.99", "GBP"}) || o.Shipping != (money{"3.20", "GBP"}) || o.Total != (money{"32.19", "GBP"}) {
		t.Errorf("totals %+v %+v %+v", o.Subtotal, o.Shipping, o.Total)
	}
	if len(o.Items) != 2 || o.Items[0].ProductID != s.tea.ID.String() || o.Items[0].Quantity != 2 ||
		o.Items[0].UnitPrice != (money{"12.50", "GBP"}) || o.Items[0].Total != (money{"25.00", "GBP"}) ||
		o.Items[0].Name != s.tea.Name || o.Items[0].Weight == nil || *o.Items[0].Weight != "250" || o.Items[0].WeightUnit != "grams" ||
		o.Items[1].ProductID != s.cup.ID.String() || o.Items[1].Total != (money{"3.99", "GBP"}) {
		t.Errorf("items %+v", o.Items)
	}
	if o.ShippingMethod.ID != s.method.ID.String() || o.ShippingMethod.Service != "CRL1" || o.ShippingMethod.Name != s.method.Name {
		t.Errorf("shipping method %+v", o.ShippingMethod)
	}
	if o.ShippingAddress != goodAddress() || o.Note != "Please ring twice." {
		t.Errorf("address %+v note %q", o.ShippingAddress, o.Note)
	}
	if len(o.History) != 1 || o.History[0].Status != "pending_payment" {
		t.Errorf("history %+v", o.History)
	}
	if o.Shipment.Status != "pending" || o.Shipment.Carrier != "Royal Mail" || o.Shipment.Service != "CRL1" || o.Shipment.TrackingNumber != nil {
		t.Errorf("shipment %+v", o.Shipment)
	}

	// Payment instructions from the sandbox: 3219 p × 20 sat.
	p := o.Payment
	if p.Status != "pending" || p.Amount != (money{"32.19", "GBP"}) {
		t.Errorf("payment %+v", p)
	}
	if p.ExpiresAt == nil {
		t.Fatal("payment.expiresAt is null")
	}
	exp, err := time.Parse(time.RFC3339, *p.ExpiresAt)
	if err != nil || exp.Before(before.Add(50*time.Minute)) || exp.After(time.Now().Add(70*time.Minute)) {
		t.Errorf("expiresAt %s (%v)", *p.ExpiresAt, err)
	}
	if p.CheckoutLink == nil || !strings.HasPrefix(*p.CheckoutLink, env.URL+"/sandbox/invoices/") {
		t.Errorf("checkoutLink %v", p.CheckoutLink)
	}
	want := money{sats(3219), "BTC"}
	if want.Amount != "0.00064380" {
		t.Fatalf("sats helper: %s", want.Amount)
	}
	var methods []string
	var chain paymentMethod
	for _, m := range p.Methods {
		methods = append(methods, m.Method)
		if m.Amount != want || m.Due != want || m.Rate != (money{"50000.00", "GBP"}) || m.Destination == "" {
			t.Errorf("method %+v", m)
		}
		if m.Method == "BTC-CHAIN" {
			chain = m
		}
	}
	if !slices.Equal(methods, []string{"BTC-CHAIN", "BTC-LN"}) {
		t.Errorf("methods %v", methods)
	}
	if chain.PaymentURI != "bitcoin:"+chain.Destination+"?amount="+want.Amount+"&label="+o.Number {
		t.Errorf("BIP21 URI %q", chain.PaymentURI)
	}

	// GET by id is the same order.
	got := getOrder(t, c, ident, o.ID)
	if got.ID != o.ID || got.Number != o.Number || got.Total != o.Total || len(got.Payment.Methods) != 2 {
		t.Errorf("GET differs: %+v", got)
	}

	// The lines are a snapshot: changing the product changes nothing in the order.
	execSQL(t, env, `UPDATE catalog.products SET price_minor = 9999, name = name || ' (new)', shipping_weight_grams = 900 WHERE id = $1`, s.tea.ID)
	got = getOrder(t, c, ident, o.ID)
	if got.Items[0].UnitPrice != (money{"12.50", "GBP"}) || got.Items[0].Name != s.tea.Name || got.Subtotal != o.Subtotal || got.Total != o.Total {
		t.Errorf("the order follows the product: %+v", got.Items[0])
	}

	// Stock is reserved.
	if _, reserved := stock(t, env, s.tea.ID); reserved != 2 {
		t.Errorf("tea reserved %d, want 2", reserved)
	}
	if got := available(t, c, s.cup.ID); got != 9 {
		t.Errorf("cup availableQuantity %v, want 9", got)
	}

	// The QR code draws the BIP21 URI, exactly.
	qr, qrBody := c.Do(http.MethodGet, "/api/v1/orders/"+o.ID+"/payment/qr.png", nil, orderHeaders(ident, ""))
	if qr.StatusCode != http.StatusOK || qr.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr: %d %s", qr.StatusCode, qr.Header.Get("Content-Type"))
	}
	if !bytes.HasPrefix(qrBody, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatal("qr: not a PNG")
	}
	img, err := png.Decode(bytes.NewReader(qrBody))
	if err != nil || img.Bounds().Dx() != 320 || img.Bounds().Dy() != 320 {
		t.Fatalf("qr: %v %v", err, img)
	}
	wantQR, err := qrcode.Encode(chain.PaymentURI, qrcode.Medium, 320)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(qrBody, wantQR) {
		t.Errorf("the QR code does not encode %q", chain.PaymentURI)
	}
}

func TestListOrders(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	key := env.NewAPIKey(t, "list-"+s.tag)
	c := env.API(t, key).Strict()
	ident := "list-" + s.tag

	if pg := listOrders(t, c, ident, ""); len(pg.Data) != 0 || pg.NextCursor != nil {
		t.Fatalf("a new identity has orders: %+v", pg)
	}
	var placed []string
	for range 5 {
		placed = append(placed, placeOK(t, c, ident, s.body(it(s.free, 1))).ID)
	}
	slices.Reverse(placed) // newest first
	if got := orderIDs(listOrders(t, c, ident, "").Data); !slices.Equal(got, placed) {
		t.Errorf("list %v, want newest first %v", got, placed)
	}
	pg := listOrders(t, c, ident, "?limit=2")
	if len(pg.Data) != 2 || pg.NextCursor == nil {
		t.Fatalf("limit=2: %d orders, cursor %v", len(pg.Data), pg.NextCursor)
	}
	if got := orderIDs(allOrders(t, c, ident, "?limit=2")); !slices.Equal(got, placed) {
		t.Errorf("paged %v, want %v", got, placed)
	}
	if got := orderIDs(allOrders(t, c, ident, "?limit=1")); !slices.Equal(got, placed) {
		t.Errorf("paged by one %v, want %v", got, placed)
	}

	// status filter
	resp, body := cancel(t, c, ident, placed[1], nil)
	decodeOrder(t, resp, body, http.StatusOK)
	if got := orderIDs(allOrders(t, c, ident, "?status=cancelled")); !slices.Equal(got, []string{placed[1]}) {
		t.Errorf("cancelled %v", got)
	}
	want := slices.Delete(slices.Clone(placed), 1, 2)
	if got := orderIDs(allOrders(t, c, ident, "?status=pending_payment&limit=3")); !slices.Equal(got, want) {
		t.Errorf("pending_payment %v, want %v", got, want)
	}
	if got := allOrders(t, c, ident, "?status=shipped"); len(got) != 0 {
		t.Errorf("shipped %v", orderIDs(got))
	}
	loose := env.API(t, key) // the requests below are invalid on purpose
	for _, q := range []struct{ query, field string }{
		{"?status=bogus", "status"}, {"?status=PENDING_PAYMENT", "status"}, {"?limit=0", "limit"}, {"?limit=101", "limit"},
		{"?limit=x", "limit"}, {"?cursor=" + strings.Repeat("A", 20), "cursor"}, {"?cursor=%00", "cursor"},
	} {
		resp, body := loose.Do(http.MethodGet, "/api/v1/orders"+q.query, nil, orderHeaders(ident, ""))
		wantProblem(t, resp, body, http.StatusUnprocessableEntity, q.field)
	}
}

func TestShippingMethods(t *testing.T) {
	env := apptest.Start(t)
	tg := tag(t)
	active := newMethod(t, env, tg+" active", "4.10", "2000", true)
	inactive := newMethod(t, env, tg+" inactive", "1.00", "2000", false)
	c := env.API(t, env.NewAPIKey(t, "ship-"+tg)).Strict()
	var pg page[struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		Price          money  `json:"price"`
		Service        string `json:"service"`
		PackageFormat  string `json:"packageFormat"`
		MaxWeightGrams int    `json:"maxWeightGrams"`
		Express        bool   `json:"express"`
	}]
	c.JSON("/api/v1/shipping-methods", http.StatusOK, &pg)
	found := false
	for _, m := range pg.Data {
		if m.ID == inactive.ID.String() {
			t.Errorf("an inactive method is listed")
		}
		if m.ID == active.ID.String() {
			found = true
			if m.Name != active.Name || m.Price != (money{"4.10", "GBP"}) || m.Service != "CRL1" || m.PackageFormat != "smallParcel" || m.MaxWeightGrams != 2000 {
				t.Errorf("method %+v", m)
			}
		}
	}
	if !found || pg.NextCursor != nil {
		t.Errorf("active method listed %v, cursor %v", found, pg.NextCursor)
	}
	resp, body := env.API(t, "").Get("/api/v1/shipping-methods")
	wantProblem(t, resp, body, http.StatusUnauthorized, "")
}

// ---- idempotency ----

func TestIdempotencyKey(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	apiKey := env.NewAPIKey(t, "idem-"+s.tag)
	c := env.API(t, apiKey).Strict()
	loose := env.API(t, apiKey)
	other := env.API(t, env.NewAPIKey(t, "idem2-"+s.tag)).Strict()
	ident := "idem-" + s.tag
	key := "key-" + s.tag
	b := mustJSON(t, s.body(it(s.tea, 3)))

	first := placeKeyOK(t, c, ident, key, b)
	before := snapshot(t, env)
	resp, body := place(t, c, ident, key, b)
	again := decodeOrder(t, resp, body, http.StatusCreated)
	if again.ID != first.ID || again.Number != first.Number || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: id %s (first %s), Idempotent-Replayed %q", again.ID, first.ID, resp.Header.Get("Idempotent-Replayed"))
	}
	if loc := resp.Header.Get("Location"); loc != "/api/v1/orders/"+first.ID {
		t.Errorf("replay Location %q", loc)
	}
	if after := snapshot(t, env); after != before {
		t.Errorf("a replay changed state: %+v → %+v", before, after)
	}
	if _, reserved := stock(t, env, s.tea.ID); reserved != 3 {
		t.Errorf("reserved %d after a replay, want 3", reserved)
	}

	// Same key, another (valid) body: 422 naming the header, nothing placed.
	resp, body = place(t, c, ident, key, mustJSON(t, s.body(it(s.tea, 4))))
	wantProblem(t, resp, body, http.StatusUnprocessableEntity, "Idempotency-Key")
	// Same key and body for another customer of the same app: not a replay of the
	// first customer's order.
	resp, body = place(t, c, ident+"-other", key, b)
	wantProblem(t, resp, body, http.StatusUnprocessableEntity, "Idempotency-Key")
	if strings.Contains(string(body), first.ID) {
		t.Errorf("the problem leaks the order: %s", body)
	}
	if after := snapshot(t, env); after != before {
		t.Errorf("a refused key changed state: %+v → %+v", before, after)
	}

	// Missing or malformed key.
	for _, k := range []string{"", strings.Repeat("k", 256), "with space", "naïve"} {
		resp, body = loose.Do(http.MethodPost, "/api/v1/orders", b, orderHeaders(ident, k))
		wantProblem(t, resp, body, http.StatusUnprocessableEntity, "Idempotency-Key")
	}

	// Another client app's key space is its own.
	resp, body = place(t, other, ident, key, b)
	theirs := decodeOrder(t, resp, body, http.StatusCreated)
	if theirs.ID == first.ID || resp.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("another app's key replays: %s", theirs.ID)
	}
	if _, reserved := stock(t, env, s.tea.ID); reserved != 6 {
		t.Errorf("reserved %d, want 6", reserved)
	}

	// The same request sent many times at once places one order.
	k3 := "burst-" + s.tag
	burst := mustJSON(t, s.body(it(s.cup, 2)))
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Go(func() {
			resp, body := place(t, c, ident, k3, burst)
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("burst %d: status %d: %s", i, resp.StatusCode, body)
				return
			}
			var o order
			_ = json.Unmarshal(body, &o)
			got[i] = o.ID
		})
	}
	wg.Wait()
	if distinct := slices.Compact(slices.Clone(got)); len(distinct) != 1 || distinct[0] == "" {
		t.Errorf("one key placed %d orders: %v", len(distinct), distinct)
	}
	if _, reserved := stock(t, env, s.cup.ID); reserved != 2 {
		t.Errorf("cup reserved %d after a burst of one key, want 2", reserved)
	}

	// A failed placement does not burn the key: after a 409, the same key places.
	k2 := "retry-" + s.tag
	big := mustJSON(t, s.body(it(s.tea, 5)))
	resp, body = place(t, c, ident, k2, big)
	wantProblem(t, resp, body, http.StatusConflict, "")
	execSQL(t, env, `UPDATE catalog.products SET stock_on_hand = 20 WHERE id = $1`, s.tea.ID)
	placeKeyOK(t, c, ident, k2, big)
}

// ---- identity isolation ----

func TestIdentityIsolation(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	key := env.NewAPIKey(t, "iso-"+s.tag)
	c := env.API(t, key).Strict()
	loose := env.API(t, key)
	other := env.API(t, env.NewAPIKey(t, "iso2-"+s.tag))
	ident := "alice-" + s.tag
	o := placeOK(t, c, ident, s.body(it(s.tea, 1)))
	placeOK(t, other, ident, s.body(it(s.free, 1))) // the other app's customer of the same reference

	strangers := []struct {
		name     string
		c        *apptest.APIClient
		identity string
	}{
		{"another identity", c, "bob-" + s.tag},
		{"another identity differing in case", c, strings.ToUpper(ident)},
		{"another app, same identity", other, ident},
	}
	for _, st := range strangers {
		h := orderHeaders(st.identity, "")
		for _, req := range []struct {
			method, path string
			body         []byte
		}{
			{http.MethodGet, "/api/v1/orders/" + o.ID, nil},
			{http.MethodPost, "/api/v1/orders/" + o.ID + "/cancel", nil},
			{http.MethodGet, "/api/v1/orders/" + o.ID + "/messages", nil},
			{http.MethodPost, "/api/v1/orders/" + o.ID + "/messages", []byte(`{"body":"hello"}`)},
			{http.MethodGet, "/api/v1/orders/" + o.ID + "/payment/qr.png", nil},
		} {
			resp, body := st.c.Do(req.method, req.path, req.body, h)
			wantProblem(t, resp, body, http.StatusNotFound, "")
			if strings.Contains(string(body), o.Number) {
				t.Errorf("%s: %s %s leaks the order number", st.name, req.method, req.path)
			}
		}
		if got := orderIDs(allOrders(t, st.c, st.identity, "")); slices.Contains(got, o.ID) {
			t.Errorf("%s lists the order", st.name)
		}
	}
	// The owner still sees it as it was.
	if got := getOrder(t, c, ident, o.ID); got.Status != "pending_payment" {
		t.Errorf("status %s after strangers' attempts", got.Status)
	}
	if ms := staffMessages(t, env, o.ID); len(ms) != 0 {
		t.Errorf("strangers left messages: %v", ms)
	}

	// X-Identity-Reference is required on every order endpoint, 1 to 128 characters.
	for _, ref := range []string{"", strings.Repeat("x", 129)} {
		for _, req := range []struct{ method, path string }{
			{http.MethodGet, "/api/v1/orders"}, {http.MethodPost, "/api/v1/orders"}, {http.MethodGet, "/api/v1/orders/" + o.ID},
			{http.MethodPost, "/api/v1/orders/" + o.ID + "/cancel"}, {http.MethodGet, "/api/v1/orders/" + o.ID + "/messages"},
			{http.MethodGet, "/api/v1/orders/" + o.ID + "/payment/qr.png"},
		} {
			resp, body := loose.Do(req.method, req.path, nil, orderHeaders(ref, uuid.NewString()))
			wantProblem(t, resp, body, http.StatusUnprocessableEntity, "X-Identity-Reference")
		}
	}
	// 128 characters are fine.
	long := strings.Repeat("y", 128)
	placeOK(t, c, long, s.body(it(s.free, 1)))
	if got := allOrders(t, c, long, ""); len(got) != 1 {
		t.Errorf("128-character identity: %d orders", len(got))
	}
	// An unknown id and a malformed one are 404 too.
	for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
		resp, body := loose.Do(http.MethodGet, "/api/v1/orders/"+id, nil, orderHeaders(ident, ""))
		wantProblem(t, resp, body, http.StatusNotFound, "")
	}
	// Order endpoints need the key first.
	resp, body := env.API(t, "").Do(http.MethodGet, "/api/v1/orders/"+o.ID, nil, orderHeaders(ident, ""))
	wantProblem(t, resp, body, http.StatusUnauthorized, "")
}

func staffMessages(t *testing.T, env *apptest.Env, id string) []ordering.Message {
	t.Helper()
	ms, err := env.App.Orders.Messages(context.Background(), uuid.MustParse(id))
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// ---- stock ----

func TestStock(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	c := env.API(t, env.NewAPIKey(t, "stock-"+s.tag)).Strict()
	ident := "stock-" + s.tag

	before := snapshot(t, env)
	resp, body := place(t, c, ident, uuid.NewString(), mustJSON(t, s.body(it(s.cup, 1), it(s.tea, 11))))
	wantProblem(t, resp, body, http.StatusConflict, "")
	if after := snapshot(t, env); after != before {
		t.Errorf("a 409 changed state: %+v → %+v", before, after)
	}
	// Lines of one product add up.
	resp, body = place(t, c, ident, uuid.NewString(), mustJSON(t, s.body(it(s.tea, 6), it(s.tea, 5))))
	wantProblem(t, resp, body, http.StatusConflict, "")
	o := placeOK(t, c, ident, s.body(it(s.tea, 6), it(s.tea, 4)))
	if len(o.Items) != 1 || o.Items[0].Quantity != 10 || o.Total != (money{"128.20", "GBP"}) {
		t.Errorf("merged lines: %+v total %+v", o.Items, o.Total)
	}
	if got := available(t, c, s.tea.ID); got != 0 {
		t.Errorf("availableQuantity %v, want 0", got)
	}
	resp, body = place(t, c, ident, uuid.NewString(), mustJSON(t, s.body(it(s.tea, 1))))
	wantProblem(t, resp, body, http.StatusConflict, "")
	cancelOK(t, c, ident, o.ID, nil)
	if got := available(t, c, s.tea.ID); got != 10 {
		t.Errorf("availableQuantity %v after cancelling, want 10", got)
	}

	// An untracked product can always be bought.
	for range 3 {
		placeOK(t, c, ident, s.body(it(s.free, 999)))
	}
	if onHand, reserved := stock(t, env, s.free.ID); onHand != 0 || reserved != 0 {
		t.Errorf("untracked product: on hand %d reserved %d", onHand, reserved)
	}
	if got := available(t, c, s.free.ID); got != nil {
		t.Errorf("untracked availableQuantity %v", got)
	}
}

// TestConcurrentLastUnits: 200 customers race for the last 10 units.
func TestConcurrentLastUnits(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	c := env.API(t, env.NewAPIKey(t, "race-"+s.tag))
	const buyers = 200
	b := mustJSON(t, s.body(it(s.tea, 1)))

	type result struct {
		status int
		id     string
		ident  string
	}
	results := make([]result, buyers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range buyers {
		wg.Go(func() {
			<-start
			ident := fmt.Sprintf("buyer-%d-%s", i, s.tag)
			resp, body := place(t, c, ident, uuid.NewString(), b)
			r := result{status: resp.StatusCode, ident: ident}
			if resp.StatusCode == http.StatusCreated {
				var o order
				if err := json.Unmarshal(body, &o); err != nil {
					t.Errorf("decode: %v", err)
				}
				r.id = o.ID
			} else if resp.StatusCode != http.StatusConflict {
				t.Errorf("buyer %d: status %d: %s", i, resp.StatusCode, body)
			}
			results[i] = r
		})
	}
	close(start)
	wg.Wait()

	var won []result
	lost := 0
	for _, r := range results {
		switch r.status {
		case http.StatusCreated:
			won = append(won, r)
		case http.StatusConflict:
			lost++
		}
	}
	if len(won) != 10 || lost != buyers-10 {
		t.Fatalf("%d orders placed and %d refused, want 10 and %d", len(won), lost, buyers-10)
	}
	onHand, reserved := stock(t, env, s.tea.ID)
	if onHand != 10 || reserved != 10 {
		t.Errorf("on hand %d reserved %d, want 10 and 10", onHand, reserved)
	}
	var held int
	if err := env.App.DB.GetContext(context.Background(), &held, `SELECT coalesce(sum(quantity), 0) FROM catalog.reservations
		WHERE product_id = $1 AND status = 'held'`, s.tea.ID); err != nil {
		t.Fatal(err)
	}
	if held != 10 {
		t.Errorf("reservations hold %d, want 10", held)
	}
	if got := available(t, c, s.tea.ID); got != 0 {
		t.Errorf("availableQuantity %v, want 0", got)
	}

	// Cancelling every order gives back exactly what was reserved.
	for _, r := range won {
		o := cancelOK(t, c, r.ident, r.id, nil)
		if o.Status != "cancelled" {
			t.Errorf("status %s", o.Status)
		}
	}
	if _, reserved := stock(t, env, s.tea.ID); reserved != 0 {
		t.Errorf("reserved %d after cancelling all, want 0", reserved)
	}
	if got := available(t, c, s.tea.ID); got != 10 {
		t.Errorf("availableQuantity %v after cancelling all, want 10", got)
	}
}

// ---- cancelling ----

func TestCancel(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	c := env.API(t, env.NewAPIKey(t, "cancel-"+s.tag)).Strict()
	ident := "cancel-" + s.tag

	// Before payment: cancelled, stock released, the QR code gone.
	o := placeOK(t, c, ident, s.body(it(s.tea, 4)))
	resp, body := cancel(t, c, ident, o.ID, []byte(`{"reason":"Changed my mind"}`))
	got := decodeOrder(t, resp, body, http.StatusOK)
	if got.Status != "cancelled" || len(got.History) != 2 || got.History[1].Status != "cancelled" {
		t.Errorf("cancelled order: %s %+v", got.Status, got.History)
	}
	if _, reserved := stock(t, env, s.tea.ID); reserved != 0 {
		t.Errorf("reserved %d after cancelling, want 0", reserved)
	}
	if so := staffOrder(t, env, o.ID); so.RefundDue || so.CancelReason != "Changed my mind" {
		t.Errorf("unpaid cancel: refund due %v reason %q", so.RefundDue, so.CancelReason)
	}
	resp, body = c.Do(http.MethodGet, "/api/v1/orders/"+o.ID+"/payment/qr.png", nil, orderHeaders(ident, ""))
	wantProblem(t, resp, body, http.StatusNotFound, "")
	// Again: 409, nothing changes.
	resp, body = cancel(t, c, ident, o.ID, nil)
	wantProblem(t, resp, body, http.StatusConflict, "")
	if got := getOrder(t, c, ident, o.ID); len(got.History) != 2 {
		t.Errorf("history after a second cancel: %+v", got.History)
	}

	// Paid, not picked: cancelled with a refund due, stock released.
	paid := placeOK(t, c, ident, s.body(it(s.tea, 2)))
	transition(t, env, paid.ID, ordering.StatusProcessing)
	got = cancelOK(t, c, ident, paid.ID, []byte(`{}`))
	if got.Status != "cancelled" {
		t.Errorf("paid order: %s", got.Status)
	}
	if !staffOrder(t, env, paid.ID).RefundDue {
		t.Errorf("a paid order cancelled without a refund due")
	}
	if _, reserved := stock(t, env, s.tea.ID); reserved != 0 {
		t.Errorf("reserved %d after cancelling a paid order, want 0", reserved)
	}

	// On hold (a payment exception): cancelled with a refund due.
	held := placeOK(t, c, ident, s.body(it(s.cup, 1)))
	transition(t, env, held.ID, ordering.StatusOnHold)
	cancelOK(t, c, ident, held.ID, nil)
	if !staffOrder(t, env, held.ID).RefundDue {
		t.Errorf("an on-hold order cancelled without a refund due")
	}

	// Picked or later: 409, the stock stays with the order.
	for _, path := range [][]ordering.Status{
		{ordering.StatusProcessing, ordering.StatusPicked},
		{ordering.StatusProcessing, ordering.StatusPicked, ordering.StatusShipped},
		{ordering.StatusProcessing, ordering.StatusPicked, ordering.StatusShipped, ordering.StatusDelivered},
		{ordering.StatusExpired},
	} {
		o := placeOK(t, c, ident, s.body(it(s.tea, 1)))
		for _, st := range path {
			transition(t, env, o.ID, st)
		}
		_, before := stock(t, env, s.tea.ID)
		resp, body := cancel(t, c, ident, o.ID, nil)
		wantProblem(t, resp, body, http.StatusConflict, "")
		if got := getOrder(t, c, ident, o.ID); got.Status != string(path[len(path)-1]) {
			t.Errorf("status %s after a refused cancel, want %s", got.Status, path[len(path)-1])
		}
		if _, after := stock(t, env, s.tea.ID); after != before {
			t.Errorf("%v: reserved %d → %d", path, before, after)
		}
	}
}

// ---- messages ----

func TestMessages(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	c := env.API(t, env.NewAPIKey(t, "msg-"+s.tag)).Strict()
	ident := "msg-" + s.tag
	o := placeOK(t, c, ident, s.body(it(s.cup, 1)))
	path := "/api/v1/orders/" + o.ID + "/messages"

	var empty page[message]
	resp, body := c.Do(http.MethodGet, path, nil, orderHeaders(ident, ""))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &empty) != nil || len(empty.Data) != 0 || empty.NextCursor != nil {
		t.Fatalf("no messages yet: %d %s", resp.StatusCode, body)
	}

	resp, body = c.Do(http.MethodPost, path, []byte(`{"body":"  Where is my parcel? 📦  "}`), orderHeaders(ident, ""))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.From != "customer" || m.Body != "Where is my parcel? 📦" {
		t.Errorf("message %+v", m)
	}

	if _, err := env.App.Orders.ReplyAsStaff(staffCtx(), staffOrder(t, env, o.ID), "It left today."); err != nil {
		t.Fatal(err)
	}
	var pg page[message]
	resp, body = c.Do(http.MethodGet, path, nil, orderHeaders(ident, ""))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &pg) != nil {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	if len(pg.Data) != 2 || pg.Data[0].ID != m.ID || pg.Data[1].From != "staff" || pg.Data[1].Body != "It left today." {
		t.Errorf("conversation %+v", pg.Data)
	}
	if strings.Contains(string(body), "test") { // the staff user's name stays inside
		t.Errorf("the conversation names the staff user: %s", body)
	}
	// 4000 characters are fine.
	resp, body = c.Do(http.MethodPost, path, mustJSON(t, map[string]string{"body": strings.Repeat("é", 4000)}), orderHeaders(ident, ""))
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("4000 characters: %d %s", resp.StatusCode, body)
	}
}

// ---- shipping ----

func TestShippingRules(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	c := env.API(t, env.NewAPIKey(t, "shiprule-"+s.tag)).Strict()
	ident := "ship-" + s.tag
	inactive := newMethod(t, env, s.tag+" inactive", "1.00", "30000", false)
	light := newMethod(t, env, s.tag+" letter", "0.85", "500", true)

	before := snapshot(t, env)
	for _, m := range []string{inactive.ID.String(), uuid.NewString()} {
		b := s.body(it(s.tea, 1))
		b.ShippingMethodID = m
		resp, body := place(t, c, ident, uuid.NewString(), mustJSON(t, b))
		wantProblem(t, resp, body, http.StatusUnprocessableEntity, "shippingMethodId")
	}
	// 3 × 250 g is over the letter's 500 g.
	b := s.body(it(s.tea, 3))
	b.ShippingMethodID = light.ID.String()
	resp, body := place(t, c, ident, uuid.NewString(), mustJSON(t, b))
	wantProblem(t, resp, body, http.StatusUnprocessableEntity, "shippingMethodId")
	if after := snapshot(t, env); after != before {
		t.Errorf("refused orders changed state: %+v → %+v", before, after)
	}
	// 2 × 250 g is exactly the limit.
	b.Items = []item{it(s.tea, 2)}
	o := placeOK(t, c, ident, b)
	if o.Shipping != (money{"0.85", "GBP"}) || o.Total != (money{"25.85", "GBP"}) {
		t.Errorf("letter order: shipping %+v total %+v", o.Shipping, o.Total)
	}
}

// ---- what the API accepts that looks odd ----

// welshCity has a soft hyphen and the flag of Wales (a tag sequence): format
// characters, which are not control characters.
const welshCity = "Llanfair\u00adpwll \U0001F3F4\U000E0067\U000E0062\U000E0077\U000E006C\U000E0073\U000E007F"

func TestPlaceOrderOddButValid(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	c := env.API(t, env.NewAPIKey(t, "odd-"+s.tag))
	ident := "odd-" + s.tag

	cases := []struct {
		name string
		edit func(a *address)
		want func(a address) bool
	}{
		{"lower-case country and postcode", func(a *address) { a.CountryCode, a.Postcode = "gb", "sw1a2aa" },
			func(a address) bool { return a.CountryCode == "GB" && a.Postcode == "SW1A 2AA" }},
		{"SQL-looking name", func(a *address) { a.Name = "'; DROP TABLE ordering.orders; --" },
			func(a address) bool { return a.Name == "'; DROP TABLE ordering.orders; --" }},
		{"emoji and accents", func(a *address) { a.Name, a.City = "Zoë 🚀 O'Brien", welshCity },
			func(a address) bool {
				return a.Name == "Zoë 🚀 O'Brien" && a.City == welshCity
			}},
		{"HTML", func(a *address) { a.Line1 = `<script>alert("x")</script>` },
			func(a address) bool { return a.Line1 == `<script>alert("x")</script>` }},
		{"spaces and tabs", func(a *address) { a.Name = "  Ada \t  Lovelace  " },
			func(a address) bool { return a.Name == "Ada Lovelace" }},
		{"210-character name", func(a *address) { a.Name = strings.Repeat("ä", 210) },
			func(a address) bool { return a.Name == strings.Repeat("ä", 210) }},
		{"GIR 0AA and no phone", func(a *address) { a.Postcode, a.Phone = "GIR0AA", "" },
			func(a address) bool { return a.Postcode == "GIR 0AA" && a.Phone == "" }},
	}
	for _, tc := range cases {
		b := s.body(it(s.free, 1))
		tc.edit(&b.ShippingAddress)
		o := placeOK(t, c, ident, b)
		got := getOrder(t, c, ident, o.ID)
		if !tc.want(o.ShippingAddress) || !tc.want(got.ShippingAddress) {
			t.Errorf("%s: address %+v", tc.name, got.ShippingAddress)
		}
	}
	b := s.body(it(s.free, 1))
	b.Note = "1000 characters: " + strings.Repeat("n", 983)
	if o := placeOK(t, c, ident, b); o.Note != b.Note {
		t.Errorf("note %q", o.Note)
	}
	if got := allOrders(t, c, ident, ""); len(got) != len(cases)+1 {
		t.Errorf("%d orders, want %d", len(got), len(cases)+1)
	}
}

// ---- malformed requests ----

func TestMalformedRequests(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	key := env.NewAPIKey(t, "bad-"+s.tag)
	c := env.API(t, key)
	ident := "bad-" + s.tag
	// An order of this identity for the message and cancel endpoints.
	existing := placeOK(t, c, ident, s.body(it(s.cup, 1)))

	inactive := newProduct(t, env, productIn(s.tag+" inactive", s.cat))
	setStatus(t, env, inactive.ID, catalog.StatusInactive)
	archived := newProduct(t, env, productIn(s.tag+" archived", s.cat))
	setStatus(t, env, archived.ID, catalog.StatusArchived)
	hiddenCat := newCategory(t, env, s.tag+" hidden", nil, 0, false)
	hidden := newProduct(t, env, productIn(s.tag+" hidden", hiddenCat))
	offMethod := newMethod(t, env, s.tag+" off", "1.00", "30000", false)
	tiny := newMethod(t, env, s.tag+" tiny", "1.00", "100", true)

	good := s.body(it(s.tea, 1))
	js := func(v any) string { return string(mustJSON(t, v)) }
	// with returns the good body with one change made on its generic form.
	with := func(edit func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(mustJSON(t, good), &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		return js(m)
	}
	addr := func(k string, v any) string {
		return with(func(m map[string]any) { m["shippingAddress"].(map[string]any)[k] = v })
	}
	items := func(xs ...item) string { return with(func(m map[string]any) { m["items"] = xs }) }
	fifty1 := make([]item, 51)
	for i := range fifty1 {
		fifty1[i] = it(s.free, 1)
	}

	const orders = "/api/v1/orders"
	msgs := "/api/v1/orders/" + existing.ID + "/messages"
	cancelPath := "/api/v1/orders/" + existing.ID + "/cancel"
	cases := []struct {
		name   string
		method string
		path   string
		header http.Header // replaces the default (identity, fresh key, bearer key)
		body   string
		status int
		field  string
	}{
		{"no API key", "POST", orders, http.Header{"Authorization": {""}}, js(good), 401, ""},
		{"unknown API key", "POST", orders, http.Header{"Authorization": {"Bearer od_nope"}}, js(good), 401, ""},
		{"no identity", "POST", orders, http.Header{"X-Identity-Reference": {""}}, js(good), 422, "X-Identity-Reference"},
		{"identity of 129 characters", "POST", orders, http.Header{"X-Identity-Reference": {strings.Repeat("i", 129)}}, js(good), 422, "X-Identity-Reference"},
		{"no Idempotency-Key", "POST", orders, http.Header{"Idempotency-Key": {""}}, js(good), 422, "Idempotency-Key"},
		{"unknown top-level field", "POST", orders, nil, with(func(m map[string]any) { m["coupon"] = "FREE" }), 422, "coupon"},
		{"unknown address field", "POST", orders, nil, addr("street", "x"), 422, "shippingAddress.street"},
		{"unknown item field", "POST", orders, nil, with(func(m map[string]any) { m["items"].([]any)[0].(map[string]any)["price"] = "0.01" }), 422, "items[0].price"},
		{"field name in another case", "POST", orders, nil, `{"Items":[],"shippingMethodId":"x"}`, 422, "Items"},
		{"items not an array", "POST", orders, nil, with(func(m map[string]any) { m["items"] = map[string]any{"productId": s.tea.ID} }), 422, "items"},
		{"quantity a string", "POST", orders, nil, with(func(m map[string]any) { m["items"].([]any)[0].(map[string]any)["quantity"] = "1" }), 422, "items[0].quantity"},
		{"quantity a fraction", "POST", orders, nil, strings.Replace(js(good), `"quantity":1`, `"quantity":1.5`, 1), 422, "items[0].quantity"},
		{"quantity 1e0", "POST", orders, nil, strings.Replace(js(good), `"quantity":1`, `"quantity":1e0`, 1), 422, "items[0].quantity"},
		{"quantity beyond int64", "POST", orders, nil, strings.Replace(js(good), `"quantity":1`, `"quantity":123456789012345678901234567890`, 1), 422, "items[0].quantity"},
		{"productId a number", "POST", orders, nil, with(func(m map[string]any) { m["items"].([]any)[0].(map[string]any)["productId"] = 42 }), 422, "items[0].productId"},
		{"note a number", "POST", orders, nil, with(func(m map[string]any) { m["note"] = 7 }), 422, "note"},
		{"address a string", "POST", orders, nil, with(func(m map[string]any) { m["shippingAddress"] = "10 Downing St" }), 422, "shippingAddress"},
		{"name a boolean", "POST", orders, nil, addr("name", true), 422, "shippingAddress.name"},
		{"quantity 0", "POST", orders, nil, items(it(s.tea, 0)), 422, "items[0].quantity"},
		{"quantity 1000", "POST", orders, nil, items(it(s.tea, 1000)), 422, "items[0].quantity"},
		{"quantity -1", "POST", orders, nil, items(it(s.tea, -1)), 422, "items[0].quantity"},
		{"no items", "POST", orders, nil, items(), 422, "items"},
		{"51 items", "POST", orders, nil, items(fifty1...), 422, "items"},
		{"one product over 999 in two lines", "POST", orders, nil, items(it(s.free, 500), it(s.free, 500)), 422, "items[1].quantity"},
		{"productId not a UUID", "POST", orders, nil, items(item{"tea", 1}), 422, "items[0].productId"},
		{"productId a UUID with garbage", "POST", orders, nil, items(item{s.tea.ID.String() + "x", 1}), 422, "items[0].productId"},
		{"shippingMethodId not a UUID", "POST", orders, nil, with(func(m map[string]any) { m["shippingMethodId"] = "1st" }), 422, "shippingMethodId"},
		{"empty body", "POST", orders, nil, "", 422, "body"},
		{"null", "POST", orders, nil, "null", 422, "items"},
		{"an array", "POST", orders, nil, "[]", 422, "body"},
		{"a string", "POST", orders, nil, `"order"`, 422, "body"},
		{"invalid JSON", "POST", orders, nil, `{"items": [`, 422, "body"},
		{"single quotes", "POST", orders, nil, `{'items': []}`, 422, "body"},
		{"trailing garbage", "POST", orders, nil, js(good) + "garbage", 422, "body"},
		{"two JSON values", "POST", orders, nil, js(good) + js(good), 422, "body"},
		{"body over 64 KB", "POST", orders, nil, with(func(m map[string]any) { m["note"] = strings.Repeat(" ", 70<<10) + "x" }), 422, "body"},
		{"name of 211", "POST", orders, nil, addr("name", strings.Repeat("n", 211)), 422, "shippingAddress.name"},
		{"line1 of 101", "POST", orders, nil, addr("line1", strings.Repeat("l", 101)), 422, "shippingAddress.line1"},
		{"line2 of 101", "POST", orders, nil, addr("line2", strings.Repeat("l", 101)), 422, "shippingAddress.line2"},
		{"city of 101", "POST", orders, nil, addr("city", strings.Repeat("c", 101)), 422, "shippingAddress.city"},
		{"county of 101", "POST", orders, nil, addr("county", strings.Repeat("c", 101)), 422, "shippingAddress.county"},
		{"postcode of 21", "POST", orders, nil, addr("postcode", "SW1A 2AA"+strings.Repeat("A", 13)), 422, "shippingAddress.postcode"},
		{"no name", "POST", orders, nil, addr("name", "   "), 422, "shippingAddress.name"},
		{"no address", "POST", orders, nil, with(func(m map[string]any) { delete(m, "shippingAddress") }), 422, "shippingAddress.name"},
		{"country FR", "POST", orders, nil, addr("countryCode", "FR"), 422, "shippingAddress.countryCode"},
		{"country GBR", "POST", orders, nil, addr("countryCode", "GBR"), 422, "shippingAddress.countryCode"},
		{"postcode 12345", "POST", orders, nil, addr("postcode", "12345"), 422, "shippingAddress.postcode"},
		{"postcode SW1A", "POST", orders, nil, addr("postcode", "SW1A"), 422, "shippingAddress.postcode"},
		{"postcode ZZ99 9ZZ", "POST", orders, nil, addr("postcode", "ZZ99 9ZZ"), 422, "shippingAddress.postcode"},
		{"postcode with a NUL", "POST", orders, nil, addr("postcode", "SW1A\x002AA"), 422, "shippingAddress.postcode"},
		{"phone with letters", "POST", orders, nil, addr("phone", "call me maybe"), 422, "shippingAddress.phone"},
		{"phone too short", "POST", orders, nil, addr("phone", "123"), 422, "shippingAddress.phone"},
		{"phone of 26", "POST", orders, nil, addr("phone", strings.Repeat("1", 26)), 422, "shippingAddress.phone"},
		{"note of 1001", "POST", orders, nil, with(func(m map[string]any) { m["note"] = strings.Repeat("n", 1001) }), 422, "note"},
		{"NUL in name", "POST", orders, nil, addr("name", "Ada\x00Lovelace"), 422, "shippingAddress.name"},
		{"NUL in note", "POST", orders, nil, with(func(m map[string]any) { m["note"] = "a\x00b" }), 422, "note"},
		{"bell in name", "POST", orders, nil, addr("name", "Ada\aLovelace"), 422, "shippingAddress.name"},
		{"escape in line1", "POST", orders, nil, addr("line1", "10\x1b[31m Downing"), 422, "shippingAddress.line1"},
		{"inactive product", "POST", orders, nil, items(it(inactive, 1)), 422, "items[0].productId"},
		{"archived product", "POST", orders, nil, items(it(archived, 1)), 422, "items[0].productId"},
		{"product in a hidden category", "POST", orders, nil, items(it(hidden, 1)), 422, "items[0].productId"},
		{"unknown product", "POST", orders, nil, items(item{uuid.NewString(), 1}), 422, "items[0].productId"},
		{"unknown product after a good one", "POST", orders, nil, items(it(s.tea, 1), item{uuid.NewString(), 1}), 422, "items[1].productId"},
		{"inactive shipping method", "POST", orders, nil, with(func(m map[string]any) { m["shippingMethodId"] = offMethod.ID }), 422, "shippingMethodId"},
		{"unknown shipping method", "POST", orders, nil, with(func(m map[string]any) { m["shippingMethodId"] = uuid.New() }), 422, "shippingMethodId"},
		{"too heavy for the method", "POST", orders, nil, with(func(m map[string]any) { m["shippingMethodId"] = tiny.ID }), 422, "shippingMethodId"},
		{"not enough stock", "POST", orders, nil, items(it(s.tea, 11)), 409, ""},
		{"message: empty body", "POST", msgs, nil, "", 422, "body"},
		{"message: no body field", "POST", msgs, nil, `{}`, 422, "body"},
		{"message: blank", "POST", msgs, nil, `{"body":"   "}`, 422, "body"},
		{"message: unknown field", "POST", msgs, nil, `{"body":"hi","subject":"x"}`, 422, "subject"},
		{"message: body a number", "POST", msgs, nil, `{"body":1}`, 422, "body"},
		{"message: 4001 characters", "POST", msgs, nil, js(map[string]string{"body": strings.Repeat("m", 4001)}), 422, "body"},
		{"message: NUL", "POST", msgs, nil, `{"body":"a\u0000b"}`, 422, "body"},
		{"cancel: unknown field", "POST", cancelPath, nil, `{"why":"x"}`, 422, "why"},
		{"cancel: reason a number", "POST", cancelPath, nil, `{"reason":1}`, 422, "reason"},
		{"cancel: reason of 501", "POST", cancelPath, nil, js(map[string]string{"reason": strings.Repeat("r", 501)}), 422, "reason"},
		{"cancel: NUL in reason", "POST", cancelPath, nil, `{"reason":"a\u0000b"}`, 422, "reason"},
		{"cancel: invalid JSON", "POST", cancelPath, nil, `{"reason":`, 422, "body"},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}

	before := snapshot(t, env)
	_, teaReserved := stock(t, env, s.tea.ID)
	for _, tc := range cases {
		h := http.Header{"X-Identity-Reference": {ident}, "Idempotency-Key": {uuid.NewString()}}
		for k, v := range tc.header {
			h[k] = v
		}
		resp, body := c.Do(tc.method, tc.path, []byte(tc.body), h)
		if resp.StatusCode >= 500 || resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, resp.StatusCode, tc.status, clipS(body))
			continue
		}
		p := wantProblem(t, resp, body, tc.status, tc.field)
		if tc.field != "" && len(p.Errors) == 0 {
			t.Errorf("%s: no field errors", tc.name)
		}
	}
	if after := snapshot(t, env); after != before {
		t.Errorf("malformed requests changed state: %+v → %+v", before, after)
	}
	if _, after := stock(t, env, s.tea.ID); after != teaReserved {
		t.Errorf("tea reserved %d → %d", teaReserved, after)
	}

	// The API still works, and lists what the database holds.
	got := allOrders(t, c, ident, "")
	var n int
	if err := env.App.DB.GetContext(context.Background(), &n, `SELECT count(*) FROM ordering.orders WHERE identity_ref = $1`, ident); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || n != 1 || got[0].ID != existing.ID || got[0].Status != "pending_payment" {
		t.Errorf("after the malformed requests: %d listed, %d in the database", len(got), n)
	}
	placeOK(t, c, ident, good)
}

func clipS(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// TestListedOrdersMatchSingleReads checks that a page of orders, whose lines, history
// and invoices are loaded for the whole page at once, gives each order exactly what
// reading it alone gives.
func TestListedOrdersMatchSingleReads(t *testing.T) {
	env := apptest.Start(t)
	s := newShop(t, env)
	c := env.API(t, env.NewAPIKey(t, "page-"+s.tag))
	ident := "page-" + s.tag
	a := placeOK(t, c, ident, s.body(it(s.tea, 1)))
	placeOK(t, c, ident, s.body(it(s.cup, 3), it(s.free, 2)))
	placeOK(t, c, ident, s.body(it(s.free, 5)))
	cancelOK(t, c, ident, a.ID, nil) // a second history entry for one of them
	listed := listOrders(t, c, ident, "").Data
	if len(listed) != 3 {
		t.Fatalf("%d orders listed", len(listed))
	}
	for _, o := range listed {
		if alone := getOrder(t, c, ident, o.ID); !reflect.DeepEqual(o, alone) {
			t.Errorf("order %s listed as\n%+v\nread alone as\n%+v", o.Number, o, alone)
		}
	}
}
