package sandbox

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"orderdesk/adapters/royalmail"
	"orderdesk/ports"
)

// DefaultDeliveryTime is how long a sandbox parcel takes from label to doorstep.
const DefaultDeliveryTime = time.Hour

// Tracker is a development tracker for the sandbox carrier's parcels: each moves
// through despatch, the mail centre and the delivery round to delivered, at fixed
// fractions of the delivery time after its order was made, read off the clock. A
// well-formed sandbox number the carrier does not know (made before a restart, or by
// another process) starts its journey when first asked about.
type Tracker struct {
	carrier   *Carrier
	clock     ports.Clock
	delivery  time.Duration
	mu        sync.Mutex
	firstSeen map[string]time.Time
}

var _ ports.Tracker = (*Tracker)(nil)

// NewTracker tracks carrier's parcels; deliveryTime 0 means DefaultDeliveryTime.
func NewTracker(carrier *Carrier, clock ports.Clock, deliveryTime time.Duration) *Tracker {
	if deliveryTime <= 0 {
		deliveryTime = DefaultDeliveryTime
	}
	return &Tracker{carrier: carrier, clock: clock, delivery: deliveryTime, firstSeen: map[string]time.Time{}}
}

var sandboxNumber = regexp.MustCompile(`^SB\d{9}GB$`)

// journey is a sandbox parcel's scans, each at a fraction of the delivery time.
var journey = []struct {
	code, name, location string
	at                   float64
}{
	{"EVAIP", "Despatched by sender", "OrderDesk sandbox", 0},
	{"EVDAC", "Item received at mail centre", "Sandbox Mail Centre", 0.25},
	{"EVGPD", "Out for delivery", "Sandbox Delivery Office", 0.75},
	{"EVKSP", "Delivered", "Sandbox Delivery Office", 1},
}

// events returns the scans of n that have happened by now, oldest first, or a
// Royal Mail-like per-item error.
func (t *Tracker) events(n string) ([]ports.TrackingSummary, string) {
	if !sandboxNumber.MatchString(n) {
		return nil, fmt.Sprintf("Barcode reference %s is not valid (E1142).", n)
	}
	now := t.clock()
	start, ok := time.Time{}, false
	if t.carrier != nil {
		start, ok = t.carrier.createdAt(n)
	}
	if !ok {
		t.mu.Lock()
		if start, ok = t.firstSeen[n]; !ok {
			start = now.UTC().Truncate(time.Second)
			t.firstSeen[n] = start
		}
		t.mu.Unlock()
	}
	var out []ports.TrackingSummary
	for _, j := range journey {
		at := start.Add(time.Duration(j.at * float64(t.delivery)))
		if at.After(now) {
			break
		}
		delivered := j.code == "EVKSP"
		category := "IN TRANSIT"
		if delivered {
			category = "DELIVERED"
		}
		out = append(out, ports.TrackingSummary{TrackingNumber: n, EventCode: j.code, EventName: j.name, At: at,
			Location: j.location, Category: category, Delivered: delivered})
	}
	return out, ""
}

// Summaries returns each number's latest scan; more than royalmail.MaxSummaries
// numbers is EINVALID, as with Royal Mail.
func (t *Tracker) Summaries(_ context.Context, numbers []string) ([]ports.TrackingSummary, error) {
	if len(numbers) > royalmail.MaxSummaries {
		return nil, ports.Errorf(ports.EINVALID, "Royal Mail tracks at most %d items a call, not %d.", royalmail.MaxSummaries, len(numbers))
	}
	out := make([]ports.TrackingSummary, 0, len(numbers))
	for _, n := range numbers {
		evs, msg := t.events(n)
		switch {
		case msg != "":
			out = append(out, ports.TrackingSummary{TrackingNumber: n, Error: msg})
		case len(evs) == 0:
			out = append(out, ports.TrackingSummary{TrackingNumber: n, Error: "No scan yet (E1308)."})
		default:
			out = append(out, evs[len(evs)-1])
		}
	}
	return out, nil
}

// Events returns a number's scans so far, oldest first; an unknown number is
// ENOTFOUND.
func (t *Tracker) Events(_ context.Context, number string) ([]ports.TrackingSummary, error) {
	evs, msg := t.events(number)
	if msg != "" {
		return nil, ports.Errorf(ports.ENOTFOUND, "Royal Mail has no tracking for %s: %s", number, msg)
	}
	for i := range evs[:max(0, len(evs)-1)] {
		evs[i].Category = "" // the coarse state belongs to the latest scan
	}
	return evs, nil
}
