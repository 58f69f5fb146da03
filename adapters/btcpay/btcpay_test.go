package btcpay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"orderdesk/adapters/btcpay"
	"orderdesk/adapters/btcpay/btcpaytest"
	"orderdesk/ports"
)

var shapes = []struct {
	name  string
	shape btcpaytest.Shape
}{{"2.x", btcpaytest.V2}, {"1.x", btcpaytest.V1}}

// forShapes runs a test against a fake of each version.
func forShapes(t *testing.T, cfg btcpaytest.Config, fn func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client)) {
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			cfg := cfg
			cfg.Shape = sh.shape
			fake := btcpaytest.New(t, cfg)
			fn(t, fake, newClient(fake, ""))
		})
	}
}

const secret = "webhook-secret-for-tests"

func newClient(fake *btcpaytest.Server, key string) *btcpay.Client {
	if key == "" {
		key = fake.APIKey()
	}
	return btcpay.New(btcpay.Config{URL: fake.URL(), APIKey: key, StoreID: fake.StoreID(), WebhookSecret: secret})
}

func request(orderID string, pence int64) ports.InvoiceRequest {
	return ports.InvoiceRequest{OrderID: orderID, OrderNumber: "1042", Amount: ports.Money{Minor: pence, Currency: "GBP"}, ExpiresIn: time.Hour}
}

func wantCode(t *testing.T, err error, code ports.ErrorCode) {
	t.Helper()
	if got := ports.ErrorCodeOf(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

func TestCreateInvoice(t *testing.T) {
	forShapes(t, btcpaytest.Config{}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		ctx := context.Background()
		inv, err := c.CreateInvoice(ctx, request("order-1", 1234))
		if err != nil {
			t.Fatal(err)
		}
		if inv.ID == "" || inv.StoreID != fake.StoreID() || inv.OrderID != "order-1" || inv.Status != "New" || inv.AdditionalStatus != "None" {
			t.Errorf("invoice %+v", inv)
		}
		if inv.Amount != (ports.Money{Minor: 1234, Currency: "GBP"}) {
			t.Errorf("amount %+v", inv.Amount)
		}
		if got := inv.ExpiresAt.Sub(inv.CreatedAt); got != time.Hour {
			t.Errorf("expires %v after creation, want 1h", got)
		}
		if !strings.HasPrefix(inv.CheckoutLink, fake.URL()+"/i/") {
			t.Errorf("checkout link %q", inv.CheckoutLink)
		}
		// £12.34 at £50,000 is 24,680 sats exactly, on both methods.
		if len(inv.Methods) != 2 {
			t.Fatalf("methods %+v", inv.Methods)
		}
		chain, ln := inv.Methods[0], inv.Methods[1]
		if chain.Method != "BTC-CHAIN" || !strings.HasPrefix(chain.Destination, "bcrt1q") ||
			chain.PaymentURI != "bitcoin:"+chain.Destination+"?amount=0.0002468" || chain.AmountSats != 24680 || chain.DueSats != 24680 || chain.RatePence != 5_000_000 {
			t.Errorf("on-chain method %+v", chain)
		}
		if ln.Method != "BTC-LN" || !strings.HasPrefix(ln.Destination, "lnbcrt") || ln.PaymentURI != "lightning:"+ln.Destination ||
			ln.AmountSats != 24680 || ln.DueSats != 24680 || ln.RatePence != 5_000_000 {
			t.Errorf("lightning method %+v", ln)
		}
		// What went to BTCPay: the exact amount as a decimal string, the order in metadata.
		var sent struct {
			Amount   any `json:"amount"`
			Currency string
			Metadata map[string]string
			Checkout map[string]any
		}
		if err := json.Unmarshal(fake.LastBody(btcpaytest.RouteCreateInvoice), &sent); err != nil {
			t.Fatal(err)
		}
		if sent.Amount != "12.34" || sent.Currency != "GBP" || sent.Metadata["orderId"] != "order-1" ||
			sent.Metadata["orderNumber"] != "1042" || sent.Metadata["itemDesc"] != "Order 1042" {
			t.Errorf("sent %+v", sent)
		}
		if sent.Checkout["expirationMinutes"] != float64(60) || sent.Checkout["lazyPaymentMethods"] != false {
			t.Errorf("checkout sent %v", sent.Checkout)
		}
	})
}

func TestCreateInvoiceRetryReusesLiveInvoice(t *testing.T) {
	forShapes(t, btcpaytest.Config{}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		ctx := context.Background()
		first, err := c.CreateInvoice(ctx, request("order-2", 500))
		if err != nil {
			t.Fatal(err)
		}
		again, err := c.CreateInvoice(ctx, request("order-2", 500))
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != first.ID || fake.Calls(btcpaytest.RouteCreateInvoice) != 1 {
			t.Errorf("retry made invoice %s (first %s), %d creations", again.ID, first.ID, fake.Calls(btcpaytest.RouteCreateInvoice))
		}
		// Paid and processing: still the same one.
		fake.Pay(first.ID, "BTC-CHAIN", 10_000, false)
		if again, err = c.CreateInvoice(ctx, request("order-2", 500)); err != nil || again.ID != first.ID || again.Status != "Processing" {
			t.Errorf("after payment: %+v, %v", again, err)
		}
		// Another order's live invoice is not reused.
		other, err := c.CreateInvoice(ctx, request("order-3", 500))
		if err != nil || other.ID == first.ID {
			t.Errorf("other order: %+v, %v", other, err)
		}
		// An expired invoice (or an invalid one) is not live: a new one is made.
		third, err := c.CreateInvoice(ctx, request("order-4", 700))
		if err != nil {
			t.Fatal(err)
		}
		fake.Expire(third.ID)
		fourth, err := c.CreateInvoice(ctx, request("order-4", 700))
		if err != nil || fourth.ID == third.ID {
			t.Fatalf("after expiry: %+v, %v", fourth, err)
		}
		fake.SetStatus(fourth.ID, "Invalid", "Marked")
		fifth, err := c.CreateInvoice(ctx, request("order-4", 700))
		if err != nil || fifth.ID == fourth.ID || fifth.ID == third.ID {
			t.Fatalf("after invalid: %+v, %v", fifth, err)
		}
		if n := fake.Calls(btcpaytest.RouteCreateInvoice); n != 5 {
			t.Errorf("%d creations, want 5", n)
		}
	})
}

func TestCreateInvoiceNewPastExpiryIsNotReused(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	fake := btcpaytest.New(t, btcpaytest.Config{Clock: clock})
	c := btcpay.New(btcpay.Config{URL: fake.URL(), APIKey: fake.APIKey(), StoreID: fake.StoreID(), Clock: func() time.Time { return now.Add(2 * time.Hour) }})
	first, err := c.CreateInvoice(context.Background(), request("order-5", 100))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.CreateInvoice(context.Background(), request("order-5", 100))
	if err != nil || second.ID == first.ID {
		t.Errorf("a New invoice past its expiry was reused: %v %v", second, err)
	}
}

func TestCreateInvoiceRefusesBadRequests(t *testing.T) {
	fake := btcpaytest.New(t, btcpaytest.Config{})
	c := newClient(fake, "")
	for _, r := range []ports.InvoiceRequest{
		{OrderID: "", Amount: ports.Money{Minor: 100, Currency: "GBP"}},
		{OrderID: "x", Amount: ports.Money{Minor: 0, Currency: "GBP"}},
		{OrderID: "x", Amount: ports.Money{Minor: -5, Currency: "GBP"}},
	} {
		_, err := c.CreateInvoice(context.Background(), r)
		wantCode(t, err, ports.EINVALID)
	}
	if fake.TotalCalls() != 0 {
		t.Errorf("%d calls for invalid requests", fake.TotalCalls())
	}
}

func TestMethodsWithoutLightning(t *testing.T) {
	forShapes(t, btcpaytest.Config{Methods: []string{"BTC-CHAIN"}}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		inv, err := c.CreateInvoice(context.Background(), request("order-6", 1000))
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Methods) != 1 || inv.Methods[0].Method != "BTC-CHAIN" {
			t.Errorf("methods %+v", inv.Methods)
		}
	})
}

// A rate that does not divide the price: on chain the amount is rounded up to the
// satoshi; Lightning amounts come in millisatoshis, rounded up too.
func TestMethodsRoundUpSubSatoshiAmounts(t *testing.T) {
	forShapes(t, btcpaytest.Config{Rate: "51234.5678"}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		inv, err := c.CreateInvoice(context.Background(), request("order-7", 1234))
		if err != nil {
			t.Fatal(err)
		}
		// 12.34 / 51234.5678 = 0.000240853213… BTC: 24,085.32 sats.
		for _, m := range inv.Methods {
			if m.AmountSats != 24086 || m.DueSats != 24086 || m.RatePence != 5_123_457 {
				t.Errorf("%s: amount %d due %d rate %d", m.Method, m.AmountSats, m.DueSats, m.RatePence)
			}
		}
	})
}

func TestInvoicePayments(t *testing.T) {
	forShapes(t, btcpaytest.Config{}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		ctx := context.Background()
		inv, err := c.CreateInvoice(ctx, request("order-8", 1000)) // 20,000 sats
		if err != nil {
			t.Fatal(err)
		}
		chainID := fake.Pay(inv.ID, "BTC-CHAIN", 12_345, false)
		got, err := c.Invoice(ctx, inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != "New" || got.AdditionalStatus != "PaidPartial" || got.OrderID != "order-8" || got.StoreID != fake.StoreID() {
			t.Errorf("after a partial payment: %s/%s order %q store %q", got.Status, got.AdditionalStatus, got.OrderID, got.StoreID)
		}
		if len(got.Payments) != 1 {
			t.Fatalf("payments %+v", got.Payments)
		}
		p := got.Payments[0]
		txid, _, _ := strings.Cut(chainID, "-")
		// 12,345 sats at £50,000 = £6.1725, half up to 617p.
		if p.ID != chainID || p.TxID != txid || p.Method != "BTC-CHAIN" || p.AmountSats != 12_345 || p.RatePence != 5_000_000 ||
			p.ValuePence != 617 || p.Status != "Processing" || p.Destination != got.Methods[0].Destination || p.ReceivedAt.IsZero() {
			t.Errorf("payment %+v", p)
		}
		if got.Methods[0].DueSats != 20_000-12_345 || got.Methods[1].DueSats != 20_000-12_345 {
			t.Errorf("due %+v", got.Methods)
		}
		// The rest over Lightning, a few sats over: settled, overpaid, nothing due.
		lnID := fake.Pay(inv.ID, "BTC-LN", 7_700, true)
		fake.SettlePayment(inv.ID, chainID)
		got, err = c.Invoice(ctx, inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != "Settled" || got.AdditionalStatus != "PaidOver" || len(got.Payments) != 2 {
			t.Fatalf("after full payment: %s/%s %+v", got.Status, got.AdditionalStatus, got.Payments)
		}
		var ln ports.ReceivedPayment
		for _, p := range got.Payments {
			if p.Method == "BTC-LN" {
				ln = p
			}
		}
		if ln.ID != lnID || ln.TxID != lnID || ln.AmountSats != 7_700 || ln.ValuePence != 385 || ln.Status != "Settled" {
			t.Errorf("lightning payment %+v", ln)
		}
		for _, m := range got.Methods {
			if m.DueSats != 0 {
				t.Errorf("%s due %d after overpayment, want 0", m.Method, m.DueSats)
			}
		}
		// A double spent payment shows as Invalid.
		fake.InvalidatePayment(inv.ID, chainID)
		got, err = c.Invoice(ctx, inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range got.Payments {
			if p.ID == chainID {
				found = p.Status == "Invalid"
			}
		}
		if !found {
			t.Errorf("the invalid payment is missing or not Invalid: %+v", got.Payments)
		}
	})
}

func TestInvoiceSubSatoshiLightningPayment(t *testing.T) {
	forShapes(t, btcpaytest.Config{}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		inv, err := c.CreateInvoice(context.Background(), request("order-9", 1000))
		if err != nil {
			t.Fatal(err)
		}
		fake.PayMsat(inv.ID, "BTC-LN", 1_500, true) // 1.5 sats
		got, err := c.Invoice(context.Background(), inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Payments) != 1 || got.Payments[0].AmountSats != 2 {
			t.Errorf("payments %+v", got.Payments)
		}
		// Due: 20,000 − 1.5 = 19,998.5 sats, asked as 19,999.
		for _, m := range got.Methods {
			if m.DueSats != 19_999 {
				t.Errorf("%s due %d, want 19999", m.Method, m.DueSats)
			}
		}
	})
}

func TestInvoiceOfAnotherStoreOrMissingIsNotFound(t *testing.T) {
	forShapes(t, btcpaytest.Config{}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		other := fake.CreateInvoice(btcpaytest.OtherStoreID, "5.00", map[string]any{"orderId": "theirs"})
		_, err := c.Invoice(context.Background(), other)
		wantCode(t, err, ports.ENOTFOUND)
		_, err = c.Invoice(context.Background(), "NoSuchInvoice111")
		wantCode(t, err, ports.ENOTFOUND)
	})
}

func TestInvoiceWithoutMetadata(t *testing.T) {
	forShapes(t, btcpaytest.Config{}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		id := fake.CreateInvoice(fake.StoreID(), "7.50", nil)
		got, err := c.Invoice(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got.OrderID != "" || got.Amount != (ports.Money{Minor: 750, Currency: "GBP"}) || len(got.Methods) != 2 {
			t.Errorf("invoice %+v", got)
		}
		// A number as orderId (another integration's) reads as its text.
		id = fake.CreateInvoice(fake.StoreID(), "1", map[string]any{"orderId": 167})
		if got, err = c.Invoice(context.Background(), id); err != nil || got.OrderID != "167" {
			t.Errorf("numeric orderId: %+v %v", got, err)
		}
	})
}

func TestMarkInvoice(t *testing.T) {
	forShapes(t, btcpaytest.Config{}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		ctx := context.Background()
		inv, err := c.CreateInvoice(ctx, request("order-10", 1000))
		if err != nil {
			t.Fatal(err)
		}
		fake.Pay(inv.ID, "BTC-CHAIN", 5_000, true)
		fake.Expire(inv.ID)
		if err := c.MarkInvoice(ctx, inv.ID, "Settled"); err != nil {
			t.Fatal(err)
		}
		got, err := c.Invoice(ctx, inv.ID)
		if err != nil || got.Status != "Settled" || got.AdditionalStatus != "Marked" {
			t.Fatalf("after marking: %+v %v", got, err)
		}
		if !strings.Contains(string(fake.LastBody(btcpaytest.RouteMarkStatus)), `"status":"Settled"`) {
			t.Errorf("sent %s", fake.LastBody(btcpaytest.RouteMarkStatus))
		}
		// BTCPay refuses to mark a settled invoice settled again: EINVALID with its message.
		err = c.MarkInvoice(ctx, inv.ID, "Settled")
		wantCode(t, err, ports.EINVALID)
		if f := ports.FieldErrorsOf(err); len(f) != 1 || f[0].Field != "status" || !strings.Contains(f[0].Message, "within certain conditions") {
			t.Errorf("fields %+v", f)
		}
		wantCode(t, c.MarkInvoice(ctx, inv.ID, "Paid"), ports.EINVALID)
		wantCode(t, c.MarkInvoice(ctx, "NoSuchInvoice111", "Invalid"), ports.ENOTFOUND)
	})
}

func TestRefund(t *testing.T) {
	forShapes(t, btcpaytest.Config{}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		ctx := context.Background()
		inv, err := c.CreateInvoice(ctx, request("order-11", 1000))
		if err != nil {
			t.Fatal(err)
		}
		// Not refundable while unpaid: BTCPay says non-refundable.
		_, err = c.Refund(ctx, ports.RefundRequest{InvoiceID: inv.ID, RatePolicy: "RateThen", Name: "Refund order 1042"})
		wantCode(t, err, ports.EINVALID)
		fake.Pay(inv.ID, "BTC-CHAIN", 25_000, true)
		r, err := c.Refund(ctx, ports.RefundRequest{InvoiceID: inv.ID, RatePolicy: "RateThen", Name: "Refund order 1042", Description: "damaged"})
		if err != nil {
			t.Fatal(err)
		}
		pps := fake.PullPayments()
		if len(pps) != 1 {
			t.Fatalf("pull payments %+v", pps)
		}
		if r.ID != pps[0].ID || r.ClaimLink != pps[0].ViewLink || r.Amount != (ports.Money{Minor: 25_000, Currency: "BTC"}) {
			t.Errorf("refund %+v, pull payment %+v", r, pps[0])
		}
		req := pps[0].Request
		if req["refundVariant"] != "RateThen" || req["name"] != "Refund order 1042" {
			t.Errorf("request %v", req)
		}
		if fake.Shape() == btcpaytest.V1 {
			if req["paymentMethod"] != "BTC" || req["description"] != "damaged" {
				t.Errorf("1.x request %v", req)
			}
		} else if m, _ := req["payoutMethods"].([]any); len(m) != 1 || m[0] != "BTC-CHAIN" {
			t.Errorf("2.x request %v", req)
		}
		// Overpaid: only the excess (5,000 sats).
		r, err = c.Refund(ctx, ports.RefundRequest{InvoiceID: inv.ID, RatePolicy: "OverpaidAmount"})
		if err != nil || r.Amount != (ports.Money{Minor: 5_000, Currency: "BTC"}) {
			t.Errorf("overpaid refund %+v %v", r, err)
		}
		_, err = c.Refund(ctx, ports.RefundRequest{InvoiceID: inv.ID, RatePolicy: "Everything"})
		wantCode(t, err, ports.EINVALID)
	})
}

// The payout method goes where the server's version takes it. 2.0 to 2.4.0 take
// payoutMethodId, which the 2.4.1 document the fake holds requests to no longer lists:
// for that version the fake's one complaint is expected, and is that field.
func TestRefundPayoutMethodByVersion(t *testing.T) {
	for _, tc := range []struct{ version, field string }{
		{"2.4.1", "payoutMethods"}, {"2.5.0", "payoutMethods"}, {"2.3.0", "payoutMethodId"}, {"1.13.7", "paymentMethod"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			shape := btcpaytest.V2
			if strings.HasPrefix(tc.version, "1.") {
				shape = btcpaytest.V1
			}
			rec := &recorder{}
			fake := btcpaytest.New(rec, btcpaytest.Config{Shape: shape, Version: tc.version})
			defer fake.Close()
			c := newClient(fake, "")
			id := fake.CreateInvoice(fake.StoreID(), "1", nil)
			fake.Pay(id, "BTC-CHAIN", 2_000, true)
			_, err := c.Refund(context.Background(), ports.RefundRequest{InvoiceID: id, RatePolicy: "CurrentRate"})
			sent := string(fake.LastBody(btcpaytest.RouteRefund))
			if !strings.Contains(sent, `"`+tc.field+`"`) {
				t.Errorf("sent %s, want %s", sent, tc.field)
			}
			if tc.version == "2.3.0" {
				if len(rec.msgs) != 1 || !strings.Contains(rec.msgs[0], "payoutMethodId") {
					t.Errorf("mismatches %q", rec.msgs)
				}
				return
			}
			if err != nil || len(rec.msgs) > 0 {
				t.Errorf("error %v, mismatches %q", err, rec.msgs)
			}
		})
	}
}

// recorder collects what a fake reports instead of failing the test.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func TestErrors(t *testing.T) {
	forShapes(t, btcpaytest.Config{}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		ctx := context.Background()
		t.Run("401 wrong key", func(t *testing.T) {
			_, err := newClient(fake, "not-the-key").Invoice(ctx, "x")
			wantCode(t, err, ports.EUNAVAILABLE)
			if !strings.Contains(ports.ErrorMessageOf(err), "API key") || strings.Contains(err.Error(), "not-the-key") {
				t.Errorf("message %q", err)
			}
		})
		t.Run("403 missing permission", func(t *testing.T) {
			fake.SetPermissions([]string{"btcpay.store.canviewinvoices:" + fake.StoreID()})
			defer fake.SetPermissions(btcpaytest.DefaultPermissions(fake.StoreID()))
			_, err := c.CreateInvoice(ctx, request("order-e", 100))
			wantCode(t, err, ports.EUNAVAILABLE)
			if !strings.Contains(ports.ErrorMessageOf(err), "permission") {
				t.Errorf("message %q", err)
			}
		})
		t.Run("503 down", func(t *testing.T) {
			fake.SetDown(true)
			defer fake.SetDown(false)
			_, err := c.Invoice(ctx, "x")
			if err == nil || ports.ErrorCodeOf(err) != ports.EINTERNAL || !strings.Contains(err.Error(), "503") {
				t.Errorf("error %v, want a plain error with the status", err)
			}
		})
		t.Run("timeout", func(t *testing.T) {
			fake.SetLatency(2 * time.Second)
			defer fake.SetLatency(0)
			ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := c.Invoice(ctx, "x")
			if !errors.Is(err, context.DeadlineExceeded) || ports.ErrorCodeOf(err) != ports.EINTERNAL {
				t.Errorf("error %v, want a plain deadline error", err)
			}
			if time.Since(start) > time.Second {
				t.Errorf("took %v", time.Since(start))
			}
		})
		t.Run("network", func(t *testing.T) {
			dead := btcpay.New(btcpay.Config{URL: "http://127.0.0.1:1", APIKey: "k", StoreID: "s"})
			_, err := dead.Invoice(ctx, "x")
			if err == nil || ports.ErrorCodeOf(err) != ports.EINTERNAL {
				t.Errorf("error %v", err)
			}
		})
	})
}

func TestErrorBodies(t *testing.T) {
	// A 400 as an object (ProblemDetails), a 429, an oversized answer.
	cases := []struct {
		status int
		body   string
		code   ports.ErrorCode
		want   string
	}{
		{400, `{"code":"non-refundable","message":"Cannot refund this invoice"}`, ports.EINVALID, "Cannot refund this invoice"},
		{400, `[{"path":"amount","message":"The amount should be 0 or more."}]`, ports.EINVALID, "amount: The amount should be 0 or more."},
		{404, `{"code":"invoice-not-found","message":"The invoice was not found"}`, ports.ENOTFOUND, "The invoice was not found"},
		{404, ``, ports.ENOTFOUND, "not found"},
		{429, `{"code":"rate-limited","message":"slow down"}`, ports.EINTERNAL, "429"},
		{502, `<html>Bad Gateway</html>`, ports.EINTERNAL, "Bad Gateway"},
		{200, `{"id":` + strings.Repeat(" ", 5<<20) + `"x"}`, ports.EINTERNAL, "larger than"},
		{200, `{"id":"x","amount":"12.3.4"}`, ports.EINTERNAL, "decode"},
	}
	for _, tc := range cases {
		srv := stubServer(t, tc.status, tc.body)
		c := btcpay.New(btcpay.Config{URL: srv, APIKey: "k", StoreID: "s"})
		_, err := c.Invoice(context.Background(), "x")
		if ports.ErrorCodeOf(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d %.40s: error %v (%s), want %s containing %q", tc.status, tc.body, err, ports.ErrorCodeOf(err), tc.code, tc.want)
		}
	}
}

func stubServer(t *testing.T, status int, body string) string {
	t.Helper()
	srv := newStub(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	return srv
}

func newStub(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
