package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"orderdesk/app/apptest"
	"orderdesk/modules/staff"
)

// TestClientAppKeyShownOnceThenRevoked: an admin creates a client app with a webhook
// URL (after a mistake in the URL), sees its API key and webhook secret once, finds
// only the key's prefix on the app page, and revokes the key, which the API then
// refuses.
func TestClientAppKeyShownOnceThenRevoked(t *testing.T) {
	env := apptest.Start(t)
	env.CreateUser(t, "apps-admin", staff.RoleAdmin, "correct horse battery")
	ctx := apptest.Browser(t, 60*time.Second)
	u := env.URL

	if err := chromedp.Do(ctx,
		logIn(u, "apps-admin", "correct horse battery"),
		chromedp.WaitVisible(chromedp.ID("menu")),
		chromedp.Navigate(u+"/admin/clients"),
		chromedp.Click(chromedp.ID("new-client")),
		chromedp.WaitVisible(chromedp.ID("client-form")),
		chromedp.SendKeys(chromedp.ID("name"), "Telegram shop bot"),
		chromedp.SetValue(chromedp.ID("webhook_url"), "ftp://bot.example.com/hook"),
		chromedp.Click(chromedp.ID("create-client")),
		chromedp.WaitVisible(chromedp.CSS(`#webhook_url[aria-invalid="true"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".field-error"))); !strings.Contains(msg, "https://") {
		t.Fatalf("webhook URL error %q", msg)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("webhook_url"), "https://bot.example.com/hook"),
		chromedp.Click(chromedp.ID("create-client")),
		chromedp.WaitVisible(chromedp.ID("api-key")),
	); err != nil {
		t.Fatal(err)
	}
	key, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("api-key")))
	if err != nil || !strings.HasPrefix(key, "od_") {
		t.Fatalf("key %q: %v", key, err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("webhook-secret")))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q: %v", secret, err)
	}
	env.API(t, key).JSON("/api/v1/categories", http.StatusOK, nil)

	// The app page shows the prefix, not the key; revoking it asks for confirmation.
	prefix := key[:len("od_")+8]
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("back-to-app")),
		chromedp.WaitVisible(chromedp.ID("keys-table")),
	); err != nil {
		t.Fatal(err)
	}
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil || strings.Contains(html, key) || strings.Contains(html, secret) || !strings.Contains(html, prefix) {
		t.Fatalf("app page shows a secret or lacks the prefix %q (%v)", prefix, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = () => true; true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("revoke-"+prefix)),
		chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
	); err != nil {
		t.Fatal(err)
	}
	if msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash-ok"))); !strings.Contains(msg, "revoked") {
		t.Fatalf("flash %q", msg)
	}
	if resp, _ := env.API(t, key).Get("/api/v1/categories"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked key: %d, want 401", resp.StatusCode)
	}
}
