package accounting

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Order is an order as the accountant's screens show it. ExpiresAt and InvoiceURL
// come from the order's invoice, when it has one.
type Order struct {
	ID         uuid.UUID
	Number     string
	Status     string
	TotalPence int64
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	InvoiceURL string
}

// UnpaidFilter selects orders waiting for payment placed in [From, To); a zero bound
// is open. After is the cursor a previous page returned.
type UnpaidFilter struct {
	From, To time.Time
	After    string
	Limit    int
}

// Orders is what the module reads of the ordering module (with the invoices of the
// payments module). The composition root implements it with their services.
type Orders interface {
	// CountByStatus counts every order, per status.
	CountByStatus(ctx context.Context) (map[string]int, error)
	// Unpaid lists the orders in status pending_payment matching f, newest first, and
	// the cursor of the next page ("" after the last). A cursor it did not make is
	// EINVALID.
	Unpaid(ctx context.Context, f UnpaidFilter) ([]Order, string, error)
	// OnHold lists the most recent orders on hold (payment exceptions waiting for
	// staff), at most limit of them.
	OnHold(ctx context.Context, limit int) ([]Order, error)
}

// The methods of a payment.
const (
	MethodOnChain   = "BTC-CHAIN"
	MethodLightning = "BTC-LN"
)

// Payment is one payment received for an invoice: an on-chain output or a Lightning
// payment. Status is confirming, settled or invalid.
type Payment struct {
	ID          string
	OrderID     uuid.UUID
	OrderNumber string
	InvoiceID   string
	Method      string
	// TxID is the transaction id, or the payment hash of a Lightning payment.
	TxID        string
	AmountSats  int64
	RatePence   int64
	ValuePence  int64
	Status      string
	ReceivedAt  time.Time
	ConfirmedAt *time.Time
}

// ReceivedFilter selects payments received in [From, To); a zero bound is open. After
// is the cursor a previous page returned.
type ReceivedFilter struct {
	From, To time.Time
	After    string
	Limit    int
}

// Payments is what the module reads of the payments module.
type Payments interface {
	// Received lists the payments matching f, most recent first, and the cursor of
	// the next page ("" after the last). A cursor it did not make is EINVALID.
	Received(ctx context.Context, f ReceivedFilter) ([]Payment, string, error)
	// StreamReceived calls fn with every payment received in [from, to), most recent
	// first, as it reads them; an error from fn stops it and is returned.
	StreamReceived(ctx context.Context, from, to time.Time, fn func(Payment) error) error
	// ReceivedTotals counts the payments received since a time and sums their value.
	ReceivedTotals(ctx context.Context, from, to time.Time) (count int, pence int64, err error)
}

// Stock is what the module reads of the catalog.
type Stock interface {
	// CountLowStock counts the products at or below their low-stock threshold.
	CountLowStock(ctx context.Context) (int, error)
}

// Sources are the other modules' data the accountant's screens show.
type Sources struct {
	Orders   Orders
	Payments Payments
	Stock    Stock
}

// DefaultExplorerTxURL is the block explorer used when none is configured.
const DefaultExplorerTxURL = "https://mempool.space/tx/{txid}"

// ExplorerURL is the address of an on-chain payment's transaction on the block
// explorer whose URL template is tmpl ("{txid}" stands for the id), or "" for a
// Lightning payment, a payment without a txid, or a template without "{txid}" or not
// on http(s).
func ExplorerURL(tmpl string, p Payment) string {
	if p.Method == MethodLightning || p.TxID == "" || !strings.Contains(tmpl, "{txid}") {
		return ""
	}
	if !strings.HasPrefix(tmpl, "https://") && !strings.HasPrefix(tmpl, "http://") {
		return ""
	}
	for _, r := range p.TxID {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return ""
		}
	}
	return strings.ReplaceAll(tmpl, "{txid}", p.TxID)
}
