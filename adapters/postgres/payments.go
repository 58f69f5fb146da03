package postgres

import (
	"context"
	"fmt"

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

const invoiceColumns = `order_id, order_number, provider, invoice_id, status, amount_minor, currency, expires_at, checkout_link,
	methods, last_error, created_at, updated_at`

// Open inserts a pending invoice and its creation job.
func (s *PaymentStore) Open(ctx context.Context, inv *payments.Invoice, job ports.Job) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO payments.invoices (`+invoiceColumns+`) VALUES (:order_id, :order_number,
			:provider, :invoice_id, :status, :amount_minor, :currency, :expires_at, :checkout_link, :methods, :last_error,
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

// WithInvoiceLocked locks the invoice row while fn runs and saves fn's changes.
func (s *PaymentStore) WithInvoiceLocked(ctx context.Context, orderID uuid.UUID, fn func(*payments.Invoice) error) (*payments.Invoice, error) {
	var inv payments.Invoice
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &inv, `SELECT `+invoiceColumns+` FROM payments.invoices WHERE order_id = $1 FOR UPDATE`, orderID); err != nil {
			return notFound(err, "No invoice for this order.")
		}
		if err := fn(&inv); err != nil {
			return err
		}
		_, err := tx.NamedExecContext(ctx, `UPDATE payments.invoices SET invoice_id = :invoice_id, status = :status,
			expires_at = :expires_at, checkout_link = :checkout_link, methods = :methods, last_error = :last_error,
			updated_at = :updated_at WHERE order_id = :order_id`, &inv)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &inv, nil
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
