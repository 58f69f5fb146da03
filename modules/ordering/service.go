package ordering

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// StockRequest asks the catalog to reserve a quantity of a product.
type StockRequest struct {
	ProductID uuid.UUID
	Quantity  int
}

// StockedProduct is what the catalog says of a reserved product, snapshotted into the
// order line.
type StockedProduct struct {
	ProductID           uuid.UUID
	Name                string
	SKU                 *string
	PriceMinor          int64
	WeightUnit          string
	WeightMilli         *int64
	ShippingWeightGrams int
}

// Stock is what ordering needs of the catalog. Reserve fails with EINVALID naming
// "items[i].productId" for a product that cannot be sold and ECONFLICT when stock is
// short; both join the caller's transaction.
type Stock interface {
	Reserve(ctx context.Context, orderID uuid.UUID, items []StockRequest) ([]StockedProduct, error)
	Release(ctx context.Context, orderID uuid.UUID) error
}

// Payments is what ordering needs of the payments module: opening the invoice of a new
// order inside the order's transaction (the invoice itself is created by a job).
type Payments interface {
	Open(ctx context.Context, orderID uuid.UUID, number string, subtotalMinor, shippingMinor int64) error
	// OrderCancelled hears of a cancellation in its transaction (an unpaid invoice is
	// voided at the gateway).
	OrderCancelled(ctx context.Context, orderID uuid.UUID) error
	// OrderIDsWithStatus lists the orders whose invoice has the payment status; an
	// unknown status is EINVALID.
	OrderIDsWithStatus(ctx context.Context, status string) ([]uuid.UUID, error)
}

// Events publishes an event to a client app's webhooks, inside the caller's
// transaction.
type Events interface {
	Publish(ctx context.Context, appID uuid.UUID, eventType, subject string, data any) error
}

// Event types sent to client apps.
const (
	EventCreated        = "order.created"
	EventPaymentUpdated = "order.payment_updated"
	EventStatusChanged  = "order.status_changed"
	EventMessage        = "order.message"
)

// Cursor is a keyset position in a list of orders, newest first.
type Cursor struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// ClientFilter selects a client app's orders for one identity.
type ClientFilter struct {
	AppID       uuid.UUID
	IdentityRef string
	Status      Status
	After       *Cursor
	Limit       int
}

// Message is a "help with my order" message from the customer or a reply from staff.
type Message struct {
	ID         uuid.UUID `db:"id"`
	OrderID    uuid.UUID `db:"order_id"`
	AuthorKind string    `db:"author_kind"`
	Author     string    `db:"author"`
	Body       string    `db:"body"`
	CreatedAt  time.Time `db:"created_at"`
}

// Note is a member of staff's internal note on an order.
type Note struct {
	ID        uuid.UUID `db:"id"`
	OrderID   uuid.UUID `db:"order_id"`
	Author    string    `db:"author"`
	Body      string    `db:"body"`
	CreatedAt time.Time `db:"created_at"`
}

// Claim is the outcome of claiming an Idempotency-Key (Store.ClaimIdempotencyKey).
type Claim struct {
	Claimed   bool
	PrevOrder uuid.UUID
	PrevHash  []byte
	Method    *ShippingMethod
}

// Store keeps orders. Errors: ENOTFOUND for a missing order or shipping method.
type Store interface {
	ListShippingMethods(ctx context.Context, activeOnly bool) ([]ShippingMethod, error)
	ShippingMethodByID(ctx context.Context, id uuid.UUID) (*ShippingMethod, error)
	CreateShippingMethod(ctx context.Context, m *ShippingMethod, a ports.AuditEntry) error
	UpdateShippingMethod(ctx context.Context, m *ShippingMethod, a ports.AuditEntry) error

	// ClaimIdempotencyKey records (app, key) for orderID and reads the shipping method
	// methodID (one round trip: the two start every placement). When the key was used
	// before, the claim has the earlier order and request hash and Claimed false; the
	// method is nil when there is no such method.
	ClaimIdempotencyKey(ctx context.Context, appID uuid.UUID, key string, hash []byte, orderID, methodID uuid.UUID) (*Claim, error)
	DeleteIdempotencyKeysBefore(ctx context.Context, before time.Time) (int64, error)
	// CreateOrder inserts an order with its lines and first history entry; an order
	// without a number is given the next one (FormatNumber of the sequence).
	CreateOrder(ctx context.Context, o *Order, h HistoryEntry) error
	// Order returns an order with its lines and history.
	Order(ctx context.Context, id uuid.UUID) (*Order, error)
	// Orders returns several orders with their lines and history; missing ids are
	// left out.
	Orders(ctx context.Context, ids []uuid.UUID) ([]Order, error)
	// OrderHead returns an order without its lines and history.
	OrderHead(ctx context.Context, id uuid.UUID) (*Order, error)
	ListClientOrders(ctx context.Context, f ClientFilter) ([]Order, error)
	// PickQueue returns the processing orders with their lines, express first, then
	// oldest first, at most limit of them.
	PickQueue(ctx context.Context, limit int) ([]Order, error)
	// UpdateOrder locks the order, lets fn change it and say what to record with the
	// change, and saves all of it in one transaction.
	UpdateOrder(ctx context.Context, id uuid.UUID, fn func(o *Order) (Change, error)) (*Order, error)
	// AddMessage stores a message and, when audit is not nil, its audit entry in the
	// same transaction.
	AddNote(ctx context.Context, n *Note, a ports.AuditEntry) error
	Notes(ctx context.Context, orderID uuid.UUID) ([]Note, error)
	AddMessage(ctx context.Context, m *Message, audit *ports.AuditEntry) error
	Messages(ctx context.Context, orderID uuid.UUID) ([]Message, error)

	// ListStaffOrders returns a keyset page of orders, newest first, without lines or
	// history.
	ListStaffOrders(ctx context.Context, f StaffFilter) ([]Order, error)
	// CountByStatus counts the orders matching f, ignoring f.Status, per status.
	CountByStatus(ctx context.Context, f StaffFilter) (map[Status]int, error)
	// OpenConversations lists the orders whose last message is the customer's, the
	// most recent first, after the cursor (last message time, order id).
	OpenConversations(ctx context.Context, after *Cursor, limit int) ([]Conversation, error)
	// HasReceived reports whether the app's customer has a shipped or delivered order
	// containing the product (see Service.HasReceived).
	HasReceived(ctx context.Context, appID uuid.UUID, identityRef string, productID uuid.UUID) (bool, error)
}

// Change is what a change to an order records besides the order: the history entry
// of a new status and the audit entry of a staff action; either may be nil.
type Change struct {
	History *HistoryEntry
	Audit   *ports.AuditEntry
}

// Service is the ordering module's application service.
type Service struct {
	store    Store
	tx       ports.Transactor
	stock    Stock
	payments Payments
	events   Events
	sealer   ports.Sealer
	clock    ports.Clock
}

// NewService returns the ordering service.
func NewService(store Store, tx ports.Transactor, stock Stock, payments Payments, events Events, sealer ports.Sealer, clock ports.Clock) *Service {
	return &Service{store: store, tx: tx, stock: stock, payments: payments, events: events, sealer: sealer, clock: clock}
}

// ---- shipping methods

// ShippingMethods lists shipping methods; activeOnly for client apps.
func (s *Service) ShippingMethods(ctx context.Context, activeOnly bool) ([]ShippingMethod, error) {
	return s.store.ListShippingMethods(ctx, activeOnly)
}

// ShippingMethod returns one shipping method.
func (s *Service) ShippingMethod(ctx context.Context, id uuid.UUID) (*ShippingMethod, error) {
	return s.store.ShippingMethodByID(ctx, id)
}

// CreateShippingMethod adds a shipping method.
func (s *Service) CreateShippingMethod(ctx context.Context, in ShippingMethodInput) (*ShippingMethod, error) {
	now := s.clock()
	m := &ShippingMethod{ID: uuid.Must(uuid.NewV7()), CreatedAt: now, UpdatedAt: now}
	if err := in.Parse(m); err != nil {
		return nil, err
	}
	return m, s.store.CreateShippingMethod(ctx, m, ports.Audit(ctx, "shipping_method.create", "shipping_method", m.ID.String(), m.Name))
}

// UpdateShippingMethod changes a shipping method. Orders keep what they snapshotted.
func (s *Service) UpdateShippingMethod(ctx context.Context, id uuid.UUID, in ShippingMethodInput) (*ShippingMethod, error) {
	m, err := s.store.ShippingMethodByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := in.Parse(m); err != nil {
		return nil, err
	}
	m.UpdatedAt = s.clock()
	return m, s.store.UpdateShippingMethod(ctx, m, ports.Audit(ctx, "shipping_method.update", "shipping_method", m.ID.String(), m.Name))
}

// ---- placing orders

// Limits of an order.
const (
	MaxLines        = 50
	MaxQuantity     = 999
	NoteMax         = 1000
	IdentityRefMax  = 128
	IdempotencyMax  = 255
	MessageMax      = 4000
	IdempotencyKeep = 48 * time.Hour
)

// Item is one requested line.
type Item struct {
	ProductID string `json:"productId"`
	Quantity  int    `json:"quantity"`
}

// PlaceInput is a client app's order.
type PlaceInput struct {
	Items            []Item  `json:"items"`
	ShippingMethodID string  `json:"shippingMethodId"`
	ShippingAddress  Address `json:"shippingAddress"`
	Note             string  `json:"note"`
}

// Client identifies who places or reads orders: a client app acting for a customer.
type Client struct {
	AppID       uuid.UUID
	AppName     string
	IdentityRef string
}

// ValidateIdentityRef checks an X-Identity-Reference: 1–128 printable characters.
func ValidateIdentityRef(s string) error {
	if s == "" || utf8.RuneCountInString(s) > IdentityRefMax || !utf8.ValidString(s) ||
		strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return ports.Invalid(ports.Field("X-Identity-Reference", "Send the customer's identity reference: 1 to 128 printable characters."))
	}
	return nil
}

// RequestHash is the fingerprint of a placement request for idempotency.
func RequestHash(body []byte) []byte {
	h := sha256.Sum256(body)
	return h[:]
}

// validate checks the input and returns the parsed items (quantities of the same
// product added up).
func (in *PlaceInput) validate() ([]StockRequest, *uuid.UUID, error) {
	var errs []ports.FieldError
	var reqs []StockRequest
	index := map[uuid.UUID]int{}
	switch {
	case len(in.Items) == 0:
		errs = append(errs, ports.Field("items", "An order needs at least one item."))
	case len(in.Items) > MaxLines:
		errs = append(errs, ports.Field("items", fmt.Sprintf("An order has at most %d items.", MaxLines)))
	}
	for i, it := range in.Items {
		id, err := uuid.Parse(it.ProductID)
		if err != nil {
			errs = append(errs, ports.Field(fmt.Sprintf("items[%d].productId", i), "productId must be a product id (UUID)."))
			continue
		}
		if it.Quantity < 1 || it.Quantity > MaxQuantity {
			errs = append(errs, ports.Field(fmt.Sprintf("items[%d].quantity", i), "quantity must be a whole number from 1 to 999."))
			continue
		}
		if j, ok := index[id]; ok {
			reqs[j].Quantity += it.Quantity
			if reqs[j].Quantity > MaxQuantity {
				errs = append(errs, ports.Field(fmt.Sprintf("items[%d].quantity", i), "At most 999 of one product per order."))
			}
			continue
		}
		index[id] = len(reqs)
		reqs = append(reqs, StockRequest{ProductID: id, Quantity: it.Quantity})
	}
	var method *uuid.UUID
	if id, err := uuid.Parse(in.ShippingMethodID); err != nil {
		errs = append(errs, ports.Field("shippingMethodId", "shippingMethodId must be a shipping method id (UUID)."))
	} else {
		method = &id
	}
	in.ShippingAddress.Normalize()
	errs = append(errs, in.ShippingAddress.Validate("shippingAddress.")...)
	in.Note = strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(in.Note) > NoteMax || strings.ContainsRune(in.Note, 0) {
		errs = append(errs, ports.Field("note", "note has at most 1000 characters."))
	}
	return reqs, method, ports.Invalid(errs...)
}

// PlaceOrder places an order for a client's customer: in one transaction it claims the
// idempotency key, reserves the stock, snapshots the lines, records the first history
// entry, opens the invoice (its creation is queued) and queues order.created. A key used
// before with the same request returns the earlier order (replayed true); with another
// request it is refused.
func (s *Service) PlaceOrder(ctx context.Context, cl Client, idemKey string, body []byte, in PlaceInput) (o *Order, replayed bool, err error) {
	if err := ValidateIdentityRef(cl.IdentityRef); err != nil {
		return nil, false, err
	}
	if idemKey == "" || len(idemKey) > IdempotencyMax || strings.IndexFunc(idemKey, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		return nil, false, ports.Invalid(ports.Field("Idempotency-Key", "Send an Idempotency-Key header of 1 to 255 visible ASCII characters."))
	}
	reqs, methodID, err := in.validate()
	if err != nil {
		return nil, false, err
	}
	// The identity reference is part of the request: a key reused for another
	// customer of the same app must not replay (and so reveal) the first customer's order.
	hash := RequestHash(append([]byte(cl.IdentityRef+"\x00"), body...))
	now := s.clock()
	id := uuid.Must(uuid.NewV7())
	var prev uuid.UUID
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		claim, err := s.store.ClaimIdempotencyKey(ctx, cl.AppID, idemKey, hash, id, *methodID)
		if err != nil {
			return err
		}
		if !claim.Claimed {
			if string(claim.PrevHash) != string(hash) {
				return ports.Invalid(ports.Field("Idempotency-Key", "This Idempotency-Key was used for a different request."))
			}
			prev = claim.PrevOrder
			return nil
		}
		method := claim.Method
		if method == nil || !method.Active {
			return ports.Invalid(ports.Field("shippingMethodId", "There is no such shipping method."))
		}
		stocked, err := s.stock.Reserve(ctx, id, reqs)
		if err != nil {
			return err
		}
		o = &Order{ID: id, AppID: cl.AppID, IdentityRef: cl.IdentityRef, Status: StatusPendingPayment,
			ShippingMethodID: method.ID, ShippingName: method.Name, ShippingServiceCode: method.ServiceCode,
			PackageFormat: string(method.PackageFormat), Express: method.Express, ShippingMinor: method.PriceMinor,
			Currency: "GBP", Note: in.Note, CreatedAt: now, UpdatedAt: now}
		for i, p := range stocked {
			qty := reqs[i].Quantity
			o.Lines = append(o.Lines, Line{OrderID: id, LineNo: i + 1, ProductID: p.ProductID, Name: p.Name, SKU: p.SKU,
				UnitPriceMinor: p.PriceMinor, Quantity: qty, WeightUnit: p.WeightUnit, WeightMilli: p.WeightMilli,
				UnitWeightGrams: p.ShippingWeightGrams, LineTotalMinor: p.PriceMinor * int64(qty)})
			o.SubtotalMinor += p.PriceMinor * int64(qty)
			o.WeightGrams += p.ShippingWeightGrams * qty
		}
		o.TotalMinor = o.SubtotalMinor + o.ShippingMinor
		if o.WeightGrams > method.MaxWeightGrams {
			return ports.Invalid(ports.Field("shippingMethodId", fmt.Sprintf(
				"The order weighs %d g; %s takes at most %d g. Choose another shipping method.", o.WeightGrams, method.Name, method.MaxWeightGrams)))
		}
		if o.TotalMinor <= 0 {
			return ports.Invalid(ports.Field("items", "The order's total must be more than zero."))
		}
		plain, _ := json.Marshal(in.ShippingAddress)
		if o.AddressSealed, err = s.sealer.Seal(plain); err != nil {
			return fmt.Errorf("seal address: %w", err)
		}
		first := HistoryEntry{OrderID: id, Status: StatusPendingPayment, At: now, ActorKind: string(ports.ActorClient), Actor: cl.AppName}
		if err := s.store.CreateOrder(ctx, o, first); err != nil {
			return err
		}
		o.History = []HistoryEntry{first}
		if err := s.events.Publish(ctx, o.AppID, EventCreated, o.ID.String(), EventData(o)); err != nil {
			return err
		}
		// Last, because its rows need no answer: they go with the commit.
		return s.payments.Open(ctx, o.ID, o.Number, o.SubtotalMinor, o.ShippingMinor)
	})
	if err != nil {
		return nil, false, err
	}
	if prev != uuid.Nil {
		o, err = s.store.Order(ctx, prev)
		return o, true, err
	}
	return o, false, nil
}

// EventData is the data of an order event: enough for a client app to act without a
// second request.
func EventData(o *Order) map[string]any {
	return map[string]any{"orderId": o.ID.String(), "number": o.Number, "status": o.Status,
		"identityReference": o.IdentityRef}
}

// ForClient returns an order of the client's customer; any other order is ENOTFOUND.
func (s *Service) ForClient(ctx context.Context, cl Client, id uuid.UUID) (*Order, error) {
	o, err := s.store.Order(ctx, id)
	if err != nil {
		return nil, err
	}
	if o.AppID != cl.AppID || o.IdentityRef != cl.IdentityRef {
		return nil, ports.Errorf(ports.ENOTFOUND, "No such order.")
	}
	return o, nil
}

// ClientOrders lists a client's customer's orders, newest first, with the cursor of
// the next page.
func (s *Service) ClientOrders(ctx context.Context, f ClientFilter) ([]Order, *Cursor, error) {
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 20
	}
	want := f.Limit
	f.Limit++
	os, err := s.store.ListClientOrders(ctx, f)
	return onePage(os, err, want)
}

// onePage cuts a store's answer for want+1 orders down to want and makes the cursor of
// the next page when there is one.
func onePage(os []Order, err error, want int) ([]Order, *Cursor, error) {
	if err != nil {
		return nil, nil, err
	}
	if len(os) <= want {
		return os, nil, nil
	}
	os = os[:want]
	last := os[want-1]
	return os, &Cursor{CreatedAt: last.CreatedAt, ID: last.ID}, nil
}

// Order returns any order (for staff and other modules).
func (s *Service) Order(ctx context.Context, id uuid.UUID) (*Order, error) {
	return s.store.Order(ctx, id)
}

// Address decrypts an order's shipping address. Callers decide who may see it.
func (s *Service) Address(o *Order) (*Address, error) {
	plain, err := s.sealer.Open(o.AddressSealed)
	if err != nil {
		return nil, fmt.Errorf("open address: %w", err)
	}
	var a Address
	if err := json.Unmarshal(plain, &a); err != nil {
		return nil, fmt.Errorf("address: %w", err)
	}
	return &a, nil
}

// Transition moves an order to a status in one transaction with what it entails:
// leaving the statuses that hold stock releases it; the client app is told. It is the
// one way other modules (payments, fulfilment) and staff change an order's status.
func (s *Service) Transition(ctx context.Context, id uuid.UUID, to Status, note string) (*Order, error) {
	var out *Order
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		var from Status
		o, err := s.store.UpdateOrder(ctx, id, func(o *Order) (Change, error) {
			from = o.Status
			h, err := o.Move(to, ports.ActorFrom(ctx), note, s.clock())
			if err != nil {
				return Change{}, err
			}
			return Change{History: &h, Audit: staffAudit(ctx, "order.status", o, strings.TrimSpace(fmt.Sprintf("%s: %s → %s %s", o.Number, from, to, note)))}, nil
		})
		if err != nil {
			return err
		}
		if from.HoldsStock() && !to.HoldsStock() {
			if err := s.stock.Release(ctx, id); err != nil {
				return err
			}
		}
		out = o
		return s.events.Publish(ctx, o.AppID, EventStatusChanged, o.ID.String(), EventData(o))
	})
	return out, err
}

// Cancel cancels an order for its customer (or staff) under the contract's rule: before
// payment it is cancelled and its stock released; paid but not picked, it is cancelled
// with a refund due for staff to carry out; picked or later, ECONFLICT.
func (s *Service) Cancel(ctx context.Context, o *Order, reason string) (*Order, error) {
	reason = strings.TrimSpace(reason)
	// PostgreSQL text cannot hold NUL: refuse control characters (other than line
	// breaks and tabs) here rather than fail in the database with a 500.
	if utf8.RuneCountInString(reason) > 500 || strings.ContainsFunc(reason, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	}) {
		return nil, ports.Invalid(ports.Field("reason", "A reason has at most 500 characters, without control characters."))
	}
	var out *Order
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		var from Status
		updated, err := s.store.UpdateOrder(ctx, o.ID, func(o *Order) (Change, error) {
			from = o.Status
			rule := CancelRule(o.Status)
			if rule == CancelRefused {
				return Change{}, ports.Errorf(ports.ECONFLICT, "An order that is %s can no longer be cancelled.", o.Status)
			}
			h, err := o.Move(StatusCancelled, ports.ActorFrom(ctx), reason, s.clock())
			if err != nil {
				return Change{}, err
			}
			o.CancelReason, o.RefundDue = reason, rule == CancelPaid
			detail := o.Number + ": " + reason
			if o.RefundDue {
				detail += " (refund due)"
			}
			return Change{History: &h, Audit: staffAudit(ctx, "order.cancel", o, detail)}, nil
		})
		if err != nil {
			return err
		}
		if from.HoldsStock() {
			if err := s.stock.Release(ctx, o.ID); err != nil {
				return err
			}
		}
		if err := s.payments.OrderCancelled(ctx, o.ID); err != nil {
			return err
		}
		out = updated
		return s.events.Publish(ctx, updated.AppID, EventStatusChanged, updated.ID.String(), EventData(updated))
	})
	return out, err
}

// AddCustomerMessage records a customer's "help with my order" message.
func (s *Service) AddCustomerMessage(ctx context.Context, o *Order, body string) (*Message, error) {
	body = strings.TrimSpace(body)
	if n := utf8.RuneCountInString(body); n == 0 || n > MessageMax || strings.ContainsRune(body, 0) {
		return nil, ports.Invalid(ports.Field("body", "body is the message: 1 to 4000 characters."))
	}
	m := &Message{ID: uuid.Must(uuid.NewV7()), OrderID: o.ID, AuthorKind: "customer", Author: o.IdentityRef, Body: body, CreatedAt: s.clock()}
	return m, s.store.AddMessage(ctx, m, nil)
}

// ReplyAsStaff records a staff reply and sends it to the client app as order.message.
func (s *Service) ReplyAsStaff(ctx context.Context, o *Order, body string) (*Message, error) {
	body = strings.TrimSpace(body)
	if n := utf8.RuneCountInString(body); n == 0 || n > MessageMax || strings.ContainsRune(body, 0) {
		return nil, ports.Invalid(ports.Field("body", "Write a reply of at most 4000 characters."))
	}
	a := ports.ActorFrom(ctx)
	m := &Message{ID: uuid.Must(uuid.NewV7()), OrderID: o.ID, AuthorKind: "staff", Author: a.Name, Body: body, CreatedAt: s.clock()}
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.AddMessage(ctx, m, staffAudit(ctx, "order.reply", o, o.Number+": "+clipRunes(m.Body, 200))); err != nil {
			return err
		}
		data := EventData(o)
		data["message"] = map[string]any{"id": m.ID.String(), "body": m.Body, "createdAt": m.CreatedAt.UTC().Format(time.RFC3339)}
		return s.events.Publish(ctx, o.AppID, EventMessage, o.ID.String(), data)
	})
	return m, err
}

// Messages lists an order's messages, oldest first.
func (s *Service) Messages(ctx context.Context, orderID uuid.UUID) ([]Message, error) {
	return s.store.Messages(ctx, orderID)
}

// CleanUp forgets idempotency keys older than IdempotencyKeep.
func (s *Service) CleanUp(ctx context.Context) error {
	_, err := s.store.DeleteIdempotencyKeysBefore(ctx, s.clock().Add(-IdempotencyKeep))
	return err
}

// PaymentUpdated hears that an order's payment changed (its invoice was made, or its
// status moved), in the payments module's transaction: the client app is told, and
// the order moves as the payment asks (effect "paid" → processing, "expired" →
// expired, "hold" → on_hold, "refunded" → refunded) when its state machine allows it
// from where it is; otherwise it stays (a payment to a cancelled order is for staff).
func (s *Service) PaymentUpdated(ctx context.Context, orderID uuid.UUID, status, effect, note string) error {
	o, err := s.store.OrderHead(ctx, orderID)
	if err != nil {
		return err
	}
	data := EventData(o)
	data["paymentStatus"] = status
	if err := s.events.Publish(ctx, o.AppID, EventPaymentUpdated, o.ID.String(), data); err != nil {
		return err
	}
	to, ok := PaymentTarget(o.Status, effect)
	if !ok {
		return nil
	}
	_, err = s.Transition(ctx, orderID, to, note)
	return err
}

// RefundIssued tells the customer, through the client app, where to claim a refund:
// it is a staff message on the order (order.message).
func (s *Service) RefundIssued(ctx context.Context, orderID uuid.UUID, claimLink string, amount ports.Money) error {
	o, err := s.store.OrderHead(ctx, orderID)
	if err != nil {
		return err
	}
	body := fmt.Sprintf("We have refunded %s for order %s. Claim it here (you will be asked for a bitcoin address): %s",
		formatGBP(amount.Minor), o.Number, claimLink)
	_, err = s.ReplyAsStaff(ctx, o, body)
	return err
}

func formatGBP(minor int64) string { return "£" + ports.FormatMinor(minor, "GBP") }

// AddNote records a staff member's internal note on an order; customers and client
// apps never see notes.
func (s *Service) AddNote(ctx context.Context, o *Order, body string) (*Note, error) {
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	if n := utf8.RuneCountInString(body); n == 0 || n > MessageMax || strings.ContainsRune(body, 0) {
		return nil, ports.Invalid(ports.Field("note", "Write a note of at most 4000 characters."))
	}
	n := &Note{ID: uuid.Must(uuid.NewV7()), OrderID: o.ID, Author: ports.ActorFrom(ctx).Name, Body: body, CreatedAt: s.clock()}
	return n, s.store.AddNote(ctx, n, ports.Audit(ctx, "order.note", "order", o.ID.String(), clipRunes(body, 200)))
}

// Notes lists an order's internal notes, oldest first.
func (s *Service) Notes(ctx context.Context, orderID uuid.UUID) ([]Note, error) {
	return s.store.Notes(ctx, orderID)
}
