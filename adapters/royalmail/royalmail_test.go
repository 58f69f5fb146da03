package royalmail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"orderdesk/adapters/pdfkit/pdftest"
	"orderdesk/adapters/royalmail"
	"orderdesk/adapters/royalmail/rmtest"
	"orderdesk/ports"
)

var placed = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func shipment(ref string) ports.ShipmentRequest {
	return ports.ShipmentRequest{
		Reference: ref,
		Recipient: ports.Recipient{Name: "Zoë Brontë", Line1: "1 High St", Line2: "Flat 2", City: "Leeds", County: "West Yorkshire",
			Postcode: "LS1 1AA", CountryCode: "gb", Phone: "07700900000"},
		ServiceCode: "TPN24", PackageFormat: "smallParcel", WeightGrams: 450,
		Items: []ports.ShipmentItem{
			{SKU: "W-1", Name: "Widget", Quantity: 2, UnitValuePence: 1250, UnitWeightGrams: 200},
			{Name: "Loose tea", Quantity: 1, UnitValuePence: 5, UnitWeightGrams: 40},
		},
		SubtotalPence: 2505, ShippingPence: 399, TotalPence: 2904, PlacedAt: placed, WantLabel: true,
	}
}

func codeOf(t *testing.T, err error, want ports.ErrorCode) {
	t.Helper()
	if got := ports.ErrorCodeOf(err); got != want {
		t.Fatalf("error code %q, want %q (err: %v)", got, want, err)
	}
}

func TestCreateOrderWithLabel(t *testing.T) {
	rm := rmtest.New(t)
	o, err := rm.Carrier().CreateOrder(t.Context(), shipment("OD-1001"))
	if err != nil {
		t.Fatal(err)
	}
	held, ok := rm.Order("OD-1001")
	if !ok {
		t.Fatal("Royal Mail has no order")
	}
	if o.ID != "1001" || o.Reference != "OD-1001" || o.LabelError != "" || !o.CreatedAt.Equal(held.CreatedOn) {
		t.Errorf("order %+v", o)
	}
	if len(o.TrackingNumbers) != 1 || o.TrackingNumbers[0] != held.TrackingNumber || !strings.HasSuffix(held.TrackingNumber, "GB") {
		t.Errorf("tracking numbers %v, Royal Mail has %q", o.TrackingNumbers, held.TrackingNumber)
	}
	if !bytes.Equal(o.Label, held.Label) || !bytes.HasPrefix(o.Label, []byte("%PDF")) {
		t.Fatalf("label is not Royal Mail's PDF (%d bytes)", len(o.Label))
	}
	if text := pdftest.Text(t, o.Label); !strings.Contains(text, held.TrackingNumber) || !strings.Contains(text, "Zoë Brontë") {
		t.Errorf("label text:\n%s", text)
	}
	// What Click & Drop received, field by field.
	var sent map[string]any
	if err := json.Unmarshal(held.Request, &sent); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"subtotal":25.05`, `"shippingCostCharged":3.99`, `"total":29.04`, `"unitValue":12.50`,
		`"unitValue":0.05`, `"orderDate":"2026-05-01T10:00:00Z"`, `"countryCode":"GB"`, `"phoneNumber":"07700900000"`,
		`"label":{"includeLabelInResponse":true,"includeCN":false,"includeReturnsLabel":false}`,
		`"postageDetails":{"serviceCode":"TPN24"}`, `"weightInGrams":450`, `"packageFormatIdentifier":"smallParcel"`, `"SKU":"W-1"`} {
		if !bytes.Contains(held.Request, []byte(want)) {
			t.Errorf("request lacks %s:\n%s", want, held.Request)
		}
	}
	if c := rm.Counts(); c.CreateOrders != 1 || c.Invalid != 0 {
		t.Errorf("counts %+v", c)
	}
}

func TestCreateOrderWithoutLabelAccess(t *testing.T) {
	rm := rmtest.New(t)
	rm.SetOBA(false)
	o, err := rm.Carrier().CreateOrder(t.Context(), shipment("OD-2001"))
	if err != nil {
		t.Fatal(err)
	}
	if o.ID == "" || o.Label != nil || len(o.TrackingNumbers) != 0 || !strings.Contains(o.LabelError, "no label") {
		t.Errorf("order %+v", o)
	}
	// Not asking for a label sends no label request at all.
	r := shipment("OD-2002")
	r.WantLabel = false
	o, err = rm.Carrier().CreateOrder(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	held, _ := rm.Order("OD-2002")
	if o.LabelError != "" || bytes.Contains(held.Request, []byte(`"label"`)) {
		t.Errorf("order %+v, request %s", o, held.Request)
	}
	_, err = rm.Carrier().Label(t.Context(), o.ID)
	codeOf(t, err, ports.EFORBIDDEN)
	if msg := ports.ErrorMessageOf(err); !strings.Contains(msg, "Online Business Account") || !strings.Contains(msg, "push-only") {
		t.Errorf("message %q", msg)
	}
}

func TestCreateOrderRefusedInsideA200(t *testing.T) {
	rm := rmtest.New(t)
	tests := []struct {
		name  string
		edit  func(r *ports.ShipmentRequest)
		words []string
	}{
		{"postcode", func(r *ports.ShipmentRequest) { r.Recipient.Postcode = rmtest.BadPostcode },
			[]string{"Postcode ZZ1 1ZZ is not recognised for the destination country."}},
		{"service code", func(r *ports.ShipmentRequest) { r.ServiceCode = "TPN99" },
			[]string{"Service code TPN99 is not available on this account."}},
		{"both", func(r *ports.ShipmentRequest) { r.ServiceCode = "TPN99"; r.Recipient.Postcode = "zz11zz" },
			[]string{"Postcode zz11zz is not recognised", "Service code TPN99 is not available"}},
		{"weight over the format's limit", func(r *ports.ShipmentRequest) { r.PackageFormat = "letter" },
			[]string{"Weight 450 exceeds the maximum of 100 g for the package format letter."}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := shipment("OD-300" + string(rune('0'+i)))
			tt.edit(&r)
			_, err := rm.Carrier().CreateOrder(t.Context(), r)
			codeOf(t, err, ports.EINVALID)
			msg := ports.ErrorMessageOf(err)
			for _, w := range tt.words {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if _, ok := rm.Order(r.Reference); ok {
				t.Error("Royal Mail kept a refused order")
			}
		})
	}
}

func TestCreateOrderDuplicateReference(t *testing.T) {
	rm := rmtest.New(t)
	c := rm.Carrier()
	if _, err := c.CreateOrder(t.Context(), shipment("OD-4001")); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateOrder(t.Context(), shipment("OD-4001"))
	codeOf(t, err, ports.ECONFLICT)
	if len(rm.Orders()) != 1 {
		t.Errorf("%d orders", len(rm.Orders()))
	}
}

func TestCreateOrderValidatesBeforeCalling(t *testing.T) {
	rm := rmtest.New(t)
	r := shipment("OD 5001")
	r.Recipient.City = ""
	r.WeightGrams = 0
	_, err := rm.Carrier().CreateOrder(t.Context(), r)
	codeOf(t, err, ports.EINVALID)
	fields := map[string]bool{}
	for _, f := range ports.FieldErrorsOf(err) {
		fields[f.Field] = true
	}
	for _, f := range []string{"reference", "recipient.city", "weightGrams"} {
		if !fields[f] {
			t.Errorf("no error on %s: %v", f, err)
		}
	}
	if c := rm.Counts(); c.CreateOrders != 0 {
		t.Errorf("called Royal Mail: %+v", c)
	}
}

func TestOrderByReference(t *testing.T) {
	rm := rmtest.New(t)
	c := rm.Carrier()
	first, err := c.CreateOrder(t.Context(), shipment("OD-6001"))
	if err != nil {
		t.Fatal(err)
	}
	// A reference made of digits that equal another order's identifier is still a
	// reference: it travels quoted.
	numeric, err := c.CreateOrder(t.Context(), shipment(first.ID))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.OrderByReference(t.Context(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != numeric.ID || got.Reference != first.ID {
		t.Errorf("found %+v, want order %s", got, numeric.ID)
	}
	shipped := placed.Add(48 * time.Hour)
	rm.MarkShipped("OD-6001", shipped)
	got, err = c.OrderByReference(t.Context(), "OD-6001")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != first.ID || len(got.TrackingNumbers) != 1 || got.TrackingNumbers[0] != first.TrackingNumbers[0] ||
		got.ShippedAt == nil || !got.ShippedAt.Equal(shipped) || !got.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("found %+v", got)
	}
	_, err = c.OrderByReference(t.Context(), "OD-6999")
	codeOf(t, err, ports.ENOTFOUND)
	before := rm.Counts().GetOrders
	_, err = c.OrderByReference(t.Context(), `OD";1001`)
	codeOf(t, err, ports.EINVALID)
	if n := rm.Counts().GetOrders; n != before || before != 3 {
		t.Errorf("lookups %d then %d, want 3 (the bad reference must not be sent)", before, n)
	}
}

func TestLabel(t *testing.T) {
	rm := rmtest.New(t)
	c := rm.Carrier()
	r := shipment("OD-7001")
	r.WantLabel = false
	o, err := c.CreateOrder(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.TrackingNumbers) != 0 {
		t.Errorf("tracking number before a label: %v", o.TrackingNumbers)
	}
	pdf, err := c.Label(t.Context(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	held, _ := rm.Order("OD-7001")
	if !bytes.Equal(pdf, held.Label) || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatal("not Royal Mail's label")
	}
	// The label brought a tracking number with it.
	got, err := c.OrderByReference(t.Context(), "OD-7001")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.TrackingNumbers) != 1 || got.TrackingNumbers[0] != held.TrackingNumber {
		t.Errorf("tracking %v, want %s", got.TrackingNumbers, held.TrackingNumber)
	}
	_, err = c.Label(t.Context(), "99999")
	codeOf(t, err, ports.ENOTFOUND)
	_, err = c.Label(t.Context(), "OD-7001")
	codeOf(t, err, ports.EINVALID)
}

func TestThrottledThenSuccess(t *testing.T) {
	rm := rmtest.New(t)
	c := rm.Carrier()
	rm.Throttle(1, 2*time.Second)
	_, err := c.CreateOrder(t.Context(), shipment("OD-8001"))
	if err == nil {
		t.Fatal("no error for a 429")
	}
	codeOf(t, err, ports.EINTERNAL) // transient: not a ports.Error
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() != 2*time.Second {
		t.Fatalf("no Retry-After of 2s in %v", err)
	}
	// The retry is the caller's: the next call goes through.
	if _, err := c.CreateOrder(t.Context(), shipment("OD-8001")); err != nil {
		t.Fatal(err)
	}
	if cnt := rm.Counts(); cnt.Throttled != 1 || cnt.CreateOrders != 1 {
		t.Errorf("counts %+v", cnt)
	}
}

func TestServerDown(t *testing.T) {
	rm := rmtest.New(t)
	c := rm.Carrier()
	rm.SetDown(true)
	_, err := c.CreateOrder(t.Context(), shipment("OD-9001"))
	var te *royalmail.TemporaryError
	if !errors.As(err, &te) || te.Status != 503 {
		t.Fatalf("err %v, want a temporary 503", err)
	}
	codeOf(t, err, ports.EINTERNAL)
	_, err = c.OrderByReference(t.Context(), "OD-9001")
	codeOf(t, err, ports.EINTERNAL)
	rm.SetDown(false)
	if _, err := c.CreateOrder(t.Context(), shipment("OD-9001")); err != nil {
		t.Fatal(err)
	}
}

func TestCreateThenTimeoutThenFind(t *testing.T) {
	rm := rmtest.New(t)
	c := rm.Carrier()
	rm.HangAfterCreate(1)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := c.CreateOrder(ctx, shipment("OD-10001"))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the deadline", err)
	}
	codeOf(t, err, ports.EINTERNAL)
	// The outcome is unknown: look before retrying.
	found, err := c.OrderByReference(t.Context(), "OD-10001")
	if err != nil {
		t.Fatal(err)
	}
	held, _ := rm.Order("OD-10001")
	if found.ID != "1001" || len(found.TrackingNumbers) != 1 || found.TrackingNumbers[0] != held.TrackingNumber {
		t.Errorf("found %+v, Royal Mail holds %+v", found, held)
	}
	_, err = c.CreateOrder(t.Context(), shipment("OD-10001"))
	codeOf(t, err, ports.ECONFLICT)
}

func TestRefusedKey(t *testing.T) {
	rm := rmtest.New(t)
	c := royalmail.New(royalmail.Config{URL: rm.URL, APIKey: "wrong", Limiter: royalmail.NewLocalLimiter(1000)})
	_, err := c.CreateOrder(t.Context(), shipment("OD-11001"))
	codeOf(t, err, ports.EUNAVAILABLE)
	if !strings.Contains(ports.ErrorMessageOf(err), "API key was refused") {
		t.Errorf("message %q", ports.ErrorMessageOf(err))
	}
	_, err = c.Label(t.Context(), "1001")
	codeOf(t, err, ports.EUNAVAILABLE)
}

func TestTrackingURL(t *testing.T) {
	if got := royalmail.New(royalmail.Config{}).TrackingURL("TT000000014GB"); got != "https://www.royalmail.com/track-your-item#/tracking-results/TT000000014GB" {
		t.Errorf("url %s", got)
	}
	if royalmail.New(royalmail.Config{}).Name() != "royalmail" {
		t.Error("name")
	}
}
