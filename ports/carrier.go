package ports

import (
	"context"
	"time"
)

// Recipient is a parcel's addressee, as the carrier needs it.
type Recipient struct {
	Name        string
	Line1       string
	Line2       string
	Line3       string
	City        string
	County      string
	Postcode    string
	CountryCode string
	Phone       string
}

// ShipmentItem is one line of a parcel's contents.
type ShipmentItem struct {
	SKU             string
	Name            string
	Quantity        int
	UnitValuePence  int64
	UnitWeightGrams int
}

// ShipmentRequest registers a parcel with the carrier.
type ShipmentRequest struct {
	// Reference is our order number: the carrier's order reference, unique, at most
	// 40 characters of [A-Za-z0-9-_].
	Reference     string
	Recipient     Recipient
	ServiceCode   string
	PackageFormat string // letter, largeLetter, smallParcel, mediumParcel, parcel
	WeightGrams   int
	Items         []ShipmentItem
	SubtotalPence int64
	ShippingPence int64
	TotalPence    int64
	PlacedAt      time.Time
	// WantLabel asks for the label in the same call (accounts with label access).
	WantLabel bool
}

// CarrierOrder is the carrier's record of a parcel.
type CarrierOrder struct {
	// ID is the carrier's order identifier (Click & Drop orderIdentifier).
	ID        string
	Reference string
	// TrackingNumbers holds the tracking number(s), empty until a label exists.
	TrackingNumbers []string
	// Label is the label PDF when the carrier gave one.
	Label []byte
	// LabelError says why a label was asked for and not made (e.g. postage not
	// applied); empty otherwise.
	LabelError string
	CreatedAt  time.Time
	ShippedAt  *time.Time
}

// Carrier registers parcels and makes labels (Royal Mail Click & Drop, or the
// sandbox).
//
// Errors: EINVALID when the carrier refused the parcel for its content (a bad
// postcode, an unknown service code: the message says so in words, fit to show to
// staff); ECONFLICT when an order with the reference exists already; ENOTFOUND for a
// missing order; EFORBIDDEN when the account has no label access; any other error is
// transient (network, 5xx, 429) and worth retrying.
type Carrier interface {
	Name() string
	// CreateOrder registers a parcel, asking for its label when r.WantLabel.
	CreateOrder(ctx context.Context, r ShipmentRequest) (*CarrierOrder, error)
	// OrderByReference finds the carrier's order by our reference.
	OrderByReference(ctx context.Context, reference string) (*CarrierOrder, error)
	// Label fetches the label PDF of an order.
	Label(ctx context.Context, id string) ([]byte, error)
	// TrackingURL is the public tracking page of a tracking number.
	TrackingURL(trackingNumber string) string
}

// TrackingSummary is a mail piece's latest event.
type TrackingSummary struct {
	TrackingNumber string
	EventCode      string
	EventName      string
	At             time.Time
	Location       string
	// Category is the coarse state, e.g. "IN TRANSIT", "DELIVERED".
	Category string
	// Delivered is true once the piece is delivered (or collected).
	Delivered bool
	// Error is the per-item error of a summary answer (e.g. "no scan yet").
	Error string
}

// Tracker reads mail pieces' tracking (Royal Mail Tracking API v2).
type Tracker interface {
	// Summaries returns the latest event of up to 30 tracking numbers.
	Summaries(ctx context.Context, trackingNumbers []string) ([]TrackingSummary, error)
	// Events returns a mail piece's history, oldest first.
	Events(ctx context.Context, trackingNumber string) ([]TrackingSummary, error)
}
