package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// Job types of the payments module besides invoice creation.
const (
	// JobSync re-reads an order's invoice at the gateway and applies what it says.
	JobSync = "payments:invoice.sync"
	// JobWebhook processes a gateway webhook delivery kept in the inbox.
	JobWebhook = "payments:webhook"
	// JobReconcile is the periodic re-reading of every invoice not yet final.
	JobReconcile = "payments:reconcile"
	// JobVoid marks a cancelled order's unpaid invoice invalid at the gateway.
	JobVoid = "payments:invoice.void"
)

// Sources of a payment status change, recorded in the history.
const (
	SourceWebhook   = "webhook"
	SourceReconcile = "reconcile"
	SourceClock     = "clock"
	SourceStaff     = "staff"
	SourceSandbox   = "sandbox"
)

// ExpiryGrace is how long after an invoice's expiry our own clock waits for the
// gateway before expiring the order itself (when the gateway cannot be reached).
const ExpiryGrace = 5 * time.Minute

// LateWindow is how long reconciliation keeps watching expired invoices for a late
// payment.
const LateWindow = 24 * time.Hour

// syncOptions carry what a staff decision adds to a sync.
type syncOptions struct {
	source string
	note   string
	// markedPaid is a payment made outside the gateway, recorded by staff.
	markedPaid bool
	audit      *ports.AuditEntry
}

// Sync re-reads an order's invoice at the gateway and applies it: the payments are
// stored, and when the payment status changes it is recorded once in the history and
// the order follows (paid → pick queue, expired → stock released, exceptions → on
// hold). Reading the same state twice changes nothing.
func (s *Service) Sync(ctx context.Context, orderID uuid.UUID, source string) (*Invoice, error) {
	return s.sync(ctx, orderID, syncOptions{source: source})
}

func (s *Service) sync(ctx context.Context, orderID uuid.UUID, opt syncOptions) (*Invoice, error) {
	var out *Invoice
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		var change *statusChange
		inv, err := s.store.WithInvoiceLocked(ctx, orderID, func(inv *Invoice) error {
			if inv.InvoiceID == nil {
				return ports.Errorf(ports.ECONFLICT, "The invoice of %s is not created at the gateway yet.", inv.OrderNumber)
			}
			gi, err := s.gateway.Invoice(ctx, *inv.InvoiceID)
			if err != nil {
				return fmt.Errorf("read invoice %s: %w", *inv.InvoiceID, err)
			}
			if gi.OrderID != "" && gi.OrderID != orderID.String() {
				return ports.Errorf(ports.ECONFLICT, "Invoice %s at the gateway belongs to order %s, not %s.", gi.ID, gi.OrderID, orderID)
			}
			change, err = s.apply(ctx, inv, gi, opt)
			return err
		})
		if err != nil {
			return err
		}
		out = inv
		return s.announce(ctx, inv, change, opt)
	})
	return out, err
}

// statusChange is a change of payment status to record after the invoice is saved.
type statusChange struct {
	from   Status
	to     Status
	effect Effect
	// settled: the invoice became paid for the first time (ledger posting due).
	settled bool
}

// apply copies the gateway's view of the invoice onto ours and stores its payments.
// It returns the status change, or nil when the status stays.
func (s *Service) apply(ctx context.Context, inv *Invoice, gi *ports.Invoice, opt syncOptions) (*statusChange, error) {
	now := s.clock()
	ps := make([]Payment, 0, len(gi.Payments))
	var sats, value int64
	for _, p := range gi.Payments {
		st := paymentStatus(p.Status)
		row := Payment{InvoiceID: gi.ID, ID: p.ID, OrderID: inv.OrderID, OrderNumber: inv.OrderNumber, Method: p.Method, TxID: p.TxID,
			AmountSats: p.AmountSats, RatePence: p.RatePence, ValuePence: p.ValuePence, Destination: p.Destination, Status: st,
			ReceivedAt: p.ReceivedAt.UTC()}
		if st == "settled" {
			t := now
			row.ConfirmedAt = &t
		}
		if st != "invalid" {
			sats += p.AmountSats
			value += p.ValuePence
		}
		ps = append(ps, row)
	}
	if len(ps) > 0 {
		if err := s.store.SavePayments(ctx, ps); err != nil {
			return nil, err
		}
	}
	gatewayMoved := inv.GatewayStatus != gi.Status
	inv.GatewayStatus, inv.AdditionalStatus = gi.Status, gi.AdditionalStatus
	inv.ReceivedSats, inv.ReceivedMinor = sats, value
	if len(gi.Methods) > 0 {
		inv.MethodsJSON, _ = json.Marshal(gi.Methods)
		if r := chainRate(gi.Methods); r > 0 {
			inv.RatePence = r
		}
	}
	if !gi.ExpiresAt.IsZero() {
		t := gi.ExpiresAt.UTC()
		inv.ExpiresAt = &t
	}
	t := now
	inv.SyncedAt = &t
	inv.UpdatedAt = now

	to, effect, err := FromGateway(gi.Status, gi.AdditionalStatus, sats)
	if err != nil {
		return nil, err
	}
	if inv.Status == StatusRefunded {
		// A refund is ours to record; the gateway still says "Settled".
		return nil, nil
	}
	if to == StatusOverpaid {
		inv.OverpaidMinor = max(0, value-inv.AmountMinor)
	}
	if to == inv.Status && gatewayMoved && effect != EffectNone {
		// The payment status stays but the gateway moved on (a partial payment's
		// invoice expired): the order has to follow.
		return &statusChange{from: to, to: to, effect: effect}, nil
	}
	return s.changeStatus(inv, to, effect), nil
}

// changeStatus sets the invoice's status and returns the change, or nil when it is
// the status it has.
func (s *Service) changeStatus(inv *Invoice, to Status, effect Effect) *statusChange {
	if inv.Status == to {
		return nil
	}
	c := &statusChange{from: inv.Status, to: to, effect: effect}
	inv.Status = to
	if to.Paid() && inv.SettledAt == nil {
		t := inv.UpdatedAt
		inv.SettledAt, c.settled = &t, true
	}
	return c
}

// announce records a status change in the history, asks for the ledger posting of a
// settlement and tells ordering, all in the caller's transaction.
func (s *Service) announce(ctx context.Context, inv *Invoice, c *statusChange, opt syncOptions) error {
	if c == nil {
		if opt.audit != nil {
			return s.store.AddHistory(ctx, HistoryEntry{OrderID: inv.OrderID, Status: inv.Status, GatewayStatus: inv.GatewayStatus,
				AdditionalStatus: inv.AdditionalStatus, Source: opt.source, Note: opt.note, At: s.clock()}, opt.audit)
		}
		return nil
	}
	if err := s.store.AddHistory(ctx, HistoryEntry{OrderID: inv.OrderID, Status: c.to, GatewayStatus: inv.GatewayStatus,
		AdditionalStatus: inv.AdditionalStatus, Source: opt.source, Note: opt.note, At: s.clock()}, opt.audit); err != nil {
		return err
	}
	if c.settled {
		if err := s.postSettlement(ctx, inv, c, opt); err != nil {
			return err
		}
	}
	if s.listener == nil {
		return nil
	}
	return s.listener.PaymentUpdated(ctx, inv.OrderID, string(c.to), c.effect, historyNote(c, opt))
}

func historyNote(c *statusChange, opt syncOptions) string {
	if opt.note != "" {
		return opt.note
	}
	return "payment " + strings.ReplaceAll(string(c.to), "_", " ")
}

// postSettlement asks the accounting module, through the outbox, to post the money
// of a settled invoice, once.
func (s *Service) postSettlement(ctx context.Context, inv *Invoice, c *statusChange, opt syncOptions) error {
	now := *inv.SettledAt
	kind := ports.LedgerPaymentSettled
	switch c.from {
	case StatusPartiallyPaid, StatusPaidLate, StatusInvalid, StatusExpired:
		kind = ports.LedgerLatePaymentAccepted
	}
	invID := ""
	if inv.InvoiceID != nil {
		invID = *inv.InvoiceID
	}
	received := inv.ReceivedMinor - inv.OverpaidMinor
	overSats := int64(0)
	if inv.OverpaidMinor > 0 && inv.ReceivedMinor > 0 {
		overSats = inv.ReceivedSats * inv.OverpaidMinor / inv.ReceivedMinor
	}
	memo := ""
	if opt.markedPaid {
		// Paid outside the gateway: the money did not arrive in the wallet by bitcoin.
		received, memo = inv.AmountMinor, "paid outside BTCPay: "+opt.note
	}
	events := []ports.LedgerEvent{{ID: "settled:" + inv.OrderID.String(), Kind: kind, At: now, OrderID: inv.OrderID.String(),
		OrderNumber: inv.OrderNumber, SubtotalPence: inv.SubtotalMinor, ShippingPence: inv.ShippingMinor, TotalPence: inv.AmountMinor,
		ReceivedPence: received, AmountSats: inv.ReceivedSats - overSats, RatePence: inv.RatePence, Memo: memo}}
	if inv.OverpaidMinor > 0 && !opt.markedPaid {
		events = append(events, ports.LedgerEvent{ID: "overpaid:" + inv.OrderID.String(), Kind: ports.LedgerOverpayment, At: now,
			OrderID: inv.OrderID.String(), OrderNumber: inv.OrderNumber, AmountPence: inv.OverpaidMinor, AmountSats: overSats,
			RatePence: inv.RatePence, Memo: "invoice " + invID})
	}
	jobs := make([]ports.Job, len(events))
	for i, e := range events {
		payload, _ := json.Marshal(e)
		jobs[i] = ports.Job{ID: "ledger:" + e.ID, Type: ports.JobLedgerPost, Payload: payload, Queue: ports.QueueDefault}
	}
	return s.store.AddJobs(ctx, jobs...)
}

// paymentStatus maps a gateway payment's status to ours.
func paymentStatus(s string) string {
	switch s {
	case "Settled":
		return "settled"
	case "Invalid":
		return "invalid"
	}
	return "confirming"
}

// chainRate is the rate of the on-chain method (else any), in pence per bitcoin.
func chainRate(ms []ports.PaymentMethod) int64 {
	var r int64
	for _, m := range ms {
		if m.Method == "BTC-CHAIN" && m.RatePence > 0 {
			return m.RatePence
		}
		if r == 0 {
			r = m.RatePence
		}
	}
	return r
}

type syncJob struct {
	OrderID uuid.UUID `json:"orderId"`
	Source  string    `json:"source"`
}

// SyncJob is the handler of JobSync.
func (s *Service) SyncJob(ctx context.Context, payload []byte) error {
	var j syncJob
	if err := json.Unmarshal(payload, &j); err != nil {
		return fmt.Errorf("sync job payload: %w", err)
	}
	_, err := s.Sync(ctx, j.OrderID, j.Source)
	if code := ports.ErrorCodeOf(err); code == ports.ENOTFOUND || code == ports.ECONFLICT {
		s.log.Warn("invoice sync skipped", "order_id", j.OrderID, "reason", err)
		return nil
	}
	return err
}

// ---- reconciliation

// Reconcile re-reads every invoice that is not final, and those expired within
// LateWindow (a late payment may still come), so that a missed webhook is caught
// within a run. When the gateway cannot be reached, an invoice past its expiry by
// ExpiryGrace is expired by our own clock.
func (s *Service) Reconcile(ctx context.Context) error {
	now := s.clock()
	ids, err := s.store.ToReconcile(ctx, now.Add(-LateWindow), 500)
	if err != nil {
		return err
	}
	var firstErr error
	for _, id := range ids {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		_, err := s.Sync(cctx, id, SourceReconcile)
		cancel()
		if err == nil {
			continue
		}
		code := ports.ErrorCodeOf(err)
		if code == ports.ECONFLICT || code == ports.ENOTFOUND {
			continue
		}
		if cerr := s.expireByClock(ctx, id); cerr != nil {
			return cerr
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		s.log.Warn("reconciliation could not reach the gateway for some invoices", "err", firstErr)
	}
	return nil
}

// expireByClock expires an order whose invoice is past expiry by ExpiryGrace while the
// gateway cannot say: nothing seen paid → expired; something paid → on hold.
func (s *Service) expireByClock(ctx context.Context, orderID uuid.UUID) error {
	now := s.clock()
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		var change *statusChange
		inv, err := s.store.WithInvoiceLocked(ctx, orderID, func(inv *Invoice) error {
			if inv.ExpiresAt == nil || now.Before(inv.ExpiresAt.Add(ExpiryGrace)) {
				return nil
			}
			switch {
			case inv.Status == StatusPending:
				change = s.changeStatus(inv, StatusExpired, EffectExpired)
			case inv.Status == StatusPartiallyPaid && inv.GatewayStatus != "Expired":
				// Still partially paid: only the order moves (to on hold). Our view of
				// the gateway's status says it expired, so the next run does not tell
				// the order (and the client app) again.
				change = &statusChange{from: inv.Status, to: inv.Status, effect: EffectHold}
			default:
				return nil
			}
			inv.GatewayStatus = "Expired"
			inv.UpdatedAt = now
			return nil
		})
		if err != nil || change == nil {
			return err
		}
		return s.announce(ctx, inv, change, syncOptions{source: SourceClock,
			note: "expired by our clock: the payment gateway could not be reached"})
	})
}

// ReconcileJob is the handler of JobReconcile.
func (s *Service) ReconcileJob(ctx context.Context, _ []byte) error { return s.Reconcile(ctx) }

// ---- webhooks

type webhookJob struct {
	DeliveryID string `json:"deliveryId"`
}

// ReceiveWebhook verifies a gateway webhook delivery over its raw body and keeps it in
// the inbox with the job that processes it. A forged delivery is EUNAUTHORIZED and
// nothing is recorded; a redelivery is recognised and not processed again.
func (s *Service) ReceiveWebhook(ctx context.Context, signature string, body []byte) error {
	ev, err := s.gateway.ParseWebhook(signature, body)
	if err != nil {
		return err
	}
	if ev.DeliveryID == "" {
		return ports.Invalid(ports.Field("deliveryId", "The delivery has no id."))
	}
	now := s.clock()
	d := &WebhookDelivery{DeliveryID: ev.DeliveryID, Provider: s.gateway.Name(), Type: ev.Type, StoreID: ev.StoreID,
		InvoiceID: ev.InvoiceID, Body: body, Deliveries: 1, Outcome: "queued", ReceivedAt: now, LastSeenAt: now}
	payload, _ := json.Marshal(webhookJob{DeliveryID: ev.DeliveryID})
	job := ports.Job{ID: JobWebhook + ":" + ev.DeliveryID, Type: JobWebhook, Payload: payload, Queue: ports.QueueCritical, MaxRetry: 25}
	if ev.Test || ev.InvoiceID == "" {
		d.Outcome = "ignored: not about an invoice"
		d.ProcessedAt = &now
		_, err := s.store.RecordWebhook(ctx, d, ports.Job{})
		return err
	}
	isNew, err := s.store.RecordWebhook(ctx, d, job)
	if err != nil {
		return err
	}
	if isNew && s.queue != nil {
		// The outbox would relay it too; this only saves its polling interval. The
		// queue drops the second copy by job id.
		if err := s.queue.Enqueue(ctx, job); err != nil {
			s.log.Warn("webhook job left to the outbox", "err", err)
		}
	}
	return nil
}

// WebhookJob processes a delivery from the inbox: it finds the order of the invoice
// and syncs it. Deliveries about invoices we do not know are recorded as ignored.
func (s *Service) WebhookJob(ctx context.Context, payload []byte) error {
	var j webhookJob
	if err := json.Unmarshal(payload, &j); err != nil {
		return fmt.Errorf("webhook job payload: %w", err)
	}
	d, err := s.store.Webhook(ctx, j.DeliveryID)
	if err != nil {
		if ports.ErrorCodeOf(err) == ports.ENOTFOUND {
			return nil
		}
		return err
	}
	if d.ProcessedAt != nil {
		return nil
	}
	inv, err := s.store.InvoiceByGatewayID(ctx, d.InvoiceID)
	if ports.ErrorCodeOf(err) == ports.ENOTFOUND {
		s.log.Info("webhook about an unknown invoice ignored", "delivery_id", d.DeliveryID, "invoice_id", d.InvoiceID, "type", d.Type)
		return s.store.SetWebhookOutcome(ctx, d.DeliveryID, "ignored: unknown invoice", s.clock())
	}
	if err != nil {
		return err
	}
	_, err = s.Sync(ctx, inv.OrderID, SourceWebhook)
	outcome := "processed"
	switch code := ports.ErrorCodeOf(err); {
	case err == nil:
	case code == ports.ENOTFOUND:
		// The gateway does not know the invoice in our store (another store's).
		outcome = "ignored: " + err.Error()
	case code == ports.ECONFLICT:
		outcome = "ignored: " + err.Error()
	default:
		return err
	}
	return s.store.SetWebhookOutcome(ctx, d.DeliveryID, outcome, s.clock())
}

// Webhooks lists the most recent webhook deliveries, for staff.
func (s *Service) Webhooks(ctx context.Context, limit int) ([]WebhookDelivery, error) {
	return s.store.Webhooks(ctx, limit)
}

// ---- for other modules and screens

// History lists an order's payment status changes, oldest first.
func (s *Service) History(ctx context.Context, orderID uuid.UUID) ([]HistoryEntry, error) {
	return s.store.History(ctx, orderID)
}

// Payments lists the payments received for an order, oldest first.
func (s *Service) Payments(ctx context.Context, orderID uuid.UUID) ([]Payment, error) {
	return s.store.Payments(ctx, orderID)
}

// Received lists payments received, newest first, a keyset page at a time.
func (s *Service) Received(ctx context.Context, f ReceivedFilter) ([]Payment, *ReceivedCursor, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	want := f.Limit
	f.Limit++
	ps, err := s.store.Received(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	if len(ps) <= want {
		return ps, nil, nil
	}
	ps = ps[:want]
	last := ps[want-1]
	return ps, &ReceivedCursor{ReceivedAt: last.ReceivedAt, InvoiceID: last.InvoiceID, PaymentID: last.ID}, nil
}

// StreamReceived calls fn for every payment received in [from, to), newest first.
func (s *Service) StreamReceived(ctx context.Context, from, to time.Time, fn func(Payment) error) error {
	return s.store.StreamReceived(ctx, from, to, fn)
}

// ReceivedTotals counts the payments (not invalid) received in [from, to) (to zero:
// unbounded) and sums their value.
func (s *Service) ReceivedTotals(ctx context.Context, from, to time.Time) (int, int64, error) {
	return s.store.ReceivedTotals(ctx, from, to)
}
