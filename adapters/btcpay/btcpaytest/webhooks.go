package btcpaytest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// delivery is a webhook delivery the server made, kept for Redeliver.
type delivery struct {
	id, original, webhookID string
	redelivery              bool
	typ                     string
	timestamp               time.Time
	storeID, invoiceID      string
	metadata                json.RawMessage
	fields                  []field // the type's own fields, in BTCPay's order
}

type field struct {
	name  string
	value any
}

// eventPayment is a payment in a webhook, fields in BTCPay's order.
type eventPayment struct {
	ID           string `json:"id"`
	ReceivedDate int64  `json:"receivedDate"`
	Value        string `json:"value"`
	Fee          string `json:"fee"`
	Status       string `json:"status"`
	Destination  string `json:"destination"`
}

// DeliveryError is a delivery the receiver answered with a status other than 2xx.
type DeliveryError struct {
	StatusCode int
	Body       string
}

func (e *DeliveryError) Error() string {
	return fmt.Sprintf("btcpaytest: the webhook answered %d: %s", e.StatusCode, e.Body)
}

// Deliver posts a webhook event of eventType ("InvoiceSettled", "InvoiceReceivedPayment",
// …) about an invoice to url, signed with secret, and returns its delivery id. The
// type's own fields come from the invoice's state: manuallyMarked, overPaid,
// partiallyPaid, afterExpiration, and for InvoiceReceivedPayment and
// InvoicePaymentSettled the last (settled) payment. A receiver's non-2xx answer is a
// *DeliveryError; the delivery is kept for Redeliver either way.
func (s *Server) Deliver(ctx context.Context, url, secret, eventType, invoiceID string) (string, error) {
	s.mu.Lock()
	inv := s.invoices[invoiceID]
	if inv == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("btcpaytest: no invoice %q", invoiceID)
	}
	return s.deliverLocked(ctx, url, secret, eventType, inv)
}

// DeliverTest posts what the store's "Test webhook" button sends: an event of
// eventType about the invoice "__test__<id>__test__", with empty metadata.
func (s *Server) DeliverTest(ctx context.Context, url, secret, eventType string) (string, error) {
	s.mu.Lock()
	inv := &invoice{id: "__test__" + randomHex(16) + "__test__", storeID: s.cfg.StoreID, status: "New", additional: "None",
		metadata: json.RawMessage("{}")}
	return s.deliverLocked(ctx, url, secret, eventType, inv)
}

// deliverLocked records a first delivery of eventType about inv and sends it; it is
// called with the lock held and releases it before sending.
func (s *Server) deliverLocked(ctx context.Context, url, secret, eventType string, inv *invoice) (string, error) {
	fields, err := s.eventFields(inv, eventType)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	d := &delivery{id: newID(), webhookID: s.webhookID(url), typ: eventType, timestamp: s.cfg.Clock(),
		storeID: inv.storeID, invoiceID: inv.id, metadata: inv.metadata, fields: fields}
	d.original = d.id
	s.deliveries[d.id] = d
	s.mu.Unlock()
	return d.id, s.send(ctx, url, secret, d)
}

// Redeliver sends a delivery again as BTCPay does: a new deliveryId, the first
// delivery's originalDeliveryId, isRedelivery true, a new timestamp, the same event.
func (s *Server) Redeliver(ctx context.Context, url, secret, deliveryID string) (string, error) {
	s.mu.Lock()
	old := s.deliveries[deliveryID]
	if old == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("btcpaytest: no delivery %q", deliveryID)
	}
	d := *old
	d.id, d.redelivery, d.timestamp = newID(), true, s.cfg.Clock()
	s.deliveries[d.id] = &d
	s.mu.Unlock()
	return d.id, s.send(ctx, url, secret, &d)
}

// webhookID is the id of the registered webhook posting to url, or a made-up one that
// stays the same for the url (the lock held).
func (s *Server) webhookID(url string) string {
	for _, h := range s.webhooks {
		if h.url == url {
			return h.id
		}
	}
	if s.hookIDs[url] == "" {
		s.hookIDs[url] = newID()
	}
	return s.hookIDs[url]
}

// eventFields are the fields a type adds, in BTCPay's order (the lock held).
func (s *Server) eventFields(inv *invoice, typ string) ([]field, error) {
	_, max := inv.dueRange()
	overPaid := inv.additional == "PaidOver" || (max > 0 && inv.paidMsat() > max)
	marked := inv.additional == "Marked"
	switch typ {
	case "InvoiceCreated", "InvoiceExpiredPaidPartial", "InvoicePaidAfterExpiration":
		return nil, nil
	case "InvoiceProcessing":
		return []field{{"overPaid", overPaid}}, nil
	case "InvoiceSettled":
		return []field{{"manuallyMarked", marked}, {"overPaid", overPaid}}, nil
	case "InvoiceInvalid":
		return []field{{"manuallyMarked", marked}}, nil
	case "InvoiceExpired":
		return []field{{"partiallyPaid", inv.paidMsat() > 0}}, nil
	case "InvoiceRefund":
		return []field{{"pullPaymentId", inv.pullPayment}}, nil
	case "InvoiceReceivedPayment", "InvoicePaymentSettled":
		var m *method
		var p *payment
		for _, x := range inv.methods {
			for _, y := range x.payments {
				if (typ == "InvoiceReceivedPayment" || y.status == "Settled") && (p == nil || !y.received.Before(p.received)) {
					m, p = x, y
				}
			}
		}
		ep := eventPayment{ID: randomHex(32) + "-0", ReceivedDate: s.cfg.Clock().Unix(), Value: "0.00000000", Fee: "0.00000000",
			Status: "Processing", Destination: "bcrt1q" + bech32ish([]byte(inv.id), 38)}
		methodID := "BTC-CHAIN"
		if p != nil {
			methodID = m.id
			ep = eventPayment{ID: p.id, ReceivedDate: p.received.Unix(), Value: btcText(p.msat, m.id), Fee: btcText(0, m.id),
				Status: p.status, Destination: p.destination}
		} else if len(inv.methods) > 0 {
			return nil, fmt.Errorf("btcpaytest: invoice %s has no payment for %s", inv.id, typ)
		}
		methodField := "paymentMethodId"
		if s.cfg.Shape == V1 {
			methodField = "paymentMethod"
		}
		after := inv.status == "Expired" || inv.status == "Invalid"
		return []field{{"afterExpiration", after}, {methodField, s.methodName(methodID)}, {"payment", ep}}, nil
	}
	return nil, nil
}

// eventSchemas are the document's schemas of each event type.
var eventSchemas = map[string]string{
	"InvoiceCreated":         "WebhookInvoiceEvent",
	"InvoiceReceivedPayment": "WebhookInvoiceReceivedPaymentEvent",
	"InvoicePaymentSettled":  "WebhookInvoicePaymentSettledEvent",
	"InvoiceProcessing":      "WebhookInvoiceProcessingEvent",
	"InvoiceExpired":         "WebhookInvoiceExpiredEvent",
	"InvoiceSettled":         "WebhookInvoiceSettledEvent",
	"InvoiceInvalid":         "WebhookInvoiceInvalidEvent",
}

// body is the delivery's JSON as BTCPay's serialiser writes it: indented by two spaces,
// "name": value, no HTML escaping, no final newline.
func (d *delivery) body() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	put := func(name string, v any) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		writeValue(&b, name)
		b.WriteByte(':')
		writeValue(&b, v)
	}
	put("deliveryId", d.id)
	put("webhookId", d.webhookID)
	put("originalDeliveryId", d.original)
	put("isRedelivery", d.redelivery)
	put("type", d.typ)
	put("timestamp", d.timestamp.Unix())
	for _, f := range d.fields {
		put(f.name, f.value)
	}
	put("storeId", d.storeID)
	put("invoiceId", d.invoiceID)
	put("metadata", d.metadata)
	b.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		panic(err)
	}
	return out.Bytes()
}

func writeValue(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	b.Truncate(b.Len() - 1) // Encode's newline
}

// Sign is the BTCPay-Sig value of body under secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (s *Server) send(ctx context.Context, url, secret string, d *delivery) error {
	body := d.body()
	if name, ok := eventSchemas[d.typ]; ok {
		var v any
		_ = json.Unmarshal(body, &v)
		if ref := s.spec.doc.Components.Schemas[name]; ref != nil {
			if err := ref.Value.VisitJSON(v); err != nil {
				s.mismatch("the fake's %s webhook does not match %s: %v\nbody: %s", d.typ, name, err, clip(body))
			}
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("BTCPay-Sig", Sign(secret, body))
	req.Header.Set("User-Agent", "BTCPayServer/"+s.cfg.Version)
	resp, err := s.hook.Do(req)
	if err != nil {
		return fmt.Errorf("btcpaytest: deliver %s: %w", d.typ, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &DeliveryError{StatusCode: resp.StatusCode, Body: string(answer)}
	}
	return nil
}

// Body returns the exact body of a delivery made earlier, as it was sent.
func (s *Server) Body(deliveryID string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deliveries[deliveryID]
	if d == nil {
		return nil
	}
	return d.body()
}
