package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"orderdesk/adapters/btcpay"
)

// btcpayCommand implements `btcpay check` and `btcpay register-webhook`. They read only
// the variables they use, whatever PAYMENTS_PROVIDER says and with no database: they are
// how an operator sets BTCPay up, before BTCPAY_WEBHOOK_SECRET exists.
func btcpayCommand(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) == 0 {
		return usagef("usage: orderdesk btcpay check | orderdesk btcpay register-webhook")
	}
	if len(args) > 1 {
		return usagef("btcpay %s takes no arguments", args[0])
	}
	switch args[0] {
	case "check":
		c, _, err := btcpayClient(getenv, false)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		r, err := c.Check(ctx)
		fmt.Fprint(out, r.Report())
		if err != nil {
			return fmt.Errorf("btcpay check failed: %w", err)
		}
		return nil
	case "register-webhook":
		c, base, err := btcpayClient(getenv, true)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		id, secret, err := c.RegisterWebhook(ctx, base+"/webhooks/btcpay")
		if err != nil {
			return fmt.Errorf("btcpay register-webhook: %w", err)
		}
		fmt.Fprintf(out, "WEBHOOK_ID=%s\nBTCPAY_WEBHOOK_SECRET=%s\n", id, secret)
		return nil
	}
	return usagef("unknown btcpay command %q (check or register-webhook)", args[0])
}

// btcpayClient builds the client from BTCPAY_URL, BTCPAY_API_KEY and BTCPAY_STORE_ID,
// and with needBase also returns BASE_URL, which must then be set: it is the address
// BTCPay Server posts to, and the default (localhost) is one it cannot reach.
func btcpayClient(getenv func(string) string, needBase bool) (*btcpay.Client, string, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	url, key, store := get("BTCPAY_URL"), get("BTCPAY_API_KEY"), get("BTCPAY_STORE_ID")
	if err := checkURL("BTCPAY_URL", url, "http", "https"); err != nil {
		return nil, "", err
	}
	for _, kv := range [][2]string{{"BTCPAY_API_KEY", key}, {"BTCPAY_STORE_ID", store}} {
		if kv[1] == "" {
			return nil, "", &ConfigError{kv[0], "is required"}
		}
	}
	base := strings.TrimRight(get("BASE_URL"), "/")
	if needBase {
		if base == "" {
			return nil, "", &ConfigError{"BASE_URL", "is required: BTCPay Server posts its webhooks to BASE_URL/webhooks/btcpay (e.g. https://shop.example.com)"}
		}
		if err := checkURL("BASE_URL", base, "http", "https"); err != nil {
			return nil, "", err
		}
	}
	return btcpay.New(btcpay.Config{URL: url, APIKey: key, StoreID: store, WebhookSecret: get("BTCPAY_WEBHOOK_SECRET")}), base, nil
}
