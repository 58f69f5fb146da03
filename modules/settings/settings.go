// Package settings is the module for the shop's own settings: the few choices an
// admin makes once and the other modules read (how long a BTCPay invoice runs, where a
// transaction is shown, how labels are made, the shop's name). Every setting has a
// default, so a fresh install works before anyone has opened the settings page.
package settings

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"orderdesk/ports"
)

// LabelMode says how shipments reach Royal Mail Click & Drop.
type LabelMode string

// The label modes.
const (
	// LabelModeLabel registers the shipment and fetches the PDF label to print.
	LabelModeLabel LabelMode = "label"
	// LabelModePushOnly only pushes the order to Click & Drop, for accounts without
	// label access: staff print the label from Click & Drop itself.
	LabelModePushOnly LabelMode = "push_only"
)

// LabelModes lists the label modes, the default first.
var LabelModes = []LabelMode{LabelModeLabel, LabelModePushOnly}

// Valid reports whether m is a label mode.
func (m LabelMode) Valid() bool { return m == LabelModeLabel || m == LabelModePushOnly }

// TxIDPlaceholder is the part of BlockExplorerTxURL replaced by a transaction id.
const TxIDPlaceholder = "{txid}"

// Limits of the settings, for validation and for the form's hints.
const (
	MinInvoiceExpiryMinutes = 5
	MaxInvoiceExpiryMinutes = 1440
	MaxLowStockThreshold    = 100000
	MaxBlockExplorerURLLen  = 300
	MaxShopNameLen          = 100
)

// Settings are the shop's settings. The JSON names are the keys under which each
// value is stored and the names of the admin form's fields (and of the fields in a
// validation error).
type Settings struct {
	// InvoiceExpiryMinutes is how long a BTCPay invoice can be paid.
	InvoiceExpiryMinutes int `json:"invoice_expiry_minutes"`
	// BlockExplorerTxURL is where a transaction is shown: an absolute http(s) URL in
	// which {txid} stands for the transaction id.
	BlockExplorerTxURL string `json:"block_explorer_tx_url"`
	// LabelMode says whether Click & Drop gives us the label or only takes the order.
	LabelMode LabelMode `json:"label_mode"`
	// PackingSlipPrices prints prices on packing slips.
	PackingSlipPrices bool `json:"packing_slip_prices"`
	// ReviewsAutoApprove publishes product reviews without a moderator.
	ReviewsAutoApprove bool `json:"reviews_auto_approve"`
	// LowStockThreshold is the stock level at or below which a product counts as low.
	LowStockThreshold int `json:"low_stock_threshold"`
	// ShopName is the shop's name as staff and documents show it.
	ShopName string `json:"shop_name"`
}

// Defaults returns the settings of a shop that has saved none.
func Defaults() Settings {
	return Settings{
		InvoiceExpiryMinutes: 60,
		BlockExplorerTxURL:   "https://mempool.space/tx/" + TxIDPlaceholder,
		LabelMode:            LabelModeLabel,
		PackingSlipPrices:    false,
		ReviewsAutoApprove:   false,
		LowStockThreshold:    5,
		ShopName:             "OrderDesk shop",
	}
}

// TxURL returns the block explorer's page of transaction txid.
func (s Settings) TxURL(txid string) string {
	return strings.ReplaceAll(s.BlockExplorerTxURL, TxIDPlaceholder, url.PathEscape(txid))
}

// Normalized returns s with the text fields' surrounding space removed, as Update
// saves them.
func (s Settings) Normalized() Settings {
	s.BlockExplorerTxURL = strings.TrimSpace(s.BlockExplorerTxURL)
	s.ShopName = strings.TrimSpace(s.ShopName)
	s.LabelMode = LabelMode(strings.TrimSpace(string(s.LabelMode)))
	return s
}

// Validate returns an EINVALID error naming every field of s that is out of bounds,
// or nil.
func (s Settings) Validate() error {
	var errs []ports.FieldError
	if s.InvoiceExpiryMinutes < MinInvoiceExpiryMinutes || s.InvoiceExpiryMinutes > MaxInvoiceExpiryMinutes {
		errs = append(errs, ports.Field("invoice_expiry_minutes",
			fmt.Sprintf("Enter a number of minutes from %d to %d.", MinInvoiceExpiryMinutes, MaxInvoiceExpiryMinutes)))
	}
	if msg := checkExplorerURL(s.BlockExplorerTxURL); msg != "" {
		errs = append(errs, ports.Field("block_explorer_tx_url", msg))
	}
	if !s.LabelMode.Valid() {
		errs = append(errs, ports.Field("label_mode", "Choose how labels are made."))
	}
	if s.LowStockThreshold < 0 || s.LowStockThreshold > MaxLowStockThreshold {
		errs = append(errs, ports.Field("low_stock_threshold",
			fmt.Sprintf("Enter a whole number from 0 to %d.", MaxLowStockThreshold)))
	}
	if msg := checkShopName(s.ShopName); msg != "" {
		errs = append(errs, ports.Field("shop_name", msg))
	}
	return ports.Invalid(errs...)
}

func checkExplorerURL(s string) string {
	const want = "Enter an absolute http:// or https:// URL with {txid} where the transaction id goes, like https://mempool.space/tx/{txid}."
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
		return "Enter the URL without spaces or control characters."
	}
	if utf8.RuneCountInString(s) > MaxBlockExplorerURLLen {
		return fmt.Sprintf("Enter a URL of at most %d characters.", MaxBlockExplorerURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return want
	}
	if u.User != nil {
		return "Enter the URL without credentials."
	}
	if !strings.Contains(s, TxIDPlaceholder) {
		return "Put {txid} in the URL where the transaction id goes."
	}
	return ""
}

func checkShopName(s string) string {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0 || n > MaxShopNameLen:
		return fmt.Sprintf("Enter a name of 1 to %d characters.", MaxShopNameLen)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }):
		return "Enter the name without control or invisible characters."
	}
	return ""
}
