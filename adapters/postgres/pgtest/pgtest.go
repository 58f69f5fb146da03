// Package pgtest gives tests a throwaway PostgreSQL database, created fresh and
// migrated, and dropped when the test package ends. The server is TEST_DATABASE_URL,
// by default the local one (postgres://postgres@127.0.0.1:5432/postgres).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"orderdesk/adapters/postgres"
)

// ServerURL is the URL of the maintenance database tests create their databases from.
func ServerURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Create makes a new database, applies the migrations and returns its URL and a
// function that drops it.
func Create(ctx context.Context) (string, func(), error) {
	base := ServerURL()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "orderdesk_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create test database (is PostgreSQL running at %s?): %w", base, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	dbURL := u.String()
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}
	if err := postgres.Migrate(dbURL); err != nil {
		drop()
		return "", nil, err
	}
	return dbURL, drop, nil
}
