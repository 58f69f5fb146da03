// Package payments is the module for getting paid: the invoice of each order at the
// payment gateway and its status. (BTCPay's webhooks, reconciliation and refunds come
// with the payments issue.)
package payments

import (
	"context"
	"encoding/json"
	"fmt"
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
	OrderID      uuid.UUID  `db:"order_id"`
	OrderNumber  string     `db:"order_number"`
	Provider     string     `db:"provider"`
	InvoiceID    *string    `db:"invoice_id"`
	Status       Status     `db:"status"`
	AmountMinor  int64      `db:"amount_minor"`
	Currency     string     `db:"currency"`
	ExpiresAt    *time.Time `db:"expires_at"`
	CheckoutLink string     `db:"checkout_link"`
	MethodsJSON  []byte     `db:"methods"`
	LastError    string     `db:"last_error"`
	CreatedAt    time.Time  `db:"created_at"`
	UpdatedAt    time.Time  `db:"updated_at"`
}

// Methods decodes the payment methods.
func (i *Invoice) Methods() []ports.PaymentMethod {
	var out []ports.PaymentMethod
	_ = json.Unmarshal(i.MethodsJSON, &out)
	return out
}

// Store keeps invoices. Errors: ENOTFOUND.
type Store interface {
	// Open inserts the pending invoice of an order and records job in the outbox.
	Open(ctx context.Context, inv *Invoice, job ports.Job) error
	Invoice(ctx context.Context, orderID uuid.UUID) (*Invoice, error)
	// Invoices returns the invoices of several orders, by order id.
	Invoices(ctx context.Context, orderIDs []uuid.UUID) (map[uuid.UUID]*Invoice, error)
	// WithInvoiceLocked locks an order's invoice while fn talks to the gateway and
	// saves what fn changed.
	WithInvoiceLocked(ctx context.Context, orderID uuid.UUID, fn func(inv *Invoice) error) (*Invoice, error)
	// OrderIDsWithStatus lists the orders whose invoice has status.
	OrderIDsWithStatus(ctx context.Context, status Status) ([]uuid.UUID, error)
	// Statuses returns the invoice status of each of the orders that has one.
	Statuses(ctx context.Context, orderIDs []uuid.UUID) (map[uuid.UUID]Status, error)
}

// Service is the payments module's application service.
type Service struct {
	store    Store
	gateway  ports.PaymentGateway
	clock    ports.Clock
	tx       ports.Transactor
	listener Listener
}

// Listener hears of changes to an order's payment, inside the transaction that
// records them (ordering tells the client app).
type Listener interface {
	PaymentUpdated(ctx context.Context, orderID uuid.UUID, status string) error
}

// NewService returns the payments service.
func NewService(store Store, gateway ports.PaymentGateway, clock ports.Clock, tx ports.Transactor, listener Listener) *Service {
	return &Service{store: store, gateway: gateway, clock: clock, tx: tx, listener: listener}
}

type invoiceJob struct {
	OrderID uuid.UUID `json:"orderId"`
}

// Open records a new order's invoice as pending and queues its creation. It joins the
// order's transaction.
func (s *Service) Open(ctx context.Context, orderID uuid.UUID, number string, amountMinor int64) error {
	now := s.clock()
	payload, _ := json.Marshal(invoiceJob{OrderID: orderID})
	return s.store.Open(ctx, &Invoice{OrderID: orderID, OrderNumber: number, Provider: s.gateway.Name(), Status: StatusPending,
		AmountMinor: amountMinor, Currency: "GBP", MethodsJSON: []byte("[]"), CreatedAt: now, UpdatedAt: now},
		ports.Job{ID: JobCreateInvoice + ":" + orderID.String(), Type: JobCreateInvoice, Payload: payload, Queue: ports.QueueCritical, MaxRetry: 20})
}

// CreateInvoice makes the invoice at the gateway unless it exists. The placing request
// calls it with a short deadline, and the queued job calls it again until it succeeds;
// the row lock makes sure only one of them talks to the gateway at a time.
func (s *Service) CreateInvoice(ctx context.Context, orderID uuid.UUID) (*Invoice, error) {
	var out *Invoice
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		created := false
		inv, err := s.store.WithInvoiceLocked(ctx, orderID, func(inv *Invoice) error {
			if inv.InvoiceID != nil {
				return nil
			}
			created = true
			return s.createAtGateway(ctx, orderID, inv)
		})
		if err != nil {
			return err
		}
		out = inv
		if created && s.listener != nil {
			return s.listener.PaymentUpdated(ctx, orderID, string(inv.Status))
		}
		return nil
	})
	return out, err
}

// createAtGateway asks the gateway for the invoice and copies its instructions.
func (s *Service) createAtGateway(ctx context.Context, orderID uuid.UUID, inv *Invoice) error {
	gi, err := s.gateway.CreateInvoice(ctx, ports.InvoiceRequest{OrderID: orderID.String(), OrderNumber: inv.OrderNumber,
		Amount: ports.Money{Minor: inv.AmountMinor, Currency: inv.Currency}, ExpiresIn: InvoiceExpiry})
	if err != nil {
		return fmt.Errorf("create invoice at %s: %w", s.gateway.Name(), err)
	}
	inv.InvoiceID = &gi.ID
	inv.ExpiresAt = &gi.ExpiresAt
	inv.CheckoutLink = gi.CheckoutLink
	inv.MethodsJSON, _ = json.Marshal(gi.Methods)
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
