// Package clients is the module for client apps (a Telegram bot, a storefront): their
// registration, their API keys, and the URLs they receive webhooks at.
package clients

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// App is a client app.
type App struct {
	ID        uuid.UUID `db:"id"`
	Name      string    `db:"name"`
	Disabled  bool      `db:"disabled"`
	CreatedAt time.Time `db:"created_at"`
}

// Key is an API key of an app. Only its SHA-256 is stored; Prefix identifies it to
// people ("od_k7Qe2F…").
type Key struct {
	ID         uuid.UUID  `db:"id"`
	AppID      uuid.UUID  `db:"app_id"`
	Prefix     string     `db:"prefix"`
	Hash       []byte     `db:"hash"`
	CreatedAt  time.Time  `db:"created_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
}

// Webhook is a URL an app receives events at, signed with Secret. A deleted webhook
// (DeletedAt set) is kept so that its deliveries stay visible.
type Webhook struct {
	ID              uuid.UUID  `db:"id"`
	AppID           uuid.UUID  `db:"app_id"`
	URL             string     `db:"url"`
	Secret          string     `db:"secret"`
	Active          bool       `db:"active"`
	CreatedAt       time.Time  `db:"created_at"`
	SecretRotatedAt *time.Time `db:"secret_rotated_at"`
	DeletedAt       *time.Time `db:"deleted_at"`
}

// Store keeps client apps. Errors: ENOTFOUND for a missing app, key, webhook or
// delivery (also when it belongs to another app), ECONFLICT for a taken name. Every
// method that takes an audit entry writes it in the same transaction as the change,
// and every method joins the transaction carried by ctx (ports.Transactor).
type Store interface {
	CreateApp(ctx context.Context, app *App, key *Key, hook *Webhook, a ports.AuditEntry) error
	// AppByKeyHash returns the app of an unrevoked key of an enabled app, and notes
	// that the key was used (at most once a minute).
	AppByKeyHash(ctx context.Context, hash []byte) (*App, error)
	ListApps(ctx context.Context) ([]App, error)
	App(ctx context.Context, id uuid.UUID) (*App, error)
	SetAppDisabled(ctx context.Context, id uuid.UUID, disabled bool, a ports.AuditEntry) error

	ListKeys(ctx context.Context, appID uuid.UUID) ([]Key, error)
	AddKey(ctx context.Context, key *Key, a ports.AuditEntry) error
	// RevokeKey sets the key's revoked_at; ECONFLICT when it is already revoked.
	RevokeKey(ctx context.Context, appID, keyID uuid.UUID, at time.Time, a ports.AuditEntry) error

	// ListWebhooks returns the app's webhooks that are not deleted, oldest first.
	ListWebhooks(ctx context.Context, appID uuid.UUID) ([]Webhook, error)
	AddWebhook(ctx context.Context, hook *Webhook, a ports.AuditEntry) error
	// UpdateWebhook locks a webhook that is not deleted, lets fn change it and saves
	// its URL, secret, active flag and deletion time.
	UpdateWebhook(ctx context.Context, appID, hookID uuid.UUID, fn func(*Webhook) error, a ports.AuditEntry) error

	// AddEvent records ev and one pending delivery (made by newDelivery) per active
	// webhook of ev's app when the app is enabled, and an outbox job per delivery.
	AddEvent(ctx context.Context, ev *Event, newDelivery func(hook *Webhook) *Delivery) ([]Delivery, error)
	// Resend records a new pending delivery of the event of delivery id, to the same
	// webhook, with its outbox job. ECONFLICT when the webhook is deleted or inactive.
	Resend(ctx context.Context, appID, id uuid.UUID, newDelivery func(old *Delivery) *Delivery, a ports.AuditEntry) (*Delivery, error)
	// ListDeliveries returns an app's deliveries newest first, those with Seq < before
	// when before > 0.
	ListDeliveries(ctx context.Context, appID uuid.UUID, before int64, limit int) ([]Delivery, error)
	// Delivery returns a delivery with its webhook and event.
	Delivery(ctx context.Context, id uuid.UUID) (*Outgoing, error)
	// EarlierPending reports whether a delivery of the same webhook and subject with a
	// smaller Seq is still pending and was not given up more than stuck ago.
	EarlierPending(ctx context.Context, d *Delivery, now time.Time, stuck time.Duration) (bool, error)
	// RecordAttempt logs an attempt and sets the delivery's status and counters.
	RecordAttempt(ctx context.Context, d *Delivery, at Attempt, status DeliveryStatus) error
	// NextPending returns the first pending delivery after d of the same webhook and
	// subject (found false when there is none).
	NextPending(ctx context.Context, d *Delivery) (id uuid.UUID, found bool, err error)
	// SetDeliveryStatus ends a pending delivery without an attempt (its webhook is gone).
	SetDeliveryStatus(ctx context.Context, id uuid.UUID, status DeliveryStatus, msg string) error
	ListAttempts(ctx context.Context, deliveryID uuid.UUID) ([]Attempt, error)
}

// Limits.
const (
	AppNameMax = 100
	URLMax     = 2000
)

// Service is the clients module's application service.
type Service struct {
	store Store
	clock ports.Clock
	http  *http.Client
}

// NewService returns the clients service. Webhooks are posted with a 10-second timeout.
func NewService(store Store, clock ports.Clock) *Service {
	return &Service{store: store, clock: clock, http: &http.Client{Timeout: DeliveryTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Created is what creating an app shows once: its key and webhook secret.
type Created struct {
	App           *App
	APIKey        string
	WebhookSecret string
}

// ValidateWebhookURL checks a webhook URL: absolute http(s) with a host.
func ValidateWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > URLMax || u.User != nil {
		return ports.Invalid(ports.Field("webhook_url", "Enter an http:// or https:// URL without credentials."))
	}
	return nil
}

// CreateApp registers a client app with one API key and, when webhookURL is given, a
// webhook with its signing secret.
func (s *Service) CreateApp(ctx context.Context, name, webhookURL string) (*Created, error) {
	name = strings.TrimSpace(name)
	var errs []ports.FieldError
	if n := utf8.RuneCountInString(name); n == 0 || n > AppNameMax {
		errs = append(errs, ports.Field("name", "Enter a name of at most 100 characters."))
	}
	webhookURL = strings.TrimSpace(webhookURL)
	if webhookURL != "" {
		if err := ValidateWebhookURL(webhookURL); err != nil {
			errs = append(errs, ports.FieldErrorsOf(err)...)
		}
	}
	if err := ports.Invalid(errs...); err != nil {
		return nil, err
	}
	now := s.clock()
	app := &App{ID: uuid.Must(uuid.NewV7()), Name: name, CreatedAt: now}
	plain, key, err := NewKey(app.ID, now)
	if err != nil {
		return nil, err
	}
	out := &Created{App: app, APIKey: plain}
	var hook *Webhook
	if webhookURL != "" {
		secret, err := random(32)
		if err != nil {
			return nil, err
		}
		out.WebhookSecret = "whsec_" + secret
		hook = &Webhook{ID: uuid.Must(uuid.NewV7()), AppID: app.ID, URL: webhookURL, Secret: out.WebhookSecret, Active: true, CreatedAt: now}
	}
	err = s.store.CreateApp(ctx, app, key, hook, ports.Audit(ctx, "client.create", "client", app.ID.String(), name))
	if ports.ErrorCodeOf(err) == ports.ECONFLICT {
		return nil, ports.Invalid(ports.Field("name", "Another client app has this name."))
	}
	if err != nil {
		return nil, fmt.Errorf("create client app: %w", err)
	}
	return out, nil
}

// NewKey makes an API key for app: "od_" + 8 identifying characters + "_" + 43 secret
// characters. It returns the key to show once and what to store.
func NewKey(appID uuid.UUID, now time.Time) (string, *Key, error) {
	id, err := random(6)
	if err != nil {
		return "", nil, err
	}
	secret, err := random(32)
	if err != nil {
		return "", nil, err
	}
	plain := "od_" + id + "_" + secret
	return plain, &Key{ID: uuid.Must(uuid.NewV7()), AppID: appID, Prefix: "od_" + id, Hash: HashKey(plain), CreatedAt: now}, nil
}

// HashKey is the stored form of an API key.
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Authenticate returns the app an API key belongs to, or EUNAUTHORIZED.
func (s *Service) Authenticate(ctx context.Context, key string) (*App, error) {
	if !strings.HasPrefix(key, "od_") || len(key) > 100 {
		return nil, ports.Errorf(ports.EUNAUTHORIZED, "The API key is not valid.")
	}
	app, err := s.store.AppByKeyHash(ctx, HashKey(key))
	if ports.ErrorCodeOf(err) == ports.ENOTFOUND {
		return nil, ports.Errorf(ports.EUNAUTHORIZED, "The API key is not valid or has been revoked.")
	}
	return app, err
}

// Apps lists the client apps.
func (s *Service) Apps(ctx context.Context) ([]App, error) { return s.store.ListApps(ctx) }

func random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
