package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
	"github.com/jmoiron/sqlx/reflectx"
)

// Tx is one transaction on one connection, shared by every store that a use case's
// context reaches (DB.InTx). Besides sqlx's methods it takes statements whose results
// nobody reads (Later: BEGIN itself, outbox rows, an invoice's new state): they wait
// in the transaction and go to PostgreSQL together in one round trip, with the next
// statement (ExecContext, GetContext, SelectContext) or the COMMIT, or just ahead of
// another kind of query. A read therefore always sees them, and a failure among them
// fails the transaction as a whole.
//
// It is not safe for concurrent use, like a connection.
type Tx struct {
	conn  *sqlx.Conn
	later []laterStmt
	// failed is a failure of queued statements that a QueryRowxContext could not
	// return; the transaction reports it instead of the error it caused.
	failed error
}

type laterStmt struct {
	query string
	args  []any
}

// queryer is a transaction or the pool (DB.q).
type queryer interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

var _ queryer = (*Tx)(nil)

// begin takes a connection from the pool for a transaction. BEGIN itself waits
// (Later) for the first statement that can carry it.
func (db *DB) begin(ctx context.Context) (*Tx, error) {
	conn, err := db.Connx(ctx)
	if err != nil {
		return nil, err
	}
	return &Tx{conn: conn, later: []laterStmt{{query: "BEGIN"}}}, nil
}

// Later queues a statement whose result is not needed; see Tx.
func (tx *Tx) Later(query string, args ...any) {
	tx.later = append(tx.later, laterStmt{query, args})
}

// LaterNamed is Later for a statement with :name parameters taken from arg.
func (tx *Tx) LaterNamed(query string, arg any) error {
	q, args, err := tx.BindNamed(query, arg)
	if err != nil {
		return err
	}
	tx.Later(q, args...)
	return nil
}

// send runs the queued statements, then last when it is not nil, in one round trip,
// and returns last's result.
func (tx *Tx) send(ctx context.Context, last *laterStmt) (sql.Result, error) {
	if len(tx.later) == 0 {
		if last == nil {
			return nil, nil
		}
		return tx.conn.ExecContext(ctx, last.query, last.args...)
	}
	if last == nil {
		return nil, tx.batch(ctx, nil)
	}
	var res sql.Result
	err := tx.batch(ctx, last, func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		res = driver.RowsAffected(tag.RowsAffected())
		return err
	})
	return res, err
}

// batch sends the queued statements, then last when it is not nil, in one round
// trip; read takes last's result. A queued statement's failure names the statement;
// last's is returned as it is, for the caller to recognise.
func (tx *Tx) batch(ctx context.Context, last *laterStmt, read ...func(pgx.BatchResults) error) error {
	stmts := tx.later
	tx.later = nil
	var b pgx.Batch
	for _, s := range stmts {
		b.Queue(s.query, s.args...)
	}
	if last != nil {
		b.Queue(last.query, last.args...)
	}
	return tx.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres: connection of type %T", dc)
		}
		br := c.Conn().SendBatch(ctx, &b)
		for _, s := range stmts {
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				return fmt.Errorf("%s: %w", firstLine(s.query), err)
			}
		}
		for _, r := range read {
			if err := r(br); err != nil {
				_ = br.Close()
				return err
			}
		}
		return br.Close()
	})
}

// flush sends the queued statements before a statement that needs an answer.
func (tx *Tx) flush(ctx context.Context) error {
	_, err := tx.send(ctx, nil)
	return err
}

// commit sends the queued statements and COMMIT together, and gives the connection
// back to the pool.
func (tx *Tx) commit(ctx context.Context) error {
	if _, err := tx.send(ctx, &laterStmt{query: "COMMIT"}); err != nil {
		tx.rollback()
		return err
	}
	return tx.conn.Close()
}

// rollback ends the transaction and gives the connection back; a connection that
// cannot say ROLLBACK is dropped from the pool rather than reused mid-transaction.
func (tx *Tx) rollback() {
	if len(tx.later) > 0 && tx.later[0].query == "BEGIN" { // nothing was sent
		tx.later = nil
		_ = tx.conn.Close()
		return
	}
	tx.later = nil
	if _, err := tx.conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		discard(tx.conn)
		return
	}
	_ = tx.conn.Close()
}

// discard closes conn's connection instead of returning it to the pool.
func discard(conn *sqlx.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

func firstLine(q string) string {
	for i, r := range q {
		if r == '\n' {
			return q[:i]
		}
	}
	return q
}

func (tx *Tx) DriverName() string         { return "pgx" }
func (tx *Tx) Rebind(query string) string { return sqlx.Rebind(sqlx.DOLLAR, query) }
func (tx *Tx) BindNamed(query string, arg any) (string, []any, error) {
	return sqlx.BindNamed(sqlx.DOLLAR, query, arg)
}

// ExecContext runs a statement, with the queued ones in the same round trip.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.send(ctx, &laterStmt{query, args})
}

func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := tx.flush(ctx); err != nil {
		return nil, err
	}
	return tx.conn.QueryContext(ctx, query, args...)
}

func (tx *Tx) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	if err := tx.flush(ctx); err != nil {
		return nil, err
	}
	return tx.conn.QueryxContext(ctx, query, args...)
}

// QueryRowxContext runs a query expected to return at most one row.
func (tx *Tx) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	if err := tx.flush(ctx); err != nil {
		// sqlx.Row keeps its error unexported: the query fails in the aborted
		// transaction, and the transaction reports this error.
		tx.failed = err
	}
	return tx.conn.QueryRowxContext(ctx, query, args...)
}

// GetContext reads one row into dest like sqlx's, with the queued statements in the
// same round trip.
func (tx *Tx) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if len(tx.later) == 0 {
		return tx.conn.GetContext(ctx, dest, query, args...)
	}
	v := reflect.ValueOf(dest)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("postgres: Get into %T, not a pointer", dest)
	}
	found := false
	err := tx.queryWithLater(ctx, query, args, func(rows pgx.Rows) error {
		if !rows.Next() {
			return nil
		}
		found = true
		return scanRow(rows, v.Elem(), tx.conn.Mapper)
	})
	if err == nil && !found {
		return sql.ErrNoRows
	}
	return err
}

// SelectContext reads every row into the slice dest points to like sqlx's, with the
// queued statements in the same round trip.
func (tx *Tx) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if len(tx.later) == 0 {
		return tx.conn.SelectContext(ctx, dest, query, args...)
	}
	v := reflect.ValueOf(dest)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Slice {
		return fmt.Errorf("postgres: Select into %T, not a pointer to a slice", dest)
	}
	slice := v.Elem()
	elem := slice.Type().Elem()
	isPtr := elem.Kind() == reflect.Pointer
	if isPtr {
		elem = elem.Elem()
	}
	return tx.queryWithLater(ctx, query, args, func(rows pgx.Rows) error {
		for rows.Next() {
			item := reflect.New(elem)
			if err := scanRow(rows, item.Elem(), tx.conn.Mapper); err != nil {
				return err
			}
			if isPtr {
				slice.Set(reflect.Append(slice, item))
			} else {
				slice.Set(reflect.Append(slice, item.Elem()))
			}
		}
		return nil
	})
}

// queryWithLater sends the queued statements and query in one round trip and hands
// query's rows to read.
func (tx *Tx) queryWithLater(ctx context.Context, query string, args []any, read func(pgx.Rows) error) error {
	return tx.batch(ctx, &laterStmt{query, args}, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		err = read(rows)
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		return err
	})
}

var scannerType = reflect.TypeFor[sql.Scanner]()

// scanRow scans the current row into v as sqlx would: a struct's fields by their db
// names, anything else (a scalar, a type that scans itself) as the one column.
func scanRow(rows pgx.Rows, v reflect.Value, m *reflectx.Mapper) error {
	t := v.Type()
	if reflect.PointerTo(t).Implements(scannerType) || t.Kind() != reflect.Struct || len(m.TypeMap(t).Index) == 0 {
		return rows.Scan(v.Addr().Interface())
	}
	fields := rows.FieldDescriptions()
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	targets := make([]any, len(names))
	for i, trav := range m.TraversalsByName(t, names) {
		if len(trav) == 0 {
			return fmt.Errorf("postgres: missing destination name %s in %s", names[i], t)
		}
		targets[i] = reflectx.FieldByIndexes(v, trav).Addr().Interface()
	}
	return rows.Scan(targets...)
}

func (tx *Tx) NamedExecContext(ctx context.Context, query string, arg any) (sql.Result, error) {
	return sqlx.NamedExecContext(ctx, tx, query, arg)
}

func (tx *Tx) NamedQueryContext(ctx context.Context, query string, arg any) (*sqlx.Rows, error) {
	return sqlx.NamedQueryContext(ctx, tx, query, arg)
}
