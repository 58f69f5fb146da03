package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// auditRuns counts runs of TestAuditLogListFilters in this process.
var auditRuns atomic.Int32

// insertAuditAt writes an audit row with a chosen time, as the stores would (they
// insert; nobody updates), and returns its id.
func insertAuditAt(t *testing.T, at time.Time, actor, action, objectType, objectID string) int64 {
	t.Helper()
	var id int64
	if err := testDB.GetContext(context.Background(), &id, `INSERT INTO platform.audit_log
		(at, actor_kind, actor_id, actor, ip, action, object_type, object_id, detail)
		VALUES ($1, 'staff', $2, $2, '192.0.2.1', $3, $4, $5, 'fixture') RETURNING id`,
		at, actor, action, objectType, objectID); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAuditLogListFilters(t *testing.T) {
	ctx := context.Background()
	log := postgres.NewAuditLog(testDB)
	// The fixture lives on a day of its own in 2001, far from the rows other tests write
	// now (and from an earlier run's under -count), and its names are unique to this run.
	tag := uuid.NewString()[:8]
	alice, bob := "alice-"+tag, "bob-"+tag
	u1, u2, o1 := "u1-"+tag, "u2-"+tag, "o1-"+tag
	base := time.Date(2001, 1, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, int(auditRuns.Add(1)))
	ids := []int64{
		insertAuditAt(t, base, alice, "user.create", "user", u1),
		insertAuditAt(t, base.Add(1*time.Hour), alice, "user.update", "user", u1),
		insertAuditAt(t, base.Add(2*time.Hour), bob, "order.cancel", "order", o1),
		insertAuditAt(t, base.Add(3*time.Hour), bob, "user.disable", "user", u2),
		insertAuditAt(t, base.Add(4*time.Hour), alice, "users.export", "user", ""),
		insertAuditAt(t, base.Add(5*time.Hour), bob, "order.note", "order", o1),
	}
	// rows picks fixture rows by index, newest first.
	rows := func(idx ...int) []int64 {
		out := []int64{}
		for _, i := range idx {
			out = append(out, ids[i])
		}
		return out
	}
	window := func(f ports.AuditFilter) ports.AuditFilter {
		if f.From.IsZero() {
			f.From = base
		}
		if f.To.IsZero() {
			f.To = base.Add(24 * time.Hour)
		}
		return f
	}
	list := func(f ports.AuditFilter) []ports.AuditEntry {
		t.Helper()
		entries, err := log.ListAudit(ctx, f)
		if err != nil {
			t.Fatalf("ListAudit(%+v): %v", f, err)
		}
		return entries
	}
	idsOf := func(entries []ports.AuditEntry) []int64 {
		out := []int64{}
		for _, e := range entries {
			out = append(out, e.ID)
		}
		return out
	}

	for _, tc := range []struct {
		name string
		f    ports.AuditFilter
		want []int64
	}{
		{"window only, newest first", window(ports.AuditFilter{}), rows(5, 4, 3, 2, 1, 0)},
		{"actor", window(ports.AuditFilter{Actor: alice}), rows(4, 1, 0)},
		{"actor without window", ports.AuditFilter{Actor: bob}, rows(5, 3, 2)},
		{"action prefix", window(ports.AuditFilter{Action: "user."}), rows(3, 1, 0)},
		{"full action", window(ports.AuditFilter{Action: "order.cancel"}), rows(2)},
		{"prefix is literal, not a LIKE pattern", window(ports.AuditFilter{Action: "user_"}), rows()},
		{"prefix is literal (%)", window(ports.AuditFilter{Action: "%"}), rows()},
		{"object type", window(ports.AuditFilter{ObjectType: "order"}), rows(5, 2)},
		{"object type and id", window(ports.AuditFilter{ObjectType: "user", ObjectID: u1}), rows(1, 0)},
		{"actor and action", window(ports.AuditFilter{Actor: bob, Action: "order."}), rows(5, 2)},
		{"from inclusive, to exclusive", ports.AuditFilter{From: base.Add(time.Hour), To: base.Add(3 * time.Hour)}, rows(2, 1)},
		{"from only", ports.AuditFilter{Actor: alice, From: base.Add(time.Hour)}, rows(4, 1)},
		{"to only", ports.AuditFilter{Actor: alice, To: base.Add(time.Hour)}, rows(0)},
		{"limit", window(ports.AuditFilter{Limit: 2}), rows(5, 4)},
		{"before", window(ports.AuditFilter{Before: ids[4], Limit: 2}), rows(3, 2)},
		{"before, last page", window(ports.AuditFilter{Before: ids[2], Limit: 2}), rows(1, 0)},
		{"before the first", window(ports.AuditFilter{Before: ids[0]}), rows()},
		{"no match", ports.AuditFilter{Actor: "nobody-" + tag}, rows()},
	} {
		if got := idsOf(list(tc.f)); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: ids %v, want %v", tc.name, got, tc.want)
		}
	}

	// Walking pages with the last id as cursor visits every row once, newest first.
	var all []int64
	f := window(ports.AuditFilter{Limit: 4})
	for range 10 {
		page := list(f)
		if len(page) == 0 {
			break
		}
		all = append(all, idsOf(page)...)
		f.Before = page[len(page)-1].ID
	}
	if fmt.Sprint(all) != fmt.Sprint(rows(5, 4, 3, 2, 1, 0)) {
		t.Fatalf("pages: %v", all)
	}

	// Every column is read back.
	e := list(window(ports.AuditFilter{ObjectType: "order", Limit: 1}))[0]
	if e.ID != ids[5] || !e.At.Equal(base.Add(5*time.Hour)) || e.ActorKind != "staff" || e.ActorID != bob || e.Actor != bob ||
		e.IP != "192.0.2.1" || e.Action != "order.note" || e.ObjectType != "order" || e.ObjectID != o1 || e.Detail != "fixture" {
		t.Fatalf("entry %+v", e)
	}

	// Without a limit, at most 50 entries come back.
	bulk := "bulk-" + tag
	for i := range 55 {
		insertAuditAt(t, base.Add(time.Duration(i)*time.Second), bulk, "bulk.test", "bulk", "")
	}
	if n := len(list(ports.AuditFilter{Actor: bulk})); n != 50 {
		t.Fatalf("default limit: %d entries, want 50", n)
	}
}

// TestAuditLogFromStore checks the entry a store writes, as ListAudit returns it.
func TestAuditLogFromStore(t *testing.T) {
	resetStaff(t)
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: "actor-42", Name: "boss", IP: "203.0.113.5"})
	s := postgres.NewStaffStore(testDB)
	before := time.Now().Add(-time.Minute)
	u := newStaffUser("audited", staff.RolePacker)
	if err := s.CreateUser(ctx, u, ports.Audit(ctx, "user.create", "user", u.ID.String(), "username=audited")); err != nil {
		t.Fatal(err)
	}
	entries, err := postgres.NewAuditLog(testDB).ListAudit(ctx, ports.AuditFilter{ObjectType: "user", ObjectID: u.ID.String()})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d entries, want 1", len(entries))
	}
	e := entries[0]
	if e.ActorKind != "staff" || e.ActorID != "actor-42" || e.Actor != "boss" || e.IP != "203.0.113.5" ||
		e.Action != "user.create" || e.Detail != "username=audited" {
		t.Fatalf("entry %+v", e)
	}
	if e.At.Before(before) || e.At.After(time.Now().Add(time.Minute)) {
		t.Fatalf("entry time %v is not now", e.At)
	}

	// The System actor (no actor in the context) is recorded as such.
	sysCtx := context.Background() // the System actor
	v := newStaffUser("by-system", staff.RolePacker)
	if err := s.CreateUser(sysCtx, v, ports.Audit(sysCtx, "user.create", "user", v.ID.String(), "")); err != nil {
		t.Fatal(err)
	}
	entries, err = postgres.NewAuditLog(testDB).ListAudit(ctx, ports.AuditFilter{ObjectID: v.ID.String()})
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries %v, %v", entries, err)
	}
	if entries[0].ActorKind != "system" || entries[0].Actor != "system" {
		t.Fatalf("system entry %+v", entries[0])
	}
	// An entry with no actor name is attributed to its actor kind.
	w := newStaffUser("nameless", staff.RolePacker)
	a := ports.AuditEntry{ActorKind: "client", Action: "user.create", ObjectType: "user", ObjectID: w.ID.String()}
	if err := s.CreateUser(ctx, w, a); err != nil {
		t.Fatal(err)
	}
	entries, err = postgres.NewAuditLog(testDB).ListAudit(ctx, ports.AuditFilter{ObjectID: w.ID.String()})
	if err != nil || len(entries) != 1 || entries[0].Actor != "client" {
		t.Fatalf("entries %+v, %v; want actor \"client\"", entries, err)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	id := insertAuditAt(t, time.Now(), "immutable-"+uuid.NewString()[:8], "test.immutable", "test", "x")

	_, err := testDB.ExecContext(ctx, `UPDATE platform.audit_log SET detail = 'tampered' WHERE id = $1`, id)
	if err == nil || !strings.Contains(err.Error(), "cannot be changed or deleted") {
		t.Fatalf("UPDATE of an audit row: err = %v, want the trigger's refusal", err)
	}
	_, err = testDB.ExecContext(ctx, `DELETE FROM platform.audit_log WHERE id = $1`, id)
	if err == nil || !strings.Contains(err.Error(), "cannot be changed or deleted") {
		t.Fatalf("DELETE of an audit row: err = %v, want the trigger's refusal", err)
	}
	// Not even in bulk.
	if _, err := testDB.ExecContext(ctx, `DELETE FROM platform.audit_log`); err == nil {
		t.Fatal("DELETE of the whole audit log succeeded")
	}

	var detail string
	if err := testDB.GetContext(ctx, &detail, `SELECT detail FROM platform.audit_log WHERE id = $1`, id); err != nil {
		t.Fatalf("audit row gone: %v", err)
	}
	if detail != "fixture" {
		t.Fatalf("audit row changed: detail %q", detail)
	}
}
