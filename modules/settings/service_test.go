package settings_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"orderdesk/modules/settings"
	"orderdesk/ports"
)

// memStore is settings.Store in memory, with the PostgreSQL store's merge semantics
// (adapters/postgres tests hold the real one to the same behaviour).
type memStore struct {
	mu     sync.Mutex
	data   map[string]json.RawMessage
	audits []ports.AuditEntry
	loads  int
	err    error
}

func newMemStore(data map[string]string) *memStore {
	m := &memStore{data: map[string]json.RawMessage{}}
	for k, v := range data {
		m.data[k] = json.RawMessage(v)
	}
	return m
}

func (m *memStore) LoadSettings(context.Context) (map[string]json.RawMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	if m.err != nil {
		return nil, m.err
	}
	out := map[string]json.RawMessage{}
	for k, v := range m.data {
		out[k] = v
	}
	return out, nil
}

func (m *memStore) UpdateSettings(_ context.Context, fn func(map[string]json.RawMessage) (map[string]json.RawMessage, ports.AuditEntry, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	saved := map[string]json.RawMessage{}
	for k, v := range m.data {
		saved[k] = v
	}
	values, a, err := fn(saved)
	if err != nil || len(values) == 0 {
		return err
	}
	for k, v := range values {
		m.data[k] = v
	}
	m.audits = append(m.audits, a)
	return nil
}

func (m *memStore) raw(key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return string(m.data[key])
}

// clock is a clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func staffCtx() context.Context {
	return ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: "u1", Name: "alice", IP: "192.0.2.1"})
}

func TestGetDefaultsWhenNothingSaved(t *testing.T) {
	svc := settings.NewService(newMemStore(nil), (&clock{now: time.Now()}).Now)
	got, err := svc.Get(context.Background())
	if err != nil || got != settings.Defaults() {
		t.Fatalf("got %+v, %v", got, err)
	}
}

// TestGetReadsSavedValuesLeniently: saved values replace defaults; a key this version
// does not know, or a value of the wrong type, changes nothing.
func TestGetReadsSavedValuesLeniently(t *testing.T) {
	store := newMemStore(map[string]string{
		"shop_name":              `"Tea Shop"`,
		"invoice_expiry_minutes": `null`, // null: default
		"label_mode":             `"push_only"`,
		"packing_slip_prices":    `true`,
		"low_stock_threshold":    `"ten"`, // wrong type: default
		"reviews_auto_approve":   `true`,
		"future_setting":         `{"nested": 1}`, // unknown: ignored
	})
	svc := settings.NewService(store, (&clock{now: time.Now()}).Now)
	got, err := svc.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := settings.Defaults()
	want.ShopName, want.LabelMode, want.PackingSlipPrices, want.ReviewsAutoApprove = "Tea Shop", settings.LabelModePushOnly, true, true
	if got != want {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestGetCachesForAFewSeconds(t *testing.T) {
	store := newMemStore(nil)
	clk := &clock{now: time.Now()}
	svc := settings.NewService(store, clk.Now)
	other := settings.NewService(store, clk.Now) // another process on the same database
	ctx := context.Background()
	if _, err := other.Get(ctx); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := svc.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if store.loads != 2 {
		t.Fatalf("%d loads for 6 reads by two services, want 2", store.loads)
	}

	next := settings.Defaults()
	next.ShopName = "Renamed"
	if _, err := svc.Update(staffCtx(), next); err != nil {
		t.Fatal(err)
	}
	// The service that saved sees the change at once (reading it once).
	for range 3 {
		if got, _ := svc.Get(ctx); got.ShopName != "Renamed" || store.loads != 3 {
			t.Fatalf("after update: %q, %d loads", got.ShopName, store.loads)
		}
	}
	// The other sees it once its cache has expired, and not a moment later.
	clk.Advance(settings.CacheTTL - time.Millisecond)
	if got, _ := other.Get(ctx); got.ShopName != "OrderDesk shop" {
		t.Fatalf("other process within TTL: %q (the cache did not hold)", got.ShopName)
	}
	clk.Advance(time.Millisecond)
	if got, _ := other.Get(ctx); got.ShopName != "Renamed" {
		t.Fatalf("other process after TTL: %q", got.ShopName)
	}
	// A clock that goes back does not keep a stale value forever.
	clk.Advance(-time.Hour)
	loads := store.loads
	if _, err := other.Get(ctx); err != nil || store.loads != loads+1 {
		t.Fatalf("clock moved back: %d loads, want %d (%v)", store.loads, loads+1, err)
	}
}

func TestUpdateSavesChangesWithAudit(t *testing.T) {
	store := newMemStore(map[string]string{"future_setting": `"keep me"`})
	svc := settings.NewService(store, (&clock{now: time.Now()}).Now)
	next := settings.Defaults()
	next.ShopName = "  Tea & Co  "
	next.InvoiceExpiryMinutes = 15
	next.BlockExplorerTxURL = "https://blockstream.info/tx/{txid}?a=1&b=2"
	next.ReviewsAutoApprove = true
	got, err := svc.Update(staffCtx(), next)
	if err != nil {
		t.Fatal(err)
	}
	if got.ShopName != "Tea & Co" || got.InvoiceExpiryMinutes != 15 || !got.ReviewsAutoApprove {
		t.Fatalf("returned %+v", got)
	}
	// Only what changed is stored; defaults stay unsaved; unknown keys stay.
	if store.raw("shop_name") != `"Tea & Co"` || store.raw("invoice_expiry_minutes") != "15" || store.raw("reviews_auto_approve") != "true" {
		t.Fatalf("stored %v", store.data)
	}
	if _, saved := store.data["low_stock_threshold"]; saved || len(store.data) != 5 || store.raw("future_setting") != `"keep me"` {
		t.Fatalf("stored %v", store.data)
	}
	if len(store.audits) != 1 {
		t.Fatalf("%d audit entries", len(store.audits))
	}
	a := store.audits[0]
	if a.Action != "settings.update" || a.ObjectType != "settings" || a.Actor != "alice" || a.IP != "192.0.2.1" {
		t.Fatalf("audit %+v", a)
	}
	wantDetail := `invoice_expiry_minutes: 60 → 15; block_explorer_tx_url: "https://mempool.space/tx/{txid}" → "https://blockstream.info/tx/{txid}?a=1&b=2"; ` +
		`reviews_auto_approve: false → true; shop_name: "OrderDesk shop" → "Tea & Co"`
	if a.Detail != wantDetail {
		t.Fatalf("detail\n%s\nwant\n%s", a.Detail, wantDetail)
	}

	// Saving the same again writes nothing and logs nothing.
	if _, err := svc.Update(staffCtx(), got); err != nil || len(store.audits) != 1 {
		t.Fatalf("no-op update: %v, %d audit entries", err, len(store.audits))
	}
	// Back to a default value is a change like any other, and is stored.
	got.InvoiceExpiryMinutes = 60
	if _, err := svc.Update(staffCtx(), got); err != nil || store.raw("invoice_expiry_minutes") != "60" ||
		store.audits[1].Detail != "invoice_expiry_minutes: 15 → 60" {
		t.Fatalf("back to default: %v, %v", err, store.audits)
	}
}

func TestUpdateRefusesInvalidAndSavesNothing(t *testing.T) {
	store := newMemStore(nil)
	svc := settings.NewService(store, (&clock{now: time.Now()}).Now)
	next := settings.Defaults()
	next.BlockExplorerTxURL = "https://mempool.space/tx/"
	next.LowStockThreshold = -1
	next.ShopName = "   "
	_, err := svc.Update(staffCtx(), next)
	if ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("want EINVALID, got %v", err)
	}
	var fields []string
	for _, f := range ports.FieldErrorsOf(err) {
		fields = append(fields, f.Field)
	}
	if strings.Join(fields, ",") != "block_explorer_tx_url,low_stock_threshold,shop_name" {
		t.Fatalf("fields %v", fields)
	}
	if len(store.data) != 0 || len(store.audits) != 0 {
		t.Fatalf("saved %v, audits %v", store.data, store.audits)
	}
	if got, _ := svc.Get(context.Background()); got != settings.Defaults() {
		t.Fatalf("after refused update: %+v", got)
	}
}

func TestStoreErrors(t *testing.T) {
	store := newMemStore(nil)
	store.err = errors.New("connection refused")
	svc := settings.NewService(store, (&clock{now: time.Now()}).Now)
	if _, err := svc.Get(context.Background()); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("get: %v", err)
	}
	if _, err := svc.Update(staffCtx(), settings.Defaults()); err == nil || ports.ErrorCodeOf(err) != ports.EINTERNAL {
		t.Fatalf("update: %v", err)
	}
	// A failed load is not cached: the next Get reads again.
	store.err = nil
	if got, err := svc.Get(context.Background()); err != nil || got != settings.Defaults() {
		t.Fatalf("after recovery: %+v, %v", got, err)
	}
}

// TestConcurrentUse: Get and Update from many goroutines (run with -race); once the
// updates are done, Get answers the last one saved at once, never a value cached by a
// read that raced an update.
func TestConcurrentUse(t *testing.T) {
	store := newMemStore(nil)
	svc := settings.NewService(store, (&clock{now: time.Now()}).Now)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			next := settings.Defaults()
			next.LowStockThreshold = i
			if _, err := svc.Update(staffCtx(), next); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := svc.Get(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := svc.Get(context.Background())
	if err != nil || itoa(got.LowStockThreshold) != store.raw("low_stock_threshold") {
		t.Fatalf("in force %d, stored %s (%v)", got.LowStockThreshold, store.raw("low_stock_threshold"), err)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
