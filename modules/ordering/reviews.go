package ordering

import (
	"context"

	"github.com/google/uuid"
)

// HasReceived reports whether the client app's customer has an order that contains
// the product and has left the shop (shipped or delivered): the condition the reviews
// module puts on reviewing a product.
func (s *Service) HasReceived(ctx context.Context, appID uuid.UUID, identityRef string, productID uuid.UUID) (bool, error) {
	return s.store.HasReceived(ctx, appID, identityRef, productID)
}
