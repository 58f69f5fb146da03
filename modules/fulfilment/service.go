package fulfilment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// Job types of the module.
const (
	// JobRegister registers a picked order's parcel with the carrier (payload
	// {"orderId"}); enqueued through the outbox by Picked, Retry and FixAddress.
	JobRegister = "fulfilment:shipment.register"
	// JobPollCarrier reads registered orders back from the carrier: push-only orders
	// waiting for their tracking number, orders whose label is missing (periodic).
	JobPollCarrier = "fulfilment:shipment.poll"
	// JobTrack polls the tracking service for shipped parcels (periodic).
	JobTrack = "fulfilment:tracking.poll"
)

// Limits of the module.
const (
	// QueueMax is the most orders the pick queue shows.
	QueueMax = 200
	// BatchMax is the most orders one batch (labels, pick list, slips) takes.
	BatchMax = 100
)

// ShippedNotice is what the client app is told when its order ships.
type ShippedNotice struct {
	Carrier        string
	Service        string
	TrackingNumber string
	TrackingURL    string
}

// Orders is what fulfilment needs of the ordering module. Every method that changes an
// order joins the caller's transaction, records the order's history and tells the
// client app. Errors: ENOTFOUND for a missing order; ECONFLICT when the order's status
// does not allow the change.
type Orders interface {
	Order(ctx context.Context, id uuid.UUID) (*Order, error)
	// Orders returns several orders in the order of ids; ENOTFOUND when one is missing.
	Orders(ctx context.Context, ids []uuid.UUID) ([]Order, error)
	// PickQueue lists the paid orders waiting to be picked, express first, then
	// oldest first, at most limit of them.
	PickQueue(ctx context.Context, limit int) ([]Order, error)
	// Recipient decrypts the order's shipping address for the carrier. It is
	// personal data: never logged.
	Recipient(ctx context.Context, id uuid.UUID) (*ports.Recipient, error)
	// MarkPicked moves a paid order to picked.
	MarkPicked(ctx context.Context, id uuid.UUID, note string) error
	// MarkShipped moves a picked order to shipped and sends the client app
	// order.shipped with the tracking number and URL.
	MarkShipped(ctx context.Context, id uuid.UUID, n ShippedNotice) error
	// MarkDelivered moves a shipped order to delivered.
	MarkDelivered(ctx context.Context, id uuid.UUID) error
	// CancelPicked cancels a picked order on the staff's word (a refund is due). A
	// missing or unfit reason is EINVALID naming "reason".
	CancelPicked(ctx context.Context, id uuid.UUID, reason string) error
	// FixAddress replaces the order's shipping address (EINVALID names the fields:
	// name, line1, line2, line3, city, county, postcode, countryCode, phone).
	FixAddress(ctx context.Context, id uuid.UUID, r ports.Recipient) error
}

// Stock is what fulfilment needs of the catalog. Take and PutBack join the caller's
// transaction and are idempotent.
type Stock interface {
	// Take records that a picked order's items left the shelf: stock on hand goes
	// down by what the order had reserved, with a movement per product.
	Take(ctx context.Context, orderID uuid.UUID, number string) error
	// PutBack returns what Take took to the shelf, with a movement per product.
	PutBack(ctx context.Context, orderID uuid.UUID, number string) error
	// Thumbnails returns the URL path of each product's primary photo, where it has one.
	Thumbnails(ctx context.Context, productIDs []uuid.UUID) (map[uuid.UUID]string, error)
}

// Change is what a change to a shipment records besides the shipment: jobs to enqueue
// through the outbox and the audit entry of a staff action (either may be empty).
type Change struct {
	Jobs  []ports.Job
	Audit *ports.AuditEntry
}

// ListFilter selects shipments for the packers' list: every shipment still in
// progress, and the others picked since Since; newest first.
type ListFilter struct {
	Since time.Time
	Limit int
}

// Store keeps shipments and tracking events. Errors: ENOTFOUND for a missing shipment.
type Store interface {
	// CreateShipment inserts sh and records job in the outbox; when the order has a
	// shipment already it changes nothing and returns created false.
	CreateShipment(ctx context.Context, sh *Shipment, job ports.Job) (created bool, err error)
	Shipment(ctx context.Context, orderID uuid.UUID) (*Shipment, error)
	// Shipments returns the shipments of several orders, by order id.
	Shipments(ctx context.Context, orderIDs []uuid.UUID) (map[uuid.UUID]*Shipment, error)
	ListShipments(ctx context.Context, f ListFilter) ([]Shipment, error)
	// UpdateShipment locks the shipment, lets fn change it, and saves it with fn's
	// jobs and audit entry in one transaction (ctx's when there is one). The lock is
	// held while fn runs: that is what keeps two workers from registering one parcel.
	UpdateShipment(ctx context.Context, orderID uuid.UUID, fn func(sh *Shipment) (Change, error)) (*Shipment, error)
	// DueForPoll lists up to limit shipments in one of states whose next poll time has
	// come, the longest due first.
	DueForPoll(ctx context.Context, states []State, now time.Time, limit int) ([]Shipment, error)
	// AddEvents stores tracking events, skipping any stored before.
	AddEvents(ctx context.Context, events []TrackingEvent) error
	// Events lists the tracking events of the orders, by order, each order's oldest
	// first.
	Events(ctx context.Context, orderIDs ...uuid.UUID) ([]TrackingEvent, error)
}

// Config is what the service is built from.
type Config struct {
	Store   Store
	Tx      ports.Transactor
	Orders  Orders
	Stock   Stock
	Carrier ports.Carrier
	// Tracker reads the carrier's tracking; nil when no tracking service is set up.
	Tracker   ports.Tracker
	Files     ports.FileStore
	Documents Documents
	// PushOnly reports the setting that the carrier account has no label access:
	// orders are registered without a label. Nil means false.
	PushOnly func(ctx context.Context) (bool, error)
	// SlipPrices reports the setting that packing slips show prices. Nil means false.
	SlipPrices func(ctx context.Context) (bool, error)
	Clock      ports.Clock
}

// Service is the fulfilment module's application service.
type Service struct {
	c Config
}

// NewService returns the fulfilment service.
func NewService(c Config) *Service {
	if c.Clock == nil {
		c.Clock = ports.SystemClock
	}
	return &Service{c: c}
}

type registerJob struct {
	OrderID uuid.UUID `json:"orderId"`
}

// registerJobFor is the registration job of an order; each staff retry is a job of its
// own (the queue keeps a finished job's id for a day and would drop a repeat).
func registerJobFor(orderID uuid.UUID, retry int) ports.Job {
	payload, _ := json.Marshal(registerJob{OrderID: orderID})
	id := JobRegister + ":" + orderID.String()
	if retry > 0 {
		id += fmt.Sprintf(":retry-%d", retry)
	}
	return ports.Job{ID: id, Type: JobRegister, Payload: payload, Queue: ports.QueueCritical, MaxRetry: 25}
}

// LabelKey is the file-store key of an order's label.
func LabelKey(orderID uuid.UUID) string { return "labels/" + orderID.String() + ".pdf" }

var referenceUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// Reference is the carrier's order reference for an order number: at most 40
// characters of [A-Za-z0-9_-], as Click & Drop needs for lookups by reference.
func Reference(number string) string {
	r := referenceUnsafe.ReplaceAllString(number, "-")
	if len(r) > 40 {
		r = r[:40]
	}
	return r
}

func (s *Service) audit(ctx context.Context, action string, sh *Shipment, detail string) *ports.AuditEntry {
	a := ports.Audit(ctx, action, "order", sh.OrderID.String(), strings.TrimSpace(sh.OrderNumber+": "+detail))
	return &a
}

// ---- the pick queue and Picked

// Queue lists the paid orders waiting to be picked, express first, then oldest first,
// with their lines and the primary photo of each product.
func (s *Service) Queue(ctx context.Context) ([]Order, error) {
	os, err := s.c.Orders.PickQueue(ctx, QueueMax)
	if err != nil {
		return nil, err
	}
	return os, s.thumbnails(ctx, os)
}

// QueueOrder returns one order as the pick queue shows it.
func (s *Service) QueueOrder(ctx context.Context, id uuid.UUID) (*Order, error) {
	o, err := s.c.Orders.Order(ctx, id)
	if err != nil {
		return nil, err
	}
	os := []Order{*o}
	if err := s.thumbnails(ctx, os); err != nil {
		return nil, err
	}
	return &os[0], nil
}

// thumbnails sets the primary photo of every line's product.
func (s *Service) thumbnails(ctx context.Context, os []Order) error {
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, o := range os {
		for _, l := range o.Lines {
			if !seen[l.ProductID] {
				seen[l.ProductID] = true
				ids = append(ids, l.ProductID)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	thumbs, err := s.c.Stock.Thumbnails(ctx, ids)
	if err != nil {
		return err
	}
	for i := range os {
		for j := range os[i].Lines {
			os[i].Lines[j].Thumbnail = thumbs[os[i].Lines[j].ProductID]
		}
	}
	return nil
}

// Picked is the packer's Picked: in one transaction the order becomes picked, its
// items leave the stock, and its shipment is made with the registration job queued.
// Pressing it again (a double click, a second packer) changes nothing: the existing
// shipment is returned with already true. Only a paid order in the queue can be
// picked (ECONFLICT otherwise); a package the format cannot take is EINVALID naming
// package_format or weight.
func (s *Service) Picked(ctx context.Context, orderID uuid.UUID, in PickInput) (sh *Shipment, already bool, err error) {
	if prev, err := s.c.Store.Shipment(ctx, orderID); err == nil {
		return prev, true, nil
	} else if ports.ErrorCodeOf(err) != ports.ENOTFOUND {
		return nil, false, err
	}
	o, err := s.c.Orders.Order(ctx, orderID)
	if err != nil {
		return nil, false, err
	}
	if o.Status != "processing" {
		// A press an instant ago (a double click, another packer) may have picked it.
		if prev, err := s.c.Store.Shipment(ctx, orderID); err == nil {
			return prev, true, nil
		}
		return nil, false, ports.Errorf(ports.ECONFLICT, "Order %s is %s: only paid orders waiting in the queue can be picked.",
			o.Number, strings.ReplaceAll(o.Status, "_", " "))
	}
	pkg, err := in.Parse(o.Package())
	if err != nil {
		return nil, false, err
	}
	now := s.c.Clock()
	sh = &Shipment{OrderID: o.ID, OrderNumber: o.Number, Reference: Reference(o.Number), CarrierName: s.c.Carrier.Name(),
		ServiceCode: o.ServiceCode, ServiceName: o.ServiceName, Express: o.Express, PackageFormat: pkg.Format,
		WeightGrams: pkg.WeightGrams, State: StateQueued, PickedBy: ports.ActorFrom(ctx).Name, PickedAt: now, UpdatedAt: now}
	note := fmt.Sprintf("Picked: %s, %d g", strings.ToLower(FormatName(pkg.Format)), pkg.WeightGrams)
	if pkg != o.Package() {
		note += fmt.Sprintf(" (the order said %s, %d g)", strings.ToLower(FormatName(o.PackageFormat)), o.WeightGrams)
	}
	created := false
	err = s.c.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if created, err = s.c.Store.CreateShipment(ctx, sh, registerJobFor(o.ID, 0)); err != nil || !created {
			return err
		}
		if err := s.c.Orders.MarkPicked(ctx, o.ID, note); err != nil {
			return err
		}
		return s.c.Stock.Take(ctx, o.ID, o.Number)
	})
	if err != nil {
		return nil, false, err
	}
	if !created {
		prev, err := s.c.Store.Shipment(ctx, orderID)
		return prev, true, err
	}
	return sh, false, nil
}

// ---- registration with the carrier

// RegisterJob is the handler of JobRegister.
func (s *Service) RegisterJob(ctx context.Context, payload []byte) error {
	var j registerJob
	if err := json.Unmarshal(payload, &j); err != nil {
		return fmt.Errorf("register job payload: %w", err)
	}
	return s.Register(ctx, j.OrderID)
}

// Register registers a picked order's parcel with the carrier, or goes on with a
// registration that stopped midway, and ends with exactly one carrier order whatever
// happened before: the attempt is recorded (committed) before the carrier is called,
// the shipment stays locked while the carrier is called, and an attempt after one that
// may have reached the carrier looks the order up by reference before creating it; a
// duplicate reference is adopted the same way. On success the label is stored, the
// tracking numbers saved and the order shipped. A parcel the carrier refuses fails for
// staff to fix; an error is returned (so the job retries with backoff) when the
// carrier did not answer.
func (s *Service) Register(ctx context.Context, orderID uuid.UUID) error {
	_, err := s.c.Store.UpdateShipment(ctx, orderID, func(sh *Shipment) (Change, error) {
		return Change{}, sh.Claim(s.c.Clock())
	})
	switch {
	case errors.Is(err, errSettled), ports.ErrorCodeOf(err) == ports.ENOTFOUND:
		return nil
	case err != nil:
		return err
	}
	return s.advance(ctx, orderID)
}

// advance talks to the carrier under the shipment's lock and takes the shipment as far
// as the carrier's answers allow. It returns the error worth retrying after, if any.
func (s *Service) advance(ctx context.Context, orderID uuid.UUID) error {
	pushOnly := false
	if s.c.PushOnly != nil {
		var err error
		if pushOnly, err = s.c.PushOnly(ctx); err != nil {
			return fmt.Errorf("push-only setting: %w", err)
		}
	}
	o, err := s.c.Orders.Order(ctx, orderID)
	if err != nil {
		return err
	}
	var retry error
	err = s.c.Tx.InTx(ctx, func(ctx context.Context) error {
		_, err := s.c.Store.UpdateShipment(ctx, orderID, func(sh *Shipment) (Change, error) {
			switch sh.State {
			case StateRegistering, StateCreated, StatePushOnly:
			default:
				return Change{}, errSettled
			}
			var err error
			retry, err = s.step(ctx, sh, o, pushOnly)
			return Change{}, err
		})
		return err
	})
	if errors.Is(err, errSettled) {
		return nil
	}
	if err != nil {
		return err
	}
	if retry != nil {
		return fmt.Errorf("shipment %s: %w", o.Number, retry)
	}
	return nil
}

// step is one attempt on a locked shipment. It changes sh to record the outcome and
// returns the carrier's error when the attempt should be retried later; err is for
// failures that must roll the attempt back.
func (s *Service) step(ctx context.Context, sh *Shipment, o *Order, pushOnly bool) (retry, err error) {
	now := s.c.Clock()
	sh.UpdatedAt = now
	co, cerr := s.carrierOrder(ctx, sh, o, pushOnly)
	if cerr != nil {
		if ports.ErrorCodeOf(cerr) == ports.EINVALID {
			sh.State, sh.ErrorKind, sh.ErrorMessage = StateFailed, ErrorInvalid, carrierMessage(cerr)
			sh.NextPollAt = nil
			return nil, nil
		}
		s.transient(sh, cerr, now)
		return cerr, nil
	}
	sh.CarrierOrderID = co.ID
	if sh.RegisteredAt == nil {
		sh.RegisteredAt = &now
	}
	if len(co.TrackingNumbers) > 0 {
		sh.TrackingNumbers = append([]string(nil), co.TrackingNumbers...)
	}
	if sh.State == StateRegistering {
		sh.State = StateCreated
	}
	sh.ErrorKind, sh.ErrorMessage = ErrorNone, ""
	if !sh.PushOnly && !sh.LabelReady() {
		label := co.Label
		if len(label) == 0 {
			var lerr error
			label, lerr = s.c.Carrier.Label(ctx, co.ID)
			switch ports.ErrorCodeOf(lerr) {
			case "":
			case ports.EFORBIDDEN:
				// The account has no label access: staff print the label in Click & Drop.
				sh.PushOnly, label = true, nil
			case ports.EINVALID, ports.ENOTFOUND:
				msg := co.LabelError
				if msg == "" {
					msg = carrierMessage(lerr)
				}
				sh.ErrorKind, sh.ErrorMessage = ErrorLabel, "Royal Mail made no label: "+msg
				s.pollLater(sh, now)
				return nil, nil
			default:
				s.transient(sh, lerr, now)
				return lerr, nil
			}
		}
		if len(label) > 0 {
			if !bytes.HasPrefix(label, []byte("%PDF")) {
				sh.ErrorKind, sh.ErrorMessage = ErrorLabel, "Royal Mail's label is not a PDF file."
				s.pollLater(sh, now)
				return nil, nil
			}
			key := LabelKey(sh.OrderID)
			if _, err := s.c.Files.Put(ctx, key, bytes.NewReader(label)); err != nil {
				return nil, fmt.Errorf("store label: %w", err)
			}
			sh.LabelKey = key
		}
	}
	if sh.TrackingNumber() == "" || !(sh.LabelReady() || sh.PushOnly) {
		if sh.PushOnly {
			sh.State = StatePushOnly
		}
		s.pollLater(sh, now)
		return nil, nil
	}
	sh.State, sh.ShippedAt, sh.NextPollAt = StateShipped, &now, NextTrackingPoll(now, now)
	if s.c.Tracker == nil {
		sh.NextPollAt = nil
	}
	n := sh.TrackingNumber()
	return nil, s.c.Orders.MarkShipped(ctx, sh.OrderID, ShippedNotice{Carrier: Carrier, Service: sh.ServiceCode,
		TrackingNumber: n, TrackingURL: s.c.Carrier.TrackingURL(n)})
}

// pollLater schedules the next read-back of a registered order.
func (s *Service) pollLater(sh *Shipment, now time.Time) {
	next := NextCarrierPoll(now, sh.PickedAt)
	sh.NextPollAt = &next
}

// transient records that the carrier did not answer.
func (s *Service) transient(sh *Shipment, err error, now time.Time) {
	sh.ErrorKind = ErrorTransient
	sh.ErrorMessage = "Royal Mail did not answer (" + clip(err.Error(), 200) + "); OrderDesk tries again after a pause."
	if sh.State == StateCreated || sh.State == StatePushOnly {
		s.pollLater(sh, now)
	}
}

// carrierOrder finds or makes the carrier's order of sh: it looks the order up first
// when an earlier attempt may have made it, creates it otherwise, and adopts the
// carrier's order when the carrier says the reference is taken. An account without
// label access gets the order without a label (push only).
func (s *Service) carrierOrder(ctx context.Context, sh *Shipment, o *Order, pushOnly bool) (*ports.CarrierOrder, error) {
	if sh.MayExistAtCarrier() || sh.State != StateRegistering {
		co, err := s.c.Carrier.OrderByReference(ctx, sh.Reference)
		if err == nil {
			return co, nil
		}
		if ports.ErrorCodeOf(err) != ports.ENOTFOUND {
			return nil, err
		}
		if sh.CarrierOrderID != "" {
			return nil, ports.Errorf(ports.EINVALID, "Royal Mail has no order %s any more (was it deleted in Click & Drop?). "+
				"Retry to register the parcel again.", sh.Reference)
		}
	}
	if pushOnly {
		sh.PushOnly = true
	}
	req, err := s.request(ctx, sh, o)
	if err != nil {
		return nil, err
	}
	for {
		req.WantLabel = !sh.PushOnly
		co, err := s.c.Carrier.CreateOrder(ctx, req)
		switch ports.ErrorCodeOf(err) {
		case "":
			return co, nil
		case ports.ECONFLICT:
			// The reference is taken: the order is ours, made by an attempt whose answer
			// was lost.
			co, lerr := s.c.Carrier.OrderByReference(ctx, sh.Reference)
			if lerr == nil {
				return co, nil
			}
			if ports.ErrorCodeOf(lerr) == ports.ENOTFOUND {
				return nil, ports.Errorf(ports.EUNAVAILABLE, "Royal Mail says order %s exists but does not find it.", sh.Reference)
			}
			return nil, lerr
		case ports.EFORBIDDEN:
			if sh.PushOnly {
				return nil, ports.Errorf(ports.EINVALID, "Royal Mail refused the order: %s", carrierMessage(err))
			}
			// No label access: register the order without a label. The refused call
			// may have made the order all the same.
			sh.PushOnly = true
			co, lerr := s.c.Carrier.OrderByReference(ctx, sh.Reference)
			if lerr == nil {
				return co, nil
			}
			if ports.ErrorCodeOf(lerr) != ports.ENOTFOUND {
				return nil, lerr
			}
		default:
			return nil, err
		}
	}
}

// request builds the carrier's request for sh; the address is decrypted only here.
func (s *Service) request(ctx context.Context, sh *Shipment, o *Order) (ports.ShipmentRequest, error) {
	rcpt, err := s.c.Orders.Recipient(ctx, sh.OrderID)
	if err != nil {
		return ports.ShipmentRequest{}, err
	}
	r := ports.ShipmentRequest{Reference: sh.Reference, Recipient: *rcpt, ServiceCode: sh.ServiceCode,
		PackageFormat: sh.PackageFormat, WeightGrams: sh.WeightGrams, SubtotalPence: o.SubtotalPence,
		ShippingPence: o.ShippingPence, TotalPence: o.TotalPence, PlacedAt: o.PlacedAt}
	for _, l := range o.Lines {
		r.Items = append(r.Items, ports.ShipmentItem{SKU: l.SKU, Name: l.Name, Quantity: l.Quantity,
			UnitValuePence: l.UnitPricePence, UnitWeightGrams: l.UnitWeightGrams})
	}
	return r, nil
}

// carrierMessage is the carrier's words of err, fit to show to staff.
func carrierMessage(err error) string {
	var e *ports.Error
	if errors.As(err, &e) {
		return clip(e.Error(), 500)
	}
	return clip(err.Error(), 500)
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// ---- staff recovery

// Retry starts the registration again after the carrier refused the parcel, made no
// label, or stopped answering (see Shipment.Retry), with a job of its own.
func (s *Service) Retry(ctx context.Context, orderID uuid.UUID) (*Shipment, error) {
	return s.c.Store.UpdateShipment(ctx, orderID, func(sh *Shipment) (Change, error) {
		if err := sh.Retry(s.c.Clock()); err != nil {
			return Change{}, err
		}
		return Change{Jobs: []ports.Job{registerJobFor(orderID, sh.Retries)},
			Audit: s.audit(ctx, "shipment.retry", sh, "registration with Royal Mail retried")}, nil
	})
}

// FixAddress corrects the shipping address of an order whose parcel the carrier
// refused, and registers it again, in one transaction. The address is validated by
// the ordering module (EINVALID naming the fields).
func (s *Service) FixAddress(ctx context.Context, orderID uuid.UUID, r ports.Recipient) (*Shipment, error) {
	var out *Shipment
	err := s.c.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.c.Store.UpdateShipment(ctx, orderID, func(sh *Shipment) (Change, error) {
			if err := sh.CanFixAddress(); err != nil {
				return Change{}, err
			}
			if err := s.c.Orders.FixAddress(ctx, orderID, r); err != nil {
				return Change{}, err
			}
			if err := sh.Retry(s.c.Clock()); err != nil {
				return Change{}, err
			}
			return Change{Jobs: []ports.Job{registerJobFor(orderID, sh.Retries)},
				Audit: s.audit(ctx, "shipment.retry", sh, "address corrected; registration with Royal Mail retried")}, nil
		})
		return err
	})
	return out, err
}

// CancelPicked cancels a picked order on the staff's word: the order is cancelled
// (its payment is due back to the customer), its items go back to stock, and the
// shipment is cancelled, in one transaction. It is refused (ECONFLICT) once the
// carrier may have the parcel; the ordering module checks the reason (EINVALID).
func (s *Service) CancelPicked(ctx context.Context, orderID uuid.UUID, reason string) (*Shipment, error) {
	var out *Shipment
	err := s.c.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.c.Store.UpdateShipment(ctx, orderID, func(sh *Shipment) (Change, error) {
			if err := sh.Cancel(s.c.Clock()); err != nil {
				return Change{}, err
			}
			if err := s.c.Orders.CancelPicked(ctx, orderID, reason); err != nil {
				return Change{}, err
			}
			if err := s.c.Stock.PutBack(ctx, orderID, sh.OrderNumber); err != nil {
				return Change{}, err
			}
			return Change{Audit: s.audit(ctx, "shipment.cancel", sh, "cancelled after picking; items back in stock")}, nil
		})
		return err
	})
	return out, err
}

// ---- reading

// Shipment returns an order's shipment; ENOTFOUND before the order is picked.
func (s *Service) Shipment(ctx context.Context, orderID uuid.UUID) (*Shipment, error) {
	return s.c.Store.Shipment(ctx, orderID)
}

// ForOrders returns the shipments of several orders (a page of a list), by order id.
func (s *Service) ForOrders(ctx context.Context, orderIDs []uuid.UUID) (map[uuid.UUID]*Shipment, error) {
	if len(orderIDs) == 0 {
		return map[uuid.UUID]*Shipment{}, nil
	}
	return s.c.Store.Shipments(ctx, orderIDs)
}

// Recent lists the shipments packers follow: every one in progress, and the rest of
// the last three days, newest first.
func (s *Service) Recent(ctx context.Context) ([]Shipment, error) {
	return s.c.Store.ListShipments(ctx, ListFilter{Since: s.c.Clock().Add(-72 * time.Hour), Limit: 200})
}

// Events lists an order's tracking events, oldest first.
func (s *Service) Events(ctx context.Context, orderID uuid.UUID) ([]TrackingEvent, error) {
	return s.c.Store.Events(ctx, orderID)
}

// TrackingURL is the carrier's public tracking page of a tracking number.
func (s *Service) TrackingURL(trackingNumber string) string {
	if trackingNumber == "" {
		return ""
	}
	return s.c.Carrier.TrackingURL(trackingNumber)
}

// Label opens an order's label PDF; ENOTFOUND until it is stored.
func (s *Service) Label(ctx context.Context, orderID uuid.UUID) (io.ReadSeekCloser, ports.FileInfo, error) {
	sh, err := s.c.Store.Shipment(ctx, orderID)
	if err != nil {
		return nil, ports.FileInfo{}, err
	}
	if !sh.LabelReady() {
		return nil, ports.FileInfo{}, ports.Errorf(ports.ENOTFOUND, "The label of %s is not ready: the shipment is %s.", sh.OrderNumber, sh.StateText())
	}
	return s.c.Files.Open(ctx, sh.LabelKey)
}

func checkBatch(ids []uuid.UUID) error {
	if len(ids) == 0 {
		return ports.Invalid(ports.Field("id", "Select at least one order."))
	}
	if len(ids) > BatchMax {
		return ports.Invalid(ports.Field("id", fmt.Sprintf("Select at most %d orders at once.", BatchMax)))
	}
	return nil
}

// Labels joins the labels of several orders into one PDF, in the order given. Orders
// whose label is not ready are EINVALID, named in the message.
func (s *Service) Labels(ctx context.Context, orderIDs []uuid.UUID) ([]byte, error) {
	if err := checkBatch(orderIDs); err != nil {
		return nil, err
	}
	shs, err := s.c.Store.Shipments(ctx, orderIDs)
	if err != nil {
		return nil, err
	}
	var files [][]byte
	var missing []string
	for _, id := range orderIDs {
		sh, ok := shs[id]
		if !ok || !sh.LabelReady() {
			if ok {
				missing = append(missing, sh.OrderNumber)
			} else {
				missing = append(missing, "an order that is not picked")
			}
			continue
		}
		b, err := s.readFile(ctx, sh.LabelKey)
		if err != nil {
			return nil, err
		}
		files = append(files, b)
	}
	if len(missing) > 0 {
		return nil, ports.Invalid(ports.Field("id", "No label yet for "+strings.Join(missing, ", ")+"."))
	}
	return s.c.Documents.Merge(files)
}

func (s *Service) readFile(ctx context.Context, key string) ([]byte, error) {
	f, _, err := s.c.Files.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func (s *Service) orders(ctx context.Context, ids []uuid.UUID) ([]Order, error) {
	if err := checkBatch(ids); err != nil {
		return nil, err
	}
	unique := make([]uuid.UUID, 0, len(ids))
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			unique = append(unique, id)
		}
	}
	return s.c.Orders.Orders(ctx, unique)
}

// PickList renders the pick list of a batch of orders: items summed by SKU.
func (s *Service) PickList(ctx context.Context, orderIDs []uuid.UUID) ([]byte, error) {
	os, err := s.orders(ctx, orderIDs)
	if err != nil {
		return nil, err
	}
	return s.c.Documents.PickList(BuildPickList(os, s.c.Clock()))
}

// PackingSlips renders the packing slip of each order, one page each. Prices show only
// when the SlipPrices setting says so.
func (s *Service) PackingSlips(ctx context.Context, orderIDs []uuid.UUID) ([]byte, error) {
	os, err := s.orders(ctx, orderIDs)
	if err != nil {
		return nil, err
	}
	prices := false
	if s.c.SlipPrices != nil {
		if prices, err = s.c.SlipPrices(ctx); err != nil {
			return nil, fmt.Errorf("slip prices setting: %w", err)
		}
	}
	slips := make([]PackingSlip, len(os))
	for i := range os {
		slips[i] = os[i].Slip(prices)
	}
	return s.c.Documents.PackingSlips(slips)
}

// ---- periodic jobs

// PollCarrier is the handler of JobPollCarrier: it reads back from the carrier the
// registered orders still missing their label or tracking number (push-only orders
// wait for staff to print the label in Click & Drop), and ships those that have them.
func (s *Service) PollCarrier(ctx context.Context, _ []byte) error {
	due, err := s.c.Store.DueForPoll(ctx, []State{StateCreated, StatePushOnly}, s.c.Clock(), 50)
	if err != nil {
		return err
	}
	var errs []error
	for _, sh := range due {
		if err := s.advance(ctx, sh.OrderID); err != nil {
			ports.Logger(ctx).Warn("shipment poll", "order", sh.OrderNumber, "err", err)
			errs = append(errs, err)
		}
	}
	if len(errs) == len(due) && len(errs) > 0 {
		return errs[0] // the carrier is down for all of them: let the job show it
	}
	return nil
}

// Track is the handler of JobTrack: it asks the tracking service about the shipped
// parcels due for a look (sparingly: see NextTrackingPoll), TrackingBatch numbers per
// call, stores the events, and marks delivered the orders whose every piece arrived.
func (s *Service) Track(ctx context.Context, _ []byte) error {
	if s.c.Tracker == nil {
		return nil
	}
	now := s.c.Clock()
	due, err := s.c.Store.DueForPoll(ctx, []State{StateShipped}, now, 10*TrackingBatch)
	if err != nil || len(due) == 0 {
		return err
	}
	owner := map[string]uuid.UUID{}
	var numbers []string
	for _, sh := range due {
		for _, n := range sh.TrackingNumbers {
			if _, ok := owner[n]; !ok {
				owner[n] = sh.OrderID
				numbers = append(numbers, n)
			}
		}
	}
	asked := map[uuid.UUID]bool{}
	var trackErr error
	for start := 0; start < len(numbers); start += TrackingBatch {
		chunk := numbers[start:min(start+TrackingBatch, len(numbers))]
		sums, err := s.c.Tracker.Summaries(ctx, chunk)
		if err != nil {
			// Throttled or down: stop here and try the rest on the next run.
			trackErr = fmt.Errorf("tracking summaries: %w", err)
			break
		}
		var events []TrackingEvent
		for _, sum := range sums {
			id, ok := owner[sum.TrackingNumber]
			if !ok || sum.Error != "" || sum.EventCode == "" || sum.At.IsZero() {
				continue
			}
			events = append(events, TrackingEvent{OrderID: id, TrackingNumber: sum.TrackingNumber, Code: sum.EventCode,
				Name: clip(sum.EventName, 200), Location: clip(sum.Location, 200), Category: clip(sum.Category, 100),
				Delivered: sum.Delivered, At: sum.At})
		}
		if err := s.c.Store.AddEvents(ctx, events); err != nil {
			return err
		}
		for _, n := range chunk {
			asked[owner[n]] = true
		}
	}
	var ids []uuid.UUID
	for _, sh := range due {
		if asked[sh.OrderID] {
			ids = append(ids, sh.OrderID)
		}
	}
	if len(ids) == 0 {
		return trackErr
	}
	stored, err := s.c.Store.Events(ctx, ids...)
	if err != nil {
		return err
	}
	events := map[uuid.UUID][]TrackingEvent{}
	for _, e := range stored {
		events[e.OrderID] = append(events[e.OrderID], e)
	}
	for _, id := range ids {
		if err := s.afterTracking(ctx, id, events[id], now); err != nil {
			return err
		}
	}
	return trackErr
}

// afterTracking delivers a shipment whose pieces all arrived (by its stored events),
// or schedules its next look.
func (s *Service) afterTracking(ctx context.Context, orderID uuid.UUID, events []TrackingEvent, now time.Time) error {
	return s.c.Tx.InTx(ctx, func(ctx context.Context) error {
		_, err := s.c.Store.UpdateShipment(ctx, orderID, func(sh *Shipment) (Change, error) {
			if sh.State != StateShipped {
				return Change{}, nil
			}
			sh.UpdatedAt = now
			if !AllDelivered(sh.TrackingNumbers, events) {
				shipped := now
				if sh.ShippedAt != nil {
					shipped = *sh.ShippedAt
				}
				sh.NextPollAt = NextTrackingPoll(now, shipped)
				return Change{}, nil
			}
			sh.State, sh.DeliveredAt, sh.NextPollAt = StateDelivered, &now, nil
			err := s.c.Orders.MarkDelivered(ctx, orderID)
			if ports.ErrorCodeOf(err) == ports.ECONFLICT {
				// The order moved on by other means (refunded): the parcel still arrived.
				ports.Logger(ctx).Warn("delivered parcel of an order that is not shipped", "order", sh.OrderNumber, "err", err)
				err = nil
			}
			return Change{}, err
		})
		return err
	})
}
