// Package btcpaytest is a fake BTCPay Server for tests and benchmarks: an httptest
// server that speaks the Greenfield API of one store as BTCPay's own OpenAPI document
// describes it, in the shape of 2.x (default) or of 1.x, and sends store webhooks.
//
// Every request it receives is checked against the document of its version (the
// operation exists; path, query and body match, unknown body fields included), and so is
// every 2xx answer it gives. A mismatch is reported to the test (Errorf of the Reporter
// given to New) and answered with a 404/405/400 as BTCPay would; Mismatches lists them
// too, for a benchmark without a testing.T. OrderDesk calls only the store-scoped
// routes; the 2.4 storeId-less ones are mismatches here.
//
// What it implements (all in memory, safe for concurrent use):
//
//	GET  /api/v1/server/info                                      version per shape, sync state (SetSynced)
//	GET  /api/v1/api-keys/current                                 the key's permissions (SetPermissions)
//	GET  /api/v1/stores/{storeId}                                 the store (needs canviewstoresettings)
//	GET  /api/v1/stores/{storeId}/invoices                        orderId, status, skip, take filters; newest first
//	POST /api/v1/stores/{storeId}/invoices                        GBP at Config.Rate; on-chain and Lightning methods
//	GET  /api/v1/stores/{storeId}/invoices/{invoiceId}
//	GET  /api/v1/stores/{storeId}/invoices/{invoiceId}/payment-methods   (onlyAccountedPayments)
//	POST /api/v1/stores/{storeId}/invoices/{invoiceId}/status     BTCPay's marking rules
//	POST /api/v1/stores/{storeId}/invoices/{invoiceId}/refund     a pull payment (RateThen, CurrentRate, OverpaidAmount, Fiat)
//	GET|POST /api/v1/stores/{storeId}/webhooks
//
// Authentication is "Authorization: token <Config.APIKey>"; a wrong key is 401, a
// missing permission 403 (permissions may be scoped "perm:storeId"), an unknown store
// 404. Controls for tests: Pay / PayMsat (a payment; the invoice's status follows as at
// BTCPay: PaidPartial, Processing, Settled, PaidOver, PaidLate after expiry), SetStatus,
// SettlePayment and InvalidatePayment (a payment confirmed, or double spent), Expire,
// CreateInvoice (in any store, e.g. OtherStoreID, with any metadata), SetDown (every
// call 503), SetLatency, SetPermissions, SetSynced, Calls (per route, e.g.
// Calls(RouteCreateInvoice)), LastBody, Invoices, Webhooks, PullPayments, Mismatches.
//
// Webhooks: Deliver posts an event about an invoice to a URL the way BTCPay does: the
// body indented exactly like BTCPay's serialiser, fields in BTCPay's order
// (deliveryId, webhookId, originalDeliveryId, isRedelivery, type, timestamp, the type's
// own fields, storeId, invoiceId, metadata), signed in the BTCPay-Sig header. Redeliver
// sends a delivery again with a new deliveryId, the same originalDeliveryId and
// isRedelivery true; DeliverTest sends what the store's "Test webhook" button sends;
// Body returns a delivery's exact bytes and Sign the BTCPay-Sig of any body. The bodies
// are checked against the document's event schemas too.
//
// Measured on a 2-core machine like CI's: a delivery plus the invoice and its payment methods
// read back takes about 0.8 ms (BenchmarkWebhookRoundTrip), so over 1,000 webhooks a
// second, with every request and answer validated.
package btcpaytest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Shape is the version of the API the fake speaks.
type Shape int

const (
	// V2 is BTCPay Server 2.x (2.4.1): payment methods "BTC-CHAIN", "BTC-LN".
	V2 Shape = iota
	// V1 is BTCPay Server 1.x (1.13.7): payment methods "BTC", "BTC-LightningNetwork".
	V1
)

// Defaults of Config.
const (
	DefaultStoreID = "9CiNzKoANXxmk5ayZngSXrHTiVvvgCrwrpFQd4m2K776"
	DefaultAPIKey  = "btcpaytest-api-key-0123456789abcdef"
	// OtherStoreID is a second store on the server, which the key cannot see.
	OtherStoreID = "3sp2FEBHsPyaZE93QwrgKMqBK2ZgfnREQ4XHkQuFi7rB"
)

// The routes, as Calls and LastBody name them.
const (
	RouteServerInfo     = "GET /api/v1/server/info"
	RouteCurrentAPIKey  = "GET /api/v1/api-keys/current"
	RouteStore          = "GET /api/v1/stores/{storeId}"
	RouteListInvoices   = "GET /api/v1/stores/{storeId}/invoices"
	RouteCreateInvoice  = "POST /api/v1/stores/{storeId}/invoices"
	RouteInvoice        = "GET /api/v1/stores/{storeId}/invoices/{invoiceId}"
	RoutePaymentMethods = "GET /api/v1/stores/{storeId}/invoices/{invoiceId}/payment-methods"
	RouteMarkStatus     = "POST /api/v1/stores/{storeId}/invoices/{invoiceId}/status"
	RouteRefund         = "POST /api/v1/stores/{storeId}/invoices/{invoiceId}/refund"
	RouteListWebhooks   = "GET /api/v1/stores/{storeId}/webhooks"
	RouteCreateWebhook  = "POST /api/v1/stores/{storeId}/webhooks"
)

// Config sets up the fake; the zero value is a 2.x server with the default store and
// key, a key with the permissions OrderDesk needs, on-chain and Lightning methods, and
// bitcoin at £50,000.
type Config struct {
	Shape     Shape
	StoreID   string
	StoreName string
	APIKey    string
	// Permissions of the key; nil means DefaultPermissions(StoreID).
	Permissions []string
	// Methods are the store's payment methods, in 2.x ids: "BTC-CHAIN", "BTC-LN".
	Methods []string
	// Rate is the price of one bitcoin in GBP, a decimal string ("50000", "51234.5678").
	Rate string
	// Version is what /server/info says; default "2.4.1" or "1.13.7" by shape.
	Version string
	Clock   func() time.Time
}

// DefaultPermissions are the permissions OrderDesk's README asks for, scoped to store.
func DefaultPermissions(store string) []string {
	return []string{
		"btcpay.store.cancreateinvoice:" + store,
		"btcpay.store.canmodifyinvoices:" + store,
		"btcpay.store.webhooks.canmodifywebhooks:" + store,
		"btcpay.store.cancreatepullpayments:" + store,
	}
}

// Reporter receives mismatches: a *testing.T, or anything with Errorf.
type Reporter interface {
	Errorf(format string, args ...any)
}

// Server is the fake BTCPay Server.
type Server struct {
	cfg  Config
	t    Reporter
	spec *spec
	srv  *httptest.Server
	rate *big.Rat
	hook *http.Client

	mu           sync.Mutex
	invoices     map[string]*invoice
	webhooks     []*webhook
	deliveries   map[string]*delivery
	hookIDs      map[string]string // webhook ids made up for unregistered urls
	pullPayments []*PullPayment
	calls        map[string]int
	lastBody     map[string][]byte
	mismatches   []string
	permissions  []string
	down         bool
	synced       bool
	latency      time.Duration
	seq          int
}

// New starts a fake server; with a *testing.T (anything with Cleanup) it stops when
// the test ends, otherwise call Close. t may be nil: mismatches are then only kept for
// Mismatches.
func New(t Reporter, cfg Config) *Server {
	if cfg.StoreID == "" {
		cfg.StoreID = DefaultStoreID
	}
	if cfg.StoreName == "" {
		cfg.StoreName = "OrderDesk test store"
	}
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	if cfg.Permissions == nil {
		cfg.Permissions = DefaultPermissions(cfg.StoreID)
	}
	if cfg.Methods == nil {
		cfg.Methods = []string{"BTC-CHAIN", "BTC-LN"}
	}
	if cfg.Rate == "" {
		cfg.Rate = "50000"
	}
	if cfg.Version == "" {
		cfg.Version = "2.4.1"
		if cfg.Shape == V1 {
			cfg.Version = "1.13.7"
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	sp, err := loadSpec(cfg.Shape)
	if err != nil {
		panic(err) // the embedded documents are part of the package: a broken one is a bug here
	}
	rate, ok := new(big.Rat).SetString(cfg.Rate)
	if !ok || rate.Sign() <= 0 {
		panic(fmt.Sprintf("btcpaytest: Config.Rate %q is not a positive decimal", cfg.Rate))
	}
	s := &Server{cfg: cfg, t: t, spec: sp, rate: rate, hook: &http.Client{Timeout: 30 * time.Second},
		invoices: map[string]*invoice{}, deliveries: map[string]*delivery{}, hookIDs: map[string]string{}, calls: map[string]int{},
		lastBody: map[string][]byte{}, permissions: cfg.Permissions, synced: true}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	if c, ok := t.(interface{ Cleanup(func()) }); ok {
		c.Cleanup(s.Close)
	}
	return s
}

// URL is the server's base URL (BTCPAY_URL).
func (s *Server) URL() string { return s.srv.URL }

// StoreID is the store the key belongs to (BTCPAY_STORE_ID).
func (s *Server) StoreID() string { return s.cfg.StoreID }

// APIKey is the key the server accepts (BTCPAY_API_KEY).
func (s *Server) APIKey() string { return s.cfg.APIKey }

// Shape is the version the server speaks.
func (s *Server) Shape() Shape { return s.cfg.Shape }

// Close stops the server.
func (s *Server) Close() {
	s.srv.Close()
	s.hook.CloseIdleConnections()
}

// mismatch records a request or answer that does not match the document.
func (s *Server) mismatch(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.mismatches = append(s.mismatches, msg)
	s.mu.Unlock()
	if s.t != nil {
		s.t.Errorf("btcpaytest: %s", msg)
	}
}

// Mismatches returns every mismatch seen so far.
func (s *Server) Mismatches() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.mismatches...)
}

// SetDown makes every API call answer 503 (as a proxy in front of a stopped BTCPay
// does) until SetDown(false).
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// SetLatency delays every API answer by d (a request whose context ends first gets
// nothing).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// SetPermissions replaces the key's permissions.
func (s *Server) SetPermissions(p []string) {
	s.mu.Lock()
	s.permissions = append([]string{}, p...)
	s.mu.Unlock()
}

// SetSynced sets what /server/info says of the sync state.
func (s *Server) SetSynced(synced bool) {
	s.mu.Lock()
	s.synced = synced
	s.mu.Unlock()
}

// Calls returns how many requests reached route ("POST /api/v1/stores/{storeId}/invoices",
// see the Route constants), whatever their answer.
func (s *Server) Calls(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[route]
}

// TotalCalls returns how many requests the server received.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// LastBody returns the body of the last request to route.
func (s *Server) LastBody(route string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.lastBody[route]...)
}

// answer is what a handler returns: a status and a JSON value (nil: no body).
type answer struct {
	status int
	body   any
}

func ok(v any) answer { return answer{http.StatusOK, v} }

func problem(status int, code, message string) answer {
	return answer{status, map[string]string{"code": code, "message": message}}
}

func invalid(path, message string) answer {
	return answer{http.StatusBadRequest, []map[string]string{{"path": path, "message": message}}}
}

var validateOptions = &openapi3filter.Options{
	AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
	MultiError:          true,
	SkipSettingDefaults: true,
}

// serve runs one API call: route and check it against the document, authenticate,
// handle, and check the answer.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	route, params, rerr := s.spec.router.FindRoute(r)
	key := r.Method + " " + r.URL.Path
	if rerr == nil {
		key = r.Method + " " + route.Path
	}
	s.mu.Lock()
	s.calls[key]++
	s.lastBody[key] = body
	down, latency := s.down, s.latency
	s.mu.Unlock()

	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	if down {
		http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	if rerr != nil {
		s.mismatch("%s %s is not in the Greenfield document: %v", r.Method, r.URL.Path, rerr)
		status := http.StatusNotFound
		if errors.Is(rerr, routers.ErrMethodNotAllowed) {
			status = http.StatusMethodNotAllowed
		}
		writeJSON(w, status, map[string]string{"code": "not-found", "message": "not found"})
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: cloneWithBody(r, body), PathParams: params, Route: route, Options: validateOptions}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		s.mismatch("%s does not match the document: %v\nbody: %s", key, err, clip(body))
		writeJSON(w, http.StatusBadRequest, []map[string]string{{"path": "", "message": err.Error()}})
		return
	}
	a := s.handle(key, params, r, body)
	out, err := json.Marshal(a.body)
	if err != nil {
		panic(err)
	}
	if a.status >= 200 && a.status < 300 {
		rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: a.status,
			Header: http.Header{"Content-Type": {"application/json"}}, Options: validateOptions}
		rin.SetBodyBytes(out)
		if err := openapi3filter.ValidateResponse(r.Context(), rin); err != nil {
			s.mismatch("the fake's own answer to %s does not match the document: %v\nbody: %s", key, err, clip(out))
		}
	}
	if a.body == nil {
		w.WriteHeader(a.status)
		return
	}
	writeJSON(w, a.status, json.RawMessage(out))
}

func cloneWithBody(r *http.Request, body []byte) *http.Request {
	c := r.Clone(r.Context())
	c.Body = io.NopCloser(bytes.NewReader(body))
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// routePermission is the permission each route needs ("" for any valid key).
var routePermission = map[string]string{
	RouteServerInfo:     "",
	RouteCurrentAPIKey:  "",
	RouteStore:          "btcpay.store.canviewstoresettings",
	RouteListInvoices:   "btcpay.store.canviewinvoices",
	RouteCreateInvoice:  "btcpay.store.cancreateinvoice",
	RouteInvoice:        "btcpay.store.canviewinvoices",
	RoutePaymentMethods: "btcpay.store.canviewinvoices",
	RouteMarkStatus:     "btcpay.store.canmodifyinvoices",
	RouteRefund:         "btcpay.store.cancreatenonapprovedpullpayments",
	RouteListWebhooks:   "btcpay.store.webhooks.canmodifywebhooks",
	RouteCreateWebhook:  "btcpay.store.webhooks.canmodifywebhooks",
}

// policyIncludes is BTCPay's policy hierarchy, the part these routes need.
var policyIncludes = map[string][]string{
	"btcpay.store.canmodifystoresettings": {"btcpay.store.canviewstoresettings", "btcpay.store.canmodifyinvoices",
		"btcpay.store.webhooks.canmodifywebhooks", "btcpay.store.canmanagepullpayments"},
	"btcpay.store.canmodifyinvoices":     {"btcpay.store.canviewinvoices", "btcpay.store.cancreateinvoice"},
	"btcpay.store.canmanagepullpayments": {"btcpay.store.cancreatepullpayments"},
	"btcpay.store.cancreatepullpayments": {"btcpay.store.cancreatenonapprovedpullpayments"},
}

func permits(have []string, want, store string) bool {
	var grants func(p string) bool
	grants = func(p string) bool {
		if p == want || p == "unrestricted" {
			return true
		}
		for _, q := range policyIncludes[p] {
			if grants(q) {
				return true
			}
		}
		return false
	}
	for _, p := range have {
		name, scope, scoped := strings.Cut(p, ":")
		if (!scoped || scope == store) && grants(name) {
			return true
		}
	}
	return false
}

// handle authenticates and dispatches a call that matches the document.
func (s *Server) handle(key string, params map[string]string, r *http.Request, body []byte) answer {
	token, found := strings.CutPrefix(r.Header.Get("Authorization"), "token ")
	if !found || token != s.cfg.APIKey {
		return problem(http.StatusUnauthorized, "unauthenticated", "Authentication is required for accessing this endpoint")
	}
	perm, known := routePermission[key]
	if !known {
		s.mismatch("%s is in the document but OrderDesk should not call it (only store-scoped routes), and the fake does not implement it", key)
		return problem(http.StatusNotImplemented, "not-implemented", "btcpaytest does not implement "+key)
	}
	store := params["storeId"]
	s.mu.Lock()
	defer s.mu.Unlock()
	if store != "" && store != s.cfg.StoreID && store != OtherStoreID {
		return problem(http.StatusNotFound, "store-not-found", "The store was not found")
	}
	if perm != "" && !permits(s.permissions, perm, store) {
		return problem(http.StatusForbidden, "missing-permission",
			fmt.Sprintf("Insufficient API Permissions. Please use an API key with permission \"%s\". You can create an API key in your account's settings / Api Keys.", perm))
	}
	q := r.URL.Query()
	switch key {
	case RouteServerInfo:
		return ok(s.serverInfo())
	case RouteCurrentAPIKey:
		return ok(map[string]any{"apiKey": s.cfg.APIKey, "label": "OrderDesk", "permissions": s.permissions})
	case RouteStore:
		return ok(map[string]any{"id": store, "name": s.cfg.StoreName, "defaultCurrency": "GBP", "speedPolicy": "MediumSpeed",
			"invoiceExpiration": 900, "monitoringExpiration": 86400, "paymentTolerance": 0, "archived": false})
	case RouteListInvoices:
		return s.listInvoices(store, q)
	case RouteCreateInvoice:
		return s.createInvoiceCall(store, body)
	case RouteInvoice, RoutePaymentMethods, RouteMarkStatus, RouteRefund:
		inv := s.invoices[params["invoiceId"]]
		if inv == nil || inv.storeID != store {
			return problem(http.StatusNotFound, "invoice-not-found", "The invoice was not found")
		}
		switch key {
		case RouteInvoice:
			return ok(s.invoiceJSON(inv, false))
		case RoutePaymentMethods:
			return ok(s.methodsJSON(inv, q.Get("onlyAccountedPayments") != "false"))
		case RouteMarkStatus:
			return s.markStatus(inv, body)
		default:
			return s.refund(inv, body)
		}
	case RouteListWebhooks:
		out := []map[string]any{}
		for _, h := range s.webhooks {
			if h.storeID == store {
				out = append(out, h.json(false))
			}
		}
		return ok(out)
	default: // RouteCreateWebhook
		return s.createWebhook(store, body)
	}
}

func (s *Server) serverInfo() map[string]any {
	methods := []string{"BTC-CHAIN", "BTC-LN", "BTC-LNURL"}
	if s.cfg.Shape == V1 {
		methods = []string{"BTC", "BTC-LightningNetwork", "BTC-LNURLPAY"}
	}
	return map[string]any{
		"version": s.cfg.Version, "onion": "", "supportedPaymentMethods": methods, "fullySynched": s.synced,
		"syncStatus": []map[string]any{{"cryptoCode": "BTC", "chainHeight": 850000, "syncHeight": 850000, "available": s.synced}},
	}
}

// newID is a random id in BTCPay's style (16 random bytes in base58).
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base58(b)
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func base58(b []byte) string {
	n := new(big.Int).SetBytes(b)
	var out []byte
	mod := new(big.Int)
	for n.Sign() > 0 {
		n.DivMod(n, big.NewInt(58), mod)
		out = append(out, base58Alphabet[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// webhook is a store webhook.
type webhook struct {
	id, storeID, url, secret string
	enabled, redelivery      bool
	everything               bool
	events                   []string
}

func (h *webhook) json(withSecret bool) map[string]any {
	events := h.events
	if events == nil {
		events = []string{}
	}
	m := map[string]any{"id": h.id, "enabled": h.enabled, "automaticRedelivery": h.redelivery, "url": h.url,
		"authorizedEvents": map[string]any{"everything": h.everything, "specificEvents": events}}
	if withSecret {
		m["secret"] = h.secret
	}
	return m
}

// Webhook is a registered store webhook.
type Webhook struct {
	ID, StoreID, URL, Secret string
	AutomaticRedelivery      bool
	Everything               bool
}

// Webhooks returns the webhooks registered through the API.
func (s *Server) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Webhook
	for _, h := range s.webhooks {
		out = append(out, Webhook{ID: h.id, StoreID: h.storeID, URL: h.url, Secret: h.secret, AutomaticRedelivery: h.redelivery, Everything: h.everything})
	}
	return out
}

func (s *Server) createWebhook(store string, body []byte) answer {
	var req struct {
		URL                 string  `json:"url"`
		Enabled             *bool   `json:"enabled"`
		AutomaticRedelivery *bool   `json:"automaticRedelivery"`
		Secret              *string `json:"secret"`
		AuthorizedEvents    *struct {
			Everything     *bool    `json:"everything"`
			SpecificEvents []string `json:"specificEvents"`
		} `json:"authorizedEvents"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return invalid("", err.Error())
	}
	if !strings.HasPrefix(req.URL, "http://") && !strings.HasPrefix(req.URL, "https://") {
		return invalid("url", "Invalid url")
	}
	h := &webhook{id: newID(), storeID: store, url: req.URL, enabled: true, redelivery: true, everything: true}
	if req.Enabled != nil {
		h.enabled = *req.Enabled
	}
	if req.AutomaticRedelivery != nil {
		h.redelivery = *req.AutomaticRedelivery
	}
	if req.AuthorizedEvents != nil {
		if req.AuthorizedEvents.Everything != nil {
			h.everything = *req.AuthorizedEvents.Everything
		}
		h.events = req.AuthorizedEvents.SpecificEvents
	}
	if req.Secret != nil && *req.Secret != "" {
		h.secret = *req.Secret
	} else {
		h.secret = newID()
	}
	s.webhooks = append(s.webhooks, h)
	return ok(h.json(true))
}

// PullPayment is a refund the server made.
type PullPayment struct {
	ID, InvoiceID, Name string
	Amount, Currency    string
	ViewLink            string
	AutoApproveClaims   bool
	// Request is the refund request's body.
	Request map[string]any
}

// PullPayments returns the refunds made so far.
func (s *Server) PullPayments() []PullPayment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PullPayment, len(s.pullPayments))
	for i, p := range s.pullPayments {
		out[i] = *p
	}
	return out
}

// sortedInvoices are the invoices newest first.
func (s *Server) sortedInvoices() []*invoice {
	out := make([]*invoice, 0, len(s.invoices))
	for _, inv := range s.invoices {
		out = append(out, inv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq > out[j].seq })
	return out
}
