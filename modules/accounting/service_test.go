package accounting_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/modules/accounting"
	"orderdesk/modules/accounting/accountingtest"
	"orderdesk/ports"
)

func TestLedgerProperties(t *testing.T) {
	for seed := range uint64(60) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			svc := accounting.NewService(accountingtest.NewMemStore(), func() time.Time { return at }, accounting.Sources{})
			accountingtest.CheckLedgerProperties(t, svc, seed, fmt.Sprint("p", seed), 40)
		})
	}
}

func TestPostJob(t *testing.T) {
	store := accountingtest.NewMemStore()
	svc := accounting.NewService(store, func() time.Time { return at }, accounting.Sources{})
	ctx := context.Background()
	payload, _ := json.Marshal(ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) { e.ReceivedPence = 4350 }))
	for range 3 { // the queue may run a job more than once
		if err := svc.PostJob(ctx, payload); err != nil {
			t.Fatal(err)
		}
	}
	es, _, err := svc.Entries(ctx, accounting.EntryFilter{})
	if err != nil || len(es) != 1 || es[0].Source != "payment_settled:inv-1" || es[0].Total() != 4350 || es[0].PostedBy != "system" {
		t.Fatalf("entries %+v, %v", es, err)
	}
	for name, p := range map[string]string{"not json": "{", "invalid event": `{"id":"x","kind":"refund"}`} {
		if err := svc.PostJob(ctx, []byte(p)); err == nil {
			t.Errorf("%s: job succeeded", name)
		}
	}
}

func TestReverseAudits(t *testing.T) {
	store := accountingtest.NewMemStore()
	svc := accounting.NewService(store, func() time.Time { return at.Add(time.Hour) }, accounting.Sources{})
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: "u1", Name: "maria"})
	e, _, err := svc.Post(ctx, ev(ports.LedgerPostagePurchased, func(e *ports.LedgerEvent) { e.AmountPence = 385 }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reverse(ctx, e.ID, ""); ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("no reason: %v", err)
	}
	if _, err := svc.Reverse(ctx, 999, "why not"); ports.ErrorCodeOf(err) != ports.ENOTFOUND {
		t.Fatalf("unknown entry: %v", err)
	}
	rev, err := svc.Reverse(ctx, e.ID, "label cancelled")
	if err != nil {
		t.Fatal(err)
	}
	if rev.PostedBy != "maria" || !rev.OccurredAt.Equal(at.Add(time.Hour)) {
		t.Fatalf("reversal %+v", rev)
	}
	if len(store.Audit) != 1 {
		t.Fatalf("audit %+v", store.Audit)
	}
	a := store.Audit[0]
	if a.Action != "ledger.reverse" || a.ObjectType != "ledger_entry" || a.ObjectID != fmt.Sprint(e.ID) || a.Actor != "maria" ||
		a.Detail != fmt.Sprintf("Reversed by entry %d: label cancelled", rev.ID) {
		t.Fatalf("audit %+v", a)
	}
	orig, err := svc.Entry(ctx, e.ID)
	if err != nil || orig.ReversedBy == nil || *orig.ReversedBy != rev.ID {
		t.Fatalf("original after reversal %+v, %v", orig, err)
	}
}

func TestEntriesFiltersAndPages(t *testing.T) {
	svc := accounting.NewService(accountingtest.NewMemStore(), func() time.Time { return at }, accounting.Sources{})
	ctx := context.Background()
	for i := range 7 {
		_, _, err := svc.Post(ctx, ev(ports.LedgerPostagePurchased, func(e *ports.LedgerEvent) {
			e.ID, e.AmountPence, e.At = fmt.Sprint("postage:", i), 100, at.AddDate(0, 0, i)
			e.OrderNumber = fmt.Sprint("OD-", 10000+i%2)
		}))
		if err != nil {
			t.Fatal(err)
		}
	}
	var got []int64
	f := accounting.EntryFilter{Limit: 3}
	for {
		es, next, err := svc.Entries(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			got = append(got, e.ID)
		}
		if next == nil {
			break
		}
		f.After = next
	}
	if fmt.Sprint(got) != "[7 6 5 4 3 2 1]" {
		t.Fatalf("pages %v", got)
	}
	es, _, err := svc.Entries(ctx, accounting.EntryFilter{OrderNumber: "10001", From: at.AddDate(0, 0, 1), To: at.AddDate(0, 0, 5)})
	if err != nil || len(es) != 2 || es[0].ID != 4 || es[1].ID != 2 {
		t.Fatalf("filtered %+v, %v", es, err)
	}
	if _, _, err := svc.Entries(ctx, accounting.EntryFilter{Account: "9999"}); ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("unknown account: %v", err)
	}
	if _, _, err := svc.Entries(ctx, accounting.EntryFilter{From: at, To: at}); ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("empty range: %v", err)
	}
}

// Fakes of the other modules.

type fakeOrders struct {
	unpaid []accounting.Order
	counts map[string]int
	onHold []accounting.Order
}

func (f *fakeOrders) CountByStatus(context.Context) (map[string]int, error) { return f.counts, nil }
func (f *fakeOrders) OnHold(_ context.Context, limit int) ([]accounting.Order, error) {
	return f.onHold[:min(limit, len(f.onHold))], nil
}

// Unpaid pages f.unpaid with the index of the next order as the cursor.
func (f *fakeOrders) Unpaid(_ context.Context, uf accounting.UnpaidFilter) ([]accounting.Order, string, error) {
	start := 0
	if uf.After != "" {
		if _, err := fmt.Sscan(uf.After, &start); err != nil {
			return nil, "", ports.Invalid(ports.Field("after", "bad cursor"))
		}
	}
	var page []accounting.Order
	i := start
	for ; i < len(f.unpaid) && len(page) < uf.Limit; i++ {
		o := f.unpaid[i]
		if (!uf.From.IsZero() && o.CreatedAt.Before(uf.From)) || (!uf.To.IsZero() && !o.CreatedAt.Before(uf.To)) {
			continue
		}
		page = append(page, o)
	}
	if i < len(f.unpaid) {
		return page, fmt.Sprint(i), nil
	}
	return page, "", nil
}

type fakePayments struct {
	payments []accounting.Payment // most recent first
	err      error
}

func (f *fakePayments) Received(_ context.Context, rf accounting.ReceivedFilter) ([]accounting.Payment, string, error) {
	return f.payments, "", f.err
}

func (f *fakePayments) StreamReceived(_ context.Context, from, to time.Time, fn func(accounting.Payment) error) error {
	for _, p := range f.payments {
		if p.ReceivedAt.Before(from) || !p.ReceivedAt.Before(to) {
			continue
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return f.err
}

func (f *fakePayments) ReceivedTotals(_ context.Context, from, to time.Time) (int, int64, error) {
	n, pence := 0, int64(0)
	for _, p := range f.payments {
		if !p.ReceivedAt.Before(from) && (to.IsZero() || p.ReceivedAt.Before(to)) && p.Status != "invalid" {
			n++
			pence += p.ValuePence
		}
	}
	return n, pence, f.err
}

type fakeStock int

func (f fakeStock) CountLowStock(context.Context) (int, error) { return int(f), nil }

func TestDashboard(t *testing.T) {
	now := time.Date(2026, 5, 14, 15, 0, 0, 0, time.UTC)
	orders := &fakeOrders{counts: map[string]int{"pending_payment": 250, "processing": 3, "on_hold": 2, "archived": 1}}
	for i := range 250 { // more than a page: the value is summed over every page
		orders.unpaid = append(orders.unpaid, accounting.Order{ID: uuid.New(), Number: fmt.Sprint("OD-", i), TotalPence: 1000 + int64(i),
			CreatedAt: now.Add(-time.Duration(i) * time.Minute)})
	}
	orders.onHold = []accounting.Order{{ID: uuid.New(), Number: "OD-7", Status: "on_hold"}, {ID: uuid.New(), Number: "OD-8", Status: "on_hold"}}
	pays := &fakePayments{}
	for _, p := range []struct {
		ago   time.Duration
		pence int64
	}{{time.Hour, 100}, {14 * time.Hour, 200}, {16 * time.Hour, 400}, {6 * 24 * time.Hour, 800}, {8 * 24 * time.Hour, 1600}, {40 * 24 * time.Hour, 3200}} {
		pays.payments = append(pays.payments, accounting.Payment{ReceivedAt: now.Add(-p.ago), ValuePence: p.pence})
	}
	svc := accounting.NewService(accountingtest.NewMemStore(), func() time.Time { return now },
		accounting.Sources{Orders: orders, Payments: pays, Stock: fakeStock(4)})
	ctx := context.Background()
	post := func(e ports.LedgerEvent) {
		t.Helper()
		if _, _, err := svc.Post(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// Two orders paid today (£43.50 and £10.00), one 10 days ago, one 60 days ago;
	// the one of 10 days ago was cancelled yesterday.
	post(ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) { e.ID, e.At, e.ReceivedPence = "s1", now.Add(-time.Hour), 4352 }))
	post(ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) {
		e.ID, e.At, e.SubtotalPence, e.ShippingPence, e.TotalPence, e.ReceivedPence = "s2", now.Add(-2*time.Hour), 1000, 0, 1000, 1000
	}))
	post(ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) { e.ID, e.At, e.ReceivedPence = "s3", now.AddDate(0, 0, -10), 4350 }))
	post(ev(ports.LedgerPaidOrderCancelled, func(e *ports.LedgerEvent) { e.ID, e.At = "c3", now.AddDate(0, 0, -1) }))
	post(ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) { e.ID, e.At, e.ReceivedPence = "s4", now.AddDate(0, 0, -60), 4350 }))
	post(ev(ports.LedgerPostagePurchased, func(e *ports.LedgerEvent) { e.ID, e.At, e.AmountPence = "p1", now.Add(-time.Hour), 385 }))

	d, err := svc.Dashboard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantPending := int64(0)
	for _, o := range orders.unpaid {
		wantPending += o.TotalPence
	}
	if d.PendingCount != 250 || d.PendingPence != wantPending {
		t.Errorf("pending %d / %d, want 250 / %d", d.PendingCount, d.PendingPence, wantPending)
	}
	// Today began 15 hours ago.
	want := []accounting.Period{{"today", time.Date(2026, 5, 14, 0, 0, 0, 0, time.UTC), 2, 300},
		{"in the last 7 days", time.Date(2026, 5, 8, 0, 0, 0, 0, time.UTC), 4, 1500},
		{"in the last 30 days", time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC), 5, 3100}}
	if fmt.Sprint(d.Received) != fmt.Sprint(want) {
		t.Errorf("received\n got %v\nwant %v", d.Received, want)
	}
	if d.PaidOrders != 3 || d.PaidPence != 4350+1000+4350 || d.AveragePence != 3233 {
		t.Errorf("paid %d, %d, average %d", d.PaidOrders, d.PaidPence, d.AveragePence)
	}
	if d.OnHoldCount != 2 || len(d.OnHold) != 2 || d.LowStock != 4 {
		t.Errorf("on hold %d %v, low stock %d", d.OnHoldCount, d.OnHold, d.LowStock)
	}
	if len(d.ByStatus) != 10 || d.ByStatus[0] != (accounting.StatusCount{Status: "pending_payment", Count: 250}) ||
		d.ByStatus[9] != (accounting.StatusCount{Status: "archived", Count: 1}) {
		t.Errorf("by status %v", d.ByStatus)
	}
	if len(d.Daily) != 30 || !d.Daily[29].Start.Equal(time.Date(2026, 5, 14, 0, 0, 0, 0, time.UTC)) || d.Daily[29].Pence != 4350+1000 ||
		d.Daily[28].Pence != -4350 || d.Daily[19].Pence != 4350 {
		t.Errorf("daily %v", d.Daily)
	}
	if len(d.Monthly) != 12 || !d.Monthly[0].Start.Equal(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)) ||
		d.Monthly[11].Pence != 4350+1000+4350-4350 || d.Monthly[10].Pence != 0 || d.Monthly[9].Pence != 4350 {
		t.Errorf("monthly %v", d.Monthly)
	}

	pays.err = errors.New("payments down")
	if _, err := svc.Dashboard(ctx); err == nil {
		t.Error("dashboard without payments succeeded")
	}
}

func TestTrialBalanceAndMonthSummary(t *testing.T) {
	now := time.Date(2026, 5, 14, 15, 0, 0, 0, time.UTC)
	pays := &fakePayments{payments: []accounting.Payment{{ReceivedAt: time.Date(2026, 4, 30, 23, 0, 0, 0, time.UTC), ValuePence: 4352},
		{ReceivedAt: time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC), ValuePence: 1000}, {ReceivedAt: time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC), ValuePence: 7}}}
	svc := accounting.NewService(accountingtest.NewMemStore(), func() time.Time { return now }, accounting.Sources{Payments: pays})
	ctx := context.Background()
	for _, e := range []ports.LedgerEvent{
		ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) {
			e.ID, e.At, e.ReceivedPence, e.AmountSats, e.RatePence = "s1", time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC), 4350, 87_000, 5_000_000
		}),
		ev(ports.LedgerOverpayment, func(e *ports.LedgerEvent) {
			e.ID, e.At, e.AmountPence, e.AmountSats, e.RatePence = "o1", time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC), 1000, 20_000, 5_000_000
		}),
		ev(ports.LedgerPostagePurchased, func(e *ports.LedgerEvent) {
			e.ID, e.At, e.AmountPence = "p1", time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC), 385
		}),
		ev(ports.LedgerRefund, func(e *ports.LedgerEvent) {
			e.ID, e.At, e.AmountPence = "r1", time.Date(2026, 4, 30, 23, 59, 0, 0, time.UTC), 1200
		}),
		ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) {
			e.ID, e.At, e.ReceivedPence, e.AmountSats, e.RatePence = "s2", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), 4350, 87_000, 5_000_000
		}),
	} {
		if _, _, err := svc.Post(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	tb, err := svc.TrialBalance(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	bal := map[string]int64{}
	for _, r := range tb.Rows {
		bal[r.Account.Code] = r.Net()
	}
	wantBal := map[string]int64{accounting.AccWallet: 5350 - 1200 + 4350, accounting.AccOutside: 0, accounting.AccOverpayments: 0, accounting.AccRefundsPayable: 0,
		accounting.AccPostagePayable: -385, accounting.AccSales: -8000, accounting.AccShipping: -700, accounting.AccRefunds: 200,
		accounting.AccPostage: 385, accounting.AccFX: 0}
	if fmt.Sprint(bal) != fmt.Sprint(wantBal) || tb.Net() != 0 || len(tb.Rows) != len(accounting.Chart) {
		t.Fatalf("trial balance %v (net %d), want %v", bal, tb.Net(), wantBal)
	}
	// As of the end of March: only the first payment.
	march, err := svc.TrialBalance(ctx, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || march.DebitBalances != 5350 || march.Net() != 0 {
		t.Fatalf("March %+v, %v", march, err)
	}

	ms, err := svc.MonthSummary(ctx, time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !ms.Month.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) || ms.Entries != 2 || ms.Payments != 2 || ms.PaymentsPence != 5352 ||
		ms.PaidOrders != 0 || ms.Sales != 0 || ms.Refunds != -200 || ms.Revenue != -200 || ms.Postage != 385 || ms.FX != 0 ||
		ms.Result != -200-385 {
		t.Fatalf("April %+v", ms)
	}
	for _, m := range ms.Accounts {
		if m.Account.Code == accounting.AccWallet && (m.Opening != 5350 || m.CreditPence != 1200 || m.Closing() != 4150) {
			t.Fatalf("wallet in April %+v", m)
		}
		if m.Account.Code == accounting.AccOverpayments && (m.Opening != -1000 || m.Closing() != 0 || m.CreditPence != 0 || m.DebitPence != 1000) {
			t.Fatalf("overpayments in April %+v", m)
		}
	}
	if _, err := accounting.ParseMonth("month", "2026-13"); ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("ParseMonth: %v", err)
	}
}

func TestStreams(t *testing.T) {
	orders := &fakeOrders{}
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range 450 {
		orders.unpaid = append(orders.unpaid, accounting.Order{Number: fmt.Sprint("OD-", i), CreatedAt: base.Add(-time.Duration(i) * time.Hour)})
	}
	svc := accounting.NewService(accountingtest.NewMemStore(), time.Now, accounting.Sources{Orders: orders})
	n := 0
	err := svc.StreamUnpaid(context.Background(), base.Add(-400*time.Hour), base.Add(time.Hour), func(o accounting.Order) error {
		if o.Number != fmt.Sprint("OD-", n) {
			return fmt.Errorf("order %d is %s", n, o.Number)
		}
		n++
		return nil
	})
	if err != nil || n != 401 {
		t.Fatalf("streamed %d, %v", n, err)
	}
	stop := errors.New("client went away")
	if err := svc.StreamUnpaid(context.Background(), time.Time{}, time.Time{}, func(accounting.Order) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("stop: %v", err)
	}
}
