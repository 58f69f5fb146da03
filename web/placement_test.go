package web_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/btcpay/btcpaytest"
	"orderdesk/app"
	"orderdesk/app/apptest"
)

// TestPlacementTurns: with ORDER_PLACEMENT_CONCURRENCY=1, an order that arrives while
// another is being placed (its invoice slow at BTCPay) waits its turn; one that waits
// longer than its server allows gets 503 with Retry-After and changes nothing, and the
// same request sent again later is placed.
func TestPlacementTurns(t *testing.T) {
	fake := btcpaytest.New(t, btcpaytest.Config{Shape: btcpaytest.V2})
	env := apptest.StartOpts(t, map[string]string{"PAYMENTS_PROVIDER": "btcpay", "BTCPAY_URL": fake.URL(),
		"BTCPAY_API_KEY": fake.APIKey(), "BTCPAY_STORE_ID": fake.StoreID(), "BTCPAY_WEBHOOK_SECRET": hookSecret,
		"ORDER_PLACEMENT_CONCURRENCY": "1"}, app.Options{PlacementWait: 300 * time.Millisecond})
	shop := env.NewShop(t, "turns")
	api := env.API(t, env.NewAPIKey(t, "turns-"+uuid.NewString()[:6]))
	body, _ := json.Marshal(map[string]any{"items": []map[string]any{{"productId": shop.Product.ID.String(), "quantity": 1}},
		"shippingMethodId": shop.Method.ID.String(), "shippingAddress": map[string]any{"name": "Ann", "line1": "1 High St",
			"city": "York", "postcode": "YO1 7HH", "countryCode": "GB"}})
	header := func(identity, key string) http.Header {
		return http.Header{"X-Identity-Reference": {identity}, "Idempotency-Key": {key}, "Content-Type": {"application/json"}}
	}
	count := func(identity string) int {
		var n int
		if err := env.App.DB.GetContext(staffCtx, &n, `SELECT count(*) FROM ordering.orders WHERE identity_ref = $1`, identity); err != nil {
			t.Fatal(err)
		}
		return n
	}

	fake.SetLatency(time.Second) // the first order holds its turn while its invoice is made
	first := make(chan int, 1)
	go func() {
		resp, _ := api.Do("POST", "/api/v1/orders", body, header("tg:first", uuid.NewString()))
		first <- resp.StatusCode
	}()
	for deadline := time.Now().Add(5 * time.Second); count("tg:first") == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first order was not placed")
		}
	}
	key := uuid.NewString()
	resp, out := api.Do("POST", "/api/v1/orders", body, header("tg:second", key))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("order while another is placed, past its wait: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), out)
	}
	if n := count("tg:second"); n != 0 {
		t.Fatalf("%d orders placed by a request answered 503", n)
	}
	if code := <-first; code != http.StatusCreated {
		t.Fatalf("first order: %d", code)
	}
	fake.SetLatency(0)
	// The same request again, its turn free: placed, and the key was never used.
	resp, out = api.Do("POST", "/api/v1/orders", body, header("tg:second", key))
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("order sent again: %d replayed %q %s", resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), out)
	}
	// An order that arrives while one is placed and gets its turn within the wait is
	// placed as usual.
	fake.SetLatency(20 * time.Millisecond)
	go func() {
		resp, _ := api.Do("POST", "/api/v1/orders", body, header("tg:third", uuid.NewString()))
		first <- resp.StatusCode
	}()
	for deadline := time.Now().Add(5 * time.Second); count("tg:third") == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the third order was not placed")
		}
	}
	if resp, out := api.Do("POST", "/api/v1/orders", body, header("tg:fourth", uuid.NewString())); resp.StatusCode != http.StatusCreated {
		t.Fatalf("order that waited its turn: %d %s", resp.StatusCode, out)
	}
	if code := <-first; code != http.StatusCreated {
		t.Fatalf("third order: %d", code)
	}
}
