package fulfilment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	pdfapi "github.com/pdfcpu/pdfcpu/pkg/api"

	"orderdesk/adapters/pdfkit"
	"orderdesk/app"
	"orderdesk/app/apptest"
	"orderdesk/modules/catalog"
	"orderdesk/modules/fulfilment"
	"orderdesk/modules/ordering"
	"orderdesk/ports"
)

// These tests run the fulfilment service inside the whole app (real PostgreSQL, the
// real ordering and catalog modules) against a scripted carrier, and call the job
// handlers directly, as the worker would, to play each fault exactly.

func TestMain(m *testing.M) { apptest.Main(m) }

// fakeCarrier is a Click & Drop stand-in with the error contract of ports.Carrier and
// hooks to fail at chosen moments.
type fakeCarrier struct {
	mu      sync.Mutex
	orders  map[string]*ports.CarrierOrder
	labels  map[string][]byte
	next    int
	creates int
	lookups int
	// refuse makes creates to this postcode fail as invalid.
	refuse string
	// noLabelAccess: no label in a create's answer, Label is EFORBIDDEN.
	noLabelAccess bool
	// afterCreate, when set, runs after an order is stored; its error replaces the
	// answer (a timeout, a killed worker).
	afterCreate func() error
	// down, when set, is every call's answer (a 500, a 429).
	down     error
	requests []ports.ShipmentRequest
}

func newFakeCarrier() *fakeCarrier {
	return &fakeCarrier{orders: map[string]*ports.CarrierOrder{}, labels: map[string][]byte{}}
}

func (c *fakeCarrier) Name() string { return "fake" }

func (c *fakeCarrier) TrackingURL(n string) string { return "https://track.example/" + n }

func labelPDF(t testing.TB, text string) []byte {
	pdf := pdfkit.New("P", pdfkit.Label6x4)
	pdf.AddPage()
	pdf.CellFormat(0, 10, text, "", 1, "L", false, 0, "")
	b, err := pdfkit.Bytes(pdf)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var labelOf = func(ref string) []byte { return nil } // set by newEnv: a real one-page PDF per reference

func (c *fakeCarrier) CreateOrder(_ context.Context, r ports.ShipmentRequest) (*ports.CarrierOrder, error) {
	c.mu.Lock()
	c.creates++
	c.requests = append(c.requests, r)
	after := c.afterCreate
	if c.down != nil {
		c.mu.Unlock()
		return nil, c.down
	}
	if r.Recipient.Postcode == c.refuse {
		c.mu.Unlock()
		return nil, ports.Errorf(ports.EINVALID, "Royal Mail refused the parcel: the postcode %s is not valid.", r.Recipient.Postcode)
	}
	if _, ok := c.orders[r.Reference]; ok {
		c.mu.Unlock()
		return nil, ports.Errorf(ports.ECONFLICT, "Royal Mail already has an order with reference %s.", r.Reference)
	}
	c.next++
	o := &ports.CarrierOrder{ID: fmt.Sprint(1000 + c.next), Reference: r.Reference, CreatedAt: time.Now()}
	if !c.noLabelAccess {
		o.TrackingNumbers = []string{fmt.Sprintf("TT%09dGB", c.next)}
		c.labels[o.ID] = labelOf(r.Reference)
	}
	c.orders[r.Reference] = o
	out := *o
	if r.WantLabel && !c.noLabelAccess {
		out.Label = c.labels[o.ID]
	}
	if r.WantLabel && c.noLabelAccess {
		out.LabelError = "Royal Mail made no label for this order (label access needs an Online Business Account)."
	}
	c.mu.Unlock()
	if after != nil {
		if err := after(); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

func (c *fakeCarrier) OrderByReference(_ context.Context, ref string) (*ports.CarrierOrder, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lookups++
	if c.down != nil {
		return nil, c.down
	}
	o, ok := c.orders[ref]
	if !ok {
		return nil, ports.Errorf(ports.ENOTFOUND, "Royal Mail has no order with reference %s.", ref)
	}
	out := *o
	return &out, nil
}

func (c *fakeCarrier) Label(_ context.Context, id string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down != nil {
		return nil, c.down
	}
	if c.noLabelAccess {
		return nil, ports.Errorf(ports.EFORBIDDEN, "This Click & Drop account has no label access.")
	}
	b, ok := c.labels[id]
	if !ok {
		return nil, ports.Errorf(ports.ENOTFOUND, "Royal Mail has no order %s.", id)
	}
	return b, nil
}

// printed makes the label of a push-only order in "Click & Drop": it gets its
// tracking number.
func (c *fakeCarrier) printed(ref string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.orders[ref].TrackingNumbers = []string{"PUSH" + ref}
}

func (c *fakeCarrier) counts() (orders, creates, lookups int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.orders), c.creates, c.lookups
}

// fakeTracker reports the scans set per tracking number.
type fakeTracker struct {
	mu    sync.Mutex
	scans map[string]ports.TrackingSummary
	calls [][]string
}

func (f *fakeTracker) Summaries(_ context.Context, numbers []string) ([]ports.TrackingSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(numbers) > fulfilment.TrackingBatch {
		return nil, ports.Errorf(ports.EINVALID, "at most 30 numbers")
	}
	f.calls = append(f.calls, numbers)
	var out []ports.TrackingSummary
	for _, n := range numbers {
		s, ok := f.scans[n]
		if !ok {
			out = append(out, ports.TrackingSummary{TrackingNumber: n, Error: "No scan yet."})
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

func (f *fakeTracker) Events(_ context.Context, n string) ([]ports.TrackingSummary, error) {
	return nil, ports.Errorf(ports.ENOTFOUND, "not used")
}

type env struct {
	*apptest.Env
	carrier *fakeCarrier
	tracker *fakeTracker
	shop    *apptest.Shop
	staff   context.Context
	system  context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	labelOf = func(ref string) []byte { return labelPDF(t, "LABEL "+ref) }
	fc, ft := newFakeCarrier(), &fakeTracker{scans: map[string]ports.TrackingSummary{}}
	e := apptest.StartOpts(t, nil, app.Options{Carrier: fc, Tracker: ft})
	return &env{Env: e, carrier: fc, tracker: ft, shop: e.NewShop(t, "Fulfil"),
		staff:  ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: "p1", Name: "pat", IP: "192.0.2.9"}),
		system: ports.WithActor(context.Background(), ports.System)}
}

// paid places an order of qty and moves it to processing, as a settled payment does.
func (e *env) paid(t *testing.T, qty int) *ordering.Order {
	t.Helper()
	o := e.shop.Place(t, "tg-"+uuid.NewString()[:6], qty)
	if _, err := e.App.Orders.Transition(e.system, o.ID, ordering.StatusProcessing, "paid"); err != nil {
		t.Fatal(err)
	}
	return o
}

func (e *env) pick(t *testing.T, o *ordering.Order) *fulfilment.Shipment {
	t.Helper()
	sh, already, err := e.App.Fulfilment.Picked(e.staff, o.ID, fulfilment.PickInput{})
	if err != nil || already {
		t.Fatalf("picked: %v (already %v)", err, already)
	}
	return sh
}

func (e *env) shipment(t *testing.T, o *ordering.Order) *fulfilment.Shipment {
	t.Helper()
	sh, err := e.App.Fulfilment.Shipment(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

func (e *env) status(t *testing.T, o *ordering.Order) ordering.Status {
	t.Helper()
	got, err := e.App.Orders.Order(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got.Status
}

func (e *env) events(t *testing.T, o *ordering.Order, typ string) []map[string]any {
	t.Helper()
	var bodies []string
	if err := e.App.DB.SelectContext(context.Background(), &bodies, `SELECT body FROM clients.events
		WHERE subject = $1 AND type = $2 ORDER BY created_at`, o.ID.String(), typ); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, b := range bodies {
		var ev struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(b), &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.Data)
	}
	return out
}

func (e *env) register(t *testing.T, o *ordering.Order) error {
	t.Helper()
	return e.App.Fulfilment.RegisterJob(e.system, []byte(`{"orderId":"`+o.ID.String()+`"}`))
}

func (e *env) stock(t *testing.T) int {
	t.Helper()
	p, err := e.App.Catalog.Product(context.Background(), e.shop.Product.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p.StockOnHand
}

// wantShipped checks the end of every good path: one carrier order, the label stored
// and readable, the order shipped, and the client app told with the tracking number.
func (e *env) wantShipped(t *testing.T, o *ordering.Order) *fulfilment.Shipment {
	t.Helper()
	sh := e.shipment(t, o)
	if sh.State != fulfilment.StateShipped || sh.TrackingNumber() == "" || !sh.LabelReady() || sh.CarrierOrderID == "" {
		t.Fatalf("shipment %+v", sh)
	}
	if st := e.status(t, o); st != ordering.StatusShipped {
		t.Fatalf("order is %s", st)
	}
	f, info, err := e.App.Fulfilment.Label(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if info.Key != fulfilment.LabelKey(o.ID) || info.Size == 0 {
		t.Fatalf("label %+v", info)
	}
	shipped := e.events(t, o, ordering.EventShipped)
	if len(shipped) != 1 || shipped[0]["trackingNumber"] != sh.TrackingNumber() ||
		shipped[0]["trackingUrl"] != "https://track.example/"+sh.TrackingNumber() || shipped[0]["status"] != "shipped" {
		t.Fatalf("order.shipped events %v", shipped)
	}
	changed := e.events(t, o, ordering.EventStatusChanged)
	if last := changed[len(changed)-1]; last["status"] != "shipped" {
		t.Fatalf("last order.status_changed %v", last)
	}
	n := 0
	for _, r := range e.carrier.requests {
		if r.Reference == sh.Reference {
			n++
		}
	}
	if orders, _, _ := e.carrier.counts(); orders == 0 || n == 0 {
		t.Fatal("the carrier never saw the order")
	}
	return sh
}

func TestPickedThenRegisteredWithLabel(t *testing.T) {
	e := newEnv(t)
	o := e.paid(t, 3)
	before := e.stock(t)
	sh := e.pick(t, o)
	if sh.State != fulfilment.StateQueued || sh.Reference != o.Number || sh.WeightGrams != o.WeightGrams || sh.PackageFormat != "parcel" {
		t.Fatalf("new shipment %+v", sh)
	}
	if st := e.status(t, o); st != ordering.StatusPicked {
		t.Fatalf("order is %s after Picked", st)
	}
	if got := e.stock(t); got != before-3 {
		t.Fatalf("stock on hand %d after picking 3 of %d", got, before)
	}
	var jobs int
	if err := e.App.DB.GetContext(context.Background(), &jobs, `SELECT count(*) FROM platform.outbox WHERE job_id = $1`,
		fulfilment.JobRegister+":"+o.ID.String()); err != nil || jobs != 1 {
		t.Fatalf("%d registration jobs in the outbox (%v)", jobs, err)
	}
	var audits int
	_ = e.App.DB.GetContext(context.Background(), &audits, `SELECT count(*) FROM platform.audit_log WHERE action = 'order.status'
		AND object_id = $1 AND actor = 'pat' AND detail LIKE '%picked%'`, o.ID.String())
	if audits != 1 {
		t.Fatalf("%d audit entries for Picked", audits)
	}

	if err := e.register(t, o); err != nil {
		t.Fatal(err)
	}
	sh = e.wantShipped(t, o)
	req := e.carrier.requests[len(e.carrier.requests)-1]
	if req.Reference != sh.Reference || !req.WantLabel || req.Recipient.Postcode != apptest.Address.Postcode || req.Recipient.Name != apptest.Address.Name ||
		req.ServiceCode != "TPN24" || req.Items[0].Quantity != 3 || req.TotalPence != o.TotalMinor {
		t.Fatalf("carrier request %+v", req)
	}
	// The job again (a retry after a lost acknowledgement) changes nothing.
	if err := e.register(t, o); err != nil {
		t.Fatal(err)
	}
	if orders, creates, _ := e.carrier.counts(); orders != 1 || creates != 1 {
		t.Fatalf("%d carrier orders, %d creates", orders, creates)
	}
	if len(e.events(t, o, ordering.EventShipped)) != 1 {
		t.Fatal("order.shipped sent twice")
	}
}

func TestDoublePickedMakesOneShipment(t *testing.T) {
	e := newEnv(t)
	o := e.paid(t, 1)
	before := e.stock(t)
	var wg sync.WaitGroup
	results := make([]bool, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i], errs[i] = e.App.Fulfilment.Picked(e.staff, o.ID, fulfilment.PickInput{})
		}()
	}
	wg.Wait()
	fresh := 0
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("press %d: %v", i, errs[i])
		}
		if !results[i] {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d presses made a shipment, want 1", fresh)
	}
	if got := e.stock(t); got != before-1 {
		t.Fatalf("stock taken %d times", before-got)
	}
	var jobs int
	_ = e.App.DB.GetContext(context.Background(), &jobs, `SELECT count(*) FROM platform.outbox WHERE job_id LIKE $1`,
		fulfilment.JobRegister+":"+o.ID.String()+"%")
	if jobs != 1 {
		t.Fatalf("%d registration jobs", jobs)
	}
	// Two workers running the job at once still make one carrier order.
	var wg2 sync.WaitGroup
	for range 2 {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			if err := e.register(t, o); err != nil {
				t.Error(err)
			}
		}()
	}
	wg2.Wait()
	e.wantShipped(t, o)
	if orders, creates, _ := e.carrier.counts(); orders != 1 || creates != 1 {
		t.Fatalf("%d carrier orders from %d creates", orders, creates)
	}
}

func TestPickedRefusesWhatCannotBePicked(t *testing.T) {
	e := newEnv(t)
	unpaid := e.shop.Place(t, "tg-unpaid", 1)
	if _, _, err := e.App.Fulfilment.Picked(e.staff, unpaid.ID, fulfilment.PickInput{}); ports.ErrorCodeOf(err) != ports.ECONFLICT ||
		!strings.Contains(err.Error(), "pending payment") {
		t.Fatalf("picking an unpaid order: %v", err)
	}
	o := e.paid(t, 1)
	_, _, err := e.App.Fulfilment.Picked(e.staff, o.ID, fulfilment.PickInput{Format: "letter", Weight: "400"})
	if ports.ErrorCodeOf(err) != ports.EINVALID || ports.FieldErrorsOf(err)[0].Field != "weight" {
		t.Fatalf("a 400 g letter: %v", err)
	}
	if st := e.status(t, o); st != ordering.StatusProcessing {
		t.Fatalf("a refused Picked left the order %s", st)
	}
	// The packer's override is what the carrier gets.
	sh, _, err := e.App.Fulfilment.Picked(e.staff, o.ID, fulfilment.PickInput{Format: "mediumParcel", Weight: "2500"})
	if err != nil || sh.PackageFormat != "mediumParcel" || sh.WeightGrams != 2500 {
		t.Fatalf("override: %+v, %v", sh, err)
	}
	if err := e.register(t, o); err != nil {
		t.Fatal(err)
	}
	if r := e.carrier.requests[0]; r.PackageFormat != "mediumParcel" || r.WeightGrams != 2500 {
		t.Fatalf("carrier got %s %d g", r.PackageFormat, r.WeightGrams)
	}
}

func TestRefusedAddressFixedAndRetried(t *testing.T) {
	e := newEnv(t)
	e.carrier.refuse = apptest.Address.Postcode
	o := e.paid(t, 1)
	e.pick(t, o)
	if err := e.register(t, o); err != nil {
		t.Fatalf("a refusal is not worth a retry, yet the job failed: %v", err)
	}
	sh := e.shipment(t, o)
	if sh.State != fulfilment.StateFailed || sh.ErrorKind != fulfilment.ErrorInvalid || !strings.Contains(sh.ErrorMessage, "postcode") {
		t.Fatalf("shipment %+v", sh)
	}
	if st := e.status(t, o); st != ordering.StatusPicked {
		t.Fatalf("order is %s", st)
	}
	// A bad correction is refused naming the field; nothing changes.
	bad := ports.Recipient{Name: "Ann Example", Line1: "1 High Street", City: "London", Postcode: "not a postcode", CountryCode: "GB"}
	_, err := e.App.Fulfilment.FixAddress(e.staff, o.ID, bad)
	if ports.ErrorCodeOf(err) != ports.EINVALID || ports.FieldErrorsOf(err)[0].Field != "postcode" {
		t.Fatalf("bad address: %v", err)
	}
	good := bad
	good.Postcode = "sw1a 2aa"
	sh, err = e.App.Fulfilment.FixAddress(e.staff, o.ID, good)
	if err != nil || sh.State != fulfilment.StateQueued || sh.Retries != 1 {
		t.Fatalf("fix: %+v, %v", sh, err)
	}
	full, _ := e.App.Orders.Order(context.Background(), o.ID)
	if a, _ := e.App.Orders.Address(full); a.Postcode != "SW1A 2AA" {
		t.Fatalf("address after the fix %+v", a)
	}
	var audits int
	_ = e.App.DB.GetContext(context.Background(), &audits, `SELECT count(*) FROM platform.audit_log WHERE object_id = $1
		AND action IN ('order.address', 'shipment.retry') AND actor = 'pat' AND detail NOT LIKE '%SW1A%'`, o.ID.String())
	if audits != 2 {
		t.Fatalf("%d audit entries for the fix", audits)
	}
	var jobs int
	_ = e.App.DB.GetContext(context.Background(), &jobs, `SELECT count(*) FROM platform.outbox WHERE job_id = $1`,
		fulfilment.JobRegister+":"+o.ID.String()+":retry-1")
	if jobs != 1 {
		t.Fatal("no job for the retry")
	}
	if err := e.register(t, o); err != nil {
		t.Fatal(err)
	}
	e.wantShipped(t, o)
	if orders, _, _ := e.carrier.counts(); orders != 1 {
		t.Fatalf("%d carrier orders", orders)
	}
	if got := e.carrier.requests[len(e.carrier.requests)-1].Recipient.Postcode; got != "SW1A 2AA" {
		t.Fatalf("carrier got postcode %q", got)
	}
	// Retry is for failures only.
	if _, err := e.App.Fulfilment.Retry(e.staff, o.ID); ports.ErrorCodeOf(err) != ports.ECONFLICT {
		t.Fatalf("retry of a shipped parcel: %v", err)
	}
}

func TestDuplicateReferenceIsAdopted(t *testing.T) {
	e := newEnv(t)
	o := e.paid(t, 1)
	// Royal Mail already has an order with our reference (made by an attempt whose
	// record was lost): the create is refused as a duplicate and the order adopted.
	e.carrier.orders[o.Number] = &ports.CarrierOrder{ID: "777", Reference: o.Number, TrackingNumbers: []string{"TT000000777GB"}}
	e.carrier.labels["777"] = labelPDF(t, "adopted")
	e.pick(t, o)
	if err := e.register(t, o); err != nil {
		t.Fatal(err)
	}
	sh := e.wantShipped(t, o)
	if sh.CarrierOrderID != "777" || sh.TrackingNumber() != "TT000000777GB" {
		t.Fatalf("adopted %+v", sh)
	}
	if orders, creates, _ := e.carrier.counts(); orders != 1 || creates != 1 {
		t.Fatalf("%d orders, %d creates", orders, creates)
	}
}

func TestTimeoutAfterCreateIsAdopted(t *testing.T) {
	e := newEnv(t)
	o := e.paid(t, 1)
	e.pick(t, o)
	// The carrier makes the order but the answer never arrives.
	e.carrier.afterCreate = func() error { return context.DeadlineExceeded }
	err := e.register(t, o)
	if err == nil {
		t.Fatal("a lost answer is worth a retry, yet the job succeeded")
	}
	sh := e.shipment(t, o)
	if sh.State != fulfilment.StateRegistering || sh.ErrorKind != fulfilment.ErrorTransient || !strings.Contains(sh.ErrorMessage, "did not answer") {
		t.Fatalf("after the timeout %+v", sh)
	}
	// 500 twice: the job keeps failing, and creates nothing.
	e.carrier.afterCreate = nil
	e.carrier.down = errors.New("royal mail: 500 Internal Server Error")
	for range 2 {
		if err := e.register(t, o); err == nil {
			t.Fatal("the job succeeded while the carrier was down")
		}
	}
	e.carrier.down = nil
	if err := e.register(t, o); err != nil {
		t.Fatal(err)
	}
	e.wantShipped(t, o)
	if orders, creates, lookups := e.carrier.counts(); orders != 1 || creates != 1 || lookups < 3 {
		t.Fatalf("%d carrier orders from %d creates, %d lookups", orders, creates, lookups)
	}
}

// TestKilledWorkerMakesOneOrder: the worker dies after the carrier made the order and
// before anything was saved (its transaction never commits); the job runs again.
func TestKilledWorkerMakesOneOrder(t *testing.T) {
	e := newEnv(t)
	o := e.paid(t, 1)
	e.pick(t, o)
	ctx, kill := context.WithCancel(e.system)
	e.carrier.afterCreate = func() error { kill(); return ctx.Err() }
	if err := e.App.Fulfilment.RegisterJob(ctx, []byte(`{"orderId":"`+o.ID.String()+`"}`)); err == nil {
		t.Fatal("the killed attempt succeeded")
	}
	sh := e.shipment(t, o)
	if sh.State != fulfilment.StateRegistering || sh.Attempts != 1 || sh.CarrierOrderID != "" {
		t.Fatalf("after the kill %+v", sh)
	}
	e.carrier.afterCreate = nil
	if err := e.register(t, o); err != nil {
		t.Fatal(err)
	}
	e.wantShipped(t, o)
	if orders, creates, _ := e.carrier.counts(); orders != 1 || creates != 1 {
		t.Fatalf("%d carrier orders from %d creates", orders, creates)
	}
}

// TestNoLabelAccessGoesPushOnly: an account without label access (Label 403) keeps
// the order at Click & Drop; once staff printed the label there, the periodic poll
// reads the tracking number back and ships the order.
func TestNoLabelAccessGoesPushOnly(t *testing.T) {
	e := newEnv(t)
	e.carrier.noLabelAccess = true
	o := e.paid(t, 1)
	e.pick(t, o)
	if err := e.register(t, o); err != nil {
		t.Fatal(err)
	}
	sh := e.shipment(t, o)
	if sh.State != fulfilment.StatePushOnly || !sh.PushOnly || sh.LabelReady() || sh.NextPollAt == nil {
		t.Fatalf("shipment %+v", sh)
	}
	if st := e.status(t, o); st != ordering.StatusPicked {
		t.Fatalf("order is %s before a tracking number exists", st)
	}
	// Not printed yet: the poll changes nothing but the next poll time.
	e.dueNow(t, o)
	if err := e.App.Fulfilment.PollCarrier(e.system, nil); err != nil {
		t.Fatal(err)
	}
	if sh := e.shipment(t, o); sh.State != fulfilment.StatePushOnly {
		t.Fatalf("shipment %+v", sh)
	}
	e.carrier.printed(o.Number)
	e.dueNow(t, o)
	if err := e.App.Fulfilment.PollCarrier(e.system, nil); err != nil {
		t.Fatal(err)
	}
	sh = e.shipment(t, o)
	if sh.State != fulfilment.StateShipped || sh.TrackingNumber() != "PUSH"+o.Number || sh.LabelReady() {
		t.Fatalf("after printing %+v", sh)
	}
	shipped := e.events(t, o, ordering.EventShipped)
	if e.status(t, o) != ordering.StatusShipped || len(shipped) != 1 || shipped[0]["trackingNumber"] != "PUSH"+o.Number {
		t.Fatalf("order %s, events %v", e.status(t, o), shipped)
	}
	if orders, _, _ := e.carrier.counts(); orders != 1 {
		t.Fatalf("%d carrier orders", orders)
	}
}

// TestPushOnlySetting: with the setting on, orders go without asking for a label.
func TestPushOnlySetting(t *testing.T) {
	e := newEnv(t)
	s, err := e.App.Settings.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.LabelMode = "push_only"
	if _, err := e.App.Settings.Update(e.staff, s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.LabelMode = "label"
		_, _ = e.App.Settings.Update(e.staff, s)
	})
	o := e.paid(t, 1)
	e.pick(t, o)
	if err := e.register(t, o); err != nil {
		t.Fatal(err)
	}
	if r := e.carrier.requests[0]; r.WantLabel {
		t.Fatal("asked for a label in push-only mode")
	}
	// The fake gave a tracking number at once: shipped without a label.
	sh := e.shipment(t, o)
	if sh.State != fulfilment.StateShipped || !sh.PushOnly || sh.LabelReady() {
		t.Fatalf("shipment %+v", sh)
	}
}

func (e *env) dueNow(t *testing.T, o *ordering.Order) {
	t.Helper()
	if _, err := e.App.DB.ExecContext(context.Background(), `UPDATE fulfilment.shipments SET next_poll_at = now() - interval '1 second'
		WHERE order_id = $1 AND next_poll_at IS NOT NULL`, o.ID); err != nil {
		t.Fatal(err)
	}
}

func TestTrackingDelivers(t *testing.T) {
	e := newEnv(t)
	var orders []*ordering.Order
	for range 3 {
		o := e.paid(t, 1)
		e.pick(t, o)
		if err := e.register(t, o); err != nil {
			t.Fatal(err)
		}
		e.dueNow(t, o)
		orders = append(orders, o)
	}
	delivered, moving := e.shipment(t, orders[0]), e.shipment(t, orders[1])
	at := time.Now().UTC().Truncate(time.Second)
	e.tracker.scans[delivered.TrackingNumber()] = ports.TrackingSummary{TrackingNumber: delivered.TrackingNumber(), EventCode: "EVKSP",
		EventName: "Delivered", Location: "London", Category: "DELIVERED", Delivered: true, At: at}
	e.tracker.scans[moving.TrackingNumber()] = ports.TrackingSummary{TrackingNumber: moving.TrackingNumber(), EventCode: "EVDAV",
		EventName: "Arrived at the delivery office", Category: "IN TRANSIT", At: at}
	for range 2 { // polling again stores nothing twice
		if err := e.App.Fulfilment.Track(e.system, nil); err != nil {
			t.Fatal(err)
		}
		for _, o := range orders {
			e.dueNow(t, o)
		}
	}
	if st := e.status(t, orders[0]); st != ordering.StatusDelivered {
		t.Fatalf("delivered parcel's order is %s", st)
	}
	if sh := e.shipment(t, orders[0]); sh.State != fulfilment.StateDelivered || sh.DeliveredAt == nil || sh.NextPollAt != nil {
		t.Fatalf("delivered shipment %+v", sh)
	}
	for _, o := range orders[1:] {
		if st := e.status(t, o); st != ordering.StatusShipped {
			t.Fatalf("moving parcel's order is %s", st)
		}
		if sh := e.shipment(t, o); sh.State != fulfilment.StateShipped || sh.NextPollAt == nil {
			t.Fatalf("moving shipment %+v", sh)
		}
	}
	evs, err := e.App.Fulfilment.Events(context.Background(), orders[1].ID)
	if err != nil || len(evs) != 1 || evs[0].Name != "Arrived at the delivery office" {
		t.Fatalf("events %+v, %v", evs, err)
	}
	for _, call := range e.tracker.calls {
		if len(call) > fulfilment.TrackingBatch {
			t.Fatalf("asked about %d numbers at once", len(call))
		}
	}
}

func TestCancelPickedReturnsStock(t *testing.T) {
	e := newEnv(t)
	o := e.paid(t, 2)
	before := e.stock(t)
	e.pick(t, o)
	if _, err := e.App.Orders.Cancel(e.system, o, "customer asked"); ports.ErrorCodeOf(err) != ports.ECONFLICT {
		t.Fatalf("the customer's cancel of a picked order: %v", err)
	}
	if _, err := e.App.Fulfilment.CancelPicked(e.staff, o.ID, " "); ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("cancel without a reason: %v", err)
	}
	sh, err := e.App.Fulfilment.CancelPicked(e.staff, o.ID, "Customer changed their mind")
	if err != nil || sh.State != fulfilment.StateCancelled {
		t.Fatalf("cancel: %+v, %v", sh, err)
	}
	got, _ := e.App.Orders.Order(context.Background(), o.ID)
	if got.Status != ordering.StatusCancelled || !got.RefundDue {
		t.Fatalf("order %s, refund due %v", got.Status, got.RefundDue)
	}
	if s := e.stock(t); s != before {
		t.Fatalf("stock %d after the return, want %d", s, before)
	}
	ms, _ := e.App.Catalog.Movements(context.Background(), e.shop.Product.ID)
	if ms[0].Reason != catalog.ReasonReturned || ms[0].Delta != 2 || !strings.Contains(ms[0].Note, o.Number) {
		t.Fatalf("movement %+v", ms[0])
	}
	// The job, if it still runs, does nothing.
	if err := e.register(t, o); err != nil {
		t.Fatal(err)
	}
	if orders, creates, _ := e.carrier.counts(); orders != 0 || creates != 0 {
		t.Fatal("a cancelled shipment reached the carrier")
	}

	// Once Royal Mail has the parcel, cancelling is refused with what to do.
	o2 := e.paid(t, 1)
	e.pick(t, o2)
	e.carrier.noLabelAccess = true
	if err := e.register(t, o2); err != nil {
		t.Fatal(err)
	}
	_, err = e.App.Fulfilment.CancelPicked(e.staff, o2.ID, "too late")
	if ports.ErrorCodeOf(err) != ports.ECONFLICT || !strings.Contains(err.Error(), "Click & Drop") {
		t.Fatalf("cancel at the carrier: %v", err)
	}
	if st := e.status(t, o2); st != ordering.StatusPicked {
		t.Fatalf("refused cancel left the order %s", st)
	}
}

func TestBatchPapers(t *testing.T) {
	e := newEnv(t)
	var ids []uuid.UUID
	for range 2 {
		o := e.paid(t, 2)
		e.pick(t, o)
		if err := e.register(t, o); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	labels, err := e.App.Fulfilment.Labels(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := pdfapi.PageCount(bytes.NewReader(labels), nil); err != nil || n != 2 {
		t.Fatalf("the batch of two labels has %d pages (%v)", n, err)
	}
	unpicked := e.paid(t, 1)
	if _, err := e.App.Fulfilment.Labels(context.Background(), append(ids, unpicked.ID)); ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("labels with one not picked: %v", err)
	}
	list, err := e.App.Fulfilment.PickList(context.Background(), []uuid.UUID{unpicked.ID, ids[0]})
	if err != nil || !strings.HasPrefix(string(list), "%PDF") {
		t.Fatalf("pick list: %v", err)
	}
	slips, err := e.App.Fulfilment.PackingSlips(context.Background(), ids)
	if err != nil || !strings.HasPrefix(string(slips), "%PDF") {
		t.Fatalf("slips: %v", err)
	}
	if _, err := e.App.Fulfilment.PickList(context.Background(), nil); ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("empty batch: %v", err)
	}
	if _, err := e.App.Fulfilment.PackingSlips(context.Background(), []uuid.UUID{ids[0], uuid.New()}); ports.ErrorCodeOf(err) != ports.ENOTFOUND {
		t.Fatalf("a batch with an order that does not exist: %v", err)
	}
}
