package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// HasReceived reports whether the app's customer has a shipped or delivered order
// with a line of the product.
func (s *OrderStore) HasReceived(ctx context.Context, appID uuid.UUID, identityRef string, productID uuid.UUID) (bool, error) {
	var ok bool
	if err := sqlx.GetContext(ctx, s.db.q(ctx), &ok, `SELECT EXISTS (SELECT 1 FROM ordering.orders o
		JOIN ordering.order_lines l ON l.order_id = o.id
		WHERE o.app_id = $1 AND o.identity_ref = $2 AND o.status IN ('shipped', 'delivered') AND l.product_id = $3)`,
		appID, identityRef, productID); err != nil {
		return false, fmt.Errorf("has received: %w", err)
	}
	return ok, nil
}
