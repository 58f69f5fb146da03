package payments

import (
	"fmt"
	"strings"
)

// Effect is what a payment status asks of the order.
type Effect string

// The effects of a payment status on its order.
const (
	// EffectNone: the order waits as it is.
	EffectNone Effect = ""
	// EffectPaid: the order is paid; it goes to the pick queue.
	EffectPaid Effect = "paid"
	// EffectExpired: nothing was paid in time; the order expires, its stock released.
	EffectExpired Effect = "expired"
	// EffectHold: a payment exception (partial, late, invalid) waits for staff; the
	// order keeps its stock.
	EffectHold Effect = "hold"
)

// Paid reports whether the status counts as paid.
func (s Status) Paid() bool { return s == StatusPaid || s == StatusOverpaid }

// FromGateway maps the gateway's invoice status and additional status (BTCPay's
// words) to our payment status and what it asks of the order. receivedSats is what
// the gateway has seen paid so far, which tells a partial payment from none where the
// additional status does not.
func FromGateway(status, additional string, receivedSats int64) (Status, Effect, error) {
	additional = strings.TrimSpace(additional)
	switch status {
	case "New":
		if additional == "PaidPartial" || receivedSats > 0 {
			return StatusPartiallyPaid, EffectNone, nil
		}
		return StatusPending, EffectNone, nil
	case "Processing":
		return StatusConfirming, EffectNone, nil
	case "Settled":
		if additional == "PaidOver" {
			return StatusOverpaid, EffectPaid, nil
		}
		return StatusPaid, EffectPaid, nil
	case "Expired":
		switch {
		case additional == "PaidLate":
			return StatusPaidLate, EffectHold, nil
		case additional == "PaidPartial" || receivedSats > 0:
			return StatusPartiallyPaid, EffectHold, nil
		}
		return StatusExpired, EffectExpired, nil
	case "Invalid":
		return StatusInvalid, EffectHold, nil
	}
	return "", EffectNone, fmt.Errorf("unknown invoice status %q", status)
}
