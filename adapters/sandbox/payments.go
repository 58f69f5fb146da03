// Package sandbox has the development stand-ins for the payment gateway and the
// carrier: they answer at once, deterministically, and never touch the network.
package sandbox

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// RatePence is the sandbox's bitcoin price: £50,000.00, so one penny is 20 satoshis.
const RatePence = 5_000_000

// Payments is a payment gateway that makes invoices in memory.
type Payments struct {
	baseURL string
	clock   ports.Clock
	mu      sync.Mutex
	byOrder map[string]*ports.Invoice
	byID    map[string]*ports.Invoice
}

var _ ports.PaymentGateway = (*Payments)(nil)

// NewPayments returns the sandbox gateway; checkout links point under baseURL.
func NewPayments(baseURL string, clock ports.Clock) *Payments {
	return &Payments{baseURL: baseURL, clock: clock, byOrder: map[string]*ports.Invoice{}, byID: map[string]*ports.Invoice{}}
}

// Name is "sandbox".
func (p *Payments) Name() string { return "sandbox" }

// CreateInvoice makes an invoice with an on-chain and a Lightning method; asking again
// for the same order returns the same invoice.
func (p *Payments) CreateInvoice(_ context.Context, r ports.InvoiceRequest) (*ports.Invoice, error) {
	if r.Amount.Currency != "GBP" || r.Amount.Minor <= 0 {
		return nil, fmt.Errorf("sandbox: invoices are in GBP and above zero")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if inv, ok := p.byOrder[r.OrderID]; ok {
		return inv, nil
	}
	id := "sbx_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	sats := r.Amount.Minor * 100_000_000 / RatePence
	btc := ports.FormatMinor(sats, "BTC")
	addr := fakeAddress(id)
	inv := &ports.Invoice{
		ID: id, Status: "New", AdditionalStatus: "None", ExpiresAt: p.clock().Add(r.ExpiresIn).UTC().Truncate(time.Second),
		CheckoutLink: p.baseURL + "/sandbox/invoices/" + id,
		Methods: []ports.PaymentMethod{
			{Method: "BTC-CHAIN", Destination: addr, PaymentURI: "bitcoin:" + addr + "?amount=" + btc + "&label=" + r.OrderNumber,
				AmountSats: sats, DueSats: sats, RatePence: RatePence},
			{Method: "BTC-LN", Destination: "lnbcrt" + fmt.Sprint(sats*10) + "n1" + id, PaymentURI: "lightning:lnbcrt" + fmt.Sprint(sats*10) + "n1" + id,
				AmountSats: sats, DueSats: sats, RatePence: RatePence},
		},
	}
	p.byOrder[r.OrderID], p.byID[id] = inv, inv
	return inv, nil
}

// Invoice returns an invoice the sandbox made.
func (p *Payments) Invoice(_ context.Context, id string) (*ports.Invoice, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	inv, ok := p.byID[id]
	if !ok {
		return nil, ports.Errorf(ports.ENOTFOUND, "No such sandbox invoice.")
	}
	return inv, nil
}

// fakeAddress is a regtest-looking bech32 address derived from the invoice id.
func fakeAddress(id string) string {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	h := sha256.Sum256([]byte(id))
	var b strings.Builder
	b.WriteString("bcrt1q")
	for i := 0; i < 38; i++ {
		b.WriteByte(charset[h[i%32]%32])
	}
	return b.String()
}

// MarkInvoice sets an invoice's status by hand.
func (p *Payments) MarkInvoice(_ context.Context, id, status string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	inv, ok := p.byID[id]
	if !ok {
		return ports.Errorf(ports.ENOTFOUND, "No such sandbox invoice.")
	}
	inv.Status, inv.AdditionalStatus = status, "Marked"
	return nil
}

// Refund makes a sandbox refund with a claim link under the base URL.
func (p *Payments) Refund(_ context.Context, r ports.RefundRequest) (*ports.Refund, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	inv, ok := p.byID[r.InvoiceID]
	if !ok {
		return nil, ports.Errorf(ports.ENOTFOUND, "No such sandbox invoice.")
	}
	id := "sbxr_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	return &ports.Refund{ID: id, ClaimLink: p.baseURL + "/sandbox/refunds/" + id, Amount: inv.Amount}, nil
}

// ParseWebhook refuses every delivery: the sandbox sends no webhooks.
func (p *Payments) ParseWebhook(string, []byte) (*ports.PaymentWebhook, error) {
	return nil, ports.Errorf(ports.EUNAUTHORIZED, "The sandbox gateway sends no webhooks.")
}
