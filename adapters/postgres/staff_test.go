package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/asynq/redistest"
	"orderdesk/adapters/postgres"
	"orderdesk/adapters/postgres/pgtest"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// The package's throwaway database and private Redis database index, made in TestMain.
// Tests in this package share them and do not run in parallel: the outbox relay and
// the "other active admins" count see the whole table.
var (
	testDB       *postgres.DB
	testRedisURL string
)

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	url, drop, err := pgtest.Create(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer drop()
	db, err := postgres.Open(ctx, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	defer db.Close()
	testDB = db
	redisURL, release, err := redistest.Acquire(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		return 1
	}
	defer release()
	testRedisURL = redisURL
	return m.Run()
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustExec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := testDB.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func countRows(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := testDB.GetContext(context.Background(), &n, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// resetStaff empties the staff tables (sessions go with their users).
func resetStaff(t *testing.T) {
	t.Helper()
	mustExec(t, `DELETE FROM staff.login_failures`)
	mustExec(t, `DELETE FROM staff.users`)
}

// now is the current time at PostgreSQL's precision.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func wantCode(t *testing.T, err error, code ports.ErrorCode) {
	t.Helper()
	if got := ports.ErrorCodeOf(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

func testAudit(action, objectID string) ports.AuditEntry {
	return ports.AuditEntry{ActorKind: string(ports.ActorStaff), ActorID: "actor-id", Actor: "tester", IP: "192.0.2.1",
		Action: action, ObjectType: "user", ObjectID: objectID, Detail: "detail of " + action}
}

func auditCount(t *testing.T, action, objectID string) int {
	t.Helper()
	return countRows(t, `SELECT count(*) FROM platform.audit_log WHERE action = $1 AND object_id = $2`, action, objectID)
}

func newStaffUser(username string, role staff.Role) *staff.User {
	ts := now().Add(-time.Hour)
	return &staff.User{ID: uuid.Must(uuid.NewV7()), Username: username, DisplayName: "", Role: role,
		PasswordHash: "$argon2id$not-a-real-hash", CreatedAt: ts, UpdatedAt: ts, PasswordChangedAt: ts}
}

func createUser(t *testing.T, s *postgres.StaffStore, username string, role staff.Role, mutate ...func(*staff.User)) *staff.User {
	t.Helper()
	u := newStaffUser(username, role)
	for _, f := range mutate {
		f(u)
	}
	if err := s.CreateUser(context.Background(), u, testAudit("user.create", u.ID.String())); err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	return u
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func checkUser(t *testing.T, got, want *staff.User) {
	t.Helper()
	if got.ID != want.ID || got.Username != want.Username || got.DisplayName != want.DisplayName ||
		got.Role != want.Role || got.PasswordHash != want.PasswordHash ||
		got.MustChangePassword != want.MustChangePassword || got.Disabled != want.Disabled ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) ||
		!got.PasswordChangedAt.Equal(want.PasswordChangedAt) || !sameTime(got.LastLoginAt, want.LastLoginAt) {
		t.Fatalf("user\n got %+v\nwant %+v", *got, *want)
	}
}

func TestStaffStoreCreateAndGetUser(t *testing.T) {
	resetStaff(t)
	ctx := context.Background()
	s := postgres.NewStaffStore(testDB)

	u := newStaffUser("alice", staff.RoleManager)
	u.DisplayName = "Alice Smith"
	u.MustChangePassword = true
	if err := s.CreateUser(ctx, u, testAudit("user.create", u.ID.String())); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, got, u)
	got, err = s.UserByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, got, u)
	if n := auditCount(t, "user.create", u.ID.String()); n != 1 {
		t.Fatalf("%d audit rows for the creation, want 1", n)
	}

	_, err = s.UserByID(ctx, uuid.Must(uuid.NewV7()))
	wantCode(t, err, ports.ENOTFOUND)
	_, err = s.UserByUsername(ctx, "nobody")
	wantCode(t, err, ports.ENOTFOUND)

	// A taken username is ECONFLICT, and neither the user nor its audit row is written.
	dup := newStaffUser("alice", staff.RoleAdmin)
	err = s.CreateUser(ctx, dup, testAudit("user.create", dup.ID.String()))
	wantCode(t, err, ports.ECONFLICT)
	if n := auditCount(t, "user.create", dup.ID.String()); n != 0 {
		t.Fatalf("%d audit rows for a refused creation", n)
	}
	_, err = s.UserByID(ctx, dup.ID)
	wantCode(t, err, ports.ENOTFOUND)

	// The audit row is written in the same transaction: if it cannot be written (text
	// with a NUL byte), the user is not created either.
	bad := newStaffUser("bob", staff.RolePacker)
	a := testAudit("user.create", bad.ID.String())
	a.Detail = "bad\x00detail"
	if err := s.CreateUser(ctx, bad, a); err == nil {
		t.Fatal("CreateUser with an unwritable audit entry succeeded")
	}
	_, err = s.UserByUsername(ctx, "bob")
	wantCode(t, err, ports.ENOTFOUND)

	n, err := s.CountUsers(ctx)
	if err != nil || n != 1 {
		t.Fatalf("CountUsers = %d, %v; want 1", n, err)
	}

	login := now()
	if err := s.SetLastLogin(ctx, u.ID, login); err != nil {
		t.Fatal(err)
	}
	got, err = s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastLoginAt == nil || !got.LastLoginAt.Equal(login) {
		t.Fatalf("last login %v, want %v", got.LastLoginAt, login)
	}
}

func TestStaffStoreListUsers(t *testing.T) {
	resetStaff(t)
	ctx := context.Background()
	s := postgres.NewStaffStore(testDB)
	display := func(name string) func(*staff.User) { return func(u *staff.User) { u.DisplayName = name } }
	createUser(t, s, "alice", staff.RoleManager, display("Alice Smith"))
	createUser(t, s, "bob", staff.RolePacker, display("Bobby Tables"))
	createUser(t, s, "carol", staff.RoleAdmin, display("Carol Alison"))
	createUser(t, s, "dave", staff.RolePacker)
	createUser(t, s, "erin", staff.RoleSupport, display("Erin BOBBITT"))

	names := func(f staff.UserFilter) []string {
		t.Helper()
		users, err := s.ListUsers(ctx, f)
		if err != nil {
			t.Fatalf("ListUsers(%+v): %v", f, err)
		}
		out := []string{}
		for _, u := range users {
			out = append(out, u.Username)
		}
		return out
	}
	for _, tc := range []struct {
		f    staff.UserFilter
		want []string
	}{
		{staff.UserFilter{Limit: 10}, []string{"alice", "bob", "carol", "dave", "erin"}},
		{staff.UserFilter{Query: "ali", Limit: 10}, []string{"alice", "carol"}}, // username, display name
		{staff.UserFilter{Query: "BOB", Limit: 10}, []string{"bob", "erin"}},    // case-insensitive
		{staff.UserFilter{Query: "zzz", Limit: 10}, []string{}},
		{staff.UserFilter{Role: staff.RolePacker, Limit: 10}, []string{"bob", "dave"}},
		{staff.UserFilter{Role: staff.RoleAdmin, Limit: 10}, []string{"carol"}},
		{staff.UserFilter{Query: "bob", Role: staff.RolePacker, Limit: 10}, []string{"bob"}},
		{staff.UserFilter{Limit: 2}, []string{"alice", "bob"}},
		{staff.UserFilter{After: "bob", Limit: 2}, []string{"carol", "dave"}},
		{staff.UserFilter{After: "dave", Limit: 2}, []string{"erin"}},
		{staff.UserFilter{After: "erin", Limit: 2}, []string{}},
		{staff.UserFilter{After: "b", Role: staff.RolePacker, Limit: 10}, []string{"bob", "dave"}},
		{staff.UserFilter{After: "bob", Role: staff.RolePacker, Limit: 10}, []string{"dave"}},
	} {
		if got := names(tc.f); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ListUsers(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}

	// Walking the pages with the last username as cursor visits everyone once, in order.
	var all []string
	after := ""
	for range 10 {
		page := names(staff.UserFilter{After: after, Limit: 2})
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1]
	}
	if fmt.Sprint(all) != "[alice bob carol dave erin]" {
		t.Fatalf("pages = %v", all)
	}
}

func TestStaffStoreUpdateUser(t *testing.T) {
	resetStaff(t)
	ctx := context.Background()
	s := postgres.NewStaffStore(testDB)
	a1 := createUser(t, s, "admin1", staff.RoleAdmin)
	createUser(t, s, "admin2", staff.RoleAdmin)
	a3 := createUser(t, s, "admin3", staff.RoleAdmin, func(u *staff.User) { u.Disabled = true })
	m := createUser(t, s, "manager", staff.RoleManager)

	othersFor := func(id uuid.UUID) int {
		t.Helper()
		got := -1
		if _, err := s.UpdateUser(ctx, id, func(u *staff.User, others int) error {
			if u.ID != id {
				t.Errorf("fn got user %s, want %s", u.ID, id)
			}
			got = others
			return nil
		}, testAudit("test.count", id.String())); err != nil {
			t.Fatal(err)
		}
		return got
	}
	// Active admins are admin1 and admin2; admin3 is disabled.
	for _, tc := range []struct {
		u    *staff.User
		want int
	}{{m, 2}, {a1, 1}, {a3, 2}} {
		if got := othersFor(tc.u.ID); got != tc.want {
			t.Errorf("other active admins for %s = %d, want %d", tc.u.Username, got, tc.want)
		}
	}

	// A successful change is saved with its audit row.
	later := now()
	updated, err := s.UpdateUser(ctx, m.ID, func(u *staff.User, _ int) error {
		u.DisplayName, u.Role, u.UpdatedAt = "Mandy", staff.RoleAdmin, later
		u.PasswordHash, u.MustChangePassword, u.PasswordChangedAt = "new-hash", true, later
		return nil
	}, testAudit("user.update", m.ID.String()))
	if err != nil {
		t.Fatal(err)
	}
	want := *m
	want.DisplayName, want.Role, want.UpdatedAt = "Mandy", staff.RoleAdmin, later
	want.PasswordHash, want.MustChangePassword, want.PasswordChangedAt = "new-hash", true, later
	checkUser(t, updated, &want)
	got, err := s.UserByID(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, got, &want)
	if n := auditCount(t, "user.update", m.ID.String()); n != 1 {
		t.Fatalf("%d audit rows for the update, want 1", n)
	}
	// Now three active admins: admin1 sees two others.
	if got := othersFor(a1.ID); got != 2 {
		t.Fatalf("after promotion, other active admins for admin1 = %d, want 2", got)
	}

	// A failing fn saves neither the change nor the audit row, and its error comes back.
	_, err = s.UpdateUser(ctx, m.ID, func(u *staff.User, _ int) error {
		u.DisplayName, u.Disabled = "Changed", true
		return ports.Errorf(ports.ECONFLICT, "no")
	}, testAudit("test.refused", m.ID.String()))
	wantCode(t, err, ports.ECONFLICT)
	got, err = s.UserByID(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, got, &want)
	if n := auditCount(t, "test.refused", m.ID.String()); n != 0 {
		t.Fatalf("%d audit rows for a refused change", n)
	}

	// An audit row that cannot be written rolls the change back.
	a := testAudit("test.bad_audit", m.ID.String())
	a.Detail = "bad\x00detail"
	if _, err := s.UpdateUser(ctx, m.ID, func(u *staff.User, _ int) error {
		u.DisplayName = "Not saved"
		return nil
	}, a); err == nil {
		t.Fatal("UpdateUser with an unwritable audit entry succeeded")
	}
	got, err = s.UserByID(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, got, &want)

	// Disabling is saved.
	if _, err := s.UpdateUser(ctx, a1.ID, func(u *staff.User, _ int) error {
		u.Disabled = true
		return nil
	}, testAudit("user.disable", a1.ID.String())); err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserByID(ctx, a1.ID); err != nil || !got.Disabled {
		t.Fatalf("admin1 after disabling: %+v, %v", got, err)
	}
	if got := othersFor(m.ID); got != 1 {
		t.Fatalf("after disabling admin1, other active admins for manager-turned-admin = %d, want 1", got)
	}

	// An unknown user is ENOTFOUND and fn is not called.
	called := false
	_, err = s.UpdateUser(ctx, uuid.Must(uuid.NewV7()), func(*staff.User, int) error { called = true; return nil },
		testAudit("test.missing", "x"))
	wantCode(t, err, ports.ENOTFOUND)
	if called {
		t.Fatal("fn called for a missing user")
	}
}

func newSession(userID uuid.UUID, token string, created time.Time, ttl time.Duration) *staff.Session {
	return &staff.Session{TokenHash: staff.HashToken(token), UserID: userID, CSRFToken: "csrf-" + token,
		CreatedAt: created, LastSeenAt: created, ExpiresAt: created.Add(ttl), IP: "198.51.100.7", UserAgent: "test/1.0"}
}

func createSessions(t *testing.T, s *postgres.StaffStore, sessions ...*staff.Session) {
	t.Helper()
	for _, sess := range sessions {
		if err := s.CreateSession(context.Background(), sess); err != nil {
			t.Fatal(err)
		}
	}
}

func sessionCount(t *testing.T, userID uuid.UUID) int {
	t.Helper()
	return countRows(t, `SELECT count(*) FROM staff.sessions WHERE user_id = $1`, userID)
}

func TestStaffStoreDeleteUser(t *testing.T) {
	resetStaff(t)
	ctx := context.Background()
	s := postgres.NewStaffStore(testDB)
	createUser(t, s, "admin1", staff.RoleAdmin)
	u := createUser(t, s, "admin2", staff.RoleAdmin)
	v := createUser(t, s, "packer", staff.RolePacker)
	ts := now()
	createSessions(t, s, newSession(u.ID, "u1", ts, time.Hour), newSession(u.ID, "u2", ts, time.Hour),
		newSession(v.ID, "v1", ts, time.Hour))

	// A refusing fn keeps the user, their sessions, and writes no audit row.
	err := s.DeleteUser(ctx, u.ID, func(*staff.User, int) error { return ports.Errorf(ports.ECONFLICT, "no") },
		testAudit("test.delete_refused", u.ID.String()))
	wantCode(t, err, ports.ECONFLICT)
	if _, err := s.UserByID(ctx, u.ID); err != nil {
		t.Fatalf("user gone after a refused delete: %v", err)
	}
	if n := sessionCount(t, u.ID); n != 2 {
		t.Fatalf("%d sessions after a refused delete, want 2", n)
	}
	if n := auditCount(t, "test.delete_refused", u.ID.String()); n != 0 {
		t.Fatalf("%d audit rows for a refused delete", n)
	}

	others := -1
	if err := s.DeleteUser(ctx, u.ID, func(got *staff.User, n int) error {
		if got.ID != u.ID {
			t.Errorf("fn got %s", got.Username)
		}
		others = n
		return nil
	}, testAudit("user.delete", u.ID.String())); err != nil {
		t.Fatal(err)
	}
	if others != 1 {
		t.Fatalf("other active admins = %d, want 1", others)
	}
	_, err = s.UserByID(ctx, u.ID)
	wantCode(t, err, ports.ENOTFOUND)
	if n := sessionCount(t, u.ID); n != 0 {
		t.Fatalf("%d sessions left for the deleted user", n)
	}
	if n := sessionCount(t, v.ID); n != 1 {
		t.Fatalf("another user's sessions: %d, want 1", n)
	}
	var detail string
	if err := testDB.GetContext(ctx, &detail, `SELECT detail FROM platform.audit_log WHERE action = 'user.delete' AND object_id = $1`,
		u.ID.String()); err != nil {
		t.Fatalf("audit row of the deletion: %v", err)
	}
	if detail != "username=admin2" {
		t.Fatalf("audit detail %q", detail)
	}

	err = s.DeleteUser(ctx, u.ID, func(*staff.User, int) error { return nil }, testAudit("test.delete_missing", u.ID.String()))
	wantCode(t, err, ports.ENOTFOUND)
	if n := auditCount(t, "test.delete_missing", u.ID.String()); n != 0 {
		t.Fatalf("%d audit rows for deleting a missing user", n)
	}
}

func TestStaffStoreSessions(t *testing.T) {
	resetStaff(t)
	ctx := context.Background()
	s := postgres.NewStaffStore(testDB)
	u := createUser(t, s, "alice", staff.RoleSupport, func(u *staff.User) { u.DisplayName = "Alice" })
	other := createUser(t, s, "bob", staff.RolePacker)
	ts := now()

	live := newSession(u.ID, "live", ts, time.Hour)
	expired := newSession(u.ID, "expired", ts.Add(-2*time.Hour), time.Hour)
	createSessions(t, s, live, expired)

	gotS, gotU, err := s.SessionByTokenHash(ctx, live.TokenHash, ts)
	if err != nil {
		t.Fatal(err)
	}
	if string(gotS.TokenHash) != string(live.TokenHash) || gotS.UserID != u.ID || gotS.CSRFToken != live.CSRFToken ||
		!gotS.CreatedAt.Equal(live.CreatedAt) || !gotS.LastSeenAt.Equal(live.LastSeenAt) ||
		!gotS.ExpiresAt.Equal(live.ExpiresAt) || gotS.IP != live.IP || gotS.UserAgent != live.UserAgent {
		t.Fatalf("session\n got %+v\nwant %+v", *gotS, *live)
	}
	checkUser(t, gotU, u)

	_, _, err = s.SessionByTokenHash(ctx, expired.TokenHash, ts)
	wantCode(t, err, ports.ENOTFOUND)
	_, _, err = s.SessionByTokenHash(ctx, live.TokenHash, live.ExpiresAt) // expiry is exclusive
	wantCode(t, err, ports.ENOTFOUND)
	_, _, err = s.SessionByTokenHash(ctx, staff.HashToken("unknown"), ts)
	wantCode(t, err, ports.ENOTFOUND)

	// Touch slides the expiry.
	seen, expires := ts.Add(10*time.Minute), ts.Add(3*time.Hour)
	if err := s.TouchSession(ctx, live.TokenHash, seen, expires); err != nil {
		t.Fatal(err)
	}
	gotS, _, err = s.SessionByTokenHash(ctx, live.TokenHash, ts.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("touched session not found past its old expiry: %v", err)
	}
	if !gotS.LastSeenAt.Equal(seen) || !gotS.ExpiresAt.Equal(expires) {
		t.Fatalf("after touch: seen %v expires %v, want %v %v", gotS.LastSeenAt, gotS.ExpiresAt, seen, expires)
	}

	if err := s.DeleteSession(ctx, live.TokenHash); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.SessionByTokenHash(ctx, live.TokenHash, ts)
	wantCode(t, err, ports.ENOTFOUND)

	// DeleteUserSessions keeps the excepted session and other users' sessions.
	keep, drop1, drop2 := newSession(u.ID, "keep", ts, time.Hour), newSession(u.ID, "drop1", ts, time.Hour),
		newSession(u.ID, "drop2", ts, time.Hour)
	otherSess := newSession(other.ID, "other", ts, time.Hour)
	createSessions(t, s, keep, drop1, drop2, otherSess)
	if err := s.DeleteUserSessions(ctx, u.ID, keep.TokenHash); err != nil {
		t.Fatal(err)
	}
	var left [][]byte
	if err := testDB.SelectContext(ctx, &left, `SELECT token_hash FROM staff.sessions WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || string(left[0]) != string(keep.TokenHash) {
		t.Fatalf("%d sessions left, want only the excepted one", len(left))
	}
	if n := sessionCount(t, other.ID); n != 1 {
		t.Fatalf("other user's sessions: %d, want 1", n)
	}
	if err := s.DeleteUserSessions(ctx, u.ID, nil); err != nil {
		t.Fatal(err)
	}
	if n := sessionCount(t, u.ID); n != 0 {
		t.Fatalf("%d sessions left after DeleteUserSessions(nil)", n)
	}
	if n := sessionCount(t, other.ID); n != 1 {
		t.Fatalf("other user's sessions: %d, want 1", n)
	}

	// DeleteExpiredSessions removes exactly the sessions expired at the given time.
	createSessions(t, s,
		newSession(u.ID, "old1", ts.Add(-3*time.Hour), time.Hour),
		newSession(u.ID, "old2", ts.Add(-2*time.Hour), 2*time.Hour), // expires exactly at ts
		newSession(u.ID, "fresh", ts, time.Hour))
	n, err := s.DeleteExpiredSessions(ctx, ts)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("DeleteExpiredSessions removed %d, want 2", n)
	}
	if c := sessionCount(t, u.ID); c != 1 {
		t.Fatalf("%d sessions left for alice, want 1 (fresh)", c)
	}
	if _, _, err := s.SessionByTokenHash(ctx, staff.HashToken("fresh"), ts); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
}

func TestStaffStoreLoginFailures(t *testing.T) {
	resetStaff(t)
	ctx := context.Background()
	s := postgres.NewStaffStore(testDB)
	ts := now()
	for _, f := range []struct {
		user string
		ago  time.Duration
	}{{"alice", 20 * time.Minute}, {"alice", 10 * time.Minute}, {"alice", time.Minute}, {"bob", time.Minute}} {
		if err := s.RecordLoginFailure(ctx, f.user, "203.0.113.9", ts.Add(-f.ago)); err != nil {
			t.Fatal(err)
		}
	}
	count := func(user string, since time.Time) int {
		t.Helper()
		n, err := s.CountLoginFailures(ctx, user, since)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("alice", ts.Add(-15*time.Minute)); n != 2 {
		t.Fatalf("alice's failures in 15 min: %d, want 2", n)
	}
	if n := count("alice", ts.Add(-time.Hour)); n != 3 {
		t.Fatalf("alice's failures in 1 h: %d, want 3", n)
	}
	if n := count("alice", ts.Add(-time.Minute)); n != 0 {
		t.Fatalf("failures strictly after the last one: %d, want 0", n)
	}
	if n := count("nobody", ts.Add(-time.Hour)); n != 0 {
		t.Fatalf("nobody's failures: %d", n)
	}

	deleted, err := s.DeleteLoginFailuresBefore(ctx, ts.Add(-5*time.Minute))
	if err != nil || deleted != 2 {
		t.Fatalf("DeleteLoginFailuresBefore = %d, %v; want 2", deleted, err)
	}
	if n := count("alice", ts.Add(-time.Hour)); n != 1 {
		t.Fatalf("alice's failures after cleanup: %d, want 1", n)
	}

	if err := s.ClearLoginFailures(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if n := count("alice", ts.Add(-time.Hour)); n != 0 {
		t.Fatalf("alice's failures after clear: %d", n)
	}
	if n := count("bob", ts.Add(-time.Hour)); n != 1 {
		t.Fatalf("bob's failures after clearing alice's: %d, want 1", n)
	}
}

// TestSetDisabledRaceKeepsAnAdmin has two admins disable each other at the same time.
// Without the lock on every active admin, both would see one other active admin and
// both would succeed, leaving no admin at all.
func TestSetDisabledRaceKeepsAnAdmin(t *testing.T) {
	ctx := context.Background()
	store := postgres.NewStaffStore(testDB)
	policy, err := staff.NewPolicy()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := staff.NewService(store, policy, time.Now, staff.PasswordParams{Time: 1, Memory: 1024, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	actor := func(u *staff.User) context.Context {
		return ports.WithActor(ctx, ports.Actor{Kind: ports.ActorStaff, ID: u.ID.String(), Name: u.Username, IP: "127.0.0.1"})
	}

	for i := range 20 {
		resetStaff(t)
		a, err := svc.CreateUser(ctx, staff.NewUser{Username: "admin-a", Role: staff.RoleAdmin, Password: "correct horse a"}, false)
		if err != nil {
			t.Fatal(err)
		}
		b, err := svc.CreateUser(ctx, staff.NewUser{Username: "admin-b", Role: staff.RoleAdmin, Password: "correct horse b"}, false)
		if err != nil {
			t.Fatal(err)
		}
		ts := now()
		createSessions(t, store, newSession(a.ID, fmt.Sprint("a", i), ts, time.Hour), newSession(b.ID, fmt.Sprint("b", i), ts, time.Hour))

		// a disables b while b disables a.
		targets := [2]*staff.User{b, a}
		ctxs := [2]context.Context{actor(a), actor(b)}
		var errs [2]error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for k := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[k] = svc.SetDisabled(ctxs[k], targets[k].ID, true)
			}()
		}
		close(start)
		wg.Wait()

		var won, lost int
		for k, err := range errs {
			switch {
			case err == nil:
				won++
			case ports.ErrorCodeOf(err) == ports.ECONFLICT:
				lost++
			default:
				t.Fatalf("round %d: SetDisabled of %s: unexpected error %v", i, targets[k].Username, err)
			}
		}
		if won != 1 || lost != 1 {
			t.Fatalf("round %d: %d succeeded, %d refused (errors %v); want exactly one of each", i, won, lost, errs)
		}
		if n := countRows(t, `SELECT count(*) FROM staff.users WHERE role = 'admin' AND NOT disabled`); n != 1 {
			t.Fatalf("round %d: %d active admins left, want 1", i, n)
		}
		winner := 0
		if errs[0] != nil {
			winner = 1
		}
		disabled, kept := targets[winner], targets[1-winner]
		if n := sessionCount(t, disabled.ID); n != 0 {
			t.Fatalf("round %d: disabled admin still has %d sessions", i, n)
		}
		if n := sessionCount(t, kept.ID); n != 1 {
			t.Fatalf("round %d: remaining admin has %d sessions, want 1", i, n)
		}
		if n := auditCount(t, "user.disable", disabled.ID.String()); n != 1 {
			t.Fatalf("round %d: %d audit rows for the disable, want 1", i, n)
		}
		if n := auditCount(t, "user.disable", kept.ID.String()); n != 0 {
			t.Fatalf("round %d: %d audit rows for the refused disable, want 0", i, n)
		}
	}
}

func TestStaffCountActiveUsers(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewStaffStore(testDB)
	count := func() (all, active int) {
		all, err := s.CountUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		active, err = s.CountActiveUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return all, active
	}
	all0, active0 := count()
	createUser(t, s, "count-on", staff.RolePacker)
	createUser(t, s, "count-off", staff.RolePacker, func(u *staff.User) { u.Disabled = true })
	all, active := count()
	if all != all0+2 || active != active0+1 {
		t.Fatalf("after one active and one disabled user: all %d→%d, active %d→%d", all0, all, active0, active)
	}
}
