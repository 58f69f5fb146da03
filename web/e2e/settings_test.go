package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"orderdesk/app/apptest"
	"orderdesk/modules/settings"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// TestSettingsEditAndTest: an admin opens Settings from the menu, enters a block
// explorer URL without {txid} and is told so, fixes it and saves (flash, audit entry,
// in force), and tests the payment provider's connection in place. A packer can
// neither find nor open the page.
func TestSettingsEditAndTest(t *testing.T) {
	env := apptest.Start(t)
	env.CreateUser(t, "set-admin", staff.RoleAdmin, "correct horse battery")
	env.CreateUser(t, "set-packer", staff.RolePacker, "correct horse battery")
	t.Cleanup(func() {
		if _, err := env.App.Settings.Update(ports.WithActor(context.Background(), ports.System), settings.Defaults()); err != nil {
			t.Error(err)
		}
	})
	ctx := apptest.Browser(t, 60*time.Second)
	u := env.URL

	run(t, ctx, chromedp.Steps(
		logIn(u, "set-admin", "correct horse battery"),
		chromedp.WaitVisible(chromedp.ID("menu")),
		chromedp.Click(chromedp.CSS(`#menu a[href="/admin/settings"]`)),
		chromedp.WaitVisible(chromedp.ID("settings-form")),
	))
	if v := run(t, ctx, chromedp.Value(chromedp.ID("block_explorer_tx_url"))); v != "https://mempool.space/tx/{txid}" {
		t.Fatalf("explorer URL shown %q", v)
	}

	// A URL without {txid}: the form comes back with the field marked, nothing saved.
	run(t, ctx, chromedp.Steps(
		chromedp.SetValue(chromedp.ID("block_explorer_tx_url"), "https://blockstream.info/tx/"),
		chromedp.SetValue(chromedp.ID("invoice_expiry_minutes"), "30"),
		chromedp.Click(chromedp.ID("save-settings")),
		chromedp.WaitVisible(chromedp.CSS(`#block_explorer_tx_url[aria-invalid="true"]`)),
	))
	if msg := run(t, ctx, chromedp.Text(chromedp.CSS(".field-error"))); !strings.Contains(msg, "{txid}") {
		t.Fatalf("field error %q", msg)
	}
	if got, err := env.App.Settings.Get(t.Context()); err != nil || got != settings.Defaults() {
		t.Fatalf("saved after a mistake: %+v, %v", got, err)
	}
	// What was typed is kept for correcting, and the cursor is in the field at fault.
	if v := run(t, ctx, chromedp.Value(chromedp.ID("invoice_expiry_minutes"))); v != "30" {
		t.Fatalf("typed expiry lost: %q", v)
	}
	if id := run(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)); id != "block_explorer_tx_url" {
		t.Fatalf("focus on %q", id)
	}

	run(t, ctx, chromedp.Steps(
		chromedp.SetValue(chromedp.ID("block_explorer_tx_url"), "https://blockstream.info/tx/{txid}"),
		chromedp.Click(chromedp.ID("packing_slip_prices")),
		chromedp.Click(chromedp.ID("save-settings")),
		chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
	))
	if msg := run(t, ctx, chromedp.Text(chromedp.CSS(".flash-ok"))); msg != "Settings saved." {
		t.Fatalf("flash %q", msg)
	}
	if v := run(t, ctx, chromedp.Value(chromedp.ID("block_explorer_tx_url"))); v != "https://blockstream.info/tx/{txid}" {
		t.Fatalf("saved URL shown %q", v)
	}
	if loc := run(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, "/admin/settings") {
		t.Fatalf("after saving at %s", loc)
	}
	got, err := env.App.Settings.Get(t.Context())
	if err != nil || got.BlockExplorerTxURL != "https://blockstream.info/tx/{txid}" || got.InvoiceExpiryMinutes != 30 || !got.PackingSlipPrices {
		t.Fatalf("in force %+v, %v", got, err)
	}
	entries, err := env.App.Audit.ListAudit(t.Context(), ports.AuditFilter{Action: "settings.update", Actor: "set-admin", Limit: 10})
	if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Detail, `block_explorer_tx_url: "https://mempool.space/tx/{txid}" → "https://blockstream.info/tx/{txid}"`) {
		t.Fatalf("audit %+v, %v", entries, err)
	}

	// Test connection answers in place: the page stays, with what is being typed.
	run(t, ctx, chromedp.Steps(
		chromedp.SetValue(chromedp.ID("shop_name"), "Not saved yet"),
		chromedp.Click(chromedp.ID("test-payments")),
		chromedp.WaitVisible(chromedp.CSS("#payments-test-result #payments-test-report")),
	))
	if msg := run(t, ctx, chromedp.Text(chromedp.ID("payments-test-report"))); msg != "Sandbox payments: nothing to test; no real money moves." {
		t.Fatalf("test report %q", msg)
	}
	if v := run(t, ctx, chromedp.Value(chromedp.ID("shop_name"))); v != "Not saved yet" {
		t.Fatalf("the page was replaced: shop name %q", v)
	}
	if got, _ := env.App.Settings.Get(t.Context()); got.ShopName != settings.Defaults().ShopName {
		t.Fatalf("testing the connection saved the form: %q", got.ShopName)
	}

	// A packer has no Settings in the menu, and opening the page is refused.
	run(t, ctx, chromedp.Steps(chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login"))))
	run(t, ctx, chromedp.Steps(logIn(u, "set-packer", "correct horse battery"), chromedp.WaitVisible(chromedp.ID("menu"))))
	if menu := run(t, ctx, chromedp.Text(chromedp.ID("menu"))); strings.Contains(menu, "Settings") {
		t.Fatalf("packer menu %q", menu)
	}
	resp := run(t, ctx, chromedp.NavigateResponse(u+"/admin/settings"))
	if resp.Status != 403 {
		t.Fatalf("settings as packer: %d", resp.Status)
	}
	if title := run(t, ctx, chromedp.Text(chromedp.CSS(".error-page h1"))); !strings.Contains(title, "403") {
		t.Fatalf("403 page heading %q", title)
	}
}
