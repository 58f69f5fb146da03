package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	qrcode "github.com/skip2/go-qrcode"

	"orderdesk/modules/catalog"
	"orderdesk/modules/clients"
	"orderdesk/modules/fulfilment"
	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
	"orderdesk/ports"
)

// maxBody is the largest order or message body the API reads.
const maxBody = 64 << 10

const clientKey = "orderingClient"

// identity requires X-Identity-Reference on order endpoints: the customer the client
// app acts for.
func (h *Handler) identity(c *fiber.Ctx) error {
	ref := c.Get("X-Identity-Reference")
	if err := ordering.ValidateIdentityRef(ref); err != nil {
		return err
	}
	app, _ := c.Locals(appKey).(*clients.App)
	c.Locals(clientKey, ordering.Client{AppID: app.ID, AppName: app.Name, IdentityRef: ref})
	return c.Next()
}

func orderingClient(c *fiber.Ctx) ordering.Client {
	cl, _ := c.Locals(clientKey).(ordering.Client)
	return cl
}

// decodeStrict decodes a JSON body into v, refusing unknown fields, wrong types,
// trailing data and bodies over maxBody, each as a 422 naming the field by its full
// path ("shippingAddress.nmae", "items[2].quantity"). The body is first read into a
// generic tree and checked against v's type: encoding/json alone names only the last
// key of an unknown field, drops array indices from the path of a wrong type, and
// matches keys case-insensitively, so a client's "ProductID" typo would pass.
func decodeStrict(body []byte, v any) error {
	if len(body) > maxBody {
		return invalid("body", fmt.Sprintf("The request body is larger than %d bytes.", maxBody))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return invalid("body", "The body is not valid JSON.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("body", "The body has data after the JSON value.")
	}
	var errs []ports.FieldError
	checkShape(tree, reflect.TypeOf(v), "", &errs)
	if len(errs) > 0 {
		return ports.Invalid(errs...)
	}
	if err := json.Unmarshal(body, v); err != nil {
		// checkShape lets through only what decodes; this is a safety net.
		return invalid("body", "The body does not match the request's schema.")
	}
	return nil
}

// maxShapeErrors bounds the field errors of one body.
const maxShapeErrors = 20

// checkShape compares a decoded JSON value with the Go type it is to be decoded into
// (structs by their json tags, exactly; slices; strings; integers; booleans) and
// appends a field error for each unknown field and wrong type. null is accepted
// everywhere, as encoding/json does (it leaves the zero value for validation).
func checkShape(v any, t reflect.Type, path string, errs *[]ports.FieldError) {
	if v == nil || len(*errs) >= maxShapeErrors {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := path
	if name == "" {
		name = "body"
	}
	wrong := func(want string) {
		*errs = append(*errs, ports.Field(name, fmt.Sprintf("%s must be %s, not %s.", name, want, jsonKind(v))))
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			wrong("an object")
			return
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			ft, ok := fields[k]
			if !ok {
				if len(*errs) < maxShapeErrors {
					*errs = append(*errs, ports.Field(p, fmt.Sprintf("Unknown field %q.", k)))
				}
				continue
			}
			checkShape(m[k], ft, p, errs)
		}
	case reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			wrong("an array")
			return
		}
		for i, x := range a {
			checkShape(x, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			wrong("a string")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			wrong("a whole number")
			return
		}
		if _, err := strconv.ParseInt(n.String(), 10, t.Bits()); err != nil {
			*errs = append(*errs, ports.Field(name, fmt.Sprintf("%s must be a whole number in range, not %s.", name, n)))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			wrong("true or false")
		}
	}
}

// jsonFields maps the JSON names of a struct's exported fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch x := v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "the number " + x.String()
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

// ---- representations

// PaymentMethodJSON is one way to pay.
type PaymentMethodJSON struct {
	Method      string `json:"method"`
	Destination string `json:"destination"`
	PaymentURI  string `json:"paymentUri"`
	Amount      Money  `json:"amount"`
	Rate        Money  `json:"rate"`
	Due         Money  `json:"due"`
}

// PaymentJSON is the payment side of an order.
type PaymentJSON struct {
	Status       string              `json:"status"`
	Amount       Money               `json:"amount"`
	ExpiresAt    *string             `json:"expiresAt"`
	CheckoutLink *string             `json:"checkoutLink"`
	Methods      []PaymentMethodJSON `json:"methods"`
}

// ShipmentJSON is the shipping side of an order.
type ShipmentJSON struct {
	Status         string  `json:"status"`
	Carrier        string  `json:"carrier"`
	Service        string  `json:"service"`
	TrackingNumber *string `json:"trackingNumber"`
	TrackingURL    *string `json:"trackingUrl"`
}

// LineJSON is an order line.
type LineJSON struct {
	ProductID  string  `json:"productId"`
	Name       string  `json:"name"`
	SKU        *string `json:"sku"`
	Quantity   int     `json:"quantity"`
	UnitPrice  Money   `json:"unitPrice"`
	Total      Money   `json:"total"`
	Weight     *string `json:"weight"`
	WeightUnit string  `json:"weightUnit"`
}

// HistoryJSON is a status change.
type HistoryJSON struct {
	Status string `json:"status"`
	At     string `json:"at"`
}

// OrderJSON is an order as its client app sees it.
type OrderJSON struct {
	ID              string           `json:"id"`
	Number          string           `json:"number"`
	Status          string           `json:"status"`
	Items           []LineJSON       `json:"items"`
	Subtotal        Money            `json:"subtotal"`
	Shipping        Money            `json:"shipping"`
	Total           Money            `json:"total"`
	ShippingMethod  map[string]any   `json:"shippingMethod"`
	ShippingAddress ordering.Address `json:"shippingAddress"`
	Note            string           `json:"note"`
	Payment         PaymentJSON      `json:"payment"`
	Shipment        ShipmentJSON     `json:"shipment"`
	History         []HistoryJSON    `json:"history"`
	CreatedAt       string           `json:"createdAt"`
	UpdatedAt       string           `json:"updatedAt"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func btc(sats int64) Money { return Money{Amount: ports.FormatMinor(sats, "BTC"), Currency: "BTC"} }

// orderJSON renders an order with its invoice (inv may be nil only if the order has
// none, which placement never leaves) and its shipment (nil until it is picked).
func (h *Handler) orderJSON(o *ordering.Order, inv *payments.Invoice, sh *fulfilment.Shipment) (*OrderJSON, error) {
	if inv == nil {
		return nil, fmt.Errorf("order %s has no invoice", o.Number)
	}
	addr, err := h.d.Orders.Address(o)
	if err != nil {
		return nil, err
	}
	out := &OrderJSON{
		ID: o.ID.String(), Number: o.Number, Status: string(o.Status), Items: make([]LineJSON, 0, len(o.Lines)),
		Subtotal: gbp(o.SubtotalMinor), Shipping: gbp(o.ShippingMinor), Total: gbp(o.TotalMinor),
		ShippingMethod:  map[string]any{"id": o.ShippingMethodID.String(), "name": o.ShippingName, "service": o.ShippingServiceCode},
		ShippingAddress: *addr, Note: o.Note, History: make([]HistoryJSON, 0, len(o.History)),
		CreatedAt: rfc3339(o.CreatedAt), UpdatedAt: rfc3339(o.UpdatedAt),
		Shipment: h.shipmentJSON(o, sh),
	}
	for _, l := range o.Lines {
		lj := LineJSON{ProductID: l.ProductID.String(), Name: l.Name, SKU: l.SKU, Quantity: l.Quantity,
			UnitPrice: gbp(l.UnitPriceMinor), Total: gbp(l.LineTotalMinor), WeightUnit: l.WeightUnit}
		if l.WeightMilli != nil {
			w := catalog.FormatMilli(*l.WeightMilli)
			lj.Weight = &w
		}
		out.Items = append(out.Items, lj)
	}
	for _, e := range o.History {
		out.History = append(out.History, HistoryJSON{Status: string(e.Status), At: rfc3339(e.At)})
	}
	out.Payment = PaymentJSON{Status: string(inv.Status), Amount: gbp(inv.AmountMinor), Methods: []PaymentMethodJSON{}}
	if inv.ExpiresAt != nil {
		s := rfc3339(*inv.ExpiresAt)
		out.Payment.ExpiresAt = &s
	}
	if inv.CheckoutLink != "" {
		out.Payment.CheckoutLink = &inv.CheckoutLink
	}
	for _, m := range inv.Methods() {
		out.Payment.Methods = append(out.Payment.Methods, PaymentMethodJSON{Method: m.Method, Destination: m.Destination,
			PaymentURI: m.PaymentURI, Amount: btc(m.AmountSats), Rate: gbp(m.RatePence), Due: btc(m.DueSats)})
	}
	return out, nil
}

// shipmentJSON is an order's shipment: pending until the order is picked, then the
// fulfilment module's status, with the tracking number once the carrier gave one.
func (h *Handler) shipmentJSON(o *ordering.Order, sh *fulfilment.Shipment) ShipmentJSON {
	out := ShipmentJSON{Status: "pending", Carrier: fulfilment.Carrier, Service: o.ShippingServiceCode}
	if sh == nil {
		return out
	}
	out.Status, out.Service = sh.PublicStatus(), sh.ServiceCode
	if n := sh.TrackingNumber(); n != "" {
		u := h.d.Fulfilment.TrackingURL(n)
		out.TrackingNumber, out.TrackingURL = &n, &u
	}
	return out
}

func (h *Handler) sendOrder(c *fiber.Ctx, status int, o *ordering.Order) error {
	inv, err := h.d.Payments.ForOrder(c.UserContext(), o.ID)
	if err != nil {
		return err
	}
	shs, err := h.d.Fulfilment.ForOrders(c.UserContext(), []uuid.UUID{o.ID})
	if err != nil {
		return err
	}
	oj, err := h.orderJSON(o, inv, shs[o.ID])
	if err != nil {
		return err
	}
	return c.Status(status).JSON(oj)
}

// ---- handlers

func (h *Handler) listShippingMethods(c *fiber.Ctx) error {
	ms, err := h.d.Orders.ShippingMethods(c.UserContext(), true)
	if err != nil {
		return err
	}
	out := page[map[string]any]{Data: make([]map[string]any, 0, len(ms))}
	for _, m := range ms {
		out.Data = append(out.Data, map[string]any{"id": m.ID.String(), "name": m.Name, "price": gbp(m.PriceMinor),
			"service": m.ServiceCode, "packageFormat": string(m.PackageFormat), "maxWeightGrams": m.MaxWeightGrams, "express": m.Express})
	}
	return c.JSON(out)
}

func (h *Handler) placeOrder(c *fiber.Ctx) error {
	var in ordering.PlaceInput
	body := c.Body()
	if err := decodeStrict(body, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	if !h.admit() {
		c.Set(fiber.HeaderRetryAfter, "1")
		return Problem(c, http.StatusServiceUnavailable, "Too many orders are being placed right now. Try again in a second.", nil)
	}
	defer h.leave()
	o, replayed, err := h.d.Orders.PlaceOrder(ctx, orderingClient(c), c.Get("Idempotency-Key"), body, in)
	if err != nil {
		return err
	}
	c.Location("/api/v1/orders/" + o.ID.String())
	if replayed {
		c.Set("Idempotent-Replayed", "true")
		return h.sendOrder(c, fiber.StatusCreated, o)
	}
	// Ask the gateway now so that the answer normally carries the payment
	// instructions; if it is slow or down, the queued job finishes the work.
	ictx, cancel := context.WithTimeout(ctx, 3*time.Second)
	inv, err := h.d.Payments.CreateInvoiceWhilePlacing(ictx, o.ID)
	cancel()
	if err != nil {
		h.d.Log.Warn("invoice not created while placing the order; the job will retry", "order", o.Number, "err", err)
		if inv, err = h.d.Payments.ForOrder(ctx, o.ID); err != nil {
			return err
		}
	}
	// A new order has no shipment yet.
	oj, err := h.orderJSON(o, inv, nil)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(oj)
}

func (h *Handler) listOrders(c *fiber.Ctx) error {
	limit, cursor, err := listParams(c)
	if err != nil {
		return err
	}
	cl := orderingClient(c)
	f := ordering.ClientFilter{AppID: cl.AppID, IdentityRef: cl.IdentityRef, Limit: limit}
	if s := c.Query("status"); s != "" {
		if !ordering.Status(s).Valid() {
			return invalid("status", "status must be one of pending_payment, processing, picked, shipped, delivered, on_hold, cancelled, expired, refunded.")
		}
		f.Status = ordering.Status(s)
	}
	if cursor != "" {
		t, uid, err := decodeTimeCursor(cursor)
		if err != nil {
			return err
		}
		f.After = &ordering.Cursor{CreatedAt: t, ID: uid}
	}
	os, next, err := h.d.Orders.ClientOrders(c.UserContext(), f)
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, len(os))
	for i := range os {
		ids[i] = os[i].ID
	}
	invoices, err := h.d.Payments.ForOrders(c.UserContext(), ids)
	if err != nil {
		return err
	}
	shipments, err := h.d.Fulfilment.ForOrders(c.UserContext(), ids)
	if err != nil {
		return err
	}
	out := page[*OrderJSON]{Data: make([]*OrderJSON, 0, len(os))}
	for i := range os {
		oj, err := h.orderJSON(&os[i], invoices[os[i].ID], shipments[os[i].ID])
		if err != nil {
			return err
		}
		out.Data = append(out.Data, oj)
	}
	if next != nil {
		s := encodeTimeCursor(next.CreatedAt, next.ID)
		out.NextCursor = &s
	}
	return c.JSON(out)
}

// clientOrder loads the order of the path for the client's customer; anything else is
// a 404, never a 403.
func (h *Handler) clientOrder(c *fiber.Ctx) (*ordering.Order, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return nil, fiber.NewError(fiber.StatusNotFound, "No such order.")
	}
	return h.d.Orders.ForClient(c.UserContext(), orderingClient(c), id)
}

func (h *Handler) getOrder(c *fiber.Ctx) error {
	o, err := h.clientOrder(c)
	if err != nil {
		return err
	}
	return h.sendOrder(c, fiber.StatusOK, o)
}

func (h *Handler) cancelOrder(c *fiber.Ctx) error {
	o, err := h.clientOrder(c)
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if len(bytes.TrimSpace(c.Body())) > 0 {
		if err := decodeStrict(c.Body(), &in); err != nil {
			return err
		}
	}
	o, err = h.d.Orders.Cancel(c.UserContext(), o, in.Reason)
	if err != nil {
		return err
	}
	return h.sendOrder(c, fiber.StatusOK, o)
}

// MessageJSON is a help message.
type MessageJSON struct {
	ID        string `json:"id"`
	From      string `json:"from"`
	Body      string `json:"body"`
	CreatedAt string `json:"createdAt"`
}

func messageJSON(m *ordering.Message) MessageJSON {
	return MessageJSON{ID: m.ID.String(), From: m.AuthorKind, Body: m.Body, CreatedAt: rfc3339(m.CreatedAt)}
}

func (h *Handler) postMessage(c *fiber.Ctx) error {
	o, err := h.clientOrder(c)
	if err != nil {
		return err
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := decodeStrict(c.Body(), &in); err != nil {
		return err
	}
	m, err := h.d.Orders.AddCustomerMessage(c.UserContext(), o, in.Body)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(messageJSON(m))
}

func (h *Handler) listMessages(c *fiber.Ctx) error {
	o, err := h.clientOrder(c)
	if err != nil {
		return err
	}
	ms, err := h.d.Orders.Messages(c.UserContext(), o.ID)
	if err != nil {
		return err
	}
	out := page[MessageJSON]{Data: make([]MessageJSON, 0, len(ms))}
	for i := range ms {
		out.Data = append(out.Data, messageJSON(&ms[i]))
	}
	return c.JSON(out)
}

// paymentQR draws the BIP21 URI of the order's on-chain payment method.
func (h *Handler) paymentQR(c *fiber.Ctx) error {
	o, err := h.clientOrder(c)
	if err != nil {
		return err
	}
	inv, err := h.d.Payments.ForOrder(c.UserContext(), o.ID)
	if err != nil {
		return err
	}
	uri := ""
	for _, m := range inv.Methods() {
		if m.Method == "BTC-CHAIN" {
			uri = m.PaymentURI
		}
	}
	// Only while the order awaits payment: the invoice of a cancelled order stays
	// pending at the gateway, and its QR code must not invite a payment.
	if uri == "" || (inv.Status != payments.StatusPending && inv.Status != payments.StatusPartiallyPaid) ||
		o.Status != ordering.StatusPendingPayment {
		return fiber.NewError(fiber.StatusNotFound, "This order has no payment address to show (yet).")
	}
	png, err := qrcode.Encode(uri, qrcode.Medium, 320)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/png")
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	return c.Status(http.StatusOK).Send(png)
}
