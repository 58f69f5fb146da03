package admin

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"orderdesk/modules/clients"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

func (h *Handler) registerClients(g fiber.Router) {
	const obj = staff.ObjClients
	h.menu("Client apps", "/admin/clients", obj)
	h.route(g, "GET", "/clients", obj, staff.ActRead, h.clientApps)
	h.route(g, "GET", "/clients/new", obj, staff.ActWrite, h.newClientApp)
	h.route(g, "POST", "/clients", obj, staff.ActWrite, h.createClientApp)
	h.route(g, "GET", "/clients/:id", obj, staff.ActRead, h.clientApp)
	h.route(g, "POST", "/clients/:id/disable", obj, staff.ActWrite, h.disableClientApp)
	h.route(g, "POST", "/clients/:id/enable", obj, staff.ActWrite, h.enableClientApp)
	h.route(g, "POST", "/clients/:id/keys", obj, staff.ActWrite, h.createClientKey)
	h.route(g, "POST", "/clients/:id/keys/:key/revoke", obj, staff.ActWrite, h.revokeClientKey)
	h.route(g, "POST", "/clients/:id/webhooks", obj, staff.ActWrite, h.addWebhook)
	h.route(g, "POST", "/clients/:id/webhooks/:hook/rotate", obj, staff.ActWrite, h.rotateWebhookSecret)
	h.route(g, "POST", "/clients/:id/webhooks/:hook/deactivate", obj, staff.ActWrite, h.deactivateWebhook)
	h.route(g, "POST", "/clients/:id/webhooks/:hook/activate", obj, staff.ActWrite, h.activateWebhook)
	h.route(g, "POST", "/clients/:id/webhooks/:hook/delete", obj, staff.ActWrite, h.deleteWebhook)
	h.route(g, "GET", "/clients/:id/deliveries/:delivery", obj, staff.ActRead, h.webhookDelivery)
	h.route(g, "POST", "/clients/:id/deliveries/:delivery/resend", obj, staff.ActWrite, h.resendDelivery)
}

func (h *Handler) clientApps(c *fiber.Ctx) error {
	apps, err := h.d.Clients.Apps(c.UserContext())
	if err != nil {
		return err
	}
	return h.page(c, fiber.StatusOK, "clients/list", "Client apps", apps, nil)
}

func (h *Handler) newClientApp(c *fiber.Ctx) error {
	return h.page(c, fiber.StatusOK, "clients/new", "New client app", nil, &form{Values: map[string]string{}, Errors: map[string]string{}})
}

// secret is one value shown once on the secret page.
type secret struct {
	Label, Var, Value, ID string
}

type secretData struct {
	App     *clients.App
	Heading string
	Secrets []secret
}

// showSecrets renders the page that shows new secrets once. It is never cached.
func (h *Handler) showSecrets(c *fiber.Ctx, app *clients.App, heading string, secrets ...secret) error {
	return h.page(c, fiber.StatusOK, "clients/secret", heading, secretData{App: app, Heading: heading, Secrets: secrets}, nil)
}

func (h *Handler) createClientApp(c *fiber.Ctx) error {
	f := newForm(c, "name", "webhook_url")
	created, err := h.d.Clients.CreateApp(c.UserContext(), f.Get("name"), f.Get("webhook_url"))
	if err != nil {
		if !f.fail(err) {
			return err
		}
		return h.page(c, fiber.StatusUnprocessableEntity, "clients/new", "New client app", nil, f)
	}
	secrets := []secret{{Label: "API key", Var: "API_KEY", Value: created.APIKey, ID: "api-key"}}
	if created.WebhookSecret != "" {
		secrets = append(secrets, secret{Label: "Webhook signing secret", Var: "WEBHOOK_SECRET", Value: created.WebhookSecret, ID: "webhook-secret"})
	}
	return h.showSecrets(c, created.App, "Client app "+created.App.Name+" created", secrets...)
}

type clientData struct {
	App        *clients.App
	Keys       []clients.Key
	Webhooks   []clients.Webhook
	Deliveries []clients.Delivery
	Next       int64
}

func (h *Handler) loadClientApp(c *fiber.Ctx) (*clients.App, error) {
	id, err := parseID(c, "id", "client app")
	if err != nil {
		return nil, err
	}
	return h.d.Clients.App(c.UserContext(), id)
}

// clientPage renders an app's page; f carries the add-webhook form.
func (h *Handler) clientPage(c *fiber.Ctx, status int, app *clients.App, f *form) error {
	ctx := c.UserContext()
	keys, err := h.d.Clients.Keys(ctx, app.ID)
	if err != nil {
		return err
	}
	hooks, err := h.d.Clients.Webhooks(ctx, app.ID)
	if err != nil {
		return err
	}
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	deliveries, next, err := h.d.Clients.Deliveries(ctx, app.ID, max(before, 0), 20)
	if err != nil {
		return err
	}
	if f == nil {
		f = &form{Values: map[string]string{}, Errors: map[string]string{}}
	}
	d := clientData{App: app, Keys: keys, Webhooks: hooks, Deliveries: deliveries, Next: next}
	return h.page(c, status, "clients/app", "Client app "+app.Name, d, f)
}

func (h *Handler) clientApp(c *fiber.Ctx) error {
	app, err := h.loadClientApp(c)
	if err != nil {
		return err
	}
	return h.clientPage(c, fiber.StatusOK, app, nil)
}

// clientAction runs a one-button action on an app and reports it as a flash.
func (h *Handler) clientAction(c *fiber.Ctx, fn func(app *clients.App) (string, error)) error {
	app, err := h.loadClientApp(c)
	if err != nil {
		return err
	}
	msg, err := fn(app)
	if err != nil {
		switch ports.ErrorCodeOf(err) {
		case ports.ECONFLICT, ports.EINVALID, ports.ENOTFOUND:
			h.flash(c, "error", ports.ErrorMessageOf(err))
			return h.redirect(c, "/admin/clients/"+app.ID.String())
		}
		return err
	}
	h.flash(c, "ok", msg)
	return h.redirect(c, "/admin/clients/"+app.ID.String())
}

func (h *Handler) disableClientApp(c *fiber.Ctx) error {
	return h.clientAction(c, func(app *clients.App) (string, error) {
		return app.Name + " disabled: its API keys are refused from now on.", h.d.Clients.SetDisabled(c.UserContext(), app.ID, true)
	})
}

func (h *Handler) enableClientApp(c *fiber.Ctx) error {
	return h.clientAction(c, func(app *clients.App) (string, error) {
		return app.Name + " enabled.", h.d.Clients.SetDisabled(c.UserContext(), app.ID, false)
	})
}

func (h *Handler) createClientKey(c *fiber.Ctx) error {
	app, err := h.loadClientApp(c)
	if err != nil {
		return err
	}
	plain, _, err := h.d.Clients.CreateKey(c.UserContext(), app.ID)
	if err != nil {
		return err
	}
	return h.showSecrets(c, app, "New API key for "+app.Name, secret{Label: "API key", Var: "API_KEY", Value: plain, ID: "api-key"})
}

// childID parses a path parameter naming a key, webhook or delivery; a malformed one
// is an ENOTFOUND reported by clientAction like any other missing thing.
func childID(c *fiber.Ctx, name, what string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, ports.Errorf(ports.ENOTFOUND, "No such %s.", what)
	}
	return id, nil
}

func (h *Handler) revokeClientKey(c *fiber.Ctx) error {
	return h.clientAction(c, func(app *clients.App) (string, error) {
		id, err := childID(c, "key", "API key")
		if err != nil {
			return "", err
		}
		return "API key revoked: requests with it are refused from now on.", h.d.Clients.RevokeKey(c.UserContext(), app.ID, id)
	})
}

func (h *Handler) addWebhook(c *fiber.Ctx) error {
	app, err := h.loadClientApp(c)
	if err != nil {
		return err
	}
	f := newForm(c, "webhook_url")
	hook, err := h.d.Clients.AddWebhook(c.UserContext(), app.ID, f.Get("webhook_url"))
	if err != nil {
		if !f.fail(err) {
			return err
		}
		return h.clientPage(c, fiber.StatusUnprocessableEntity, app, f)
	}
	return h.showSecrets(c, app, "Webhook added to "+app.Name,
		secret{Label: "Signing secret of " + hook.URL, Var: "WEBHOOK_SECRET", Value: hook.Secret, ID: "webhook-secret"})
}

func (h *Handler) rotateWebhookSecret(c *fiber.Ctx) error {
	app, err := h.loadClientApp(c)
	if err != nil {
		return err
	}
	id, err := parseID(c, "hook", "webhook")
	if err != nil {
		return err
	}
	hook, err := h.d.Clients.RotateWebhookSecret(c.UserContext(), app.ID, id)
	if err != nil {
		return err
	}
	return h.showSecrets(c, app, "New webhook secret for "+app.Name,
		secret{Label: "Signing secret of " + hook.URL, Var: "WEBHOOK_SECRET", Value: hook.Secret, ID: "webhook-secret"})
}

func (h *Handler) webhookAction(c *fiber.Ctx, done string, fn func(appID, hookID uuid.UUID) error) error {
	return h.clientAction(c, func(app *clients.App) (string, error) {
		id, err := childID(c, "hook", "webhook")
		if err != nil {
			return "", err
		}
		return done, fn(app.ID, id)
	})
}

func (h *Handler) deactivateWebhook(c *fiber.Ctx) error {
	return h.webhookAction(c, "Webhook deactivated: no new deliveries go to it.", func(appID, hookID uuid.UUID) error {
		return h.d.Clients.SetWebhookActive(c.UserContext(), appID, hookID, false)
	})
}

func (h *Handler) activateWebhook(c *fiber.Ctx) error {
	return h.webhookAction(c, "Webhook activated.", func(appID, hookID uuid.UUID) error {
		return h.d.Clients.SetWebhookActive(c.UserContext(), appID, hookID, true)
	})
}

func (h *Handler) deleteWebhook(c *fiber.Ctx) error {
	return h.webhookAction(c, "Webhook deleted; its deliveries stay listed.", func(appID, hookID uuid.UUID) error {
		return h.d.Clients.DeleteWebhook(c.UserContext(), appID, hookID)
	})
}

type deliveryData struct {
	App      *clients.App
	Delivery *clients.Outgoing
	Attempts []clients.Attempt
}

func (h *Handler) webhookDelivery(c *fiber.Ctx) error {
	app, err := h.loadClientApp(c)
	if err != nil {
		return err
	}
	id, err := parseID(c, "delivery", "delivery")
	if err != nil {
		return err
	}
	d, attempts, err := h.d.Clients.DeliveryDetail(c.UserContext(), app.ID, id)
	if err != nil {
		return err
	}
	return h.page(c, fiber.StatusOK, "clients/delivery", "Delivery of "+d.Event.Type, deliveryData{App: app, Delivery: d, Attempts: attempts}, nil)
}

func (h *Handler) resendDelivery(c *fiber.Ctx) error {
	return h.clientAction(c, func(app *clients.App) (string, error) {
		id, err := childID(c, "delivery", "delivery")
		if err != nil {
			return "", err
		}
		_, err = h.d.Clients.Resend(c.UserContext(), app.ID, id)
		return "The event is queued for delivery again.", err
	})
}
