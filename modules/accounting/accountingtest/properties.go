package accountingtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/modules/accounting"
	"orderdesk/ports"
)

// randomID is a UUID drawn from r, so that a seed replays the same history.
func randomID(r *rand.Rand) uuid.UUID {
	var id uuid.UUID
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

// Events is a random history of the money events of n orders placed from start
// onwards, interleaved, with ids prefixed by prefix: most orders paid (some over, some
// short, some late), some cancelled after payment and refunded, most shipped with
// postage bought, some refunded after delivery, and a few events of any kind with
// arbitrary amounts. Replays are not included (see Replays).
func Events(r *rand.Rand, prefix string, n int, start time.Time) []ports.LedgerEvent {
	var perOrder [][]ports.LedgerEvent
	seq := 0
	for i := range n {
		id := randomID(r)
		number := strings.ToUpper(fmt.Sprintf("OD-%s-%d", prefix, i)) // as staff type it, normalized
		at := start.Add(time.Duration(r.IntN(90*24*3600)) * time.Second)
		subtotal := 100 + r.Int64N(50_000)
		shipping := r.Int64N(1_500)
		total := subtotal + shipping
		rate := 2_000_000 + r.Int64N(6_000_000) // £20,000 to £80,000 per BTC
		sats := func(pence int64) int64 { return max(pence*100_000_000/rate, 1) }
		var evs []ports.LedgerEvent
		ev := func(kind string, f func(*ports.LedgerEvent)) {
			seq++
			at = at.Add(time.Duration(1+r.IntN(48*3600)) * time.Second)
			e := ports.LedgerEvent{ID: fmt.Sprintf("%s:%s:%d", prefix, kind, seq), Kind: kind, At: at, OrderID: id.String(),
				OrderNumber: number, SubtotalPence: subtotal, ShippingPence: shipping, TotalPence: total}
			f(&e)
			evs = append(evs, e)
		}
		paid, overpaid := false, int64(0)
		switch p := r.IntN(10); {
		case p < 7:
			fx := r.Int64N(101) - 50
			if total+fx <= 0 {
				fx = 0
			}
			received := total + fx
			outside := r.IntN(20) == 0 // marked paid by staff: no bitcoin
			ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) {
				e.ReceivedPence, e.RatePence = received, rate
				if outside {
					e.Memo = "paid outside BTCPay: bank transfer"
				} else {
					e.AmountSats = sats(received)
				}
			})
			if r.IntN(5) == 0 && !outside {
				overpaid = 1 + r.Int64N(2_000)
				ev(ports.LedgerOverpayment, func(e *ports.LedgerEvent) {
					e.AmountPence, e.AmountSats, e.RatePence = overpaid, sats(overpaid), rate
				})
			}
			paid = true
		case p < 8:
			amount := max(total-r.Int64N(total/5+1), 1)
			ev(ports.LedgerLatePaymentAccepted, func(e *ports.LedgerEvent) {
				e.ReceivedPence, e.AmountSats, e.RatePence = amount, sats(amount), rate
			})
			paid = true
		}
		refund := func(amount int64) {
			ev(ports.LedgerRefund, func(e *ports.LedgerEvent) {
				e.AmountPence, e.RatePence = amount, rate
				if r.IntN(2) == 0 {
					e.AmountSats = sats(amount)
				}
			})
		}
		if paid {
			switch p := r.IntN(20); {
			case p < 3:
				ev(ports.LedgerPaidOrderCancelled, func(*ports.LedgerEvent) {})
				if r.IntN(5) > 0 {
					refund(total + overpaid)
				}
			default:
				if overpaid > 0 && r.IntN(2) == 0 {
					refund(overpaid)
				}
				if r.IntN(10) < 7 {
					ev(ports.LedgerPostagePurchased, func(e *ports.LedgerEvent) { e.AmountPence = 100 + r.Int64N(800) })
				}
				if r.IntN(20) == 0 {
					refund(1 + r.Int64N(total))
				}
			}
		}
		if r.IntN(20) == 0 { // anything at all, as long as it is a valid event
			kind := accounting.EventKinds[r.IntN(len(accounting.EventKinds))]
			ev(kind, func(e *ports.LedgerEvent) {
				e.ReceivedPence, e.AmountPence = 1+r.Int64N(100_000), 1+r.Int64N(100_000)
				switch r.IntN(3) {
				case 0:
					e.AmountSats, e.RatePence = 1+r.Int64N(1_000_000), rate
				case 1:
					e.RatePence = rate
				}
				if kind == ports.LedgerPostagePurchased && r.IntN(2) == 0 {
					e.OrderID, e.OrderNumber = "", ""
				}
			})
		}
		if len(evs) > 0 {
			perOrder = append(perOrder, evs)
		}
	}
	// Interleave the orders, keeping each order's own events in order.
	var out []ports.LedgerEvent
	for len(perOrder) > 0 {
		i := r.IntN(len(perOrder))
		out = append(out, perOrder[i][0])
		if perOrder[i] = perOrder[i][1:]; len(perOrder[i]) == 0 {
			perOrder = slices.Delete(perOrder, i, i+1)
		}
	}
	return out
}

// Replays returns evs with about one event in ten delivered again later, as a queue
// that retries may deliver them.
func Replays(r *rand.Rand, evs []ports.LedgerEvent) []ports.LedgerEvent {
	out := slices.Clone(evs)
	for _, e := range evs {
		if r.IntN(10) == 0 {
			i := r.IntN(len(out) + 1)
			out = slices.Insert(out, i, e)
		}
	}
	return out
}

// ledgerState is what the properties compare before and after a replay.
type ledgerState struct {
	rows    []accounting.BalanceRow
	lines   int
	entries map[int64]bool
}

func state(t *testing.T, ctx context.Context, svc *accounting.Service) ledgerState {
	t.Helper()
	tb, err := svc.TrialBalance(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// The trial balance comes from the daily totals; the lines must say the same.
	sums := map[string][2]int64{}
	st := ledgerState{rows: tb.Rows, entries: map[int64]bool{}}
	if err := svc.StreamLedger(ctx, accounting.EntryFilter{}, func(r accounting.LedgerRow) error {
		s := sums[r.Account]
		sums[r.Account] = [2]int64{s[0] + r.DebitPence, s[1] + r.CreditPence}
		st.lines++
		st.entries[r.EntryID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, row := range tb.Rows {
		if s := sums[row.Account.Code]; s[0] != row.DebitPence || s[1] != row.CreditPence {
			t.Fatalf("account %s: trial balance %d/%d, lines %d/%d", row.Account.Code, row.DebitPence, row.CreditPence, s[0], s[1])
		}
	}
	if tb.Net() != 0 || tb.DebitPence != tb.CreditPence {
		t.Fatalf("trial balance does not balance: balances %d dr / %d cr, totals %d dr / %d cr",
			tb.DebitBalances, tb.CreditBalances, tb.DebitPence, tb.CreditPence)
	}
	return st
}

// CheckLedgerProperties posts a random history of orders' money events through svc,
// with replays, and checks the ledger's invariants: every entry balances; the trial
// balance sums to zero and agrees with the lines; replaying every event posts nothing
// and changes no balance; a refund never leaves an order's customer owed a negative
// amount; reversals balance too, and neither a reversal nor a reversed entry can be
// reversed again. svc's store may hold other entries (they must balance too); seed
// and prefix make the history and its ids.
func CheckLedgerProperties(t *testing.T, svc *accounting.Service, seed uint64, prefix string, orders int) {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	evs := Events(r, prefix, orders, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	before := state(t, ctx, svc)

	posted := map[string]int64{}
	for _, ev := range Replays(r, evs) {
		e, isNew, err := svc.Post(ctx, ev)
		if err != nil {
			t.Fatalf("post %+v: %v", ev, err)
		}
		id, seen := posted[ev.ID]
		if isNew == seen || (seen && id != e.ID) {
			t.Fatalf("event %s: posted=%v, seen before=%v (entry %d, first %d)", ev.ID, isNew, seen, e.ID, id)
		}
		posted[ev.ID] = e.ID
		if err := accounting.Balanced(e.Lines); err != nil {
			t.Fatalf("entry of %s: %v", ev.ID, err)
		}
	}
	if len(posted) != len(evs) {
		t.Fatalf("%d entries for %d events", len(posted), len(evs))
	}
	owedByOrder := map[string]accounting.Owed{}
	for _, id := range posted {
		e, err := svc.Entry(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := accounting.Balanced(e.Lines); err != nil {
			t.Fatalf("stored entry %d: %v", id, err)
		}
		if e.OrderID == nil {
			continue
		}
		o := owedByOrder[e.OrderID.String()]
		o.Add(e.Lines)
		owedByOrder[e.OrderID.String()] = o
	}
	for order, o := range owedByOrder {
		if o.RefundsPayable < 0 || o.Overpaid < 0 {
			t.Fatalf("order %s: the shop is owed by its customer: %+v", order, o)
		}
	}
	after := state(t, ctx, svc)
	if len(after.entries)-len(before.entries) != len(evs) {
		t.Fatalf("%d entries more in the ledger for %d events", len(after.entries)-len(before.entries), len(evs))
	}

	// Replaying every event changes nothing.
	for _, i := range r.Perm(len(evs)) {
		e, isNew, err := svc.Post(ctx, evs[i])
		if err != nil || isNew || e.ID != posted[evs[i].ID] {
			t.Fatalf("replay of %s: posted=%v entry %v, %v", evs[i].ID, isNew, e, err)
		}
	}
	replayed := state(t, ctx, svc)
	if replayed.lines != after.lines || !slices.Equal(replayed.rows, after.rows) {
		t.Fatalf("replaying changed the ledger: %d → %d lines\n%v\n%v", after.lines, replayed.lines, after.rows, replayed.rows)
	}

	// Reversals balance; a reversed entry and a reversal cannot be reversed (again).
	actx := ports.WithActor(ctx, ports.Actor{Kind: ports.ActorStaff, Name: "property"})
	for _, ev := range evs {
		if r.IntN(10) != 0 {
			continue
		}
		id := posted[ev.ID]
		rev, err := svc.Reverse(actx, id, "property check")
		if err != nil {
			t.Fatalf("reverse %d: %v", id, err)
		}
		if err := accounting.Balanced(rev.Lines); err != nil || rev.Reverses == nil || *rev.Reverses != id {
			t.Fatalf("reversal of %d: %+v, %v", id, rev, err)
		}
		if _, err := svc.Reverse(actx, id, "again"); ports.ErrorCodeOf(err) != ports.ECONFLICT {
			t.Fatalf("second reversal of %d: %v", id, err)
		}
		if _, err := svc.Reverse(actx, rev.ID, "undo"); ports.ErrorCodeOf(err) != ports.ECONFLICT {
			t.Fatalf("reversal of reversal %d: %v", rev.ID, err)
		}
	}
	state(t, ctx, svc)
}
