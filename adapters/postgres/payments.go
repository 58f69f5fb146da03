package postgres

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"orderdesk/modules/payments"
	"orderdesk/ports"
)

// PaymentStore implements payments.Store on the payments schema.
type PaymentStore struct{ db *DB }

// NewPaymentStore returns the payment store.
func NewPaymentStore(db *DB) *PaymentStore { return &PaymentStore{db: db} }

var _ payments.Store = (*PaymentStore)(nil)

const invoiceColumns = `order_id, order_number, provider, invoice_id, status, amount_minor, subtotal_minor, shipping_minor,
	currency, expires_at, checkout_link, methods, last_error, gateway_status, additional_status, received_minor, received_sats,
	overpaid_minor, rate_pence, settled_at, synced_at, refund_id, refund_link, refund_policy, refund_minor, created_at, updated_at`

// Open inserts a pending invoice and its creation job.
func (s *PaymentStore) Open(ctx context.Context, inv *payments.Invoice, job ports.Job) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		// Nothing reads the insert's result: it goes with the transaction's next round trip.
		if err := tx.LaterNamed(`INSERT INTO payments.invoices (`+invoiceColumns+`) VALUES (:order_id, :order_number,
			:provider, :invoice_id, :status, :amount_minor, :subtotal_minor, :shipping_minor, :currency, :expires_at,
			:checkout_link, :methods, :last_error, :gateway_status, :additional_status, :received_minor, :received_sats,
			:overpaid_minor, :rate_pence, :settled_at, :synced_at, :refund_id, :refund_link, :refund_policy, :refund_minor,
			:created_at, :updated_at)`, inv); err != nil {
			return fmt.Errorf("insert invoice: %w", err)
		}
		return addJobs(ctx, tx, job)
	})
}

// Invoice returns an order's invoice.
func (s *PaymentStore) Invoice(ctx context.Context, orderID uuid.UUID) (*payments.Invoice, error) {
	var inv payments.Invoice
	if err := sqlx.GetContext(ctx, s.db.q(ctx), &inv, `SELECT `+invoiceColumns+` FROM payments.invoices WHERE order_id = $1`, orderID); err != nil {
		return nil, notFound(err, "No invoice for this order.")
	}
	return &inv, nil
}

// Invoices returns the invoices of several orders.
func (s *PaymentStore) Invoices(ctx context.Context, orderIDs []uuid.UUID) (map[uuid.UUID]*payments.Invoice, error) {
	var list []payments.Invoice
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &list, `SELECT `+invoiceColumns+` FROM payments.invoices
		WHERE order_id = ANY($1)`, orderIDs); err != nil {
		return nil, fmt.Errorf("invoices: %w", err)
	}
	out := make(map[uuid.UUID]*payments.Invoice, len(list))
	for i := range list {
		out[list[i].OrderID] = &list[i]
	}
	return out, nil
}

// WithInvoiceLocked locks the invoice row while fn runs and saves fn's changes; when
// fn changed nothing (an invoice already created, one not yet due to expire) the row
// is not written. The update goes with the transaction's next round trip (Tx.Later).
// fn sets fields to new values; it does not write through the
// invoice's pointers or into MethodsJSON, which the unchanged copy shares.
func (s *PaymentStore) WithInvoiceLocked(ctx context.Context, orderID uuid.UUID, fn func(*payments.Invoice) error) (*payments.Invoice, error) {
	var inv payments.Invoice
	err := s.db.inTx(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &inv, `SELECT `+invoiceColumns+` FROM payments.invoices WHERE order_id = $1 FOR UPDATE`, orderID); err != nil {
			return notFound(err, "No invoice for this order.")
		}
		read := inv
		if err := fn(&inv); err != nil {
			return err
		}
		if reflect.DeepEqual(read, inv) {
			return nil
		}
		return tx.LaterNamed(`UPDATE payments.invoices SET invoice_id = :invoice_id, status = :status,
			expires_at = :expires_at, checkout_link = :checkout_link, methods = :methods, last_error = :last_error,
			gateway_status = :gateway_status, additional_status = :additional_status, received_minor = :received_minor,
			received_sats = :received_sats, overpaid_minor = :overpaid_minor, rate_pence = :rate_pence, settled_at = :settled_at,
			synced_at = :synced_at, refund_id = :refund_id, refund_link = :refund_link, refund_policy = :refund_policy,
			refund_minor = :refund_minor, updated_at = :updated_at WHERE order_id = :order_id`, &inv)
	})
	if err != nil {
		return nil, err
	}
	return &inv, nil
}

// SetLastError records why the invoice could not be made at the gateway.
func (s *PaymentStore) SetLastError(ctx context.Context, orderID uuid.UUID, msg string, at time.Time) error {
	_, err := s.db.q(ctx).ExecContext(ctx, `UPDATE payments.invoices SET last_error = $2, updated_at = $3 WHERE order_id = $1`,
		orderID, msg, at)
	return err
}

// OrderIDsWithStatus lists the orders whose invoice has status.
func (s *PaymentStore) OrderIDsWithStatus(ctx context.Context, status payments.Status) ([]uuid.UUID, error) {
	var out []uuid.UUID
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `SELECT order_id FROM payments.invoices WHERE status = $1`, status); err != nil {
		return nil, fmt.Errorf("invoices by status: %w", err)
	}
	return out, nil
}

// Statuses returns the invoice status of each of the orders that has one.
func (s *PaymentStore) Statuses(ctx context.Context, orderIDs []uuid.UUID) (map[uuid.UUID]payments.Status, error) {
	var rows []struct {
		OrderID uuid.UUID       `db:"order_id"`
		Status  payments.Status `db:"status"`
	}
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &rows, `SELECT order_id, status FROM payments.invoices WHERE order_id = ANY($1)`,
		orderIDs); err != nil {
		return nil, fmt.Errorf("invoice statuses: %w", err)
	}
	out := make(map[uuid.UUID]payments.Status, len(rows))
	for _, r := range rows {
		out[r.OrderID] = r.Status
	}
	return out, nil
}

// InvoiceByGatewayID finds the invoice the gateway knows by id.
func (s *PaymentStore) InvoiceByGatewayID(ctx context.Context, invoiceID string) (*payments.Invoice, error) {
	var inv payments.Invoice
	if err := sqlx.GetContext(ctx, s.db.q(ctx), &inv, `SELECT `+invoiceColumns+` FROM payments.invoices WHERE invoice_id = $1`,
		invoiceID); err != nil {
		return nil, notFound(err, "No order has this invoice.")
	}
	return &inv, nil
}

// ToReconcile lists orders whose invoice is open, or expired since lateSince, least
// recently synced first.
func (s *PaymentStore) ToReconcile(ctx context.Context, lateSince time.Time, limit int) ([]uuid.UUID, error) {
	var out []uuid.UUID
	err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `SELECT order_id FROM (
			SELECT order_id, synced_at FROM payments.invoices
			WHERE status IN ('pending', 'confirming', 'partially_paid') AND invoice_id IS NOT NULL
			UNION ALL
			SELECT order_id, synced_at FROM payments.invoices
			WHERE status = 'expired' AND invoice_id IS NOT NULL AND updated_at >= $1
		) t ORDER BY synced_at NULLS FIRST LIMIT $2`, lateSince, limit)
	if err != nil {
		return nil, fmt.Errorf("invoices to reconcile: %w", err)
	}
	return out, nil
}

const paymentColumns = `invoice_id, payment_id, order_id, order_number, method, txid, amount_sats, rate_pence, value_minor,
	destination, status, received_at, confirmed_at`

// SavePayments upserts payments; the first confirmation time is kept.
func (s *PaymentStore) SavePayments(ctx context.Context, ps []payments.Payment) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		for i := range ps {
			if _, err := tx.NamedExecContext(ctx, `INSERT INTO payments.payments (`+paymentColumns+`) VALUES (:invoice_id,
				:payment_id, :order_id, :order_number, :method, :txid, :amount_sats, :rate_pence, :value_minor, :destination,
				:status, :received_at, :confirmed_at)
				ON CONFLICT (invoice_id, payment_id) DO UPDATE SET status = EXCLUDED.status, amount_sats = EXCLUDED.amount_sats,
					rate_pence = EXCLUDED.rate_pence, value_minor = EXCLUDED.value_minor,
					confirmed_at = COALESCE(payments.payments.confirmed_at, EXCLUDED.confirmed_at)
				WHERE (payments.payments.status, payments.payments.amount_sats, payments.payments.confirmed_at IS NULL)
					IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.amount_sats, EXCLUDED.confirmed_at IS NULL)`, &ps[i]); err != nil {
				return fmt.Errorf("save payment: %w", err)
			}
		}
		return nil
	})
}

// Payments lists an order's payments, oldest first.
func (s *PaymentStore) Payments(ctx context.Context, orderID uuid.UUID) ([]payments.Payment, error) {
	var out []payments.Payment
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `SELECT `+paymentColumns+` FROM payments.payments WHERE order_id = $1
		ORDER BY received_at, payment_id`, orderID); err != nil {
		return nil, fmt.Errorf("payments: %w", err)
	}
	return out, nil
}

// AddHistory records a payment status change (and a staff action's audit entry).
func (s *PaymentStore) AddHistory(ctx context.Context, h payments.HistoryEntry, audit *ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO payments.status_history (order_id, status, gateway_status,
			additional_status, source, note, at) VALUES (:order_id, :status, :gateway_status, :additional_status, :source, :note, :at)`,
			&h); err != nil {
			return fmt.Errorf("payment history: %w", err)
		}
		if audit != nil {
			return insertAudit(ctx, tx, *audit)
		}
		return nil
	})
}

// History lists an order's payment status changes, oldest first.
func (s *PaymentStore) History(ctx context.Context, orderID uuid.UUID) ([]payments.HistoryEntry, error) {
	var out []payments.HistoryEntry
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `SELECT id, order_id, status, gateway_status, additional_status, source,
		note, at FROM payments.status_history WHERE order_id = $1 ORDER BY id`, orderID); err != nil {
		return nil, fmt.Errorf("payment history: %w", err)
	}
	return out, nil
}

// AddJobs records jobs in the outbox in the caller's transaction.
func (s *PaymentStore) AddJobs(ctx context.Context, jobs ...ports.Job) error {
	return s.db.inTx(ctx, func(tx *Tx) error { return addJobs(ctx, tx, jobs...) })
}

// receivedWhere builds the filter of the payments-received list.
func receivedWhere(from, to time.Time, after *payments.ReceivedCursor) (string, []any) {
	where, args := []string{"TRUE"}, []any{}
	if !from.IsZero() {
		args = append(args, from)
		where = append(where, fmt.Sprintf("received_at >= $%d", len(args)))
	}
	if !to.IsZero() {
		args = append(args, to)
		where = append(where, fmt.Sprintf("received_at < $%d", len(args)))
	}
	if after != nil {
		args = append(args, after.ReceivedAt, after.InvoiceID, after.PaymentID)
		n := len(args)
		where = append(where, fmt.Sprintf("(received_at, invoice_id, payment_id) < ($%d, $%d, $%d)", n-2, n-1, n))
	}
	return strings.Join(where, " AND "), args
}

// Received lists payments received, newest first.
func (s *PaymentStore) Received(ctx context.Context, f payments.ReceivedFilter) ([]payments.Payment, error) {
	where, args := receivedWhere(f.From, f.To, f.After)
	args = append(args, f.Limit)
	var out []payments.Payment
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `SELECT `+paymentColumns+` FROM payments.payments WHERE `+where+
		fmt.Sprintf(` ORDER BY received_at DESC, invoice_id DESC, payment_id DESC LIMIT $%d`, len(args)), args...); err != nil {
		return nil, fmt.Errorf("payments received: %w", err)
	}
	return out, nil
}

// StreamReceived calls fn for each payment received in [from, to), newest first, a row
// at a time.
func (s *PaymentStore) StreamReceived(ctx context.Context, from, to time.Time, fn func(payments.Payment) error) error {
	where, args := receivedWhere(from, to, nil)
	rs, err := s.db.q(ctx).QueryxContext(ctx, `SELECT `+paymentColumns+` FROM payments.payments WHERE `+where+
		` ORDER BY received_at DESC, invoice_id DESC, payment_id DESC`, args...)
	if err != nil {
		return fmt.Errorf("payments received: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var p payments.Payment
		if err := rs.StructScan(&p); err != nil {
			return fmt.Errorf("payments received: %w", err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return rs.Err()
}

// ReceivedTotals counts the payments (not invalid) received in [from, to) (to zero:
// unbounded) and sums their value.
func (s *PaymentStore) ReceivedTotals(ctx context.Context, from, to time.Time) (int, int64, error) {
	var r struct {
		N     int   `db:"n"`
		Pence int64 `db:"pence"`
	}
	where, args := receivedWhere(from, to, nil)
	err := sqlx.GetContext(ctx, s.db.q(ctx), &r, `SELECT count(*) AS n, COALESCE(sum(value_minor), 0) AS pence
		FROM payments.payments WHERE `+where+` AND status <> 'invalid'`, args...)
	return r.N, r.Pence, err
}

const inboxColumns = `delivery_id, provider, event_type, store_id, invoice_id, body, deliveries, outcome, received_at,
	last_seen_at, processed_at`

// RecordWebhook keeps a delivery with its job, or counts a redelivery.
func (s *PaymentStore) RecordWebhook(ctx context.Context, d *payments.WebhookDelivery, job ports.Job) (bool, error) {
	isNew := false
	err := s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.NamedExecContext(ctx, `INSERT INTO payments.webhook_inbox (`+inboxColumns+`) VALUES (:delivery_id,
			:provider, :event_type, :store_id, :invoice_id, :body, :deliveries, :outcome, :received_at, :last_seen_at, :processed_at)
			ON CONFLICT (delivery_id) DO NOTHING`, d)
		if err != nil {
			return fmt.Errorf("webhook inbox: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			_, err := tx.ExecContext(ctx, `UPDATE payments.webhook_inbox SET deliveries = deliveries + 1, last_seen_at = $2
				WHERE delivery_id = $1`, d.DeliveryID, d.LastSeenAt)
			return err
		}
		isNew = true
		if job.ID == "" {
			return nil
		}
		return addJobs(ctx, tx, job)
	})
	return isNew, err
}

// Webhook returns a delivery from the inbox.
func (s *PaymentStore) Webhook(ctx context.Context, deliveryID string) (*payments.WebhookDelivery, error) {
	var d payments.WebhookDelivery
	if err := sqlx.GetContext(ctx, s.db.q(ctx), &d, `SELECT `+inboxColumns+` FROM payments.webhook_inbox WHERE delivery_id = $1`,
		deliveryID); err != nil {
		return nil, notFound(err, "No such webhook delivery.")
	}
	return &d, nil
}

// SetWebhookOutcome records what processing a delivery did.
func (s *PaymentStore) SetWebhookOutcome(ctx context.Context, deliveryID, outcome string, at time.Time) error {
	_, err := s.db.q(ctx).ExecContext(ctx, `UPDATE payments.webhook_inbox SET outcome = $2, processed_at = $3 WHERE delivery_id = $1`,
		deliveryID, outcome, at)
	return err
}

// Webhooks lists the most recent deliveries.
func (s *PaymentStore) Webhooks(ctx context.Context, limit int) ([]payments.WebhookDelivery, error) {
	var out []payments.WebhookDelivery
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `SELECT `+inboxColumns+` FROM payments.webhook_inbox
		ORDER BY received_at DESC LIMIT $1`, limit); err != nil {
		return nil, fmt.Errorf("webhook inbox: %w", err)
	}
	return out, nil
}
