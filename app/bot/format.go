package bot

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"orderdesk/web/api/client"
)

// parseMinor reads a decimal string ("4.50") as an integer of minor units with the
// given number of decimals (450).
func parseMinor(amount string, decimals int) (int64, bool) {
	neg := strings.HasPrefix(amount, "-")
	amount = strings.TrimPrefix(amount, "-")
	whole, frac, _ := strings.Cut(amount, ".")
	if whole == "" || len(frac) > decimals {
		return 0, false
	}
	frac += strings.Repeat("0", decimals-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// gbp formats pence as "£1,234.50".
func gbp(pence int64) string {
	sign := ""
	if pence < 0 {
		sign, pence = "-", -pence
	}
	whole := strconv.FormatInt(pence/100, 10)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return fmt.Sprintf("%s£%s.%02d", sign, whole, pence%100)
}

// money formats an amount of the API: "£4.50" or "0.00012 BTC".
func money(m client.Money) string {
	if m.Currency == "GBP" {
		if p, ok := parseMinor(m.Amount, 2); ok {
			return gbp(p)
		}
	}
	return m.Amount + " " + string(m.Currency)
}

// esc escapes text for Telegram's HTML parse mode.
func esc(s string) string { return html.EscapeString(s) }

// clip shortens s to at most n characters, with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// statusText says an order's status in words.
func statusText(s client.OrderStatus) string {
	switch s {
	case "pending_payment":
		return "awaiting payment"
	case "processing":
		return "paid, being prepared"
	case "picked":
		return "packed, about to ship"
	case "shipped":
		return "shipped"
	case "delivered":
		return "delivered"
	case "on_hold":
		return "on hold"
	case "cancelled":
		return "cancelled"
	case "expired":
		return "expired (not paid in time)"
	case "refunded":
		return "refunded"
	}
	return strings.ReplaceAll(string(s), "_", " ")
}

// statusIcon is the emoji in front of a status.
func statusIcon(s client.OrderStatus) string {
	switch s {
	case "pending_payment":
		return "⏳"
	case "processing", "picked":
		return "📦"
	case "shipped":
		return "🚚"
	case "delivered":
		return "✅"
	case "on_hold":
		return "⚠️"
	}
	return "✖️"
}

// ukTime is the shop's time zone, for expiry times.
var ukTime = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		return loc
	}
	return time.UTC
}()

// until says when t is, in UK time, and how long from now: "14:35 UK time (in 59
// minutes)".
func until(t, now time.Time) string {
	at := t.In(ukTime).Format("15:04 on 2 Jan") + " UK time"
	d := t.Sub(now).Round(time.Minute)
	switch {
	case d <= 0:
		return at + " (that time has passed)"
	case d < time.Hour:
		return fmt.Sprintf("%s (in %d minutes)", at, int(d.Minutes()))
	default:
		return fmt.Sprintf("%s (in %dh %02dm)", at, int(d.Hours()), int(d.Minutes())%60)
	}
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
