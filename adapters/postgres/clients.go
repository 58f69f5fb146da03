package postgres

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"orderdesk/modules/clients"
	"orderdesk/ports"
)

// ClientStore implements clients.Store on the clients schema.
type ClientStore struct{ db *DB }

// NewClientStore returns the client app store.
func NewClientStore(db *DB) *ClientStore { return &ClientStore{db: db} }

var _ clients.Store = (*ClientStore)(nil)

// CreateApp inserts an app with its first key and optional webhook.
func (s *ClientStore) CreateApp(ctx context.Context, app *clients.App, key *clients.Key, hook *clients.Webhook, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
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

// AppByKeyHash finds the enabled app of an unrevoked key.
func (s *ClientStore) AppByKeyHash(ctx context.Context, hash []byte) (*clients.App, error) {
	var app clients.App
	err := s.db.GetContext(ctx, &app, `SELECT a.id, a.name, a.disabled, a.created_at FROM clients.api_keys k
		JOIN clients.apps a ON a.id = k.app_id WHERE k.hash = $1 AND k.revoked_at IS NULL AND NOT a.disabled`, hash)
	if err != nil {
		return nil, notFound(err, "No such key.")
	}
	return &app, nil
}

// ListApps lists apps by name.
func (s *ClientStore) ListApps(ctx context.Context) ([]clients.App, error) {
	var out []clients.App
	err := s.db.SelectContext(ctx, &out, `SELECT id, name, disabled, created_at FROM clients.apps ORDER BY lower(name)`)
	return out, err
}
