package btcpaytest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// What the webhook benchmark asks of the fake per webhook: one delivery, then the
// invoice and its payment methods read back. Run with -bench . to see the fake's
// ceiling (it must stay far above 50 webhooks/s).
func BenchmarkWebhookRoundTrip(b *testing.B) {
	s := New(b, Config{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer hook.Close()
	id := s.CreateInvoice(s.StoreID(), "12.34", map[string]any{"orderId": "o-1"})
	s.Pay(id, "BTC-CHAIN", 24_680, true)
	get := func(path string) {
		req, _ := http.NewRequest("GET", s.URL()+path, nil)
		req.Header.Set("Authorization", "token "+s.APIKey())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Deliver(context.Background(), hook.URL, "secret", "InvoiceSettled", id); err != nil {
				b.Fatal(err)
			}
			get("/api/v1/stores/" + DefaultStoreID + "/invoices/" + id)
			get("/api/v1/stores/" + DefaultStoreID + "/invoices/" + id + "/payment-methods?onlyAccountedPayments=false")
		}
	})
}
