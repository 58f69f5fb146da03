package fulfilment

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/ports"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestClaim(t *testing.T) {
	for _, tc := range []struct {
		from      State
		attempts  int
		carrierID string
		to        State
		settled   bool
		lookup    bool // must look the order up before creating it
	}{
		{from: StateQueued, to: StateRegistering},
		{from: StateRegistering, attempts: 1, to: StateRegistering, lookup: true},
		{from: StateCreated, attempts: 1, carrierID: "1001", to: StateCreated, lookup: true},
		{from: StatePushOnly, settled: true},
		{from: StateShipped, settled: true},
		{from: StateDelivered, settled: true},
		{from: StateFailed, settled: true},
		{from: StateCancelled, settled: true},
	} {
		t.Run(string(tc.from), func(t *testing.T) {
			sh := &Shipment{State: tc.from, Attempts: tc.attempts, CarrierOrderID: tc.carrierID}
			err := sh.Claim(t0)
			if tc.settled {
				if !errors.Is(err, errSettled) || sh.State != tc.from || sh.Attempts != tc.attempts {
					t.Fatalf("claim of %s: %v, state %s, attempts %d", tc.from, err, sh.State, sh.Attempts)
				}
				return
			}
			if err != nil || sh.State != tc.to || sh.Attempts != tc.attempts+1 || !sh.UpdatedAt.Equal(t0) {
				t.Fatalf("claim of %s: %v, state %s, attempts %d", tc.from, err, sh.State, sh.Attempts)
			}
			if got := sh.MayExistAtCarrier(); got != tc.lookup {
				t.Fatalf("MayExistAtCarrier after claiming %s = %v, want %v", tc.from, got, tc.lookup)
			}
		})
	}
}

func TestRetryCancelFixAddress(t *testing.T) {
	for _, tc := range []struct {
		state     State
		kind      ErrorKind
		retryTo   State // "" = refused
		cancel    bool
		fix       bool
		cancelMsg string
	}{
		{state: StateQueued, cancel: true},
		{state: StateRegistering, cancelMsg: "registering"},
		{state: StateRegistering, kind: ErrorTransient, retryTo: StateRegistering, cancelMsg: "registering"},
		{state: StateCreated, kind: ErrorLabel, retryTo: StateCreated, cancelMsg: "Click & Drop already has"},
		{state: StatePushOnly, cancelMsg: "Click & Drop already has"},
		{state: StateShipped, cancelMsg: "Click & Drop already has"},
		{state: StateDelivered, cancelMsg: "Click & Drop already has"},
		{state: StateFailed, kind: ErrorInvalid, retryTo: StateQueued, cancel: true, fix: true},
		{state: StateCancelled, cancelMsg: "cancelled already"},
	} {
		t.Run(fmt.Sprintf("%s-%s", tc.state, tc.kind), func(t *testing.T) {
			fresh := func() *Shipment {
				return &Shipment{OrderNumber: "OD-10001", Reference: "OD-10001", State: tc.state, ErrorKind: tc.kind,
					ErrorMessage: "something", CarrierOrderID: "1001", Retries: 2}
			}
			sh := fresh()
			err := sh.Retry(t0)
			if tc.retryTo == "" {
				if ports.ErrorCodeOf(err) != ports.ECONFLICT || sh.State != tc.state || sh.Retries != 2 {
					t.Fatalf("retry of %s allowed: %v → %s", tc.state, err, sh.State)
				}
			} else if err != nil || sh.State != tc.retryTo || sh.Retries != 3 || sh.ErrorKind != ErrorNone || sh.ErrorMessage != "" {
				t.Fatalf("retry of %s: %v → %+v", tc.state, err, sh)
			}

			sh = fresh()
			err = sh.Cancel(t0)
			if tc.cancel {
				if err != nil || sh.State != StateCancelled {
					t.Fatalf("cancel of %s: %v → %s", tc.state, err, sh.State)
				}
			} else if ports.ErrorCodeOf(err) != ports.ECONFLICT || sh.State != tc.state || !strings.Contains(err.Error(), tc.cancelMsg) {
				t.Fatalf("cancel of %s: %v → %s, want a refusal saying %q", tc.state, err, sh.State, tc.cancelMsg)
			}

			sh = fresh()
			if err := sh.CanFixAddress(); (err == nil) != tc.fix {
				t.Fatalf("CanFixAddress in %s: %v", tc.state, err)
			}
			if got := sh.AtCarrier(); got == (tc.state == StateQueued || tc.state == StateFailed || tc.state == StateCancelled) {
				t.Fatalf("AtCarrier in %s = %v", tc.state, got)
			}
		})
	}
}

func TestPickInputParse(t *testing.T) {
	def := Package{Format: "smallParcel", WeightGrams: 800}
	for _, tc := range []struct {
		name, format, weight string
		want                 Package
		errs                 map[string]string
	}{
		{name: "the order's own", want: def},
		{name: "heavier", weight: "1500", want: Package{"smallParcel", 1500}},
		{name: "with a unit", weight: " 1500 g ", want: Package{"smallParcel", 1500}},
		{name: "bigger format", format: "mediumParcel", weight: "2500", want: Package{"mediumParcel", 2500}},
		{name: "too heavy for the format", weight: "2500", errs: map[string]string{"weight": "at most 2000 g"}},
		{name: "large letter limit", format: "largeLetter", errs: map[string]string{}, want: Package{"largeLetter", 800}},
		{name: "letter limit", format: "letter", errs: map[string]string{"weight": "letter takes at most 100 g"}},
		{name: "unknown format", format: "crate", errs: map[string]string{"package_format": "Choose a package format"}},
		{name: "not a number", weight: "heavy", errs: map[string]string{"weight": "in grams"}},
		{name: "zero", weight: "0", errs: map[string]string{"weight": "in grams"}},
		{name: "over 30 kg", format: "parcel", weight: "30001", errs: map[string]string{"weight": "in grams"}},
		{name: "30 kg parcel", format: "parcel", weight: "30000", want: Package{"parcel", 30000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PickInput{Format: tc.format, Weight: tc.weight}.Parse(def)
			if len(tc.errs) == 0 {
				if err != nil || got != tc.want {
					t.Fatalf("Parse = %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			fields := map[string]string{}
			for _, f := range ports.FieldErrorsOf(err) {
				fields[f.Field] = f.Message
			}
			if ports.ErrorCodeOf(err) != ports.EINVALID || len(fields) != len(tc.errs) {
				t.Fatalf("Parse = %+v, %v; want errors on %v", got, err, tc.errs)
			}
			for f, want := range tc.errs {
				if !strings.Contains(fields[f], want) {
					t.Fatalf("error on %s = %q, want it to say %q", f, fields[f], want)
				}
			}
		})
	}
	// The order's own package may already be too heavy for its format.
	if _, err := (PickInput{}).Parse(Package{Format: "largeLetter", WeightGrams: 1200}); ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("a 1200 g large letter passed: %v", err)
	}
}

func TestAllDelivered(t *testing.T) {
	ev := func(n string, delivered bool) TrackingEvent {
		return TrackingEvent{TrackingNumber: n, Delivered: delivered}
	}
	for _, tc := range []struct {
		numbers []string
		events  []TrackingEvent
		want    bool
	}{
		{numbers: nil, want: false},
		{numbers: []string{"A"}, events: nil, want: false},
		{numbers: []string{"A"}, events: []TrackingEvent{ev("A", false)}, want: false},
		{numbers: []string{"A"}, events: []TrackingEvent{ev("A", false), ev("A", true)}, want: true},
		{numbers: []string{"A", "B"}, events: []TrackingEvent{ev("A", true)}, want: false},
		{numbers: []string{"A", "B"}, events: []TrackingEvent{ev("A", true), ev("B", true)}, want: true},
		{numbers: []string{"A"}, events: []TrackingEvent{ev("B", true)}, want: false},
	} {
		if got := AllDelivered(tc.numbers, tc.events); got != tc.want {
			t.Errorf("AllDelivered(%v, %v) = %v", tc.numbers, tc.events, got)
		}
	}
}

func TestPollSchedules(t *testing.T) {
	for _, tc := range []struct {
		age  time.Duration
		want time.Duration // 0: stop
	}{
		{0, 4 * time.Hour}, {6*24*time.Hour + 23*time.Hour, 4 * time.Hour}, {7 * 24 * time.Hour, 24 * time.Hour},
		{29 * 24 * time.Hour, 24 * time.Hour}, {TrackingGiveUp, 0}, {40 * 24 * time.Hour, 0},
	} {
		got := NextTrackingPoll(t0, t0.Add(-tc.age))
		switch {
		case tc.want == 0 && got != nil:
			t.Errorf("shipped %v ago: next poll %v, want none", tc.age, got)
		case tc.want != 0 && (got == nil || !got.Equal(t0.Add(tc.want))):
			t.Errorf("shipped %v ago: next poll %v, want in %v", tc.age, got, tc.want)
		}
	}
	for _, tc := range []struct{ age, want time.Duration }{
		{0, time.Minute}, {59 * time.Minute, time.Minute}, {time.Hour, 15 * time.Minute}, {23 * time.Hour, 15 * time.Minute},
		{24 * time.Hour, time.Hour}, {72 * time.Hour, time.Hour},
	} {
		if got := NextCarrierPoll(t0, t0.Add(-tc.age)); !got.Equal(t0.Add(tc.want)) {
			t.Errorf("picked %v ago: next carrier poll %v, want in %v", tc.age, got, tc.want)
		}
	}
}

func TestBuildPickList(t *testing.T) {
	tea, mug, card := uuid.New(), uuid.New(), uuid.New()
	orders := []Order{
		{Number: "OD-1", Lines: []Line{{ProductID: tea, SKU: "TEA-1", Name: "Tea", Quantity: 2}, {ProductID: card, Name: "Gift card", Quantity: 1}}},
		{Number: "OD-2", Lines: []Line{{ProductID: mug, SKU: "mug-9", Name: "Mug", Quantity: 1}, {ProductID: tea, SKU: "tea-1", Name: "Tea", Quantity: 3}}},
		{Number: "OD-3", Lines: []Line{{ProductID: card, Name: "Gift card", Quantity: 4}}},
	}
	pl := BuildPickList(orders, t0)
	got := []string{}
	for _, it := range pl.Items {
		got = append(got, fmt.Sprintf("%s|%s|%d|%s", it.SKU, it.Name, it.Quantity, strings.Join(it.Orders, ",")))
	}
	want := []string{"mug-9|Mug|1|OD-2 ×1", "TEA-1|Tea|5|OD-1 ×2,OD-2 ×3", "|Gift card|5|OD-1 ×1,OD-3 ×4"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("items\n got %v\nwant %v", got, want)
	}
	if fmt.Sprint(pl.Orders) != "[OD-1 OD-2 OD-3]" || !pl.At.Equal(t0) {
		t.Fatalf("orders %v at %v", pl.Orders, pl.At)
	}
}

func TestReferenceAndPublicStatus(t *testing.T) {
	for in, want := range map[string]string{
		"OD-10001": "OD-10001", "OD 1/2": "OD-1-2", strings.Repeat("x", 50): strings.Repeat("x", 40), "A_b-9": "A_b-9",
	} {
		if got := Reference(in); got != want {
			t.Errorf("Reference(%q) = %q, want %q", in, got, want)
		}
	}
	for st, want := range map[State]string{
		StateQueued: "preparing", StateRegistering: "preparing", StateCreated: "preparing", StatePushOnly: "preparing",
		StateFailed: "preparing", StateShipped: "shipped", StateDelivered: "delivered", StateCancelled: "cancelled",
	} {
		sh := Shipment{State: st}
		if got := sh.PublicStatus(); got != want {
			t.Errorf("PublicStatus of %s = %q, want %q", st, got, want)
		}
		if sh.StateText() == "" {
			t.Errorf("no words for %s", st)
		}
	}
}
