package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"orderdesk/modules/clients"
	"orderdesk/ports"
)

// ClientStore implements clients.Store on the clients schema.
type ClientStore struct{ db *DB }

// NewClientStore returns the client app store.
func NewClientStore(db *DB) *ClientStore { return &ClientStore{db: db} }

var _ clients.Store = (*ClientStore)(nil)

// clientConn is what reads need of a pool or a transaction.
type clientConn interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// conn returns the transaction carried by ctx (DB.InTx), so that reads inside a
// caller's transaction see its writes, or else the pool.
func (s *ClientStore) conn(ctx context.Context) clientConn {
	if tx, ok := ctx.Value(txKey{}).(*Tx); ok {
		return tx
	}
	return s.db.DB
}

// CreateApp inserts an app with its first key and optional webhook.
func (s *ClientStore) CreateApp(ctx context.Context, app *clients.App, key *clients.Key, hook *clients.Webhook, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.NamedExecContext(ctx, `INSERT INTO clients.apps (id, name, disabled, created_at) VALUES (:id, :name, :disabled, :created_at)`, app)
		if isUniqueViolation(err) {
			return ports.Errorf(ports.ECONFLICT, "The name %s is taken.", app.Name)
		}
		if err != nil {
			return fmt.Errorf("insert app: %w", err)
		}
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO clients.api_keys (id, app_id, prefix, hash, created_at)
			VALUES (:id, :app_id, :prefix, :hash, :created_at)`, key); err != nil {
			return fmt.Errorf("insert key: %w", err)
		}
		if hook != nil {
			if _, err := tx.NamedExecContext(ctx, `INSERT INTO clients.webhooks (id, app_id, url, secret, active, created_at)
				VALUES (:id, :app_id, :url, :secret, :active, :created_at)`, hook); err != nil {
				return fmt.Errorf("insert webhook: %w", err)
			}
		}
		return insertAudit(ctx, tx, a)
	})
}

// AppByKeyHash finds the enabled app of an unrevoked key and, in the same statement,
// notes the key's use when the last note is more than a minute old (so a busy key
// does not write on every request).
func (s *ClientStore) AppByKeyHash(ctx context.Context, hash []byte) (*clients.App, error) {
	var row struct {
		clients.App
		KeyID    uuid.UUID  `db:"key_id"`
		LastUsed *time.Time `db:"last_used_at"`
		Stale    bool       `db:"stale"`
	}
	// A plain read on every request; the last-used time is written at most once a
	// minute per key, by a separate statement.
	err := s.db.GetContext(ctx, &row, `SELECT a.id, a.name, a.disabled, a.created_at, k.id AS key_id, k.last_used_at,
		(k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute') AS stale
		FROM clients.api_keys k JOIN clients.apps a ON a.id = k.app_id
		WHERE k.hash = $1 AND k.revoked_at IS NULL AND NOT a.disabled`, hash)
	if err != nil {
		return nil, notFound(err, "No such key.")
	}
	if row.Stale {
		if _, err := s.db.ExecContext(ctx, `UPDATE clients.api_keys SET last_used_at = now() WHERE id = $1
			AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, row.KeyID); err != nil {
			return nil, fmt.Errorf("key last used: %w", err)
		}
	}
	return &row.App, nil
}

// ListApps lists apps by name.
func (s *ClientStore) ListApps(ctx context.Context) ([]clients.App, error) {
	var out []clients.App
	err := s.db.SelectContext(ctx, &out, `SELECT id, name, disabled, created_at FROM clients.apps ORDER BY lower(name)`)
	return out, err
}

// App returns one app.
func (s *ClientStore) App(ctx context.Context, id uuid.UUID) (*clients.App, error) {
	var app clients.App
	if err := s.conn(ctx).GetContext(ctx, &app, `SELECT id, name, disabled, created_at FROM clients.apps WHERE id = $1`, id); err != nil {
		return nil, notFound(err, "No such client app.")
	}
	return &app, nil
}

// SetAppDisabled disables or enables an app.
func (s *ClientStore) SetAppDisabled(ctx context.Context, id uuid.UUID, disabled bool, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE clients.apps SET disabled = $2 WHERE id = $1`, id, disabled)
		if err != nil {
			return fmt.Errorf("update app: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ports.Errorf(ports.ENOTFOUND, "No such client app.")
		}
		return insertAudit(ctx, tx, a)
	})
}

const keyColumns = `id, app_id, prefix, hash, created_at, revoked_at, last_used_at`

// ListKeys lists an app's keys, newest first.
func (s *ClientStore) ListKeys(ctx context.Context, appID uuid.UUID) ([]clients.Key, error) {
	var out []clients.Key
	err := s.conn(ctx).SelectContext(ctx, &out, `SELECT `+keyColumns+` FROM clients.api_keys WHERE app_id = $1 ORDER BY created_at DESC, id DESC`, appID)
	return out, err
}

// AddKey inserts a key.
func (s *ClientStore) AddKey(ctx context.Context, key *clients.Key, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO clients.api_keys (id, app_id, prefix, hash, created_at)
			VALUES (:id, :app_id, :prefix, :hash, :created_at)`, key); err != nil {
			return fmt.Errorf("insert key: %w", err)
		}
		return insertAudit(ctx, tx, a)
	})
}

// RevokeKey revokes an app's key.
func (s *ClientStore) RevokeKey(ctx context.Context, appID, keyID uuid.UUID, at time.Time, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		var revoked *time.Time
		err := tx.GetContext(ctx, &revoked, `SELECT revoked_at FROM clients.api_keys WHERE id = $1 AND app_id = $2 FOR UPDATE`, keyID, appID)
		if err != nil {
			return notFound(err, "No such API key.")
		}
		if revoked != nil {
			return ports.Errorf(ports.ECONFLICT, "This API key is already revoked.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE clients.api_keys SET revoked_at = $2 WHERE id = $1`, keyID, at); err != nil {
			return fmt.Errorf("revoke key: %w", err)
		}
		return insertAudit(ctx, tx, a)
	})
}

const webhookColumns = `id, app_id, url, secret, active, created_at, secret_rotated_at, deleted_at`

// ListWebhooks lists an app's webhooks that are not deleted.
func (s *ClientStore) ListWebhooks(ctx context.Context, appID uuid.UUID) ([]clients.Webhook, error) {
	var out []clients.Webhook
	err := s.conn(ctx).SelectContext(ctx, &out, `SELECT `+webhookColumns+` FROM clients.webhooks
		WHERE app_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, appID)
	return out, err
}

// AddWebhook inserts a webhook.
func (s *ClientStore) AddWebhook(ctx context.Context, hook *clients.Webhook, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO clients.webhooks (id, app_id, url, secret, active, created_at)
			VALUES (:id, :app_id, :url, :secret, :active, :created_at)`, hook); err != nil {
			return fmt.Errorf("insert webhook: %w", err)
		}
		return insertAudit(ctx, tx, a)
	})
}

// UpdateWebhook changes a webhook under a row lock.
func (s *ClientStore) UpdateWebhook(ctx context.Context, appID, hookID uuid.UUID, fn func(*clients.Webhook) error, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		var h clients.Webhook
		err := tx.GetContext(ctx, &h, `SELECT `+webhookColumns+` FROM clients.webhooks
			WHERE id = $1 AND app_id = $2 AND deleted_at IS NULL FOR UPDATE`, hookID, appID)
		if err != nil {
			return notFound(err, "No such webhook.")
		}
		if err := fn(&h); err != nil {
			return err
		}
		if _, err := tx.NamedExecContext(ctx, `UPDATE clients.webhooks SET url = :url, secret = :secret, active = :active,
			secret_rotated_at = :secret_rotated_at, deleted_at = :deleted_at WHERE id = :id`, &h); err != nil {
			return fmt.Errorf("update webhook: %w", err)
		}
		return insertAudit(ctx, tx, a)
	})
}

const insertDelivery = `INSERT INTO clients.deliveries (id, event_id, webhook_id, app_id, subject, status, created_at, give_up_at)
	VALUES (:id, :event_id, :webhook_id, :app_id, :subject, :status, :created_at, :give_up_at) RETURNING seq`

func addDelivery(ctx context.Context, tx *Tx, d *clients.Delivery) error {
	rows, err := tx.NamedQueryContext(ctx, insertDelivery, d)
	if err != nil {
		return fmt.Errorf("insert delivery: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&d.Seq); err != nil {
			return fmt.Errorf("insert delivery: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert delivery: %w", err)
	}
	rows.Close()
	return addJobs(ctx, tx, clients.DeliveryJob(d.ID))
}

// AddEvent records an event with its deliveries and their outbox jobs.
func (s *ClientStore) AddEvent(ctx context.Context, ev *clients.Event, newDelivery func(*clients.Webhook) *clients.Delivery) ([]clients.Delivery, error) {
	var out []clients.Delivery
	err := s.db.inTx(ctx, func(tx *Tx) error {
		// One round trip: the event is inserted only for an existing app, whose
		// disabled flag comes back with its active webhooks (one row with no webhook
		// when it has none; no row when there is no such app).
		var rows []struct {
			Disabled        bool       `db:"disabled"`
			ID              *uuid.UUID `db:"id"`
			AppID           *uuid.UUID `db:"app_id"`
			URL             *string    `db:"url"`
			Secret          *string    `db:"secret"`
			Active          *bool      `db:"active"`
			CreatedAt       *time.Time `db:"created_at"`
			SecretRotatedAt *time.Time `db:"secret_rotated_at"`
			DeletedAt       *time.Time `db:"deleted_at"`
		}
		if err := tx.SelectContext(ctx, &rows, `WITH a AS (SELECT disabled FROM clients.apps WHERE id = $2),
			ins AS (INSERT INTO clients.events (id, app_id, type, subject, created_at, body)
				SELECT $1, $2, $3, $4, $5, $6 FROM a)
			SELECT a.disabled, w.id, w.app_id, w.url, w.secret, w.active, w.created_at, w.secret_rotated_at, w.deleted_at
			FROM a LEFT JOIN clients.webhooks w ON w.app_id = $2 AND w.active AND w.deleted_at IS NULL AND NOT a.disabled
			ORDER BY w.created_at, w.id`, ev.ID, ev.AppID, ev.Type, ev.Subject, ev.CreatedAt, ev.Body); err != nil {
			return fmt.Errorf("add event: %w", err)
		}
		if len(rows) == 0 {
			return ports.Errorf(ports.ENOTFOUND, "No such client app.")
		}
		var hooks []clients.Webhook
		for _, r := range rows {
			if r.ID != nil {
				hooks = append(hooks, clients.Webhook{ID: *r.ID, AppID: *r.AppID, URL: *r.URL, Secret: *r.Secret, Active: *r.Active,
					CreatedAt: *r.CreatedAt, SecretRotatedAt: r.SecretRotatedAt, DeletedAt: r.DeletedAt})
			}
		}
		for i := range hooks {
			d := newDelivery(&hooks[i])
			if err := addDelivery(ctx, tx, d); err != nil {
				return err
			}
			out = append(out, *d)
		}
		return nil
	})
	return out, err
}

// Resend records a new delivery of an old delivery's event to its webhook.
func (s *ClientStore) Resend(ctx context.Context, appID, id uuid.UUID, newDelivery func(*clients.Delivery) *clients.Delivery, a ports.AuditEntry) (*clients.Delivery, error) {
	var d *clients.Delivery
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var old struct {
			clients.Delivery
			Active  bool       `db:"active"`
			Deleted *time.Time `db:"deleted_at"`
		}
		err := tx.GetContext(ctx, &old, `SELECT d.seq, d.id, d.event_id, d.webhook_id, d.app_id, d.subject, d.status, d.attempts,
			d.last_status_code, d.last_error, d.created_at, d.give_up_at, d.last_attempt_at, d.delivered_at, w.active, w.deleted_at
			FROM clients.deliveries d JOIN clients.webhooks w ON w.id = d.webhook_id
			WHERE d.id = $1 AND d.app_id = $2 FOR UPDATE OF w`, id, appID)
		if err != nil {
			return notFound(err, "No such delivery.")
		}
		if !old.Active || old.Deleted != nil {
			return ports.Errorf(ports.ECONFLICT, "The webhook of this delivery is inactive or deleted; activate it first.")
		}
		d = newDelivery(&old.Delivery)
		if err := addDelivery(ctx, tx, d); err != nil {
			return err
		}
		a.Detail = "delivery " + id.String() + " resent as " + d.ID.String()
		return insertAudit(ctx, tx, a)
	})
	return d, err
}

const deliveryColumns = `d.seq, d.id, d.event_id, d.webhook_id, d.app_id, d.subject, d.status, d.attempts, d.last_status_code,
	d.last_error, d.created_at, d.give_up_at, d.last_attempt_at, d.delivered_at, e.type AS event_type, w.url AS webhook_url`

// ListDeliveries lists an app's deliveries newest first.
func (s *ClientStore) ListDeliveries(ctx context.Context, appID uuid.UUID, before int64, limit int) ([]clients.Delivery, error) {
	var out []clients.Delivery
	err := s.conn(ctx).SelectContext(ctx, &out, `SELECT `+deliveryColumns+` FROM clients.deliveries d
		JOIN clients.events e ON e.id = d.event_id JOIN clients.webhooks w ON w.id = d.webhook_id
		WHERE d.app_id = $1 AND ($2 = 0 OR d.seq < $2) ORDER BY d.seq DESC LIMIT $3`, appID, before, limit)
	return out, err
}

// Delivery returns a delivery with its webhook and event.
func (s *ClientStore) Delivery(ctx context.Context, id uuid.UUID) (*clients.Outgoing, error) {
	var row struct {
		clients.Delivery
		HookID         uuid.UUID  `db:"h_id"`
		HookURL        string     `db:"h_url"`
		HookSecret     string     `db:"h_secret"`
		HookActive     bool       `db:"h_active"`
		HookCreated    time.Time  `db:"h_created_at"`
		HookDeletedAt  *time.Time `db:"h_deleted_at"`
		EventSubject   string     `db:"e_subject"`
		EventCreatedAt time.Time  `db:"e_created_at"`
		EventBody      string     `db:"e_body"`
	}
	err := s.conn(ctx).GetContext(ctx, &row, `SELECT `+deliveryColumns+`, w.id AS h_id, w.url AS h_url, w.secret AS h_secret,
		w.active AS h_active, w.created_at AS h_created_at, w.deleted_at AS h_deleted_at,
		e.subject AS e_subject, e.created_at AS e_created_at, e.body AS e_body
		FROM clients.deliveries d JOIN clients.events e ON e.id = d.event_id JOIN clients.webhooks w ON w.id = d.webhook_id
		WHERE d.id = $1`, id)
	if err != nil {
		return nil, notFound(err, "No such delivery.")
	}
	return &clients.Outgoing{
		Delivery: row.Delivery,
		Webhook: clients.Webhook{ID: row.HookID, AppID: row.AppID, URL: row.HookURL, Secret: row.HookSecret, Active: row.HookActive,
			CreatedAt: row.HookCreated, DeletedAt: row.HookDeletedAt},
		Event: clients.Event{ID: row.EventID, AppID: row.AppID, Type: row.EventType, Subject: row.EventSubject,
			CreatedAt: row.EventCreatedAt, Body: row.EventBody},
	}, nil
}

// EarlierPending reports whether an earlier delivery of the same webhook and subject
// is still pending (and not stuck past its give-up time).
func (s *ClientStore) EarlierPending(ctx context.Context, d *clients.Delivery, now time.Time, stuck time.Duration) (bool, error) {
	var exists bool
	err := s.conn(ctx).GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM clients.deliveries
		WHERE webhook_id = $1 AND subject = $2 AND seq < $3 AND status = 'pending' AND give_up_at > $4)`,
		d.WebhookID, d.Subject, d.Seq, now.Add(-stuck))
	return exists, err
}

// NextPending returns the first pending delivery after d of the same webhook and
// subject.
func (s *ClientStore) NextPending(ctx context.Context, d *clients.Delivery) (uuid.UUID, bool, error) {
	var ids []uuid.UUID
	err := sqlx.SelectContext(ctx, s.conn(ctx), &ids, `SELECT id FROM clients.deliveries
		WHERE webhook_id = $1 AND subject = $2 AND seq > $3 AND status = 'pending' ORDER BY seq LIMIT 1`, d.WebhookID, d.Subject, d.Seq)
	if err != nil || len(ids) == 0 {
		return uuid.Nil, false, err
	}
	return ids[0], true, nil
}

// RecordAttempt logs an attempt and updates the delivery.
func (s *ClientStore) RecordAttempt(ctx context.Context, d *clients.Delivery, at clients.Attempt, status clients.DeliveryStatus) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO clients.delivery_attempts (delivery_id, at, status_code, error, duration_ms)
			VALUES (:delivery_id, :at, :status_code, :error, :duration_ms)`, &at); err != nil {
			return fmt.Errorf("insert attempt: %w", err)
		}
		var delivered *time.Time
		if status == clients.DeliveryDelivered {
			delivered = &at.At
		}
		if _, err := tx.ExecContext(ctx, `UPDATE clients.deliveries SET status = $2, attempts = attempts + 1,
			last_status_code = $3, last_error = $4, last_attempt_at = $5, delivered_at = $6 WHERE id = $1`,
			d.ID, status, at.StatusCode, at.Error, at.At, delivered); err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		return nil
	})
}

// SetDeliveryStatus ends a pending delivery without an attempt.
func (s *ClientStore) SetDeliveryStatus(ctx context.Context, id uuid.UUID, status clients.DeliveryStatus, msg string) error {
	_, err := s.conn(ctx).ExecContext(ctx, `UPDATE clients.deliveries SET status = $2, last_error = $3
		WHERE id = $1 AND status = 'pending'`, id, status, msg)
	if err != nil {
		return fmt.Errorf("set delivery status: %w", err)
	}
	return nil
}

// ListAttempts lists a delivery's attempts, oldest first.
func (s *ClientStore) ListAttempts(ctx context.Context, deliveryID uuid.UUID) ([]clients.Attempt, error) {
	var out []clients.Attempt
	err := s.conn(ctx).SelectContext(ctx, &out, `SELECT id, delivery_id, at, status_code, error, duration_ms
		FROM clients.delivery_attempts WHERE delivery_id = $1 ORDER BY id`, deliveryID)
	return out, err
}
