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

// TestReceivedTotals: payments received in [from, to), not counting invalid ones (a
// double spend); a zero to is unbounded.
func TestReceivedTotals(t *testing.T) {
	ctx := context.Background()
	store := postgres.NewPaymentStore(testDB)
	id := uuid.New()
	day := time.Date(2031, 3, 10, 0, 0, 0, 0, time.UTC) // a month no other test uses
	if err := store.Open(ctx, &payments.Invoice{OrderID: id, OrderNumber: "OD-R" + id.String()[:6], Provider: "sandbox",
		Status: payments.StatusPending, AmountMinor: 850, Currency: "GBP", MethodsJSON: []byte("[]"), CreatedAt: day, UpdatedAt: day},
		ports.Job{ID: "test:" + id.String(), Type: "test"}); err != nil {
		t.Fatal(err)
	}
	pay := func(pid string, at time.Time, pence int64, status string) payments.Payment {
		return payments.Payment{InvoiceID: "inv-" + id.String(), ID: pid, OrderID: id, OrderNumber: "OD-R", Method: "BTC-CHAIN",
			TxID: pid, AmountSats: pence * 20, RatePence: 5_000_000, ValuePence: pence, Status: status, ReceivedAt: at}
	}
	if err := store.SavePayments(ctx, []payments.Payment{
		pay("a", day.Add(time.Hour), 100, "settled"),
		pay("b", day.Add(2*time.Hour), 250, "confirming"),
		pay("c", day.Add(3*time.Hour), 999, "invalid"),
		pay("d", day.AddDate(0, 0, 1), 40, "settled"),
	}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		from, to time.Time
		n        int
		pence    int64
	}{
		{day, day.AddDate(0, 0, 1), 2, 350},
		{day, time.Time{}, 3, 390},
		{day.AddDate(0, 0, 1), day.AddDate(0, 0, 2), 1, 40},
	} {
		n, pence, err := store.ReceivedTotals(ctx, tt.from, tt.to)
		if err != nil || n != tt.n || pence != tt.pence {
			t.Errorf("ReceivedTotals(%s, %s) = %d, %d, %v; want %d, %d", tt.from, tt.to, n, pence, err, tt.n, tt.pence)
		}
	}
}
