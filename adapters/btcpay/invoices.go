package btcpay

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"orderdesk/ports"
)

// invoiceData is the part of BTCPay's InvoiceData the gateway reads.
type invoiceData struct {
	ID               string                     `json:"id"`
	StoreID          string                     `json:"storeId"`
	Amount           jsonDecimal                `json:"amount"`
	Currency         string                     `json:"currency"`
	CheckoutLink     string                     `json:"checkoutLink"`
	Status           string                     `json:"status"`
	AdditionalStatus string                     `json:"additionalStatus"`
	CreatedTime      unixTime                   `json:"createdTime"`
	ExpirationTime   unixTime                   `json:"expirationTime"`
	Metadata         map[string]json.RawMessage `json:"metadata"`
}

// paymentMethodData is one entry of GET …/invoices/{id}/payment-methods, in either
// version's shape.
type paymentMethodData struct {
	PaymentMethodID string        `json:"paymentMethodId"` // 2.x
	PaymentMethod   string        `json:"paymentMethod"`   // 1.x
	Currency        string        `json:"currency"`        // 2.x
	CryptoCode      string        `json:"cryptoCode"`      // 1.x
	Destination     string        `json:"destination"`
	PaymentLink     string        `json:"paymentLink"`
	Rate            jsonDecimal   `json:"rate"`
	Amount          jsonDecimal   `json:"amount"`
	Due             jsonDecimal   `json:"due"`
	Activated       *bool         `json:"activated"`
	Payments        []paymentData `json:"payments"`
}

type paymentData struct {
	ID           string      `json:"id"`
	ReceivedDate unixTime    `json:"receivedDate"`
	Value        jsonDecimal `json:"value"`
	Status       string      `json:"status"`
	Destination  string      `json:"destination"`
}

// unixTime is a Unix time in seconds, sent as a JSON number.
type unixTime struct{ time.Time }

func (t *unixTime) UnmarshalJSON(b []byte) error {
	var d jsonDecimal
	if err := d.UnmarshalJSON(b); err != nil {
		return err
	}
	if !d.set {
		t.Time = time.Time{}
		return nil
	}
	s, err := d.d.units(0, roundHalfUp)
	if err != nil {
		return err
	}
	t.Time = time.Unix(s, 0).UTC()
	return nil
}

// The payment method ids the gateway knows, by either version's name.
const (
	methodChain = "BTC-CHAIN"
	methodLN    = "BTC-LN"
	methodLNURL = "BTC-LNURL"
)

// normalMethod maps a payment method id of 1.x or 2.x to its 2.x name; ok is false for
// a method that is not bitcoin.
func normalMethod(id string) (string, bool) {
	switch id {
	case "BTC", "BTC-CHAIN":
		return methodChain, true
	case "BTC-LightningNetwork", "BTC_LightningLike", "BTC-LN":
		return methodLN, true
	case "BTC-LNURLPAY", "BTC-LNURL":
		return methodLNURL, true
	}
	return "", false
}

// liveStatuses are the statuses of an invoice that can still be (or has been) paid.
var liveStatuses = map[string]int{"Settled": 0, "Processing": 1, "New": 2}

// CreateInvoice returns the live invoice BTCPay already has for the order (so that a
// retried job never makes a second), or creates one: amount in GBP as a decimal string,
// metadata orderId, orderNumber and itemDesc, expiry from r.ExpiresIn. Its payment
// methods fill Methods.
func (c *Client) CreateInvoice(ctx context.Context, r ports.InvoiceRequest) (*ports.Invoice, error) {
	if r.OrderID == "" || r.Amount.Minor <= 0 || r.Amount.Currency == "" {
		return nil, ports.Errorf(ports.EINVALID, "An invoice needs an order and an amount above zero.")
	}
	inv, err := c.liveInvoice(ctx, r)
	if err != nil {
		return nil, err
	}
	if inv == nil {
		inv = &invoiceData{}
		if err := c.call(ctx, http.MethodPost, c.storePath("invoices"), nil, createRequest(r), inv); err != nil {
			return nil, err
		}
	}
	methods, err := c.paymentMethods(ctx, inv.ID, true)
	if err != nil {
		return nil, err
	}
	return toInvoice(inv, methods)
}

// createInvoiceRequest is BTCPay's CreateInvoiceRequest, the fields we set.
type createInvoiceRequest struct {
	Amount                string          `json:"amount"`
	Currency              string          `json:"currency"`
	Metadata              invoiceMetadata `json:"metadata"`
	Checkout              checkoutOptions `json:"checkout"`
	AdditionalSearchTerms []string        `json:"additionalSearchTerms,omitempty"`
}

type invoiceMetadata struct {
	OrderID     string `json:"orderId"`
	OrderNumber string `json:"orderNumber,omitempty"`
	ItemDesc    string `json:"itemDesc,omitempty"`
}

type checkoutOptions struct {
	// ExpirationMinutes is omitted (the store's default) when the request has no expiry.
	ExpirationMinutes int64 `json:"expirationMinutes,omitempty"`
	// LazyPaymentMethods false: the addresses and the Lightning invoice exist at once,
	// since OrderDesk shows them itself instead of sending customers to BTCPay's page.
	LazyPaymentMethods bool `json:"lazyPaymentMethods"`
}

func createRequest(r ports.InvoiceRequest) createInvoiceRequest {
	req := createInvoiceRequest{
		Amount:   ports.FormatMinor(r.Amount.Minor, r.Amount.Currency),
		Currency: r.Amount.Currency,
		Metadata: invoiceMetadata{OrderID: r.OrderID, OrderNumber: r.OrderNumber},
	}
	if r.OrderNumber != "" {
		req.Metadata.ItemDesc = "Order " + r.OrderNumber
		req.AdditionalSearchTerms = []string{r.OrderNumber}
	}
	if r.ExpiresIn > 0 {
		// Whole minutes, rounded up: BTCPay takes fractions, but a payer never gets less time.
		req.Checkout.ExpirationMinutes = int64((r.ExpiresIn + time.Minute - 1) / time.Minute)
	}
	return req
}

// liveInvoice finds the invoice made earlier for the order, if one is still live (New
// and not past its expiry, Processing or Settled) and for the same amount.
func (c *Client) liveInvoice(ctx context.Context, r ports.InvoiceRequest) (*invoiceData, error) {
	var list []invoiceData
	if err := c.call(ctx, http.MethodGet, c.storePath("invoices"), url.Values{"orderId": {r.OrderID}}, nil, &list); err != nil {
		return nil, err
	}
	now := c.clock()
	var best *invoiceData
	for i := range list {
		inv := &list[i]
		rank, live := liveStatuses[inv.Status]
		if !live || orderIDOf(inv.Metadata) != r.OrderID || inv.Currency != r.Amount.Currency {
			continue
		}
		if m, err := inv.Amount.d.units(ports.Exponent(inv.Currency), roundExact); !inv.Amount.set || err != nil || m != r.Amount.Minor {
			continue
		}
		if inv.Status == "New" && !inv.ExpirationTime.IsZero() && !now.Before(inv.ExpirationTime.Time) {
			continue
		}
		if best == nil || rank < liveStatuses[best.Status] || (rank == liveStatuses[best.Status] && inv.CreatedTime.After(best.CreatedTime.Time)) {
			best = inv
		}
	}
	return best, nil
}

// orderIDOf is metadata.orderId as text (other integrations may have put a number).
func orderIDOf(md map[string]json.RawMessage) string {
	raw, ok := md["orderId"]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// Invoice reads an invoice of the store with its payment methods and payments.
func (c *Client) Invoice(ctx context.Context, id string) (*ports.Invoice, error) {
	if id == "" {
		return nil, ports.Errorf(ports.ENOTFOUND, "BTCPay Server: no invoice id.")
	}
	var inv invoiceData
	if err := c.call(ctx, http.MethodGet, c.storePath("invoices", id), nil, nil, &inv); err != nil {
		return nil, err
	}
	methods, err := c.paymentMethods(ctx, id, false)
	if err != nil {
		return nil, err
	}
	return toInvoice(&inv, methods)
}

// paymentMethods reads an invoice's payment methods; unless onlyAccounted, with the
// payments BTCPay no longer counts (replaced or double spent), so that they show as
// Invalid.
func (c *Client) paymentMethods(ctx context.Context, id string, onlyAccounted bool) ([]paymentMethodData, error) {
	var q url.Values
	if !onlyAccounted {
		q = url.Values{"onlyAccountedPayments": {"false"}}
	}
	var out []paymentMethodData
	if err := c.call(ctx, http.MethodGet, c.storePath("invoices", id, "payment-methods"), q, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// toInvoice maps BTCPay's invoice and payment methods to the port's invoice. On-chain and
// Lightning methods become Methods (LNURL is left out: its destination is no invoice a
// wallet pays directly); the payments of every bitcoin method become Payments.
func toInvoice(inv *invoiceData, pms []paymentMethodData) (*ports.Invoice, error) {
	out := &ports.Invoice{
		ID: inv.ID, StoreID: inv.StoreID, OrderID: orderIDOf(inv.Metadata),
		Status: inv.Status, AdditionalStatus: inv.AdditionalStatus,
		CreatedAt: inv.CreatedTime.Time, ExpiresAt: inv.ExpirationTime.Time, CheckoutLink: inv.CheckoutLink,
		Methods: []ports.PaymentMethod{}, Payments: []ports.ReceivedPayment{},
	}
	if inv.Amount.set {
		minor, err := inv.Amount.d.units(ports.Exponent(inv.Currency), roundHalfUp)
		if err != nil {
			return nil, fmt.Errorf("btcpay: invoice %s amount: %w", inv.ID, err)
		}
		out.Amount = ports.Money{Minor: minor, Currency: inv.Currency}
	}
	for _, pm := range pms {
		id, ok := normalMethod(firstOf(pm.PaymentMethodID, pm.PaymentMethod))
		currency := firstOf(pm.Currency, pm.CryptoCode)
		if !ok || (currency != "" && currency != "BTC") {
			continue
		}
		ratePence, err := pm.Rate.d.units(2, roundHalfUp)
		if err != nil {
			return nil, fmt.Errorf("btcpay: invoice %s %s rate: %w", inv.ID, id, err)
		}
		for _, p := range pm.Payments {
			rp, err := toPayment(id, pm.Rate.d, ratePence, p)
			if err != nil {
				return nil, fmt.Errorf("btcpay: invoice %s payment %s: %w", inv.ID, p.ID, err)
			}
			out.Payments = append(out.Payments, rp)
		}
		if id == methodLNURL || (pm.Activated != nil && !*pm.Activated) || pm.Destination == "" {
			continue
		}
		m := ports.PaymentMethod{Method: id, Destination: pm.Destination, PaymentURI: pm.PaymentLink, RatePence: ratePence}
		if m.AmountSats, err = pm.Amount.d.units(8, roundUp); err != nil {
			return nil, fmt.Errorf("btcpay: invoice %s %s amount: %w", inv.ID, id, err)
		}
		if m.DueSats, err = pm.Due.d.units(8, roundUp); err != nil {
			return nil, fmt.Errorf("btcpay: invoice %s %s due: %w", inv.ID, id, err)
		}
		if m.DueSats < 0 { // overpaid: nothing is due
			m.DueSats = 0
		}
		if m.PaymentURI == "" {
			m.PaymentURI = paymentURI(id, pm.Destination)
		}
		out.Methods = append(out.Methods, m)
	}
	sort.SliceStable(out.Payments, func(i, j int) bool { return out.Payments[i].ReceivedAt.Before(out.Payments[j].ReceivedAt) })
	return out, nil
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// paymentURI is the link BTCPay leaves empty for a method it has not activated; only
// used when the destination is known all the same.
func paymentURI(method, destination string) string {
	if method == methodChain {
		return "bitcoin:" + destination
	}
	return "lightning:" + strings.ToLower(destination)
}

// toPayment maps one payment. Values are rounded to the nearest satoshi (Lightning pays
// in millisatoshis); the GBP value is the exact value at the method's rate, rounded half
// up to the penny.
func toPayment(method string, rate decimal, ratePence int64, p paymentData) (ports.ReceivedPayment, error) {
	rp := ports.ReceivedPayment{ID: p.ID, TxID: p.ID, Method: method, RatePence: ratePence,
		Destination: p.Destination, ReceivedAt: p.ReceivedDate.Time, Status: p.Status}
	if method == methodLNURL {
		rp.Method = methodLN // an LNURL payment is a Lightning payment
	}
	if method == methodChain {
		rp.TxID = txidOf(p.ID)
	}
	var err error
	if rp.AmountSats, err = p.Value.d.units(8, roundHalfUp); err != nil {
		return rp, err
	}
	if rp.ValuePence, err = p.Value.d.mul(rate).units(2, roundHalfUp); err != nil {
		return rp, err
	}
	return rp, nil
}

// txidOf is the transaction id of an on-chain payment id "<txid>-<vout>".
func txidOf(id string) string {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 || i == len(id)-1 {
		return id
	}
	for _, c := range id[i+1:] {
		if c < '0' || c > '9' {
			return id
		}
	}
	return id[:i]
}

// MarkInvoice marks an invoice "Settled" or "Invalid" by hand.
func (c *Client) MarkInvoice(ctx context.Context, id, status string) error {
	if status != "Settled" && status != "Invalid" {
		return ports.Errorf(ports.EINVALID, "An invoice can only be marked Settled or Invalid, not %q.", status)
	}
	return c.call(ctx, http.MethodPost, c.storePath("invoices", id, "status"), nil, map[string]string{"status": status}, nil)
}

// refundVariants are the refund variants the port offers.
var refundVariants = map[string]bool{"RateThen": true, "CurrentRate": true, "OverpaidAmount": true}

// pullPaymentData is the part of BTCPay's PullPaymentData a refund returns.
type pullPaymentData struct {
	ID       string      `json:"id"`
	Currency string      `json:"currency"`
	Amount   jsonDecimal `json:"amount"`
	ViewLink string      `json:"viewLink"`
}

// Refund creates a refund pull payment paid out on chain; the customer claims it at the
// returned link. The payout method goes where the server's version takes it: 1.x
// "paymentMethod": "BTC", 2.0 to 2.4.0 "payoutMethodId", 2.4.1 and later "payoutMethods".
func (c *Client) Refund(ctx context.Context, r ports.RefundRequest) (*ports.Refund, error) {
	if !refundVariants[r.RatePolicy] {
		return nil, ports.Errorf(ports.EINVALID, "A refund is RateThen, CurrentRate or OverpaidAmount, not %q.", r.RatePolicy)
	}
	v, err := c.knownVersion(ctx)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"refundVariant": r.RatePolicy}
	if r.Name != "" {
		body["name"] = r.Name
	}
	switch {
	case v.major < 2:
		body["paymentMethod"] = "BTC"
		if r.Description != "" {
			body["description"] = r.Description
		}
	case v.atLeast(2, 4, 1):
		body["payoutMethods"] = []string{methodChain}
	default:
		body["payoutMethodId"] = methodChain
	}
	var pp pullPaymentData
	if err := c.call(ctx, http.MethodPost, c.storePath("invoices", r.InvoiceID, "refund"), nil, body, &pp); err != nil {
		return nil, err
	}
	out := &ports.Refund{ID: pp.ID, ClaimLink: pp.ViewLink}
	if out.ClaimLink == "" {
		out.ClaimLink = c.base + "/pull-payments/" + url.PathEscape(pp.ID)
	}
	if pp.Amount.set {
		minor, err := pp.Amount.d.units(ports.Exponent(pp.Currency), roundHalfUp)
		if err != nil {
			return nil, fmt.Errorf("btcpay: refund %s amount: %w", pp.ID, err)
		}
		out.Amount = ports.Money{Minor: minor, Currency: pp.Currency}
	}
	return out, nil
}
