package api

import (
	"time"
)

// DefaultPlacementConcurrency is how many orders one server places at once unless
// configured (ORDER_PLACEMENT_CONCURRENCY).
const DefaultPlacementConcurrency = 4

// placementWait is how long an order waits for its turn before the client is told to
// come back (Deps.PlacementWait).
const placementWait = 10 * time.Second

// admit waits for the request's turn to place an order and reports whether it came;
// the caller then calls leave when done. Placing an order is a few short transactions
// that lock product rows: a handful at a time keep PostgreSQL busy, and more only make
// them queue for those locks and for the connection pool, which serves its waiters in
// no particular order. Here they wait in a line instead (a channel serves its senders
// first come, first served), so that under load every customer waits about as long
// as the next one. A request still waiting after Deps.PlacementWait gets 503 and has
// changed nothing.
func (h *Handler) admit() bool {
	select {
	case h.placing <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(h.d.PlacementWait)
	defer t.Stop()
	select {
	case h.placing <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

func (h *Handler) leave() { <-h.placing }
