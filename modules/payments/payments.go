// Package payments is the module for getting paid: the invoice of each order at the
// payment gateway and its status. (BTCPay's webhooks, reconciliation and refunds come
// with the payments issue.)
package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// Status is an order's payment status.
type Status string

// The payment statuses of the contract.
const (
	StatusPending       Status = "pending"
	StatusConfirming    Status = "confirming"
	StatusPaid          Status = "paid"
	StatusPartiallyPaid Status = "partially_paid"
	StatusOverpaid      Status = "overpaid"
	StatusPaidLate      Status = "paid_late"
	StatusExpired       Status = "expired"
	StatusInvalid       Status = "invalid"
	StatusRefunded      Status = "refunded"
)

// JobCreateInvoice creates an order's invoice at the gateway.
const JobCreateInvoice = "payments:invoice.create"

// InvoiceExpiry is how long a customer has to pay.
const InvoiceExpiry = 60 * time.Minute

// Statuses lists every payment status.
var Statuses = []Status{StatusPending, StatusConfirming, StatusPaid, StatusPartiallyPaid, StatusOverpaid, StatusPaidLate,
	StatusExpired, StatusInvalid, StatusRefunded}

// Valid reports whether s is a payment status.
func (s Status) Valid() bool {
	for _, x := range Statuses {
		if s == x {
			return true
		}
	}
	return false
}

// Invoice is the payment side of an order.
type Invoice struct {
	OrderID          uuid.UUID  `db:"order_id"`
	OrderNumber      string     `db:"order_number"`
	Provider         string     `db:"provider"`
	InvoiceID        *string    `db:"invoice_id"`
	Status           Status     `db:"status"`
	AmountMinor      int64      `db:"amount_minor"`
	SubtotalMinor    int64      `db:"subtotal_minor"`
	ShippingMinor    int64      `db:"shipping_minor"`
	Currency         string     `db:"currency"`
	ExpiresAt        *time.Time `db:"expires_at"`
	CheckoutLink     string     `db:"checkout_link"`
	MethodsJSON      []byte     `db:"methods"`
	LastError        string     `db:"last_error"`
	GatewayStatus    string     `db:"gateway_status"`
	AdditionalStatus string     `db:"additional_status"`
	ReceivedMinor    int64      `db:"received_minor"`
	ReceivedSats     int64      `db:"received_sats"`
	OverpaidMinor    int64      `db:"overpaid_minor"`
	RatePence        int64      `db:"rate_pence"`
	SettledAt        *time.Time `db:"settled_at"`
	SyncedAt         *time.Time `db:"synced_at"`
	RefundID         string     `db:"refund_id"`
	RefundLink       string     `db:"refund_link"`
	RefundPolicy     string     `db:"refund_policy"`
	RefundMinor      int64      `db:"refund_minor"`
	CreatedAt        time.Time  `db:"created_at"`
	UpdatedAt        time.Time  `db:"updated_at"`
}

// Methods decodes the payment methods.
func (i *Invoice) Methods() []ports.PaymentMethod {
	var out []ports.PaymentMethod
	_ = json.Unmarshal(i.MethodsJSON, &out)
	return out
}

// Payment is one payment received towards an order's invoice: what "Payments
// received" lists.
type Payment struct {
	InvoiceID   string     `db:"invoice_id"`
	ID          string     `db:"payment_id"`
	OrderID     uuid.UUID  `db:"order_id"`
	OrderNumber string     `db:"order_number"`
	Method      string     `db:"method"`
	TxID        string     `db:"txid"`
	AmountSats  int64      `db:"amount_sats"`
	RatePence   int64      `db:"rate_pence"`
	ValuePence  int64      `db:"value_minor"`
	Destination string     `db:"destination"`
	Status      string     `db:"status"` // confirming, settled, invalid
	ReceivedAt  time.Time  `db:"received_at"`
	ConfirmedAt *time.Time `db:"confirmed_at"`
}

// HistoryEntry is a change of an order's payment status, with what the gateway said
// and what caused us to look (a webhook, reconciliation, staff, the clock).
type HistoryEntry struct {
	ID               int64     `db:"id"`
	OrderID          uuid.UUID `db:"order_id"`
	Status           Status    `db:"status"`
	GatewayStatus    string    `db:"gateway_status"`
	AdditionalStatus string    `db:"additional_status"`
	Source           string    `db:"source"`
	Note             string    `db:"note"`
	At               time.Time `db:"at"`
}

// WebhookDelivery is a gateway webhook delivery as kept in the inbox.
type WebhookDelivery struct {
	DeliveryID  string     `db:"delivery_id"`
	Provider    string     `db:"provider"`
	Type        string     `db:"event_type"`
	StoreID     string     `db:"store_id"`
	InvoiceID   string     `db:"invoice_id"`
	Body        []byte     `db:"body"`
	Deliveries  int        `db:"deliveries"`
	Outcome     string     `db:"outcome"`
	ReceivedAt  time.Time  `db:"received_at"`
	LastSeenAt  time.Time  `db:"last_seen_at"`
	ProcessedAt *time.Time `db:"processed_at"`
}

// ReceivedCursor is the keyset position in the list of payments received.
type ReceivedCursor struct {
	ReceivedAt time.Time
	InvoiceID  string
	PaymentID  string
}

// ReceivedFilter selects payments received, newest first: From inclusive, To
// exclusive (zero means unbounded), after the cursor.
type ReceivedFilter struct {
	From, To time.Time
	After    *ReceivedCursor
	Limit    int
}

// Store keeps invoices, payments, payment history and the webhook inbox. Errors:
// ENOTFOUND.
type Store interface {
	// Open inserts the pending invoice of an order and records job in the outbox.
	Open(ctx context.Context, inv *Invoice, job ports.Job) error
	Invoice(ctx context.Context, orderID uuid.UUID) (*Invoice, error)
	// InvoiceByGatewayID finds the invoice the gateway knows by id.
	InvoiceByGatewayID(ctx context.Context, invoiceID string) (*Invoice, error)
	// Invoices returns the invoices of several orders, by order id.
	Invoices(ctx context.Context, orderIDs []uuid.UUID) (map[uuid.UUID]*Invoice, error)
	// WithInvoiceLocked locks an order's invoice while fn talks to the gateway and
	// saves what fn changed (nothing is written when fn changed nothing). fn assigns
	// fields; it does not write through their pointers.
	WithInvoiceLocked(ctx context.Context, orderID uuid.UUID, fn func(inv *Invoice) error) (*Invoice, error)
	// SetLastError records why the invoice could not be made at the gateway.
	SetLastError(ctx context.Context, orderID uuid.UUID, msg string, at time.Time) error
	// OrderIDsWithStatus lists the orders whose invoice has status.
	OrderIDsWithStatus(ctx context.Context, status Status) ([]uuid.UUID, error)
	// Statuses returns the invoice status of each of the orders that has one.
	Statuses(ctx context.Context, orderIDs []uuid.UUID) (map[uuid.UUID]Status, error)
	// ToReconcile lists up to limit orders whose invoice is not final, or expired
	// since lateSince, least recently synced first.
	ToReconcile(ctx context.Context, lateSince time.Time, limit int) ([]uuid.UUID, error)

	// SavePayments inserts or updates payments by (invoice, payment id); a payment
	// keeps the time it was first confirmed.
	SavePayments(ctx context.Context, ps []Payment) error
	Payments(ctx context.Context, orderID uuid.UUID) ([]Payment, error)
	AddHistory(ctx context.Context, h HistoryEntry, audit *ports.AuditEntry) error
	History(ctx context.Context, orderID uuid.UUID) ([]HistoryEntry, error)
	// AddJobs records jobs in the outbox, in the caller's transaction.
	AddJobs(ctx context.Context, jobs ...ports.Job) error

	// Received lists payments received, newest first.
	Received(ctx context.Context, f ReceivedFilter) ([]Payment, error)
	// StreamReceived calls fn for each payment received in [from, to), newest first,
	// without holding them all in memory.
	StreamReceived(ctx context.Context, from, to time.Time, fn func(Payment) error) error
	// ReceivedTotals counts the (not invalid) payments received in [from, to) (to
	// zero: unbounded) and sums
	// their GBP value.
	ReceivedTotals(ctx context.Context, from, to time.Time) (count int, pence int64, err error)

	// RecordWebhook keeps a delivery in the inbox with the job that processes it.
	// A delivery seen before (same id) only counts one more delivery: isNew false, and
	// the job is not added.
	RecordWebhook(ctx context.Context, d *WebhookDelivery, job ports.Job) (isNew bool, err error)
	Webhook(ctx context.Context, deliveryID string) (*WebhookDelivery, error)
	SetWebhookOutcome(ctx context.Context, deliveryID, outcome string, at time.Time) error
	// Webhooks lists the most recent deliveries.
	Webhooks(ctx context.Context, limit int) ([]WebhookDelivery, error)
}

// Listener hears of changes to an order's payment, inside the transaction that
// records them: ordering tells the client app and moves the order as effect asks.
type Listener interface {
	PaymentUpdated(ctx context.Context, orderID uuid.UUID, status string, effect Effect, note string) error
	// RefundIssued tells the customer (through the client app) where to claim a
	// refund.
	RefundIssued(ctx context.Context, orderID uuid.UUID, claimLink string, amount ports.Money) error
}

// Simulator is a gateway that can pretend a customer paid (the sandbox).
type Simulator interface {
	// Simulate acts on an invoice: "pay", "pay_unconfirmed", "confirm",
	// "pay_partial", "overpay", "pay_late", "expire".
	Simulate(ctx context.Context, invoiceID, action string) error
}

// Deps is what the payments service needs.
type Deps struct {
	Store    Store
	Gateway  ports.PaymentGateway
	Clock    ports.Clock
	Tx       ports.Transactor
	Listener Listener
	// Queue, when not nil, gets urgent jobs at once after commit as well as through
	// the outbox (which would take up to its relay interval).
	Queue ports.Enqueuer
	// Expiry returns how long a customer has to pay (shop settings); nil means
	// InvoiceExpiry.
	Expiry func(ctx context.Context) (time.Duration, error)
	Log    *slog.Logger
}

// Service is the payments module's application service.
type Service struct {
	store    Store
	gateway  ports.PaymentGateway
	clock    ports.Clock
	tx       ports.Transactor
	listener Listener
	queue    ports.Enqueuer
	expiry   func(ctx context.Context) (time.Duration, error)
	log      *slog.Logger
}

// NewService returns the payments service.
func NewService(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{store: d.Store, gateway: d.Gateway, clock: d.Clock, tx: d.Tx, listener: d.Listener, queue: d.Queue,
		expiry: d.Expiry, log: d.Log}
}

type invoiceJob struct {
	OrderID uuid.UUID `json:"orderId"`
}

// Open records a new order's invoice as pending and queues its creation. It joins the
// order's transaction.
func (s *Service) Open(ctx context.Context, orderID uuid.UUID, number string, subtotalMinor, shippingMinor int64) error {
	now := s.clock()
	payload, _ := json.Marshal(invoiceJob{OrderID: orderID})
	return s.store.Open(ctx, &Invoice{OrderID: orderID, OrderNumber: number, Provider: s.gateway.Name(), Status: StatusPending,
		AmountMinor: subtotalMinor + shippingMinor, SubtotalMinor: subtotalMinor, ShippingMinor: shippingMinor, Currency: "GBP",
		MethodsJSON: []byte("[]"), CreatedAt: now, UpdatedAt: now},
		ports.Job{ID: JobCreateInvoice + ":" + orderID.String(), Type: JobCreateInvoice, Payload: payload, Queue: ports.QueueCritical, MaxRetry: 20})
}

// CreateInvoice makes the invoice at the gateway unless it exists, and tells the
// client app (order.payment_updated) when it made it. The queued job calls it until it
// succeeds; the row lock makes sure only one caller talks to the gateway at a time.
func (s *Service) CreateInvoice(ctx context.Context, orderID uuid.UUID) (*Invoice, error) {
	return s.createInvoice(ctx, orderID, true)
}

// CreateInvoiceWhilePlacing is CreateInvoice for the request that placed the order,
// with its short deadline: the answer to that request carries the invoice, so no event
// repeats it (order.payment_updated tells of changes after the order was placed,
// including an invoice that the job makes when this call did not).
func (s *Service) CreateInvoiceWhilePlacing(ctx context.Context, orderID uuid.UUID) (*Invoice, error) {
	return s.createInvoice(ctx, orderID, false)
}

func (s *Service) createInvoice(ctx context.Context, orderID uuid.UUID, notify bool) (*Invoice, error) {
	var out *Invoice
	var gatewayErr error
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		inv, err := s.store.WithInvoiceLocked(ctx, orderID, func(inv *Invoice) error {
			if inv.InvoiceID != nil {
				return nil
			}
			if gatewayErr = s.createAtGateway(ctx, orderID, inv); gatewayErr != nil {
				return gatewayErr
			}
			// Told here, in the same transaction, so that the invoice's new state
			// (written after fn) goes with the commit.
			if notify && s.listener != nil {
				return s.listener.PaymentUpdated(ctx, orderID, string(inv.Status), EffectNone, "")
			}
			return nil
		})
		out = inv
		return err
	})
	if gatewayErr != nil {
		// The transaction rolled back; say on the invoice why it is still missing (the
		// payment panel shows it) while the job keeps trying.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if serr := s.store.SetLastError(rctx, orderID, gatewayErr.Error(), s.clock()); serr != nil {
			s.log.Warn("could not record the invoice error", "order_id", orderID, "err", serr)
		}
	}
	return out, err
}

// createAtGateway asks the gateway for the invoice and copies its instructions.
func (s *Service) createAtGateway(ctx context.Context, orderID uuid.UUID, inv *Invoice) error {
	expiry := InvoiceExpiry
	if s.expiry != nil {
		d, err := s.expiry(ctx)
		if err != nil {
			return fmt.Errorf("invoice expiry setting: %w", err)
		}
		expiry = d
	}
	gi, err := s.gateway.CreateInvoice(ctx, ports.InvoiceRequest{OrderID: orderID.String(), OrderNumber: inv.OrderNumber,
		Amount: ports.Money{Minor: inv.AmountMinor, Currency: inv.Currency}, ExpiresIn: expiry})
	if err != nil {
		return fmt.Errorf("create invoice at %s: %w", s.gateway.Name(), err)
	}
	inv.InvoiceID = &gi.ID
	inv.ExpiresAt = &gi.ExpiresAt
	inv.CheckoutLink = gi.CheckoutLink
	inv.MethodsJSON, _ = json.Marshal(gi.Methods)
	inv.GatewayStatus, inv.AdditionalStatus = gi.Status, gi.AdditionalStatus
	inv.RatePence = chainRate(gi.Methods)
	inv.LastError = ""
	inv.UpdatedAt = s.clock()
	return nil
}

// CreateInvoiceJob is the job handler of JobCreateInvoice.
func (s *Service) CreateInvoiceJob(ctx context.Context, payload []byte) error {
	var j invoiceJob
	if err := json.Unmarshal(payload, &j); err != nil {
		return fmt.Errorf("invoice job payload: %w", err)
	}
	_, err := s.CreateInvoice(ctx, j.OrderID)
	if ports.ErrorCodeOf(err) == ports.ENOTFOUND {
		return nil
	}
	return err
}

// ForOrders returns the invoices of several orders (a page of a list) at once.
func (s *Service) ForOrders(ctx context.Context, orderIDs []uuid.UUID) (map[uuid.UUID]*Invoice, error) {
	if len(orderIDs) == 0 {
		return map[uuid.UUID]*Invoice{}, nil
	}
	return s.store.Invoices(ctx, orderIDs)
}

// ForOrder returns an order's invoice.
func (s *Service) ForOrder(ctx context.Context, orderID uuid.UUID) (*Invoice, error) {
	return s.store.Invoice(ctx, orderID)
}

// OrderIDsWithStatus lists the orders whose invoice has the payment status, for the
// ordering module's staff filter. An unknown status is EINVALID.
func (s *Service) OrderIDsWithStatus(ctx context.Context, status string) ([]uuid.UUID, error) {
	if !Status(status).Valid() {
		return nil, ports.Invalid(ports.Field("payment", "Choose a payment status from the list."))
	}
	return s.store.OrderIDsWithStatus(ctx, Status(status))
}

// Statuses returns the payment status of each of the orders that has an invoice.
func (s *Service) Statuses(ctx context.Context, orderIDs []uuid.UUID) (map[uuid.UUID]Status, error) {
	if len(orderIDs) == 0 {
		return map[uuid.UUID]Status{}, nil
	}
	return s.store.Statuses(ctx, orderIDs)
}
