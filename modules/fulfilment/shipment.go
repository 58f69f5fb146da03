// Package fulfilment is the module that gets paid orders to the customer: the pick
// queue, the shipment of each picked order at the carrier (Royal Mail Click & Drop, or
// the sandbox) with its label and tracking numbers, tracking until delivery, and the
// papers packers print (labels, pick lists, packing slips).
package fulfilment

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// State is how far a shipment got with the carrier.
type State string

// The shipment states. A shipment is made queued when the packer presses Picked; the
// registration job moves it on.
const (
	// StateQueued: picked; the registration job is queued.
	StateQueued State = "queued"
	// StateRegistering: a worker has started talking to the carrier; the carrier may
	// have the order already, so the next attempt looks it up before creating one.
	StateRegistering State = "registering"
	// StateCreated: the carrier has the order, but the label or the tracking number
	// is still missing.
	StateCreated State = "created"
	// StatePushOnly: the carrier has the order without a label (an account without
	// label access): staff print the label in Click & Drop and a periodic job reads
	// the tracking number back.
	StatePushOnly State = "push_only"
	// StateShipped: the label and tracking number are stored; the order is shipped.
	StateShipped State = "shipped"
	// StateDelivered: the carrier's tracking says every piece arrived.
	StateDelivered State = "delivered"
	// StateFailed: the carrier refused the parcel (a bad postcode, an unknown
	// service): staff fix the address or the service and retry.
	StateFailed State = "failed"
	// StateCancelled: the order was cancelled before the carrier had it.
	StateCancelled State = "cancelled"
)

// ErrorKind classifies a shipment's last problem.
type ErrorKind string

// The kinds of problem.
const (
	ErrorNone ErrorKind = ""
	// ErrorInvalid: the carrier refused the parcel for its content.
	ErrorInvalid ErrorKind = "invalid"
	// ErrorLabel: the carrier has the order but made no label (postage not applied).
	ErrorLabel ErrorKind = "label"
	// ErrorTransient: the carrier did not answer; the job retries with backoff.
	ErrorTransient ErrorKind = "transient"
)

// Carrier is the carrier's name as customers know it.
const Carrier = "Royal Mail"

// Shipment is a picked order's parcel and what the carrier made of it.
type Shipment struct {
	OrderID     uuid.UUID `db:"order_id"`
	OrderNumber string    `db:"order_number"`
	// Reference is the carrier's order reference: the order number.
	Reference string `db:"reference"`
	// CarrierName is the adapter that registered it ("royalmail", "sandbox").
	CarrierName    string     `db:"carrier"`
	ServiceCode    string     `db:"service_code"`
	ServiceName    string     `db:"service_name"`
	Express        bool       `db:"express"`
	PackageFormat  string     `db:"package_format"`
	WeightGrams    int        `db:"weight_grams"`
	State          State      `db:"state"`
	PushOnly       bool       `db:"push_only"`
	CarrierOrderID string     `db:"carrier_order_id"`
	LabelKey       string     `db:"label_key"`
	ErrorKind      ErrorKind  `db:"error_kind"`
	ErrorMessage   string     `db:"error_message"`
	Attempts       int        `db:"attempts"`
	Retries        int        `db:"retries"`
	PickedBy       string     `db:"picked_by"`
	PickedAt       time.Time  `db:"picked_at"`
	RegisteredAt   *time.Time `db:"registered_at"`
	ShippedAt      *time.Time `db:"shipped_at"`
	DeliveredAt    *time.Time `db:"delivered_at"`
	NextPollAt     *time.Time `db:"next_poll_at"`
	UpdatedAt      time.Time  `db:"updated_at"`
	// TrackingNumbers holds the carrier's tracking number(s), the first the parcel's.
	TrackingNumbers []string `db:"-"`
}

// TrackingNumber is the parcel's (first) tracking number, "" before there is one.
func (sh *Shipment) TrackingNumber() string {
	if len(sh.TrackingNumbers) == 0 {
		return ""
	}
	return sh.TrackingNumbers[0]
}

// LabelReady reports whether the label PDF is stored.
func (sh *Shipment) LabelReady() bool { return sh.LabelKey != "" }

// AtCarrier reports whether the carrier may have an order for this shipment: once a
// worker has started talking to it, OrderDesk cannot take the parcel back by itself.
func (sh *Shipment) AtCarrier() bool {
	switch sh.State {
	case StateQueued, StateFailed, StateCancelled:
		return false
	}
	return true
}

// PublicStatus is the shipment's status as client apps see it: preparing until the
// parcel is shipped.
func (sh *Shipment) PublicStatus() string {
	switch sh.State {
	case StateShipped:
		return "shipped"
	case StateDelivered:
		return "delivered"
	case StateCancelled:
		return "cancelled"
	}
	return "preparing"
}

// errSettled says a registration attempt has nothing left to do.
var errSettled = ports.Errorf(ports.ECONFLICT, "The shipment is settled already.")

// Claim starts a registration attempt: a queued shipment becomes registering, and an
// attempt on one that is registering (a retry, or a worker killed midway) or created
// (label or tracking number still missing) goes on from where the last one stopped.
// Any other state has nothing to register: errSettled.
func (sh *Shipment) Claim(at time.Time) error {
	switch sh.State {
	case StateQueued:
		sh.State = StateRegistering
	case StateRegistering, StateCreated:
	default:
		return errSettled
	}
	sh.Attempts++
	sh.UpdatedAt = at
	return nil
}

// MayExistAtCarrier reports whether an attempt in progress must look the order up at
// the carrier before creating one: a previous attempt may have reached it.
func (sh *Shipment) MayExistAtCarrier() bool {
	return sh.CarrierOrderID != "" || sh.Attempts > 1
}

// Retry lets staff start the registration again after a failure: a failed shipment
// is queued again, a created one (label missing) and one still registering after the
// carrier stopped answering are tried once more. It returns ECONFLICT otherwise.
func (sh *Shipment) Retry(at time.Time) error {
	switch {
	case sh.State == StateFailed:
		sh.State = StateQueued
	case sh.State == StateCreated, sh.State == StateRegistering && sh.ErrorKind == ErrorTransient:
	default:
		return ports.Errorf(ports.ECONFLICT, "The shipment of %s is %s: there is nothing to retry.", sh.OrderNumber, sh.StateText())
	}
	sh.Retries++
	sh.ErrorKind, sh.ErrorMessage = ErrorNone, ""
	sh.UpdatedAt = at
	return nil
}

// CanFixAddress reports (as ECONFLICT) whether the address may still be corrected for
// the carrier: only while the carrier has no order, after it refused the parcel.
func (sh *Shipment) CanFixAddress() error {
	if sh.State != StateFailed {
		return ports.Errorf(ports.ECONFLICT, "The address can be corrected here only after Royal Mail refused the parcel; the shipment of %s is %s.",
			sh.OrderNumber, sh.StateText())
	}
	return nil
}

// Cancel cancels a shipment whose order is cancelled after picking. Once the carrier
// may have the order it is refused with a message that says what to do.
func (sh *Shipment) Cancel(at time.Time) error {
	switch sh.State {
	case StateQueued, StateFailed:
		sh.State = StateCancelled
		sh.UpdatedAt = at
		return nil
	case StateRegistering:
		return ports.Errorf(ports.ECONFLICT, "OrderDesk is registering %s with Royal Mail right now. Wait for the outcome, then cancel.", sh.OrderNumber)
	case StateCancelled:
		return ports.Errorf(ports.ECONFLICT, "The shipment of %s is cancelled already.", sh.OrderNumber)
	}
	id := sh.CarrierOrderID
	if id == "" {
		id = sh.Reference
	}
	return ports.Errorf(ports.ECONFLICT, "Royal Mail Click & Drop already has %s (its order %s), so it cannot be cancelled here. "+
		"Cancel it in Click & Drop first, or send the parcel.", sh.OrderNumber, id)
}

// StateText is the state in words for staff.
func (sh *Shipment) StateText() string {
	switch sh.State {
	case StateQueued:
		return "waiting to be registered"
	case StateRegistering:
		return "being registered with Royal Mail"
	case StateCreated:
		if sh.LabelReady() {
			return "registered; waiting for the tracking number"
		}
		return "registered; the label is missing"
	case StatePushOnly:
		return "registered without a label: print it in Click & Drop"
	case StateShipped:
		return "shipped"
	case StateDelivered:
		return "delivered"
	case StateFailed:
		return "refused by Royal Mail"
	case StateCancelled:
		return "cancelled"
	}
	return string(sh.State)
}

// ---- packages

// Format limits from Royal Mail's size guide: the heaviest parcel of each format.
var formatMaxGrams = map[string]int{
	"letter": 100, "largeLetter": 1000, "smallParcel": 2000, "mediumParcel": 20000, "parcel": 30000,
}

// PackageFormats lists the package formats, smallest first.
var PackageFormats = []string{"letter", "largeLetter", "smallParcel", "mediumParcel", "parcel"}

// FormatName is a package format in words.
func FormatName(f string) string {
	switch f {
	case "letter":
		return "Letter"
	case "largeLetter":
		return "Large letter"
	case "smallParcel":
		return "Small parcel"
	case "mediumParcel":
		return "Medium parcel"
	case "parcel":
		return "Parcel"
	}
	return f
}

// MaxGrams is the heaviest parcel of a format, 0 for an unknown one.
func MaxGrams(format string) int { return formatMaxGrams[format] }

// Package is the parcel as the packer sends it.
type Package struct {
	Format      string
	WeightGrams int
}

// PickInput is what the packer may change before pressing Picked: the package format
// and weight, as typed ("" keeps the order's own).
type PickInput struct {
	Format string
	Weight string
}

// Parse applies the packer's overrides to the order's own package (the shipping
// method's format and the lines' weight) and checks the result against the format's
// limits. Field names: "package_format", "weight".
func (in PickInput) Parse(def Package) (Package, error) {
	p := def
	var errs []ports.FieldError
	if f := strings.TrimSpace(in.Format); f != "" {
		p.Format = f
	}
	if MaxGrams(p.Format) == 0 {
		errs = append(errs, ports.Field("package_format", "Choose a package format from the list."))
	}
	if w := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(in.Weight), "g")); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 || n > 30000 {
			errs = append(errs, ports.Field("weight", "Enter the parcel's weight in grams, from 1 to 30000."))
			return p, ports.Invalid(errs...)
		}
		p.WeightGrams = n
	}
	if max := MaxGrams(p.Format); max > 0 && p.WeightGrams > max {
		errs = append(errs, ports.Field("weight", fmt.Sprintf("A %s takes at most %d g; this parcel weighs %d g. Choose a bigger format.",
			strings.ToLower(FormatName(p.Format)), max, p.WeightGrams)))
	}
	if p.WeightGrams < 1 {
		errs = append(errs, ports.Field("weight", "Enter the parcel's weight in grams, from 1 to 30000."))
	}
	return p, ports.Invalid(errs...)
}

// ---- tracking

// TrackingEvent is one scan of a mail piece, as the carrier's tracking reported it.
type TrackingEvent struct {
	ID             int64     `db:"id"`
	OrderID        uuid.UUID `db:"order_id"`
	TrackingNumber string    `db:"tracking_number"`
	Code           string    `db:"event_code"`
	Name           string    `db:"event_name"`
	Location       string    `db:"location"`
	Category       string    `db:"category"`
	Delivered      bool      `db:"delivered"`
	At             time.Time `db:"at"`
}

// AllDelivered reports whether every tracking number has a delivered event.
func AllDelivered(numbers []string, events []TrackingEvent) bool {
	if len(numbers) == 0 {
		return false
	}
	done := map[string]bool{}
	for _, e := range events {
		if e.Delivered {
			done[e.TrackingNumber] = true
		}
	}
	for _, n := range numbers {
		if !done[n] {
			return false
		}
	}
	return true
}

// Polling intervals: the carrier asks customers not to poll continuously.
const (
	// TrackingBatch is the most tracking numbers one summary call takes.
	TrackingBatch = 30
	// TrackingGiveUp: after this long in transit, tracking stops polling.
	TrackingGiveUp = 30 * 24 * time.Hour
)

// NextTrackingPoll says when to ask the carrier about a shipped parcel again: every
// four hours in its first week, daily after that, and never after TrackingGiveUp.
func NextTrackingPoll(now, shippedAt time.Time) *time.Time {
	age := now.Sub(shippedAt)
	var next time.Time
	switch {
	case age >= TrackingGiveUp:
		return nil
	case age < 7*24*time.Hour:
		next = now.Add(4 * time.Hour)
	default:
		next = now.Add(24 * time.Hour)
	}
	return &next
}

// NextCarrierPoll says when to read a registered order back from the carrier (push-only
// orders waiting for the label to be printed in Click & Drop, labels not yet made):
// every minute in the first hour after picking (a packer printing the label in Click &
// Drop right away sees the order shipped at once), every 15 minutes for the rest of that
// day, hourly after that.
func NextCarrierPoll(now, pickedAt time.Time) time.Time {
	switch age := now.Sub(pickedAt); {
	case age < time.Hour:
		return now.Add(time.Minute)
	case age < 24*time.Hour:
		return now.Add(15 * time.Minute)
	}
	return now.Add(time.Hour)
}
