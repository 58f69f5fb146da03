package web_test

import (
	"context"
	"errors"
	"testing"

	"orderdesk/adapters/btcpay/btcpaytest"
	"orderdesk/app/apptest"
	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
)

// With PAYMENTS_PROVIDER=btcpay the app talks to BTCPay Server: the invoice is made
// there, and a signed webhook about it is taken in at /webhooks/btcpay.
func TestBTCPayWiring(t *testing.T) {
	fake := btcpaytest.New(t, btcpaytest.Config{})
	const secret = "wiring-test-secret"
	env := apptest.StartWith(t, map[string]string{"PAYMENTS_PROVIDER": "btcpay", "BTCPAY_URL": fake.URL(),
		"BTCPAY_API_KEY": fake.APIKey(), "BTCPAY_STORE_ID": fake.StoreID(), "BTCPAY_WEBHOOK_SECRET": secret})
	shop := env.NewShop(t, "btcpaywire")
	o := placed(t, env, shop, 1)
	invs := fake.Invoices()
	if len(invs) != 1 || invs[0].OrderID != o.ID.String() {
		t.Fatalf("invoices at BTCPay %+v", invs)
	}
	inv, err := env.App.Payments.ForOrder(staffCtx, o.ID)
	if err != nil || inv.InvoiceID == nil || *inv.InvoiceID != invs[0].ID || len(inv.Methods()) != 2 {
		t.Fatalf("invoice %+v %v", inv, err)
	}
	// The invoice records the gateway's name: the one in use.
	if inv.Provider != "btcpay" {
		t.Fatalf("gateway %q", inv.Provider)
	}

	fake.Pay(invs[0].ID, "BTC-LN", inv.Methods()[1].DueSats, true)
	hook := env.URL + "/webhooks/btcpay"
	if _, err := fake.Deliver(context.Background(), hook, "not-the-secret", "InvoiceSettled", invs[0].ID); !isStatus(err, 401) {
		t.Errorf("forged delivery: %v", err)
	}
	if _, err := fake.Deliver(context.Background(), hook, secret, "InvoiceSettled", invs[0].ID); err != nil {
		t.Fatalf("delivery: %v", err)
	}
	if _, err := env.App.Payments.Sync(staffCtx, o.ID, payments.SourceWebhook); err != nil {
		t.Fatal(err)
	}
	if s := stateOf(t, env, o.ID); s.order != ordering.StatusProcessing || s.payment != payments.StatusPaid {
		t.Errorf("after payment: %+v", s)
	}
}

func isStatus(err error, status int) bool {
	var de *btcpaytest.DeliveryError
	return errors.As(err, &de) && de.StatusCode == status
}
