package btcpaytest

import "testing"

func TestSpecsLoad(t *testing.T) {
	for _, shape := range []Shape{V2, V1} {
		sp, err := loadSpec(shape)
		if err != nil {
			t.Fatalf("shape %d: %v", shape, err)
		}
		for _, p := range []string{"/api/v1/stores/{storeId}/invoices/{invoiceId}", "/api/v1/server/info", "/api/v1/stores/{storeId}/invoices/{invoiceId}/refund"} {
			if sp.doc.Paths.Find(p) == nil {
				t.Errorf("shape %d: no path %s", shape, p)
			}
		}
	}
}
