package ports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Money is an exact amount in minor units (pence for GBP, satoshis for BTC).
type Money struct {
	Minor    int64
	Currency string
}

// Exponent is the number of decimal places of a currency's minor unit.
func Exponent(currency string) int {
	switch currency {
	case "BTC":
		return 8
	case "JPY":
		return 0
	}
	return 2
}

// FormatMinor renders minor units as a decimal string with the currency's exponent:
// FormatMinor(1250, "GBP") is "12.50".
func FormatMinor(minor int64, currency string) string {
	exp := Exponent(currency)
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = uint64(-minor)
	}
	s := strconv.FormatUint(u, 10)
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ParseMinor parses a non-negative decimal amount as typed by a person ("12.5",
// "1,000.00", "£3") into minor units of currency. It refuses negative amounts, more
// decimals than the currency has, letters, and amounts above max minor units.
func ParseMinor(s, currency string, max int64) (int64, error) {
	exp := Exponent(currency)
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "£")
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, Message("Enter an amount.")
	}
	if strings.HasPrefix(s, "-") {
		return 0, Message("The amount cannot be negative.")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if hasDot && frac == "" {
		return 0, Message("Enter an amount like 12.34.")
	}
	// Thousands separators are accepted only in their proper places: 1,000 or 12,345,678.
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		for i, g := range groups {
			if (i == 0 && (len(g) == 0 || len(g) > 3)) || (i > 0 && len(g) != 3) {
				return 0, Message("Enter an amount like 1,234.56.")
			}
		}
		whole = strings.Join(groups, "")
	}
	if whole == "" {
		whole = "0"
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, Message("Enter an amount using digits, like 12.34.")
			}
		}
	}
	if len(frac) > exp {
		return 0, Message(fmt.Sprintf("Use at most %d decimal places.", exp))
	}
	frac += strings.Repeat("0", exp-len(frac))
	if len(whole) > 15 {
		return 0, Message("The amount is too large.")
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, Message("Enter an amount like 12.34.")
	}
	var f int64
	if frac != "" {
		f, _ = strconv.ParseInt(frac, 10, 64)
	}
	scale := int64(math.Pow10(exp))
	if w > (math.MaxInt64-f)/scale {
		return 0, Message("The amount is too large.")
	}
	v := w*scale + f
	if max > 0 && v > max {
		return 0, Message("The amount can be at most " + FormatMinor(max, currency) + ".")
	}
	return v, nil
}

// SatsPerBTC is the number of satoshis in a bitcoin.
const SatsPerBTC = 100_000_000

// SatsValue is the value in pence of sats at ratePence pence per bitcoin, rounded half
// up. It is computed in two parts so that any real amount of bitcoin fits in int64.
func SatsValue(sats, ratePence int64) int64 {
	return sats/SatsPerBTC*ratePence + (sats%SatsPerBTC*ratePence+SatsPerBTC/2)/SatsPerBTC
}
