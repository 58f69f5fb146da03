package royalmail

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"orderdesk/ports"
)

// TemporaryError is a failure worth retrying: Royal Mail throttled the call (429) or
// failed (5xx). It is deliberately not a *ports.Error, so callers treat it as
// transient; a job queue may read RetryAfter through the interface
// `interface{ RetryAfter() time.Duration }` without importing this package.
type TemporaryError struct {
	API    string // "Click & Drop" or "Tracking"
	Status int
	// Wait is Royal Mail's Retry-After, zero when it gave none.
	Wait time.Duration
	// Detail is Royal Mail's own message, when it gave one.
	Detail string
}

func (e *TemporaryError) Error() string {
	msg := fmt.Sprintf("royal mail %s: HTTP %d", e.API, e.Status)
	if e.Status == http.StatusTooManyRequests {
		msg += " (rate limit exceeded)"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Wait > 0 {
		msg += fmt.Sprintf("; retry after %v", e.Wait)
	}
	return msg
}

// RetryAfter is how long Royal Mail asked us to wait (zero: no advice).
func (e *TemporaryError) RetryAfter() time.Duration { return e.Wait }

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// apiError describes a Click & Drop answer that is not a success, in words for staff
// where the answer means the request itself was at fault.
func apiError(status int, header http.Header, body []byte, now time.Time) error {
	switch {
	case status == http.StatusUnauthorized:
		return ports.Errorf(ports.EUNAVAILABLE, "Royal Mail API key was refused: check ROYALMAIL_API_KEY (Click & Drop → Settings → Integrations).")
	case status == http.StatusTooManyRequests || status >= 500:
		return &TemporaryError{API: "Click & Drop", Status: status, Wait: retryAfter(header, now), Detail: errorText(body)}
	case status == http.StatusBadRequest:
		if text := errorText(body); text != "" {
			return ports.Errorf(ports.EINVALID, "Royal Mail refused the request: %s", sentence(text))
		}
		return ports.Errorf(ports.EINVALID, "Royal Mail refused the request as malformed.")
	case status == http.StatusForbidden:
		return ports.Errorf(ports.EFORBIDDEN, "This Click & Drop account may not do that (HTTP 403).")
	case status == http.StatusNotFound:
		// The lookups answer their own 404s; anywhere else it means a wrong API URL.
		return fmt.Errorf("royal mail Click & Drop: HTTP 404 (is ROYALMAIL_API_URL right?)")
	}
	return fmt.Errorf("royal mail Click & Drop: unexpected HTTP %d: %s", status, clip(string(body), 200))
}

// errorText is the message of an ErrorResponse or of an array of
// OrderErrorResponse, "" for any other body.
func errorText(body []byte) string {
	var one errorResponse
	if json.Unmarshal(body, &one) == nil && one.Message != "" {
		msg := one.Message
		if one.Details != "" && one.Details != one.Message {
			msg += " (" + one.Details + ")"
		}
		return msg
	}
	var many []orderErrorResponse
	if json.Unmarshal(body, &many) == nil {
		var parts []string
		for _, e := range many {
			if e.Message != "" {
				parts = append(parts, e.Message)
			} else if e.Code != "" {
				parts = append(parts, e.Code)
			}
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

// fieldLabels names the Click & Drop fields a packer may meet in an error, keyed by
// the field's last path segment in lower case.
var fieldLabels = map[string]string{
	"orderreference":          "Order reference",
	"fullname":                "Name",
	"companyname":             "Company",
	"addressline1":            "Address line 1",
	"addressline2":            "Address line 2",
	"addressline3":            "Address line 3",
	"city":                    "Town or city",
	"county":                  "County",
	"postcode":                "Postcode",
	"countrycode":             "Country",
	"phonenumber":             "Phone number",
	"emailaddress":            "Email address",
	"servicecode":             "Service code",
	"serviceregistercode":     "Service register code",
	"weightingrams":           "Weight",
	"packageformatidentifier": "Package format",
	"sku":                     "Item SKU",
	"name":                    "Item name",
	"quantity":                "Item quantity",
	"unitvalue":               "Item value",
	"unitweightingrams":       "Item weight",
	"subtotal":                "Subtotal",
	"shippingcostcharged":     "Shipping cost",
	"total":                   "Total",
	"orderdate":               "Order date",
}

var indexRe = regexp.MustCompile(`\[\d+\]`)

// fieldLabel turns "Recipient.Address.Postcode" or "packages[0].weightInGrams" into
// words; an unknown field keeps its name.
func fieldLabel(field string) string {
	f := indexRe.ReplaceAllString(field, "")
	if i := strings.LastIndex(f, "."); i >= 0 {
		f = f[i+1:]
	}
	if l, ok := fieldLabels[strings.ToLower(f)]; ok {
		return l
	}
	return field
}

// failureText puts one failed order's errors into sentences a packer understands:
// "Postcode ZZ1 1ZZ is not recognised for the destination country." or
// "Service code TPN99 is not available on this account."
func failureText(errs []createOrderError) string {
	var parts []string
	for _, e := range errs {
		msg := strings.TrimSpace(e.ErrorMessage)
		if len(e.Fields) == 0 {
			if msg == "" {
				msg = fmt.Sprintf("error %d", e.ErrorCode)
			}
			parts = append(parts, sentence(msg))
			continue
		}
		for _, f := range e.Fields {
			parts = append(parts, fieldSentence(fieldLabel(f.FieldName), f.Value, msg))
		}
	}
	if len(parts) == 0 {
		return "Royal Mail gave no reason."
	}
	return strings.Join(parts, " ")
}

// fieldSentence joins a field's label, its value and Royal Mail's message about it,
// without saying the field's name twice.
func fieldSentence(label, value, msg string) string {
	subject := label
	if value != "" && !strings.Contains(msg, value) {
		subject += " " + value
	}
	if msg == "" {
		return subject + " was refused."
	}
	if rest, ok := cutPrefixFold(msg, label); ok && (rest == "" || rest[0] == ' ') {
		return sentence(subject + rest)
	}
	return sentence(subject + ": " + msg)
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// sentence ends s with a full stop unless it ends with punctuation already.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?") {
		return s
	}
	return s + "."
}

// isDuplicate tells a failure for an order reference already in use. The API does not
// document the error's code or text (NOTES §10), so this reads the words: an error on
// the orderReference field, or one that speaks of a reference that exists already.
func isDuplicate(errs []createOrderError) bool {
	for _, e := range errs {
		msg := strings.ToLower(e.ErrorMessage)
		dupWords := strings.Contains(msg, "already") || strings.Contains(msg, "duplicate") ||
			strings.Contains(msg, "exists") || strings.Contains(msg, "unique")
		if !dupWords {
			continue
		}
		if strings.Contains(msg, "reference") {
			return true
		}
		for _, f := range e.Fields {
			if strings.EqualFold(fieldLabel(f.FieldName), "Order reference") {
				return true
			}
		}
	}
	return false
}

// clip shortens s to about n bytes without cutting a character in half.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
