package royalmail

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"orderdesk/ports"
)

func TestMoneyIsTwoDecimalJSON(t *testing.T) {
	for pence, want := range map[int64]string{0: "0.00", 5: "0.05", 99: "0.99", 100: "1.00", 1250: "12.50", 2904: "29.04", 99_999_900: "999999.00"} {
		b, err := json.Marshal(struct {
			M money `json:"m"`
		}{money(pence)})
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != `{"m":`+want+`}` {
			t.Errorf("%d pence is %s, want %s", pence, b, want)
		}
	}
}

func TestCheckReference(t *testing.T) {
	for ref, ok := range map[string]bool{
		"OD-1001": true, "od_1001": true, "12345": true, strings.Repeat("A", 40): true,
		"": false, strings.Repeat("A", 41): false, "OD 1001": false, `OD"1`: false, "OD;1": false, "OD%1": false, "ÖD-1": false,
	} {
		if got := checkReference(ref) == ""; got != ok {
			t.Errorf("checkReference(%q) ok=%v, want %v", ref, got, ok)
		}
	}
}

func TestFailureText(t *testing.T) {
	tests := []struct {
		errs []createOrderError
		want string
	}{
		{[]createOrderError{{ErrorMessage: "Postcode is not valid", Fields: []orderField{{"Recipient.Address.Postcode", "ZZ1 1ZZ"}}}},
			"Postcode ZZ1 1ZZ is not valid."},
		{[]createOrderError{{ErrorMessage: "The service code is not available on this account", Fields: []orderField{{"postageDetails.serviceCode", "TPN99"}}}},
			"Service code TPN99: The service code is not available on this account."},
		{[]createOrderError{{ErrorMessage: "Invalid value 'X1'", Fields: []orderField{{"packages[0].packageFormatIdentifier", "X1"}}}},
			"Package format: Invalid value 'X1'."},
		{[]createOrderError{{ErrorMessage: "When value 'SKU' is not provided values 'UnitValue' and 'UnitWeightInGrams' are required."}},
			"When value 'SKU' is not provided values 'UnitValue' and 'UnitWeightInGrams' are required."},
		{[]createOrderError{{ErrorMessage: "Must not be empty", Fields: []orderField{{"recipient.address.city", ""}}}, {ErrorCode: 42}},
			"Town or city: Must not be empty. error 42."},
		{[]createOrderError{{ErrorMessage: "Bad", Fields: []orderField{{"someNewField", "v"}}}}, "someNewField v: Bad."},
		{nil, "Royal Mail gave no reason."},
	}
	for _, tt := range tests {
		if got := failureText(tt.errs); got != tt.want {
			t.Errorf("failureText(%+v)\n got %q\nwant %q", tt.errs, got, tt.want)
		}
	}
}

func TestIsDuplicate(t *testing.T) {
	tests := []struct {
		e    createOrderError
		want bool
	}{
		{createOrderError{ErrorMessage: "An order with reference 'A' already exists"}, true},
		{createOrderError{ErrorMessage: "Duplicate order reference"}, true},
		{createOrderError{ErrorMessage: "Value must be unique", Fields: []orderField{{"orderReference", "A"}}}, true},
		{createOrderError{ErrorMessage: "Value already exists", Fields: []orderField{{"Items[0].OrderReference", "A"}}}, true},
		{createOrderError{ErrorMessage: "Order reference is too long", Fields: []orderField{{"orderReference", "A"}}}, false},
		{createOrderError{ErrorMessage: "Postcode is not valid", Fields: []orderField{{"recipient.address.postcode", "A"}}}, false},
		{createOrderError{ErrorMessage: "Product already exists", Fields: []orderField{{"packages[0].contents[0].SKU", "A"}}}, false},
	}
	for _, tt := range tests {
		if got := isDuplicate([]createOrderError{tt.e}); got != tt.want {
			t.Errorf("isDuplicate(%+v) = %v", tt.e, got)
		}
	}
}

func TestAPIErrorMapping(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		status    int
		header    http.Header
		body      string
		code      ports.ErrorCode
		words     string
		retryWait time.Duration
	}{
		{400, nil, `{"code":"BadRequest","message":"Items must not be empty","details":"items"}`, ports.EINVALID, "Royal Mail refused the request: Items must not be empty (items).", 0},
		{400, nil, `[{"accountOrderNumber":1001,"code":"OrderValidationError","message":"Label generation only available for orders with postage applied status"}]`,
			ports.EINVALID, "postage applied status.", 0},
		{400, nil, `garbage`, ports.EINVALID, "malformed", 0},
		{401, nil, ``, ports.EUNAVAILABLE, "Royal Mail API key was refused", 0},
		{403, nil, ``, ports.EFORBIDDEN, "may not", 0},
		{404, nil, ``, ports.EINTERNAL, "", 0},
		{429, http.Header{"Retry-After": {"7"}}, ``, ports.EINTERNAL, "", 7 * time.Second},
		{429, http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, ``, ports.EINTERNAL, "", 90 * time.Second},
		{500, nil, `{"message":"Something broke"}`, ports.EINTERNAL, "", 0},
		{503, http.Header{"Retry-After": {"soon"}}, `<html>`, ports.EINTERNAL, "", 0},
		{418, nil, `teapot`, ports.EINTERNAL, "", 0},
	}
	for _, tt := range tests {
		err := apiError(tt.status, tt.header, []byte(tt.body), now)
		if got := ports.ErrorCodeOf(err); got != tt.code {
			t.Errorf("%d: code %q, want %q (%v)", tt.status, got, tt.code, err)
		}
		if tt.words != "" && !strings.Contains(ports.ErrorMessageOf(err), tt.words) {
			t.Errorf("%d: message %q lacks %q", tt.status, ports.ErrorMessageOf(err), tt.words)
		}
		var te *TemporaryError
		if isTemp := errors.As(err, &te); isTemp != (tt.status == 429 || tt.status >= 500) {
			t.Errorf("%d: temporary=%v", tt.status, isTemp)
		} else if isTemp && te.RetryAfter() != tt.retryWait {
			t.Errorf("%d: retry after %v, want %v", tt.status, te.RetryAfter(), tt.retryWait)
		}
	}
	if msg := apiError(500, nil, []byte(`{"message":"Something broke"}`), now).Error(); !strings.Contains(msg, "Something broke") {
		t.Errorf("500 loses Royal Mail's message: %s", msg)
	}
}

func TestS10(t *testing.T) {
	for _, tt := range []struct {
		prefix string
		serial int
		want   string
	}{{"RR", 47312482, "RR473124829GB"}, {"TT", 1, "TT000000014GB"}, {"TT", 2, "TT000000028GB"}, {"SB", 0, "SB000000005GB"}} {
		if got := S10(tt.prefix, tt.serial); got != tt.want {
			t.Errorf("S10(%q, %d) = %s, want %s", tt.prefix, tt.serial, got, tt.want)
		}
	}
}

func TestStamp(t *testing.T) {
	var v struct {
		A, B, C, D stamp
	}
	if err := json.Unmarshal([]byte(`{"A":"2026-05-01T10:00:00Z","B":"2026-05-01T10:00:00.123","C":null,"D":"2026-05-01T11:00:00+01:00"}`), &v); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	if !v.A.Equal(want) || !v.B.Equal(want.Add(123*time.Millisecond)) || v.C.ptr() != nil || !v.D.Equal(want) {
		t.Errorf("stamps %+v", v)
	}
	if err := json.Unmarshal([]byte(`{"A":"1 May 2026"}`), &v); err == nil {
		t.Error("no error for a date that is not RFC 3339")
	}
}

func TestValidate(t *testing.T) {
	ok := ports.ShipmentRequest{Reference: "OD-1", Recipient: ports.Recipient{Line1: "1 High St", City: "Leeds", CountryCode: "GB"},
		ServiceCode: "TPN24", PackageFormat: "parcel", WeightGrams: 1, Items: []ports.ShipmentItem{{Quantity: 1}}}
	if err := Validate(ok); err != nil {
		t.Fatalf("valid request refused: %v", err)
	}
	tests := []struct {
		field string
		edit  func(r *ports.ShipmentRequest)
	}{
		{"recipient.line1", func(r *ports.ShipmentRequest) { r.Recipient.Line1 = " " }},
		{"recipient.name", func(r *ports.ShipmentRequest) { r.Recipient.Name = strings.Repeat("é", 211) }},
		{"recipient.postcode", func(r *ports.ShipmentRequest) { r.Recipient.Postcode = strings.Repeat("A", 21) }},
		{"recipient.countryCode", func(r *ports.ShipmentRequest) { r.Recipient.CountryCode = "GBR" }},
		{"serviceCode", func(r *ports.ShipmentRequest) { r.ServiceCode = "" }},
		{"packageFormat", func(r *ports.ShipmentRequest) { r.PackageFormat = "box" }},
		{"weightGrams", func(r *ports.ShipmentRequest) { r.WeightGrams = 30001 }},
		{"total", func(r *ports.ShipmentRequest) { r.TotalPence = 100_000_000 }},
		{"subtotal", func(r *ports.ShipmentRequest) { r.SubtotalPence = -1 }},
		{"items[0].quantity", func(r *ports.ShipmentRequest) { r.Items[0].Quantity = 0 }},
		{"items[0].unitValue", func(r *ports.ShipmentRequest) { r.Items[0].UnitValuePence = -5 }},
	}
	for _, tt := range tests {
		r := ok
		r.Items = []ports.ShipmentItem{{Quantity: 1}}
		tt.edit(&r)
		fields := ports.FieldErrorsOf(Validate(r))
		if len(fields) != 1 || fields[0].Field != tt.field {
			t.Errorf("%s: fields %+v", tt.field, fields)
		}
	}
	// Lengths count characters, not bytes.
	r := ok
	r.Recipient.Name = strings.Repeat("é", 210)
	if err := Validate(r); err != nil {
		t.Errorf("210 characters refused: %v", err)
	}
}

func TestTrackingNumbersDistinct(t *testing.T) {
	got := trackingNumbers("TT1GB", []packageNumber{{1, "TT1GB"}, {2, " TT2GB "}, {3, ""}})
	if strings.Join(got, ",") != "TT1GB,TT2GB" {
		t.Errorf("got %v", got)
	}
	if got := trackingNumbers("", nil); got != nil {
		t.Errorf("got %v", got)
	}
}

func TestIsDelivered(t *testing.T) {
	for _, tt := range []struct {
		category, code string
		want           bool
	}{
		{"DELIVERED", "", true}, {"delivered", "EVXXX", true}, {"IN TRANSIT", "EVKSP", true}, {"", "evnoc", true},
		{"", "EVPLC", true}, {"IN TRANSIT", "EVDAC", false}, {"UNDELIVERED", "EVKNA", false}, {"", "", false},
	} {
		if got := isDelivered(tt.category, tt.code); got != tt.want {
			t.Errorf("isDelivered(%q, %q) = %v", tt.category, tt.code, got)
		}
	}
}

// TestSummaryAllFailing: when no piece has an answer, Royal Mail may answer 404 with
// only statuses per piece (summaryErrorResponse); every piece gets the error.
func TestSummaryAllFailing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Accept-RMG-Terms") != "yes" || r.URL.Query().Get("mailPieceId") != "AA1,BB2" {
			t.Errorf("request %s %v", r.URL, r.Header)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		w.Write([]byte(`{"httpCode":"404","httpMessage":"Not Found","mailPieces":[{"mailPieceId":"AA1","status":"404"},{"mailPieceId":"BB2","status":"404"}],
			"errors":[{"errorCode":"E1142","errorDescription":"Barcode reference is not valid"}]}`))
	}))
	defer srv.Close()
	tr := NewTracker(TrackerConfig{URL: srv.URL})
	got, err := tr.Summaries(t.Context(), []string{"AA1", "BB2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range got {
		if s.Error != "Barcode reference is not valid (E1142)." {
			t.Errorf("summary %+v", s)
		}
	}
}
