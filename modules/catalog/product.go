package catalog

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// WeightUnit is the unit a product's weight (or volume) is given in; "unit" means the
// product is sold by the piece and needs no weight.
type WeightUnit string

// The weight units of the shop.
const (
	UnitPiece       WeightUnit = "unit"
	UnitMicrograms  WeightUnit = "micrograms"
	UnitGrams       WeightUnit = "grams"
	UnitOunces      WeightUnit = "ounces"
	UnitPounds      WeightUnit = "pounds"
	UnitMillilitres WeightUnit = "millilitres"
	UnitLitres      WeightUnit = "litres"
)

// WeightUnits lists the units in the order the editor offers them.
var WeightUnits = []WeightUnit{UnitPiece, UnitMicrograms, UnitGrams, UnitOunces, UnitPounds, UnitMillilitres, UnitLitres}

// Valid reports whether u is one of WeightUnits.
func (u WeightUnit) Valid() bool {
	for _, x := range WeightUnits {
		if u == x {
			return true
		}
	}
	return false
}

// gramsPer is how many grams one unit of a mass unit weighs.
var gramsPer = map[WeightUnit]float64{
	UnitMicrograms: 1e-6, UnitGrams: 1, UnitOunces: 28.349523125, UnitPounds: 453.59237,
}

// IsMass reports whether u measures mass (and so converts to grams).
func (u WeightUnit) IsMass() bool { _, ok := gramsPer[u]; return ok }

// ProductStatus says whether a product is on sale.
type ProductStatus string

// The statuses: only active products are visible to client apps. A product that
// orders refer to is archived instead of deleted.
const (
	StatusActive   ProductStatus = "active"
	StatusInactive ProductStatus = "inactive"
	StatusArchived ProductStatus = "archived"
)

// ProductStatuses lists the statuses.
var ProductStatuses = []ProductStatus{StatusActive, StatusInactive, StatusArchived}

// Valid reports whether s is a status.
func (s ProductStatus) Valid() bool {
	return s == StatusActive || s == StatusInactive || s == StatusArchived
}

// Product is something the shop sells.
type Product struct {
	ID          uuid.UUID     `db:"id"`
	Name        string        `db:"name"`
	Description string        `db:"description"`
	CategoryID  *uuid.UUID    `db:"category_id"`
	SKU         *string       `db:"sku"`
	Status      ProductStatus `db:"status"`
	PriceMinor  int64         `db:"price_minor"`
	WeightUnit  WeightUnit    `db:"weight_unit"`
	// WeightMilli is the weight in thousandths of WeightUnit (exact), nil when not given.
	WeightMilli         *int64    `db:"weight_milli"`
	ShippingWeightGrams *int      `db:"shipping_weight_grams"`
	TrackStock          bool      `db:"track_stock"`
	StockOnHand         int       `db:"stock_on_hand"`
	Reserved            int       `db:"reserved"`
	LowStockThreshold   int       `db:"low_stock_threshold"`
	TimesOrdered        int       `db:"times_ordered"`
	CreatedAt           time.Time `db:"created_at"`
	UpdatedAt           time.Time `db:"updated_at"`

	Photos []Photo `db:"-"`
	// OnSale is filled by Reserve: the product is active in a visible category.
	OnSale bool `db:"on_sale"`
}

// Available is what can still be sold (stock on hand less reservations), or nil when
// stock is not tracked.
func (p Product) Available() *int {
	if !p.TrackStock {
		return nil
	}
	n := p.StockOnHand - p.Reserved
	if n < 0 {
		n = 0
	}
	return &n
}

// LowStock reports whether a tracked product is at or below its threshold.
func (p Product) LowStock() bool {
	return p.TrackStock && p.StockOnHand-p.Reserved <= p.LowStockThreshold
}

// Weight renders the weight as a decimal string ("250", "0.5"), "" when not given.
func (p Product) Weight() string {
	if p.WeightMilli == nil {
		return ""
	}
	return FormatMilli(*p.WeightMilli)
}

// PrimaryPhoto returns the primary photo, or nil.
func (p Product) PrimaryPhoto() *Photo {
	for i := range p.Photos {
		if p.Photos[i].Primary {
			return &p.Photos[i]
		}
	}
	if len(p.Photos) > 0 {
		return &p.Photos[0]
	}
	return nil
}

// Field limits of a product.
const (
	ProductNameMax        = 200
	DescriptionMax        = 20000
	SKUMax                = 64
	PriceMaxMinor         = 9999999999 // £99,999,999.99
	WeightMaxMilli        = 999999999999
	ShippingWeightMax     = 30000 // grams: Royal Mail's heaviest parcel
	StockMax              = 1000000
	LowStockThresholdMax  = 100000
	StockAdjustmentMax    = 1000000
	StockReasonNoteMaxLen = 200
)

// ProductInput is the product editor's form, as typed.
type ProductInput struct {
	Name              string
	Description       string
	CategoryID        string
	SKU               string
	Status            string
	Price             string
	WeightUnit        string
	Weight            string
	ShippingWeight    string
	TrackStock        bool
	InitialStock      string // only when creating
	LowStockThreshold string
}

// ProductFields is a parsed and valid ProductInput.
type ProductFields struct {
	Name                string
	Description         string
	CategoryID          *uuid.UUID
	SKU                 *string
	Status              ProductStatus
	PriceMinor          int64
	WeightUnit          WeightUnit
	WeightMilli         *int64
	ShippingWeightGrams *int
	TrackStock          bool
	InitialStock        int
	LowStockThreshold   int
}

// Parse checks every field of in and converts it, collecting every problem.
func (in ProductInput) Parse(creating bool) (ProductFields, error) {
	var f ProductFields
	var errs []ports.FieldError
	bad := func(field, msg string) { errs = append(errs, ports.Field(field, msg)) }

	f.Name = strings.TrimSpace(in.Name)
	switch n := utf8.RuneCountInString(f.Name); {
	case n == 0:
		bad("name", "Enter a name.")
	case n > ProductNameMax:
		bad("name", "A name has at most 200 characters.")
	case hasControl(f.Name):
		bad("name", "A name cannot contain control characters.")
	}
	// The description keeps every character as typed (emoji, right-to-left text,
	// combining marks); only line endings are unified and surrounding space trimmed.
	f.Description = strings.TrimSpace(strings.ReplaceAll(in.Description, "\r\n", "\n"))
	if utf8.RuneCountInString(f.Description) > DescriptionMax {
		bad("description", "A description has at most 20000 characters.")
	} else if !utf8.ValidString(f.Description) || strings.ContainsRune(f.Description, 0) { // PostgreSQL text cannot hold NUL
		bad("description", "The description is not valid text.")
	}
	if s := strings.TrimSpace(in.CategoryID); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			bad("category_id", "Choose a category from the list.")
		} else {
			f.CategoryID = &id
		}
	}
	if s := strings.TrimSpace(in.SKU); s != "" {
		switch {
		case len(s) > SKUMax:
			bad("sku", "A SKU has at most 64 characters.")
		case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }):
			bad("sku", "A SKU uses printable ASCII characters without spaces.")
		default:
			f.SKU = &s
		}
	}
	f.Status = ProductStatus(strings.TrimSpace(in.Status))
	if f.Status == "" {
		f.Status = StatusActive
	}
	if !f.Status.Valid() {
		bad("status", "Choose active, inactive or archived.")
	}
	price, err := ports.ParseMinor(in.Price, "GBP", PriceMaxMinor)
	if err != nil {
		bad("price", err.Error())
	}
	f.PriceMinor = price

	f.WeightUnit = WeightUnit(strings.TrimSpace(in.WeightUnit))
	if !f.WeightUnit.Valid() {
		bad("weight_unit", "Choose a unit from the list.")
	}
	if s := strings.TrimSpace(in.Weight); s != "" {
		w, err := ParseMilli(s)
		switch {
		case err != nil:
			bad("weight", err.Error())
		case w == 0:
			bad("weight", "A weight must be more than zero.")
		default:
			f.WeightMilli = &w
		}
	} else if f.WeightUnit.Valid() && f.WeightUnit != UnitPiece {
		bad("weight", "Enter the weight in "+string(f.WeightUnit)+" (it is optional only for the unit “unit”).")
	}
	if s := strings.TrimSpace(in.ShippingWeight); s != "" {
		g, err := strconv.Atoi(s)
		switch {
		case err != nil:
			bad("shipping_weight", "Enter the shipping weight as whole grams, like 250.")
		case g <= 0 || g > ShippingWeightMax:
			bad("shipping_weight", "Use a shipping weight between 1 and 30000 grams.")
		default:
			f.ShippingWeightGrams = &g
		}
	} else if f.WeightMilli != nil && f.WeightUnit.IsMass() {
		g := GramsOf(*f.WeightMilli, f.WeightUnit)
		if g <= ShippingWeightMax {
			f.ShippingWeightGrams = &g
		}
	}
	if f.Status == StatusActive && f.ShippingWeightGrams == nil && len(errs) == 0 {
		bad("shipping_weight", "Enter the shipping weight in grams: Royal Mail needs it before the product can be sold.")
	}
	f.TrackStock = in.TrackStock
	if creating {
		if s := strings.TrimSpace(in.InitialStock); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > StockMax {
				bad("initial_stock", "Enter a whole number of units from 0 to 1000000.")
			}
			f.InitialStock = n
		}
	}
	if s := strings.TrimSpace(in.LowStockThreshold); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > LowStockThresholdMax {
			bad("low_stock_threshold", "Enter a whole number from 0 to 100000.")
		}
		f.LowStockThreshold = n
	}
	return f, ports.Invalid(errs...)
}

// Apply copies the fields onto p.
func (f ProductFields) Apply(p *Product) {
	p.Name, p.Description, p.CategoryID, p.SKU, p.Status = f.Name, f.Description, f.CategoryID, f.SKU, f.Status
	p.PriceMinor, p.WeightUnit, p.WeightMilli, p.ShippingWeightGrams = f.PriceMinor, f.WeightUnit, f.WeightMilli, f.ShippingWeightGrams
	p.TrackStock, p.LowStockThreshold = f.TrackStock, f.LowStockThreshold
}

// ParseMilli parses a positive decimal with at most three decimal places into
// thousandths ("0.5" → 500).
func ParseMilli(s string) (int64, error) {
	s = strings.TrimSpace(s)
	whole, frac, hasDot := strings.Cut(s, ".")
	if s == "" || (hasDot && frac == "") || strings.HasPrefix(s, "-") {
		return 0, errWeight
	}
	if whole == "" {
		whole = "0"
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, errWeight
			}
		}
	}
	if len(frac) > 3 {
		return 0, ports.Message("Use at most 3 decimal places.")
	}
	if len(whole) > 9 {
		return 0, ports.Message("The weight is too large.")
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	frac += strings.Repeat("0", 3-len(frac))
	fr, _ := strconv.ParseInt(frac, 10, 64)
	return w*1000 + fr, nil
}

var errWeight = ports.Message("Enter a number like 250 or 0.5.")

// FormatMilli renders thousandths as a decimal without trailing zeros (500 → "0.5").
func FormatMilli(v int64) string {
	s := strconv.FormatInt(v/1000, 10)
	if fr := v % 1000; fr != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(1000+fr, 10)[1:], "0")
	}
	return s
}

// GramsOf converts a mass to whole grams, rounding up (a parcel is never lighter than
// its contents) and never below one gram.
func GramsOf(milli int64, u WeightUnit) int {
	g := math.Ceil(float64(milli) / 1000 * gramsPer[u])
	if g < 1 {
		g = 1
	}
	if g > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(g)
}

// StockReason says why stock changed.
type StockReason string

// The reasons for a stock movement.
const (
	ReasonInitial    StockReason = "initial"
	ReasonReceived   StockReason = "received"
	ReasonDamaged    StockReason = "damaged"
	ReasonLost       StockReason = "lost"
	ReasonReturned   StockReason = "returned"
	ReasonCorrection StockReason = "correction"
	ReasonSold       StockReason = "sold"
)

// AdjustmentReasons are the reasons staff may give.
var AdjustmentReasons = []StockReason{ReasonReceived, ReasonDamaged, ReasonLost, ReasonReturned, ReasonCorrection}

// StockMovement records a change of stock on hand.
type StockMovement struct {
	ID           int64       `db:"id"`
	ProductID    uuid.UUID   `db:"product_id"`
	Delta        int         `db:"delta"`
	BalanceAfter int         `db:"balance_after"`
	Reason       StockReason `db:"reason"`
	Note         string      `db:"note"`
	Actor        string      `db:"actor"`
	CreatedAt    time.Time   `db:"created_at"`
}

// CheckAdjustment validates a staff stock adjustment against the product: the reason
// must be one staff may give, and stock on hand can neither go negative nor below what
// open orders have reserved.
func CheckAdjustment(p *Product, delta int, reason StockReason, note string) error {
	var errs []ports.FieldError
	valid := false
	for _, r := range AdjustmentReasons {
		valid = valid || r == reason
	}
	if !valid {
		errs = append(errs, ports.Field("reason", "Choose a reason from the list."))
	}
	if delta == 0 || delta < -StockAdjustmentMax || delta > StockAdjustmentMax {
		errs = append(errs, ports.Field("delta", "Enter a change other than zero, like 10 or -2."))
	} else if !p.TrackStock {
		errs = append(errs, ports.Field("delta", "Stock is not tracked for this product."))
	} else if p.StockOnHand+delta < 0 {
		errs = append(errs, ports.Field("delta", "Stock on hand cannot go below zero (it is "+strconv.Itoa(p.StockOnHand)+")."))
	} else if p.StockOnHand+delta < p.Reserved {
		errs = append(errs, ports.Field("delta", "Open orders have reserved "+strconv.Itoa(p.Reserved)+"; stock on hand cannot go below that."))
	} else if p.StockOnHand+delta > StockMax {
		errs = append(errs, ports.Field("delta", "Stock on hand can be at most 1000000."))
	}
	if utf8.RuneCountInString(note) > StockReasonNoteMaxLen || hasControl(note) {
		errs = append(errs, ports.Field("note", "A note has at most 200 characters on one line."))
	}
	return ports.Invalid(errs...)
}
