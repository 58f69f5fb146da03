package accounting

import (
	"context"
	"slices"
	"time"

	"orderdesk/ports"
)

// IncomeAccounts are the accounts whose net credits are the shop's revenue: sales and
// shipping, less refunds.
var IncomeAccounts = []string{AccSales, AccShipping, AccRefunds}

// Day is the UTC day that contains t, as its midnight.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Month is the first day (UTC) of the month that contains t.
func Month(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// Period is the payments received since a time.
type Period struct {
	Label string
	Since time.Time
	Count int
	Pence int64
}

// Point is one bar of a revenue chart: the net income of a day or a month.
type Point struct {
	Start time.Time
	Pence int64
}

// StatusCount is the number of orders in one status.
type StatusCount struct {
	Status string
	Count  int
}

// orderStatuses is the workflow order of the order statuses of the contract, in which
// the dashboard lists them.
var orderStatuses = []string{"pending_payment", "processing", "picked", "shipped", "delivered", "on_hold", "cancelled",
	"expired", "refunded"}

// Dashboard is the accountant's overview.
type Dashboard struct {
	At time.Time
	// Orders waiting for payment, and what they are worth.
	PendingCount int
	PendingPence int64
	// Payments received today, in the last 7 and in the last 30 days (UTC days).
	Received []Period
	// Orders paid in the last 30 days, their sales and shipping, and the average.
	PaidOrders   int
	PaidPence    int64
	AveragePence int64
	ByStatus     []StatusCount
	// The most recent orders on hold, and how many there are.
	OnHold      []Order
	OnHoldCount int
	LowStock    int
	// Revenue of each of the last 30 days, and of each of the last 12 months.
	Daily   []Point
	Monthly []Point
}

// dashboardOnHold is how many on-hold orders the dashboard lists.
const dashboardOnHold = 10

// Dashboard gathers the accountant's overview.
func (s *Service) Dashboard(ctx context.Context) (*Dashboard, error) {
	now := s.clock().UTC()
	today := Day(now)
	d := &Dashboard{At: now}
	if err := s.StreamUnpaid(ctx, time.Time{}, time.Time{}, func(o Order) error {
		d.PendingCount++
		d.PendingPence += o.TotalPence
		return nil
	}); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		label string
		days  int
	}{{"today", 1}, {"in the last 7 days", 7}, {"in the last 30 days", 30}} {
		since := today.AddDate(0, 0, 1-p.days)
		n, pence, err := s.src.Payments.ReceivedTotals(ctx, since, time.Time{})
		if err != nil {
			return nil, err
		}
		d.Received = append(d.Received, Period{Label: p.label, Since: since, Count: n, Pence: pence})
	}
	var err error
	d.PaidOrders, d.PaidPence, err = s.store.PaidOrders(ctx, today.AddDate(0, 0, -29), today.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	if d.PaidOrders > 0 {
		d.AveragePence = (d.PaidPence + int64(d.PaidOrders)/2) / int64(d.PaidOrders)
	}
	counts, err := s.src.Orders.CountByStatus(ctx)
	if err != nil {
		return nil, err
	}
	d.ByStatus = statusCounts(counts)
	d.OnHoldCount = counts["on_hold"]
	if d.OnHold, err = s.src.Orders.OnHold(ctx, dashboardOnHold); err != nil {
		return nil, err
	}
	if d.LowStock, err = s.src.Stock.CountLowStock(ctx); err != nil {
		return nil, err
	}
	d.Daily, d.Monthly, err = s.revenue(ctx, today)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// statusCounts lists counts in the workflow's order of statuses, every known status
// included, then any other status.
func statusCounts(counts map[string]int) []StatusCount {
	out := make([]StatusCount, 0, len(counts))
	for _, st := range orderStatuses {
		out = append(out, StatusCount{Status: st, Count: counts[st]})
	}
	var other []string
	for st := range counts {
		if !slices.Contains(orderStatuses, st) {
			other = append(other, st)
		}
	}
	slices.Sort(other)
	for _, st := range other {
		out = append(out, StatusCount{Status: st, Count: counts[st]})
	}
	return out
}

// revenue is the net income of each of the 30 days up to today and of each of the 12
// months up to this one.
func (s *Service) revenue(ctx context.Context, today time.Time) (daily, monthly []Point, err error) {
	firstMonth := Month(today).AddDate(0, -11, 0)
	firstDay := today.AddDate(0, 0, -29)
	from := firstMonth
	if firstDay.Before(from) {
		from = firstDay
	}
	totals, err := s.store.DailyTotals(ctx, from, today.AddDate(0, 0, 1), IncomeAccounts)
	if err != nil {
		return nil, nil, err
	}
	for i := range 30 {
		daily = append(daily, Point{Start: firstDay.AddDate(0, 0, i)})
	}
	for i := range 12 {
		monthly = append(monthly, Point{Start: firstMonth.AddDate(0, i, 0)})
	}
	for _, t := range totals {
		net := t.CreditPence - t.DebitPence
		if i := int(t.Day.Sub(firstDay).Hours() / 24); t.Day.Compare(firstDay) >= 0 && i < len(daily) {
			daily[i].Pence += net
		}
		m := Month(t.Day)
		if i := (m.Year()-firstMonth.Year())*12 + int(m.Month()-firstMonth.Month()); i >= 0 && i < len(monthly) {
			monthly[i].Pence += net
		}
	}
	return daily, monthly, nil
}

// BalanceRow is an account's debits and credits up to the trial balance's date.
type BalanceRow struct {
	Account     Account
	DebitPence  int64
	CreditPence int64
}

// Net is the account's balance, debits positive.
func (r BalanceRow) Net() int64 { return r.DebitPence - r.CreditPence }

// DebitBalance is the balance when it is a debit, else 0.
func (r BalanceRow) DebitBalance() int64 { return max(r.Net(), 0) }

// CreditBalance is the balance when it is a credit, else 0.
func (r BalanceRow) CreditBalance() int64 { return max(-r.Net(), 0) }

// TrialBalance lists every account's balance; in a sound ledger the debit balances
// equal the credit balances (Net is zero).
type TrialBalance struct {
	// To is the end of the period (exclusive): the balance is as of the day before.
	To             time.Time
	Rows           []BalanceRow
	DebitPence     int64
	CreditPence    int64
	DebitBalances  int64
	CreditBalances int64
}

// Net is the sum of every account's balance: zero when the ledger balances.
func (t *TrialBalance) Net() int64 { return t.DebitBalances - t.CreditBalances }

// TrialBalance returns the balance of every account of the chart from the first entry
// up to (not including) the UTC day of to; a zero to means up to now.
func (s *Service) TrialBalance(ctx context.Context, to time.Time) (*TrialBalance, error) {
	if to.IsZero() {
		to = Day(s.clock()).AddDate(0, 0, 1)
	}
	totals, err := s.store.AccountTotals(ctx, time.Time{}, Day(to))
	if err != nil {
		return nil, err
	}
	tb := &TrialBalance{To: Day(to)}
	for _, a := range Chart {
		r := BalanceRow{Account: a}
		for _, t := range totals {
			if t.Account == a.Code {
				r.DebitPence, r.CreditPence = t.DebitPence, t.CreditPence
			}
		}
		tb.Rows = append(tb.Rows, r)
		tb.DebitPence += r.DebitPence
		tb.CreditPence += r.CreditPence
		tb.DebitBalances += r.DebitBalance()
		tb.CreditBalances += r.CreditBalance()
	}
	return tb, nil
}

// Movement is an account's balance at the start of a month, its debits and credits
// in the month, and its balance at the end (balances debit positive).
type Movement struct {
	Account     Account
	Opening     int64
	DebitPence  int64
	CreditPence int64
}

// Closing is the balance at the end of the month.
func (m Movement) Closing() int64 { return m.Opening + m.DebitPence - m.CreditPence }

// MonthSummary is the printable summary of a month.
type MonthSummary struct {
	Month    time.Time
	Next     time.Time
	Accounts []Movement
	// Net income of the month per income account, and its sum.
	Sales, Shipping, Refunds, Revenue int64
	// Postage and rounding/FX differences: their net debits.
	Postage, FX int64
	// Result is revenue less postage and differences.
	Result int64
	// Orders paid in the month, their sales and shipping, and the average.
	PaidOrders   int
	PaidPence    int64
	AveragePence int64
	// Payments received in the month.
	Payments      int
	PaymentsPence int64
	Entries       int
}

// MonthSummary sums up the month (UTC) that contains month.
func (s *Service) MonthSummary(ctx context.Context, month time.Time) (*MonthSummary, error) {
	start := Month(month)
	end := start.AddDate(0, 1, 0)
	ms := &MonthSummary{Month: start, Next: end}
	before, err := s.store.AccountTotals(ctx, time.Time{}, start)
	if err != nil {
		return nil, err
	}
	during, err := s.store.AccountTotals(ctx, start, end)
	if err != nil {
		return nil, err
	}
	for _, a := range Chart {
		m := Movement{Account: a}
		for _, t := range before {
			if t.Account == a.Code {
				m.Opening = t.DebitPence - t.CreditPence
			}
		}
		for _, t := range during {
			if t.Account == a.Code {
				m.DebitPence, m.CreditPence = t.DebitPence, t.CreditPence
			}
		}
		ms.Accounts = append(ms.Accounts, m)
		net := m.CreditPence - m.DebitPence
		switch a.Code {
		case AccSales:
			ms.Sales = net
		case AccShipping:
			ms.Shipping = net
		case AccRefunds:
			ms.Refunds = net
		case AccPostage:
			ms.Postage = -net
		case AccFX:
			ms.FX = -net
		}
	}
	ms.Revenue = ms.Sales + ms.Shipping + ms.Refunds
	ms.Result = ms.Revenue - ms.Postage - ms.FX
	if ms.PaidOrders, ms.PaidPence, err = s.store.PaidOrders(ctx, start, end); err != nil {
		return nil, err
	}
	if ms.PaidOrders > 0 {
		ms.AveragePence = (ms.PaidPence + int64(ms.PaidOrders)/2) / int64(ms.PaidOrders)
	}
	if ms.Entries, err = s.store.CountEntries(ctx, start, end); err != nil {
		return nil, err
	}
	if ms.Payments, ms.PaymentsPence, err = s.src.Payments.ReceivedTotals(ctx, start, end); err != nil {
		return nil, err
	}
	return ms, nil
}

// ParseMonth reads a month written "2026-05". Errors: EINVALID naming field.
func ParseMonth(field, s string) (time.Time, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Year() < 2000 || t.Year() > 9999 {
		return time.Time{}, ports.Invalid(ports.Field(field, "Use a month like 2026-01."))
	}
	return t, nil
}
