package clients

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// App returns one client app.
func (s *Service) App(ctx context.Context, id uuid.UUID) (*App, error) { return s.store.App(ctx, id) }

// Keys lists an app's API keys, revoked ones included, newest first.
func (s *Service) Keys(ctx context.Context, appID uuid.UUID) ([]Key, error) {
	return s.store.ListKeys(ctx, appID)
}

// Webhooks lists an app's webhooks that are not deleted.
func (s *Service) Webhooks(ctx context.Context, appID uuid.UUID) ([]Webhook, error) {
	return s.store.ListWebhooks(ctx, appID)
}

// SetDisabled disables or enables an app. A disabled app's keys are refused by the
// API from the next request on, and no deliveries are made for its new events.
func (s *Service) SetDisabled(ctx context.Context, appID uuid.UUID, disabled bool) error {
	action := "client.enable"
	if disabled {
		action = "client.disable"
	}
	if err := s.store.SetAppDisabled(ctx, appID, disabled, ports.Audit(ctx, action, "client", appID.String(), "")); err != nil {
		return fmt.Errorf("set client app disabled: %w", err)
	}
	return nil
}

// CreateKey adds an API key to an app and returns it in plain text, to be shown once.
// Rotation is CreateKey followed, once the client app uses the new key, by RevokeKey
// of the old one.
func (s *Service) CreateKey(ctx context.Context, appID uuid.UUID) (string, *Key, error) {
	if _, err := s.store.App(ctx, appID); err != nil {
		return "", nil, err
	}
	plain, key, err := NewKey(appID, s.clock())
	if err != nil {
		return "", nil, err
	}
	if err := s.store.AddKey(ctx, key, ports.Audit(ctx, "client.key_create", "client", appID.String(), key.Prefix)); err != nil {
		return "", nil, fmt.Errorf("create key: %w", err)
	}
	return plain, key, nil
}

// RevokeKey revokes a key at once: the API looks keys up on every request, in every
// serve process, so the next request with it is refused.
func (s *Service) RevokeKey(ctx context.Context, appID, keyID uuid.UUID) error {
	err := s.store.RevokeKey(ctx, appID, keyID, s.clock(), ports.Audit(ctx, "client.key_revoke", "client", appID.String(), keyID.String()))
	if err != nil && ports.ErrorCodeOf(err) == ports.EINTERNAL {
		return fmt.Errorf("revoke key: %w", err)
	}
	return err
}

func newSecret() (string, error) {
	secret, err := random(32)
	if err != nil {
		return "", err
	}
	return "whsec_" + secret, nil
}

// AddWebhook registers a URL for an app's events and returns it with its signing
// secret, to be shown once.
func (s *Service) AddWebhook(ctx context.Context, appID uuid.UUID, rawURL string) (*Webhook, error) {
	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		return nil, ports.Invalid(ports.Field("webhook_url", "Enter the URL to send events to."))
	}
	if err := ValidateWebhookURL(rawURL); err != nil {
		return nil, err
	}
	if _, err := s.store.App(ctx, appID); err != nil {
		return nil, err
	}
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	hook := &Webhook{ID: uuid.Must(uuid.NewV7()), AppID: appID, URL: rawURL, Secret: secret, Active: true, CreatedAt: s.clock()}
	if err := s.store.AddWebhook(ctx, hook, ports.Audit(ctx, "client.webhook_add", "client", appID.String(), rawURL)); err != nil {
		return nil, fmt.Errorf("add webhook: %w", err)
	}
	return hook, nil
}

// RotateWebhookSecret gives a webhook a new secret, returned to be shown once. The old
// secret stops signing at once; deliveries still pending are signed with the new one.
func (s *Service) RotateWebhookSecret(ctx context.Context, appID, hookID uuid.UUID) (*Webhook, error) {
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	now := s.clock()
	var out Webhook
	err = s.store.UpdateWebhook(ctx, appID, hookID, func(h *Webhook) error {
		h.Secret = secret
		h.SecretRotatedAt = &now
		out = *h
		return nil
	}, ports.Audit(ctx, "client.webhook_rotate_secret", "client", appID.String(), hookID.String()))
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SetWebhookActive pauses or resumes a webhook. Events published while it is inactive
// get no delivery to it; its pending deliveries are cancelled when their turn comes.
func (s *Service) SetWebhookActive(ctx context.Context, appID, hookID uuid.UUID, active bool) error {
	action := "client.webhook_deactivate"
	if active {
		action = "client.webhook_activate"
	}
	return s.store.UpdateWebhook(ctx, appID, hookID, func(h *Webhook) error {
		h.Active = active
		return nil
	}, ports.Audit(ctx, action, "client", appID.String(), hookID.String()))
}

// DeleteWebhook removes a webhook from the app; its delivery log stays.
func (s *Service) DeleteWebhook(ctx context.Context, appID, hookID uuid.UUID) error {
	now := s.clock()
	return s.store.UpdateWebhook(ctx, appID, hookID, func(h *Webhook) error {
		h.Active = false
		h.DeletedAt = &now
		return nil
	}, ports.Audit(ctx, "client.webhook_delete", "client", appID.String(), hookID.String()))
}
