package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/accounting"
	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
	"orderdesk/ports"
)

// accountingOrders lets accounting read orders through the ordering service, with
// their invoices from the payments service, translating to accounting's own types.
type accountingOrders struct {
	o *ordering.Service
	p *payments.Service
}

var _ accounting.Orders = accountingOrders{}

func badCursor() error {
	return ports.Invalid(ports.Field("after", "This page link is not valid any more: start from the first page."))
}

func (a accountingOrders) CountByStatus(ctx context.Context) (map[string]int, error) {
	counts, err := a.o.CountByStatus(ctx, ordering.StaffFilter{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(counts))
	for st, n := range counts {
		out[string(st)] = n
	}
	return out, nil
}

func (a accountingOrders) Unpaid(ctx context.Context, f accounting.UnpaidFilter) ([]accounting.Order, string, error) {
	sf := ordering.StaffFilter{Status: ordering.StatusPendingPayment, From: f.From, To: f.To, Limit: f.Limit}
	if f.After != "" {
		ts, id, _ := strings.Cut(f.After, "~")
		t, err := time.Parse(time.RFC3339Nano, ts)
		uid, err2 := uuid.Parse(id)
		if err != nil || err2 != nil {
			return nil, "", badCursor()
		}
		sf.After = &ordering.Cursor{CreatedAt: t, ID: uid}
	}
	os, next, err := a.o.StaffOrders(ctx, sf)
	if err != nil {
		return nil, "", err
	}
	ids := make([]uuid.UUID, len(os))
	for i := range os {
		ids[i] = os[i].ID
	}
	invs, err := a.p.ForOrders(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]accounting.Order, len(os))
	for i := range os {
		out[i] = accountingOrder(&os[i])
		if inv := invs[os[i].ID]; inv != nil {
			out[i].ExpiresAt, out[i].InvoiceURL = inv.ExpiresAt, inv.CheckoutLink
		}
	}
	cursor := ""
	if next != nil {
		cursor = next.CreatedAt.UTC().Format(time.RFC3339Nano) + "~" + next.ID.String()
	}
	return out, cursor, nil
}

func (a accountingOrders) OnHold(ctx context.Context, limit int) ([]accounting.Order, error) {
	os, _, err := a.o.StaffOrders(ctx, ordering.StaffFilter{Status: ordering.StatusOnHold, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]accounting.Order, len(os))
	for i := range os {
		out[i] = accountingOrder(&os[i])
	}
	return out, nil
}

func accountingOrder(o *ordering.Order) accounting.Order {
	return accounting.Order{ID: o.ID, Number: o.Number, Status: string(o.Status), TotalPence: o.TotalMinor, CreatedAt: o.CreatedAt}
}

// accountingPayments lets accounting read the payments received through the payments
// service. Its cursors are the payments module's, in JSON, base64url-encoded.
type accountingPayments struct{ p *payments.Service }

var _ accounting.Payments = accountingPayments{}

func toAccountingPayment(p payments.Payment) accounting.Payment {
	return accounting.Payment{ID: p.ID, OrderID: p.OrderID, OrderNumber: p.OrderNumber, InvoiceID: p.InvoiceID, Method: p.Method,
		TxID: p.TxID, AmountSats: p.AmountSats, RatePence: p.RatePence, ValuePence: p.ValuePence, Status: p.Status,
		ReceivedAt: p.ReceivedAt, ConfirmedAt: p.ConfirmedAt}
}

func (a accountingPayments) Received(ctx context.Context, f accounting.ReceivedFilter) ([]accounting.Payment, string, error) {
	rf := payments.ReceivedFilter{From: f.From, To: f.To, Limit: f.Limit}
	if f.After != "" {
		raw, err := base64.RawURLEncoding.DecodeString(f.After)
		var cur payments.ReceivedCursor
		if err != nil || json.Unmarshal(raw, &cur) != nil || cur.ReceivedAt.IsZero() {
			return nil, "", badCursor()
		}
		rf.After = &cur
	}
	ps, next, err := a.p.Received(ctx, rf)
	if err != nil {
		return nil, "", err
	}
	out := make([]accounting.Payment, len(ps))
	for i, p := range ps {
		out[i] = toAccountingPayment(p)
	}
	cursor := ""
	if next != nil {
		raw, _ := json.Marshal(next)
		cursor = base64.RawURLEncoding.EncodeToString(raw)
	}
	return out, cursor, nil
}

func (a accountingPayments) StreamReceived(ctx context.Context, from, to time.Time, fn func(accounting.Payment) error) error {
	return a.p.StreamReceived(ctx, from, to, func(p payments.Payment) error { return fn(toAccountingPayment(p)) })
}

func (a accountingPayments) ReceivedTotals(ctx context.Context, from, to time.Time) (int, int64, error) {
	return a.p.ReceivedTotals(ctx, from, to)
}

// newAccounting wires the accounting module to its store and to the other modules it
// reads.
func (a *App) newAccounting(db *postgres.DB, clock ports.Clock) *accounting.Service {
	return accounting.NewService(postgres.NewAccountingStore(db), clock, accounting.Sources{
		Orders: accountingOrders{o: a.Orders, p: a.Payments}, Payments: accountingPayments{a.Payments}, Stock: a.Catalog})
}

// explorerTxURL is the block explorer's URL template in the settings.
func (a *App) explorerTxURL(ctx context.Context) (string, error) {
	s, err := a.Settings.Get(ctx)
	if err != nil {
		return "", err
	}
	return s.BlockExplorerTxURL, nil
}
