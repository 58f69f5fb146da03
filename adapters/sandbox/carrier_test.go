package sandbox_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"orderdesk/adapters/pdfkit/pdftest"
	"orderdesk/adapters/royalmail"
	"orderdesk/adapters/sandbox"
	"orderdesk/ports"
)

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func parcel(ref string) ports.ShipmentRequest {
	return ports.ShipmentRequest{Reference: ref,
		Recipient:   ports.Recipient{Name: "Zoë Brontë", Line1: "1 High St", City: "Leeds", Postcode: "LS1 1AA", CountryCode: "GB"},
		ServiceCode: "TPN24", PackageFormat: "smallParcel", WeightGrams: 450, TotalPence: 2904, PlacedAt: t0, WantLabel: true}
}

func TestSandboxCarrierCreatesWithSpecimenLabel(t *testing.T) {
	c := sandbox.NewCarrier(func() time.Time { return t0 })
	o, err := c.CreateOrder(t.Context(), parcel("OD-1001"))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.TrackingNumbers) != 1 || !regexp.MustCompile(`^SB\d{9}GB$`).MatchString(o.TrackingNumbers[0]) {
		t.Fatalf("tracking numbers %v", o.TrackingNumbers)
	}
	n := o.TrackingNumbers[0]
	if n != sandbox.TrackingNumber("OD-1001") || sandbox.TrackingNumber("OD-1002") == n {
		t.Errorf("tracking number %s is not derived from the reference", n)
	}
	if check := royalmail.S10("SB", atoi(n[2:10])); check != n {
		t.Errorf("check digit: %s, want %s", n, check)
	}
	if o.ID == "" || o.Reference != "OD-1001" || !o.CreatedAt.Equal(t0) || o.LabelError != "" {
		t.Errorf("order %+v", o)
	}
	if !bytes.HasPrefix(o.Label, []byte("%PDF")) {
		t.Fatal("label is not a PDF")
	}
	// 6 × 4 inches is 288 × 432 points.
	if !bytes.Contains(o.Label, []byte("/MediaBox [0 0 288.00 432.00]")) {
		t.Error("label is not 6 × 4 inches")
	}
	text := pdftest.Text(t, o.Label)
	for _, want := range []string{"SPECIMEN — NOT FOR POSTAGE", "Zoë Brontë", "LS1 1AA", "Service TPN24 · 450 g · smallParcel", "Reference OD-1001", n} {
		if !strings.Contains(text, want) {
			t.Errorf("label lacks %q:\n%s", want, text)
		}
	}
	if !bytes.Contains(o.Label, []byte("/Subtype /Image")) {
		t.Error("label has no QR code")
	}
	if c.TrackingURL(n) != "https://www.royalmail.com/track-your-item#/tracking-results/"+n || c.Name() != "sandbox" {
		t.Errorf("tracking url %s", c.TrackingURL(n))
	}
	again, err := c.Label(t.Context(), o.ID)
	if err != nil || !bytes.Equal(again, o.Label) {
		t.Errorf("label again: %v", err)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestSandboxCarrierReferences(t *testing.T) {
	c := sandbox.NewCarrier(func() time.Time { return t0 })
	r := parcel("OD-2001")
	r.WantLabel = false
	o, err := c.CreateOrder(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if o.Label != nil {
		t.Error("a label nobody asked for")
	}
	_, err = c.CreateOrder(t.Context(), parcel("OD-2001"))
	if ports.ErrorCodeOf(err) != ports.ECONFLICT {
		t.Fatalf("duplicate: %v", err)
	}
	found, err := c.OrderByReference(t.Context(), "OD-2001")
	if err != nil || found.ID != o.ID || found.TrackingNumbers[0] != o.TrackingNumbers[0] {
		t.Fatalf("found %+v, %v", found, err)
	}
	found.TrackingNumbers[0] = "changed"
	if again, _ := c.OrderByReference(t.Context(), "OD-2001"); again.TrackingNumbers[0] == "changed" {
		t.Error("callers can change the carrier's records")
	}
	if _, err := c.OrderByReference(t.Context(), "OD-2999"); ports.ErrorCodeOf(err) != ports.ENOTFOUND {
		t.Errorf("unknown reference: %v", err)
	}
	if _, err := c.Label(t.Context(), "999"); ports.ErrorCodeOf(err) != ports.ENOTFOUND {
		t.Errorf("unknown label: %v", err)
	}
	if pdf, err := c.Label(t.Context(), o.ID); err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Errorf("label of an order made without one: %v", err)
	}
}

func TestSandboxCarrierRefuses(t *testing.T) {
	c := sandbox.NewCarrier(func() time.Time { return t0 })
	for name, edit := range map[string]func(r *ports.ShipmentRequest){
		"reference":  func(r *ports.ShipmentRequest) { r.Reference = "OD 1" },
		"postcode":   func(r *ports.ShipmentRequest) { r.Recipient.Postcode = "zz1 1zz" },
		"no city":    func(r *ports.ShipmentRequest) { r.Recipient.City = "" },
		"weight":     func(r *ports.ShipmentRequest) { r.WeightGrams = 0 },
		"no service": func(r *ports.ShipmentRequest) { r.ServiceCode = "" },
		// What Royal Mail's schema refuses, as the Click & Drop client does.
		"format":    func(r *ports.ShipmentRequest) { r.PackageFormat = "crate" },
		"long name": func(r *ports.ShipmentRequest) { r.Recipient.Name = strings.Repeat("x", 211) },
	} {
		r := parcel("OD-3001")
		edit(&r)
		if _, err := c.CreateOrder(t.Context(), r); ports.ErrorCodeOf(err) != ports.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSandboxTrackerDelivers(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	c := sandbox.NewCarrier(clock)
	o, err := c.CreateOrder(t.Context(), parcel("OD-4001"))
	if err != nil {
		t.Fatal(err)
	}
	n := o.TrackingNumbers[0]
	tr := sandbox.NewTracker(c, clock, 4*time.Hour)
	summary := func() ports.TrackingSummary {
		t.Helper()
		s, err := tr.Summaries(t.Context(), []string{n})
		if err != nil || len(s) != 1 {
			t.Fatalf("summaries %v, %v", s, err)
		}
		return s[0]
	}
	if s := summary(); s.EventCode != "EVAIP" || s.Delivered || s.Category != "IN TRANSIT" || !s.At.Equal(t0) {
		t.Errorf("at creation: %+v", s)
	}
	now = t0.Add(2 * time.Hour)
	if s := summary(); s.EventCode != "EVDAC" || s.Delivered {
		t.Errorf("half way: %+v", s)
	}
	now = t0.Add(4 * time.Hour)
	if s := summary(); s.EventCode != "EVKSP" || !s.Delivered || s.Category != "DELIVERED" || !s.At.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("at the delivery time: %+v", s)
	}
	evs, err := tr.Events(t.Context(), n)
	if err != nil || len(evs) != 4 || evs[0].EventCode != "EVAIP" || !evs[3].Delivered || evs[0].Category != "" {
		t.Errorf("events %+v, %v", evs, err)
	}

	// A number this process did not make starts when first asked about; a malformed
	// one is unknown.
	got, err := tr.Summaries(t.Context(), []string{"SB000000005GB", "XX1"})
	if err != nil || got[0].EventCode != "EVAIP" || !got[0].At.Equal(now) || got[1].Error == "" {
		t.Errorf("summaries %+v, %v", got, err)
	}
	if _, err := tr.Events(t.Context(), "XX1"); ports.ErrorCodeOf(err) != ports.ENOTFOUND {
		t.Errorf("events of a malformed number: %v", err)
	}
	if _, err := tr.Summaries(t.Context(), make([]string, 31)); ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Errorf("31 numbers: %v", err)
	}
}
