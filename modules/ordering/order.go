// Package ordering is the module for orders: placing them for client apps' customers
// with stock reserved, their state machine and history, shipping methods, idempotent
// placement, and the customers' help messages.
package ordering

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// Status is an order's state.
type Status string

// The order statuses of the contract.
const (
	StatusPendingPayment Status = "pending_payment"
	StatusProcessing     Status = "processing"
	StatusPicked         Status = "picked"
	StatusShipped        Status = "shipped"
	StatusDelivered      Status = "delivered"
	StatusOnHold         Status = "on_hold"
	StatusCancelled      Status = "cancelled"
	StatusExpired        Status = "expired"
	StatusRefunded       Status = "refunded"
)

// Statuses lists every status in the order of the workflow.
var Statuses = []Status{StatusPendingPayment, StatusProcessing, StatusPicked, StatusShipped, StatusDelivered,
	StatusOnHold, StatusCancelled, StatusExpired, StatusRefunded}

// Valid reports whether s is a status.
func (s Status) Valid() bool {
	for _, x := range Statuses {
		if s == x {
			return true
		}
	}
	return false
}

// transitions is the state machine: from each status, the statuses an order may move
// to. Anything else is refused.
var transitions = map[Status][]Status{
	StatusPendingPayment: {StatusProcessing, StatusOnHold, StatusCancelled, StatusExpired},
	StatusOnHold:         {StatusProcessing, StatusCancelled, StatusRefunded},
	StatusProcessing:     {StatusPicked, StatusCancelled, StatusOnHold},
	StatusPicked:         {StatusShipped, StatusProcessing, StatusCancelled}, // cancelled: by staff only (CancelPicked)
	StatusShipped:        {StatusDelivered},
	StatusDelivered:      {StatusRefunded},
	StatusCancelled:      {StatusRefunded},
	StatusExpired:        {StatusProcessing, StatusOnHold},
	StatusRefunded:       {},
}

// CanMove reports whether the state machine allows from → to.
func CanMove(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// HoldsStock reports whether an order in status s keeps its stock reserved.
func (s Status) HoldsStock() bool {
	switch s {
	case StatusCancelled, StatusExpired, StatusRefunded:
		return false
	}
	return true
}

// Line is one product of an order, with its name, price and weight as they were when
// the order was placed. The JSON names are the columns' (the store sends lines to
// PostgreSQL as JSON).
type Line struct {
	OrderID         uuid.UUID `db:"order_id" json:"order_id"`
	LineNo          int       `db:"line_no" json:"line_no"`
	ProductID       uuid.UUID `db:"product_id" json:"product_id"`
	Name            string    `db:"name" json:"name"`
	SKU             *string   `db:"sku" json:"sku"`
	UnitPriceMinor  int64     `db:"unit_price_minor" json:"unit_price_minor"`
	Quantity        int       `db:"quantity" json:"quantity"`
	WeightUnit      string    `db:"weight_unit" json:"weight_unit"`
	WeightMilli     *int64    `db:"weight_milli" json:"weight_milli"`
	UnitWeightGrams int       `db:"unit_weight_grams" json:"unit_weight_grams"`
	LineTotalMinor  int64     `db:"line_total_minor" json:"line_total_minor"`
}

// HistoryEntry records a change of status, by whom.
type HistoryEntry struct {
	ID        int64     `db:"id"`
	OrderID   uuid.UUID `db:"order_id"`
	Status    Status    `db:"status"`
	At        time.Time `db:"at"`
	ActorKind string    `db:"actor_kind"`
	Actor     string    `db:"actor"`
	Note      string    `db:"note"`
}

// Order is a customer's order, placed by a client app.
type Order struct {
	ID                  uuid.UUID `db:"id"`
	Number              string    `db:"number"`
	AppID               uuid.UUID `db:"app_id"`
	IdentityRef         string    `db:"identity_ref"`
	Status              Status    `db:"status"`
	ShippingMethodID    uuid.UUID `db:"shipping_method_id"`
	ShippingName        string    `db:"shipping_name"`
	ShippingServiceCode string    `db:"shipping_service_code"`
	PackageFormat       string    `db:"package_format"`
	Express             bool      `db:"express"`
	SubtotalMinor       int64     `db:"subtotal_minor"`
	ShippingMinor       int64     `db:"shipping_minor"`
	TotalMinor          int64     `db:"total_minor"`
	Currency            string    `db:"currency"`
	WeightGrams         int       `db:"weight_grams"`
	AddressSealed       []byte    `db:"address_sealed"`
	Note                string    `db:"note"`
	CancelReason        string    `db:"cancel_reason"`
	RefundDue           bool      `db:"refund_due"`
	CreatedAt           time.Time `db:"created_at"`
	UpdatedAt           time.Time `db:"updated_at"`

	Lines   []Line         `db:"-"`
	History []HistoryEntry `db:"-"`
}

// Move changes the order's status if the state machine allows it, and returns the
// history entry to record. Moving to the status it has is refused too, so that a
// caller never records a change that did not happen.
func (o *Order) Move(to Status, actor ports.Actor, note string, at time.Time) (HistoryEntry, error) {
	if !CanMove(o.Status, to) {
		return HistoryEntry{}, ports.Errorf(ports.ECONFLICT, "An order that is %s cannot become %s.", o.Status, to)
	}
	o.Status, o.UpdatedAt = to, at
	return HistoryEntry{OrderID: o.ID, Status: to, At: at, ActorKind: string(actor.Kind), Actor: actor.Name, Note: note}, nil
}

// PaymentTarget is where an order in status from goes when its payment asks for
// effect ("paid", "expired", "hold", "refunded"), and whether it moves at all: only
// where the state machine allows it, so a payment to a cancelled order or a second
// settlement leaves the order where it is.
func PaymentTarget(from Status, effect string) (Status, bool) {
	var to Status
	switch effect {
	case "paid":
		to = StatusProcessing
		if from != StatusPendingPayment && from != StatusExpired && from != StatusOnHold {
			return "", false
		}
	case "expired":
		to = StatusExpired
	case "hold":
		to = StatusOnHold
	case "refunded":
		to = StatusRefunded
	default:
		return "", false
	}
	if !CanMove(from, to) {
		return "", false
	}
	return to, true
}

// CancelOutcome says what cancelling an order in its current status means.
type CancelOutcome int

// The outcomes of a cancellation.
const (
	// CancelRefused: the order is picked or further along (or already over).
	CancelRefused CancelOutcome = iota
	// CancelUnpaid: nothing was paid; the order is cancelled and its stock released.
	CancelUnpaid
	// CancelPaid: the order was paid but not picked; it is cancelled, its stock
	// released, and staff must refund the customer.
	CancelPaid
)

// CancelRule applies the contract's cancellation rule to status s.
func CancelRule(s Status) CancelOutcome {
	switch s {
	case StatusPendingPayment:
		return CancelUnpaid
	case StatusProcessing, StatusOnHold:
		return CancelPaid
	}
	return CancelRefused
}

// FormatNumber renders the human-friendly order number.
func FormatNumber(n int64) string { return fmt.Sprintf("OD-%d", n) }
