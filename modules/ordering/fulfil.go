package ordering

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// EventShipped tells the client app that its order left with the carrier, with the
// tracking number and the public tracking page.
const EventShipped = "order.shipped"

// Shipment is what the carrier gave for an order's parcel, as the client app is told.
type Shipment struct {
	Carrier        string
	Service        string
	TrackingNumber string
	TrackingURL    string
}

// Orders returns several orders with their lines and history, in the order of ids
// (a batch of pick lists or packing slips); an id that is not an order is ENOTFOUND.
func (s *Service) Orders(ctx context.Context, ids []uuid.UUID) ([]Order, error) {
	os, err := s.store.Orders(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[uuid.UUID]*Order, len(os))
	for i := range os {
		byID[os[i].ID] = &os[i]
	}
	out := make([]Order, len(ids))
	for i, id := range ids {
		o, ok := byID[id]
		if !ok {
			return nil, ports.Errorf(ports.ENOTFOUND, "No such order.")
		}
		out[i] = *o
	}
	return out, nil
}

// PickQueue lists the paid orders waiting to be picked (processing), express first,
// then oldest first, with their lines.
func (s *Service) PickQueue(ctx context.Context, limit int) ([]Order, error) {
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	return s.store.PickQueue(ctx, limit)
}

// MarkShipped moves a picked order to shipped and tells the client app twice, in the
// caller's transaction: order.status_changed like every change of status, and
// order.shipped with the tracking number and URL.
func (s *Service) MarkShipped(ctx context.Context, id uuid.UUID, sh Shipment) (*Order, error) {
	var out *Order
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		note := strings.TrimSpace(sh.Carrier + " " + sh.TrackingNumber)
		o, err := s.store.UpdateOrder(ctx, id, func(o *Order) (Change, error) {
			if o.Status != StatusPicked {
				return Change{}, ports.Errorf(ports.ECONFLICT, "An order that is %s cannot become shipped.", o.Status)
			}
			h, err := o.Move(StatusShipped, ports.ActorFrom(ctx), note, s.clock())
			if err != nil {
				return Change{}, err
			}
			return Change{History: &h, Audit: staffAudit(ctx, "order.status", o, o.Number+": picked → shipped "+note)}, nil
		})
		if err != nil {
			return err
		}
		out = o
		if err := s.events.Publish(ctx, o.AppID, EventStatusChanged, o.ID.String(), EventData(o)); err != nil {
			return err
		}
		data := EventData(o)
		data["carrier"], data["service"] = sh.Carrier, sh.Service
		data["trackingNumber"], data["trackingUrl"] = sh.TrackingNumber, sh.TrackingURL
		return s.events.Publish(ctx, o.AppID, EventShipped, o.ID.String(), data)
	})
	return out, err
}

// CancelPicked cancels a picked order on the staff's word, which must give a reason:
// unlike Cancel (the customer's rule, which stops at picking), staff may still stop a
// parcel that has not left. The order was paid, so a refund is due. Its stock is not
// released here: the picked items left the shelf, and the fulfilment module puts them
// back. It joins the caller's transaction.
func (s *Service) CancelPicked(ctx context.Context, id uuid.UUID, reason string) (*Order, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 || strings.ContainsFunc(reason, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	}) {
		return nil, ports.Invalid(ports.Field("reason", "Say why the order is cancelled, in at most 500 characters; the customer's app is told."))
	}
	var out *Order
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		o, err := s.store.UpdateOrder(ctx, id, func(o *Order) (Change, error) {
			if o.Status != StatusPicked {
				return Change{}, ports.Errorf(ports.ECONFLICT, "Order %s is %s, not picked.", o.Number, o.Status)
			}
			h, err := o.Move(StatusCancelled, ports.ActorFrom(ctx), reason, s.clock())
			if err != nil {
				return Change{}, err
			}
			o.CancelReason, o.RefundDue = reason, true
			return Change{History: &h, Audit: staffAudit(ctx, "order.cancel", o, o.Number+": "+reason+" (after picking; refund due)")}, nil
		})
		if err != nil {
			return err
		}
		// Whatever is still merely reserved (nothing, once the picking took the stock)
		// is released; releasing is idempotent.
		if err := s.stock.Release(ctx, id); err != nil {
			return err
		}
		if err := s.payments.OrderCancelled(ctx, id); err != nil {
			return err
		}
		out = o
		return s.events.Publish(ctx, o.AppID, EventStatusChanged, o.ID.String(), EventData(o))
	})
	return out, err
}

// UpdateAddress replaces an order's shipping address before it ships (a parcel the
// carrier refused for a bad postcode, a customer who moved). The address is validated
// like a new order's (fields named without a prefix) and sealed; the audit entry says
// that it changed, never what it says. It joins the caller's transaction.
func (s *Service) UpdateAddress(ctx context.Context, id uuid.UUID, a Address) (*Order, error) {
	a.Normalize()
	if errs := a.Validate(""); len(errs) > 0 {
		return nil, ports.Invalid(errs...)
	}
	plain, _ := json.Marshal(a)
	sealed, err := s.sealer.Seal(plain)
	if err != nil {
		return nil, fmt.Errorf("seal address: %w", err)
	}
	return s.store.UpdateOrder(ctx, id, func(o *Order) (Change, error) {
		switch o.Status {
		case StatusPendingPayment, StatusProcessing, StatusOnHold, StatusPicked:
		default:
			return Change{}, ports.Errorf(ports.ECONFLICT, "The address of an order that is %s can no longer change.", o.Status)
		}
		o.AddressSealed, o.UpdatedAt = sealed, s.clock()
		a := ports.Audit(ctx, "order.address", "order", o.ID.String(), o.Number+": shipping address corrected")
		return Change{Audit: &a}, nil
	})
}
