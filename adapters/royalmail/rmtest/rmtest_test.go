package rmtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"orderdesk/adapters/royalmail/rmtest"
	"orderdesk/ports"
)

// recorder catches the failures the fake reports, so a test can expect them.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

func (r *recorder) reported() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

func do(t *testing.T, method, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var auth = map[string]string{"Authorization": "Bearer " + rmtest.APIKey, "Content-Type": "application/json"}

func TestRequestsOffSpecAreReported(t *testing.T) {
	rec := &recorder{TB: t}
	rm := rmtest.New(rec)
	status, body := do(t, "POST", rm.URL+"/orders",
		`{"items":[{"orderReference":"A-1","recipient":{"address":{"addressLine1":"1 High St","city":"Leeds","countryCode":"GB"}},
		"orderDate":"2026-05-01T10:00:00Z","subtotal":1.005,"shippingCostCharged":0,
		"packages":[{"weightInGrams":0,"packageFormatIdentifier":"parcel"}]}]}`, auth)
	if status != 400 || !strings.Contains(body, "ValidationError") {
		t.Errorf("answer %d %s", status, body)
	}
	got := rec.reported()
	for _, want := range []string{"total", "weightInGrams", "multiple of 0.01"} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if _, ok := rm.Order("A-1"); ok {
		t.Error("an invalid order was kept")
	}

	rec2 := &recorder{TB: t}
	rm2 := rmtest.New(rec2)
	rm2.SetTracking("TT000000014GB")
	status, body = do(t, "GET", rm2.TrackingURL+"/summary?mailPieceId=TT000000014GB",
		"", map[string]string{"X-IBM-Client-Id": rmtest.ClientID, "X-IBM-Client-Secret": rmtest.ClientSecret})
	if status != 400 || !strings.Contains(body, "E0004") || !strings.Contains(rec2.reported(), "X-Accept-RMG-Terms") {
		t.Errorf("answer %d %s; report %s", status, body, rec2.reported())
	}
	if c := rm2.Counts(); c.Invalid != 1 || c.Summaries != 0 {
		t.Errorf("counts %+v", c)
	}

	rec3 := &recorder{TB: t}
	rm3 := rmtest.New(rec3)
	if status, _ = do(t, "GET", rm3.URL+"/manifests/1", "", auth); status != 404 || !strings.Contains(rec3.reported(), "/manifests/1") {
		t.Errorf("unknown endpoint: %d, report %q", status, rec3.reported())
	}
}

func TestLookupSeveralIdentifiers(t *testing.T) {
	rm := rmtest.New(t)
	c := rm.Carrier()
	for _, ref := range []string{"A-1", "B-2"} {
		if _, err := c.CreateOrder(t.Context(), ports.ShipmentRequest{Reference: ref,
			Recipient:   ports.Recipient{Line1: "1 High St", City: "Leeds", CountryCode: "GB", Postcode: "LS1 1AA"},
			ServiceCode: "CRL24", PackageFormat: "largeLetter", WeightGrams: 300, TotalPence: 100}); err != nil {
			t.Fatal(err)
		}
	}
	status, body := do(t, "GET", rm.URL+"/orders/%22B-2%22;1001;%22C-3%22/", "", auth)
	var got []struct {
		OrderIdentifier int64  `json:"orderIdentifier"`
		OrderReference  string `json:"orderReference"`
	}
	if err := json.Unmarshal([]byte(body), &got); status != 200 || err != nil {
		t.Fatalf("answer %d %s", status, body)
	}
	if len(got) != 2 || got[0].OrderReference != "B-2" || got[1].OrderIdentifier != 1001 {
		t.Errorf("orders %+v", got)
	}
	if status, _ := do(t, "GET", rm.URL+"/orders/abc", "", auth); status != 400 {
		t.Errorf("unquoted reference: %d", status)
	}
	if status, _ := do(t, "GET", rm.URL+"/orders/1001", "", map[string]string{"Authorization": rmtest.APIKey}); status != 401 {
		t.Errorf("key without Bearer: %d", status)
	}
}

func TestConcurrentCreates(t *testing.T) {
	rm := rmtest.New(t)
	rm.SetClock(func() time.Time { return time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC) })
	c := rm.Carrier()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := c.CreateOrder(t.Context(), ports.ShipmentRequest{Reference: fmt.Sprintf("C-%d", i%10),
				Recipient:   ports.Recipient{Line1: "1 High St", City: "Leeds", CountryCode: "GB", Postcode: "LS1 1AA"},
				ServiceCode: "TPN24", PackageFormat: "parcel", WeightGrams: 1000, WantLabel: true})
			if err != nil && ports.ErrorCodeOf(err) != ports.ECONFLICT {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	orders := rm.Orders()
	tracking := map[string]bool{}
	for _, o := range orders {
		tracking[o.TrackingNumber] = true
		if !o.CreatedOn.Equal(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("createdOn %v", o.CreatedOn)
		}
	}
	if len(orders) != 10 || len(tracking) != 10 {
		t.Errorf("%d orders, %d tracking numbers, want 10 of each", len(orders), len(tracking))
	}
	if c := rm.Counts(); c.CreateOrders != 20 {
		t.Errorf("counts %+v", c)
	}
}
