package ordering

import (
	"strings"
	"testing"
	"time"

	"orderdesk/ports"
)

func TestStateMachine(t *testing.T) {
	allowed := map[[2]Status]bool{}
	for _, p := range [][2]Status{
		{StatusPendingPayment, StatusProcessing}, {StatusPendingPayment, StatusOnHold}, {StatusPendingPayment, StatusCancelled},
		{StatusPendingPayment, StatusExpired}, {StatusOnHold, StatusProcessing}, {StatusOnHold, StatusCancelled},
		{StatusOnHold, StatusRefunded}, {StatusProcessing, StatusPicked}, {StatusProcessing, StatusCancelled},
		{StatusProcessing, StatusOnHold}, {StatusPicked, StatusShipped}, {StatusPicked, StatusProcessing}, {StatusPicked, StatusCancelled},
		{StatusShipped, StatusDelivered}, {StatusDelivered, StatusRefunded}, {StatusCancelled, StatusRefunded},
		{StatusExpired, StatusProcessing}, {StatusExpired, StatusOnHold},
	} {
		allowed[p] = true
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			want := allowed[[2]Status{from, to}]
			if got := CanMove(from, to); got != want {
				t.Errorf("CanMove(%s, %s) = %v, want %v", from, to, got, want)
			}
			o := &Order{Status: from}
			h, err := o.Move(to, ports.Actor{Kind: ports.ActorStaff, Name: "ann"}, "why", time.Unix(100, 0))
			if want {
				if err != nil || o.Status != to || h.Status != to || h.Actor != "ann" || h.ActorKind != "staff" || h.Note != "why" {
					t.Errorf("Move(%s → %s) = %+v, %v", from, to, h, err)
				}
			} else if err == nil || o.Status != from || ports.ErrorCodeOf(err) != ports.ECONFLICT {
				t.Errorf("Move(%s → %s) allowed (status now %s, err %v)", from, to, o.Status, err)
			}
		}
	}
}

func TestCancelRuleAndStock(t *testing.T) {
	cases := map[Status]CancelOutcome{
		StatusPendingPayment: CancelUnpaid, StatusProcessing: CancelPaid, StatusOnHold: CancelPaid,
		StatusPicked: CancelRefused, StatusShipped: CancelRefused, StatusDelivered: CancelRefused,
		StatusCancelled: CancelRefused, StatusExpired: CancelRefused, StatusRefunded: CancelRefused,
	}
	for s, want := range cases {
		if got := CancelRule(s); got != want {
			t.Errorf("CancelRule(%s) = %v, want %v", s, got, want)
		}
		if want != CancelRefused && !CanMove(s, StatusCancelled) {
			t.Errorf("%s may be cancelled by the rule but not by the state machine", s)
		}
	}
	for _, s := range Statuses {
		want := s != StatusCancelled && s != StatusExpired && s != StatusRefunded
		if s.HoldsStock() != want {
			t.Errorf("%s.HoldsStock() = %v", s, !want)
		}
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
	}
	if Status("paid").Valid() {
		t.Error("unknown status valid")
	}
	if FormatNumber(10042) != "OD-10042" {
		t.Error(FormatNumber(10042))
	}
}

func TestAddress(t *testing.T) {
	good := Address{Name: " Ada  Lovelace ", Line1: "10 Downing St", City: "London", Postcode: "sw1a2aa", CountryCode: "gb", Phone: "+44 20 7946 0000"}
	good.Normalize()
	if good.Name != "Ada Lovelace" || good.Postcode != "SW1A 2AA" || good.CountryCode != "GB" {
		t.Fatalf("normalized %+v", good)
	}
	if errs := good.Validate("a."); len(errs) != 0 {
		t.Fatalf("good address: %v", errs)
	}
	postcodes := map[string]bool{
		"SW1A 1AA": true, "EC1A 1BB": true, "W1A 0AX": true, "M1 1AE": true, "B33 8TH": true, "CR2 6XH": true,
		"DN55 1PT": true, "GIR 0AA": true, "ec1a1bb": true, " m1  1ae ": true,
		"12345": false, "SW1A": false, "SW1A 1A": false, "QQ1 1AA": false, "SW1A 1AAA": false, "1AA 1AA": false,
		"": false, "SW1A-1AA": false, "SW1A 1CA": false,
	}
	for pc, ok := range postcodes {
		a := good
		a.Postcode = pc
		a.Normalize()
		errs := a.Validate("")
		if ok != (len(errs) == 0) {
			t.Errorf("postcode %q: errors %v, want ok=%v", pc, errs, ok)
		}
		if !ok && (len(errs) != 1 || errs[0].Field != "postcode") {
			t.Errorf("postcode %q: %v", pc, errs)
		}
	}
	cases := []struct {
		name  string
		edit  func(a *Address)
		field string
	}{
		{"no name", func(a *Address) { a.Name = "" }, "a.name"},
		{"name 211", func(a *Address) { a.Name = strings.Repeat("é", 211) }, "a.name"},
		{"name 210 ok", func(a *Address) { a.Name = strings.Repeat("é", 210) }, ""},
		{"line1 101", func(a *Address) { a.Line1 = strings.Repeat("x", 101) }, "a.line1"},
		{"line2 101", func(a *Address) { a.Line2 = strings.Repeat("x", 101) }, "a.line2"},
		{"line3 101", func(a *Address) { a.Line3 = strings.Repeat("x", 101) }, "a.line3"},
		{"no city", func(a *Address) { a.City = "" }, "a.city"},
		{"county 101", func(a *Address) { a.County = strings.Repeat("x", 101) }, "a.county"},
		{"France", func(a *Address) { a.CountryCode = "FR" }, "a.countryCode"},
		{"no country", func(a *Address) { a.CountryCode = "" }, "a.countryCode"},
		{"phone letters", func(a *Address) { a.Phone = "call me" }, "a.phone"},
		{"phone short", func(a *Address) { a.Phone = "123" }, "a.phone"},
		{"phone 26", func(a *Address) { a.Phone = strings.Repeat("1", 26) }, "a.phone"},
		{"control char", func(a *Address) { a.Line1 = "10\u0007 Downing" }, "a.line1"},
		{"emoji ok", func(a *Address) { a.Name = "Zoë 🐝" }, ""},
	}
	for _, tc := range cases {
		a := good
		tc.edit(&a)
		errs := a.Validate("a.")
		if tc.field == "" {
			if len(errs) != 0 {
				t.Errorf("%s: %v", tc.name, errs)
			}
			continue
		}
		if len(errs) != 1 || errs[0].Field != tc.field {
			t.Errorf("%s: %v, want one error on %s", tc.name, errs, tc.field)
		}
	}
}

func TestShippingMethodInput(t *testing.T) {
	good := ShippingMethodInput{Name: "Tracked 24", ServiceCode: "tpn24", PackageFormat: "parcel", Price: "5.50", MaxWeight: "20000", Active: true}
	var m ShippingMethod
	if err := good.Parse(&m); err != nil || m.ServiceCode != "TPN24" || m.PriceMinor != 550 || m.MaxWeightGrams != 20000 || !m.Active {
		t.Fatalf("%+v %v", m, err)
	}
	cases := []struct {
		edit  func(in *ShippingMethodInput)
		field string
	}{
		{func(in *ShippingMethodInput) { in.Name = "" }, "name"},
		{func(in *ShippingMethodInput) { in.ServiceCode = "" }, "service_code"},
		{func(in *ShippingMethodInput) { in.ServiceCode = "TP N24" }, "service_code"},
		{func(in *ShippingMethodInput) { in.PackageFormat = "box" }, "package_format"},
		{func(in *ShippingMethodInput) { in.Price = "-1" }, "price"},
		{func(in *ShippingMethodInput) { in.Price = "1.005" }, "price"},
		{func(in *ShippingMethodInput) { in.MaxWeight = "0" }, "max_weight"},
		{func(in *ShippingMethodInput) { in.MaxWeight = "30001" }, "max_weight"},
		{func(in *ShippingMethodInput) { in.MaxWeight = "heavy" }, "max_weight"},
		{func(in *ShippingMethodInput) { in.Position = "first" }, "position"},
	}
	for i, tc := range cases {
		in := good
		tc.edit(&in)
		var m ShippingMethod
		err := in.Parse(&m)
		fe := ports.FieldErrorsOf(err)
		if len(fe) != 1 || fe[0].Field != tc.field {
			t.Errorf("case %d: %v, want %s", i, err, tc.field)
		}
	}
}

func TestValidateIdentityRef(t *testing.T) {
	for ref, ok := range map[string]bool{
		"tg:12345": true, "a": true, strings.Repeat("x", 128): true, "Zoë 🐝": true,
		"": false, strings.Repeat("x", 129): false, "tab\there": false, "nl\n": false, "nul\x00": false, "\xff\xfe": false,
	} {
		if err := ValidateIdentityRef(ref); (err == nil) != ok {
			t.Errorf("ValidateIdentityRef(%q) = %v, want ok=%v", ref, err, ok)
		}
	}
}

func TestPlaceInputValidate(t *testing.T) {
	base := func() PlaceInput {
		return PlaceInput{
			Items:            []Item{{ProductID: "01a2011d-fb3f-7b51-bcdf-4123456b2f78", Quantity: 2}},
			ShippingMethodID: "01a20135-e4e7-7bf8-ae89-8fafbef544cc",
			ShippingAddress:  Address{Name: "Ada", Line1: "1 High St", City: "York", Postcode: "YO1 7HH", CountryCode: "GB"},
		}
	}
	in := base()
	in.Items = append(in.Items, Item{ProductID: in.Items[0].ProductID, Quantity: 3})
	reqs, method, err := in.validate()
	if err != nil || len(reqs) != 1 || reqs[0].Quantity != 5 || method == nil {
		t.Fatalf("duplicate lines: %+v %v", reqs, err)
	}
	cases := []struct {
		edit  func(in *PlaceInput)
		field string
	}{
		{func(in *PlaceInput) { in.Items = nil }, "items"},
		{func(in *PlaceInput) { in.Items[0].Quantity = 0 }, "items[0].quantity"},
		{func(in *PlaceInput) { in.Items[0].Quantity = 1000 }, "items[0].quantity"},
		{func(in *PlaceInput) { in.Items[0].ProductID = "nope" }, "items[0].productId"},
		{func(in *PlaceInput) {
			in.Items = append(in.Items, Item{ProductID: in.Items[0].ProductID, Quantity: 998})
		}, "items[1].quantity"},
		{func(in *PlaceInput) {
			for i := 0; i < 50; i++ {
				in.Items = append(in.Items, in.Items[0])
			}
		}, "items"},
		{func(in *PlaceInput) { in.ShippingMethodID = "" }, "shippingMethodId"},
		{func(in *PlaceInput) { in.Note = strings.Repeat("n", 1001) }, "note"},
		{func(in *PlaceInput) { in.ShippingAddress.Postcode = "nowhere" }, "shippingAddress.postcode"},
	}
	for i, tc := range cases {
		in := base()
		tc.edit(&in)
		_, _, err := in.validate()
		found := false
		for _, fe := range ports.FieldErrorsOf(err) {
			found = found || fe.Field == tc.field
		}
		if !found {
			t.Errorf("case %d: %v, want an error on %s", i, err, tc.field)
		}
	}
}

func TestPaymentTarget(t *testing.T) {
	tests := []struct {
		from   Status
		effect string
		to     Status
		ok     bool
	}{
		{StatusPendingPayment, "paid", StatusProcessing, true},
		{StatusExpired, "paid", StatusProcessing, true},
		{StatusOnHold, "paid", StatusProcessing, true},
		{StatusProcessing, "paid", "", false},
		{StatusPicked, "paid", "", false},
		{StatusCancelled, "paid", "", false},
		{StatusPendingPayment, "expired", StatusExpired, true},
		{StatusExpired, "expired", "", false},
		{StatusCancelled, "expired", "", false},
		{StatusPendingPayment, "hold", StatusOnHold, true},
		{StatusExpired, "hold", StatusOnHold, true},
		{StatusProcessing, "hold", StatusOnHold, true},
		{StatusOnHold, "hold", "", false},
		{StatusCancelled, "hold", "", false},
		{StatusShipped, "hold", "", false},
		{StatusOnHold, "refunded", StatusRefunded, true},
		{StatusCancelled, "refunded", StatusRefunded, true},
		{StatusProcessing, "refunded", "", false},
		{StatusPendingPayment, "", "", false},
		{StatusPendingPayment, "bogus", "", false},
	}
	for _, tt := range tests {
		to, ok := PaymentTarget(tt.from, tt.effect)
		if to != tt.to || ok != tt.ok {
			t.Errorf("PaymentTarget(%s, %q) = %q, %v; want %q, %v", tt.from, tt.effect, to, ok, tt.to, tt.ok)
		}
	}
}
