package ordering

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// PackageFormat is Royal Mail's size class of a parcel.
type PackageFormat string

// The package formats of Click & Drop.
const (
	FormatLetter       PackageFormat = "letter"
	FormatLargeLetter  PackageFormat = "largeLetter"
	FormatSmallParcel  PackageFormat = "smallParcel"
	FormatMediumParcel PackageFormat = "mediumParcel"
	FormatParcel       PackageFormat = "parcel"
)

// PackageFormats lists the formats, smallest first.
var PackageFormats = []PackageFormat{FormatLetter, FormatLargeLetter, FormatSmallParcel, FormatMediumParcel, FormatParcel}

// Valid reports whether f is a package format.
func (f PackageFormat) Valid() bool {
	for _, x := range PackageFormats {
		if f == x {
			return true
		}
	}
	return false
}

// ShippingMethod is a way the shop ships, with its Royal Mail service and price.
type ShippingMethod struct {
	ID             uuid.UUID     `db:"id"`
	Name           string        `db:"name"`
	ServiceCode    string        `db:"service_code"`
	PackageFormat  PackageFormat `db:"package_format"`
	PriceMinor     int64         `db:"price_minor"`
	MaxWeightGrams int           `db:"max_weight_grams"`
	Express        bool          `db:"express"`
	Active         bool          `db:"active"`
	Position       int           `db:"position"`
	CreatedAt      time.Time     `db:"created_at"`
	UpdatedAt      time.Time     `db:"updated_at"`
}

// ShippingMethodInput is the staff's form for a shipping method, as typed.
type ShippingMethodInput struct {
	Name, ServiceCode, PackageFormat, Price, MaxWeight, Position string
	Express, Active                                              bool
}

// Parse checks and converts the form onto m.
func (in ShippingMethodInput) Parse(m *ShippingMethod) error {
	var errs []ports.FieldError
	m.Name = strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(m.Name); n == 0 || n > 100 {
		errs = append(errs, ports.Field("name", "Enter a name of at most 100 characters."))
	}
	m.ServiceCode = strings.ToUpper(strings.TrimSpace(in.ServiceCode))
	if n := len(m.ServiceCode); n == 0 || n > 20 || strings.ContainsFunc(m.ServiceCode, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) {
		errs = append(errs, ports.Field("service_code", "Enter Royal Mail's service code, like CRL1 or TPN24."))
	}
	m.PackageFormat = PackageFormat(strings.TrimSpace(in.PackageFormat))
	if !m.PackageFormat.Valid() {
		errs = append(errs, ports.Field("package_format", "Choose a package format from the list."))
	}
	price, err := ports.ParseMinor(in.Price, "GBP", 100000)
	if err != nil {
		errs = append(errs, ports.Field("price", err.Error()))
	}
	m.PriceMinor = price
	w, err := strconv.Atoi(strings.TrimSpace(in.MaxWeight))
	if err != nil || w <= 0 || w > 30000 {
		errs = append(errs, ports.Field("max_weight", "Enter the heaviest parcel this method takes, in grams (1 to 30000)."))
	}
	m.MaxWeightGrams = w
	if s := strings.TrimSpace(in.Position); s != "" {
		p, err := strconv.Atoi(s)
		if err != nil || p < -100000 || p > 100000 {
			errs = append(errs, ports.Field("position", "Enter a whole number, like 10."))
		}
		m.Position = p
	}
	m.Express, m.Active = in.Express, in.Active
	return ports.Invalid(errs...)
}
