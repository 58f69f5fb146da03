// Package sandbox has the development stand-ins for the payment gateway and the
// carrier: they answer at once, deterministically, and never touch the network.
package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// RatePence is the sandbox's bitcoin price: £50,000.00, so one penny is 20 satoshis.
const RatePence = 5_000_000

// Payments is a payment gateway that keeps its invoices in its own table
// (sandbox.invoices), so that every serve and worker process sees the same ones, and
// lets staff simulate what customers do (pay, pay partly, overpay, pay late, let it
// expire). It behaves like BTCPay: statuses New, Processing, Settled, Expired,
// Invalid with the same additional statuses.
type Payments struct {
	baseURL string
	clock   ports.Clock
	store   InvoiceStore
}

// InvoiceStore keeps the sandbox's invoices as JSON documents (adapters/postgres
// implements it on sandbox.invoices, joining the caller's transaction). Get and
// Update return ENOTFOUND for a missing invoice.
type InvoiceStore interface {
	// Get returns an invoice by id, or by order id when byOrder.
	Get(ctx context.Context, key string, byOrder bool) ([]byte, error)
	// Insert stores a new invoice; inserted is false when the order has one.
	Insert(ctx context.Context, id, orderID string, data []byte) (inserted bool, err error)
	// Update locks an invoice while fn changes it.
	Update(ctx context.Context, id string, fn func(data []byte) ([]byte, error)) error
}

var _ ports.PaymentGateway = (*Payments)(nil)

// NewPayments returns the sandbox gateway; checkout links point under baseURL.
func NewPayments(baseURL string, clock ports.Clock, store InvoiceStore) *Payments {
	return &Payments{baseURL: baseURL, clock: clock, store: store}
}

// Name is "sandbox".
func (p *Payments) Name() string { return "sandbox" }

// CreateInvoice makes an invoice with an on-chain and a Lightning method; asking again
// for the same order returns the same invoice.
func (p *Payments) CreateInvoice(ctx context.Context, r ports.InvoiceRequest) (*ports.Invoice, error) {
	if r.Amount.Currency != "GBP" || r.Amount.Minor <= 0 {
		return nil, ports.Errorf(ports.EINVALID, "sandbox: invoices are in GBP and above zero")
	}
	// The new invoice is inserted unless the order has one (one statement in the
	// usual case); then that one is returned.
	id := "sbx_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	sats := r.Amount.Minor * ports.SatsPerBTC / RatePence
	btc := ports.FormatMinor(sats, "BTC")
	addr := fakeAddress(id)
	now := p.clock().UTC().Truncate(time.Second)
	inv := &ports.Invoice{
		ID: id, StoreID: "sandbox", OrderID: r.OrderID, Status: "New", AdditionalStatus: "None", Amount: r.Amount,
		CreatedAt: now, ExpiresAt: now.Add(r.ExpiresIn), CheckoutLink: p.baseURL + "/sandbox/invoices/" + id,
		Methods: []ports.PaymentMethod{
			{Method: "BTC-CHAIN", Destination: addr, PaymentURI: "bitcoin:" + addr + "?amount=" + btc + "&label=" + r.OrderNumber,
				AmountSats: sats, DueSats: sats, RatePence: RatePence},
			{Method: "BTC-LN", Destination: "lnbcrt" + fmt.Sprint(sats*10) + "n1" + id, PaymentURI: "lightning:lnbcrt" + fmt.Sprint(sats*10) + "n1" + id,
				AmountSats: sats, DueSats: sats, RatePence: RatePence},
		},
	}
	data, _ := json.Marshal(inv)
	inserted, err := p.store.Insert(ctx, id, r.OrderID, data)
	if err != nil {
		return nil, err
	}
	if !inserted {
		return p.byOrder(ctx, r.OrderID)
	}
	return inv, nil
}

func (p *Payments) byOrder(ctx context.Context, orderID string) (*ports.Invoice, error) {
	data, err := p.store.Get(ctx, orderID, true)
	if err != nil {
		return nil, err
	}
	return p.decode(data)
}

func (p *Payments) decode(data []byte) (*ports.Invoice, error) {
	var inv ports.Invoice
	if err := json.Unmarshal(data, &inv); err != nil {
		return nil, fmt.Errorf("sandbox invoice: %w", err)
	}
	p.expire(&inv)
	return &inv, nil
}

// expire applies the invoice's expiry as BTCPay's watcher would.
func (p *Payments) expire(inv *ports.Invoice) {
	if inv.Status == "New" && !p.clock().Before(inv.ExpiresAt) {
		inv.Status = "Expired"
		if paid(inv) > 0 {
			inv.AdditionalStatus = "PaidPartial"
		}
	}
}

// Invoice returns an invoice the sandbox made.
func (p *Payments) Invoice(ctx context.Context, id string) (*ports.Invoice, error) {
	data, err := p.store.Get(ctx, id, false)
	if err != nil {
		return nil, err
	}
	return p.decode(data)
}

// update changes an invoice under a row lock.
func (p *Payments) update(ctx context.Context, id string, fn func(inv *ports.Invoice) error) error {
	return p.store.Update(ctx, id, func(data []byte) ([]byte, error) {
		inv, err := p.decode(data)
		if err != nil {
			return nil, err
		}
		if err := fn(inv); err != nil {
			return nil, err
		}
		return json.Marshal(inv)
	})
}

// MarkInvoice sets an invoice's status by hand, as BTCPay allows it.
func (p *Payments) MarkInvoice(ctx context.Context, id, status string) error {
	return p.update(ctx, id, func(inv *ports.Invoice) error {
		switch {
		case status == "Settled" && inv.Status != "Settled":
		case status == "Invalid" && inv.Status != "Invalid" && inv.Status != "Settled":
		default:
			return ports.Errorf(ports.EINVALID, "sandbox: an invoice that is %s cannot be marked %s.", inv.Status, status)
		}
		inv.Status, inv.AdditionalStatus = status, "Marked"
		return nil
	})
}

// Refund makes a sandbox refund with a claim link under the base URL.
func (p *Payments) Refund(ctx context.Context, r ports.RefundRequest) (*ports.Refund, error) {
	inv, err := p.Invoice(ctx, r.InvoiceID)
	if err != nil {
		return nil, err
	}
	id := "sbxr_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	amount := ports.Money{Minor: paid(inv), Currency: "BTC"}
	if r.RatePolicy == "OverpaidAmount" {
		amount.Minor = max(0, paid(inv)-inv.Methods[0].AmountSats)
	}
	return &ports.Refund{ID: id, ClaimLink: p.baseURL + "/sandbox/refunds/" + id, Amount: amount}, nil
}

// ParseWebhook refuses every delivery: the sandbox sends no webhooks.
func (p *Payments) ParseWebhook(string, []byte) (*ports.PaymentWebhook, error) {
	return nil, ports.Errorf(ports.EUNAUTHORIZED, "The sandbox gateway sends no webhooks.")
}

// Simulate does what a customer (or the network) would do to an invoice: "pay" (in
// full, confirmed), "pay_unconfirmed" (in full, seen but not yet confirmed: BTCPay's
// Processing), "confirm" (a seen payment confirms), "pay_partial" (half), "overpay"
// (10% more, confirmed), "pay_late" (in full after expiry), "expire" (the expiry time
// comes).
func (p *Payments) Simulate(ctx context.Context, invoiceID, action string) error {
	return p.update(ctx, invoiceID, func(inv *ports.Invoice) error {
		if len(inv.Methods) == 0 {
			return ports.Errorf(ports.ECONFLICT, "sandbox: the invoice has no payment method")
		}
		amount := inv.Methods[0].AmountSats
		due := amount - paid(inv)
		now := p.clock().UTC().Truncate(time.Second)
		refuse := func() error {
			return ports.Errorf(ports.ECONFLICT, "sandbox: cannot %s an invoice that is %s (%s).", strings.ReplaceAll(action, "_", " "),
				inv.Status, inv.AdditionalStatus)
		}
		switch action {
		case "pay", "overpay":
			if inv.Status != "New" {
				return refuse()
			}
			sats := due
			if action == "overpay" {
				sats = due + amount/10
			}
			p.pay(inv, sats, "Settled", now)
			inv.Status, inv.AdditionalStatus = "Settled", "None"
			if action == "overpay" {
				inv.AdditionalStatus = "PaidOver"
			}
		case "pay_unconfirmed":
			if inv.Status != "New" {
				return refuse()
			}
			p.pay(inv, due, "Processing", now)
			inv.Status, inv.AdditionalStatus = "Processing", "None"
		case "pay_partial":
			if inv.Status != "New" || due <= 1 {
				return refuse()
			}
			p.pay(inv, due/2, "Settled", now)
			inv.AdditionalStatus = "PaidPartial"
		case "pay_late":
			if inv.Status == "New" {
				inv.ExpiresAt = now
				inv.Status = "Expired"
			}
			if inv.Status != "Expired" || due <= 0 {
				return refuse()
			}
			p.pay(inv, due, "Settled", now)
			inv.AdditionalStatus = "PaidLate"
		case "expire":
			if inv.Status != "New" {
				return refuse()
			}
			inv.ExpiresAt = now
			inv.Status = "Expired"
			if paid(inv) > 0 {
				inv.AdditionalStatus = "PaidPartial"
			}
		case "confirm":
			if inv.Status != "Processing" {
				return refuse()
			}
			inv.Status = "Settled"
			for i := range inv.Payments {
				inv.Payments[i].Status = "Settled"
			}
		default:
			return ports.Errorf(ports.EINVALID, "sandbox: unknown action %q", action)
		}
		return nil
	})
}

// pay adds an on-chain payment of sats to the invoice.
func (p *Payments) pay(inv *ports.Invoice, sats int64, status string, at time.Time) {
	n := len(inv.Payments)
	h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", inv.ID, n)))
	txid := fmt.Sprintf("%x", h)
	rate := inv.Methods[0].RatePence
	inv.Payments = append(inv.Payments, ports.ReceivedPayment{ID: txid + "-0", TxID: txid, Method: "BTC-CHAIN", AmountSats: sats,
		RatePence: rate, ValuePence: ports.SatsValue(sats, rate), Destination: inv.Methods[0].Destination,
		ReceivedAt: at, Status: status})
	for i := range inv.Methods {
		inv.Methods[i].DueSats = max(0, inv.Methods[i].AmountSats-paid(inv))
	}
}

// paid is what the invoice has received, in satoshis.
func paid(inv *ports.Invoice) int64 {
	var n int64
	for _, p := range inv.Payments {
		if p.Status != "Invalid" {
			n += p.AmountSats
		}
	}
	return n
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
