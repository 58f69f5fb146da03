package btcpay

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"orderdesk/ports"
)

// SignatureHeader is the header that carries a delivery's signature.
const SignatureHeader = "BTCPay-Sig"

// ParseWebhook verifies a store webhook delivery and says what it is about. signature
// is the BTCPay-Sig header, "sha256=<hex HMAC-SHA256(secret, body)>", computed by BTCPay
// over the exact bytes it sent (indented JSON): body must be the raw request body, not a
// re-encoding. A missing or wrong signature is EUNAUTHORIZED; a verified body that is
// not an event is EINVALID.
func (c *Client) ParseWebhook(signature string, body []byte) (*ports.PaymentWebhook, error) {
	if !verifySignature(c.secret, signature, body) {
		return nil, ports.Errorf(ports.EUNAUTHORIZED, "The BTCPay-Sig signature does not verify.")
	}
	var ev struct {
		DeliveryID         string `json:"deliveryId"`
		OriginalDeliveryID string `json:"originalDeliveryId"`
		OrignalDeliveryID  string `json:"orignalDeliveryId"` // very old servers' spelling
		Type               string `json:"type"`
		StoreID            string `json:"storeId"`
		InvoiceID          string `json:"invoiceId"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" {
		return nil, ports.Errorf(ports.EINVALID, "The BTCPay webhook body is not an event.")
	}
	w := &ports.PaymentWebhook{DeliveryID: ev.OriginalDeliveryID, Type: ev.Type, StoreID: ev.StoreID, InvoiceID: ev.InvoiceID}
	if w.DeliveryID == "" {
		w.DeliveryID = ev.OrignalDeliveryID
	}
	if w.DeliveryID == "" {
		w.DeliveryID = ev.DeliveryID
	}
	// The store's "Test webhook" button sends an invoice id "__test__<guid>__test__".
	w.Test = len(ev.InvoiceID) > 16 && strings.HasPrefix(ev.InvoiceID, "__test__") && strings.HasSuffix(ev.InvoiceID, "__test__")
	return w, nil
}

// verifySignature checks "sha256=<hex>" against the HMAC of body in constant time. An
// empty secret verifies nothing.
func verifySignature(secret, signature string, body []byte) bool {
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(signature), "sha256=")
	if !ok || secret == "" {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
