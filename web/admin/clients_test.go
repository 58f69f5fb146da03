package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/app/apptest"
	"orderdesk/modules/clients"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

var (
	apiKeyInput    = regexp.MustCompile(`id="api-key" readonly value="(od_[^"]+)"`)
	hookSecretInpt = regexp.MustCompile(`id="webhook-secret" readonly value="(whsec_[^"]+)"`)
	appLink        = regexp.MustCompile(`href="/admin/clients/([0-9a-f-]{36})" id="back-to-app"`)
	keyRevokeForm  = regexp.MustCompile(`action="/admin/clients/[0-9a-f-]{36}/keys/([0-9a-f-]{36})/revoke"[^>]*hx-confirm="Revoke (od_[^?]+)\?`)
	hookActionForm = regexp.MustCompile(`action="/admin/clients/[0-9a-f-]{36}/webhooks/([0-9a-f-]{36})/rotate"`)
)

func adminClient(t *testing.T, env *apptest.Env, name string) *apptest.Client {
	t.Helper()
	env.CreateUser(t, name, staff.RoleAdmin, "correct horse battery")
	c := env.NewClient(t)
	c.Login(name, "correct horse battery")
	return c
}

func match(t *testing.T, re *regexp.Regexp, body string) []string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in:\n%s", re, body)
	}
	return m
}

func auditCount(t *testing.T, env *apptest.Env, appID, action string) int {
	t.Helper()
	entries, err := env.App.Audit.ListAudit(context.Background(), ports.AuditFilter{ObjectType: "client", ObjectID: appID, Action: action, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestClientAppFormValidation(t *testing.T) {
	env := apptest.Start(t)
	c := adminClient(t, env, "ca-admin")
	if _, err := env.App.Clients.CreateApp(ports.WithActor(t.Context(), ports.System), "Taken Bot", ""); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, appName, hook, field, message string }{
		{"empty name", "  ", "", "name", "Enter a name"},
		{"long name", strings.Repeat("é", 101), "", "name", "at most 100 characters"},
		{"taken name", "Taken Bot", "", "name", "Another client app has this name."},
		{"ftp webhook", "Bot", "ftp://bot.example.com/", "webhook_url", "Enter an http:// or https:// URL"},
		{"relative webhook", "Bot", "/hook", "webhook_url", "Enter an http:// or https:// URL"},
		{"credentials in webhook", "Bot", "https://u:p@bot.example.com/", "webhook_url", "without credentials"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := env.App.Clients.Apps(t.Context())
			resp, body := c.Post("/admin/clients", url.Values{"name": {tc.appName}, "webhook_url": {tc.hook}})
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.message) {
				t.Fatalf("status %d, want 422 with %q:\n%s", resp.StatusCode, tc.message, body)
			}
			if !strings.Contains(body, `name="`+tc.field+`" id="`+tc.field+`"`) || !regexp.MustCompile(`name="`+tc.field+`"[^>]*aria-invalid="true"`).MatchString(body) {
				t.Fatalf("field %s not marked invalid:\n%s", tc.field, body)
			}
			after, _ := env.App.Clients.Apps(t.Context())
			if len(after) != len(before) {
				t.Fatal("an app was created")
			}
		})
	}
}

// TestClientAppLifecycle walks the admin pages: create an app with a webhook (key and
// secret shown once), use the key, make a second key, revoke the first (refused on the
// next request, on this server and another), add/rotate/deactivate/delete webhooks,
// disable and enable the app. Every change is audited.
func TestClientAppLifecycle(t *testing.T) {
	env := apptest.Start(t)
	other := apptest.Start(t) // a second serve process on the same database and Redis
	c := adminClient(t, env, "cl-admin")

	resp, body := c.Get("/admin/clients/new")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="client-form"`) {
		t.Fatalf("new page %d", resp.StatusCode)
	}
	resp, body = c.Post("/admin/clients", url.Values{"name": {"Shop bot"}, "webhook_url": {"https://bot.example.com/hook"}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %q\n%s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	key1 := match(t, apiKeyInput, body)[1]
	secret1 := match(t, hookSecretInpt, body)[1]
	appID := match(t, appLink, body)[1]
	if !strings.Contains(body, "only once") {
		t.Error("the page does not say the key is shown once")
	}

	env.API(t, key1).JSON("/api/v1/categories", http.StatusOK, nil)
	other.API(t, key1).JSON("/api/v1/categories", http.StatusOK, nil)

	// The app page lists the key by prefix only, and never shows the key or secret.
	resp, body = c.Get("/admin/clients/" + appID)
	if resp.StatusCode != 200 || !strings.Contains(body, "https://bot.example.com/hook") {
		t.Fatalf("app page %d", resp.StatusCode)
	}
	if strings.Contains(body, key1) || strings.Contains(body, secret1) || strings.Contains(body, key1[len("od_")+8+1:]) {
		t.Fatal("the app page shows a secret")
	}
	m := match(t, keyRevokeForm, body)
	key1ID, prefix1 := m[1], m[2]
	if !strings.HasPrefix(key1, prefix1+"_") {
		t.Fatalf("prefix %q of %q", prefix1, key1)
	}
	if _, list := c.Get("/admin/clients"); !strings.Contains(list, "Shop bot") {
		t.Fatal("list lacks the app")
	}

	// A second key (rotation), then revoke the first.
	resp, body = c.Post("/admin/clients/"+appID+"/keys", nil)
	key2 := match(t, apiKeyInput, body)[1]
	if resp.StatusCode != 200 || key2 == key1 {
		t.Fatalf("new key %d", resp.StatusCode)
	}
	resp, _ = c.Post("/admin/clients/"+appID+"/keys/"+key1ID+"/revoke", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke %d", resp.StatusCode)
	}
	for name, e := range map[string]*apptest.Env{"this server": env, "another server": other} {
		if resp, _ := e.API(t, key1).Get("/api/v1/categories"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("revoked key on %s: %d, want 401", name, resp.StatusCode)
		}
		e.API(t, key2).JSON("/api/v1/categories", http.StatusOK, nil)
	}
	_, body = c.Get("/admin/clients/" + appID)
	if !strings.Contains(body, "API key revoked") || !strings.Contains(body, "revoked ") {
		t.Fatalf("no flash or revoked badge:\n%s", body)
	}
	// Revoking again is refused with a message, not an error page.
	resp, _ = c.Post("/admin/clients/"+appID+"/keys/"+key1ID+"/revoke", nil)
	if _, body := c.Get("/admin/clients/" + appID); resp.StatusCode != http.StatusSeeOther || !strings.Contains(body, "already revoked") {
		t.Fatalf("second revoke %d", resp.StatusCode)
	}

	// Webhooks: bad URL re-renders the app page with 422; a good one shows its secret once.
	resp, body = c.Post("/admin/clients/"+appID+"/webhooks", url.Values{"webhook_url": {"gopher://x.example.com"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Enter an http:// or https:// URL") ||
		!strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, `id="keys-table"`) {
		t.Fatalf("bad webhook: %d\n%s", resp.StatusCode, body)
	}
	resp, body = c.Post("/admin/clients/"+appID+"/webhooks", url.Values{"webhook_url": {"https://store.example.com/od"}})
	secret2 := match(t, hookSecretInpt, body)[1]
	if resp.StatusCode != 200 || secret2 == secret1 {
		t.Fatalf("add webhook %d", resp.StatusCode)
	}
	_, body = c.Get("/admin/clients/" + appID)
	hookIDs := hookActionForm.FindAllStringSubmatch(body, -1)
	if len(hookIDs) != 2 {
		t.Fatalf("%d webhooks on the page", len(hookIDs))
	}
	first := hookIDs[0][1]
	_, body = c.Post("/admin/clients/"+appID+"/webhooks/"+first+"/rotate", nil)
	if secret3 := match(t, hookSecretInpt, body)[1]; secret3 == secret1 || secret3 == secret2 {
		t.Fatal("rotation kept the secret")
	}
	if resp, _ := c.Post("/admin/clients/"+appID+"/webhooks/"+first+"/deactivate", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate %d", resp.StatusCode)
	}
	hooks, _ := env.App.Clients.Webhooks(t.Context(), uuid.MustParse(appID))
	if len(hooks) != 2 || hooks[0].Active || !hooks[1].Active {
		t.Fatalf("hooks after deactivate %+v", hooks)
	}
	if resp, _ := c.Post("/admin/clients/"+appID+"/webhooks/"+first+"/delete", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete %d", resp.StatusCode)
	}
	if hooks, _ := env.App.Clients.Webhooks(t.Context(), uuid.MustParse(appID)); len(hooks) != 1 {
		t.Fatalf("hooks after delete %+v", hooks)
	}
	if resp, _ := c.Post("/admin/clients/"+appID+"/webhooks/not-a-uuid/delete", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bad webhook id: %d", resp.StatusCode)
	}

	// Disable: every key refused at once; enable: the unrevoked key works again.
	c.Post("/admin/clients/"+appID+"/disable", nil)
	if resp, _ := other.API(t, key2).Get("/api/v1/categories"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("disabled app's key: %d", resp.StatusCode)
	}
	c.Post("/admin/clients/"+appID+"/enable", nil)
	other.API(t, key2).JSON("/api/v1/categories", http.StatusOK, nil)

	for action, n := range map[string]int{"client.create": 1, "client.key_create": 1, "client.key_revoke": 1,
		"client.webhook_add": 1, "client.webhook_rotate_secret": 1, "client.webhook_deactivate": 1, "client.webhook_delete": 1,
		"client.disable": 1, "client.enable": 1} {
		if got := auditCount(t, env, appID, action); got != n {
			t.Errorf("%d audit entries for %s, want %d", got, action, n)
		}
	}
	if resp, _ := c.Get("/admin/clients/" + uuid.NewString()); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown app: %d", resp.StatusCode)
	}
}

// TestWebhookDeliveryThroughTheWorker: an event published by a module reaches the
// client app's endpoint through the outbox, the relay, Asynq and the delivery job,
// signed; the admin shows the delivery and resends it.
func TestWebhookDeliveryThroughTheWorker(t *testing.T) {
	env := apptest.Start(t)
	env.RunWorker(t)
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ctx := ports.WithActor(t.Context(), ports.System)
	created, err := env.App.Clients.CreateApp(ctx, "Worker bot", srv.URL+"/od")
	if err != nil {
		t.Fatal(err)
	}
	orderID := uuid.NewString()
	if err := env.App.DB.InTx(ctx, func(ctx context.Context) error {
		return env.App.Clients.Publish(ctx, created.App.ID, clients.EventOrderShipped, orderID,
			map[string]any{"orderId": orderID, "trackingNumber": "RM1234567GB"})
	}); err != nil {
		t.Fatal(err)
	}
	waitForRequests := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			k := len(got)
			mu.Unlock()
			if k >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d webhook requests arrived, want %d", k, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitForRequests(1)
	mu.Lock()
	r, body := got[0], bodies[0]
	mu.Unlock()
	if err := clients.VerifySignature(created.WebhookSecret, r.Header.Get("OrderDesk-Signature"), body, time.Now(), 5*time.Minute); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var ev struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		CreatedAt time.Time       `json:"createdAt"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type != "order.shipped" || ev.CreatedAt.IsZero() ||
		!strings.Contains(string(ev.Data), "RM1234567GB") {
		t.Fatalf("body %s: %v", body, err)
	}

	c := adminClient(t, env, "wd-admin")
	var page string
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, page = c.Get("/admin/clients/" + created.App.ID.String())
		if strings.Contains(page, `data-status="delivered"`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(page, `data-status="delivered"`) || !strings.Contains(page, `<span class="status-code">204</span>`) {
		t.Fatalf("app page does not show the delivery:\n%s", page)
	}
	delivery := match(t, regexp.MustCompile(`data-delivery="([0-9a-f-]{36})"`), page)[1]
	resp, detail := c.Get("/admin/clients/" + created.App.ID.String() + "/deliveries/" + delivery)
	if resp.StatusCode != 200 || !strings.Contains(detail, "204") || !strings.Contains(detail, "RM1234567GB") {
		t.Fatalf("delivery page %d:\n%s", resp.StatusCode, detail)
	}
	resp, _ = c.Post("/admin/clients/"+created.App.ID.String()+"/deliveries/"+delivery+"/resend", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend %d", resp.StatusCode)
	}
	waitForRequests(2)
	mu.Lock()
	if string(bodies[1]) != string(bodies[0]) {
		t.Error("the resent body differs")
	}
	mu.Unlock()
	if auditCount(t, env, created.App.ID.String(), "client.webhook_resend") != 1 {
		t.Error("resend not audited")
	}
}
