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
	ID               string
	Status           string // New, Processing, Settled, Expired, Invalid
	AdditionalStatus string // None, PaidPartial, PaidLate, PaidOver, Marked, Invalid
	ExpiresAt        time.Time
	CheckoutLink     string
	Methods          []PaymentMethod
}

// PaymentGateway creates and reads invoices (BTCPay Server, or the sandbox).
type PaymentGateway interface {
	Name() string
	// CreateInvoice creates an invoice for an order; a gateway that can look invoices
	// up by order returns the live one instead of making a second.
	CreateInvoice(ctx context.Context, r InvoiceRequest) (*Invoice, error)
	Invoice(ctx context.Context, id string) (*Invoice, error)
}
