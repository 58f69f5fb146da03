package ports

import (
	"context"
	"time"
)

// InvoiceRequest asks a payment gateway for an invoice of an order.
type InvoiceRequest struct {
	OrderID     string
	OrderNumber string
	Amount      Money
	ExpiresIn   time.Duration
}

// PaymentMethod is one way to pay an invoice: on-chain or Lightning.
type PaymentMethod struct {
	// Method is "BTC-CHAIN" or "BTC-LN".
	Method string `json:"method"`
	// Destination is the address or the BOLT11 invoice.
	Destination string `json:"destination"`
	// PaymentURI is the BIP21 URI (or "lightning:…").
	PaymentURI string `json:"paymentUri"`
	// Amount, Due in satoshis; Rate in pence per bitcoin.
	AmountSats int64 `json:"amountSats"`
	DueSats    int64 `json:"dueSats"`
	RatePence  int64 `json:"ratePence"`
}

// Invoice is a gateway's invoice, in the gateway's own terms of status.
type Invoice struct {
	ID string
	// StoreID is the gateway's store (BTCPay) the invoice belongs to.
	StoreID string
	// OrderID is the order the invoice was made for (metadata.orderId at BTCPay).
	OrderID          string
	Status           string // New, Processing, Settled, Expired, Invalid
	AdditionalStatus string // None, PaidPartial, PaidLate, PaidOver, Marked, Invalid
	// Amount is the invoice's amount in its currency (GBP).
	Amount       Money
	CreatedAt    time.Time
	ExpiresAt    time.Time
	CheckoutLink string
	Methods      []PaymentMethod
	// Payments are the payments received for the invoice, of every method; Invoice
	// fills them in, CreateInvoice may leave them empty.
	Payments []ReceivedPayment
}

// ReceivedPayment is one payment towards an invoice: an on-chain transaction output or
// a Lightning payment.
type ReceivedPayment struct {
	// ID identifies the payment at the gateway: "txid-vout" on chain, the payment hash
	// on Lightning. It is stable, so storing payments by it is idempotent.
	ID string
	// TxID is the transaction id (on chain) or the payment hash (Lightning).
	TxID   string
	Method string // "BTC-CHAIN" or "BTC-LN"
	// AmountSats is what was paid; RatePence the rate of the invoice's method, in
	// pence per bitcoin; ValuePence = AmountSats at that rate, rounded half up.
	AmountSats  int64
	RatePence   int64
	ValuePence  int64
	Destination string
	ReceivedAt  time.Time
	// Status is the gateway's: "Processing" (seen, not yet confirmed), "Settled" or
	// "Invalid" (double spent, replaced).
	Status string
}

// RefundRequest asks for a refund of an invoice, paid out by a pull payment whose
// claim link the customer opens to give an address.
type RefundRequest struct {
	InvoiceID string
	// RatePolicy is "RateThen", "CurrentRate" or "OverpaidAmount" (BTCPay's refund
	// variants): what the customer paid at the invoice's rate, the fiat amount at
	// today's rate, or only the overpaid part.
	RatePolicy  string
	Name        string
	Description string
}

// Refund is a refund the gateway made.
type Refund struct {
	ID        string
	ClaimLink string
	// Amount is what it pays, in its currency.
	Amount Money
}

// PaymentWebhook is the gist of a gateway's webhook delivery, once its signature is
// verified: which invoice it is about. Processing re-reads the invoice; the payload is
// not trusted beyond telling which one.
type PaymentWebhook struct {
	// DeliveryID is the original delivery id: redeliveries of one event share it.
	DeliveryID string
	Type       string
	StoreID    string
	InvoiceID  string
	// Test is a gateway's test delivery (no invoice behind it).
	Test bool
}

// PaymentGateway creates and reads invoices (BTCPay Server, or the sandbox).
type PaymentGateway interface {
	Name() string
	// CreateInvoice creates an invoice for an order; a gateway that can look invoices
	// up by order returns the live one instead of making a second.
	CreateInvoice(ctx context.Context, r InvoiceRequest) (*Invoice, error)
	// Invoice reads an invoice with its methods and payments; ENOTFOUND when the
	// gateway has no such invoice (or it belongs to another store).
	Invoice(ctx context.Context, id string) (*Invoice, error)
	// MarkInvoice sets an invoice's status by hand: "Settled" (staff accept a partial
	// or late payment) or "Invalid" (the order was cancelled before payment).
	MarkInvoice(ctx context.Context, id, status string) error
	// Refund creates a refund of an invoice.
	Refund(ctx context.Context, r RefundRequest) (*Refund, error)
	// ParseWebhook verifies a webhook delivery's signature over the raw body
	// (EUNAUTHORIZED when it does not verify) and returns what it is about. EINVALID
	// when the body is not an event at all.
	ParseWebhook(signature string, body []byte) (*PaymentWebhook, error)
}
