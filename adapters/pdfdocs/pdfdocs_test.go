package pdfdocs_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pdfcpu/pdfcpu/pkg/api"

	"orderdesk/adapters/pdfdocs"
	"orderdesk/adapters/pdfkit/pdftest"
	"orderdesk/modules/fulfilment"
)

var at = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

func TestPickList(t *testing.T) {
	d := pdfdocs.New()
	orders := []fulfilment.Order{
		{Number: "OD-10001", Lines: []fulfilment.Line{{ProductID: uuid.New(), SKU: "TEA-1", Name: "Zoë's Earl Grey", Quantity: 2}}},
		{Number: "OD-10002", Lines: []fulfilment.Line{{ProductID: uuid.New(), SKU: "tea-1", Name: "Zoë's Earl Grey", Quantity: 3}}},
	}
	var many []fulfilment.Order
	for i := range 60 { // enough rows for a second page
		many = append(many, fulfilment.Order{Number: "OD-2" + string(rune('0'+i%10)), Lines: []fulfilment.Line{
			{ProductID: uuid.New(), SKU: "SKU-" + uuid.NewString()[:6], Name: "Product with a rather long name that wraps onto a second line", Quantity: 1}}})
	}
	b, err := d.PickList(fulfilment.BuildPickList(append(orders, many...), at))
	if err != nil {
		t.Fatal(err)
	}
	text := pdftest.Text(t, b)
	for _, want := range []string{"Pick list", "Zoë's Earl Grey", "TEA-1", "OD-10001 ×2,", "OD-10002 ×3", "62 orders", "\n5\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("pick list lacks %q:\n%.2000s", want, text)
		}
	}
	if n := pdftest.PageCount(t, b); n < 2 {
		t.Errorf("%d pages: the long list did not break onto a new page", n)
	}
	if strings.Count(text, "Qty") != pdftest.PageCount(t, b) {
		t.Errorf("the table header is not repeated on every page")
	}
}

func TestPackingSlips(t *testing.T) {
	d := pdfdocs.New()
	o := fulfilment.Order{Number: "OD-10042", PlacedAt: at, ServiceName: "Tracked 24", SubtotalPence: 1250, ShippingPence: 390,
		TotalPence: 1640, Lines: []fulfilment.Line{{SKU: "MUG-1", Name: "Łódź mug", Quantity: 2, UnitPricePence: 625}}}
	b, err := d.PackingSlips([]fulfilment.PackingSlip{o.Slip(false), o.Slip(true)})
	if err != nil {
		t.Fatal(err)
	}
	if n := pdftest.PageCount(t, b); n != 2 {
		t.Fatalf("%d pages, want one per slip", n)
	}
	text := pdftest.Text(t, b)
	for _, want := range []string{"Packing slip", "Order OD-10042", "Łódź mug", "MUG-1", "Tracked 24", "£6.25", "£12.50", "£16.40"} {
		if !strings.Contains(text, want) {
			t.Errorf("slips lack %q:\n%s", want, text)
		}
	}
	// The first slip has no prices: the prices appear once each, on the second page.
	if strings.Count(text, "£12.50") != 2 || strings.Count(text, "£16.40") != 1 { // line total and subtotal
		t.Errorf("prices on the slip without prices:\n%s", text)
	}
	if !bytes.Contains(b, []byte("/Subtype /Image")) {
		t.Error("no QR code")
	}
}

func TestMerge(t *testing.T) {
	d := pdfdocs.New()
	one := func(n string) []byte {
		o := fulfilment.Order{Number: n, PlacedAt: at}
		b, err := d.PackingSlips([]fulfilment.PackingSlip{o.Slip(false)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := one("OD-1"), one("OD-2"), one("OD-3")
	merged, err := d.Merge([][]byte{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := api.PageCount(bytes.NewReader(merged), nil); err != nil || n != 3 {
		t.Fatalf("merged %d pages (%v), want 3", n, err)
	}
	if single, err := d.Merge([][]byte{a}); err != nil || !bytes.Equal(single, a) {
		t.Fatalf("one file: %v", err)
	}
	if _, err := d.Merge(nil); err == nil {
		t.Fatal("merged nothing")
	}
	if _, err := d.Merge([][]byte{a, []byte("not a pdf")}); err == nil {
		t.Fatal("merged a file that is not a PDF")
	}
}
