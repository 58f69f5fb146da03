package staff

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// fakeStore is an in-memory Store with the semantics of the Postgres one: copies in
// and out, ENOTFOUND and ECONFLICT as documented, the "other active admins" count of
// UpdateUser and DeleteUser computed over active admins other than the target.
type fakeStore struct {
	mu        sync.Mutex
	users     map[uuid.UUID]User
	sessions  map[string]Session
	failures  []loginFailure
	audit     []ports.AuditEntry
	touches   int
	failCount error // when set, CountLoginFailures returns it
}

type loginFailure struct {
	username, ip string
	at           time.Time
}

func newFakeStore() *fakeStore {
	return &fakeStore{users: map[uuid.UUID]User{}, sessions: map[string]Session{}}
}

var _ Store = (*fakeStore)(nil)

func notFound() error { return ports.Errorf(ports.ENOTFOUND, "No such user.") }

func (s *fakeStore) CreateUser(_ context.Context, u *User, a ports.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.users {
		if x.Username == u.Username {
			return ports.Errorf(ports.ECONFLICT, "The username %s is taken.", u.Username)
		}
	}
	s.users[u.ID] = *u
	s.audit = append(s.audit, a)
	return nil
}

func (s *fakeStore) UserByID(_ context.Context, id uuid.UUID) (*User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return nil, notFound()
	}
	return &u, nil
}

func (s *fakeStore) UserByUsername(_ context.Context, username string) (*User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.Username == username {
			return &u, nil
		}
	}
	return nil, notFound()
}

func (s *fakeStore) ListUsers(_ context.Context, f UserFilter) ([]User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []User
	for _, u := range s.users {
		q := strings.ToLower(f.Query)
		if q != "" && !strings.Contains(u.Username, q) && !strings.Contains(strings.ToLower(u.DisplayName), q) {
			continue
		}
		if f.Role != "" && u.Role != f.Role {
			continue
		}
		if u.Username <= f.After {
			continue
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Username, b.Username) })
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (s *fakeStore) CountUsers(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users), nil
}

func (s *fakeStore) CountActiveUsers(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, u := range s.users {
		if !u.Disabled {
			n++
		}
	}
	return n, nil
}

// lockForChange returns a copy of the user and the number of active admins other
// than them. The caller holds s.mu, which plays the part of the row locks.
func (s *fakeStore) lockForChange(id uuid.UUID) (*User, int, error) {
	u, ok := s.users[id]
	if !ok {
		return nil, 0, notFound()
	}
	others := 0
	for _, x := range s.users {
		if x.ID != id && x.Role == RoleAdmin && !x.Disabled {
			others++
		}
	}
	return &u, others, nil
}

func (s *fakeStore) UpdateUser(_ context.Context, id uuid.UUID, fn func(*User, int) error, a ports.AuditEntry) (*User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, others, err := s.lockForChange(id)
	if err != nil {
		return nil, err
	}
	if err := fn(u, others); err != nil {
		return nil, err
	}
	s.users[id] = *u
	s.audit = append(s.audit, a)
	out := *u
	return &out, nil
}

func (s *fakeStore) DeleteUser(_ context.Context, id uuid.UUID, fn func(*User, int) error, a ports.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, others, err := s.lockForChange(id)
	if err != nil {
		return err
	}
	if err := fn(u, others); err != nil {
		return err
	}
	delete(s.users, id)
	for k, sess := range s.sessions {
		if sess.UserID == id {
			delete(s.sessions, k)
		}
	}
	s.audit = append(s.audit, a)
	return nil
}

func (s *fakeStore) SetLastLogin(_ context.Context, id uuid.UUID, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return notFound()
	}
	u.LastLoginAt = &at
	s.users[id] = u
	return nil
}

func (s *fakeStore) CreateSession(_ context.Context, sess *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[string(sess.TokenHash)] = *sess
	return nil
}

func (s *fakeStore) SessionByTokenHash(_ context.Context, hash []byte, now time.Time) (*Session, *User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[string(hash)]
	if !ok || !sess.ExpiresAt.After(now) {
		return nil, nil, ports.Errorf(ports.ENOTFOUND, "No such session.")
	}
	u, ok := s.users[sess.UserID]
	if !ok {
		return nil, nil, ports.Errorf(ports.ENOTFOUND, "No such session.")
	}
	return &sess, &u, nil
}

func (s *fakeStore) TouchSession(_ context.Context, hash []byte, seen, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touches++
	sess, ok := s.sessions[string(hash)]
	if !ok {
		return nil
	}
	sess.LastSeenAt, sess.ExpiresAt = seen, expires
	s.sessions[string(hash)] = sess
	return nil
}

func (s *fakeStore) DeleteSession(_ context.Context, hash []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, string(hash))
	return nil
}

func (s *fakeStore) DeleteUserSessions(_ context.Context, userID uuid.UUID, except []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, sess := range s.sessions {
		if sess.UserID == userID && !bytes.Equal(sess.TokenHash, except) {
			delete(s.sessions, k)
		}
	}
	return nil
}

func (s *fakeStore) DeleteExpiredSessions(_ context.Context, now time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for k, sess := range s.sessions {
		if !sess.ExpiresAt.After(now) {
			delete(s.sessions, k)
			n++
		}
	}
	return n, nil
}

func (s *fakeStore) RecordLoginFailure(_ context.Context, username, ip string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, loginFailure{username, ip, at})
	return nil
}

func (s *fakeStore) CountLoginFailures(_ context.Context, username string, since time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failCount != nil {
		return 0, s.failCount
	}
	n := 0
	for _, f := range s.failures {
		if f.username == username && f.at.After(since) {
			n++
		}
	}
	return n, nil
}

func (s *fakeStore) ClearLoginFailures(_ context.Context, username string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = slices.DeleteFunc(s.failures, func(f loginFailure) bool { return f.username == username })
	return nil
}

func (s *fakeStore) DeleteLoginFailuresBefore(_ context.Context, before time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.failures)
	s.failures = slices.DeleteFunc(s.failures, func(f loginFailure) bool { return f.at.Before(before) })
	return int64(n - len(s.failures)), nil
}

// Helpers for the tests.

func (s *fakeStore) user(t *testing.T, username string) User {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.Username == username {
			return u
		}
	}
	t.Fatalf("no user %q in the store", username)
	return User{}
}

func (s *fakeStore) modifyUser(id uuid.UUID, fn func(*User)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	fn(&u)
	s.users[id] = u
}

func (s *fakeStore) session(token string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[string(HashToken(token))]
	return sess, ok
}

func (s *fakeStore) sessionCount(userID uuid.UUID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sess := range s.sessions {
		if sess.UserID == userID {
			n++
		}
	}
	return n
}

func (s *fakeStore) lastAudit() ports.AuditEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.audit) == 0 {
		return ports.AuditEntry{}
	}
	return s.audit[len(s.audit)-1]
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type fixture struct {
	svc   *Service
	store *fakeStore
	clock *fakeClock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store := newFakeStore()
	clock := &fakeClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	svc, err := NewService(store, newTestPolicy(t), clock.Now, cheapParams)
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	return &fixture{svc: svc, store: store, clock: clock}
}

func (f *fixture) createUser(t *testing.T, username string, role Role, password string) *User {
	t.Helper()
	u, err := f.svc.CreateUser(context.Background(), NewUser{Username: username, Role: role, Password: password}, false)
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", username, err)
	}
	return u
}

func (f *fixture) login(t *testing.T, username, password string) (string, *Principal) {
	t.Helper()
	token, p, err := f.svc.Login(context.Background(), username, password, "192.0.2.1", "test-agent")
	if err != nil {
		t.Fatalf("Login(%s): %v", username, err)
	}
	return token, p
}

// asActor returns a context whose actor is the staff user u.
func asActor(u *User) context.Context {
	return ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: u.ID.String(), Name: u.Username})
}

func fieldNames(err error) []string {
	var out []string
	for _, fe := range ports.FieldErrorsOf(err) {
		out = append(out, fe.Field)
	}
	return out
}

func wantCode(t *testing.T, err error, code ports.ErrorCode) {
	t.Helper()
	if got := ports.ErrorCodeOf(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	wantCode(t, err, ports.EINVALID)
	if got := fieldNames(err); !slices.Equal(got, fields) {
		t.Fatalf("fields = %v, want %v (error %v)", got, fields, err)
	}
}

const goodPassword = "correct-horse-1"

func TestCreateUserValidation(t *testing.T) {
	tests := []struct {
		name   string
		in     NewUser
		fields []string
	}{
		{"all wrong", NewUser{Username: "a", DisplayName: "bad\x00name", Role: "boss", Password: "short"},
			[]string{"username", "display_name", "role", "password"}},
		{"empty", NewUser{}, []string{"username", "role", "password"}},
		{"username too short", NewUser{Username: "ab", Role: RoleManager, Password: goodPassword}, []string{"username"}},
		{"username bad characters", NewUser{Username: "al ice", Role: RoleManager, Password: goodPassword}, []string{"username"}},
		{"username leading dot", NewUser{Username: ".alice", Role: RoleManager, Password: goodPassword}, []string{"username"}},
		{"username too long", NewUser{Username: strings.Repeat("a", 33), Role: RoleManager, Password: goodPassword}, []string{"username"}},
		{"display name too long", NewUser{Username: "alice", DisplayName: strings.Repeat("x", 101), Role: RoleManager, Password: goodPassword}, []string{"display_name"}},
		{"display name control", NewUser{Username: "alice", DisplayName: "a\nb", Role: RoleManager, Password: goodPassword}, []string{"display_name"}},
		{"no role", NewUser{Username: "alice", Password: goodPassword}, []string{"role"}},
		{"unknown role", NewUser{Username: "alice", Role: "owner", Password: goodPassword}, []string{"role"}},
		{"role wrong case", NewUser{Username: "alice", Role: "Admin", Password: goodPassword}, []string{"role"}},
		{"no password", NewUser{Username: "alice", Role: RoleManager}, []string{"password"}},
		{"password too short", NewUser{Username: "alice", Role: RoleManager, Password: "123456789"}, []string{"password"}},
		{"password is username", NewUser{Username: "AliceAlice", Role: RoleManager, Password: "alicealice"}, []string{"password"}},
		{"password only spaces", NewUser{Username: "alice", Role: RoleManager, Password: strings.Repeat(" ", 12)}, []string{"password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			u, err := f.svc.CreateUser(context.Background(), tt.in, true)
			if u != nil {
				t.Errorf("got a user despite the error: %+v", u)
			}
			wantFields(t, err, tt.fields...)
			if n, _ := f.store.CountUsers(context.Background()); n != 0 {
				t.Errorf("store has %d users after a failed create", n)
			}
		})
	}
}

func TestCreateUser(t *testing.T) {
	for _, mustChange := range []bool{true, false} {
		f := newFixture(t)
		ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorSystem, Name: "cli"})
		u, err := f.svc.CreateUser(ctx, NewUser{Username: "  Alice.S ", DisplayName: "Alice S", Role: RoleAccountant, Password: goodPassword}, mustChange)
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		stored := f.store.user(t, "alice.s")
		if u.ID != stored.ID || u.ID == uuid.Nil {
			t.Errorf("returned id %v, stored id %v", u.ID, stored.ID)
		}
		if stored.Username != "alice.s" || stored.DisplayName != "Alice S" || stored.Role != RoleAccountant {
			t.Errorf("stored user %+v", stored)
		}
		if stored.MustChangePassword != mustChange {
			t.Errorf("MustChangePassword = %v, want %v", stored.MustChangePassword, mustChange)
		}
		if stored.Disabled {
			t.Error("new user is disabled")
		}
		if stored.PasswordHash == goodPassword || !CheckPassword(stored.PasswordHash, goodPassword) {
			t.Errorf("password not stored as a matching hash: %q", stored.PasswordHash)
		}
		now := f.clock.Now()
		if !stored.CreatedAt.Equal(now) || !stored.UpdatedAt.Equal(now) || !stored.PasswordChangedAt.Equal(now) {
			t.Errorf("timestamps %v %v %v, want %v", stored.CreatedAt, stored.UpdatedAt, stored.PasswordChangedAt, now)
		}
		if a := f.store.lastAudit(); a.Action != "user.create" || a.ObjectID != u.ID.String() {
			t.Errorf("audit entry %+v", a)
		}
	}
}

func TestCreateUserDuplicate(t *testing.T) {
	f := newFixture(t)
	f.createUser(t, "alice", RoleManager, goodPassword)
	for _, name := range []string{"alice", "ALICE", " Alice "} {
		_, err := f.svc.CreateUser(context.Background(), NewUser{Username: name, Role: RoleSupport, Password: goodPassword}, true)
		wantFields(t, err, "username")
		if msg := ports.FieldErrorsOf(err)[0].Message; !strings.Contains(msg, "taken") {
			t.Errorf("message %q should say the username is taken", msg)
		}
	}
	if n, _ := f.store.CountUsers(context.Background()); n != 1 {
		t.Errorf("store has %d users, want 1", n)
	}
	if u := f.store.user(t, "alice"); u.Role != RoleManager {
		t.Errorf("original user changed: %+v", u)
	}
}

func TestEnsureDefaultAdmin(t *testing.T) {
	ctx := context.Background()
	t.Run("no users", func(t *testing.T) {
		f := newFixture(t)
		created, err := f.svc.EnsureDefaultAdmin(ctx)
		if err != nil || !created {
			t.Fatalf("EnsureDefaultAdmin = %v, %v; want true, nil", created, err)
		}
		u := f.store.user(t, "admin")
		if u.Role != RoleAdmin || !u.MustChangePassword || u.Disabled {
			t.Errorf("default admin %+v", u)
		}
		if !CheckPassword(u.PasswordHash, "admin") {
			t.Error("default admin's password is not admin")
		}
		// A second call does nothing.
		created, err = f.svc.EnsureDefaultAdmin(ctx)
		if err != nil || created {
			t.Fatalf("second EnsureDefaultAdmin = %v, %v; want false, nil", created, err)
		}
		if n, _ := f.store.CountUsers(ctx); n != 1 {
			t.Errorf("%d users, want 1", n)
		}
	})
	t.Run("some user exists", func(t *testing.T) {
		f := newFixture(t)
		f.createUser(t, "packer1", RolePacker, goodPassword)
		created, err := f.svc.EnsureDefaultAdmin(ctx)
		if err != nil || created {
			t.Fatalf("EnsureDefaultAdmin = %v, %v; want false, nil", created, err)
		}
		if n, _ := f.store.CountUsers(ctx); n != 1 {
			t.Errorf("%d users, want 1", n)
		}
	})
	t.Run("default admin can log in and must change password", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.svc.EnsureDefaultAdmin(ctx); err != nil {
			t.Fatal(err)
		}
		_, p := f.login(t, "admin", "admin")
		if !p.User.MustChangePassword {
			t.Error("MustChangePassword = false")
		}
	})
}

func TestLogin(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	created := f.createUser(t, "alice", RoleManager, goodPassword)

	token, p, err := f.svc.Login(ctx, "  ALICE ", goodPassword, "192.0.2.7", "Mozilla/5.0")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if token == "" || p == nil || p.User == nil || p.Session == nil {
		t.Fatalf("Login returned %q, %+v", token, p)
	}
	if p.User.ID != created.ID {
		t.Errorf("principal is %v, want %v", p.User.ID, created.ID)
	}
	now := f.clock.Now()
	sess, ok := f.store.session(token)
	if !ok {
		t.Fatal("no session stored under the token's hash")
	}
	if !bytes.Equal(sess.TokenHash, HashToken(token)) || bytes.Contains(sess.TokenHash, []byte(token)) {
		t.Error("session does not store the token's hash")
	}
	if sess.UserID != created.ID || sess.IP != "192.0.2.7" || sess.UserAgent != "Mozilla/5.0" || sess.CSRFToken == "" {
		t.Errorf("session %+v", sess)
	}
	if !sess.ExpiresAt.Equal(now.Add(SessionIdleTimeout)) || !sess.LastSeenAt.Equal(now) {
		t.Errorf("session times %v %v", sess.LastSeenAt, sess.ExpiresAt)
	}
	if u := f.store.user(t, "alice"); u.LastLoginAt == nil || !u.LastLoginAt.Equal(now) {
		t.Errorf("LastLoginAt = %v, want %v", u.LastLoginAt, now)
	}

	// Each login is a new session with a new token.
	token2, _ := f.login(t, "alice", goodPassword)
	if token2 == token {
		t.Error("two logins gave the same token")
	}
	if n := f.store.sessionCount(created.ID); n != 2 {
		t.Errorf("%d sessions, want 2", n)
	}
}

func TestLoginUserAgentTruncated(t *testing.T) {
	f := newFixture(t)
	f.createUser(t, "alice", RoleManager, goodPassword)
	token, _, err := f.svc.Login(context.Background(), "alice", goodPassword, "", strings.Repeat("u", 2000))
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := f.store.session(token)
	if len(sess.UserAgent) != 512 {
		t.Errorf("user agent of %d bytes stored, want 512", len(sess.UserAgent))
	}
}

func TestLoginFailures(t *testing.T) {
	tests := []struct {
		name               string
		username, password string
		disable            bool
	}{
		{"wrong password", "alice", "wrong-password-1", false},
		{"password wrong case", "alice", strings.ToUpper(goodPassword), false},
		{"unknown user", "bob", goodPassword, false},
		{"disabled user right password", "alice", goodPassword, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			u := f.createUser(t, "alice", RoleManager, goodPassword)
			if tt.disable {
				f.store.modifyUser(u.ID, func(u *User) { u.Disabled = true })
			}
			token, p, err := f.svc.Login(context.Background(), tt.username, tt.password, "192.0.2.9", "ua")
			if token != "" || p != nil {
				t.Errorf("got token %q, principal %+v on failure", token, p)
			}
			wantCode(t, err, ports.EUNAUTHORIZED)
			// The same message whatever the reason, so usernames cannot be probed.
			if msg := ports.ErrorMessageOf(err); msg != "Wrong username or password." {
				t.Errorf("message %q", msg)
			}
			if n, _ := f.store.CountLoginFailures(context.Background(), tt.username, time.Time{}); n != 1 {
				t.Errorf("%d failures recorded, want 1", n)
			}
			if n := f.store.sessionCount(u.ID); n != 0 {
				t.Errorf("%d sessions after a failed login", n)
			}
		})
	}
}

func TestLoginInputValidation(t *testing.T) {
	tests := []struct {
		name               string
		username, password string
		fields             []string
	}{
		{"both empty", "", "", []string{"username", "password"}},
		{"blank username", "   ", goodPassword, []string{"username"}},
		{"empty password", "alice", "", []string{"password"}},
		{"huge username", strings.Repeat("a", 201), goodPassword, []string{"username"}},
		{"huge password", "alice", strings.Repeat("p", 1025), []string{"username"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.createUser(t, "alice", RoleManager, goodPassword)
			_, _, err := f.svc.Login(context.Background(), tt.username, tt.password, "", "")
			wantFields(t, err, tt.fields...)
			if n, _ := f.store.CountLoginFailures(context.Background(), NormalizeUsername(tt.username), time.Time{}); n != 0 {
				t.Errorf("%d failures recorded for invalid input", n)
			}
		})
	}
}

func TestLoginThrottling(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.createUser(t, "alice", RoleManager, goodPassword)
	f.createUser(t, "carol", RoleSupport, goodPassword)

	for i := range MaxLoginFailures {
		_, _, err := f.svc.Login(ctx, "alice", "wrong-password", "192.0.2.1", "")
		wantCode(t, err, ports.EUNAUTHORIZED)
		if i < MaxLoginFailures-1 {
			f.clock.Advance(time.Second)
		}
	}
	// Now even the right password is refused, and refusals are not counted as failures.
	for range 3 {
		_, _, err := f.svc.Login(ctx, "ALICE", goodPassword, "192.0.2.1", "")
		wantCode(t, err, ports.ETOOMANY)
	}
	if n, _ := f.store.CountLoginFailures(ctx, "alice", time.Time{}); n != MaxLoginFailures {
		t.Errorf("%d failures recorded, want %d", n, MaxLoginFailures)
	}
	// Other usernames are not affected.
	f.login(t, "carol", goodPassword)

	// Still refused just inside the window of the first failure...
	f.clock.Advance(LoginFailureWindow - 5*time.Second)
	_, _, err := f.svc.Login(ctx, "alice", goodPassword, "192.0.2.1", "")
	wantCode(t, err, ports.ETOOMANY)

	// ...and allowed once the first failure has left the window (4 remain within).
	f.clock.Advance(2 * time.Second)
	_, p := f.login(t, "alice", goodPassword)
	if p.User.Username != "alice" {
		t.Errorf("logged in as %s", p.User.Username)
	}
	// A successful login forgets the failures.
	if n, _ := f.store.CountLoginFailures(ctx, "alice", time.Time{}); n != 0 {
		t.Errorf("%d failures left after a successful login", n)
	}
}

func TestLoginThrottlingWindowPassed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.createUser(t, "alice", RoleManager, goodPassword)
	for range MaxLoginFailures {
		_, _, err := f.svc.Login(ctx, "alice", "wrong-password", "", "")
		wantCode(t, err, ports.EUNAUTHORIZED)
	}
	_, _, err := f.svc.Login(ctx, "alice", goodPassword, "", "")
	wantCode(t, err, ports.ETOOMANY)

	f.clock.Advance(LoginFailureWindow + time.Second)
	f.login(t, "alice", goodPassword)
}

func TestLoginThrottlingBelowLimit(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.createUser(t, "alice", RoleManager, goodPassword)
	// MaxLoginFailures-1 failures, a success, then as many failures again: never throttled,
	// because the success clears the count.
	for round := range 2 {
		for range MaxLoginFailures - 1 {
			_, _, err := f.svc.Login(ctx, "alice", "wrong-password", "", "")
			wantCode(t, err, ports.EUNAUTHORIZED)
		}
		if _, _, err := f.svc.Login(ctx, "alice", goodPassword, "", ""); err != nil {
			t.Fatalf("round %d: Login = %v", round, err)
		}
	}
}

func TestLoginThrottlingUnknownUser(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for range MaxLoginFailures {
		_, _, err := f.svc.Login(ctx, "ghost", "whatever-password", "", "")
		wantCode(t, err, ports.EUNAUTHORIZED)
	}
	_, _, err := f.svc.Login(ctx, "ghost", "whatever-password", "", "")
	wantCode(t, err, ports.ETOOMANY)
}

func TestLoginStoreError(t *testing.T) {
	f := newFixture(t)
	f.createUser(t, "alice", RoleManager, goodPassword)
	boom := errors.New("database down")
	f.store.failCount = boom
	_, _, err := f.svc.Login(context.Background(), "alice", goodPassword, "", "")
	if !errors.Is(err, boom) {
		t.Fatalf("Login = %v, want the store's error", err)
	}
}

func TestChangePassword(t *testing.T) {
	tests := []struct {
		name                   string
		current, next, confirm string
		fields                 []string
	}{
		{"wrong current", "not-the-password", "brand-new-pass-1", "brand-new-pass-1", []string{"current_password"}},
		{"empty current", "", "brand-new-pass-1", "brand-new-pass-1", []string{"current_password"}},
		{"too short", goodPassword, "short", "short", []string{"new_password"}},
		{"empty new", goodPassword, "", "", []string{"new_password"}},
		{"same as current", goodPassword, goodPassword, goodPassword, []string{"new_password"}},
		{"admin", goodPassword, "admin", "admin", []string{"new_password"}},
		{"username", goodPassword, "alicealice", "alicealice", []string{"new_password"}},
		{"mismatch confirm", goodPassword, "brand-new-pass-1", "brand-new-pass-2", []string{"confirm_password"}},
		{"empty confirm", goodPassword, "brand-new-pass-1", "", []string{"confirm_password"}},
		{"everything wrong", "nope", "short", "other", []string{"current_password", "new_password", "confirm_password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			u, err := f.svc.CreateUser(context.Background(), NewUser{Username: "alicealice", Role: RoleManager, Password: goodPassword}, true)
			if err != nil {
				t.Fatal(err)
			}
			_, p := f.login(t, "alicealice", goodPassword)
			err = f.svc.ChangePassword(context.Background(), p, tt.current, tt.next, tt.confirm)
			wantFields(t, err, tt.fields...)
			stored := f.store.user(t, "alicealice")
			if stored.PasswordHash != u.PasswordHash || !stored.MustChangePassword {
				t.Error("a rejected change altered the user")
			}
		})
	}
}

func TestChangePasswordSuccess(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u, err := f.svc.CreateUser(ctx, NewUser{Username: "alice", Role: RoleManager, Password: goodPassword}, true)
	if err != nil {
		t.Fatal(err)
	}
	token, p := f.login(t, "alice", goodPassword)
	otherToken, _ := f.login(t, "alice", goodPassword)
	if !p.User.MustChangePassword {
		t.Fatal("new user should have to change the password")
	}
	f.clock.Advance(time.Hour)

	const next = "brand-new-pass-1"
	if err := f.svc.ChangePassword(ctx, p, goodPassword, next, next); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	stored := f.store.user(t, "alice")
	if stored.MustChangePassword {
		t.Error("MustChangePassword still set")
	}
	if !CheckPassword(stored.PasswordHash, next) || CheckPassword(stored.PasswordHash, goodPassword) {
		t.Error("stored hash does not match the new password only")
	}
	if !stored.PasswordChangedAt.Equal(f.clock.Now()) {
		t.Errorf("PasswordChangedAt = %v", stored.PasswordChangedAt)
	}
	if p.User.MustChangePassword || p.User.PasswordHash != stored.PasswordHash {
		t.Error("principal's user not updated")
	}
	if a := f.store.lastAudit(); a.Action != "user.change_password" || a.ObjectID != u.ID.String() {
		t.Errorf("audit entry %+v", a)
	}
	// The current session stays; the other one ends.
	if _, ok := f.store.session(token); !ok {
		t.Error("current session ended")
	}
	if _, ok := f.store.session(otherToken); ok {
		t.Error("other session still open")
	}
	// Logging in works with the new password only.
	_, _, err = f.svc.Login(ctx, "alice", goodPassword, "", "")
	wantCode(t, err, ports.EUNAUTHORIZED)
	f.login(t, "alice", next)
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()

	t.Run("bad tokens", func(t *testing.T) {
		f := newFixture(t)
		f.createUser(t, "alice", RoleManager, goodPassword)
		f.login(t, "alice", goodPassword)
		for _, tok := range []string{"", "unknown-token", strings.Repeat("x", 101)} {
			p, err := f.svc.Authenticate(ctx, tok)
			if p != nil {
				t.Errorf("token %q: principal %+v", tok, p)
			}
			wantCode(t, err, ports.EUNAUTHORIZED)
		}
	})

	t.Run("valid", func(t *testing.T) {
		f := newFixture(t)
		u := f.createUser(t, "alice", RoleManager, goodPassword)
		token, _ := f.login(t, "alice", goodPassword)
		p, err := f.svc.Authenticate(ctx, token)
		if err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		if p.User.ID != u.ID || p.Session.UserID != u.ID {
			t.Errorf("principal %+v", p)
		}
	})

	t.Run("expired", func(t *testing.T) {
		f := newFixture(t)
		f.createUser(t, "alice", RoleManager, goodPassword)
		token, _ := f.login(t, "alice", goodPassword)
		f.clock.Advance(SessionIdleTimeout - time.Second)
		if _, err := f.svc.Authenticate(ctx, token); err != nil {
			t.Fatalf("just before expiry: %v", err)
		}
		// That request slid the expiry; a full idle period later it has expired.
		f.clock.Advance(SessionIdleTimeout + time.Second)
		p, err := f.svc.Authenticate(ctx, token)
		if p != nil {
			t.Errorf("principal for an expired session: %+v", p)
		}
		wantCode(t, err, ports.EUNAUTHORIZED)
	})

	t.Run("disabled user", func(t *testing.T) {
		f := newFixture(t)
		u := f.createUser(t, "alice", RoleManager, goodPassword)
		token, _ := f.login(t, "alice", goodPassword)
		// Disable behind the service's back, leaving the session in place.
		f.store.modifyUser(u.ID, func(u *User) { u.Disabled = true })
		p, err := f.svc.Authenticate(ctx, token)
		if p != nil {
			t.Errorf("principal for a disabled user: %+v", p)
		}
		wantCode(t, err, ports.EUNAUTHORIZED)
	})

	t.Run("logged out", func(t *testing.T) {
		f := newFixture(t)
		f.createUser(t, "alice", RoleManager, goodPassword)
		token, _ := f.login(t, "alice", goodPassword)
		if err := f.svc.Logout(ctx, token); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Authenticate(ctx, token)
		wantCode(t, err, ports.EUNAUTHORIZED)
		if err := f.svc.Logout(ctx, ""); err != nil {
			t.Errorf("Logout(\"\") = %v", err)
		}
	})
}

func TestAuthenticateSliding(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.createUser(t, "alice", RoleManager, goodPassword)
	token, _ := f.login(t, "alice", goodPassword)
	loginAt := f.clock.Now()

	// Within SessionTouchEvery the session is not written.
	f.clock.Advance(SessionTouchEvery / 2)
	p, err := f.svc.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if f.store.touches != 0 {
		t.Errorf("%d touches, want 0", f.store.touches)
	}
	if !p.Session.ExpiresAt.Equal(loginAt.Add(SessionIdleTimeout)) {
		t.Errorf("ExpiresAt moved to %v", p.Session.ExpiresAt)
	}

	// After it, the expiry slides to a full idle period from now, in the store too.
	f.clock.Advance(10 * time.Hour)
	now := f.clock.Now()
	p, err = f.svc.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if f.store.touches != 1 {
		t.Errorf("%d touches, want 1", f.store.touches)
	}
	sess, _ := f.store.session(token)
	for _, s := range []Session{*p.Session, sess} {
		if !s.LastSeenAt.Equal(now) || !s.ExpiresAt.Equal(now.Add(SessionIdleTimeout)) {
			t.Errorf("session times %v / %v, want %v / %v", s.LastSeenAt, s.ExpiresAt, now, now.Add(SessionIdleTimeout))
		}
	}

	// So the session outlives the idle timeout counted from login, as long as it is used.
	for range 3 {
		f.clock.Advance(SessionIdleTimeout - time.Hour)
		if _, err := f.svc.Authenticate(ctx, token); err != nil {
			t.Fatalf("%v after login: %v", f.clock.Now().Sub(loginAt), err)
		}
	}
	if f.clock.Now().Sub(loginAt) <= SessionIdleTimeout {
		t.Fatal("test did not go past the idle timeout")
	}
}

func TestCan(t *testing.T) {
	f := newFixture(t)
	manager := &Principal{User: &User{Role: RoleManager}}
	if !f.svc.Can(manager, ObjCatalog, ActWrite) {
		t.Error("manager cannot write catalog")
	}
	if f.svc.Can(manager, ObjUsers, ActRead) {
		t.Error("manager can read users")
	}
	if f.svc.Can(nil, ObjDashboard, ActRead) {
		t.Error("nil principal can read the dashboard")
	}
	disabled := &Principal{User: &User{Role: RoleAdmin, Disabled: true}}
	if f.svc.Can(disabled, ObjDashboard, ActRead) {
		t.Error("disabled admin can read the dashboard")
	}
}

func TestLastAdminRulesThroughService(t *testing.T) {
	t.Run("only admin cannot be demoted, disabled or deleted", func(t *testing.T) {
		f := newFixture(t)
		admin := f.createUser(t, "root1", RoleAdmin, goodPassword)
		other := f.createUser(t, "mgr1", RoleManager, goodPassword)
		actx := asActor(other) // acting as someone else, so only the last-admin rule applies

		_, err := f.svc.UpdateUser(actx, admin.ID, UserUpdate{Role: RoleManager})
		wantFields(t, err, "role")
		_, err = f.svc.SetDisabled(actx, admin.ID, true)
		wantCode(t, err, ports.ECONFLICT)
		wantCode(t, f.svc.DeleteUser(actx, admin.ID), ports.ECONFLICT)
		if u := f.store.user(t, "root1"); u.Role != RoleAdmin || u.Disabled {
			t.Errorf("last admin changed: %+v", u)
		}
		// Changing only the display name is fine.
		u, err := f.svc.UpdateUser(actx, admin.ID, UserUpdate{DisplayName: "Root", Role: RoleAdmin})
		if err != nil || u.DisplayName != "Root" {
			t.Errorf("UpdateUser display name = %+v, %v", u, err)
		}
	})

	t.Run("a disabled admin does not count", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.createUser(t, "root1", RoleAdmin, goodPassword)
		a2 := f.createUser(t, "root2", RoleAdmin, goodPassword)
		if _, err := f.svc.SetDisabled(asActor(a1), a2.ID, true); err != nil {
			t.Fatalf("disable second admin: %v", err)
		}
		_, err := f.svc.UpdateUser(asActor(a2), a1.ID, UserUpdate{Role: RoleSupport})
		wantFields(t, err, "role")
		_, err = f.svc.SetDisabled(asActor(a2), a1.ID, true)
		wantCode(t, err, ports.ECONFLICT)
		// The disabled admin can be deleted; re-enabling them is fine.
		if _, err := f.svc.SetDisabled(asActor(a1), a2.ID, false); err != nil {
			t.Fatalf("re-enable: %v", err)
		}
		if err := f.svc.DeleteUser(asActor(a1), a2.ID); err != nil {
			t.Fatalf("delete: %v", err)
		}
	})

	t.Run("with two active admins", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.createUser(t, "root1", RoleAdmin, goodPassword)
		a2 := f.createUser(t, "root2", RoleAdmin, goodPassword)
		// Nobody deletes or disables themselves.
		wantCode(t, f.svc.DeleteUser(asActor(a1), a1.ID), ports.ECONFLICT)
		_, err := f.svc.SetDisabled(asActor(a1), a1.ID, true)
		wantCode(t, err, ports.ECONFLICT)
		// Demoting oneself while another admin remains is fine; then a2 is the last.
		u, err := f.svc.UpdateUser(asActor(a1), a1.ID, UserUpdate{Role: RoleManager})
		if err != nil || u.Role != RoleManager {
			t.Fatalf("self demotion = %+v, %v", u, err)
		}
		_, err = f.svc.UpdateUser(asActor(a1), a2.ID, UserUpdate{Role: RoleManager})
		wantFields(t, err, "role")
	})

	t.Run("disabling ends sessions", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.createUser(t, "root1", RoleAdmin, goodPassword)
		m := f.createUser(t, "mgr1", RoleManager, goodPassword)
		token, _ := f.login(t, "mgr1", goodPassword)
		if _, err := f.svc.SetDisabled(asActor(a1), m.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, ok := f.store.session(token); ok {
			t.Error("session survived disabling")
		}
		if a := f.store.lastAudit(); a.Action != "user.disable" {
			t.Errorf("audit action %q", a.Action)
		}
	})

	t.Run("unknown user", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.createUser(t, "root1", RoleAdmin, goodPassword)
		_, err := f.svc.UpdateUser(asActor(a1), uuid.New(), UserUpdate{Role: RoleManager})
		wantCode(t, err, ports.ENOTFOUND)
		wantCode(t, f.svc.DeleteUser(asActor(a1), uuid.New()), ports.ENOTFOUND)
	})

	t.Run("update validation", func(t *testing.T) {
		f := newFixture(t)
		a1 := f.createUser(t, "root1", RoleAdmin, goodPassword)
		_, err := f.svc.UpdateUser(asActor(a1), a1.ID, UserUpdate{DisplayName: "x\x07", Role: "boss"})
		wantFields(t, err, "display_name", "role")
	})
}

func TestResetPassword(t *testing.T) {
	ctx := context.Background()
	for _, mustChange := range []bool{true, false} {
		f := newFixture(t)
		a1 := f.createUser(t, "root1", RoleAdmin, goodPassword)
		m := f.createUser(t, "mgr1", RoleManager, goodPassword)
		token, _ := f.login(t, "mgr1", goodPassword)

		_, err := f.svc.ResetPassword(asActor(a1), m.ID, "short", mustChange)
		wantFields(t, err, "password")
		_, err = f.svc.ResetPassword(asActor(a1), m.ID, "mgr1mgr1mgr1", mustChange)
		if err != nil {
			t.Fatalf("a password merely containing the username: %v", err)
		}
		_, err = f.svc.ResetPassword(asActor(a1), uuid.New(), "another-pass-1", mustChange)
		wantCode(t, err, ports.ENOTFOUND)

		u, err := f.svc.ResetPassword(asActor(a1), m.ID, "another-pass-1", mustChange)
		if err != nil {
			t.Fatal(err)
		}
		if u.MustChangePassword != mustChange || !CheckPassword(u.PasswordHash, "another-pass-1") {
			t.Errorf("mustChange %v: after reset MustChangePassword = %v, hash matches %v",
				mustChange, u.MustChangePassword, CheckPassword(u.PasswordHash, "another-pass-1"))
		}
		if stored := f.store.user(t, "mgr1"); stored.PasswordHash != u.PasswordHash || stored.MustChangePassword != mustChange {
			t.Errorf("stored user %+v", stored)
		}
		if a := f.store.lastAudit(); a.Action != "user.reset_password" || a.ObjectID != m.ID.String() {
			t.Errorf("audit entry %+v", a)
		}
		if _, ok := f.store.session(token); ok {
			t.Error("session survived the reset")
		}
		_, _, err = f.svc.Login(ctx, "mgr1", goodPassword, "", "")
		wantCode(t, err, ports.EUNAUTHORIZED)
		f.login(t, "mgr1", "another-pass-1")
	}
}

func TestUsersPagination(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, n := range []string{"erin", "alice", "dave", "carol", "bob"} {
		f.createUser(t, n, RoleSupport, goodPassword)
	}
	var got []string
	after := ""
	for range 10 {
		users, next, err := f.svc.Users(ctx, UserFilter{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			got = append(got, u.Username)
		}
		if next == "" {
			break
		}
		after = next
	}
	if want := []string{"alice", "bob", "carol", "dave", "erin"}; !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	// Exactly a full page has no next cursor.
	users, next, err := f.svc.Users(ctx, UserFilter{Limit: 5})
	if err != nil || len(users) != 5 || next != "" {
		t.Errorf("Users(limit 5) = %d users, next %q, %v", len(users), next, err)
	}
	// An invalid limit means the default.
	users, _, err = f.svc.Users(ctx, UserFilter{Limit: -1})
	if err != nil || len(users) != 5 {
		t.Errorf("Users(limit -1) = %d users, %v", len(users), err)
	}
}

func TestCleanUp(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.createUser(t, "alice", RoleManager, goodPassword)
	oldToken, _ := f.login(t, "alice", goodPassword)
	_, _, err := f.svc.Login(ctx, "ghost", "whatever-password", "", "")
	wantCode(t, err, ports.EUNAUTHORIZED)

	f.clock.Advance(25 * time.Hour)
	newToken, _ := f.login(t, "alice", goodPassword)
	if err := f.svc.CleanUp(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.store.session(oldToken); ok {
		t.Error("expired session kept")
	}
	if _, ok := f.store.session(newToken); !ok {
		t.Error("live session deleted")
	}
	if n, _ := f.store.CountLoginFailures(ctx, "ghost", time.Time{}); n != 0 {
		t.Errorf("%d old failures kept", n)
	}
}
