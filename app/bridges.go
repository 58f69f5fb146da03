package app

import (
	"context"

	"github.com/google/uuid"

	"orderdesk/modules/catalog"
	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
	"orderdesk/ports"
)

// catalogStock lets ordering reserve stock through the catalog's service, translating
// between the two modules' own types.
type catalogStock struct{ c *catalog.Service }

func (s catalogStock) Reserve(ctx context.Context, orderID uuid.UUID, items []ordering.StockRequest) ([]ordering.StockedProduct, error) {
	lines := make([]catalog.ReserveLine, len(items))
	for i, it := range items {
		lines[i] = catalog.ReserveLine{ProductID: it.ProductID, Quantity: it.Quantity}
	}
	ps, err := s.c.Reserve(ctx, orderID, lines)
	if err != nil {
		return nil, err
	}
	out := make([]ordering.StockedProduct, len(ps))
	for i, p := range ps {
		out[i] = ordering.StockedProduct{ProductID: p.ID, Name: p.Name, SKU: p.SKU, PriceMinor: p.PriceMinor,
			WeightUnit: string(p.WeightUnit), WeightMilli: p.WeightMilli, ShippingWeightGrams: *p.ShippingWeightGrams}
	}
	return out, nil
}

func (s catalogStock) Release(ctx context.Context, orderID uuid.UUID) error {
	return s.c.Release(ctx, orderID)
}

// paymentEvents passes the payments module's news to ordering, which is built after
// payments (it needs it), hence the late lookup through the App.
type paymentEvents struct{ a *App }

func (p paymentEvents) PaymentUpdated(ctx context.Context, orderID uuid.UUID, status string, effect payments.Effect, note string) error {
	return p.a.Orders.PaymentUpdated(ctx, orderID, status, string(effect), note)
}

func (p paymentEvents) RefundIssued(ctx context.Context, orderID uuid.UUID, claimLink string, amount ports.Money) error {
	return p.a.Orders.RefundIssued(ctx, orderID, claimLink, amount)
}
