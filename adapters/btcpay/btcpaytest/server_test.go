package btcpaytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.msgs, "\n")
}

func call(t *testing.T, s *Server, method, path, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.URL()+path, rd)
	req.Header.Set("Authorization", "token "+s.APIKey())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The fake holds requests to the document: each of these is reported, and answered as
// BTCPay would refuse it.
func TestRequestsAreCheckedAgainstTheDocument(t *testing.T) {
	for _, shape := range []Shape{V2, V1} {
		store := "/api/v1/stores/" + DefaultStoreID
		tests := []struct {
			name, method, path, body string
			status                   int
			report                   string
		}{
			{"unknown body field", "POST", store + "/invoices", `{"amount":"1","currency":"GBP","buyerEmail":"a@b.c"}`, 400, "buyerEmail"},
			{"amount of the wrong type", "POST", store + "/invoices", `{"amount":{"value":1}}`, 400, "amount"},
			{"unknown checkout field", "POST", store + "/invoices", `{"amount":"1","checkout":{"expiryMinutes":5}}`, 400, "expiryMinutes"},
			{"no body", "POST", store + "/invoices/abc/status", ``, 400, "body"},
			{"mark to an unknown status", "POST", store + "/invoices/abc/status", `{"status":"Paid"}`, 400, "status"},
			{"unknown route", "GET", store + "/nonsense", ``, 404, "not in the Greenfield document"},
			{"wrong method", "PATCH", store + "/invoices", ``, 405, "PATCH"},
			{"bad query", "GET", store + "/invoices?take=many", ``, 400, "take"},
		}
		if shape == V2 {
			tests = append(tests, struct {
				name, method, path, body string
				status                   int
				report                   string
			}{"storeId-less route", "GET", "/api/v1/invoices/abc", ``, 501, "only store-scoped routes"},
				struct {
					name, method, path, body string
					status                   int
					report                   string
				}{"refund without variant", "POST", store + "/invoices/abc/refund", `{"name":"x"}`, 400, "refundVariant"})
		} else {
			tests = append(tests, struct {
				name, method, path, body string
				status                   int
				report                   string
			}{"2.x refund field on 1.x", "POST", store + "/invoices/abc/refund", `{"refundVariant":"RateThen","payoutMethods":["BTC-CHAIN"]}`, 400, "payoutMethods"})
		}
		for _, tt := range tests {
			t.Run(fmt.Sprint(shape, "/", tt.name), func(t *testing.T) {
				rec := &recorder{}
				s := New(rec, Config{Shape: shape})
				defer s.Close()
				status, _ := call(t, s, tt.method, tt.path, tt.body)
				if status != tt.status {
					t.Errorf("status %d, want %d", status, tt.status)
				}
				if got := rec.all(); !strings.Contains(got, tt.report) {
					t.Errorf("reported %q, want something about %q", got, tt.report)
				}
				if len(s.Mismatches()) == 0 {
					t.Error("Mismatches is empty")
				}
			})
		}
	}
}

func TestAuthentication(t *testing.T) {
	s := New(t, Config{})
	req, _ := http.NewRequest("GET", s.URL()+"/api/v1/server/info", nil)
	req.Header.Set("Authorization", "Bearer "+s.APIKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("Bearer instead of token: %d", resp.StatusCode)
	}
	if status, body := call(t, s, "GET", "/api/v1/stores/"+DefaultStoreID, ""); status != 403 || !strings.Contains(body, "canviewstoresettings") {
		t.Errorf("store without canviewstoresettings: %d %s", status, body)
	}
	if status, _ := call(t, s, "GET", "/api/v1/stores/Unknown/invoices", ""); status != 404 {
		t.Errorf("unknown store: %d", status)
	}
	s.SetPermissions([]string{"btcpay.store.canmodifystoresettings"})
	if status, body := call(t, s, "GET", "/api/v1/stores/"+DefaultStoreID, ""); status != 200 || !strings.Contains(body, `"name":"OrderDesk test store"`) {
		t.Errorf("store: %d %s", status, body)
	}
	if s.Calls(RouteStore) != 2 || s.Calls(RouteServerInfo) != 1 {
		t.Errorf("calls %d %d", s.Calls(RouteStore), s.Calls(RouteServerInfo))
	}
}

// A webhook body is BTCPay's: indented by two spaces, fields in BTCPay's order, the
// type's own fields, signed over the exact bytes.
func TestDeliverBody(t *testing.T) {
	var got struct {
		sig, ua, ct string
		body        []byte
	}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.body, _ = io.ReadAll(r.Body)
		got.sig, got.ua, got.ct = r.Header.Get("BTCPay-Sig"), r.Header.Get("User-Agent"), r.Header.Get("Content-Type")
	}))
	defer hook.Close()
	now := time.Unix(1_700_000_000, 0)
	for _, shape := range []Shape{V2, V1} {
		s := New(t, Config{Shape: shape, Clock: func() time.Time { return now }})
		id := s.CreateInvoice(s.StoreID(), "10", map[string]any{"orderId": "o-1", "itemDesc": "Order <1>"})
		pay := s.Pay(id, "BTC-CHAIN", 20_000, false)
		d, err := s.Deliver(context.Background(), hook.URL, "s3cret", "InvoiceReceivedPayment", id)
		if err != nil {
			t.Fatal(err)
		}
		method := map[Shape]string{V2: `"paymentMethodId": "BTC-CHAIN"`, V1: `"paymentMethod": "BTC"`}[shape]
		want := `{
  "deliveryId": "` + d + `",
  "webhookId": "WEBHOOK",
  "originalDeliveryId": "` + d + `",
  "isRedelivery": false,
  "type": "InvoiceReceivedPayment",
  "timestamp": 1700000000,
  "afterExpiration": false,
  ` + method + `,
  "payment": {
    "id": "` + pay + `",
    "receivedDate": 1700000000,
    "value": "0.00020000",
    "fee": "0.00000000",
    "status": "Processing",
    "destination": "DEST"
  },
  "storeId": "` + DefaultStoreID + `",
  "invoiceId": "` + id + `",
  "metadata": {
    "itemDesc": "Order <1>",
    "orderId": "o-1"
  }
}`
		var parsed struct {
			WebhookID string `json:"webhookId"`
			Payment   struct{ Destination string }
		}
		_ = json.Unmarshal(got.body, &parsed)
		want = strings.Replace(want, "WEBHOOK", parsed.WebhookID, 1)
		want = strings.Replace(want, "DEST", parsed.Payment.Destination, 1)
		if string(got.body) != want {
			t.Errorf("body\n%s\nwant\n%s", got.body, want)
		}
		if got.sig != Sign("s3cret", got.body) || got.ct != "application/json" || !strings.HasPrefix(got.ua, "BTCPayServer/") {
			t.Errorf("headers %q %q %q", got.sig, got.ct, got.ua)
		}
		if !bytes.Equal(s.Body(d), got.body) {
			t.Error("Body differs from what was sent")
		}

		// Redelivered twice: new ids, the first one as original.
		r1, err := s.Redeliver(context.Background(), hook.URL, "s3cret", d)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := s.Redeliver(context.Background(), hook.URL, "s3cret", r1)
		if err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		_ = json.Unmarshal(got.body, &ev)
		if ev["deliveryId"] != r2 || ev["originalDeliveryId"] != d || ev["isRedelivery"] != true || r1 == d || r2 == r1 {
			t.Errorf("redelivery %v", ev)
		}
		// Each type with its own fields.
		s.Expire(id)
		for typ, field := range map[string]string{"InvoiceExpired": `"partiallyPaid": true`, "InvoiceSettled": `"manuallyMarked": false`,
			"InvoiceInvalid": `"manuallyMarked"`, "InvoiceProcessing": `"overPaid": false`, "InvoiceCreated": `"type": "InvoiceCreated"`,
			"InvoicePaymentSettled": `"afterExpiration": true`} {
			if typ == "InvoicePaymentSettled" {
				s.SettlePayment(id, pay)
			}
			if _, err := s.Deliver(context.Background(), hook.URL, "s3cret", typ, id); err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(got.body, []byte(field)) {
				t.Errorf("%s lacks %s:\n%s", typ, field, got.body)
			}
		}
	}
}

func TestDeliverReportsFailures(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusServiceUnavailable)
	}))
	defer hook.Close()
	s := New(t, Config{})
	id := s.CreateInvoice(s.StoreID(), "1", nil)
	d, err := s.Deliver(context.Background(), hook.URL, "x", "InvoiceCreated", id)
	var de *DeliveryError
	if d == "" || !errorsAs(err, &de) || de.StatusCode != 503 {
		t.Errorf("delivery %q, error %v", d, err)
	}
	if _, err := s.Deliver(context.Background(), hook.URL, "x", "InvoiceReceivedPayment", id); err == nil {
		t.Error("a payment event without a payment was sent")
	}
	if _, err := s.Deliver(context.Background(), hook.URL, "x", "InvoiceCreated", "nope"); err == nil {
		t.Error("an event about no invoice was sent")
	}
}

func errorsAs(err error, target **DeliveryError) bool {
	de, ok := err.(*DeliveryError)
	if ok {
		*target = de
	}
	return ok
}

// Many clients at once, as in the webhook benchmark (run with -race).
func TestConcurrentUse(t *testing.T) {
	s := New(t, Config{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer hook.Close()
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				status, body := call(t, s, "POST", "/api/v1/stores/"+DefaultStoreID+"/invoices",
					fmt.Sprintf(`{"amount":"1.%02d","currency":"GBP","metadata":{"orderId":"o-%d-%d"}}`, j, i, j))
				if status != 200 {
					t.Errorf("create: %d %s", status, body)
					return
				}
				var inv struct{ ID string }
				_ = json.Unmarshal([]byte(body), &inv)
				s.Pay(inv.ID, "BTC-LN", 100, true)
				if _, err := s.Deliver(context.Background(), hook.URL, "x", "InvoiceReceivedPayment", inv.ID); err != nil {
					t.Error(err)
				}
				call(t, s, "GET", "/api/v1/stores/"+DefaultStoreID+"/invoices/"+inv.ID+"/payment-methods", "")
			}
		}(i)
	}
	wg.Wait()
	if n := s.Calls(RouteCreateInvoice); n != 160 || len(s.Invoices()) != 160 {
		t.Errorf("%d creations, %d invoices", n, len(s.Invoices()))
	}
}

func TestNormalJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"b":1,"a":"\u003cx\u003e","c":[1,{"d":null},[]],"e":{}}`: `{"b":1,"a":"<x>","c":[1,{"d":null},[]],"e":{}}`,
		` { "orderId" : "o" , "n" : 1.50 } `:                       `{"orderId":"o","n":1.50}`,
		`{}`:                                                       `{}`,
		`{"k":[{"a":[true,false]},{"b":"\"q\""}]}`:                 `{"k":[{"a":[true,false]},{"b":"\"q\""}]}`,
	} {
		got, err := normalJSON([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("%s: %s %v, want %s", in, got, err, want)
		}
	}
}
