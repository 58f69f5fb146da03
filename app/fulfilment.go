package app

import (
	"context"

	"github.com/google/uuid"

	"orderdesk/adapters/royalmail"
	"orderdesk/adapters/sandbox"
	"orderdesk/modules/catalog"
	"orderdesk/modules/fulfilment"
	"orderdesk/modules/ordering"
	"orderdesk/modules/settings"
	"orderdesk/ports"
)

// fulfilmentOrders lets fulfilment read and move orders through the ordering
// service, translating between the two modules' own types.
type fulfilmentOrders struct{ o *ordering.Service }

func toFulfilmentOrder(o *ordering.Order) fulfilment.Order {
	out := fulfilment.Order{ID: o.ID, Number: o.Number, Status: string(o.Status), Express: o.Express,
		ServiceCode: o.ShippingServiceCode, ServiceName: o.ShippingName, PackageFormat: o.PackageFormat,
		WeightGrams: o.WeightGrams, SubtotalPence: o.SubtotalMinor, ShippingPence: o.ShippingMinor, TotalPence: o.TotalMinor,
		PlacedAt: o.CreatedAt}
	for _, l := range o.Lines {
		sku := ""
		if l.SKU != nil {
			sku = *l.SKU
		}
		out.Lines = append(out.Lines, fulfilment.Line{ProductID: l.ProductID, SKU: sku, Name: l.Name, Quantity: l.Quantity,
			UnitPricePence: l.UnitPriceMinor, UnitWeightGrams: l.UnitWeightGrams})
	}
	return out
}

func (f fulfilmentOrders) Order(ctx context.Context, id uuid.UUID) (*fulfilment.Order, error) {
	o, err := f.o.Order(ctx, id)
	if err != nil {
		return nil, err
	}
	out := toFulfilmentOrder(o)
	return &out, nil
}

func (f fulfilmentOrders) Orders(ctx context.Context, ids []uuid.UUID) ([]fulfilment.Order, error) {
	return toFulfilmentOrders(f.o.Orders(ctx, ids))
}

func (f fulfilmentOrders) PickQueue(ctx context.Context, limit int) ([]fulfilment.Order, error) {
	return toFulfilmentOrders(f.o.PickQueue(ctx, limit))
}

// toFulfilmentOrders converts a list read from ordering, passing its error on.
func toFulfilmentOrders(os []ordering.Order, err error) ([]fulfilment.Order, error) {
	if err != nil {
		return nil, err
	}
	out := make([]fulfilment.Order, len(os))
	for i := range os {
		out[i] = toFulfilmentOrder(&os[i])
	}
	return out, nil
}

func (f fulfilmentOrders) Recipient(ctx context.Context, id uuid.UUID) (*ports.Recipient, error) {
	o, err := f.o.Order(ctx, id)
	if err != nil {
		return nil, err
	}
	a, err := f.o.Address(o)
	if err != nil {
		return nil, err
	}
	return &ports.Recipient{Name: a.Name, Line1: a.Line1, Line2: a.Line2, Line3: a.Line3, City: a.City, County: a.County,
		Postcode: a.Postcode, CountryCode: a.CountryCode, Phone: a.Phone}, nil
}

func (f fulfilmentOrders) MarkPicked(ctx context.Context, id uuid.UUID, note string) error {
	_, err := f.o.Transition(ctx, id, ordering.StatusPicked, note)
	return err
}

func (f fulfilmentOrders) MarkShipped(ctx context.Context, id uuid.UUID, n fulfilment.ShippedNotice) error {
	_, err := f.o.MarkShipped(ctx, id, ordering.Shipment{Carrier: n.Carrier, Service: n.Service,
		TrackingNumber: n.TrackingNumber, TrackingURL: n.TrackingURL})
	return err
}

func (f fulfilmentOrders) MarkDelivered(ctx context.Context, id uuid.UUID) error {
	_, err := f.o.Transition(ctx, id, ordering.StatusDelivered, "delivered, says Royal Mail's tracking")
	return err
}

func (f fulfilmentOrders) CancelPicked(ctx context.Context, id uuid.UUID, reason string) error {
	_, err := f.o.CancelPicked(ctx, id, reason)
	return err
}

func (f fulfilmentOrders) FixAddress(ctx context.Context, id uuid.UUID, r ports.Recipient) error {
	_, err := f.o.UpdateAddress(ctx, id, ordering.Address{Name: r.Name, Line1: r.Line1, Line2: r.Line2, Line3: r.Line3,
		City: r.City, County: r.County, Postcode: r.Postcode, CountryCode: r.CountryCode, Phone: r.Phone})
	return err
}

// fulfilmentStock lets fulfilment take picked goods off the catalog's stock and put
// them back, and show the products' photos.
type fulfilmentStock struct{ c *catalog.Service }

func (s fulfilmentStock) Take(ctx context.Context, orderID uuid.UUID, number string) error {
	return s.c.TakeReserved(ctx, orderID, number+" picked")
}

func (s fulfilmentStock) PutBack(ctx context.Context, orderID uuid.UUID, number string) error {
	return s.c.ReturnTaken(ctx, orderID, number+" cancelled after picking")
}

func (s fulfilmentStock) Thumbnails(ctx context.Context, productIDs []uuid.UUID) (map[uuid.UUID]string, error) {
	photos, err := s.c.PrimaryPhotos(ctx, productIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]string, len(photos))
	for id, ph := range photos {
		out[id] = ph.URLPath(catalog.RenditionThumb)
	}
	return out, nil
}

// shippingAdapters picks the carrier and tracker: Royal Mail Click & Drop (calls
// spaced by a limiter shared through Redis by every worker) or the sandbox, unless the
// options give their own. Tracking needs Royal Mail Tracking API credentials; without
// them there is no tracker and shipped orders stay shipped.
func (a *App) shippingAdapters(opts Options, clock ports.Clock) (ports.Carrier, ports.Tracker) {
	carrier, tracker := opts.Carrier, opts.Tracker
	if carrier != nil {
		return carrier, tracker
	}
	cfg := a.Config
	switch cfg.ShippingProvider {
	case "royalmail":
		carrier = royalmail.New(royalmail.Config{URL: cfg.RoyalMailAPIURL, APIKey: cfg.RoyalMailAPIKey, Clock: clock,
			Limiter: royalmail.NewRedisLimiter(a.redisCli, "orderdesk:royalmail:clickdrop", 1)})
		if tracker == nil && cfg.RoyalMailTrackingClientID != "" {
			tracker = royalmail.NewTracker(royalmail.TrackerConfig{URL: cfg.RoyalMailTrackingAPIURL,
				ClientID: cfg.RoyalMailTrackingClientID, ClientSecret: cfg.RoyalMailTrackingClientSecret,
				Limiter: royalmail.NewRedisLimiter(a.redisCli, "orderdesk:royalmail:tracking", 1)})
		}
	default:
		sc := sandbox.NewCarrier(clock)
		carrier = sc
		if tracker == nil {
			tracker = sandbox.NewTracker(sc, clock, 0)
		}
	}
	return carrier, tracker
}

// pushOnly reads the label-mode setting: push only for accounts without label access.
func (a *App) pushOnly(ctx context.Context) (bool, error) {
	s, err := a.Settings.Get(ctx)
	return s.LabelMode == settings.LabelModePushOnly, err
}

// slipPrices reads whether packing slips show prices.
func (a *App) slipPrices(ctx context.Context) (bool, error) {
	s, err := a.Settings.Get(ctx)
	return s.PackingSlipPrices, err
}
