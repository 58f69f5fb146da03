package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/settings"
	"orderdesk/ports"
)

// resetSettings empties the saved settings.
func resetSettings(t *testing.T) {
	t.Helper()
	mustExec(t, `UPDATE settings.shop SET data = '{}'`)
}

func settingsAudits(t *testing.T) []ports.AuditEntry {
	t.Helper()
	entries, err := postgres.NewAuditLog(testDB).ListAudit(context.Background(),
		ports.AuditFilter{ObjectType: "settings", Action: "settings.update", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func TestSettingsStore(t *testing.T) {
	resetSettings(t)
	t.Cleanup(func() { resetSettings(t) })
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: "u1", Name: "sally", IP: "192.0.2.7"})
	store := postgres.NewSettingsStore(testDB)
	svc := settings.NewService(store, time.Now)
	auditsBefore := len(settingsAudits(t))

	// A fresh database has the row and no saved values: the defaults are in force.
	if n := countRows(t, `SELECT count(*) FROM settings.shop`); n != 1 {
		t.Fatalf("%d settings rows", n)
	}
	got, err := svc.Get(ctx)
	if err != nil || got != settings.Defaults() {
		t.Fatalf("fresh: %+v, %v", got, err)
	}

	// A newer version's key, saved meanwhile, is kept by an update of this one.
	mustExec(t, `UPDATE settings.shop SET data = data || '{"future_setting": {"x": [1, 2]}}'`)
	next := settings.Defaults()
	next.ShopName = "Tea & Co"
	next.LabelMode = settings.LabelModePushOnly
	next.LowStockThreshold = 0
	if _, err := svc.Update(ctx, next); err != nil {
		t.Fatal(err)
	}
	var data []byte
	if err := testDB.GetContext(ctx, &data, `SELECT data FROM settings.shop`); err != nil {
		t.Fatal(err)
	}
	var saved map[string]any
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}
	if len(saved) != 4 || saved["shop_name"] != "Tea & Co" || saved["label_mode"] != "push_only" || saved["low_stock_threshold"] != 0.0 ||
		saved["future_setting"] == nil {
		t.Fatalf("saved %s", data)
	}
	// Another process reads what was saved.
	fresh, err := settings.NewService(store, time.Now).Get(ctx)
	if err != nil || fresh != next {
		t.Fatalf("read back %+v, %v", fresh, err)
	}

	// The audit entry was written with the change, by the acting user.
	entries := settingsAudits(t)
	if len(entries) != auditsBefore+1 {
		t.Fatalf("%d audit entries, want %d", len(entries), auditsBefore+1)
	}
	a := entries[0]
	want := `label_mode: "label" → "push_only"; low_stock_threshold: 5 → 0; shop_name: "OrderDesk shop" → "Tea & Co"`
	if a.Actor != "sally" || a.ActorID != "u1" || a.IP != "192.0.2.7" || a.ObjectID != "shop" || a.Detail != want {
		t.Fatalf("audit %+v", a)
	}

	// Nothing changed: nothing written, no audit entry.
	if _, err := svc.Update(ctx, next); err != nil {
		t.Fatal(err)
	}
	if n := len(settingsAudits(t)); n != auditsBefore+1 {
		t.Fatalf("no-op update wrote an audit entry (%d)", n)
	}
}

// TestSettingsStoreRollsBack: an error from fn, or a failing audit insert, leaves the
// saved values as they were.
func TestSettingsStoreRollsBack(t *testing.T) {
	resetSettings(t)
	t.Cleanup(func() { resetSettings(t) })
	store := postgres.NewSettingsStore(testDB)
	ctx := context.Background()
	boom := errors.New("boom")
	err := store.UpdateSettings(ctx, func(map[string]json.RawMessage) (map[string]json.RawMessage, ports.AuditEntry, error) {
		return map[string]json.RawMessage{"shop_name": json.RawMessage(`"X"`)}, ports.AuditEntry{}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want fn's error, got %v", err)
	}
	// PostgreSQL refuses a NUL byte in text: the audit insert fails after the update.
	err = store.UpdateSettings(ctx, func(map[string]json.RawMessage) (map[string]json.RawMessage, ports.AuditEntry, error) {
		return map[string]json.RawMessage{"shop_name": json.RawMessage(`"Y"`)},
			ports.AuditEntry{ActorKind: "staff", Actor: "x", Action: "settings.update", ObjectType: "settings", Detail: "bad \x00 byte"}, nil
	})
	if err == nil {
		t.Fatal("an audit entry with a NUL byte was accepted")
	}
	if n := countRows(t, `SELECT count(*) FROM settings.shop WHERE data = '{}'`); n != 1 {
		t.Fatal("a failed update left values behind")
	}
}

// TestSettingsStoreSerializesUpdates: concurrent updates of different settings each
// see the other's committed values (the row is locked), so every update is audited
// with exactly its own change and none is lost.
func TestSettingsStoreSerializesUpdates(t *testing.T) {
	resetSettings(t)
	t.Cleanup(func() { resetSettings(t) })
	ctx := ports.WithActor(context.Background(), ports.System)
	store := postgres.NewSettingsStore(testDB)
	auditsBefore := len(settingsAudits(t))
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := []string{"a", "b", "c", "d", "e", "f", "g", "h"}[i]
			errs <- store.UpdateSettings(ctx, func(saved map[string]json.RawMessage) (map[string]json.RawMessage, ports.AuditEntry, error) {
				// Each writer counts how many others were there before it.
				b, _ := json.Marshal(len(saved))
				return map[string]json.RawMessage{key: b}, ports.Audit(ctx, "settings.update", "settings", "shop", key), nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var data []byte
	if err := testDB.GetContext(ctx, &data, `SELECT data FROM settings.shop`); err != nil {
		t.Fatal(err)
	}
	var saved map[string]int
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, v := range saved {
		seen[v] = true
	}
	if len(saved) != n || len(seen) != n {
		t.Fatalf("saved %s: the writers did not each see the ones before", data)
	}
	if got := len(settingsAudits(t)); got != auditsBefore+n {
		t.Fatalf("%d audit entries, want %d", got, auditsBefore+n)
	}
}
