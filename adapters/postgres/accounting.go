package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"orderdesk/modules/accounting"
	"orderdesk/ports"
)

// AccountingStore implements accounting.Store on the accounting schema.
type AccountingStore struct{ db *DB }

// NewAccountingStore returns the ledger store.
func NewAccountingStore(db *DB) *AccountingStore { return &AccountingStore{db: db} }

var _ accounting.Store = (*AccountingStore)(nil)

const entryColumns = `e.id, e.source, e.kind, e.occurred_at, e.posted_at, e.order_id, e.order_number, e.memo, e.posted_by, e.reverses,
	(SELECT r.id FROM accounting.journal_entries r WHERE r.reverses = e.id) AS reversed_by`

const lineColumns = `entry_id, line_no, account, debit_pence, credit_pence, amount_sats, rate_pence`

// lockOrder serializes the postings of one order until tx ends, so that a refund
// reads what the order's customer is owed after every earlier posting.
func lockOrder(ctx context.Context, tx sqlx.ExecerContext, orderID *uuid.UUID) error {
	if orderID == nil {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "accounting.order:"+orderID.String())
	return err
}

// Post records e with the lines build makes, unless e's source is posted already.
func (s *AccountingStore) Post(ctx context.Context, e *accounting.Entry, build func(accounting.Owed) ([]accounting.Line, error)) (*accounting.Entry, bool, error) {
	var out *accounting.Entry
	posted := false
	err := s.db.inTx(ctx, func(tx *Tx) error {
		if err := lockOrder(ctx, tx, e.OrderID); err != nil {
			return fmt.Errorf("lock order: %w", err)
		}
		existing, err := entryWhere(ctx, tx, "e.source = $1", e.Source)
		if err == nil {
			out = existing
			return nil
		} else if ports.ErrorCodeOf(err) != ports.ENOTFOUND {
			return err
		}
		var owed accounting.Owed
		if e.OrderID != nil {
			if err := tx.QueryRowxContext(ctx, `SELECT
				coalesce(sum(l.credit_pence - l.debit_pence) FILTER (WHERE l.account = $2), 0)::bigint,
				coalesce(sum(l.credit_pence - l.debit_pence) FILTER (WHERE l.account = $3), 0)::bigint
				FROM accounting.journal_entries e JOIN accounting.journal_lines l ON l.entry_id = e.id
				WHERE e.order_id = $1 AND l.account IN ($2, $3)`,
				*e.OrderID, accounting.AccRefundsPayable, accounting.AccOverpayments).Scan(&owed.RefundsPayable, &owed.Overpaid); err != nil {
				return fmt.Errorf("what the order is owed: %w", err)
			}
		}
		lines, err := build(owed)
		if err != nil {
			return err
		}
		ne := *e
		ne.Lines = lines
		id, err := insertEntry(ctx, tx, &ne)
		if err != nil {
			return err
		}
		if id == 0 { // posted meanwhile by a transaction that did not lock the order
			out, err = entryWhere(ctx, tx, "e.source = $1", e.Source)
			return err
		}
		out, posted = &ne, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, posted, nil
}

// insertEntry inserts e and its lines and sets their ids; it returns 0 when an entry
// of e's source exists.
func insertEntry(ctx context.Context, tx *Tx, e *accounting.Entry) (int64, error) {
	err := tx.QueryRowxContext(ctx, `INSERT INTO accounting.journal_entries
		(source, kind, occurred_at, order_id, order_number, memo, posted_by, reverses)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (source) DO NOTHING RETURNING id, posted_at`,
		e.Source, e.Kind, e.OccurredAt, e.OrderID, e.OrderNumber, e.Memo, e.PostedBy, e.Reverses).Scan(&e.ID, &e.PostedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		if isUniqueViolation(err) { // reverses is unique too
			return 0, ports.Errorf(ports.ECONFLICT, "That entry was reversed meanwhile.")
		}
		return 0, fmt.Errorf("insert journal entry: %w", err)
	}
	n := len(e.Lines)
	nos, accounts := make([]int16, n), make([]string, n)
	debits, credits, sats, rates := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i := range e.Lines {
		l := &e.Lines[i]
		l.EntryID = e.ID
		nos[i], accounts[i] = int16(l.LineNo), l.Account
		debits[i], credits[i], sats[i], rates[i] = l.DebitPence, l.CreditPence, l.AmountSats, l.RatePence
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO accounting.journal_lines (`+lineColumns+`)
		SELECT $1, * FROM unnest($2::smallint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])`,
		e.ID, nos, accounts, debits, credits, sats, rates); err != nil {
		return 0, fmt.Errorf("insert journal lines: %w", err)
	}
	return e.ID, nil
}

// entryWhere reads the one entry matching cond (with args) and its lines.
func entryWhere(ctx context.Context, q sqlx.QueryerContext, cond string, args ...any) (*accounting.Entry, error) {
	var e accounting.Entry
	if err := sqlx.GetContext(ctx, q, &e, `SELECT `+entryColumns+` FROM accounting.journal_entries e WHERE `+cond, args...); err != nil {
		return nil, notFound(err, "There is no such journal entry.")
	}
	if err := sqlx.SelectContext(ctx, q, &e.Lines, `SELECT `+lineColumns+` FROM accounting.journal_lines WHERE entry_id = $1
		ORDER BY line_no`, e.ID); err != nil {
		return nil, fmt.Errorf("journal lines: %w", err)
	}
	return &e, nil
}

// Reverse records the reversal fn makes of entry id, with its audit entry.
func (s *AccountingStore) Reverse(ctx context.Context, id int64, fn func(*accounting.Entry) (*accounting.Entry, error), audit func(*accounting.Entry) ports.AuditEntry) (*accounting.Entry, error) {
	var out *accounting.Entry
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var orderID *uuid.UUID
		if err := tx.GetContext(ctx, &orderID, `SELECT order_id FROM accounting.journal_entries WHERE id = $1 FOR UPDATE`, id); err != nil {
			return notFound(err, "There is no such journal entry.")
		}
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return fmt.Errorf("lock order: %w", err)
		}
		orig, err := entryWhere(ctx, tx, "e.id = $1", id)
		if err != nil {
			return err
		}
		rev, err := fn(orig)
		if err != nil {
			return err
		}
		revID, err := insertEntry(ctx, tx, rev)
		if err != nil {
			return err
		}
		if revID == 0 {
			return ports.Errorf(ports.ECONFLICT, "Entry %d was reversed meanwhile.", id)
		}
		if err := insertAudit(ctx, tx, audit(rev)); err != nil {
			return err
		}
		out = rev
		return nil
	})
	return out, err
}

// Entry returns one entry with its lines.
func (s *AccountingStore) Entry(ctx context.Context, id int64) (*accounting.Entry, error) {
	return entryWhere(ctx, s.db.q(ctx), "e.id = $1", id)
}

// entriesQuery builds the query of the entries matching f, most recent first: from
// the account's lines when f names an account, else from the entries.
func entriesQuery(f accounting.EntryFilter, withCursor bool) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	from, at, id := "accounting.journal_entries e", "e.occurred_at", "e.id"
	if f.Account != "" {
		from = "accounting.journal_lines a JOIN accounting.journal_entries e ON e.id = a.entry_id"
		at, id = "a.occurred_at", "a.entry_id"
		add("a.account = $%d", f.Account)
	}
	if !f.From.IsZero() {
		add(at+" >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add(at+" < $%d", f.To)
	}
	if f.OrderNumber != "" {
		add("e.order_number = $%d", f.OrderNumber)
	}
	if withCursor && f.After != nil {
		args = append(args, f.After.OccurredAt, f.After.ID)
		where = append(where, fmt.Sprintf("(%s, %s) < ($%d, $%d)", at, id, len(args)-1, len(args)))
	}
	q := " FROM " + from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + " ORDER BY " + at + " DESC, " + id + " DESC", args
}

// Entries returns a keyset page of the entries matching f with their lines.
func (s *AccountingStore) Entries(ctx context.Context, f accounting.EntryFilter) ([]accounting.Entry, error) {
	q, args := entriesQuery(f, true)
	args = append(args, f.Limit)
	var es []accounting.Entry
	db := s.db.q(ctx)
	if err := sqlx.SelectContext(ctx, db, &es, `SELECT `+entryColumns+q+fmt.Sprintf(" LIMIT $%d", len(args)), args...); err != nil {
		return nil, fmt.Errorf("journal entries: %w", err)
	}
	if len(es) == 0 {
		return es, nil
	}
	ids := make([]int64, len(es))
	at := make(map[int64]int, len(es))
	for i, e := range es {
		ids[i], at[e.ID] = e.ID, i
	}
	var lines []accounting.Line
	if err := sqlx.SelectContext(ctx, db, &lines, `SELECT `+lineColumns+` FROM accounting.journal_lines WHERE entry_id = ANY($1)
		ORDER BY entry_id, line_no`, ids); err != nil {
		return nil, fmt.Errorf("journal lines: %w", err)
	}
	for _, l := range lines {
		e := &es[at[l.EntryID]]
		e.Lines = append(e.Lines, l)
	}
	return es, nil
}

// StreamLedger calls fn with every line of the entries matching f as the rows arrive.
func (s *AccountingStore) StreamLedger(ctx context.Context, f accounting.EntryFilter, fn func(accounting.LedgerRow) error) error {
	q, args := entriesQuery(f, false)
	rows, err := s.db.q(ctx).QueryxContext(ctx, `SELECT e.id, e.occurred_at, e.kind, e.source, e.order_id, e.order_number, e.memo,
		e.reverses, l.line_no, l.account, l.debit_pence, l.credit_pence, l.amount_sats, l.rate_pence
		FROM (SELECT e.*`+q+`) e JOIN accounting.journal_lines l ON l.entry_id = e.id
		ORDER BY e.occurred_at DESC, e.id DESC, l.line_no`, args...)
	if err != nil {
		return fmt.Errorf("ledger export: %w", err)
	}
	defer rows.Close()
	var r accounting.LedgerRow
	for rows.Next() {
		var no int16
		if err := rows.Scan(&r.EntryID, &r.OccurredAt, &r.Kind, &r.Source, &r.OrderID, &r.OrderNumber, &r.Memo, &r.Reverses,
			&no, &r.Account, &r.DebitPence, &r.CreditPence, &r.AmountSats, &r.RatePence); err != nil {
			return fmt.Errorf("ledger export: %w", err)
		}
		r.LineNo = int(no)
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ledger export: %w", err)
	}
	return nil
}

// utcDate is the date of t in UTC, as PostgreSQL reads a date.
func utcDate(t time.Time) string { return t.UTC().Format("2006-01-02") }

// AccountTotals sums each account's daily totals in [from, to).
func (s *AccountingStore) AccountTotals(ctx context.Context, from, to time.Time) ([]accounting.AccountTotal, error) {
	var out []accounting.AccountTotal
	q := `SELECT account, sum(debit_pence)::bigint AS debit_pence, sum(credit_pence)::bigint AS credit_pence
		FROM accounting.daily_totals WHERE day < $1::date`
	args := []any{utcDate(to)}
	if !from.IsZero() {
		q += ` AND day >= $2::date`
		args = append(args, utcDate(from))
	}
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, q+` GROUP BY account ORDER BY account`, args...); err != nil {
		return nil, fmt.Errorf("account totals: %w", err)
	}
	return out, nil
}

// DailyTotals returns the accounts' totals per day in [from, to).
func (s *AccountingStore) DailyTotals(ctx context.Context, from, to time.Time, accounts []string) ([]accounting.DayTotal, error) {
	var out []accounting.DayTotal
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `SELECT day, account, debit_pence, credit_pence FROM accounting.daily_totals
		WHERE day >= $1::date AND day < $2::date AND account = ANY($3) ORDER BY day, account`,
		utcDate(from), utcDate(to), accounts); err != nil {
		return nil, fmt.Errorf("daily totals: %w", err)
	}
	for i := range out {
		y, m, d := out[i].Day.Date()
		out[i].Day = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return out, nil
}

// PaidOrders counts the payment entries in [from, to) that were not reversed and sums
// their sales and shipping income. An entry's lines share its date, so the lines are
// found by account and date from one index instead of one lookup per entry.
func (s *AccountingStore) PaidOrders(ctx context.Context, from, to time.Time) (int, int64, error) {
	var n int
	var pence int64
	err := s.db.q(ctx).QueryRowxContext(ctx, `SELECT count(DISTINCT e.id), coalesce(sum(l.credit_pence), 0)::bigint
		FROM accounting.journal_entries e
		LEFT JOIN accounting.journal_lines l ON l.entry_id = e.id AND l.account IN ($3, $4)
			AND l.occurred_at >= $1 AND l.occurred_at < $2
		WHERE e.kind IN ($5, $6) AND e.occurred_at >= $1 AND e.occurred_at < $2
		AND NOT EXISTS (SELECT 1 FROM accounting.journal_entries r WHERE r.reverses = e.id)`,
		from, to, accounting.AccSales, accounting.AccShipping, ports.LedgerPaymentSettled, ports.LedgerLatePaymentAccepted).Scan(&n, &pence)
	if err != nil {
		return 0, 0, fmt.Errorf("paid orders: %w", err)
	}
	return n, pence, nil
}

// CountEntries counts the entries dated in [from, to).
func (s *AccountingStore) CountEntries(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	if err := sqlx.GetContext(ctx, s.db.q(ctx), &n, `SELECT count(*) FROM accounting.journal_entries
		WHERE occurred_at >= $1 AND occurred_at < $2`, from, to); err != nil {
		return 0, fmt.Errorf("count entries: %w", err)
	}
	return n, nil
}

// Accounts reads the chart of accounts as the database holds it.
func (s *AccountingStore) Accounts(ctx context.Context) ([]accounting.Account, error) {
	var out []accounting.Account
	if err := s.db.SelectContext(ctx, &out, `SELECT code, name, type, description, position FROM accounting.accounts ORDER BY position`); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	return out, nil
}
