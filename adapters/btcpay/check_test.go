package btcpay_test

import (
	"context"
	"strings"
	"testing"

	"orderdesk/adapters/btcpay"
	"orderdesk/adapters/btcpay/btcpaytest"
	"orderdesk/ports"
)

func TestCheck(t *testing.T) {
	forShapes(t, btcpaytest.Config{}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		ctx := context.Background()
		store := fake.StoreID()
		tests := []struct {
			name        string
			permissions []string
			unsynced    bool
			problem     string   // "" when the check passes
			report      []string // lines the report must have
		}{
			{"recommended key", btcpaytest.DefaultPermissions(store), false, "",
				[]string{"version " + map[btcpaytest.Shape]string{btcpaytest.V2: "2.4.1", btcpaytest.V1: "1.13.7"}[fake.Shape()], "fully synced",
					"Store: " + store + " (its invoices answer", "OK:"}},
			{"store owner key", []string{"btcpay.store.canmodifystoresettings:" + store}, false, "",
				[]string{"Store: OrderDesk test store (" + store + ")", "OK:"}},
			{"unrestricted", []string{"unrestricted"}, true, "", []string{"NOT fully synced", "Warning: the server is not fully synced"}},
			{"no refunds", []string{"btcpay.store.canmodifyinvoices:" + store, "btcpay.store.webhooks.canmodifywebhooks:" + store}, false, "",
				[]string{"Warning: refunds are not possible"}},
			{"refunds need approval", []string{"btcpay.store.canmodifyinvoices", "btcpay.store.webhooks.canmodifywebhooks", "btcpay.store.cancreatenonapprovedpullpayments"}, false, "",
				[]string{"Warning: refunds will wait for approval"}},
			{"no webhooks", []string{"btcpay.store.canmodifyinvoices:" + store}, false, "the API key lacks btcpay.store.webhooks.canmodifywebhooks",
				[]string{"MISSING btcpay.store.webhooks.canmodifywebhooks (to register the store webhook)", "FAILED:"}},
			{"view only", []string{"btcpay.store.canviewinvoices:" + store}, false, "lacks btcpay.store.cancreateinvoice, btcpay.store.canmodifyinvoices, btcpay.store.webhooks.canmodifywebhooks", nil},
			{"another store's key", []string{"btcpay.store.canmodifystoresettings:" + btcpaytest.OtherStoreID}, false, "cannot be reached with this key", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				fake.SetPermissions(tt.permissions)
				fake.SetSynced(!tt.unsynced)
				r, err := c.Check(ctx)
				if r == nil {
					t.Fatalf("no result (%v)", err)
				}
				if (err != nil) != (tt.problem != "") || (err != nil && !strings.Contains(err.Error(), tt.problem)) || r.Problem != errText(err) {
					t.Errorf("error %v, problem %q; want %q", err, r.Problem, tt.problem)
				}
				report := r.Report()
				for _, line := range tt.report {
					if !strings.Contains(report, line) {
						t.Errorf("report lacks %q:\n%s", line, report)
					}
				}
			})
		}
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestCheckFailures(t *testing.T) {
	fake := btcpaytest.New(t, btcpaytest.Config{})
	ctx := context.Background()

	r, err := newClient(fake, "wrong-key").Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "refuses the API key") || !strings.Contains(r.Report(), "FAILED") {
		t.Errorf("wrong key: %v\n%s", err, r.Report())
	}
	wrongStore := btcpay.New(btcpay.Config{URL: fake.URL(), APIKey: fake.APIKey(), StoreID: "NoSuchStore"})
	fake.SetPermissions([]string{"unrestricted"})
	if _, err := wrongStore.Check(ctx); err == nil || !strings.Contains(err.Error(), "no store NoSuchStore") {
		t.Errorf("wrong store: %v", err)
	}
	fake.SetDown(true)
	if _, err := newClient(fake, "").Check(ctx); err == nil || !strings.Contains(err.Error(), "cannot reach BTCPay Server") {
		t.Errorf("down: %v", err)
	}
	fake.SetDown(false)
	if _, err := btcpay.New(btcpay.Config{URL: "http://127.0.0.1:1", APIKey: "k", StoreID: "s"}).Check(ctx); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestRegisterWebhook(t *testing.T) {
	forShapes(t, btcpaytest.Config{}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		ctx := context.Background()
		id, sec, err := c.RegisterWebhook(ctx, "https://shop.example/webhooks/btcpay")
		if err != nil {
			t.Fatal(err)
		}
		hooks := fake.Webhooks()
		if len(hooks) != 1 || hooks[0].ID != id || hooks[0].Secret != sec || hooks[0].URL != "https://shop.example/webhooks/btcpay" ||
			!hooks[0].AutomaticRedelivery || !hooks[0].Everything || hooks[0].StoreID != fake.StoreID() {
			t.Errorf("webhooks %+v (id %q)", hooks, id)
		}
		if len(sec) < 32 {
			t.Errorf("secret %q is short", sec)
		}
		_, sec2, err := c.RegisterWebhook(ctx, "https://shop.example/other")
		if err != nil || sec2 == sec {
			t.Errorf("second secret %q equals the first, or %v", sec2, err)
		}
		if _, _, err := c.RegisterWebhook(ctx, "https://shop.example/webhooks/btcpay"); ports.ErrorCodeOf(err) != ports.ECONFLICT ||
			!strings.Contains(err.Error(), id) || len(fake.Webhooks()) != 2 {
			t.Errorf("the same URL again: %v", err)
		}
		if _, _, err := c.RegisterWebhook(ctx, "/webhooks/btcpay"); ports.ErrorCodeOf(err) != ports.EINVALID {
			t.Errorf("relative URL: %v", err)
		}
		fake.SetPermissions([]string{"btcpay.store.canmodifyinvoices:" + fake.StoreID()})
		if _, _, err := c.RegisterWebhook(ctx, "https://shop.example/x"); ports.ErrorCodeOf(err) != ports.EUNAVAILABLE {
			t.Errorf("without the permission: %v", err)
		}
	})
}
