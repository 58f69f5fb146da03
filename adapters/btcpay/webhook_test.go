package btcpay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"orderdesk/adapters/btcpay"
	"orderdesk/adapters/btcpay/btcpaytest"
	"orderdesk/ports"
)

// receiver is a webhook endpoint that keeps what it receives.
type receiver struct {
	mu    sync.Mutex
	sigs  []string
	bodys [][]byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.sigs = append(r.sigs, req.Header.Get(btcpay.SignatureHeader))
	r.bodys = append(r.bodys, b)
	r.mu.Unlock()
}

func (r *receiver) last() (string, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sigs[len(r.sigs)-1], r.bodys[len(r.bodys)-1]
}

func TestParseWebhook(t *testing.T) {
	forShapes(t, btcpaytest.Config{}, func(t *testing.T, fake *btcpaytest.Server, c *btcpay.Client) {
		ctx := context.Background()
		rec := &receiver{}
		url := newStub(t, rec)
		inv, err := c.CreateInvoice(ctx, request("order-w", 1000))
		if err != nil {
			t.Fatal(err)
		}
		fake.Pay(inv.ID, "BTC-CHAIN", 20_000, true)
		id, err := fake.Deliver(ctx, url, secret, "InvoiceSettled", inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		sig, body := rec.last()
		w, err := c.ParseWebhook(sig, body)
		if err != nil {
			t.Fatal(err)
		}
		want := ports.PaymentWebhook{DeliveryID: id, Type: "InvoiceSettled", StoreID: fake.StoreID(), InvoiceID: inv.ID}
		if *w != want {
			t.Errorf("webhook %+v, want %+v", *w, want)
		}

		// A redelivery has a new deliveryId but reads as the same delivery.
		again, err := fake.Redeliver(ctx, url, secret, id)
		if err != nil || again == id {
			t.Fatalf("redeliver: %q %v", again, err)
		}
		sig2, body2 := rec.last()
		w2, err := c.ParseWebhook(sig2, body2)
		if err != nil || w2.DeliveryID != id || !bytes.Contains(body2, []byte(`"isRedelivery": true`)) || !bytes.Contains(body2, []byte(again)) {
			t.Errorf("redelivery %+v %v\n%s", w2, err, body2)
		}

		// Forged, tampered, re-encoded by a proxy, unsigned, signed with another secret.
		var v map[string]any
		_ = json.Unmarshal(body, &v)
		compact, _ := json.Marshal(v)
		for name, tc := range map[string]struct {
			sig  string
			body []byte
		}{
			"forged":            {"sha256=" + strings.Repeat("ab", 32), body},
			"tampered":          {sig, bytes.Replace(body, []byte(inv.ID), []byte("AnotherInvoice1111"), 1)},
			"re-encoded":        {sig, compact},
			"whitespace":        {sig, append(append([]byte{}, body...), '\n')},
			"missing header":    {"", body},
			"no sha256= prefix": {strings.TrimPrefix(sig, "sha256="), body},
			"not hex":           {"sha256=zz", body},
			"other secret":      {btcpaytest.Sign("another-secret", body), body},
		} {
			if _, err := c.ParseWebhook(tc.sig, tc.body); ports.ErrorCodeOf(err) != ports.EUNAUTHORIZED {
				t.Errorf("%s: error %v, want EUNAUTHORIZED", name, err)
			}
		}
		// An uppercase hex signature is the same signature.
		if _, err := c.ParseWebhook("sha256="+strings.ToUpper(strings.TrimPrefix(sig, "sha256=")), body); err != nil {
			t.Errorf("uppercase hex: %v", err)
		}
	})
}

func TestParseWebhookBodies(t *testing.T) {
	c := btcpay.New(btcpay.Config{URL: "http://btcpay.invalid", APIKey: "k", StoreID: "s", WebhookSecret: secret})
	for name, tc := range map[string]struct {
		body string
		code ports.ErrorCode
		want ports.PaymentWebhook
	}{
		"not JSON":     {`<html>`, ports.EINVALID, ports.PaymentWebhook{}},
		"an array":     {`[1,2]`, ports.EINVALID, ports.PaymentWebhook{}},
		"no type":      {`{"deliveryId":"d"}`, ports.EINVALID, ports.PaymentWebhook{}},
		"first":        {`{"deliveryId":"d1","originalDeliveryId":"d1","type":"InvoiceCreated","storeId":"s","invoiceId":"i"}`, "", ports.PaymentWebhook{DeliveryID: "d1", Type: "InvoiceCreated", StoreID: "s", InvoiceID: "i"}},
		"no original":  {`{"deliveryId":"d2","type":"InvoiceExpired","invoiceId":"i"}`, "", ports.PaymentWebhook{DeliveryID: "d2", Type: "InvoiceExpired", InvoiceID: "i"}},
		"old typo":     {`{"deliveryId":"d3","orignalDeliveryId":"d0","type":"InvoiceSettled","invoiceId":"i"}`, "", ports.PaymentWebhook{DeliveryID: "d0", Type: "InvoiceSettled", InvoiceID: "i"}},
		"unknown type": {`{"deliveryId":"d4","type":"PayoutCreated","storeId":"s","payoutId":"p"}`, "", ports.PaymentWebhook{DeliveryID: "d4", Type: "PayoutCreated", StoreID: "s"}},
	} {
		w, err := c.ParseWebhook(btcpaytest.Sign(secret, []byte(tc.body)), []byte(tc.body))
		if ports.ErrorCodeOf(err) != tc.code {
			t.Errorf("%s: error %v, want code %q", name, err, tc.code)
			continue
		}
		if err == nil && *w != tc.want {
			t.Errorf("%s: %+v, want %+v", name, *w, tc.want)
		}
	}
	// Without a configured secret nothing verifies.
	empty := btcpay.New(btcpay.Config{URL: "http://btcpay.invalid"})
	body := []byte(`{"type":"InvoiceCreated"}`)
	if _, err := empty.ParseWebhook(btcpaytest.Sign("", body), body); ports.ErrorCodeOf(err) != ports.EUNAUTHORIZED {
		t.Errorf("empty secret: %v", err)
	}
}

func TestParseWebhookTestDelivery(t *testing.T) {
	fake := btcpaytest.New(t, btcpaytest.Config{})
	c := newClient(fake, "")
	rec := &receiver{}
	url := newStub(t, rec)
	if _, err := fake.DeliverTest(context.Background(), url, secret, "InvoiceCreated"); err != nil {
		t.Fatal(err)
	}
	sig, body := rec.last()
	w, err := c.ParseWebhook(sig, body)
	if err != nil || !w.Test || !strings.HasPrefix(w.InvoiceID, "__test__") {
		t.Errorf("test delivery %+v %v", w, err)
	}
}
