package clients

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// The events client apps receive (DESIGN.md, "Outbound webhooks to client apps").
const (
	EventOrderCreated        = "order.created"
	EventOrderPaymentUpdated = "order.payment_updated"
	EventOrderStatusChanged  = "order.status_changed"
	EventOrderShipped        = "order.shipped"
	EventOrderMessage        = "order.message"
)

// JobDeliver is the job type that posts one delivery; its payload is
// {"deliveryId": "<uuid>"} and its job ID "clients.deliver:<delivery id>".
const JobDeliver = "clients:deliver_webhook"

// Delivery timing. A failing delivery is retried with RetryDelay (10 s doubling, capped
// at an hour) until RetryWindow has passed since it was made; the job's MaxRetry
// (DeliveryMaxRetry, about 32 hours of retries) outlasts the window, so it is the
// window, not Asynq, that decides when a delivery is given up.
const (
	DeliveryTimeout  = 10 * time.Second
	RetryWindow      = 24 * time.Hour
	DeliveryMaxRetry = 40
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
	SignatureHeader = "OrderDesk-Signature"
	userAgent       = "OrderDesk-Webhooks/1.0"
	// stuckAfter is how long after its give-up time a pending delivery stops holding
	// back later ones (its job was lost), so that a subject is never blocked for ever.
	stuckAfter = 2 * time.Hour
)

// RetryDelay is the wait before retry n+1 of a delivery job: 10 s, 20 s, 40 s, ...
// capped at one hour.
func RetryDelay(n int) time.Duration {
	if n < 0 {
		n = 0
	}
	if n > 9 {
		return time.Hour
	}
	return min(10*time.Second<<n, time.Hour)
}

// Event is something that happened to a client app's order, published once and
// delivered to each of the app's active webhooks. Body is the exact JSON sent.
type Event struct {
	ID        uuid.UUID `db:"id"`
	AppID     uuid.UUID `db:"app_id"`
	Type      string    `db:"type"`
	Subject   string    `db:"subject"`
	CreatedAt time.Time `db:"created_at"`
	Body      string    `db:"body"`
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// The delivery statuses: pending until a 2xx answer (delivered), until RetryWindow
// has passed without one (failed), or until its webhook is deactivated (cancelled).
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
	DeliveryCancelled DeliveryStatus = "cancelled"
)

// Delivery is one event sent to one webhook. Seq orders the deliveries of a webhook
// and subject: a delivery waits while an earlier one is pending.
type Delivery struct {
	Seq            int64          `db:"seq"`
	ID             uuid.UUID      `db:"id"`
	EventID        uuid.UUID      `db:"event_id"`
	WebhookID      uuid.UUID      `db:"webhook_id"`
	AppID          uuid.UUID      `db:"app_id"`
	Subject        string         `db:"subject"`
	Status         DeliveryStatus `db:"status"`
	Attempts       int            `db:"attempts"`
	LastStatusCode *int           `db:"last_status_code"`
	LastError      string         `db:"last_error"`
	CreatedAt      time.Time      `db:"created_at"`
	GiveUpAt       time.Time      `db:"give_up_at"`
	LastAttemptAt  *time.Time     `db:"last_attempt_at"`
	DeliveredAt    *time.Time     `db:"delivered_at"`
	// EventType and WebhookURL are filled in by lists, for display.
	EventType  string `db:"event_type"`
	WebhookURL string `db:"webhook_url"`
}

// Attempt is one try at a delivery: the HTTP status (nil when there was no answer),
// the error, and how long it took.
type Attempt struct {
	ID         int64     `db:"id"`
	DeliveryID uuid.UUID `db:"delivery_id"`
	At         time.Time `db:"at"`
	StatusCode *int      `db:"status_code"`
	Error      string    `db:"error"`
	DurationMS int       `db:"duration_ms"`
}

// Outgoing is a delivery with what it takes to send it.
type Outgoing struct {
	Delivery
	Webhook Webhook
	Event   Event
}

// DeliveryJob is the outbox job that sends delivery id.
func DeliveryJob(id uuid.UUID) ports.Job {
	payload, _ := json.Marshal(deliveryPayload{DeliveryID: id})
	return ports.Job{ID: "clients.deliver:" + id.String(), Type: JobDeliver, Payload: payload,
		Queue: ports.QueueDefault, MaxRetry: DeliveryMaxRetry}
}

type deliveryPayload struct {
	DeliveryID uuid.UUID `json:"deliveryId"`
}

// envelope is the body of every webhook request.
type envelope struct {
	ID        uuid.UUID       `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"createdAt"`
	Data      json.RawMessage `json:"data"`
}

// Limits of Publish.
const (
	EventTypeMax = 100
	SubjectMax   = 200
)

// Publish records an event for a client app and one delivery per active webhook of
// the app, with an outbox job for each, so they are sent if and only if the caller's
// transaction commits. Call it inside that transaction (the ctx of
// ports.Transactor.InTx); outside one it runs in a transaction of its own.
//
// eventType is one of the Event* constants; subject is what the event is about (an
// order id): deliveries to one webhook with the same subject arrive in the order they
// were published. data is marshalled to JSON as the body's "data". An app that is
// disabled or has no active webhook gets the event recorded but no delivery. Errors:
// EINVALID for a bad type, subject or data; ENOTFOUND for an unknown app.
func (s *Service) Publish(ctx context.Context, appID uuid.UUID, eventType, subject string, data any) error {
	if eventType == "" || len(eventType) > EventTypeMax || strings.TrimFunc(eventType, isEventTypeRune) != "" {
		return ports.Invalid(ports.Field("type", "An event type is lowercase letters, digits, dots and underscores."))
	}
	if len(subject) > SubjectMax || !utf8.ValidString(subject) {
		return ports.Invalid(ports.Field("subject", "A subject is at most 200 bytes of UTF-8."))
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return ports.Invalid(ports.Field("data", "The event's data cannot be written as JSON: "+err.Error()))
	}
	now := s.clock().UTC().Truncate(time.Millisecond)
	ev := &Event{ID: uuid.Must(uuid.NewV7()), AppID: appID, Type: eventType, Subject: subject, CreatedAt: now}
	body, err := json.Marshal(envelope{ID: ev.ID, Type: eventType, CreatedAt: now, Data: raw})
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	ev.Body = string(body)
	if _, err := s.store.AddEvent(ctx, ev, func(h *Webhook) *Delivery { return newDelivery(ev, h.ID, now) }); err != nil {
		if ports.ErrorCodeOf(err) == ports.EINTERNAL {
			return fmt.Errorf("publish %s: %w", eventType, err)
		}
		return err
	}
	return nil
}

func isEventTypeRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_'
}

func newDelivery(ev *Event, hookID uuid.UUID, now time.Time) *Delivery {
	return &Delivery{ID: uuid.Must(uuid.NewV7()), EventID: ev.ID, WebhookID: hookID, AppID: ev.AppID, Subject: ev.Subject,
		Status: DeliveryPending, CreatedAt: now, GiveUpAt: now.Add(RetryWindow)}
}

// Deliveries lists an app's deliveries newest first, limit at a time; next is the
// before of the following page, 0 on the last.
func (s *Service) Deliveries(ctx context.Context, appID uuid.UUID, before int64, limit int) ([]Delivery, int64, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	ds, err := s.store.ListDeliveries(ctx, appID, before, limit+1)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(ds) > limit {
		ds = ds[:limit]
		next = ds[limit-1].Seq
	}
	return ds, next, nil
}

// DeliveryDetail returns one delivery of an app with its attempts, oldest first.
func (s *Service) DeliveryDetail(ctx context.Context, appID, id uuid.UUID) (*Outgoing, []Attempt, error) {
	out, err := s.store.Delivery(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if out.AppID != appID {
		return nil, nil, ports.Errorf(ports.ENOTFOUND, "No such delivery.")
	}
	attempts, err := s.store.ListAttempts(ctx, id)
	return out, attempts, err
}

// Resend sends the event of a delivery again to the same webhook, as a new delivery
// (the body, and so the event id a client app deduplicates on, is the same). It is
// audited. ECONFLICT when the webhook is inactive or deleted.
func (s *Service) Resend(ctx context.Context, appID, deliveryID uuid.UUID) (*Delivery, error) {
	now := s.clock().UTC()
	return s.store.Resend(ctx, appID, deliveryID, func(old *Delivery) *Delivery {
		return &Delivery{ID: uuid.Must(uuid.NewV7()), EventID: old.EventID, WebhookID: old.WebhookID, AppID: old.AppID,
			Subject: old.Subject, Status: DeliveryPending, CreatedAt: now, GiveUpAt: now.Add(RetryWindow)}
	}, ports.Audit(ctx, "client.webhook_resend", "client", appID.String(), deliveryID.String()))
}

// errWaiting is returned by DeliverJob while an earlier delivery of the same webhook
// and subject is pending: the job is retried later, keeping the order.
var errWaiting = errors.New("an earlier delivery of the same subject is still pending")

// DeliverJob is the handler of JobDeliver: it posts a pending delivery and records the
// attempt. A 2xx answer delivers it. Anything else returns an error so that the queue
// retries with backoff, until RetryWindow has passed, when the delivery is marked
// failed. It also returns an error, without an attempt, while an earlier delivery of
// the same webhook and subject is pending: deliveries per subject go out in order.
//
// Once a delivery is delivered, the job goes on with the next pending deliveries of the
// same webhook and subject (up to followOn of them), which were waiting for it: a burst
// of events about one order (paid, picked, shipped) reaches the client app at once
// instead of at the waiting jobs' backoff.
func (s *Service) DeliverJob(ctx context.Context, payload []byte) error {
	var p deliveryPayload
	if err := json.Unmarshal(payload, &p); err != nil || p.DeliveryID == uuid.Nil {
		ports.Logger(ctx).Error("webhook delivery: bad payload; dropped", "payload", string(payload))
		return nil
	}
	id := p.DeliveryID
	for i := 0; ; i++ {
		d, err := s.deliver(ctx, id)
		if err != nil || d == nil || i == followOn {
			// An error of a follow-on delivery is its own job's to retry.
			if i > 0 {
				return nil
			}
			return err
		}
		next, found, err := s.store.NextPending(ctx, d)
		if err != nil || !found {
			return nil
		}
		id = next
	}
}

// followOn is how many waiting deliveries one delivery job sends after its own.
const followOn = 20

// deliver sends one pending delivery; it returns it when it was delivered now.
func (s *Service) deliver(ctx context.Context, id uuid.UUID) (*Delivery, error) {
	out, err := s.store.Delivery(ctx, id)
	if ports.ErrorCodeOf(err) == ports.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if out.Status != DeliveryPending {
		return nil, nil
	}
	if !out.Webhook.Active || out.Webhook.DeletedAt != nil {
		return nil, s.store.SetDeliveryStatus(ctx, out.ID, DeliveryCancelled, "The webhook was deactivated or deleted.")
	}
	waiting, err := s.store.EarlierPending(ctx, &out.Delivery, s.clock(), stuckAfter)
	if err != nil {
		return nil, err
	}
	if waiting {
		return nil, fmt.Errorf("delivery %s: %w", out.ID, errWaiting)
	}
	at := s.clock()
	attempt, sendErr := s.send(ctx, out, at)
	status := DeliveryPending
	switch {
	case sendErr == nil:
		status = DeliveryDelivered
	case !at.Before(out.GiveUpAt):
		status = DeliveryFailed
	}
	if err := s.store.RecordAttempt(ctx, &out.Delivery, attempt, status); err != nil {
		return nil, err
	}
	if status == DeliveryPending {
		return nil, fmt.Errorf("delivery %s: %w", out.ID, sendErr)
	}
	if status != DeliveryDelivered {
		return nil, nil
	}
	return &out.Delivery, nil
}

// send posts the delivery once and describes the attempt; the error is nil for 2xx.
func (s *Service) send(ctx context.Context, out *Outgoing, at time.Time) (Attempt, error) {
	a := Attempt{DeliveryID: out.ID, At: at}
	body := []byte(out.Event.Body)
	ctx, cancel := context.WithTimeout(ctx, DeliveryTimeout)
	defer cancel()
	start := time.Now()
	err := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, out.Webhook.URL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", userAgent)
		req.Header.Set(SignatureHeader, Sign(out.Webhook.Secret, at, body))
		req.Header.Set("OrderDesk-Event-Id", out.EventID.String())
		req.Header.Set("OrderDesk-Delivery-Id", out.ID.String())
		resp, err := s.http.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		code := resp.StatusCode
		a.StatusCode = &code
		if code < 200 || code > 299 {
			return fmt.Errorf("the webhook answered %d", code)
		}
		return nil
	}()
	a.DurationMS = int(time.Since(start).Milliseconds())
	if err != nil {
		a.Error = err.Error()
		if len(a.Error) > 500 {
			a.Error = a.Error[:500]
		}
	}
	return a, err
}

// Sign returns the OrderDesk-Signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Errors of VerifySignature.
var (
	ErrSignatureFormat   = errors.New("signature header is not t=<unix seconds>,v1=<hex>")
	ErrSignatureMismatch = errors.New("signature does not match the body and secret")
	ErrSignatureExpired  = errors.New("signature timestamp is outside the tolerance")
)

// VerifySignature checks an OrderDesk-Signature header against the raw body and the
// webhook's secret, as a client app should: the HMAC is compared in constant time
// (any one of several v1= values may match, which allows for a secret rotation), and
// the timestamp must be within tolerance of now (tolerance <= 0 skips that check), so a
// captured request cannot be replayed later.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrSignatureFormat
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil {
				return ErrSignatureFormat
			}
			sigs = append(sigs, b)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrSignatureFormat
	}
	want := mac(secret, ts, body)
	matched := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			matched = true
		}
	}
	if !matched {
		return ErrSignatureMismatch
	}
	if tolerance > 0 {
		if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
			return ErrSignatureExpired
		}
	}
	return nil
}
