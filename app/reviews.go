package app

import (
	"context"

	"github.com/google/uuid"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/catalog"
	"orderdesk/modules/reviews"
	"orderdesk/ports"
)

// newReviews builds the reviews module: eligibility is ordering's answer, products
// are the catalog's, and auto-approval is the shop's setting.
func (a *App) newReviews(db *postgres.DB, clock ports.Clock) *reviews.Service {
	return reviews.NewService(reviews.Config{
		Store:     postgres.NewReviewStore(db),
		Products:  reviewProducts{a.Catalog},
		Purchases: a.Orders,
		AutoApprove: func(ctx context.Context) (bool, error) {
			s, err := a.Settings.Get(ctx)
			return s.ReviewsAutoApprove, err
		},
		Clock: clock,
	})
}

// reviewProducts answers the reviews module's questions about products through the
// catalog's service.
type reviewProducts struct{ c *catalog.Service }

func (p reviewProducts) OnSale(ctx context.Context, id uuid.UUID) error {
	_, err := p.c.PublicProduct(ctx, id)
	return err
}

// Names looks the products up in one query.
func (p reviewProducts) Names(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	return p.c.ProductNames(ctx, ids)
}
