package ordering

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"orderdesk/ports"
)

// Address is where an order ships to. It is personal data: stored encrypted, shown
// only to roles that need it, and deleted after the retention period.
type Address struct {
	Name        string `json:"name"`
	Line1       string `json:"line1"`
	Line2       string `json:"line2,omitempty"`
	Line3       string `json:"line3,omitempty"`
	City        string `json:"city"`
	County      string `json:"county,omitempty"`
	Postcode    string `json:"postcode"`
	CountryCode string `json:"countryCode"`
	Phone       string `json:"phone,omitempty"`
}

// Limits Royal Mail Click & Drop accepts.
const (
	AddressNameMax     = 210
	AddressLineMax     = 100
	AddressCityMax     = 100
	AddressCountyMax   = 100
	AddressPostcodeMax = 20
	AddressPhoneMax    = 25
)

// ukPostcode is the UK postcode format (with or without the space), including GIR 0AA.
var ukPostcode = regexp.MustCompile(`^(GIR ?0AA|(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]) ?[0-9][ABD-HJLNP-UW-Z]{2})$`)

// NormalizePostcode upper-cases a postcode and puts one space before the inward code.
func NormalizePostcode(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(s) > 3 {
		s = s[:len(s)-3] + " " + s[len(s)-3:]
	}
	return s
}

// Normalize trims every field and formats the postcode and country code.
func (a *Address) Normalize() {
	for _, f := range []*string{&a.Name, &a.Line1, &a.Line2, &a.Line3, &a.City, &a.County, &a.Phone} {
		*f = strings.Join(strings.Fields(*f), " ")
	}
	a.Postcode = NormalizePostcode(a.Postcode)
	a.CountryCode = strings.ToUpper(strings.TrimSpace(a.CountryCode))
}

// Validate checks a normalized address; prefix names the fields ("shippingAddress.").
func (a *Address) Validate(prefix string) []ports.FieldError {
	var errs []ports.FieldError
	text := func(field, v string, required bool, max int) {
		switch n := utf8.RuneCountInString(v); {
		case n == 0 && required:
			errs = append(errs, ports.Field(prefix+field, field+" is required."))
		case n > max:
			errs = append(errs, ports.Field(prefix+field, field+" has at most "+itoa(max)+" characters."))
		case strings.IndexFunc(v, unicode.IsControl) >= 0:
			errs = append(errs, ports.Field(prefix+field, field+" cannot contain control characters."))
		}
	}
	text("name", a.Name, true, AddressNameMax)
	text("line1", a.Line1, true, AddressLineMax)
	text("line2", a.Line2, false, AddressLineMax)
	text("line3", a.Line3, false, AddressLineMax)
	text("city", a.City, true, AddressCityMax)
	text("county", a.County, false, AddressCountyMax)
	switch {
	case a.CountryCode == "":
		errs = append(errs, ports.Field(prefix+"countryCode", "countryCode is required (GB)."))
	case a.CountryCode != "GB":
		errs = append(errs, ports.Field(prefix+"countryCode", "We ship within the United Kingdom only: countryCode must be GB."))
	}
	switch {
	case a.Postcode == "":
		errs = append(errs, ports.Field(prefix+"postcode", "postcode is required."))
	case len(a.Postcode) > AddressPostcodeMax || !ukPostcode.MatchString(a.Postcode):
		errs = append(errs, ports.Field(prefix+"postcode", "This is not a valid UK postcode (for example SW1A 1AA)."))
	}
	if a.Phone != "" {
		ok := utf8.RuneCountInString(a.Phone) <= AddressPhoneMax
		digits := 0
		for _, r := range a.Phone {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case r == '+' || r == ' ' || r == '-' || r == '(' || r == ')':
			default:
				ok = false
			}
		}
		if !ok || digits < 7 {
			errs = append(errs, ports.Field(prefix+"phone", "phone is a telephone number of at most 25 characters, like +44 20 7946 0000."))
		}
	}
	return errs
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
