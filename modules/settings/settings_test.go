package settings

import (
	"strings"
	"testing"

	"orderdesk/ports"
)

func TestDefaultsAreValid(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatal(err)
	}
	d := Defaults()
	if d.InvoiceExpiryMinutes != 60 || d.BlockExplorerTxURL != "https://mempool.space/tx/{txid}" || d.LabelMode != LabelModeLabel ||
		d.PackingSlipPrices || d.ReviewsAutoApprove || d.LowStockThreshold != 5 || d.ShopName != "OrderDesk shop" {
		t.Fatalf("defaults %+v", d)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		change  func(*Settings)
		field   string // "" when valid
		message string
	}{
		{"expiry at minimum", func(s *Settings) { s.InvoiceExpiryMinutes = 5 }, "", ""},
		{"expiry at maximum", func(s *Settings) { s.InvoiceExpiryMinutes = 1440 }, "", ""},
		{"expiry too short", func(s *Settings) { s.InvoiceExpiryMinutes = 4 }, "invoice_expiry_minutes", "from 5 to 1440"},
		{"expiry too long", func(s *Settings) { s.InvoiceExpiryMinutes = 1441 }, "invoice_expiry_minutes", "from 5 to 1440"},
		{"expiry negative", func(s *Settings) { s.InvoiceExpiryMinutes = -60 }, "invoice_expiry_minutes", "from 5 to 1440"},

		{"explorer http", func(s *Settings) { s.BlockExplorerTxURL = "http://explorer.lan/tx/{txid}" }, "", ""},
		{"explorer in query", func(s *Settings) { s.BlockExplorerTxURL = "https://blockstream.info/tx?id={txid}&net=main" }, "", ""},
		{"explorer with port", func(s *Settings) { s.BlockExplorerTxURL = "https://10.0.0.5:3006/tx/{txid}" }, "", ""},
		{"explorer at 300 chars", func(s *Settings) {
			s.BlockExplorerTxURL = "https://e.example/" + strings.Repeat("a", 300-len("https://e.example/{txid}")) + "{txid}"
		}, "", ""},
		{"explorer at 301 chars", func(s *Settings) {
			s.BlockExplorerTxURL = "https://e.example/" + strings.Repeat("a", 301-len("https://e.example/{txid}")) + "{txid}"
		}, "block_explorer_tx_url", "at most 300 characters"},
		{"explorer empty", func(s *Settings) { s.BlockExplorerTxURL = "" }, "block_explorer_tx_url", "absolute http:// or https:// URL"},
		{"explorer relative", func(s *Settings) { s.BlockExplorerTxURL = "/tx/{txid}" }, "block_explorer_tx_url", "absolute http:// or https:// URL"},
		{"explorer no host", func(s *Settings) { s.BlockExplorerTxURL = "https:///tx/{txid}" }, "block_explorer_tx_url", "absolute http:// or https:// URL"},
		{"explorer ftp", func(s *Settings) { s.BlockExplorerTxURL = "ftp://mempool.space/tx/{txid}" }, "block_explorer_tx_url", "absolute http:// or https:// URL"},
		{"explorer javascript", func(s *Settings) { s.BlockExplorerTxURL = "javascript:alert('{txid}')" }, "block_explorer_tx_url", "absolute http:// or https:// URL"},
		{"explorer opaque", func(s *Settings) { s.BlockExplorerTxURL = "https:mempool.space/tx/{txid}" }, "block_explorer_tx_url", "absolute http:// or https:// URL"},
		{"explorer placeholder in host", func(s *Settings) { s.BlockExplorerTxURL = "https://{txid}.example/" }, "block_explorer_tx_url", "absolute http:// or https:// URL"},
		{"explorer without placeholder", func(s *Settings) { s.BlockExplorerTxURL = "https://mempool.space/tx/" }, "block_explorer_tx_url", "Put {txid} in the URL"},
		{"explorer other placeholder", func(s *Settings) { s.BlockExplorerTxURL = "https://mempool.space/tx/{tx}" }, "block_explorer_tx_url", "Put {txid} in the URL"},
		{"explorer with space", func(s *Settings) { s.BlockExplorerTxURL = "https://mempool.space/tx/ {txid}" }, "block_explorer_tx_url", "without spaces"},
		{"explorer with newline", func(s *Settings) { s.BlockExplorerTxURL = "https://mempool.space/tx/\n{txid}" }, "block_explorer_tx_url", "without spaces"},
		{"explorer with credentials", func(s *Settings) { s.BlockExplorerTxURL = "https://u:p@mempool.space/tx/{txid}" }, "block_explorer_tx_url", "without credentials"},
		{"explorer not UTF-8", func(s *Settings) { s.BlockExplorerTxURL = "https://mempool.space/\xff/{txid}" }, "block_explorer_tx_url", "without spaces"},

		{"push only", func(s *Settings) { s.LabelMode = LabelModePushOnly }, "", ""},
		{"label mode empty", func(s *Settings) { s.LabelMode = "" }, "label_mode", "Choose how labels are made"},
		{"label mode unknown", func(s *Settings) { s.LabelMode = "Label" }, "label_mode", "Choose how labels are made"},

		{"low stock zero", func(s *Settings) { s.LowStockThreshold = 0 }, "", ""},
		{"low stock maximum", func(s *Settings) { s.LowStockThreshold = 100000 }, "", ""},
		{"low stock negative", func(s *Settings) { s.LowStockThreshold = -1 }, "low_stock_threshold", "from 0 to 100000"},
		{"low stock too high", func(s *Settings) { s.LowStockThreshold = 100001 }, "low_stock_threshold", "from 0 to 100000"},

		{"name one char", func(s *Settings) { s.ShopName = "X" }, "", ""},
		{"name 100 runes", func(s *Settings) { s.ShopName = strings.Repeat("é", 100) }, "", ""},
		{"name with inner space", func(s *Settings) { s.ShopName = "Tea & Biscuits Ltd." }, "", ""},
		{"name empty", func(s *Settings) { s.ShopName = "" }, "shop_name", "1 to 100 characters"},
		{"name 101 runes", func(s *Settings) { s.ShopName = strings.Repeat("é", 101) }, "shop_name", "1 to 100 characters"},
		{"name with tab", func(s *Settings) { s.ShopName = "Tea\tShop" }, "shop_name", "without control"},
		{"name with zero-width space", func(s *Settings) { s.ShopName = "Tea\u200bShop" }, "shop_name", "without control"},
		{"name with NUL", func(s *Settings) { s.ShopName = "Tea\x00" }, "shop_name", "without control"},
		{"name not UTF-8", func(s *Settings) { s.ShopName = "Tea\xff" }, "shop_name", "without control"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Defaults()
			tc.change(&s)
			err := s.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if ports.ErrorCodeOf(err) != ports.EINVALID {
				t.Fatalf("want EINVALID, got %v", err)
			}
			fields := ports.FieldErrorsOf(err)
			if len(fields) != 1 || fields[0].Field != tc.field || !strings.Contains(fields[0].Message, tc.message) {
				t.Fatalf("want one error on %s containing %q, got %+v", tc.field, tc.message, fields)
			}
		})
	}
}

func TestValidateNamesEveryField(t *testing.T) {
	s := Settings{InvoiceExpiryMinutes: 0, BlockExplorerTxURL: "nope", LabelMode: "x", LowStockThreshold: -5, ShopName: ""}
	var got []string
	for _, f := range ports.FieldErrorsOf(s.Validate()) {
		got = append(got, f.Field)
	}
	want := "invoice_expiry_minutes block_explorer_tx_url label_mode low_stock_threshold shop_name"
	if strings.Join(got, " ") != want {
		t.Fatalf("fields %v, want %s", got, want)
	}
}

func TestNormalized(t *testing.T) {
	s := Defaults()
	s.ShopName, s.BlockExplorerTxURL, s.LabelMode = "  Tea Shop\n", " https://mempool.space/tx/{txid} ", " push_only "
	n := s.Normalized()
	if n.ShopName != "Tea Shop" || n.BlockExplorerTxURL != "https://mempool.space/tx/{txid}" || n.LabelMode != LabelModePushOnly {
		t.Fatalf("normalized %+v", n)
	}
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestTxURL(t *testing.T) {
	s := Defaults()
	txid := "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
	if got := s.TxURL(txid); got != "https://mempool.space/tx/"+txid {
		t.Fatalf("TxURL %q", got)
	}
	s.BlockExplorerTxURL = "https://e.example/{txid}?again={txid}"
	if got := s.TxURL("a/b c"); got != "https://e.example/a%2Fb%20c?again=a%2Fb%20c" {
		t.Fatalf("TxURL escapes %q", got)
	}
}
