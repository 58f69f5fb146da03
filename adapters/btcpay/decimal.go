package btcpay

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// decimal is an exact decimal number, value = unscaled × 10^-scale. BTCPay sends amounts
// and rates as decimal strings (C# decimals: up to 28 significant digits, so rates can be
// longer than an int64 holds); it also accepts, and a proxy or an old version may send,
// plain JSON numbers. No float64 is involved anywhere.
type decimal struct {
	unscaled big.Int
	scale    int
}

// maxDecimalLen bounds the text parseDecimal accepts; no amount or rate comes near it.
const maxDecimalLen = 80

var errBadDecimal = errors.New("not a decimal number")

// parseDecimal parses "-12.345", "0.00012", "5", and the JSON number forms "1e-3" and
// "2.5E+2". It refuses empty text, spaces, "+1", ".5", "1.", "1,000", NaN, hex, and
// exponents that would scale past 100 digits.
func parseDecimal(s string) (decimal, error) {
	var d decimal
	if len(s) == 0 || len(s) > maxDecimalLen {
		return d, errBadDecimal
	}
	i := 0
	neg := false
	if s[0] == '-' {
		neg = true
		i++
	}
	digits := make([]byte, 0, len(s))
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		digits = append(digits, s[i])
		i++
	}
	if i == intStart {
		return d, errBadDecimal
	}
	scale := 0
	if i < len(s) && s[i] == '.' {
		i++
		fracStart := i
		for i < len(s) && isDigit(s[i]) {
			digits = append(digits, s[i])
			i++
		}
		if i == fracStart {
			return d, errBadDecimal
		}
		scale = i - fracStart
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		expStart := i
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			exp = exp*10 + int(s[i]-'0')
			if exp > 100 {
				return d, errBadDecimal
			}
			i++
		}
		if i == expStart {
			return d, errBadDecimal
		}
		if expNeg {
			scale += exp
		} else {
			scale -= exp
		}
	}
	if i != len(s) || scale > 100 || scale < -100 {
		return d, errBadDecimal
	}
	d.unscaled.SetString(string(digits), 10)
	if scale < 0 {
		d.unscaled.Mul(&d.unscaled, pow10(-scale))
		scale = 0
	}
	if neg {
		d.unscaled.Neg(&d.unscaled)
	}
	d.scale = scale
	return d, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// rounding says what units does with digits below the unit.
type rounding int

const (
	roundExact  rounding = iota // refuse a remainder
	roundUp                     // towards +∞ (amounts the customer is asked for)
	roundHalfUp                 // to nearest, halves away from zero
)

// units returns the value in units of 10^-exp (exp 8: satoshis of a BTC amount; exp 2:
// pence of a GBP amount), rounded as asked. It fails when the result overflows an int64
// or, with roundExact, when digits would be lost.
func (d decimal) units(exp int, mode rounding) (int64, error) {
	v := new(big.Int).Set(&d.unscaled)
	if exp >= d.scale {
		v.Mul(v, pow10(exp-d.scale))
	} else {
		div := pow10(d.scale - exp)
		q, r := new(big.Int), new(big.Int)
		q.QuoRem(v, div, r) // truncates towards zero; r has v's sign
		if r.Sign() != 0 {
			switch mode {
			case roundExact:
				return 0, fmt.Errorf("%s has more than %d decimal places", d, exp)
			case roundUp:
				if r.Sign() > 0 {
					q.Add(q, big.NewInt(1))
				}
			case roundHalfUp:
				twice := new(big.Int).Abs(r)
				twice.Lsh(twice, 1)
				if twice.Cmp(div) >= 0 {
					if r.Sign() > 0 {
						q.Add(q, big.NewInt(1))
					} else {
						q.Sub(q, big.NewInt(1))
					}
				}
			}
		}
		v = q
	}
	if !v.IsInt64() {
		return 0, fmt.Errorf("%s is too large", d)
	}
	return v.Int64(), nil
}

// mul returns d × e, exactly.
func (d decimal) mul(e decimal) decimal {
	var out decimal
	out.unscaled.Mul(&d.unscaled, &e.unscaled)
	out.scale = d.scale + e.scale
	return out
}

// String renders the value in plain decimal notation ("-0.00012").
func (d decimal) String() string {
	s := new(big.Int).Abs(&d.unscaled).String()
	if d.scale > 0 {
		if len(s) <= d.scale {
			s = strings.Repeat("0", d.scale+1-len(s)) + s
		}
		s = s[:len(s)-d.scale] + "." + s[len(s)-d.scale:]
	}
	if d.unscaled.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// jsonDecimal is a decimal JSON field: a string ("0.0001") or a number (0.0001); null
// and absence leave it zero with set false.
type jsonDecimal struct {
	d   decimal
	set bool
}

// UnmarshalJSON reads a decimal string or number without going through float64.
func (x *jsonDecimal) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*x = jsonDecimal{}
		return nil
	}
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
	}
	d, err := parseDecimal(text)
	if err != nil {
		return fmt.Errorf("decimal %.40q: %w", text, err)
	}
	x.d, x.set = d, true
	return nil
}
