package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/btcpay/btcpaytest"
	"orderdesk/app/apptest"
	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
	"orderdesk/ports"
)

const hookSecret = "whsec-orderdesk-test"

// btcpayEnv is an OrderDesk wired to a fake BTCPay Server.
type btcpayEnv struct {
	*apptest.Env
	fake *btcpaytest.Server
	shop *apptest.Shop
	hook string
}

func startBTCPay(t *testing.T, shape btcpaytest.Shape) *btcpayEnv {
	t.Helper()
	fake := btcpaytest.New(t, btcpaytest.Config{Shape: shape})
	env := apptest.StartWith(t, map[string]string{"PAYMENTS_PROVIDER": "btcpay", "BTCPAY_URL": fake.URL(),
		"BTCPAY_API_KEY": fake.APIKey(), "BTCPAY_STORE_ID": fake.StoreID(), "BTCPAY_WEBHOOK_SECRET": hookSecret})
	return &btcpayEnv{Env: env, fake: fake, shop: env.NewShop(t, "btcpay"), hook: env.URL + "/webhooks/btcpay"}
}

// order places an order and creates its invoice at the fake; it returns the order and
// the invoice id.
func (e *btcpayEnv) order(t *testing.T) (*ordering.Order, string) {
	t.Helper()
	o := e.shop.Place(t, "tg:"+uuid.NewString()[:8], 1)
	inv, err := e.App.Payments.CreateInvoice(staffCtx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return o, *inv.InvoiceID
}

// deliver sends a webhook event about an invoice and processes what the inbox queued,
// as the worker would.
func (e *btcpayEnv) deliver(t *testing.T, typ, invoiceID string) string {
	t.Helper()
	id, err := e.fake.Deliver(context.Background(), e.hook, hookSecret, typ, invoiceID)
	if err != nil {
		t.Fatalf("deliver %s: %v", typ, err)
	}
	e.process(t)
	return id
}

// process runs the webhook job of every delivery not processed yet.
func (e *btcpayEnv) process(t *testing.T) {
	t.Helper()
	var ids []string
	if err := e.App.DB.SelectContext(staffCtx, &ids, `SELECT delivery_id FROM payments.webhook_inbox WHERE processed_at IS NULL
		ORDER BY received_at`); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		payload, _ := json.Marshal(map[string]string{"deliveryId": id})
		if err := e.App.Payments.WebhookJob(staffCtx, payload); err != nil {
			t.Fatalf("webhook job %s: %v", id, err)
		}
	}
}

func (e *btcpayEnv) inbox(t *testing.T) (rows, deliveries int) {
	t.Helper()
	if err := e.App.DB.QueryRowxContext(staffCtx, `SELECT count(*), coalesce(sum(deliveries), 0) FROM payments.webhook_inbox`).
		Scan(&rows, &deliveries); err != nil {
		t.Fatal(err)
	}
	return rows, deliveries
}

func postHook(t *testing.T, url, sig string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("BTCPay-Sig", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestBTCPayWebhookSignature: a forged signature, a missing one and a body a proxy
// re-encoded are refused with 401 and leave nothing behind.
func TestBTCPayWebhookSignature(t *testing.T) {
	e := startBTCPay(t, btcpaytest.V2)
	o, inv := e.order(t)
	e.fake.Pay(inv, "BTC-CHAIN", 1_000_000, true)
	id, err := e.fake.Deliver(context.Background(), "http://127.0.0.1:9/nowhere", hookSecret, "InvoiceSettled", inv)
	if err == nil || id == "" {
		t.Fatalf("delivery to nowhere: %q, %v", id, err)
	}
	body := e.fake.Body(id)
	rowsBefore, _ := e.inbox(t) // the package's database is shared by its tests
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		sig  string
		body []byte
	}{
		"forged":     {"sha256=" + string(bytes.Repeat([]byte("ab"), 32)), body},
		"wrong key":  {btcpaytest.Sign("not-the-secret", body), body},
		"missing":    {"", body},
		"re-encoded": {btcpaytest.Sign(hookSecret, body), compact.Bytes()},
		"no prefix":  {btcpaytest.Sign(hookSecret, body)[len("sha256="):], body},
	} {
		if got := postHook(t, e.hook, tc.sig, tc.body); got != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, got)
		}
	}
	if rows, _ := e.inbox(t); rows != rowsBefore {
		t.Fatalf("refused deliveries left %d inbox rows", rows-rowsBefore)
	}
	if st := stateOf(t, e.Env, o.ID); st.order != ordering.StatusPendingPayment || st.paymentH != 0 {
		t.Fatalf("refused deliveries changed the order: %+v", st)
	}
	// The genuine body with its signature is accepted.
	if got := postHook(t, e.hook, btcpaytest.Sign(hookSecret, body), body); got != http.StatusOK {
		t.Fatalf("genuine delivery: %d", got)
	}
}

// TestBTCPayWebhookOutcomes drives invoices at the fake BTCPay through every path of
// the issue, in both API shapes, and checks where each order ends, with one history
// entry per real transition.
func TestBTCPayWebhookOutcomes(t *testing.T) {
	for _, shape := range []btcpaytest.Shape{btcpaytest.V2, btcpaytest.V1} {
		e := startBTCPay(t, shape)
		const full = 1_000_000 // sats of £5.00 + £3.50 at £50,000 is 17,000: anything above is an overpayment
		due := func(inv string) int64 {
			o, err := e.App.Payments.Sync(staffCtx, orderOf(t, e, inv), payments.SourceReconcile)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range o.Methods() {
				if m.Method == "BTC-CHAIN" {
					return m.DueSats
				}
			}
			t.Fatal("no on-chain method")
			return 0
		}
		t.Run("redelivered five times", func(t *testing.T) {
			o, inv := e.order(t)
			e.fake.Pay(inv, "BTC-CHAIN", due(inv), true)
			id := e.deliver(t, "InvoiceSettled", inv)
			rowsBefore, _ := e.inbox(t)
			for i := 0; i < 5; i++ {
				if _, err := e.fake.Redeliver(context.Background(), e.hook, hookSecret, id); err != nil {
					t.Fatal(err)
				}
			}
			e.process(t)
			rows, deliveries := e.inbox(t)
			if rows != rowsBefore {
				t.Fatalf("redeliveries added inbox rows: %d → %d", rowsBefore, rows)
			}
			var n int
			if err := e.App.DB.GetContext(staffCtx, &n, `SELECT deliveries FROM payments.webhook_inbox WHERE delivery_id = $1`, id); err != nil || n != 6 {
				t.Fatalf("deliveries of %s: %d, %v (total %d)", id, n, err, deliveries)
			}
			if st := stateOf(t, e.Env, o.ID); st != (state{ordering.StatusProcessing, payments.StatusPaid, 2, 1}) {
				t.Fatalf("state %+v", st)
			}
		})
		t.Run("settled before processing", func(t *testing.T) {
			o, inv := e.order(t)
			pid := e.fake.Pay(inv, "BTC-CHAIN", due(inv), false)
			e.fake.SettlePayment(inv, pid)
			e.deliver(t, "InvoiceSettled", inv)
			e.deliver(t, "InvoiceProcessing", inv) // late, out of order
			e.deliver(t, "InvoiceReceivedPayment", inv)
			if st := stateOf(t, e.Env, o.ID); st != (state{ordering.StatusProcessing, payments.StatusPaid, 2, 1}) {
				t.Fatalf("state %+v", st)
			}
			ps, err := e.App.Payments.Payments(staffCtx, o.ID)
			if err != nil || len(ps) != 1 || ps[0].Status != "settled" || ps[0].TxID == "" || ps[0].ConfirmedAt == nil {
				t.Fatalf("payments %+v, %v", ps, err)
			}
		})
		t.Run("processing then settled", func(t *testing.T) {
			o, inv := e.order(t)
			pid := e.fake.Pay(inv, "BTC-CHAIN", due(inv), false)
			e.deliver(t, "InvoiceReceivedPayment", inv)
			e.deliver(t, "InvoiceProcessing", inv)
			if st := stateOf(t, e.Env, o.ID); st != (state{ordering.StatusPendingPayment, payments.StatusConfirming, 1, 1}) {
				t.Fatalf("state while confirming %+v", st)
			}
			e.fake.SettlePayment(inv, pid)
			e.deliver(t, "InvoicePaymentSettled", inv)
			e.deliver(t, "InvoiceSettled", inv)
			if st := stateOf(t, e.Env, o.ID); st != (state{ordering.StatusProcessing, payments.StatusPaid, 2, 2}) {
				t.Fatalf("state %+v", st)
			}
		})
		t.Run("late payment after expiry", func(t *testing.T) {
			o, inv := e.order(t)
			d := due(inv)
			e.fake.Expire(inv)
			e.deliver(t, "InvoiceExpired", inv)
			if st := stateOf(t, e.Env, o.ID); st != (state{ordering.StatusExpired, payments.StatusExpired, 2, 1}) {
				t.Fatalf("expired: %+v", st)
			}
			e.fake.Pay(inv, "BTC-CHAIN", d, true)
			e.deliver(t, "InvoiceReceivedPayment", inv)
			if st := stateOf(t, e.Env, o.ID); st != (state{ordering.StatusOnHold, payments.StatusPaidLate, 3, 2}) {
				t.Fatalf("paid late: %+v", st)
			}
		})
		t.Run("partial then expiry", func(t *testing.T) {
			o, inv := e.order(t)
			e.fake.Pay(inv, "BTC-CHAIN", due(inv)/2, true)
			e.deliver(t, "InvoiceReceivedPayment", inv)
			if st := stateOf(t, e.Env, o.ID); st != (state{ordering.StatusPendingPayment, payments.StatusPartiallyPaid, 1, 1}) {
				t.Fatalf("partial: %+v", st)
			}
			e.fake.Expire(inv)
			e.deliver(t, "InvoiceExpired", inv)
			e.deliver(t, "InvoiceExpired", inv)
			if st := stateOf(t, e.Env, o.ID); st != (state{ordering.StatusOnHold, payments.StatusPartiallyPaid, 2, 2}) {
				t.Fatalf("partial then expired: %+v", st)
			}
		})
		t.Run("overpayment", func(t *testing.T) {
			o, inv := e.order(t)
			e.fake.Pay(inv, "BTC-CHAIN", full, true)
			e.deliver(t, "InvoiceSettled", inv)
			st := stateOf(t, e.Env, o.ID)
			if st != (state{ordering.StatusProcessing, payments.StatusOverpaid, 2, 1}) {
				t.Fatalf("state %+v", st)
			}
			got, err := e.App.Payments.ForOrder(staffCtx, o.ID)
			if err != nil || got.OverpaidMinor <= 0 || got.ReceivedMinor-got.OverpaidMinor != got.AmountMinor {
				t.Fatalf("overpaid %d of received %d for %d, %v", got.OverpaidMinor, got.ReceivedMinor, got.AmountMinor, err)
			}
			if kinds := ledgerJobs(t, e.Env, o.ID); len(kinds) != 2 || kinds[1] != ports.LedgerOverpayment {
				t.Fatalf("ledger %v", kinds)
			}
		})
		t.Run("invoice of another store", func(t *testing.T) {
			other := e.fake.CreateInvoice(btcpaytest.OtherStoreID, "8.50", map[string]any{"orderId": uuid.NewString()})
			e.fake.Pay(other, "BTC-CHAIN", full, true)
			id := e.deliver(t, "InvoiceSettled", other)
			var outcome string
			if err := e.App.DB.GetContext(staffCtx, &outcome, `SELECT outcome FROM payments.webhook_inbox WHERE delivery_id = $1`, id); err != nil {
				t.Fatal(err)
			}
			if outcome != "ignored: unknown invoice" {
				t.Fatalf("outcome %q", outcome)
			}
		})
		t.Run("test delivery and unknown type", func(t *testing.T) {
			if _, err := e.fake.DeliverTest(context.Background(), e.hook, hookSecret, "InvoiceSettled"); err != nil {
				t.Fatal(err)
			}
			body := []byte(`{"deliveryId":"x1","webhookId":"w","originalDeliveryId":"x1","isRedelivery":false,"type":"PayoutCreated","timestamp":1,"storeId":"` +
				e.fake.StoreID() + `","payoutId":"p1"}`)
			if got := postHook(t, e.hook, btcpaytest.Sign(hookSecret, body), body); got != http.StatusOK {
				t.Fatalf("unknown type: %d", got)
			}
			e.process(t)
		})
	}
}

func orderOf(t *testing.T, e *btcpayEnv, invoiceID string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := e.App.DB.GetContext(staffCtx, &id, `SELECT order_id FROM payments.invoices WHERE invoice_id = $1`, invoiceID); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestBTCPayDown: placing an order while BTCPay is down answers 201 with the payment
// pending; the queued job creates exactly one invoice when it is back. Reconciliation
// while it is down expires an overdue order by our own clock.
func TestBTCPayDown(t *testing.T) {
	e := startBTCPay(t, btcpaytest.V2)
	key := e.NewAPIKey(t, "down-"+uuid.NewString()[:6])
	api := e.API(t, key)
	e.fake.SetDown(true)
	body, _ := json.Marshal(map[string]any{"items": []map[string]any{{"productId": e.shop.Product.ID.String(), "quantity": 1}},
		"shippingMethodId": e.shop.Method.ID.String(), "shippingAddress": map[string]any{"name": "Ann", "line1": "1 High St",
			"city": "York", "postcode": "YO1 7HH", "countryCode": "GB"}})
	h := http.Header{"X-Identity-Reference": {"tg:down"}, "Idempotency-Key": {uuid.NewString()}, "Content-Type": {"application/json"}}
	resp, out := api.Do("POST", "/api/v1/orders", body, h)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("place while down: %d %s", resp.StatusCode, out)
	}
	var placed struct {
		ID      string `json:"id"`
		Payment struct {
			Status  string `json:"status"`
			Methods []any  `json:"methods"`
		} `json:"payment"`
	}
	if err := json.Unmarshal(out, &placed); err != nil {
		t.Fatal(err)
	}
	if placed.Payment.Status != "pending" || len(placed.Payment.Methods) != 0 {
		t.Fatalf("payment while down: %+v", placed.Payment)
	}
	orderID := uuid.MustParse(placed.ID)
	job := []byte(`{"orderId":"` + placed.ID + `"}`)
	if err := e.App.Payments.CreateInvoiceJob(staffCtx, job); err == nil {
		t.Fatal("the invoice job succeeded while BTCPay is down")
	}
	if inv, err := e.App.Payments.ForOrder(staffCtx, orderID); err != nil || inv.LastError == "" || inv.InvoiceID != nil {
		t.Fatalf("invoice while BTCPay is down: %+v, %v (want no invoice id and the error said)", inv, err)
	}
	e.fake.SetDown(false)
	for i := 0; i < 2; i++ { // a retried job makes no second invoice
		if err := e.App.Payments.CreateInvoiceJob(staffCtx, job); err != nil {
			t.Fatal(err)
		}
	}
	if inv, err := e.App.Payments.ForOrder(staffCtx, orderID); err != nil || inv.LastError != "" {
		t.Fatalf("invoice made: last error %q, %v", inv.LastError, err)
	}
	n := 0
	for _, inv := range e.fake.Invoices() {
		if inv.OrderID == placed.ID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d invoices at BTCPay for the order", n)
	}
	resp, out = api.Get("/api/v1/orders/"+placed.ID, http.Header{"X-Identity-Reference": {"tg:down"}})
	if resp.StatusCode != 200 || !bytes.Contains(out, []byte(`"paymentUri":"bitcoin:`)) {
		t.Fatalf("order after the job: %d %s", resp.StatusCode, out)
	}

	// BTCPay down during reconciliation: an order past expiry (and the grace) is
	// expired by our clock; one not yet overdue is left alone.
	overdue, _ := e.order(t)
	fresh, _ := e.order(t)
	partial, partialInv := e.order(t)
	inv, err := e.App.Payments.ForOrder(staffCtx, partial.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Pay(partialInv, "BTC-CHAIN", inv.Methods()[0].DueSats/2, true)
	if _, err := e.App.Payments.Sync(staffCtx, partial.ID, payments.SourceReconcile); err != nil {
		t.Fatal(err)
	}
	for _, id := range []uuid.UUID{overdue.ID, partial.ID} {
		if _, err := e.App.DB.ExecContext(staffCtx, `UPDATE payments.invoices SET expires_at = $2 WHERE order_id = $1`,
			id, time.Now().Add(-payments.ExpiryGrace-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	e.fake.SetDown(true)
	for i := 0; i < 3; i++ { // every run while BTCPay stays down
		if err := e.App.Payments.Reconcile(staffCtx); err != nil {
			t.Fatal(err)
		}
	}
	if st := stateOf(t, e.Env, overdue.ID); st != (state{ordering.StatusExpired, payments.StatusExpired, 2, 1}) {
		t.Fatalf("overdue order while BTCPay is down: %+v", st)
	}
	// A partly paid order goes on hold, once: the client app hears of it once.
	if st := stateOf(t, e.Env, partial.ID); st != (state{ordering.StatusOnHold, payments.StatusPartiallyPaid, 2, 2}) {
		t.Fatalf("partly paid order while BTCPay is down: %+v", st)
	}
	var updates int
	if err := e.App.DB.GetContext(staffCtx, &updates, `SELECT count(*) FROM clients.events WHERE subject = $1 AND type = $2`,
		partial.ID.String(), ordering.EventPaymentUpdated); err != nil {
		t.Fatal(err)
	}
	if updates != 3 { // invoice made, partly paid, on hold
		t.Fatalf("%d payment_updated events for the partly paid order, want 3", updates)
	}
	if st := stateOf(t, e.Env, fresh.ID); st.order != ordering.StatusPendingPayment {
		t.Fatalf("fresh order while BTCPay is down: %+v", st)
	}
	if st := stateOf(t, e.Env, orderID); st.order != ordering.StatusPendingPayment {
		t.Fatalf("first order: %+v", st)
	}
	e.fake.SetDown(false)
}

// TestReconciliationCatchesMissedWebhook: a settlement nobody was told about is found
// by the periodic job.
func TestReconciliationCatchesMissedWebhook(t *testing.T) {
	e := startBTCPay(t, btcpaytest.V2)
	o, inv := e.order(t)
	got, err := e.App.Payments.ForOrder(staffCtx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Pay(inv, "BTC-LN", got.Methods()[1].DueSats, true)
	if err := e.App.Payments.Reconcile(staffCtx); err != nil {
		t.Fatal(err)
	}
	if st := stateOf(t, e.Env, o.ID); st != (state{ordering.StatusProcessing, payments.StatusPaid, 2, 1}) {
		t.Fatalf("state %+v", st)
	}
	if err := e.App.Payments.Reconcile(staffCtx); err != nil {
		t.Fatal(err)
	}
	if st := stateOf(t, e.Env, o.ID); st != (state{ordering.StatusProcessing, payments.StatusPaid, 2, 1}) {
		t.Fatalf("second run changed the state: %+v", st)
	}
}
