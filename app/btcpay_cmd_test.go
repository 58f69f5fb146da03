package app_test

import (
	"strings"
	"testing"

	"orderdesk/adapters/btcpay/btcpaytest"
)

// btcpayFakeEnv starts a fake BTCPay Server and points the BTCPAY_* variables at it.
func btcpayFakeEnv(t *testing.T) *btcpaytest.Server {
	t.Helper()
	clearConfigEnv(t)
	fake := btcpaytest.New(t, btcpaytest.Config{})
	t.Setenv("BTCPAY_URL", fake.URL())
	t.Setenv("BTCPAY_API_KEY", fake.APIKey())
	t.Setenv("BTCPAY_STORE_ID", fake.StoreID())
	return fake
}

func TestBTCPayUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"btcpay"}, "usage: orderdesk btcpay check"},
		{[]string{"btcpay", "frobnicate"}, `unknown btcpay command "frobnicate"`},
		{[]string{"btcpay", "check", "now"}, "btcpay check takes no arguments"},
		{[]string{"btcpay", "register-webhook", "https://x"}, "btcpay register-webhook takes no arguments"},
	} {
		clearConfigEnv(t)
		r := runMain(t, "", tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", tc.args, r.code, r.stderr, r.stdout)
		}
		wantOneErrorLine(t, r)
	}
}

// The commands need no database and no webhook secret, only what they use.
func TestBTCPayConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		env     map[string]string
		wantVar string
	}{
		{[]string{"btcpay", "check"}, nil, "BTCPAY_URL"},
		{[]string{"btcpay", "check"}, map[string]string{"BTCPAY_URL": "ftp://btcpay.example"}, "BTCPAY_URL"},
		{[]string{"btcpay", "check"}, map[string]string{"BTCPAY_URL": "https://btcpay.example"}, "BTCPAY_API_KEY"},
		{[]string{"btcpay", "check"}, map[string]string{"BTCPAY_URL": "https://btcpay.example", "BTCPAY_API_KEY": "k"}, "BTCPAY_STORE_ID"},
		{[]string{"btcpay", "register-webhook"}, map[string]string{"BTCPAY_URL": "https://btcpay.example", "BTCPAY_API_KEY": "k", "BTCPAY_STORE_ID": "s"}, "BASE_URL"},
		{[]string{"btcpay", "register-webhook"}, map[string]string{"BTCPAY_URL": "https://btcpay.example", "BTCPAY_API_KEY": "k", "BTCPAY_STORE_ID": "s", "BASE_URL": "shop.example"}, "BASE_URL"},
	} {
		clearConfigEnv(t)
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		r := runMain(t, "", tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.wantVar) {
			t.Errorf("%v %v: exit %d, stderr %q; want exit 1 naming %s", tc.args, tc.env, r.code, r.stderr, tc.wantVar)
		}
		wantOneErrorLine(t, r)
	}
}

func TestBTCPayCheck(t *testing.T) {
	fake := btcpayFakeEnv(t)
	r := runMain(t, "", "btcpay", "check")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
	for _, want := range []string{"BTCPay Server: " + fake.URL(), "version 2.4.1", "btcpay.store.cancreateinvoice:" + fake.StoreID(), "OK:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}

	fake.SetPermissions([]string{"btcpay.store.canviewinvoices:" + fake.StoreID()})
	r = runMain(t, "", "btcpay", "check")
	if r.code != 1 || !strings.Contains(r.stderr, "lacks btcpay.store.cancreateinvoice") || !strings.Contains(r.stdout, "MISSING") {
		t.Errorf("without permissions: exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
	wantOneErrorLine(t, r)

	fake.SetDown(true)
	r = runMain(t, "", "btcpay", "check")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot reach BTCPay Server") {
		t.Errorf("server down: exit %d, stderr %q", r.code, r.stderr)
	}
	wantOneErrorLine(t, r)
}

func TestBTCPayRegisterWebhook(t *testing.T) {
	fake := btcpayFakeEnv(t)
	t.Setenv("BASE_URL", "https://shop.example.com/")
	r := runMain(t, "", "btcpay", "register-webhook")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	hooks := fake.Webhooks()
	if len(hooks) != 1 || hooks[0].URL != "https://shop.example.com/webhooks/btcpay" {
		t.Fatalf("webhooks %+v", hooks)
	}
	want := "WEBHOOK_ID=" + hooks[0].ID + "\nBTCPAY_WEBHOOK_SECRET=" + hooks[0].Secret + "\n"
	if r.stdout != want || hooks[0].Secret == "" {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	// Again: the store has one already; nothing new is made.
	r = runMain(t, "", "btcpay", "register-webhook")
	if r.code != 1 || !strings.Contains(r.stderr, "already has webhook "+hooks[0].ID) || len(fake.Webhooks()) != 1 {
		t.Errorf("second time: exit %d, stderr %q", r.code, r.stderr)
	}
	wantOneErrorLine(t, r)
}

func TestBTCPayInHelp(t *testing.T) {
	clearConfigEnv(t)
	r := runMain(t, "", "help")
	for _, want := range []string{"btcpay check", "btcpay register-webhook", "BTCPAY_WEBHOOK_SECRET="} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
