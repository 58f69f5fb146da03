package bot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"

	"orderdesk/modules/clients"
	"orderdesk/web/api/client"
)

// SignatureHeader carries OrderDesk's webhook signature:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
const SignatureHeader = "OrderDesk-Signature"

// Errors of verifySignature: a missing header, and those of clients.VerifySignature.
var (
	errSignatureMissing  = errors.New("no OrderDesk-Signature header")
	errSignatureFormat   = clients.ErrSignatureFormat
	errSignatureMismatch = clients.ErrSignatureMismatch
	errSignatureStale    = clients.ErrSignatureExpired
)

// verifySignature checks an OrderDesk-Signature header against the raw body with
// OrderDesk's own verifier (clients.VerifySignature, the one the README offers client
// apps written in Go): the HMAC of "<t>.<body>" compared in constant time, one of
// several v1 values while a secret is rotated, and t within tolerance of now, so a
// captured request cannot be replayed later.
func verifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if header == "" {
		return errSignatureMissing
	}
	return clients.VerifySignature(secret, header, body, now, tolerance)
}

// event is the body of an OrderDesk webhook.
type event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"createdAt"`
	Data      eventData `json:"data"`
}

// eventData is what the order events carry (see ordering.EventData): the order, its
// status and customer, and per event the payment status, the tracking, or the staff's
// message.
type eventData struct {
	OrderID           string             `json:"orderId"`
	Number            string             `json:"number"`
	Status            client.OrderStatus `json:"status"`
	IdentityReference string             `json:"identityReference"`
	PaymentStatus     string             `json:"paymentStatus"`
	Carrier           string             `json:"carrier"`
	Service           string             `json:"service"`
	TrackingNumber    string             `json:"trackingNumber"`
	TrackingURL       string             `json:"trackingUrl"`
	Message           *struct {
		Body string `json:"body"`
	} `json:"message"`
}

// receiver is the HTTP handler of OrderDesk's webhooks (any path, POST) and of
// GET /healthz.
type receiver struct {
	b        *Bot
	mu       sync.Mutex
	inflight map[string]bool
}

// maxEventBytes bounds a webhook body.
const maxEventBytes = 1 << 20

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodGet && req.URL.Path == "/healthz" {
		w.Write([]byte("ok\n"))
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "OrderDesk webhooks are POSTed here", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxEventBytes))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	b := r.b
	if err := verifySignature(b.cfg.WebhookSecret, req.Header.Get(SignatureHeader), body, b.now(), b.cfg.SignatureTolerance); err != nil {
		b.log.Warn("webhook refused", "remote", req.RemoteAddr, "reason", err.Error())
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var ev event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.Type == "" {
		http.Error(w, "the body is not an OrderDesk event", http.StatusBadRequest)
		return
	}
	if b.store.seenEvent(ev.ID) {
		w.Write([]byte("already handled\n"))
		return
	}
	r.mu.Lock()
	busy := r.inflight[ev.ID]
	r.inflight[ev.ID] = true
	r.mu.Unlock()
	if busy {
		http.Error(w, "this event is being handled", http.StatusConflict)
		return
	}
	defer func() {
		r.mu.Lock()
		delete(r.inflight, ev.ID)
		r.mu.Unlock()
	}()
	if err := b.handleEvent(&ev); err != nil {
		// OrderDesk retries with backoff.
		b.log.Error("webhook not handled; OrderDesk will retry", "event", ev.ID, "type", ev.Type, "order", ev.Data.Number, "err", b.redact(err))
		http.Error(w, "not handled, please retry", http.StatusServiceUnavailable)
		return
	}
	if err := b.store.markEvent(ev.ID); err != nil {
		b.log.Error("webhook handled but not recorded; a retry may repeat it", "event", ev.ID, "err", err)
	}
	w.Write([]byte("ok\n"))
}

// handleEvent tells the customer what happened to their order. An error means "try
// again later"; a customer who blocked the bot is no error.
func (b *Bot) handleEvent(ev *event) error {
	d := ev.Data
	userID, err := strconv.ParseInt(d.IdentityReference, 10, 64)
	if err != nil || userID <= 0 {
		b.log.Warn("webhook for an identity that is not a Telegram user id; ignored", "event", ev.ID, "identity", d.IdentityReference)
		return nil
	}
	to := tele.ChatID(userID)
	switch ev.Type {
	case "order.payment_updated":
		err = b.paymentUpdated(to, userID, d)
	case "order.status_changed":
		err = b.statusChanged(to, userID, d)
	case "order.shipped":
		err = b.shipped(to, userID, d)
	case "order.message":
		err = b.staffReplied(to, d)
	case "order.created":
	default:
		b.log.Info("webhook of a type this bot does not know; ignored", "event", ev.ID, "type", ev.Type)
	}
	var te *tele.Error
	if errors.As(err, &te) && (te.Code == http.StatusForbidden || errors.Is(err, tele.ErrChatNotFound)) {
		b.log.Info("customer unreachable in Telegram; event dropped", "user", userID, "event", ev.ID, "reason", te.Description)
		return nil
	}
	return err
}

func (b *Bot) paymentUpdated(to tele.Recipient, userID int64, d eventData) error {
	num := "<b>" + esc(d.Number) + "</b>"
	var text string
	ended := d.Status == "cancelled" || d.Status == "expired"
	switch d.PaymentStatus {
	case "paid", "overpaid", "paid_late":
		if ended {
			text = "⚠️ A payment arrived for " + num + ", which is " + statusText(d.Status) + ". The shop will contact you here about it."
			_, err := b.tg.Send(to, text, inline(row(button("💬 Help with this order", cbHelp, d.OrderID))))
			return err
		}
	}
	switch d.PaymentStatus {
	case "pending":
		waiting := false
		if _, err := b.store.update(userID, func(s *Session) error { waiting = s.removePending(d.OrderID); return nil }); err != nil {
			return err
		}
		if !waiting {
			// The instructions went out with the order.
			return nil
		}
		return b.sendPendingPayment(to, userID, d)
	case "confirming":
		text = "⏳ Your payment for " + num + " has been seen; waiting for the bitcoin network to confirm it."
	case "paid":
		text = "✅ Payment received for " + num + ". Thank you! We're getting your order ready."
	case "overpaid":
		text = "✅ Payment received for " + num + ", more than the amount due: the shop will contact you here about the difference."
	case "partially_paid":
		o, err := b.api.order(ctx(), userID, d.OrderID)
		if err != nil {
			return err
		}
		if _, err := b.tg.Send(to, "⚠️ Only part of the payment for "+num+" has arrived. Please pay the rest:"); err != nil {
			return err
		}
		return b.sendPayment(to, userID, o)
	case "paid_late":
		text = "⚠️ Your payment for " + num + " arrived after the payment time ran out. The shop will check it and tell you here."
	case "invalid":
		if ended {
			// The invoice of an order that ended is voided: nothing to tell.
			return nil
		}
		text = "⚠️ The payment for " + num + " was marked invalid. The shop will look into it; tap 💬 Help with this order to ask."
	default:
		// expired and refunded are told by the order's change of status.
		return nil
	}
	_, err := b.tg.Send(to, text, inline(row(button("📦 Order details", cbOrder, d.OrderID))))
	return err
}

// sendPendingPayment sends the payment details that were not ready when the order was
// placed, unless they went out already.
func (b *Bot) sendPendingPayment(to tele.Recipient, userID int64, d eventData) error {
	o, err := b.api.order(ctx(), userID, d.OrderID)
	if err != nil {
		return err
	}
	if o.Status != "pending_payment" || len(o.Payment.Methods) == 0 {
		return nil
	}
	return b.sendPayment(to, userID, o)
}

func (b *Bot) statusChanged(to tele.Recipient, userID int64, d eventData) error {
	num := "<b>" + esc(d.Number) + "</b>"
	details := inline(row(button("📦 Order details", cbOrder, d.OrderID)))
	var text string
	switch d.Status {
	case "processing":
		// Normally order.payment_updated said "paid"; after a hold it was not.
		o, err := b.api.order(ctx(), userID, d.OrderID)
		if err != nil {
			return err
		}
		if n := len(o.History); n < 2 || o.History[n-2].Status != "on_hold" {
			return nil
		}
		text = "📦 Good news: the shop accepted the payment for " + num + ". We're getting it ready."
	case "picked":
		text = "📦 " + num + " is packed and about to ship."
	case "delivered":
		o, err := b.api.order(ctx(), userID, d.OrderID)
		if err != nil {
			return err
		}
		rows := append(reviewRows(o), row(button("📦 Order details", cbOrder, d.OrderID)))
		text = "✅ " + num + " has been delivered. Enjoy! How was it? Leave a review:"
		details = inline(rows...)
	case "on_hold":
		text = "⚠️ " + num + " is on hold while the shop checks its payment. I'll tell you here when it moves on."
	case "cancelled":
		quiet := false
		if _, err := b.store.update(userID, func(s *Session) error {
			quiet = s.removeCancelled(d.OrderID)
			return nil
		}); err != nil {
			return err
		}
		if quiet {
			return nil
		}
		text = "✖️ " + num + " has been cancelled by the shop. Tap 💬 Help with this order if you have questions."
		details = inline(row(button("💬 Help with this order", cbHelp, d.OrderID)))
	case "expired":
		text = "⌛ The time to pay for " + num + " ran out, so the order is cancelled. You can order again any time from " + menuShop + "."
	case "refunded":
		text = "↩️ " + num + " has been refunded."
	default:
		// pending_payment is the start; shipped comes with order.shipped and its tracking.
		return nil
	}
	_, err := b.tg.Send(to, text, details)
	return err
}

func (b *Bot) shipped(to tele.Recipient, userID int64, d eventData) error {
	o, err := b.api.order(ctx(), userID, d.OrderID)
	if err != nil {
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "🚚 <b>%s</b> has shipped", esc(d.Number))
	if d.Carrier != "" {
		fmt.Fprintf(&sb, " with %s", esc(d.Carrier))
	}
	sb.WriteString("!\n")
	if d.TrackingNumber != "" {
		fmt.Fprintf(&sb, "Tracking number: <code>%s</code>\n", esc(d.TrackingNumber))
	}
	if d.TrackingURL != "" {
		fmt.Fprintf(&sb, "Track it: %s\n", esc(d.TrackingURL))
	}
	sb.WriteString("\nOnce it's with you, tell others what you think:")
	var rows [][]tele.InlineButton
	if strings.HasPrefix(d.TrackingURL, "https://") {
		rows = append(rows, row(tele.InlineButton{Text: "🔎 Track the parcel", URL: d.TrackingURL}))
	}
	rows = append(rows, reviewRows(o)...)
	rows = append(rows, row(button("📦 Order details", cbOrder, d.OrderID)))
	_, err = b.tg.Send(to, sb.String(), inline(rows...), tele.NoPreview)
	return err
}

func (b *Bot) staffReplied(to tele.Recipient, d eventData) error {
	if d.Message == nil || strings.TrimSpace(d.Message.Body) == "" {
		return nil
	}
	_, err := b.tg.Send(to, fmt.Sprintf("💬 <b>The shop replied about %s:</b>\n%s", esc(d.Number), esc(d.Message.Body)),
		inline(row(button("💬 Reply", cbHelp, d.OrderID), button("📦 Order details", cbOrder, d.OrderID))))
	return err
}
