package catalog

import (
	"context"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// TakeReserved records that a picked order's items left the shelf: each product's
// stock on hand and reserved count go down by what the order held, its reservations
// become committed, and a "sold" movement says so. Taking twice changes nothing. It
// joins the caller's transaction.
func (s *Service) TakeReserved(ctx context.Context, orderID uuid.UUID, note string) error {
	return s.store.TakeReserved(ctx, orderID, ports.ActorFrom(ctx).Name, note)
}

// ReturnTaken puts back on the shelf what TakeReserved took for an order (a picked
// order cancelled before it left), with a "returned" movement per product. Returning
// twice changes nothing. It joins the caller's transaction.
func (s *Service) ReturnTaken(ctx context.Context, orderID uuid.UUID, note string) error {
	return s.store.ReturnTaken(ctx, orderID, ports.ActorFrom(ctx).Name, note)
}

// PrimaryPhotos returns the primary photo of each of the products that has a ready one.
func (s *Service) PrimaryPhotos(ctx context.Context, productIDs []uuid.UUID) (map[uuid.UUID]Photo, error) {
	if len(productIDs) == 0 {
		return map[uuid.UUID]Photo{}, nil
	}
	return s.store.PrimaryPhotos(ctx, productIDs)
}
