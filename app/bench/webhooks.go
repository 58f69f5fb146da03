package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"orderdesk/adapters/btcpay/btcpaytest"
	"orderdesk/modules/ordering"
	"orderdesk/ports"
)

// benchWebhooks measures the way from BTCPay's settlement webhook to the order in the
// pick queue: `orderdesk run` (serve and worker) against a fake BTCPay Server at zero
// latency; orders are placed first, then for each one, at a steady rate, the customer
// pays at the fake and the fake posts the signed InvoiceSettled webhook. The time from
// sending the webhook to the order's `processing` history entry is the latency.
func benchWebhooks(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	duration := fs.Duration("duration", 30*time.Second, "how long webhooks are sent")
	rate := fs.Int("rate", 50, "webhooks per second")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n := int(duration.Seconds()) * *rate
	env, err := newBenchEnv(ctx)
	if err != nil {
		return err
	}
	defer env.close()
	db := env.db
	products, err := env.seedProducts(ctx, "W", 20, 0, 1000)
	if err != nil {
		return err
	}
	method, err := env.shippingMethod(ctx, ordering.ShippingMethodInput{Name: "Tracked 24", ServiceCode: "TPN24",
		PackageFormat: "parcel", Price: "5.50", MaxWeight: "30000", Active: true})
	if err != nil {
		return err
	}
	fake := btcpaytest.New(nil, btcpaytest.Config{})
	defer fake.Close()
	const secret = "bench-webhook-secret"
	srv, apiKey, err := env.serve(ctx, "run", map[string]string{"PAYMENTS_PROVIDER": "btcpay", "BTCPAY_URL": fake.URL(),
		"BTCPAY_API_KEY": fake.APIKey(), "BTCPAY_STORE_ID": fake.StoreID(), "BTCPAY_WEBHOOK_SECRET": secret})
	if err != nil {
		return err
	}
	defer srv.stop()

	// Place the orders: each 201 carries its invoice (made at the fake inline).
	type placed struct {
		id, invoice string
		sats        int64
	}
	orders := make([]placed, n)
	client := &http.Client{Timeout: 10 * time.Second}
	var placeErr atomic.Value
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				req := orderRequest(srv.url, apiKey, []map[string]any{{"productId": products[i%len(products)], "quantity": 1}},
					method.ID, "bench:"+strconv.Itoa(i%100), "wh-"+strconv.Itoa(i))
				resp, err := client.Do(req)
				if err != nil {
					placeErr.Store(err)
					return
				}
				var o struct {
					ID      string `json:"id"`
					Payment struct {
						Methods []struct {
							Method string `json:"method"`
							Due    struct {
								Amount string `json:"amount"`
							} `json:"due"`
						} `json:"methods"`
					} `json:"payment"`
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &o) != nil || len(o.Payment.Methods) == 0 {
					placeErr.Store(fmt.Errorf("place order: %d %s", resp.StatusCode, b))
					return
				}
				sats, err := ports.ParseMinor(o.Payment.Methods[0].Due.Amount, "BTC", 21_000_000_00_000_000)
				if err != nil {
					placeErr.Store(err)
					return
				}
				orders[i] = placed{id: o.ID, sats: sats}
			}
		}()
	}
	wg.Wait()
	if err, _ := placeErr.Load().(error); err != nil {
		return err
	}
	for i := range orders {
		if err := db.GetContext(ctx, &orders[i].invoice, `SELECT invoice_id FROM payments.invoices WHERE order_id = $1`, orders[i].id); err != nil {
			return fmt.Errorf("invoice of %s: %w", orders[i].id, err)
		}
	}

	// Pay and send the webhooks at the rate.
	sent := make([]time.Time, n)
	var sendErrors atomic.Int64
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	start := time.Now()
	for i := range orders {
		<-tick.C
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			fake.Pay(orders[i].invoice, "BTC-CHAIN", orders[i].sats, true)
			sent[i] = time.Now()
			if _, err := fake.Deliver(ctx, srv.url+"/webhooks/btcpay", secret, "InvoiceSettled", orders[i].invoice); err != nil {
				sendErrors.Add(1)
			}
		}(i)
	}
	tick.Stop()
	wg.Wait()
	sendTime := time.Since(start)

	// Wait (at most 30 s) for every order to reach the pick queue.
	ids := make([]string, n)
	for i, o := range orders {
		ids[i] = o.id
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left int
		if err := db.GetContext(ctx, &left, `SELECT count(*) FROM ordering.orders WHERE id = ANY($1::uuid[]) AND status <> 'processing'`, ids); err != nil {
			return err
		}
		if left == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var rows []struct {
		ID string    `db:"order_id"`
		At time.Time `db:"at"`
		N  int       `db:"n"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT order_id::text, min(at) AS at, count(*) AS n FROM ordering.history
		WHERE order_id = ANY($1::uuid[]) AND status = 'processing' GROUP BY order_id`, ids); err != nil {
		return err
	}
	at := map[string]time.Time{}
	duplicated := 0
	for _, r := range rows {
		at[r.ID] = r.At
		if r.N > 1 {
			duplicated += r.N - 1
		}
	}
	var payDup int
	if err := db.GetContext(ctx, &payDup, `SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM payments.status_history
		WHERE order_id = ANY($1::uuid[]) AND status = 'paid' GROUP BY order_id) t`, ids); err != nil {
		return err
	}
	duplicated += payDup
	var lat []time.Duration
	lost := 0
	for i, o := range orders {
		t, ok := at[o.id]
		if !ok {
			lost++
			continue
		}
		lat = append(lat, max(0, t.Sub(sent[i])))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var p50, p99 time.Duration
	if len(lat) > 0 {
		p50, p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	if m := fake.Mismatches(); len(m) > 0 {
		return fmt.Errorf("the server's requests to BTCPay did not match the API: %v", m[0])
	}
	fmt.Printf("webhooks sent: %d over %s (%d refused by the server), p50=%.1fms\n", n, sendTime.Round(time.Millisecond), sendErrors.Load(),
		float64(p50.Microseconds())/1000)
	fmt.Printf("webhooks: rate=%.0f p99=%.0f lost=%d duplicated=%d\n", float64(n)/sendTime.Seconds(), float64(p99.Microseconds())/1000,
		lost, duplicated)
	return nil
}
