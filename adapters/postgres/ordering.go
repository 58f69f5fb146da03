package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"orderdesk/modules/ordering"
	"orderdesk/ports"
)

// OrderStore implements ordering.Store on the ordering schema.
type OrderStore struct{ db *DB }

// NewOrderStore returns the order store.
func NewOrderStore(db *DB) *OrderStore { return &OrderStore{db: db} }

var _ ordering.Store = (*OrderStore)(nil)

// q is the transaction of ctx when there is one, else the pool: reads inside a use
// case's transaction see its own writes.
func (db *DB) q(ctx context.Context) queryer {
	if tx, ok := ctx.Value(txKey{}).(*Tx); ok {
		return tx
	}
	return db.DB
}

const shippingColumns = `id, name, service_code, package_format, price_minor, max_weight_grams, express, active, position, created_at, updated_at`

// ListShippingMethods lists methods by position and name.
func (s *OrderStore) ListShippingMethods(ctx context.Context, activeOnly bool) ([]ordering.ShippingMethod, error) {
	var out []ordering.ShippingMethod
	err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `SELECT `+shippingColumns+` FROM ordering.shipping_methods
		WHERE active OR NOT $1 ORDER BY position, lower(name), id`, activeOnly)
	return out, err
}

// ShippingMethodByID returns a method.
func (s *OrderStore) ShippingMethodByID(ctx context.Context, id uuid.UUID) (*ordering.ShippingMethod, error) {
	var m ordering.ShippingMethod
	if err := sqlx.GetContext(ctx, s.db.q(ctx), &m, `SELECT `+shippingColumns+` FROM ordering.shipping_methods WHERE id = $1`, id); err != nil {
		return nil, notFound(err, "No such shipping method.")
	}
	return &m, nil
}

// CreateShippingMethod inserts a method.
func (s *OrderStore) CreateShippingMethod(ctx context.Context, m *ordering.ShippingMethod, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO ordering.shipping_methods (`+shippingColumns+`) VALUES (:id, :name,
			:service_code, :package_format, :price_minor, :max_weight_grams, :express, :active, :position, :created_at, :updated_at)`, m); err != nil {
			return fmt.Errorf("insert shipping method: %w", err)
		}
		return insertAudit(ctx, tx, a)
	})
}

// UpdateShippingMethod saves a method.
func (s *OrderStore) UpdateShippingMethod(ctx context.Context, m *ordering.ShippingMethod, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.NamedExecContext(ctx, `UPDATE ordering.shipping_methods SET name = :name, service_code = :service_code,
			package_format = :package_format, price_minor = :price_minor, max_weight_grams = :max_weight_grams, express = :express,
			active = :active, position = :position, updated_at = :updated_at WHERE id = :id`, m); err != nil {
			return fmt.Errorf("update shipping method: %w", err)
		}
		return insertAudit(ctx, tx, a)
	})
}

// ClaimIdempotencyKey claims the key and reads the shipping method in one statement;
// a key used before is read by a second one, which sees the earlier claim even when
// that committed while the first one waited for it.
func (s *OrderStore) ClaimIdempotencyKey(ctx context.Context, appID uuid.UUID, key string, hash []byte, orderID, methodID uuid.UUID) (*ordering.Claim, error) {
	q := s.db.q(ctx)
	var rows []struct {
		Claimed bool `db:"claimed"`
		ordering.ShippingMethod
	}
	// BEGIN goes with it (Tx.SelectContext).
	if err := q.SelectContext(ctx, &rows, `WITH claim AS (
			INSERT INTO ordering.idempotency_keys (app_id, key, request_hash, order_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (app_id, key) DO NOTHING RETURNING order_id)
		SELECT EXISTS (SELECT 1 FROM claim) AS claimed, `+shippingColumns+` FROM ordering.shipping_methods WHERE id = $5`,
		appID, key, hash, orderID, methodID); err != nil {
		return nil, fmt.Errorf("idempotency key: %w", err)
	}
	c := &ordering.Claim{}
	if len(rows) == 1 {
		c.Claimed, c.Method = rows[0].Claimed, &rows[0].ShippingMethod
	} else {
		// No such method: whether the key was claimed is asked again.
		var n int
		if err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM ordering.idempotency_keys
			WHERE app_id = $1 AND key = $2 AND order_id = $3`, appID, key, orderID); err != nil {
			return nil, fmt.Errorf("idempotency key: %w", err)
		}
		c.Claimed = n == 1
	}
	if c.Claimed {
		return c, nil
	}
	var row struct {
		OrderID uuid.UUID `db:"order_id"`
		Hash    []byte    `db:"request_hash"`
	}
	if err := sqlx.GetContext(ctx, q, &row, `SELECT order_id, request_hash FROM ordering.idempotency_keys WHERE app_id = $1 AND key = $2`,
		appID, key); err != nil {
		return nil, fmt.Errorf("idempotency key: %w", err)
	}
	c.PrevOrder, c.PrevHash = row.OrderID, row.Hash
	return c, nil
}

// DeleteIdempotencyKeysBefore forgets old keys.
func (s *OrderStore) DeleteIdempotencyKeysBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM ordering.idempotency_keys WHERE created_at < $1`, before)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

const orderColumns = `id, number, app_id, identity_ref, status, shipping_method_id, shipping_name, shipping_service_code,
	package_format, express, subtotal_minor, shipping_minor, total_minor, currency, weight_grams, address_sealed, note,
	cancel_reason, refund_due, created_at, updated_at`

const insertHistory = `INSERT INTO ordering.history (order_id, status, at, actor_kind, actor, note)
	VALUES (:order_id, :status, :at, :actor_kind, :actor, :note)`

// CreateOrder inserts an order with its lines and first history entry.
func (s *OrderStore) CreateOrder(ctx context.Context, o *ordering.Order, h ordering.HistoryEntry) error {
	linesJSON, err := json.Marshal(o.Lines)
	if err != nil {
		return fmt.Errorf("insert lines: %w", err)
	}
	// One statement, one round trip: the order (its number drawn in the insert, same
	// form as ordering.FormatNumber), its lines and its first history entry. The lines'
	// foreign key is checked at the end of the statement, when the order exists.
	err = s.db.q(ctx).GetContext(ctx, &o.Number, `WITH o AS (
			INSERT INTO ordering.orders (`+orderColumns+`) VALUES ($1, coalesce(nullif($2, ''), 'OD-' || nextval('ordering.order_number_seq')),
				$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
			RETURNING number),
		l AS (
			INSERT INTO ordering.order_lines (order_id, line_no, product_id, name, sku, unit_price_minor, quantity, weight_unit,
				weight_milli, unit_weight_grams, line_total_minor)
			SELECT $1, l.line_no, l.product_id, l.name, l.sku, l.unit_price_minor, l.quantity, l.weight_unit, l.weight_milli,
				l.unit_weight_grams, l.line_total_minor
			FROM jsonb_to_recordset($22::jsonb) AS l(line_no int, product_id uuid, name text, sku text, unit_price_minor bigint,
				quantity int, weight_unit text, weight_milli bigint, unit_weight_grams int, line_total_minor bigint)),
		h AS (
			INSERT INTO ordering.history (order_id, status, at, actor_kind, actor, note) VALUES ($1, $23, $24, $25, $26, $27))
		SELECT number FROM o`,
		o.ID, o.Number, o.AppID, o.IdentityRef, o.Status, o.ShippingMethodID, o.ShippingName, o.ShippingServiceCode,
		o.PackageFormat, o.Express, o.SubtotalMinor, o.ShippingMinor, o.TotalMinor, o.Currency, o.WeightGrams, o.AddressSealed,
		o.Note, o.CancelReason, o.RefundDue, o.CreatedAt, o.UpdatedAt, linesJSON,
		h.Status, h.At, h.ActorKind, h.Actor, h.Note)
	if err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	return nil
}

// OrderHead returns an order without its lines and history.
func (s *OrderStore) OrderHead(ctx context.Context, id uuid.UUID) (*ordering.Order, error) {
	var o ordering.Order
	if err := sqlx.GetContext(ctx, s.db.q(ctx), &o, `SELECT `+orderColumns+` FROM ordering.orders WHERE id = $1`, id); err != nil {
		return nil, notFound(err, "No such order.")
	}
	return &o, nil
}

// Order returns an order with its lines and history.
func (s *OrderStore) Order(ctx context.Context, id uuid.UUID) (*ordering.Order, error) {
	q := s.db.q(ctx)
	var o ordering.Order
	if err := sqlx.GetContext(ctx, q, &o, `SELECT `+orderColumns+` FROM ordering.orders WHERE id = $1`, id); err != nil {
		return nil, notFound(err, "No such order.")
	}
	if err := s.details(ctx, q, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// Orders returns several orders with their lines and history, in three queries; ids
// that do not exist are left out.
func (s *OrderStore) Orders(ctx context.Context, ids []uuid.UUID) ([]ordering.Order, error) {
	q := s.db.q(ctx)
	var out []ordering.Order
	if err := sqlx.SelectContext(ctx, q, &out, `SELECT `+orderColumns+` FROM ordering.orders WHERE id = ANY($1)`, ids); err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	return out, s.detailsOf(ctx, q, out)
}

func (s *OrderStore) details(ctx context.Context, q sqlx.QueryerContext, o *ordering.Order) error {
	os := []ordering.Order{*o}
	if err := s.detailsOf(ctx, q, os); err != nil {
		return err
	}
	o.Lines, o.History = os[0].Lines, os[0].History
	return nil
}

// detailsOf loads the lines and history of several orders in two queries.
func (s *OrderStore) detailsOf(ctx context.Context, q sqlx.QueryerContext, os []ordering.Order) error {
	if len(os) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(os))
	at := make(map[uuid.UUID]int, len(os))
	for i := range os {
		ids[i], at[os[i].ID] = os[i].ID, i
		os[i].Lines, os[i].History = nil, nil
	}
	var lines []ordering.Line
	if err := sqlx.SelectContext(ctx, q, &lines, `SELECT order_id, line_no, product_id, name, sku, unit_price_minor, quantity,
		weight_unit, weight_milli, unit_weight_grams, line_total_minor FROM ordering.order_lines
		WHERE order_id = ANY($1) ORDER BY order_id, line_no`, ids); err != nil {
		return fmt.Errorf("lines: %w", err)
	}
	for _, l := range lines {
		o := &os[at[l.OrderID]]
		o.Lines = append(o.Lines, l)
	}
	var history []ordering.HistoryEntry
	if err := sqlx.SelectContext(ctx, q, &history, `SELECT id, order_id, status, at, actor_kind, actor, note
		FROM ordering.history WHERE order_id = ANY($1) ORDER BY order_id, id`, ids); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	for _, h := range history {
		o := &os[at[h.OrderID]]
		o.History = append(o.History, h)
	}
	return nil
}

// ListClientOrders returns a keyset page of a client's customer's orders, newest first,
// with their lines and history.
func (s *OrderStore) ListClientOrders(ctx context.Context, f ordering.ClientFilter) ([]ordering.Order, error) {
	args := []any{f.AppID, f.IdentityRef, string(f.Status), f.Limit}
	cond := ""
	if f.After != nil {
		args = append(args, f.After.CreatedAt, f.After.ID)
		cond = " AND (created_at, id) < ($5, $6)"
	}
	var out []ordering.Order
	if err := s.db.SelectContext(ctx, &out, `SELECT `+orderColumns+` FROM ordering.orders
		WHERE app_id = $1 AND identity_ref = $2 AND ($3 = '' OR status = $3)`+cond+`
		ORDER BY created_at DESC, id DESC LIMIT $4`, args...); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return out, s.detailsOf(ctx, s.db, out)
}

// UpdateOrder locks an order and saves fn's change, history entry and audit entry.
func (s *OrderStore) UpdateOrder(ctx context.Context, id uuid.UUID, fn func(*ordering.Order) (ordering.Change, error)) (*ordering.Order, error) {
	var out ordering.Order
	err := s.db.inTx(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &out, `SELECT `+orderColumns+` FROM ordering.orders WHERE id = $1 FOR UPDATE`, id); err != nil {
			return notFound(err, "No such order.")
		}
		ch, err := fn(&out)
		if err != nil {
			return err
		}
		if _, err := tx.NamedExecContext(ctx, `UPDATE ordering.orders SET status = :status, cancel_reason = :cancel_reason,
			refund_due = :refund_due, note = :note, address_sealed = :address_sealed, updated_at = :updated_at WHERE id = :id`, &out); err != nil {
			return fmt.Errorf("update order: %w", err)
		}
		if ch.History != nil {
			if _, err := tx.NamedExecContext(ctx, insertHistory, ch.History); err != nil {
				return fmt.Errorf("insert history: %w", err)
			}
		}
		if ch.Audit != nil {
			if err := insertAudit(ctx, tx, *ch.Audit); err != nil {
				return err
			}
		}
		return s.details(ctx, tx, &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// AddMessage stores a message, with its audit entry when there is one.
func (s *OrderStore) AddMessage(ctx context.Context, m *ordering.Message, audit *ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO ordering.messages (id, order_id, author_kind, author, body, created_at)
			VALUES (:id, :order_id, :author_kind, :author, :body, :created_at)`, m); err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		if audit != nil {
			return insertAudit(ctx, tx, *audit)
		}
		return nil
	})
}

// Messages lists an order's messages, oldest first.
func (s *OrderStore) Messages(ctx context.Context, orderID uuid.UUID) ([]ordering.Message, error) {
	var out []ordering.Message
	err := s.db.SelectContext(ctx, &out, `SELECT id, order_id, author_kind, author, body, created_at FROM ordering.messages
		WHERE order_id = $1 ORDER BY created_at, id`, orderID)
	return out, err
}

// staffWhere builds the WHERE clause of f (without its cursor and, unless withStatus,
// without its status) and appends its arguments to args.
func staffWhere(f ordering.StaffFilter, withStatus bool, args *[]any) string {
	var where []string
	add := func(cond string, v any) {
		*args = append(*args, v)
		where = append(where, fmt.Sprintf(cond, len(*args)))
	}
	if withStatus && f.Status != "" {
		add("status = $%d", string(f.Status))
	}
	if !f.From.IsZero() {
		add("created_at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("created_at < $%d", f.To)
	}
	if f.AppID != nil {
		add("app_id = $%d", *f.AppID)
	}
	if f.IdentityRef != "" {
		add("identity_ref = $%d", f.IdentityRef)
	}
	if f.Number != "" {
		add("number = $%d", f.Number)
	}
	if f.IDs != nil {
		add("id = ANY($%d)", f.IDs)
	}
	if len(where) == 0 {
		return "TRUE"
	}
	return strings.Join(where, " AND ")
}

// ListStaffOrders returns a keyset page of orders matching f, newest first.
func (s *OrderStore) ListStaffOrders(ctx context.Context, f ordering.StaffFilter) ([]ordering.Order, error) {
	var args []any
	where := staffWhere(f, true, &args)
	if f.After != nil {
		args = append(args, f.After.CreatedAt, f.After.ID)
		where += fmt.Sprintf(" AND (created_at, id) < ($%d, $%d)", len(args)-1, len(args))
	}
	args = append(args, f.Limit)
	var out []ordering.Order
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `SELECT `+orderColumns+` FROM ordering.orders WHERE `+where+
		fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args)), args...); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return out, nil
}

// CountByStatus counts the orders matching f, whatever their status, per status.
func (s *OrderStore) CountByStatus(ctx context.Context, f ordering.StaffFilter) (map[ordering.Status]int, error) {
	var args []any
	var rows []struct {
		Status ordering.Status `db:"status"`
		N      int             `db:"n"`
	}
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &rows, `SELECT status, count(*) AS n FROM ordering.orders WHERE `+
		staffWhere(f, false, &args)+` GROUP BY status`, args...); err != nil {
		return nil, fmt.Errorf("count orders: %w", err)
	}
	out := make(map[ordering.Status]int, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// OpenConversations lists the orders whose last message is the customer's, the most
// recent first, after the cursor.
func (s *OrderStore) OpenConversations(ctx context.Context, after *ordering.Cursor, limit int) ([]ordering.Conversation, error) {
	args := []any{limit}
	cond := ""
	if after != nil {
		args = append(args, after.CreatedAt, after.ID)
		cond = " AND (l.created_at, l.order_id) < ($2, $3)"
	}
	var out []ordering.Conversation
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `WITH last AS (
			SELECT DISTINCT ON (order_id) order_id, author_kind, body, created_at,
				count(*) OVER (PARTITION BY order_id) AS messages
			FROM ordering.messages ORDER BY order_id, created_at DESC, id DESC)
		SELECT o.id AS order_id, o.number, o.status, o.app_id, o.identity_ref, l.created_at AS last_at, l.body AS last_body, l.messages
		FROM last l JOIN ordering.orders o ON o.id = l.order_id
		WHERE l.author_kind = 'customer'`+cond+`
		ORDER BY l.created_at DESC, l.order_id DESC LIMIT $1`, args...); err != nil {
		return nil, fmt.Errorf("open conversations: %w", err)
	}
	return out, nil
}

// AddNote stores an internal note with its audit entry.
func (s *OrderStore) AddNote(ctx context.Context, n *ordering.Note, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO ordering.notes (id, order_id, author, body, created_at)
			VALUES (:id, :order_id, :author, :body, :created_at)`, n); err != nil {
			return fmt.Errorf("insert note: %w", err)
		}
		return insertAudit(ctx, tx, a)
	})
}

// Notes lists an order's notes, oldest first.
func (s *OrderStore) Notes(ctx context.Context, orderID uuid.UUID) ([]ordering.Note, error) {
	var out []ordering.Note
	err := s.db.SelectContext(ctx, &out, `SELECT id, order_id, author, body, created_at FROM ordering.notes
		WHERE order_id = $1 ORDER BY created_at, id`, orderID)
	return out, err
}
