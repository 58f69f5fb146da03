package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// StaffStore implements staff.Store on the staff schema.
type StaffStore struct{ db *DB }

// NewStaffStore returns the staff store.
func NewStaffStore(db *DB) *StaffStore { return &StaffStore{db: db} }

var _ staff.Store = (*StaffStore)(nil)

const userColumns = `id, username, display_name, role, password_hash, must_change_password, disabled,
	created_at, updated_at, password_changed_at, last_login_at`

// CreateUser inserts u; a taken username is ECONFLICT.
func (s *StaffStore) CreateUser(ctx context.Context, u *staff.User, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.NamedExecContext(ctx, `INSERT INTO staff.users (`+userColumns+`) VALUES
			(:id, :username, :display_name, :role, :password_hash, :must_change_password, :disabled,
			 :created_at, :updated_at, :password_changed_at, :last_login_at)`, u)
		if isUniqueViolation(err) {
			return ports.Errorf(ports.ECONFLICT, "The username %s is taken.", u.Username)
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return insertAudit(ctx, tx, a)
	})
}

// UserByID returns a user.
func (s *StaffStore) UserByID(ctx context.Context, id uuid.UUID) (*staff.User, error) {
	var u staff.User
	err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM staff.users WHERE id = $1`, id)
	if err != nil {
		return nil, notFound(err, "No such user.")
	}
	return &u, nil
}

// UserByUsername returns a user by normalized username.
func (s *StaffStore) UserByUsername(ctx context.Context, username string) (*staff.User, error) {
	var u staff.User
	err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM staff.users WHERE username = $1`, username)
	if err != nil {
		return nil, notFound(err, "No such user.")
	}
	return &u, nil
}

// ListUsers returns users matching f ordered by username.
func (s *StaffStore) ListUsers(ctx context.Context, f staff.UserFilter) ([]staff.User, error) {
	var out []staff.User
	err := s.db.SelectContext(ctx, &out, `SELECT `+userColumns+` FROM staff.users
		WHERE ($1 = '' OR strpos(username, lower($1)) > 0 OR strpos(lower(display_name), lower($1)) > 0)
		  AND ($2 = '' OR role = $2)
		  AND username > $3
		ORDER BY username LIMIT $4`, f.Query, string(f.Role), f.After, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// CountUsers counts all users.
func (s *StaffStore) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM staff.users`)
	return n, err
}

// CountActiveUsers counts users who are not disabled.
func (s *StaffStore) CountActiveUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM staff.users WHERE NOT disabled`)
	return n, err
}

// lockForChange locks every active admin and then the user, and returns the user and
// the number of other active admins.
func lockForChange(ctx context.Context, tx *Tx, id uuid.UUID) (*staff.User, int, error) {
	var admins []uuid.UUID
	if err := tx.SelectContext(ctx, &admins, `SELECT id FROM staff.users
		WHERE role = 'admin' AND NOT disabled ORDER BY id FOR UPDATE`); err != nil {
		return nil, 0, fmt.Errorf("lock admins: %w", err)
	}
	var u staff.User
	if err := tx.GetContext(ctx, &u, `SELECT `+userColumns+` FROM staff.users WHERE id = $1 FOR UPDATE`, id); err != nil {
		return nil, 0, notFound(err, "No such user.")
	}
	others := 0
	for _, a := range admins {
		if a != id {
			others++
		}
	}
	return &u, others, nil
}

// UpdateUser applies fn to the locked user and saves it.
func (s *StaffStore) UpdateUser(ctx context.Context, id uuid.UUID, fn func(*staff.User, int) error, a ports.AuditEntry) (*staff.User, error) {
	var out *staff.User
	err := s.db.inTx(ctx, func(tx *Tx) error {
		u, others, err := lockForChange(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := fn(u, others); err != nil {
			return err
		}
		if _, err := tx.NamedExecContext(ctx, `UPDATE staff.users SET display_name = :display_name, role = :role,
			password_hash = :password_hash, must_change_password = :must_change_password, disabled = :disabled,
			updated_at = :updated_at, password_changed_at = :password_changed_at WHERE id = :id`, u); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		out = u
		return insertAudit(ctx, tx, a)
	})
	return out, err
}

// DeleteUser deletes the user if fn allows it; sessions go with it (ON DELETE CASCADE).
func (s *StaffStore) DeleteUser(ctx context.Context, id uuid.UUID, fn func(*staff.User, int) error, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		u, others, err := lockForChange(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := fn(u, others); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff.users WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		a.Detail = "username=" + u.Username
		return insertAudit(ctx, tx, a)
	})
}

// SetLastLogin records a login time.
func (s *StaffStore) SetLastLogin(ctx context.Context, id uuid.UUID, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE staff.users SET last_login_at = $2 WHERE id = $1`, id, at)
	return err
}

// CreateSession stores a new session.
func (s *StaffStore) CreateSession(ctx context.Context, sess *staff.Session) error {
	_, err := s.db.NamedExecContext(ctx, `INSERT INTO staff.sessions
		(token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES (:token_hash, :user_id, :csrf_token, :created_at, :last_seen_at, :expires_at, :ip, :user_agent)`, sess)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionByTokenHash returns an unexpired session with its user, in one query.
func (s *StaffStore) SessionByTokenHash(ctx context.Context, hash []byte, now time.Time) (*staff.Session, *staff.User, error) {
	var row struct {
		staff.Session
		staff.User `db:"u"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at, s.last_seen_at,
		s.expires_at, s.ip, s.user_agent,
		u.id AS "u.id", u.username AS "u.username", u.display_name AS "u.display_name", u.role AS "u.role",
		u.password_hash AS "u.password_hash", u.must_change_password AS "u.must_change_password",
		u.disabled AS "u.disabled", u.created_at AS "u.created_at", u.updated_at AS "u.updated_at",
		u.password_changed_at AS "u.password_changed_at", u.last_login_at AS "u.last_login_at"
		FROM staff.sessions s JOIN staff.users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2`, hash, now)
	if err != nil {
		return nil, nil, notFound(err, "No such session.")
	}
	return &row.Session, &row.User, nil
}

// TouchSession slides a session's expiry.
func (s *StaffStore) TouchSession(ctx context.Context, hash []byte, seen, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE staff.sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1`, hash, seen, expires)
	return err
}

// DeleteSession ends one session.
func (s *StaffStore) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM staff.sessions WHERE token_hash = $1`, hash)
	return err
}

// DeleteUserSessions ends every session of a user but the one whose hash is except.
func (s *StaffStore) DeleteUserSessions(ctx context.Context, userID uuid.UUID, except []byte) error {
	if except == nil {
		except = []byte{}
	}
	_, err := s.db.ExecContext(ctx, `DELETE FROM staff.sessions WHERE user_id = $1 AND token_hash <> $2`, userID, except)
	return err
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *StaffStore) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM staff.sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// RecordLoginFailure notes a failed login for a username, existing or not.
func (s *StaffStore) RecordLoginFailure(ctx context.Context, username, ip string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO staff.login_failures (username, ip, at) VALUES ($1, $2, $3)`, username, ip, at)
	return err
}

// CountLoginFailures counts a username's failures since a time.
func (s *StaffStore) CountLoginFailures(ctx context.Context, username string, since time.Time) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM staff.login_failures WHERE username = $1 AND at > $2`, username, since)
	return n, err
}

// ClearLoginFailures forgets a username's failures after a successful login.
func (s *StaffStore) ClearLoginFailures(ctx context.Context, username string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM staff.login_failures WHERE username = $1`, username)
	return err
}

// DeleteLoginFailuresBefore removes failures older than a time.
func (s *StaffStore) DeleteLoginFailuresBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM staff.login_failures WHERE at < $1`, before)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
