package catalog

import (
	"math"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// catValidInput is a product form that parses without error; cases change one thing.
func catValidInput() ProductInput {
	return ProductInput{Name: "Earl Grey", Price: "4.50", WeightUnit: "grams", Weight: "250", TrackStock: true}
}

func catPtr[T any](v T) *T { return &v }

func TestProductInputParsePrice(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  string // part of the message on "price"; "" when valid
	}{
		{"0.1", 10, ""},
		{"1,000.00", 100000, ""},
		{"99999999.99", 9999999999, ""},
		{"12.34", 1234, ""},
		{" 7.5 ", 750, ""},
		{"£3", 300, ""},
		{"0", 0, ""},
		{"-1", 0, "cannot be negative"},
		{"1.234", 0, "at most 2 decimal places"},
		{"", 0, "Enter an amount"},
		{"   ", 0, "Enter an amount"},
		{"abc", 0, "using digits"},
		{"12.3a", 0, "using digits"},
		{"100000000.00", 0, "at most 99999999.99"},
		{"1,00", 0, "like 1,234.56"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			in := catValidInput()
			in.Price = tc.in
			f, err := in.Parse(true)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if f.PriceMinor != tc.want {
					t.Fatalf("price %q parsed to %d, want %d", tc.in, f.PriceMinor, tc.want)
				}
				return
			}
			catWantFields(t, err, map[string]string{"price": tc.err})
		})
	}
}

func TestProductInputParseWeight(t *testing.T) {
	cases := []struct {
		name               string
		unit, weight, ship string
		status             string
		wantMilli          *int64
		wantShip           *int
		wantErr            map[string]string
	}{
		{name: "unit without weight", unit: "unit", ship: "120", wantShip: catPtr(120)},
		{name: "unit with a weight", unit: "unit", weight: "2", ship: "120", wantMilli: catPtr[int64](2000), wantShip: catPtr(120)},
		{name: "grams without weight", unit: "grams", ship: "100", wantErr: map[string]string{"weight": "Enter the weight in grams"}},
		{name: "litres without weight", unit: "litres", ship: "100", wantErr: map[string]string{"weight": "in litres"}},
		{name: "weight zero", unit: "grams", weight: "0", ship: "100", wantErr: map[string]string{"weight": "more than zero"}},
		{name: "weight zero with decimals", unit: "grams", weight: "0.000", ship: "100", wantErr: map[string]string{"weight": "more than zero"}},
		{name: "half a gram", unit: "grams", weight: "0.5", wantMilli: catPtr[int64](500), wantShip: catPtr(1)},
		{name: "four decimals", unit: "grams", weight: "1.2345", ship: "100", wantErr: map[string]string{"weight": "at most 3 decimal places"}},
		{name: "negative", unit: "grams", weight: "-1", ship: "100", wantErr: map[string]string{"weight": "like 250"}},
		{name: "letters", unit: "grams", weight: "abc", ship: "100", wantErr: map[string]string{"weight": "like 250"}},
		{name: "decimal comma", unit: "grams", weight: "0,5", ship: "100", wantErr: map[string]string{"weight": "like 250"}},
		{name: "too large", unit: "grams", weight: "1000000000", ship: "100", wantErr: map[string]string{"weight": "too large"}},
		{name: "unknown unit", unit: "kilograms", weight: "1", ship: "100", wantErr: map[string]string{"weight_unit": "Choose a unit"}},
		{name: "empty unit", unit: "", ship: "100", wantErr: map[string]string{"weight_unit": "Choose a unit"}},
		// Shipping weight prefilled from mass units, rounded up to whole grams.
		{name: "250 grams", unit: "grams", weight: "250", wantMilli: catPtr[int64](250000), wantShip: catPtr(250)},
		{name: "1 pound", unit: "pounds", weight: "1", wantMilli: catPtr[int64](1000), wantShip: catPtr(454)},
		{name: "8 ounces", unit: "ounces", weight: "8", wantMilli: catPtr[int64](8000), wantShip: catPtr(227)},
		{name: "500000 micrograms", unit: "micrograms", weight: "500000", wantMilli: catPtr[int64](500000000), wantShip: catPtr(1)},
		{name: "1 microgram", unit: "micrograms", weight: "1", wantMilli: catPtr[int64](1000), wantShip: catPtr(1)},
		{name: "30 kg is the limit", unit: "grams", weight: "30000", wantMilli: catPtr[int64](30000000), wantShip: catPtr(30000)},
		{name: "explicit shipping weight wins", unit: "grams", weight: "250", ship: "300", wantMilli: catPtr[int64](250000), wantShip: catPtr(300)},
		// No prefill for volumes, for "unit", or above Royal Mail's limit: an active
		// product then needs it typed in; an inactive one may wait.
		{name: "millilitres do not prefill", unit: "millilitres", weight: "500", wantErr: map[string]string{"shipping_weight": "Royal Mail"}},
		{name: "millilitres inactive", unit: "millilitres", weight: "500", status: "inactive", wantMilli: catPtr[int64](500000)},
		{name: "millilitres with shipping weight", unit: "millilitres", weight: "500", ship: "550", wantMilli: catPtr[int64](500000), wantShip: catPtr(550)},
		{name: "unit active without shipping weight", unit: "unit", wantErr: map[string]string{"shipping_weight": "Royal Mail"}},
		{name: "unit inactive without shipping weight", unit: "unit", status: "inactive"},
		{name: "unit archived without shipping weight", unit: "unit", status: "archived"},
		{name: "too heavy to prefill", unit: "grams", weight: "30001", wantErr: map[string]string{"shipping_weight": "Royal Mail"}},
		{name: "too heavy inactive", unit: "pounds", weight: "100", status: "inactive", wantMilli: catPtr[int64](100000)},
		// Typed shipping weights.
		{name: "shipping zero", unit: "unit", ship: "0", wantErr: map[string]string{"shipping_weight": "between 1 and 30000"}},
		{name: "shipping above 30000", unit: "unit", ship: "30001", wantErr: map[string]string{"shipping_weight": "between 1 and 30000"}},
		{name: "shipping negative", unit: "unit", ship: "-5", wantErr: map[string]string{"shipping_weight": "between 1 and 30000"}},
		{name: "shipping decimal", unit: "unit", ship: "250.5", wantErr: map[string]string{"shipping_weight": "whole grams"}},
		{name: "shipping letters", unit: "unit", ship: "heavy", wantErr: map[string]string{"shipping_weight": "whole grams"}},
		// A weight error is reported alone: the missing shipping weight follows from it.
		{name: "bad weight hides the shipping message", unit: "grams", weight: "abc", wantErr: map[string]string{"weight": "like 250"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := catValidInput()
			in.WeightUnit, in.Weight, in.ShippingWeight, in.Status = tc.unit, tc.weight, tc.ship, tc.status
			f, err := in.Parse(true)
			if tc.wantErr != nil {
				catWantFields(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.WeightUnit != WeightUnit(tc.unit) {
				t.Fatalf("unit %q, want %q", f.WeightUnit, tc.unit)
			}
			if (f.WeightMilli == nil) != (tc.wantMilli == nil) || f.WeightMilli != nil && *f.WeightMilli != *tc.wantMilli {
				t.Fatalf("weight %v, want %v", catDeref(f.WeightMilli), catDeref(tc.wantMilli))
			}
			if (f.ShippingWeightGrams == nil) != (tc.wantShip == nil) || f.ShippingWeightGrams != nil && *f.ShippingWeightGrams != *tc.wantShip {
				t.Fatalf("shipping weight %v, want %v", catDeref(f.ShippingWeightGrams), catDeref(tc.wantShip))
			}
		})
	}
}

func catDeref[T any](p *T) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func TestProductInputParseSKU(t *testing.T) {
	sku64 := strings.Repeat("A", 64)
	cases := []struct {
		name, in string
		want     *string
		err      string
	}{
		{"empty means none", "", nil, ""},
		{"blank means none", "   ", nil, ""},
		{"trimmed", "  TEA-001 ", catPtr("TEA-001"), ""},
		{"case kept", "tea-001/b", catPtr("tea-001/b"), ""},
		{"printable punctuation", "A!#$%&'()*+,-./:;<=>?@[]^_`{|}~", catPtr("A!#$%&'()*+,-./:;<=>?@[]^_`{|}~"), ""},
		{"64 characters", sku64, catPtr(sku64), ""},
		{"65 characters", sku64 + "A", nil, "at most 64"},
		{"inner space", "TEA 001", nil, "without spaces"},
		{"tab", "TEA\t001", nil, "without spaces"},
		{"non-ASCII", "THÉ-001", nil, "printable ASCII"},
		{"emoji", "TEA🍵", nil, "printable ASCII"},
		{"NUL", "TEA\x00", nil, "printable ASCII"},
		{"DEL", "TEA\x7f", nil, "printable ASCII"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := catValidInput()
			in.SKU = tc.in
			f, err := in.Parse(true)
			if tc.err != "" {
				catWantFields(t, err, map[string]string{"sku": tc.err})
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if (f.SKU == nil) != (tc.want == nil) || f.SKU != nil && *f.SKU != *tc.want {
				t.Fatalf("SKU %v, want %v", catDeref(f.SKU), catDeref(tc.want))
			}
		})
	}
}

func TestProductInputParseName(t *testing.T) {
	cases := []struct {
		name, in, want, err string
	}{
		{"200 letters", strings.Repeat("a", 200), strings.Repeat("a", 200), ""},
		{"201 letters", strings.Repeat("a", 201), "", "at most 200"},
		{"200 emoji count as 200", strings.Repeat("😀", 200), strings.Repeat("😀", 200), ""},
		{"201 emoji", strings.Repeat("😀", 201), "", "at most 200"},
		{"200 accented letters", strings.Repeat("é", 200), strings.Repeat("é", 200), ""},
		{"trimmed before counting", "  " + strings.Repeat("b", 200) + "\t ", strings.Repeat("b", 200), ""},
		{"unicode kept", "  Crème brûlée 🍮 שלום  ", "Crème brûlée 🍮 שלום", ""},
		{"empty", "", "", "Enter a name"},
		{"blank", " \t ", "", "Enter a name"},
		{"control character", "Tea\x07", "", "control characters"},
		{"newline", "Tea\nCake", "", "control characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := catValidInput()
			in.Name = tc.in
			f, err := in.Parse(true)
			if tc.err != "" {
				catWantFields(t, err, map[string]string{"name": tc.err})
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.Name != tc.want {
				t.Fatalf("name %q, want %q", f.Name, tc.want)
			}
		})
	}
}

// The description keeps every character exactly: emoji (with modifiers and joiners),
// right-to-left text with its marks, combining marks (not normalised), 4-byte
// characters and markup; only CRLF becomes LF and the outer space is trimmed.
func TestProductInputParseDescription(t *testing.T) {
	body := "Family: 👨‍👩‍👧‍👦 thumbs 👍🏽 flag 🇬🇧 keycap 1️⃣\n" +
		"עברית: שלום עולם\u200F and العربية: مرحبا\u200E\n" +
		"combining: e\u0301 a\u0308\u0301 n\u0303 (not NFC)\n" +
		"4-byte: 𝄞 𠜎 𝕏 🀄\n" +
		"  indented\t\ttabs  \n\n\n" +
		"<script>alert('x')</script> &amp; \"quotes\"\n" +
		"zero-width: a\u200Bb\u200Dc BOM\uFEFFend"
	cases := []struct {
		name, in, want, err string
	}{
		{"unicode unchanged", body, body, ""},
		{"outer space trimmed", " \n\t" + body + " \n \t", body, ""},
		{"CRLF becomes LF", strings.ReplaceAll(body, "\n", "\r\n"), body, ""},
		{"empty", "", "", ""},
		{"only space", " \r\n\t ", "", ""},
		{"20000 characters", strings.Repeat("😀", 20000), strings.Repeat("😀", 20000), ""},
		{"20001 characters", strings.Repeat("😀", 20001), "", "at most 20000"},
		{"invalid UTF-8", "ab\xffcd", "", "not valid text"},
		{"NUL byte", "ab\x00cd", "", "not valid text"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := catValidInput()
			in.Description = tc.in
			f, err := in.Parse(true)
			if tc.err != "" {
				catWantFields(t, err, map[string]string{"description": tc.err})
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.Description != tc.want {
				t.Fatalf("description changed:\n got %q\nwant %q", f.Description, tc.want)
			}
		})
	}
}

func TestProductInputParseOtherFields(t *testing.T) {
	catID := uuid.New()
	cases := []struct {
		name   string
		mutate func(*ProductInput)
		create bool
		check  func(t *testing.T, f ProductFields)
		err    map[string]string
	}{
		{name: "status defaults to active", mutate: func(in *ProductInput) { in.Status = "" },
			check: func(t *testing.T, f ProductFields) { catWantEq(t, "status", f.Status, StatusActive) }},
		{name: "status blank defaults to active", mutate: func(in *ProductInput) { in.Status = "  " },
			check: func(t *testing.T, f ProductFields) { catWantEq(t, "status", f.Status, StatusActive) }},
		{name: "status inactive", mutate: func(in *ProductInput) { in.Status = "inactive" },
			check: func(t *testing.T, f ProductFields) { catWantEq(t, "status", f.Status, StatusInactive) }},
		{name: "status archived", mutate: func(in *ProductInput) { in.Status = " archived " },
			check: func(t *testing.T, f ProductFields) { catWantEq(t, "status", f.Status, StatusArchived) }},
		{name: "status unknown", mutate: func(in *ProductInput) { in.Status = "Active" }, err: map[string]string{"status": "Choose"}},
		{name: "no category", check: func(t *testing.T, f ProductFields) {
			if f.CategoryID != nil {
				t.Fatalf("category %v, want none", *f.CategoryID)
			}
		}},
		{name: "category", mutate: func(in *ProductInput) { in.CategoryID = " " + catID.String() + " " },
			check: func(t *testing.T, f ProductFields) {
				if f.CategoryID == nil || *f.CategoryID != catID {
					t.Fatalf("category %v, want %v", catDeref(f.CategoryID), catID)
				}
			}},
		{name: "category not a UUID", mutate: func(in *ProductInput) { in.CategoryID = "cakes" }, err: map[string]string{"category_id": "Choose a category"}},
		{name: "initial stock", create: true, mutate: func(in *ProductInput) { in.InitialStock = " 12 " },
			check: func(t *testing.T, f ProductFields) { catWantEq(t, "initial stock", f.InitialStock, 12) }},
		{name: "initial stock max", create: true, mutate: func(in *ProductInput) { in.InitialStock = "1000000" },
			check: func(t *testing.T, f ProductFields) { catWantEq(t, "initial stock", f.InitialStock, 1000000) }},
		{name: "initial stock negative", create: true, mutate: func(in *ProductInput) { in.InitialStock = "-1" }, err: map[string]string{"initial_stock": "0 to 1000000"}},
		{name: "initial stock too large", create: true, mutate: func(in *ProductInput) { in.InitialStock = "1000001" }, err: map[string]string{"initial_stock": "0 to 1000000"}},
		{name: "initial stock letters", create: true, mutate: func(in *ProductInput) { in.InitialStock = "ten" }, err: map[string]string{"initial_stock": "whole number"}},
		{name: "initial stock ignored when editing", create: false, mutate: func(in *ProductInput) { in.InitialStock = "ten" },
			check: func(t *testing.T, f ProductFields) { catWantEq(t, "initial stock", f.InitialStock, 0) }},
		{name: "low stock threshold", mutate: func(in *ProductInput) { in.LowStockThreshold = "5" },
			check: func(t *testing.T, f ProductFields) { catWantEq(t, "threshold", f.LowStockThreshold, 5) }},
		{name: "low stock threshold negative", mutate: func(in *ProductInput) { in.LowStockThreshold = "-1" }, err: map[string]string{"low_stock_threshold": "0 to 100000"}},
		{name: "low stock threshold too large", mutate: func(in *ProductInput) { in.LowStockThreshold = "100001" }, err: map[string]string{"low_stock_threshold": "0 to 100000"}},
		{name: "track stock off", mutate: func(in *ProductInput) { in.TrackStock = false },
			check: func(t *testing.T, f ProductFields) { catWantEq(t, "track stock", f.TrackStock, false) }},
		{name: "every problem reported", create: true, mutate: func(in *ProductInput) {
			*in = ProductInput{Name: "", Description: "\xff", CategoryID: "x", SKU: "a b", Status: "sold", Price: "-1",
				WeightUnit: "stone", Weight: "heavy", ShippingWeight: "0", InitialStock: "-1", LowStockThreshold: "x"}
		}, err: map[string]string{"name": "", "description": "", "category_id": "", "sku": "", "status": "", "price": "",
			"weight_unit": "", "weight": "", "shipping_weight": "", "initial_stock": "", "low_stock_threshold": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := catValidInput()
			if tc.mutate != nil {
				tc.mutate(&in)
			}
			f, err := in.Parse(tc.create)
			if tc.err != nil {
				catWantFields(t, err, tc.err)
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc.check(t, f)
		})
	}
}

func catWantEq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func TestProductFieldsApply(t *testing.T) {
	catID := uuid.New()
	in := ProductInput{Name: " Mug ", Description: "A mug ☕", CategoryID: catID.String(), SKU: "MUG-1", Status: "inactive",
		Price: "8.00", WeightUnit: "grams", Weight: "350.5", LowStockThreshold: "2", TrackStock: true, InitialStock: "9"}
	f, err := in.Parse(true)
	if err != nil {
		t.Fatal(err)
	}
	p := Product{ID: uuid.New(), StockOnHand: 4, Reserved: 1, TimesOrdered: 3}
	f.Apply(&p)
	if p.Name != "Mug" || p.Description != "A mug ☕" || p.CategoryID == nil || *p.CategoryID != catID ||
		p.SKU == nil || *p.SKU != "MUG-1" || p.Status != StatusInactive || p.PriceMinor != 800 || p.WeightUnit != UnitGrams ||
		p.WeightMilli == nil || *p.WeightMilli != 350500 || p.ShippingWeightGrams == nil || *p.ShippingWeightGrams != 351 ||
		!p.TrackStock || p.LowStockThreshold != 2 {
		t.Fatalf("Apply gave %+v", p)
	}
	// Stock and order counts are not the form's to change.
	if p.StockOnHand != 4 || p.Reserved != 1 || p.TimesOrdered != 3 {
		t.Fatalf("Apply changed stock or order counts: %+v", p)
	}
	if p.Weight() != "350.5" || p.PriceMinor != 800 {
		t.Fatalf("Weight %q PriceMinor %d", p.Weight(), p.PriceMinor)
	}
}

func TestParseMilli(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  string
	}{
		{"0.5", 500, ""},
		{"250", 250000, ""},
		{".5", 500, ""},
		{" 1.25 ", 1250, ""},
		{"0.001", 1, ""},
		{"0", 0, ""},
		{"007", 7000, ""},
		{"999999999.999", 999999999999, ""},
		{"1.2345", 0, "at most 3 decimal places"},
		{"1000000000", 0, "too large"},
		{"", 0, "like 250"},
		{"1.", 0, "like 250"},
		{".", 0, "like 250"},
		{"-1", 0, "like 250"},
		{"+1", 0, "like 250"},
		{"abc", 0, "like 250"},
		{"1e3", 0, "like 250"},
		{"1,5", 0, "like 250"},
		{"1.2.3", 0, "like 250"},
		{"١", 0, "like 250"},
	}
	for _, tc := range cases {
		got, err := ParseMilli(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseMilli(%q) = %d, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseMilli(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestFormatMilli(t *testing.T) {
	cases := []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{1, "0.001"},
		{10, "0.01"},
		{500, "0.5"},
		{1000, "1"},
		{1250, "1.25"},
		{1005, "1.005"},
		{250000, "250"},
		{999999999999, "999999999.999"},
	}
	for _, tc := range cases {
		if got := FormatMilli(tc.in); got != tc.want {
			t.Errorf("FormatMilli(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMilliRoundTrip(t *testing.T) {
	values := []int64{WeightMaxMilli, 123456789012, 1000000, 999999, 100001}
	for v := int64(0); v <= 5000; v++ {
		values = append(values, v)
	}
	for _, v := range values {
		s := FormatMilli(v)
		back, err := ParseMilli(s)
		if err != nil || back != v {
			t.Fatalf("ParseMilli(FormatMilli(%d) = %q) = %d, %v", v, s, back, err)
		}
	}
	for _, s := range []string{"0.5", "1.25", "1.005", "250", "0.001", "999999999.999"} {
		v, err := ParseMilli(s)
		if err != nil || FormatMilli(v) != s {
			t.Fatalf("FormatMilli(ParseMilli(%q) = %d, %v) = %q", s, v, err, FormatMilli(v))
		}
	}
}

func TestGramsOf(t *testing.T) {
	cases := []struct {
		milli int64
		unit  WeightUnit
		want  int
	}{
		{250000, UnitGrams, 250},
		{1000, UnitPounds, 454},
		{8000, UnitOunces, 227},
		{500000000, UnitMicrograms, 1},
		{1000, UnitMicrograms, 1},
		{1000000000, UnitMicrograms, 1},
		{1000000001, UnitMicrograms, 2},
		{1500000000, UnitMicrograms, 2},
		{30000000000000, UnitMicrograms, 30000},
		{1, UnitGrams, 1},
		{500, UnitGrams, 1},
		{1000, UnitGrams, 1},
		{1001, UnitGrams, 2},
		{30000000, UnitGrams, 30000},
		{1000, UnitOunces, 29},
		{16000, UnitOunces, 454},
		{500, UnitPounds, 227},
		{100000, UnitPounds, 45360},
		{WeightMaxMilli, UnitPounds, math.MaxInt32},
	}
	for _, tc := range cases {
		if got := GramsOf(tc.milli, tc.unit); got != tc.want {
			t.Errorf("GramsOf(%d, %s) = %d, want %d", tc.milli, tc.unit, got, tc.want)
		}
	}
	// Whole grams given in any mass unit come back exact, never one gram heavier from
	// floating-point error.
	for g := int64(1); g <= 30000; g++ {
		if got := GramsOf(g*1000, UnitGrams); got != int(g) {
			t.Fatalf("GramsOf(%d grams) = %d", g, got)
		}
		if got := GramsOf(g*1000000000, UnitMicrograms); got != int(g) {
			t.Fatalf("GramsOf(%d000000 micrograms) = %d", g, got)
		}
	}
}

func TestWeightUnitsAndStatuses(t *testing.T) {
	mass := map[WeightUnit]bool{UnitMicrograms: true, UnitGrams: true, UnitOunces: true, UnitPounds: true}
	for _, u := range WeightUnits {
		if !u.Valid() {
			t.Errorf("%s not valid", u)
		}
		if u.IsMass() != mass[u] {
			t.Errorf("%s.IsMass() = %v", u, u.IsMass())
		}
	}
	for _, u := range []WeightUnit{"", "kg", "Grams", "gram"} {
		if u.Valid() || u.IsMass() {
			t.Errorf("%q accepted", u)
		}
	}
	for _, s := range ProductStatuses {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
	}
	for _, s := range []ProductStatus{"", "deleted", "ACTIVE"} {
		if s.Valid() {
			t.Errorf("status %q accepted", s)
		}
	}
}

func TestCheckAdjustment(t *testing.T) {
	tracked := func() *Product { return &Product{TrackStock: true, StockOnHand: 10, Reserved: 3} }
	cases := []struct {
		name   string
		p      *Product
		delta  int
		reason StockReason
		note   string
		err    map[string]string
	}{
		{name: "received", p: tracked(), delta: 5, reason: ReasonReceived},
		{name: "damaged down to reserved", p: tracked(), delta: -7, reason: ReasonDamaged},
		{name: "lost", p: tracked(), delta: -1, reason: ReasonLost, note: "dropped 📦"},
		{name: "returned", p: tracked(), delta: 1, reason: ReasonReturned},
		{name: "correction", p: tracked(), delta: -2, reason: ReasonCorrection},
		{name: "up to the maximum", p: tracked(), delta: StockMax - 10, reason: ReasonReceived},
		{name: "from zero", p: &Product{TrackStock: true}, delta: 1, reason: ReasonReceived},
		{name: "initial is not for staff", p: tracked(), delta: 1, reason: ReasonInitial, err: map[string]string{"reason": "Choose a reason"}},
		{name: "sold is not for staff", p: tracked(), delta: -1, reason: ReasonSold, err: map[string]string{"reason": "Choose a reason"}},
		{name: "empty reason", p: tracked(), delta: 1, reason: "", err: map[string]string{"reason": "Choose a reason"}},
		{name: "unknown reason", p: tracked(), delta: 1, reason: "stolen", err: map[string]string{"reason": "Choose a reason"}},
		{name: "zero delta", p: tracked(), delta: 0, reason: ReasonCorrection, err: map[string]string{"delta": "other than zero"}},
		{name: "below zero", p: tracked(), delta: -11, reason: ReasonDamaged, err: map[string]string{"delta": "below zero (it is 10)"}},
		{name: "below reserved", p: tracked(), delta: -8, reason: ReasonDamaged, err: map[string]string{"delta": "reserved 3"}},
		{name: "untracked stock", p: &Product{StockOnHand: 10}, delta: 1, reason: ReasonReceived, err: map[string]string{"delta": "not tracked"}},
		{name: "above the maximum", p: tracked(), delta: StockMax - 9, reason: ReasonReceived, err: map[string]string{"delta": "at most 1000000"}},
		{name: "delta too large", p: tracked(), delta: StockAdjustmentMax + 1, reason: ReasonReceived, err: map[string]string{"delta": "other than zero"}},
		{name: "delta too small", p: tracked(), delta: -StockAdjustmentMax - 1, reason: ReasonReceived, err: map[string]string{"delta": "other than zero"}},
		{name: "note of 200 characters", p: tracked(), delta: 1, reason: ReasonReceived, note: strings.Repeat("é", 200)},
		{name: "long note", p: tracked(), delta: 1, reason: ReasonReceived, note: strings.Repeat("é", 201), err: map[string]string{"note": "at most 200"}},
		{name: "note on two lines", p: tracked(), delta: 1, reason: ReasonReceived, note: "a\nb", err: map[string]string{"note": "one line"}},
		{name: "everything wrong", p: tracked(), delta: 0, reason: "x", note: strings.Repeat("n", 201),
			err: map[string]string{"reason": "", "delta": "", "note": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckAdjustment(tc.p, tc.delta, tc.reason, tc.note)
			if tc.err == nil {
				if err != nil {
					t.Fatalf("CheckAdjustment: %v", err)
				}
				return
			}
			catWantFields(t, err, tc.err)
		})
	}
	for _, r := range AdjustmentReasons {
		if err := CheckAdjustment(tracked(), 1, r, ""); err != nil {
			t.Errorf("reason %s refused: %v", r, err)
		}
	}
}

func TestProductAvailableAndLowStock(t *testing.T) {
	cases := []struct {
		name      string
		p         Product
		available *int
		low       bool
	}{
		{"untracked", Product{StockOnHand: 5, LowStockThreshold: 10}, nil, false},
		{"untracked with nothing", Product{}, nil, false},
		{"plenty", Product{TrackStock: true, StockOnHand: 10, Reserved: 3, LowStockThreshold: 2}, catPtr(7), false},
		{"at threshold", Product{TrackStock: true, StockOnHand: 5, LowStockThreshold: 5}, catPtr(5), true},
		{"one above threshold", Product{TrackStock: true, StockOnHand: 6, LowStockThreshold: 5}, catPtr(6), false},
		{"reservations reach threshold", Product{TrackStock: true, StockOnHand: 6, Reserved: 1, LowStockThreshold: 5}, catPtr(5), true},
		{"none left, threshold zero", Product{TrackStock: true}, catPtr(0), true},
		{"all reserved", Product{TrackStock: true, StockOnHand: 4, Reserved: 4}, catPtr(0), true},
		{"never negative", Product{TrackStock: true, StockOnHand: 2, Reserved: 5}, catPtr(0), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.Available()
			if (got == nil) != (tc.available == nil) || got != nil && *got != *tc.available {
				t.Fatalf("Available() = %v, want %v", catDeref(got), catDeref(tc.available))
			}
			if l := tc.p.LowStock(); l != tc.low {
				t.Fatalf("LowStock() = %v, want %v", l, tc.low)
			}
		})
	}
}

func TestProductPrimaryPhoto(t *testing.T) {
	a, b, c := Photo{ID: uuid.New()}, Photo{ID: uuid.New()}, Photo{ID: uuid.New()}
	primary := func(p Photo) Photo { p.Primary = true; return p }
	cases := []struct {
		name   string
		photos []Photo
		want   *uuid.UUID
	}{
		{"no photos", nil, nil},
		{"empty", []Photo{}, nil},
		{"primary first", []Photo{primary(a), b, c}, &a.ID},
		{"primary in the middle", []Photo{a, primary(b), c}, &b.ID},
		{"primary last", []Photo{a, b, primary(c)}, &c.ID},
		{"no primary: the first", []Photo{b, c, a}, &b.ID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Product{Photos: tc.photos}
			got := p.PrimaryPhoto()
			if (got == nil) != (tc.want == nil) || got != nil && got.ID != *tc.want {
				t.Fatalf("PrimaryPhoto() = %v, want %v", got, catDeref(tc.want))
			}
			if got != nil && got != &p.Photos[catIndexOf(p.Photos, got.ID)] {
				t.Fatal("PrimaryPhoto does not point into the product's photos")
			}
		})
	}
}

func catIndexOf(ps []Photo, id uuid.UUID) int {
	for i := range ps {
		if ps[i].ID == id {
			return i
		}
	}
	return -1
}
