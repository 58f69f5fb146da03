// Package clients is the module for client apps (a Telegram bot, a storefront): their
// registration, their API keys, and the URLs they receive webhooks at.
package clients

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
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

// Webhook is a URL an app receives events at, signed with Secret.
type Webhook struct {
	ID        uuid.UUID `db:"id"`
	AppID     uuid.UUID `db:"app_id"`
	URL       string    `db:"url"`
	Secret    string    `db:"secret"`
	Active    bool      `db:"active"`
	CreatedAt time.Time `db:"created_at"`
}

// Store keeps client apps. Errors: ENOTFOUND for a missing app or key, ECONFLICT for
// a taken name.
type Store interface {
	CreateApp(ctx context.Context, app *App, key *Key, hook *Webhook, a ports.AuditEntry) error
	// AppByKeyHash returns the app of an unrevoked key of an enabled app.
	AppByKeyHash(ctx context.Context, hash []byte) (*App, error)
	ListApps(ctx context.Context) ([]App, error)
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
}

// NewService returns the clients service.
func NewService(store Store, clock ports.Clock) *Service { return &Service{store: store, clock: clock} }

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
