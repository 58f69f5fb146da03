package postgres

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"orderdesk/modules/ordering"
)

// PickQueue returns the processing orders with their lines, express first, then
// oldest first.
func (s *OrderStore) PickQueue(ctx context.Context, limit int) ([]ordering.Order, error) {
	q := s.db.q(ctx)
	var out []ordering.Order
	if err := sqlx.SelectContext(ctx, q, &out, `SELECT `+orderColumns+` FROM ordering.orders
		WHERE status = 'processing' ORDER BY express DESC, created_at, id LIMIT $1`, limit); err != nil {
		return nil, fmt.Errorf("pick queue: %w", err)
	}
	return out, s.detailsOf(ctx, q, out)
}
