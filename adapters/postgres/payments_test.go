package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/payments"
	"orderdesk/ports"
)

// TestWithInvoiceLockedWritesOnlyChanges: a callback that changes nothing (the invoice
// job retried after the placing request made the invoice) leaves the row unwritten; a
// change is saved.
func TestWithInvoiceLockedWritesOnlyChanges(t *testing.T) {
	ctx := context.Background()
	store := postgres.NewPaymentStore(testDB)
	id := uuid.New()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := store.Open(ctx, &payments.Invoice{OrderID: id, OrderNumber: "OD-T" + id.String()[:6], Provider: "sandbox",
		Status: payments.StatusPending, AmountMinor: 850, SubtotalMinor: 500, ShippingMinor: 350, Currency: "GBP",
		MethodsJSON: []byte("[]"), CreatedAt: now, UpdatedAt: now},
		ports.Job{ID: "test:" + id.String(), Type: "test"}); err != nil {
		t.Fatal(err)
	}
	xmin := func() string {
		var x string
		if err := testDB.GetContext(ctx, &x, `SELECT xmin::text FROM payments.invoices WHERE order_id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return x
	}
	before := xmin()
	if _, err := store.WithInvoiceLocked(ctx, id, func(*payments.Invoice) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if after := xmin(); after != before {
		t.Fatalf("a callback that changed nothing wrote the row (xmin %s → %s)", before, after)
	}
	got, err := store.WithInvoiceLocked(ctx, id, func(inv *payments.Invoice) error {
		invID := "inv_1"
		inv.InvoiceID, inv.UpdatedAt = &invID, now.Add(time.Second)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if xmin() == before || got.InvoiceID == nil {
		t.Fatal("a change was not saved")
	}
	saved, err := store.Invoice(ctx, id)
	if err != nil || saved.InvoiceID == nil || *saved.InvoiceID != "inv_1" {
		t.Fatalf("saved invoice %+v, %v", saved, err)
	}
}
