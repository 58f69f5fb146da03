package postgres

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// SandboxInvoices keeps the sandbox payment gateway's invoices (sandbox.invoices) as
// JSON documents. It joins the caller's transaction, like every store, so that the
// sandbox never needs a second connection while the invoice row of an order is locked.
type SandboxInvoices struct{ db *DB }

// NewSandboxInvoices returns the sandbox gateway's store.
func NewSandboxInvoices(db *DB) *SandboxInvoices { return &SandboxInvoices{db: db} }

// Get returns the document of an invoice by id, or by order id when byOrder.
func (s *SandboxInvoices) Get(ctx context.Context, key string, byOrder bool) ([]byte, error) {
	col := "id"
	if byOrder {
		col = "order_id"
	}
	var data []byte
	if err := sqlx.GetContext(ctx, s.db.q(ctx), &data, `SELECT data FROM sandbox.invoices WHERE `+col+` = $1`, key); err != nil {
		return nil, notFound(err, "No such sandbox invoice.")
	}
	return data, nil
}

// Insert stores a new invoice; inserted is false when the order has one already.
func (s *SandboxInvoices) Insert(ctx context.Context, id, orderID string, data []byte) (inserted bool, err error) {
	res, err := s.db.q(ctx).ExecContext(ctx, `INSERT INTO sandbox.invoices (id, order_id, data) VALUES ($1, $2, $3)
		ON CONFLICT (order_id) DO NOTHING`, id, orderID, data)
	if err != nil {
		return false, fmt.Errorf("sandbox invoice: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Update locks an invoice, lets fn change its document and saves it.
func (s *SandboxInvoices) Update(ctx context.Context, id string, fn func(data []byte) ([]byte, error)) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		var data []byte
		if err := tx.GetContext(ctx, &data, `SELECT data FROM sandbox.invoices WHERE id = $1 FOR UPDATE`, id); err != nil {
			return notFound(err, "No such sandbox invoice.")
		}
		next, err := fn(data)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sandbox.invoices SET data = $2, updated_at = now() WHERE id = $1`, id, next)
		return err
	})
}
