package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"orderdesk/adapters/btcpay/btcpaytest"
	"orderdesk/app/apptest"
	"orderdesk/modules/settings"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// settingsForm is the form as the page sends it for s.
func settingsForm(s settings.Settings) url.Values {
	v := url.Values{
		"invoice_expiry_minutes": {strconv.Itoa(s.InvoiceExpiryMinutes)},
		"block_explorer_tx_url":  {s.BlockExplorerTxURL},
		"label_mode":             {string(s.LabelMode)},
		"low_stock_threshold":    {strconv.Itoa(s.LowStockThreshold)},
		"shop_name":              {s.ShopName},
	}
	if s.PackingSlipPrices {
		v.Set("packing_slip_prices", "on")
	}
	if s.ReviewsAutoApprove {
		v.Set("reviews_auto_approve", "on")
	}
	return v
}

func settingsAudits(t *testing.T, env *apptest.Env) []ports.AuditEntry {
	t.Helper()
	entries, err := env.App.Audit.ListAudit(context.Background(), ports.AuditFilter{ObjectType: "settings", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// restoreSettings puts the defaults back when the test ends: the settings are one
// per database, shared by the package's tests.
func restoreSettings(t *testing.T, env *apptest.Env) {
	t.Cleanup(func() {
		ctx := ports.WithActor(context.Background(), ports.System)
		if _, err := env.App.Settings.Update(ctx, settings.Defaults()); err != nil {
			t.Error(err)
		}
	})
}

func TestSettingsPageShowsWhatIsInForce(t *testing.T) {
	env := apptest.Start(t)
	restoreSettings(t, env)
	c := adminClient(t, env, "set-viewer")
	resp, body := c.Get("/admin/settings")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{
		`<a href="/admin/settings" class="active" aria-current="page">Settings</a>`,
		`name="shop_name" id="shop_name" maxlength="200" value="OrderDesk shop"`,
		`name="invoice_expiry_minutes" id="invoice_expiry_minutes" type="number" inputmode="numeric" min="5" max="1440" value="60"`,
		`value="https://mempool.space/tx/{txid}"`,
		`<option value="label" selected>`,
		`name="low_stock_threshold" id="low_stock_threshold" type="number" inputmode="numeric" min="0" max="100000" value="5"`,
		`id="test-payments"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if regexp.MustCompile(`id="(packing_slip_prices|reviews_auto_approve)" checked`).MatchString(body) {
		t.Error("a checkbox is ticked by default")
	}

	// What another process saves shows here once the cache has expired.
	s := settings.Defaults()
	s.ShopName, s.LabelMode, s.PackingSlipPrices = "Tea <&> Co", settings.LabelModePushOnly, true
	other := apptest.Start(t)
	if _, err := other.App.Settings.Update(ports.WithActor(t.Context(), ports.System), s); err != nil {
		t.Fatal(err)
	}
	time.Sleep(settings.CacheTTL)
	_, body = c.Get("/admin/settings")
	for _, want := range []string{`value="Tea &lt;&amp;&gt; Co"`, `<option value="push_only" selected>`, `id="packing_slip_prices" checked`} {
		if !strings.Contains(body, want) {
			t.Errorf("after another process saved, the page lacks %s", want)
		}
	}
}

func TestSettingsValidation(t *testing.T) {
	env := apptest.Start(t)
	restoreSettings(t, env)
	c := adminClient(t, env, "set-validator")
	cases := []struct {
		name   string
		change func(v url.Values)
		fields map[string]string // field → part of its message
	}{
		{"expiry too short", func(v url.Values) { v.Set("invoice_expiry_minutes", "4") },
			map[string]string{"invoice_expiry_minutes": "from 5 to 1440"}},
		{"expiry too long", func(v url.Values) { v.Set("invoice_expiry_minutes", "1441") },
			map[string]string{"invoice_expiry_minutes": "from 5 to 1440"}},
		{"expiry not a number", func(v url.Values) { v.Set("invoice_expiry_minutes", "an hour") },
			map[string]string{"invoice_expiry_minutes": "whole number"}},
		{"expiry empty", func(v url.Values) { v.Set("invoice_expiry_minutes", "") },
			map[string]string{"invoice_expiry_minutes": "whole number"}},
		{"explorer without txid", func(v url.Values) { v.Set("block_explorer_tx_url", "https://mempool.space/tx/") },
			map[string]string{"block_explorer_tx_url": "Put {txid} in the URL"}},
		{"explorer relative", func(v url.Values) { v.Set("block_explorer_tx_url", "mempool.space/tx/{txid}") },
			map[string]string{"block_explorer_tx_url": "absolute http:// or https:// URL"}},
		{"explorer too long", func(v url.Values) {
			v.Set("block_explorer_tx_url", "https://e.example/"+strings.Repeat("x", 300)+"{txid}")
		}, map[string]string{"block_explorer_tx_url": "at most 300 characters"}},
		{"label mode unknown", func(v url.Values) { v.Set("label_mode", "fax") },
			map[string]string{"label_mode": "Choose how labels are made"}},
		{"low stock negative", func(v url.Values) { v.Set("low_stock_threshold", "-1") },
			map[string]string{"low_stock_threshold": "from 0 to 100000"}},
		{"low stock fraction", func(v url.Values) { v.Set("low_stock_threshold", "2.5") },
			map[string]string{"low_stock_threshold": "whole number"}},
		{"shop name blank", func(v url.Values) { v.Set("shop_name", "   ") },
			map[string]string{"shop_name": "1 to 100 characters"}},
		{"shop name too long", func(v url.Values) { v.Set("shop_name", strings.Repeat("é", 101)) },
			map[string]string{"shop_name": "1 to 100 characters"}},
		{"shop name control character", func(v url.Values) { v.Set("shop_name", "Tea\u0007Shop") },
			map[string]string{"shop_name": "without control"}},
		{"every field at once", func(v url.Values) {
			v.Set("invoice_expiry_minutes", "soon")
			v.Set("block_explorer_tx_url", "ftp://x/{txid}")
			v.Set("label_mode", "")
			v.Set("low_stock_threshold", "100001")
			v.Set("shop_name", "")
		}, map[string]string{"invoice_expiry_minutes": "whole number", "block_explorer_tx_url": "absolute", "label_mode": "Choose",
			"low_stock_threshold": "from 0 to 100000", "shop_name": "1 to 100"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, err := env.App.Settings.Get(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			audits := len(settingsAudits(t, env))
			form := settingsForm(before)
			form.Set("shop_name", "Changed with the mistake") // must not be saved either
			tc.change(form)
			resp, body := c.Post("/admin/settings", form)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Please correct the fields marked below.") {
				t.Fatalf("status %d, want 422 with the message:\n%s", resp.StatusCode, body)
			}
			for field, msg := range tc.fields {
				re := regexp.MustCompile(`name="` + field + `" id="` + field + `"[^>]*aria-invalid="true"[^>]*>(?s:.*?)<span class="field-error" role="alert">([^<]*)</span>`)
				m := re.FindStringSubmatch(body)
				if m == nil || !strings.Contains(m[1], msg) {
					t.Errorf("field %s not marked with %q (got %v)", field, msg, m)
				}
			}
			if n := strings.Count(body, `aria-invalid="true"`); n != len(tc.fields) {
				t.Errorf("%d fields marked, want %d", n, len(tc.fields))
			}
			// What was typed comes back, for correcting.
			if v := form.Get("shop_name"); !strings.Contains(body, `value="`+htmlEscape(v)+`"`) {
				t.Errorf("typed shop name %q not kept", v)
			}
			if after, _ := env.App.Settings.Get(t.Context()); after != before {
				t.Errorf("settings changed to %+v", after)
			}
			if n := len(settingsAudits(t, env)); n != audits {
				t.Errorf("audit entries %d → %d", audits, n)
			}
		})
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestSettingsSave(t *testing.T) {
	env := apptest.Start(t)
	restoreSettings(t, env)
	c := adminClient(t, env, "set-saver")
	audits := len(settingsAudits(t, env))

	want := settings.Settings{InvoiceExpiryMinutes: 30, BlockExplorerTxURL: "https://mempool.example.net/tx/{txid}",
		LabelMode: settings.LabelModePushOnly, PackingSlipPrices: true, ReviewsAutoApprove: true, LowStockThreshold: 0, ShopName: "Tea & Co"}
	form := settingsForm(want)
	form.Set("shop_name", "  Tea & Co  ")
	form.Set("invoice_expiry_minutes", " 30 ")
	resp, _ := c.Post("/admin/settings", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/settings" {
		t.Fatalf("save: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := c.Get("/admin/settings")
	if !strings.Contains(body, `<p class="flash flash-ok" role="status">Settings saved.</p>`) {
		t.Fatalf("no flash:\n%s", body)
	}
	for _, s := range []string{`value="Tea &amp; Co"`, `value="30"`, `value="https://mempool.example.net/tx/{txid}"`,
		`<option value="push_only" selected>`, `id="packing_slip_prices" checked`, `id="reviews_auto_approve" checked`} {
		if !strings.Contains(body, s) {
			t.Errorf("saved page lacks %s", s)
		}
	}
	if _, again := c.Get("/admin/settings"); strings.Contains(again, "Settings saved.") {
		t.Error("the flash shows twice")
	}
	if got, err := env.App.Settings.Get(t.Context()); err != nil || got != want {
		t.Fatalf("in force: %+v, %v", got, err)
	}
	// Another serve process on the same database reads the same.
	if got, err := apptest.Start(t).App.Settings.Get(t.Context()); err != nil || got != want {
		t.Fatalf("other process: %+v, %v", got, err)
	}
	entries := settingsAudits(t, env)
	if len(entries) != audits+1 {
		t.Fatalf("%d audit entries, want %d", len(entries), audits+1)
	}
	a := entries[0]
	if a.Action != "settings.update" || a.Actor != "set-saver" || !strings.Contains(a.Detail, `shop_name: "OrderDesk shop" → "Tea & Co"`) ||
		!strings.Contains(a.Detail, "invoice_expiry_minutes: 60 → 30") || !strings.Contains(a.Detail, "low_stock_threshold: 5 → 0") {
		t.Fatalf("audit %+v", a)
	}

	// Unticking a box saves false; the audit names only that change.
	want.ReviewsAutoApprove = false
	if resp, _ := c.Post("/admin/settings", settingsForm(want)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("untick: %d", resp.StatusCode)
	}
	if got, _ := env.App.Settings.Get(t.Context()); got.ReviewsAutoApprove {
		t.Fatal("reviews_auto_approve still on")
	}
	if a := settingsAudits(t, env)[0]; a.Detail != "reviews_auto_approve: true → false" {
		t.Fatalf("untick audit %q", a.Detail)
	}
}

func TestSettingsTestPayments(t *testing.T) {
	env := apptest.Start(t)
	c := adminClient(t, env, "set-tester")
	c.Get("/admin/settings")
	const sandbox = "Sandbox payments: nothing to test; no real money moves."

	// From the page, htmx swaps the result in place: a fragment, not a page.
	resp, body := c.Do("POST", "/admin/settings/test-payments", url.Values{"_csrf": {c.CSRF}}, http.Header{"HX-Request": {"true"}})
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<html") ||
		!strings.Contains(body, `<p class="flash flash-ok" id="payments-test-report" role="status">`+sandbox+`</p>`) {
		t.Fatalf("htmx: %d\n%s", resp.StatusCode, body)
	}
	// Without JavaScript the result comes back as a flash on the page.
	resp, _ = c.Post("/admin/settings/test-payments", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/settings" {
		t.Fatalf("form: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := c.Get("/admin/settings"); !strings.Contains(body, `<p class="flash flash-ok" role="status">`+sandbox+`</p>`) {
		t.Fatalf("no flash:\n%s", body)
	}
	// Without the page's token it is refused.
	resp, _ = c.Do("POST", "/admin/settings/test-payments", url.Values{}, http.Header{"HX-Request": {"true"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("without CSRF token: %d", resp.StatusCode)
	}
}

// TestSettingsTestPaymentsBTCPay: with BTCPay configured, Test connection runs the
// server checks and shows their report line by line, green when OrderDesk can take
// payments and red when it cannot.
func TestSettingsTestPaymentsBTCPay(t *testing.T) {
	fake := btcpaytest.New(t, btcpaytest.Config{})
	cases := []struct {
		name, key string
		ok        bool
		want      []string
	}{
		{"working key", fake.APIKey(), true, []string{"BTCPay Server: " + fake.URL() + "<br>",
			"OK: OrderDesk can take payments with this server, key and store."}},
		{"refused key", "not-the-key", false, []string{"FAILED: BTCPay Server refuses the API key (HTTP 401"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := apptest.StartWith(t, map[string]string{"PAYMENTS_PROVIDER": "btcpay", "BTCPAY_URL": fake.URL(),
				"BTCPAY_API_KEY": tc.key, "BTCPAY_STORE_ID": fake.StoreID(), "BTCPAY_WEBHOOK_SECRET": "settings-test-secret"})
			c := adminClient(t, env, "set-btcpay-"+strings.Fields(tc.name)[0])
			c.Get("/admin/settings")
			resp, body := c.Do("POST", "/admin/settings/test-payments", url.Values{"_csrf": {c.CSRF}}, http.Header{"HX-Request": {"true"}})
			class := map[bool]string{true: "flash-ok", false: "flash-error"}[tc.ok]
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, `<p class="flash `+class+`" id="payments-test-report"`) {
				t.Fatalf("%d, want a %s report:\n%s", resp.StatusCode, class, body)
			}
			for _, want := range tc.want {
				if !strings.Contains(body, want) {
					t.Errorf("report lacks %q:\n%s", want, body)
				}
			}
		})
	}
}

// TestSettingsOnlyForAdmins: no other role may see or change the settings, nor does
// it find them in its menu.
func TestSettingsOnlyForAdmins(t *testing.T) {
	env := apptest.Start(t)
	restoreSettings(t, env)
	for _, role := range staff.Roles {
		if role == staff.RoleAdmin {
			continue
		}
		t.Run(string(role), func(t *testing.T) {
			env.CreateUser(t, "set-"+string(role), role, "correct horse battery")
			c := env.NewClient(t)
			c.Login("set-"+string(role), "correct horse battery")
			if resp, body := c.Get("/admin/settings"); resp.StatusCode != http.StatusForbidden || strings.Contains(body, `href="/admin/settings"`) {
				t.Fatalf("GET: %d (or the menu links to it)", resp.StatusCode)
			}
			form := settingsForm(settings.Defaults())
			form.Set("shop_name", "Taken over")
			if resp, _ := c.Post("/admin/settings", form); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("POST: %d", resp.StatusCode)
			}
			if resp, _ := c.Post("/admin/settings/test-payments", nil); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("test payments: %d", resp.StatusCode)
			}
			if got, _ := env.App.Settings.Get(t.Context()); got.ShopName == "Taken over" {
				t.Fatal("saved")
			}
		})
	}
}
