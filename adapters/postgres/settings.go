package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"orderdesk/modules/settings"
	"orderdesk/ports"
)

// SettingsStore implements settings.Store on settings.shop, a single row whose data
// is a JSON object of the saved settings.
type SettingsStore struct{ db *DB }

// NewSettingsStore returns the settings store.
func NewSettingsStore(db *DB) *SettingsStore { return &SettingsStore{db: db} }

var _ settings.Store = (*SettingsStore)(nil)

// LoadSettings returns the saved values by key.
func (s *SettingsStore) LoadSettings(ctx context.Context) (map[string]json.RawMessage, error) {
	var data []byte
	if err := sqlx.GetContext(ctx, s.db.q(ctx), &data, `SELECT data FROM settings.shop`); err != nil {
		return nil, fmt.Errorf("select settings: %w", err)
	}
	return decodeSettings(data)
}

// UpdateSettings locks the row, lets fn decide, and merges fn's values into the saved
// object (keys fn does not return stay as they are) with fn's audit entry.
func (s *SettingsStore) UpdateSettings(ctx context.Context,
	fn func(saved map[string]json.RawMessage) (map[string]json.RawMessage, ports.AuditEntry, error)) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		var data []byte
		if err := tx.GetContext(ctx, &data, `SELECT data FROM settings.shop FOR UPDATE`); err != nil {
			return fmt.Errorf("lock settings: %w", err)
		}
		saved, err := decodeSettings(data)
		if err != nil {
			return err
		}
		values, a, err := fn(saved)
		if err != nil || len(values) == 0 {
			return err
		}
		patch, err := json.Marshal(values)
		if err != nil {
			return fmt.Errorf("encode settings: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE settings.shop SET data = data || $1::jsonb, updated_at = now()`, patch); err != nil {
			return fmt.Errorf("update settings: %w", err)
		}
		return insertAudit(ctx, tx, a)
	})
}

func decodeSettings(data []byte) (map[string]json.RawMessage, error) {
	saved := map[string]json.RawMessage{}
	if err := json.Unmarshal(data, &saved); err != nil {
		return nil, fmt.Errorf("decode settings: %w", err)
	}
	return saved, nil
}
