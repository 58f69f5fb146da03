// Package rmtest fakes Royal Mail's Click & Drop API v1 and Tracking API v2 on one
// httptest server, for tests of anything that ships parcels. It speaks the APIs as
// their specifications (testdata/) describe them: every request is validated against
// the specification, and a mismatch fails the test that made the server (and is
// answered 400, as Royal Mail would). The answers are validated too, so the fake
// stays honest.
//
// Typical use:
//
//	rm := rmtest.New(t)                   // an Online Business Account, all good
//	carrier := rm.Carrier()               // a *royalmail.Client on rm, no rate limit
//	o, err := carrier.CreateOrder(ctx, req)
//	rm.Order(req.Reference)               // what Royal Mail received and made
//
// Behaviour:
//   - Orders are kept by reference. A second order with a reference in use fails
//     inside a 200 (failedOrders), as do a refused postcode (BadPostcode, or any set
//     with RefusePostcode), a service code not on the account (SetServiceCodes), an
//     item with neither SKU nor value and weight, and a weight over the package
//     format's limit.
//   - Online Business Account (the default; SetOBA(false) for pay-as-you-go): asking
//     for the label in the create answer gives a real PDF, a tracking number
//     ("TT" + 9 digits + "GB", check digit per UPU S10) and printedOn; without OBA
//     the create answer has neither and GET /orders/{id}/label is 403.
//   - A label made registers its tracking number with the Tracking fake as "not
//     scanned yet" (E1308); SetTracking gives any number its events.
//   - Faults: SetDown (503 on everything), Throttle (the next n calls get 429 with
//     Retry-After), HangAfterCreate (the next n creates store the order, then answer
//     only when the client has given up: the lost-answer case).
//   - Credentials: Click & Drop wants "Authorization: Bearer " + APIKey, Tracking
//     ClientID and ClientSecret; anything else is 401.
//
// All methods are safe for concurrent use. The server closes when the test ends.
package rmtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"orderdesk/adapters/royalmail"
)

// The credentials the fake accepts.
const (
	APIKey       = "rmtest-click-and-drop-key"
	ClientID     = "rmtest-client-id"
	ClientSecret = "rmtest-client-secret"
)

// BadPostcode is refused by every new Server.
const BadPostcode = "ZZ1 1ZZ"

// DefaultServiceCodes are the codes a new Server's account offers: OBA and OLP
// (pay-as-you-go) codes from NOTES §7 alike, so either account type takes them.
var DefaultServiceCodes = []string{
	"BPL1", "BPL2", "BPR1", "BPR2", "CRL24", "CRL48", "TPN24", "TPS48", "TRN24", "SD1", "SD4",
	"OLP1", "OLP2", "OLP1SF", "OLP2SF", "TOLP24", "TOLP48", "SD1OLP",
}

// Order is an order as the fake Click & Drop holds it.
type Order struct {
	ID             int64
	Reference      string
	ServiceCode    string
	PackageFormat  string
	WeightGrams    int
	FullName       string
	Postcode       string
	CountryCode    string
	TrackingNumber string
	CreatedOn      time.Time
	PrintedOn      time.Time // zero until a label exists
	ShippedOn      time.Time // zero until MarkShipped
	Label          []byte    // nil until a label exists
	// Request is the order as Click & Drop received it (one item of CreateOrdersRequest).
	Request []byte
}

// Event is one tracking scan.
type Event struct {
	Code     string // e.g. "EVKSP"
	Name     string // e.g. "Delivered"
	Location string
	At       time.Time
}

// Counts tallies the requests the fake received.
type Counts struct {
	CreateOrders int // POST /orders
	GetOrders    int // GET /orders/{ids}
	Labels       int // GET /orders/{ids}/label
	Summaries    int // GET /summary
	Events       int // GET /{id}/events
	Throttled    int // answered 429
	Down         int // answered 503 by SetDown
	Unauthorized int // answered 401
	Invalid      int // not as the specification says: answered 400 and reported
}

// Server is the fake. Its fields are read-only.
type Server struct {
	// URL is the Click & Drop API root (like royalmail.DefaultURL).
	URL string
	// TrackingURL is the Tracking API v2 root (like royalmail.DefaultTrackingURL).
	TrackingURL string

	t  testing.TB
	hs *httptest.Server
	cd map[string]*operation // "POST /orders" → operation
	tr map[string]*operation

	mu         sync.Mutex
	clock      func() time.Time
	oba        bool
	services   map[string]bool
	badPCs     map[string]bool
	down       bool
	throttleN  int
	throttleRA time.Duration
	hangN      int
	counts     Counts
	nextID     int64
	nextTrack  int
	orders     []*Order
	byRef      map[string]*Order
	byID       map[int64]*Order
	tracking   map[string][]Event
}

// New starts a fake for an Online Business Account that offers DefaultServiceCodes
// and refuses BadPostcode. It fails t at once if the specifications do not load.
func New(t testing.TB) *Server {
	t.Helper()
	cdDoc, trDoc, err := specs()
	if err != nil {
		t.Fatalf("rmtest: %v", err)
	}
	s := &Server{
		t: t, clock: time.Now, oba: true, services: map[string]bool{}, badPCs: map[string]bool{normPostcode(BadPostcode): true},
		nextID: 1001, nextTrack: 1, byRef: map[string]*Order{}, byID: map[int64]*Order{}, tracking: map[string][]Event{},
		cd: map[string]*operation{}, tr: map[string]*operation{},
	}
	for _, c := range DefaultServiceCodes {
		s.services[c] = true
	}
	for key, path := range map[string]string{
		"POST /orders": "/orders", "GET /orders/{ids}": "/orders/{orderIdentifiers}", "GET /orders/{ids}/label": "/orders/{orderIdentifiers}/label",
	} {
		if s.cd[key], err = findOperation(cdDoc, strings.Fields(key)[0], path); err != nil {
			t.Fatalf("rmtest: %v", err)
		}
	}
	for key, path := range map[string]string{"GET /summary": "/summary", "GET /{id}/events": "/{mailPieceId}/events"} {
		if s.tr[key], err = findOperation(trDoc, "GET", path); err != nil {
			t.Fatalf("rmtest: %v", err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/", s.serveClickDrop)
	mux.HandleFunc("/mailpieces/v2/", s.serveTracking)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.report("rmtest: request to an unknown API: %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	s.hs = httptest.NewServer(mux)
	s.URL = s.hs.URL + "/api/v1"
	s.TrackingURL = s.hs.URL + "/mailpieces/v2"
	t.Cleanup(s.hs.Close)
	return s
}

// Carrier is a Click & Drop client on the fake with the right key and no rate limit
// to speak of (1000 calls a second).
func (s *Server) Carrier() *royalmail.Client {
	return royalmail.New(royalmail.Config{URL: s.URL, APIKey: APIKey, HTTPClient: s.hs.Client(),
		Limiter: royalmail.NewLocalLimiter(1000), Clock: s.now})
}

// Tracker is a Tracking API client on the fake with the right credentials.
func (s *Server) Tracker() *royalmail.Tracker {
	return royalmail.NewTracker(royalmail.TrackerConfig{URL: s.TrackingURL, ClientID: ClientID, ClientSecret: ClientSecret,
		HTTPClient: s.hs.Client()})
}

// SetClock sets the time the fake stamps on orders (createdOn, printedOn).
func (s *Server) SetClock(clock func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = clock
}

func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock()
}

// SetOBA makes the account an Online Business Account (labels through the API) or a
// pay-as-you-go one (no labels: 403).
func (s *Server) SetOBA(oba bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oba = oba
}

// SetServiceCodes replaces the service codes the account offers.
func (s *Server) SetServiceCodes(codes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services = map[string]bool{}
	for _, c := range codes {
		s.services[c] = true
	}
}

// RefusePostcode makes orders to postcode fail as not valid (spacing and case do not
// matter).
func (s *Server) RefusePostcode(postcode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.badPCs[normPostcode(postcode)] = true
}

// SetDown makes both APIs answer 503 to everything (true) or work again (false).
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Throttle answers the next n requests, to either API, 429 with Retry-After (whole
// seconds, at least 1).
func (s *Server) Throttle(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttleN, s.throttleRA = n, retryAfter
}

// HangAfterCreate makes the next n creates store their orders and then hold the
// answer until the client gives up (its deadline or timeout), so that the client
// never learns the outcome. The answer is dropped after 30 seconds at the latest.
func (s *Server) HangAfterCreate(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangN = n
}

// Counts returns the tally of requests so far.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// Orders returns copies of the orders, oldest first.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.orders))
	for _, o := range s.orders {
		out = append(out, copyOrder(o))
	}
	return out
}

// Order returns a copy of the order with reference ref.
func (s *Server) Order(ref string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.byRef[ref]
	if !ok {
		return Order{}, false
	}
	return copyOrder(o), true
}

func copyOrder(o *Order) Order {
	c := *o
	c.Label = slices.Clone(o.Label)
	c.Request = slices.Clone(o.Request)
	return c
}

// MarkShipped stamps the order's shippedOn, as despatching it in Click & Drop does.
// It reports whether the order exists.
func (s *Server) MarkShipped(ref string, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.byRef[ref]
	if ok {
		o.ShippedOn = at.UTC()
	}
	return ok
}

// SetTracking gives a tracking number its scans, in any order (the fake sorts them).
// With no events the number is known but not scanned yet (E1308). Numbers never set
// (nor made by a label) are unknown to Royal Mail (E1142).
func (s *Server) SetTracking(number string, events ...Event) {
	ev := slices.Clone(events)
	slices.SortStableFunc(ev, func(a, b Event) int { return a.At.Compare(b.At) })
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tracking[strings.ToUpper(number)] = ev
}

// report records a failure in the test that made the server.
func (s *Server) report(format string, args ...any) {
	s.t.Helper()
	s.t.Errorf(format, args...)
}

// fault answers the request for SetDown or Throttle and reports whether it did.
func (s *Server) fault(w http.ResponseWriter, api string) bool {
	s.mu.Lock()
	down := s.down
	throttled := !down && s.throttleN > 0
	ra := s.throttleRA
	switch {
	case down:
		s.counts.Down++
	case throttled:
		s.throttleN--
		s.counts.Throttled++
	}
	s.mu.Unlock()
	switch {
	case down:
		if api == "tracking" {
			writeJSON(w, http.StatusServiceUnavailable, trackingError(503, "Service Unavailable", "E0001", "Internal exception occurred",
				"An internal error was identified while attempting to process your API request"))
		} else {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
		}
		return true
	case throttled:
		secs := max(1, int((ra+time.Second-1)/time.Second))
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		if api == "tracking" {
			writeJSON(w, http.StatusTooManyRequests, trackingError(429, "Too Many Requests", "E0010", "Too many requests",
				"Configured throttling rate for service exceeded"))
		} else {
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"code": "TooManyRequests",
				"message": "Exceeding the rate limit of 5 calls per second will result in a 429 error."})
		}
		return true
	}
	return false
}

func normPostcode(p string) string {
	return strings.ToUpper(strings.Join(strings.Fields(p), ""))
}
