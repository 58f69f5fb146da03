package postgres

import (
	"context"
	"fmt"
)

// Secret returns the secret called name, creating it with make the first time; every
// process gets the same value however many start at once.
func (db *DB) Secret(ctx context.Context, name string, make func() []byte) ([]byte, error) {
	if _, err := db.ExecContext(ctx, `INSERT INTO platform.secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		name, make()); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	var v []byte
	if err := db.GetContext(ctx, &v, `SELECT value FROM platform.secrets WHERE name = $1`, name); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return v, nil
}
