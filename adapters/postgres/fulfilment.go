package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"orderdesk/modules/fulfilment"
	"orderdesk/ports"
)

// ShipmentStore implements fulfilment.Store on the fulfilment schema.
type ShipmentStore struct{ db *DB }

// NewShipmentStore returns the shipment store.
func NewShipmentStore(db *DB) *ShipmentStore { return &ShipmentStore{db: db} }

var _ fulfilment.Store = (*ShipmentStore)(nil)

const shipmentColumns = `order_id, order_number, reference, carrier, service_code, service_name, express, package_format,
	weight_grams, state, push_only, carrier_order_id, tracking_numbers, label_key, error_kind, error_message, attempts, retries,
	picked_by, picked_at, registered_at, shipped_at, delivered_at, next_poll_at, updated_at`

// shipmentRow is a shipment with its tracking numbers as stored (a JSON array).
type shipmentRow struct {
	fulfilment.Shipment
	Numbers []byte `db:"tracking_numbers"`
}

func toRow(sh *fulfilment.Shipment) *shipmentRow {
	numbers := sh.TrackingNumbers
	if numbers == nil {
		numbers = []string{}
	}
	b, _ := json.Marshal(numbers)
	return &shipmentRow{Shipment: *sh, Numbers: b}
}

func (r *shipmentRow) shipment() (*fulfilment.Shipment, error) {
	sh := r.Shipment
	sh.TrackingNumbers = nil
	if err := json.Unmarshal(r.Numbers, &sh.TrackingNumbers); err != nil {
		return nil, fmt.Errorf("tracking numbers of %s: %w", sh.OrderNumber, err)
	}
	return &sh, nil
}

func rowsToShipments(rows []shipmentRow) ([]fulfilment.Shipment, error) {
	out := make([]fulfilment.Shipment, 0, len(rows))
	for i := range rows {
		sh, err := rows[i].shipment()
		if err != nil {
			return nil, err
		}
		out = append(out, *sh)
	}
	return out, nil
}

// CreateShipment inserts sh and its job unless the order has a shipment.
func (s *ShipmentStore) CreateShipment(ctx context.Context, sh *fulfilment.Shipment, job ports.Job) (bool, error) {
	created := false
	err := s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.NamedExecContext(ctx, `INSERT INTO fulfilment.shipments (`+shipmentColumns+`) VALUES (:order_id,
			:order_number, :reference, :carrier, :service_code, :service_name, :express, :package_format, :weight_grams, :state,
			:push_only, :carrier_order_id, :tracking_numbers, :label_key, :error_kind, :error_message, :attempts, :retries,
			:picked_by, :picked_at, :registered_at, :shipped_at, :delivered_at, :next_poll_at, :updated_at)
			ON CONFLICT (order_id) DO NOTHING`, toRow(sh))
		if err != nil {
			return fmt.Errorf("insert shipment: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		created = true
		return addJobs(ctx, tx, job)
	})
	return created, err
}

// Shipment returns an order's shipment.
func (s *ShipmentStore) Shipment(ctx context.Context, orderID uuid.UUID) (*fulfilment.Shipment, error) {
	var r shipmentRow
	if err := sqlx.GetContext(ctx, s.db.q(ctx), &r, `SELECT `+shipmentColumns+` FROM fulfilment.shipments WHERE order_id = $1`,
		orderID); err != nil {
		return nil, notFound(err, "This order has no shipment: it is not picked.")
	}
	return r.shipment()
}

// Shipments returns the shipments of several orders.
func (s *ShipmentStore) Shipments(ctx context.Context, orderIDs []uuid.UUID) (map[uuid.UUID]*fulfilment.Shipment, error) {
	var rows []shipmentRow
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &rows, `SELECT `+shipmentColumns+` FROM fulfilment.shipments
		WHERE order_id = ANY($1)`, orderIDs); err != nil {
		return nil, fmt.Errorf("shipments: %w", err)
	}
	list, err := rowsToShipments(rows)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]*fulfilment.Shipment, len(list))
	for i := range list {
		out[list[i].OrderID] = &list[i]
	}
	return out, nil
}

// ListShipments lists the shipments in progress and those picked since f.Since,
// newest first.
func (s *ShipmentStore) ListShipments(ctx context.Context, f fulfilment.ListFilter) ([]fulfilment.Shipment, error) {
	var rows []shipmentRow
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &rows, `SELECT `+shipmentColumns+` FROM fulfilment.shipments
		WHERE state NOT IN ('shipped', 'delivered', 'cancelled') OR picked_at >= $1
		ORDER BY picked_at DESC, order_id DESC LIMIT $2`, f.Since, f.Limit); err != nil {
		return nil, fmt.Errorf("list shipments: %w", err)
	}
	return rowsToShipments(rows)
}

// UpdateShipment locks a shipment while fn changes it and saves the change with fn's
// jobs and audit entry.
func (s *ShipmentStore) UpdateShipment(ctx context.Context, orderID uuid.UUID, fn func(*fulfilment.Shipment) (fulfilment.Change, error)) (*fulfilment.Shipment, error) {
	var out *fulfilment.Shipment
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var r shipmentRow
		if err := tx.GetContext(ctx, &r, `SELECT `+shipmentColumns+` FROM fulfilment.shipments WHERE order_id = $1 FOR UPDATE`,
			orderID); err != nil {
			return notFound(err, "This order has no shipment: it is not picked.")
		}
		sh, err := r.shipment()
		if err != nil {
			return err
		}
		ch, err := fn(sh)
		if err != nil {
			return err
		}
		if _, err := tx.NamedExecContext(ctx, `UPDATE fulfilment.shipments SET package_format = :package_format,
			weight_grams = :weight_grams, state = :state, push_only = :push_only, carrier_order_id = :carrier_order_id,
			tracking_numbers = :tracking_numbers, label_key = :label_key, error_kind = :error_kind, error_message = :error_message,
			attempts = :attempts, retries = :retries, registered_at = :registered_at, shipped_at = :shipped_at,
			delivered_at = :delivered_at, next_poll_at = :next_poll_at, updated_at = :updated_at
			WHERE order_id = :order_id`, toRow(sh)); err != nil {
			return fmt.Errorf("update shipment: %w", err)
		}
		if err := addJobs(ctx, tx, ch.Jobs...); err != nil {
			return err
		}
		if ch.Audit != nil {
			if err := insertAudit(ctx, tx, *ch.Audit); err != nil {
				return err
			}
		}
		out = sh
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DueForPoll lists shipments in states whose next poll time has come.
func (s *ShipmentStore) DueForPoll(ctx context.Context, states []fulfilment.State, now time.Time, limit int) ([]fulfilment.Shipment, error) {
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	var rows []shipmentRow
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &rows, `SELECT `+shipmentColumns+` FROM fulfilment.shipments
		WHERE state = ANY($1) AND next_poll_at <= $2 ORDER BY next_poll_at, order_id LIMIT $3`, names, now, limit); err != nil {
		return nil, fmt.Errorf("shipments due: %w", err)
	}
	return rowsToShipments(rows)
}

// AddEvents stores tracking events, skipping those stored before.
func (s *ShipmentStore) AddEvents(ctx context.Context, events []fulfilment.TrackingEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO fulfilment.tracking_events (order_id, tracking_number, event_code,
			event_name, location, category, delivered, at) VALUES (:order_id, :tracking_number, :event_code, :event_name,
			:location, :category, :delivered, :at) ON CONFLICT (tracking_number, event_code, at) DO NOTHING`, events); err != nil {
			return fmt.Errorf("tracking events: %w", err)
		}
		return nil
	})
}

// Events lists the tracking events of orders, by order, each order's oldest first.
func (s *ShipmentStore) Events(ctx context.Context, orderIDs ...uuid.UUID) ([]fulfilment.TrackingEvent, error) {
	var out []fulfilment.TrackingEvent
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `SELECT id, order_id, tracking_number, event_code, event_name, location,
		category, delivered, at FROM fulfilment.tracking_events WHERE order_id = ANY($1) ORDER BY order_id, at, id`, orderIDs); err != nil {
		return nil, fmt.Errorf("tracking events: %w", err)
	}
	return out, nil
}
