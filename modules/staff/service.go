package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// Session is a logged-in staff user's session. The token itself is only ever in the
// cookie; the store keeps its SHA-256.
type Session struct {
	TokenHash  []byte    `db:"token_hash"`
	UserID     uuid.UUID `db:"user_id"`
	CSRFToken  string    `db:"csrf_token"`
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	ExpiresAt  time.Time `db:"expires_at"`
	IP         string    `db:"ip"`
	UserAgent  string    `db:"user_agent"`
}

// UserFilter selects users for the list.
type UserFilter struct {
	Query string // part of username or display name
	Role  Role
	After string // keyset cursor: usernames after this one
	Limit int
}

// Store keeps users, sessions and login failures. Methods that change state write the
// audit entry they are given in the same transaction. Errors: ENOTFOUND for a missing
// user or session, ECONFLICT for a username already taken.
type Store interface {
	CreateUser(ctx context.Context, u *User, a ports.AuditEntry) error
	UserByID(ctx context.Context, id uuid.UUID) (*User, error)
	UserByUsername(ctx context.Context, username string) (*User, error)
	ListUsers(ctx context.Context, f UserFilter) ([]User, error)
	CountUsers(ctx context.Context) (int, error)
	// CountActiveUsers counts the users who are not disabled.
	CountActiveUsers(ctx context.Context) (int, error)
	// UpdateUser locks the user and every active admin, calls fn with the user and the
	// number of other active admins, and saves the user unless fn fails. The lock makes
	// the "last active admin" rule hold under concurrent changes.
	UpdateUser(ctx context.Context, id uuid.UUID, fn func(u *User, otherActiveAdmins int) error, a ports.AuditEntry) (*User, error)
	// DeleteUser is UpdateUser's counterpart for deletion: fn decides, then the user and
	// their sessions are deleted.
	DeleteUser(ctx context.Context, id uuid.UUID, fn func(u *User, otherActiveAdmins int) error, a ports.AuditEntry) error
	// SetLastLogin records a successful login.
	SetLastLogin(ctx context.Context, id uuid.UUID, at time.Time) error

	CreateSession(ctx context.Context, s *Session) error
	// SessionByTokenHash returns an unexpired session and its user.
	SessionByTokenHash(ctx context.Context, hash []byte, now time.Time) (*Session, *User, error)
	TouchSession(ctx context.Context, hash []byte, seen, expires time.Time) error
	DeleteSession(ctx context.Context, hash []byte) error
	DeleteUserSessions(ctx context.Context, userID uuid.UUID, except []byte) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)

	RecordLoginFailure(ctx context.Context, username, ip string, at time.Time) error
	CountLoginFailures(ctx context.Context, username string, since time.Time) (int, error)
	ClearLoginFailures(ctx context.Context, username string) error
	DeleteLoginFailuresBefore(ctx context.Context, before time.Time) (int64, error)
}

// Login throttling and session lifetimes.
const (
	MaxLoginFailures    = 5
	LoginFailureWindow  = 15 * time.Minute
	SessionIdleTimeout  = 12 * time.Hour
	SessionTouchEvery   = time.Minute
	DefaultAdminName    = "admin"
	DefaultAdminPasswd  = "admin"
	sessionTokenBytes   = 32
	csrfTokenBytes      = 32
	errInvalidLoginText = "Wrong username or password."
)

// Service is the staff module's application service.
type Service struct {
	store  Store
	policy *Policy
	clock  ports.Clock
	params PasswordParams
	// dummyHash is checked against when a username does not exist, so that a failed
	// login takes as long whether or not the user exists.
	dummyHash string
}

// NewService returns the staff service.
func NewService(store Store, policy *Policy, clock ports.Clock, params PasswordParams) (*Service, error) {
	dummy, err := HashPassword("not a real password", params)
	if err != nil {
		return nil, err
	}
	return &Service{store: store, policy: policy, clock: clock, params: params, dummyHash: dummy}, nil
}

// Principal is an authenticated staff user with their session.
type Principal struct {
	User    *User
	Session *Session
}

// Can reports whether p may perform act on obj.
func (s *Service) Can(p *Principal, obj, act string) bool {
	return p != nil && !p.User.Disabled && s.policy.Allowed(p.User.Role, obj, act)
}

// NewUser is the input for creating a user.
type NewUser struct {
	Username    string
	DisplayName string
	Role        Role
	Password    string
}

// CreateUser adds a staff user. With mustChange, the user must choose their own
// password at first login.
func (s *Service) CreateUser(ctx context.Context, in NewUser, mustChange bool) (*User, error) {
	in.Username = NormalizeUsername(in.Username)
	var errs []ports.FieldError
	if fe := ValidateUsername(in.Username); fe != nil {
		errs = append(errs, *fe)
	}
	if fe := ValidateDisplayName(in.DisplayName); fe != nil {
		errs = append(errs, *fe)
	}
	if !in.Role.Valid() {
		errs = append(errs, ports.Field("role", "Choose one of the roles."))
	}
	if fe := ValidatePassword("password", in.Password, in.Username); fe != nil {
		errs = append(errs, *fe)
	}
	if err := ports.Invalid(errs...); err != nil {
		return nil, err
	}
	hash, err := HashPassword(in.Password, s.params)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	u := &User{
		ID: uuid.Must(uuid.NewV7()), Username: in.Username, DisplayName: in.DisplayName, Role: in.Role,
		PasswordHash: hash, MustChangePassword: mustChange, CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now,
	}
	err = s.store.CreateUser(ctx, u, ports.Audit(ctx, "user.create", "user", u.ID.String(), fmt.Sprintf("username=%s role=%s", u.Username, u.Role)))
	if ports.ErrorCodeOf(err) == ports.ECONFLICT {
		return nil, ports.Invalid(ports.Field("username", "This username is taken."))
	}
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// EnsureDefaultAdmin creates the user admin/admin, who must change the password at
// first login, when there are no staff users at all. It reports whether it did.
func (s *Service) EnsureDefaultAdmin(ctx context.Context) (bool, error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	hash, err := HashPassword(DefaultAdminPasswd, s.params)
	if err != nil {
		return false, err
	}
	now := s.clock()
	u := &User{ID: uuid.Must(uuid.NewV7()), Username: DefaultAdminName, Role: RoleAdmin, PasswordHash: hash,
		MustChangePassword: true, CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
	err = s.store.CreateUser(ctx, u, ports.Audit(ctx, "user.create", "user", u.ID.String(), "default admin"))
	if ports.ErrorCodeOf(err) == ports.ECONFLICT { // another process won the race
		return false, nil
	}
	return err == nil, err
}

// UserUpdate is the input for editing a user.
type UserUpdate struct {
	DisplayName string
	Role        Role
}

// UpdateUser changes a user's display name and role.
func (s *Service) UpdateUser(ctx context.Context, id uuid.UUID, in UserUpdate) (*User, error) {
	var errs []ports.FieldError
	if fe := ValidateDisplayName(in.DisplayName); fe != nil {
		errs = append(errs, *fe)
	}
	if !in.Role.Valid() {
		errs = append(errs, ports.Field("role", "Choose one of the roles."))
	}
	if err := ports.Invalid(errs...); err != nil {
		return nil, err
	}
	actor := actorID(ctx)
	return s.store.UpdateUser(ctx, id, func(u *User, others int) error {
		if u.Role != in.Role {
			if err := CanChange(actor, u, Change{Kind: ChangeRole, Role: in.Role}, others); err != nil {
				return ports.Invalid(ports.Field("role", ports.ErrorMessageOf(err)))
			}
		}
		u.DisplayName, u.Role, u.UpdatedAt = in.DisplayName, in.Role, s.clock()
		return nil
	}, ports.Audit(ctx, "user.update", "user", id.String(), fmt.Sprintf("role=%s display_name=%q", in.Role, in.DisplayName)))
}

// SetDisabled disables or re-enables a user. Disabling ends their sessions.
func (s *Service) SetDisabled(ctx context.Context, id uuid.UUID, disabled bool) (*User, error) {
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	actor := actorID(ctx)
	u, err := s.store.UpdateUser(ctx, id, func(u *User, others int) error {
		if disabled {
			if err := CanChange(actor, u, Change{Kind: ChangeDisable}, others); err != nil {
				return err
			}
		}
		u.Disabled, u.UpdatedAt = disabled, s.clock()
		return nil
	}, ports.Audit(ctx, action, "user", id.String(), ""))
	if err != nil {
		return nil, err
	}
	if disabled {
		if err := s.store.DeleteUserSessions(ctx, id, nil); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// ResetPassword sets a new password chosen by an admin and ends the user's sessions.
// With mustChange, the user must choose their own password at their next login.
func (s *Service) ResetPassword(ctx context.Context, id uuid.UUID, password string, mustChange bool) (*User, error) {
	target, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if fe := ValidatePassword("password", password, target.Username); fe != nil {
		return nil, ports.Invalid(*fe)
	}
	hash, err := HashPassword(password, s.params)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UpdateUser(ctx, id, func(u *User, _ int) error {
		now := s.clock()
		u.PasswordHash, u.MustChangePassword, u.PasswordChangedAt, u.UpdatedAt = hash, mustChange, now, now
		return nil
	}, ports.Audit(ctx, "user.reset_password", "user", id.String(), ""))
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteUserSessions(ctx, id, nil); err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteUser removes a user and their sessions.
func (s *Service) DeleteUser(ctx context.Context, id uuid.UUID) error {
	actor := actorID(ctx)
	return s.store.DeleteUser(ctx, id, func(u *User, others int) error {
		return CanChange(actor, u, Change{Kind: ChangeDelete}, others)
	}, ports.Audit(ctx, "user.delete", "user", id.String(), ""))
}

// ChangePassword changes the password of the principal, who must give the current
// one. Other sessions of the user end; the current one stays.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next, confirm string) error {
	var errs []ports.FieldError
	if !CheckPassword(p.User.PasswordHash, current) {
		errs = append(errs, ports.Field("current_password", "The current password is wrong."))
	}
	if fe := ValidatePassword("new_password", next, p.User.Username); fe != nil {
		errs = append(errs, *fe)
	} else if next == current {
		errs = append(errs, ports.Field("new_password", "Choose a password different from the current one."))
	}
	if confirm != next {
		errs = append(errs, ports.Field("confirm_password", "The two new passwords differ."))
	}
	if err := ports.Invalid(errs...); err != nil {
		return err
	}
	hash, err := HashPassword(next, s.params)
	if err != nil {
		return err
	}
	u, err := s.store.UpdateUser(ctx, p.User.ID, func(u *User, _ int) error {
		now := s.clock()
		u.PasswordHash, u.MustChangePassword, u.PasswordChangedAt, u.UpdatedAt = hash, false, now, now
		return nil
	}, ports.Audit(ctx, "user.change_password", "user", p.User.ID.String(), ""))
	if err != nil {
		return err
	}
	p.User = u
	return s.store.DeleteUserSessions(ctx, u.ID, p.Session.TokenHash)
}

// Login checks a username and password and opens a session. It returns the session
// token for the cookie. Failures all read the same, whether or not the user exists;
// after MaxLoginFailures failures for a username within LoginFailureWindow, further
// attempts are refused until the window has passed.
func (s *Service) Login(ctx context.Context, username, password, ip, userAgent string) (string, *Principal, error) {
	username = NormalizeUsername(username)
	var errs []ports.FieldError
	if username == "" {
		errs = append(errs, ports.Field("username", "Enter your username."))
	}
	if password == "" {
		errs = append(errs, ports.Field("password", "Enter your password."))
	}
	if len(username) > 200 || len(password) > 1024 {
		errs = append(errs, ports.Field("username", errInvalidLoginText))
	}
	if err := ports.Invalid(errs...); err != nil {
		return "", nil, err
	}
	now := s.clock()
	fails, err := s.store.CountLoginFailures(ctx, username, now.Add(-LoginFailureWindow))
	if err != nil {
		return "", nil, err
	}
	if fails >= MaxLoginFailures {
		return "", nil, ports.Errorf(ports.ETOOMANY, "Too many failed attempts for this username. Try again in 15 minutes.")
	}
	u, err := s.store.UserByUsername(ctx, username)
	if err != nil && ports.ErrorCodeOf(err) != ports.ENOTFOUND {
		return "", nil, err
	}
	ok := false
	if u != nil {
		ok = CheckPassword(u.PasswordHash, password) && !u.Disabled
	} else {
		CheckPassword(s.dummyHash, password)
	}
	if !ok {
		if err := s.store.RecordLoginFailure(ctx, username, ip, now); err != nil {
			return "", nil, err
		}
		return "", nil, ports.Errorf(ports.EUNAUTHORIZED, errInvalidLoginText)
	}
	if err := s.store.ClearLoginFailures(ctx, username); err != nil {
		return "", nil, err
	}
	token, sess, err := s.newSession(u.ID, ip, userAgent, now)
	if err != nil {
		return "", nil, err
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", nil, err
	}
	if err := s.store.SetLastLogin(ctx, u.ID, now); err != nil {
		return "", nil, err
	}
	return token, &Principal{User: u, Session: sess}, nil
}

func (s *Service) newSession(userID uuid.UUID, ip, ua string, now time.Time) (string, *Session, error) {
	token, err := randomToken(sessionTokenBytes)
	if err != nil {
		return "", nil, err
	}
	csrf, err := randomToken(csrfTokenBytes)
	if err != nil {
		return "", nil, err
	}
	if len(ua) > 512 {
		ua = ua[:512]
	}
	return token, &Session{TokenHash: HashToken(token), UserID: userID, CSRFToken: csrf, CreatedAt: now,
		LastSeenAt: now, ExpiresAt: now.Add(SessionIdleTimeout), IP: ip, UserAgent: ua}, nil
}

// Authenticate returns the principal of a session token, or EUNAUTHORIZED when the
// token is unknown, expired, or its user disabled. It slides the session's expiry.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, ports.Errorf(ports.EUNAUTHORIZED, "Please log in.")
	}
	now := s.clock()
	hash := HashToken(token)
	sess, u, err := s.store.SessionByTokenHash(ctx, hash, now)
	if ports.ErrorCodeOf(err) == ports.ENOTFOUND || (err == nil && u.Disabled) {
		return nil, ports.Errorf(ports.EUNAUTHORIZED, "Please log in.")
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(sess.LastSeenAt) >= SessionTouchEvery {
		sess.LastSeenAt, sess.ExpiresAt = now, now.Add(SessionIdleTimeout)
		if err := s.store.TouchSession(ctx, hash, sess.LastSeenAt, sess.ExpiresAt); err != nil {
			return nil, err
		}
	}
	return &Principal{User: u, Session: sess}, nil
}

// Logout ends the session of token.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.store.DeleteSession(ctx, HashToken(token))
}

// CountActiveUsers counts the staff users who may log in (the dashboard's figure).
func (s *Service) CountActiveUsers(ctx context.Context) (int, error) {
	return s.store.CountActiveUsers(ctx)
}

// User returns a user by id.
func (s *Service) User(ctx context.Context, id uuid.UUID) (*User, error) {
	return s.store.UserByID(ctx, id)
}

// Users lists users matching f, by username. The second result is the cursor of the
// next page, or "" at the end.
func (s *Service) Users(ctx context.Context, f UserFilter) ([]User, string, error) {
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 50
	}
	want := f.Limit
	f.Limit++
	users, err := s.store.ListUsers(ctx, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(users) > want {
		users = users[:want]
		next = users[want-1].Username
	}
	return users, next, nil
}

// CleanUp deletes expired sessions and old login failures; a periodic job runs it.
func (s *Service) CleanUp(ctx context.Context) error {
	now := s.clock()
	if _, err := s.store.DeleteExpiredSessions(ctx, now); err != nil {
		return fmt.Errorf("expired sessions: %w", err)
	}
	if _, err := s.store.DeleteLoginFailuresBefore(ctx, now.Add(-24*time.Hour)); err != nil {
		return fmt.Errorf("old login failures: %w", err)
	}
	return nil
}

// HashToken is the stored form of a session token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func actorID(ctx context.Context) uuid.UUID {
	a := ports.ActorFrom(ctx)
	id, err := uuid.Parse(a.ID)
	if err != nil || a.Kind != ports.ActorStaff {
		return uuid.Nil
	}
	return id
}
