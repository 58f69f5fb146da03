package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"orderdesk/modules/catalog"
)

// moveReserved changes the stock of the products an order's reservations in status
// from hold (locked in id order, as Reserve locks them) by sign × quantity, marks the
// reservations to, and records a movement with reason per product whose stock is
// counted. Reserved counts go down when the goods leave (sign −1).
func (s *CatalogStore) moveReserved(ctx context.Context, orderID uuid.UUID, from, to string, sign int, reason catalog.StockReason, actor, note string) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT p.id FROM catalog.products p WHERE p.id IN (
				SELECT product_id FROM catalog.reservations WHERE order_id = $1 AND status = $2)
			ORDER BY p.id FOR UPDATE OF p`, orderID, from); err != nil {
			return fmt.Errorf("lock products: %w", err)
		}
		reserved := "p.reserved"
		if sign < 0 {
			reserved = "greatest(p.reserved - m.quantity, 0)"
		}
		if _, err := tx.ExecContext(ctx, `WITH m AS (
				UPDATE catalog.reservations SET status = $3, updated_at = now()
				WHERE order_id = $1 AND status = $2 RETURNING product_id, quantity, counted),
			before AS (SELECT p.id, p.stock_on_hand FROM catalog.products p JOIN m ON m.product_id = p.id AND m.counted),
			moved AS (
				UPDATE catalog.products p SET stock_on_hand = greatest(p.stock_on_hand + $4 * m.quantity, 0),
					reserved = `+reserved+`, updated_at = now()
				FROM m WHERE p.id = m.product_id AND m.counted
				RETURNING p.id, p.stock_on_hand)
			INSERT INTO catalog.stock_movements (product_id, delta, balance_after, reason, note, actor)
			SELECT moved.id, moved.stock_on_hand - before.stock_on_hand, moved.stock_on_hand, $5, $6, $7
			FROM moved JOIN before ON before.id = moved.id`,
			orderID, from, to, sign, string(reason), note, actor); err != nil {
			return fmt.Errorf("stock %s: %w", reason, err)
		}
		return nil
	})
}

// TakeReserved commits an order's held reservations: the goods left the shelf.
func (s *CatalogStore) TakeReserved(ctx context.Context, orderID uuid.UUID, actor, note string) error {
	return s.moveReserved(ctx, orderID, "held", "committed", -1, catalog.ReasonSold, actor, note)
}

// ReturnTaken puts an order's committed goods back on the shelf.
func (s *CatalogStore) ReturnTaken(ctx context.Context, orderID uuid.UUID, actor, note string) error {
	return s.moveReserved(ctx, orderID, "committed", "released", 1, catalog.ReasonReturned, actor, note)
}

// PrimaryPhotos returns the ready primary photo of each product that has one.
func (s *CatalogStore) PrimaryPhotos(ctx context.Context, productIDs []uuid.UUID) (map[uuid.UUID]catalog.Photo, error) {
	var photos []catalog.Photo
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &photos, `SELECT `+photoColumns+` FROM catalog.photos
		WHERE product_id = ANY($1) AND is_primary AND status = 'ready'`, productIDs); err != nil {
		return nil, fmt.Errorf("primary photos: %w", err)
	}
	out := make(map[uuid.UUID]catalog.Photo, len(photos))
	for _, ph := range photos {
		out[ph.ProductID] = ph
	}
	return out, nil
}
