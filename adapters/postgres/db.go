// Package postgres implements the modules' stores and the platform's outbox and audit
// log on PostgreSQL, with sqlx over pgx. Each module's tables live in its own schema.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/jmoiron/sqlx"

	"orderdesk/migrations"
	"orderdesk/ports"
)

// DB is the PostgreSQL connection pool shared by every store.
type DB struct {
	*sqlx.DB
}

// Open connects to url and checks the connection.
func Open(ctx context.Context, url string) (*DB, error) {
	db, err := sqlx.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &DB{DB: db}, nil
}

// Migrate applies every pending migration. It uses its own connection, because
// golang-migrate closes the one it is given.
func Migrate(url string) error {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	conn, err := sql.Open("pgx", url)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	drv, err := migratepgx.WithInstance(conn, &migratepgx.Config{})
	if err != nil {
		conn.Close()
		return fmt.Errorf("migrate: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		conn.Close()
		return fmt.Errorf("migrate: %w", err)
	}
	defer m.Close()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

type txKey struct{}

// InTx runs fn in one transaction that every store joins when given fn's context:
// this is how one use case changes several modules' tables atomically (placing an
// order reserves stock in the catalog) while each module still writes only its own
// tables through its own store. It commits when fn returns nil.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return db.inTx(ctx, func(tx *Tx) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
}

// inTx runs fn in a transaction, committing when it returns nil. Inside a transaction
// opened by InTx it joins that one instead, which commits or rolls back as a whole.
func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if tx, ok := ctx.Value(txKey{}).(*Tx); ok {
		return fn(tx)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.rollback()
			panic(p)
		}
	}()
	err = fn(tx)
	if tx.failed != nil { // the cause of whatever fn saw
		err = tx.failed
	}
	if err != nil {
		tx.rollback()
		return err
	}
	if err := tx.commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// insertAudit writes an audit entry inside tx.
func insertAudit(ctx context.Context, tx sqlx.ExtContext, a ports.AuditEntry) error {
	if a.Actor == "" {
		a.Actor = a.ActorKind
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO platform.audit_log
		(actor_kind, actor_id, actor, ip, action, object_type, object_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.ActorKind, a.ActorID, a.Actor, a.IP, a.Action, a.ObjectType, a.ObjectID, a.Detail)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// isUniqueViolation reports whether err is a unique constraint violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// notFound maps sql.ErrNoRows to an ENOTFOUND error with message msg.
func notFound(err error, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ports.Errorf(ports.ENOTFOUND, "%s", msg)
	}
	return err
}
