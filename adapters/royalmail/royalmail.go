// Package royalmail implements the carrier and tracker ports on Royal Mail's APIs:
// Click & Drop v1 (orders and labels; Client) and Tracking API v2 (Tracker). The
// specifications are in rmtest/testdata; rmtest fakes both APIs for tests.
//
// Errors follow the ports' contract: Royal Mail refusing a parcel for its content,
// even inside a 200 answer, is a ports EINVALID in words for staff; a reference
// already in use is ECONFLICT; a missing order ENOTFOUND; no label access EFORBIDDEN;
// a refused API key EUNAVAILABLE. Throttling (429), server failures (5xx) and network
// errors are plain errors (*TemporaryError where Royal Mail answered), to be retried
// by the caller, after looking the order up by reference when a create's outcome is
// unknown.
//
// Click & Drop allows few calls a second per account (1/s for Click & Drop accounts in
// the older specification, 5/s in the current one): every call first waits on the
// Limiter, which several worker processes share through NewRedisLimiter.
package royalmail

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"orderdesk/ports"
)

// DefaultURL is Click & Drop's API root.
const DefaultURL = "https://api.parcel.royalmail.com/api/v1"

// Bounds on what we read from Royal Mail: a create answer carries the label in base64.
const (
	maxJSONBody  = 32 << 20
	maxLabelBody = 24 << 20
)

// Config configures a Client.
type Config struct {
	// URL is the API root, DefaultURL when empty.
	URL    string
	APIKey string
	// HTTPClient defaults to a client with a 60-second timeout.
	HTTPClient *http.Client
	// Limiter spaces the calls; nil means a LocalLimiter at 1 call a second.
	Limiter Limiter
	// Clock dates orders placed without a time; nil means the system clock.
	Clock ports.Clock
}

// Client is the Click & Drop carrier.
type Client struct {
	base    string
	key     string
	hc      *http.Client
	limiter Limiter
	clock   ports.Clock
}

var _ ports.Carrier = (*Client)(nil)

// New returns a Click & Drop client.
func New(c Config) *Client {
	cl := &Client{base: strings.TrimRight(c.URL, "/"), key: c.APIKey, hc: c.HTTPClient, limiter: c.Limiter, clock: c.Clock}
	if cl.base == "" {
		cl.base = DefaultURL
	}
	if cl.hc == nil {
		cl.hc = &http.Client{Timeout: 60 * time.Second}
	}
	if cl.limiter == nil {
		cl.limiter = NewLocalLimiter(1)
	}
	if cl.clock == nil {
		cl.clock = ports.SystemClock
	}
	return cl
}

// Name is "royalmail".
func (c *Client) Name() string { return "royalmail" }

// TrackingURL is Royal Mail's public tracking page of a number.
func (c *Client) TrackingURL(trackingNumber string) string { return TrackingURL(trackingNumber) }

// TrackingURL is Royal Mail's public tracking page of a number.
func TrackingURL(trackingNumber string) string {
	return "https://www.royalmail.com/track-your-item#/tracking-results/" + url.PathEscape(trackingNumber)
}

// S10 builds a UPU S10 item identifier, the shape of Royal Mail's tracking numbers:
// a two-letter service prefix, eight digits of serial, a check digit and "GB", e.g.
// S10("RR", 47312482) is "RR473124829GB". Fakes and the sandbox use it to make believable
// numbers.
func S10(prefix string, serial int) string {
	digits := fmt.Sprintf("%08d", (serial%100_000_000+100_000_000)%100_000_000)
	weights := [8]int{8, 6, 4, 2, 3, 5, 9, 7}
	sum := 0
	for i, w := range weights {
		sum += int(digits[i]-'0') * w
	}
	check := 11 - sum%11
	switch check {
	case 10:
		check = 0
	case 11:
		check = 5
	}
	return fmt.Sprintf("%s%s%dGB", prefix, digits, check)
}

// CreateOrder registers the parcel as one Click & Drop order, with its label when
// r.WantLabel (Online Business Accounts only).
func (c *Client) CreateOrder(ctx context.Context, r ports.ShipmentRequest) (*ports.CarrierOrder, error) {
	if err := Validate(r); err != nil {
		return nil, err
	}
	body := createOrdersRequest{Items: []createOrderRequest{c.orderRequest(r)}}
	res, err := c.do(ctx, http.MethodPost, "/orders", body, "application/json", maxJSONBody)
	if err != nil {
		return nil, fmt.Errorf("create royal mail order %s: %w", r.Reference, err)
	}
	if res.status != http.StatusOK && res.status != http.StatusCreated {
		return nil, fmt.Errorf("create royal mail order %s: %w", r.Reference, apiError(res.status, res.header, res.body, c.clock()))
	}
	var out createOrdersResponse
	if err := json.Unmarshal(res.body, &out); err != nil {
		return nil, fmt.Errorf("create royal mail order %s: unreadable answer: %w", r.Reference, err)
	}
	if len(out.FailedOrders) > 0 {
		errs := out.FailedOrders[0].Errors
		if isDuplicate(errs) {
			return nil, ports.Errorf(ports.ECONFLICT, "Royal Mail already has an order with reference %s.", r.Reference)
		}
		return nil, ports.Errorf(ports.EINVALID, "Royal Mail refused the parcel: %s", failureText(errs))
	}
	if len(out.CreatedOrders) == 0 {
		return nil, fmt.Errorf("create royal mail order %s: the answer holds neither a created nor a failed order", r.Reference)
	}
	o := out.CreatedOrders[0]
	co := &ports.CarrierOrder{
		ID:              strconv.FormatInt(o.OrderIdentifier, 10),
		Reference:       o.OrderReference,
		TrackingNumbers: trackingNumbers(o.TrackingNumber, o.Packages),
		CreatedAt:       o.CreatedOn.Time,
		ShippedAt:       o.ShippedOn.ptr(),
	}
	if co.Reference == "" {
		co.Reference = r.Reference
	}
	var labelErrs []string
	for _, e := range o.LabelErrors {
		labelErrs = append(labelErrs, sentence(cmp.Or(e.Message, e.Code)))
	}
	if o.Label != "" {
		pdf, err := base64.StdEncoding.DecodeString(o.Label)
		if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
			labelErrs = append(labelErrs, "Royal Mail's label could not be read as a PDF.")
		} else {
			co.Label = pdf
		}
	}
	if r.WantLabel && co.Label == nil && len(labelErrs) == 0 {
		labelErrs = append(labelErrs, "Royal Mail made no label for this order (label access needs an Online Business Account).")
	}
	co.LabelError = strings.Join(labelErrs, " ")
	return co, nil
}

// OrderByReference finds the order with our reference (the way to learn the outcome
// of a create whose answer was lost).
func (c *Client) OrderByReference(ctx context.Context, reference string) (*ports.CarrierOrder, error) {
	if msg := checkReference(reference); msg != "" {
		return nil, ports.Invalid(ports.Field("reference", msg))
	}
	// A reference travels percent-encoded inside double quotes, so that one made of
	// digits is not read as an order identifier.
	res, err := c.do(ctx, http.MethodGet, "/orders/%22"+url.PathEscape(reference)+"%22", nil, "application/json", maxJSONBody)
	if err != nil {
		return nil, fmt.Errorf("find royal mail order %s: %w", reference, err)
	}
	if res.status == http.StatusNotFound {
		return nil, ports.Errorf(ports.ENOTFOUND, "Royal Mail has no order with reference %s.", reference)
	}
	if res.status != http.StatusOK {
		return nil, fmt.Errorf("find royal mail order %s: %w", reference, apiError(res.status, res.header, res.body, c.clock()))
	}
	var orders []orderInfo
	if err := json.Unmarshal(res.body, &orders); err != nil {
		return nil, fmt.Errorf("find royal mail order %s: unreadable answer: %w", reference, err)
	}
	for _, o := range orders {
		if o.OrderReference == reference || len(orders) == 1 && o.OrderReference == "" {
			return &ports.CarrierOrder{
				ID:              strconv.FormatInt(o.OrderIdentifier, 10),
				Reference:       reference,
				TrackingNumbers: trackingNumbers(o.TrackingNumber, o.Packages),
				CreatedAt:       o.CreatedOn.Time,
				ShippedAt:       o.ShippedOn.ptr(),
			}, nil
		}
	}
	return nil, ports.Errorf(ports.ENOTFOUND, "Royal Mail has no order with reference %s.", reference)
}

// Label fetches the postage label PDF of the order with Click & Drop identifier id.
func (c *Client) Label(ctx context.Context, id string) ([]byte, error) {
	if _, err := strconv.ParseUint(id, 10, 63); err != nil {
		return nil, ports.Invalid(ports.Field("id", "A Click & Drop order identifier is a whole number."))
	}
	path := "/orders/" + id + "/label?documentType=postageLabel&includeReturnsLabel=false"
	res, err := c.do(ctx, http.MethodGet, path, nil, "application/pdf, application/json", maxLabelBody)
	if err != nil {
		return nil, fmt.Errorf("royal mail label of order %s: %w", id, err)
	}
	switch res.status {
	case http.StatusOK:
	case http.StatusForbidden:
		return nil, ports.Errorf(ports.EFORBIDDEN, "This Click & Drop account has no label access (Online Business Account needed); use push-only mode and print labels in Click & Drop.")
	case http.StatusNotFound:
		return nil, ports.Errorf(ports.ENOTFOUND, "Royal Mail has no order %s.", id)
	default:
		return nil, fmt.Errorf("royal mail label of order %s: %w", id, apiError(res.status, res.header, res.body, c.clock()))
	}
	if !bytes.HasPrefix(res.body, []byte("%PDF")) {
		return nil, fmt.Errorf("royal mail label of order %s: the answer is not a PDF (%s)", id, res.header.Get("Content-Type"))
	}
	return res.body, nil
}

func (c *Client) orderRequest(r ports.ShipmentRequest) createOrderRequest {
	placed := r.PlacedAt
	if placed.IsZero() {
		placed = c.clock()
	}
	items := make([]productItem, 0, len(r.Items))
	for _, it := range r.Items {
		items = append(items, productItem{Name: it.Name, SKU: it.SKU, Quantity: it.Quantity,
			UnitValue: money(it.UnitValuePence), UnitWeightInGrams: it.UnitWeightGrams})
	}
	a := r.Recipient
	o := createOrderRequest{
		OrderReference: r.Reference,
		Recipient: recipientDetailsRequest{
			Address: addressRequest{FullName: a.Name, AddressLine1: a.Line1, AddressLine2: a.Line2, AddressLine3: a.Line3,
				City: a.City, County: a.County, Postcode: a.Postcode, CountryCode: strings.ToUpper(a.CountryCode)},
			PhoneNumber: a.Phone,
		},
		Packages:            []shipmentPackage{{WeightInGrams: r.WeightGrams, PackageFormatIdentifier: r.PackageFormat, Contents: items}},
		OrderDate:           placed.UTC().Truncate(time.Second),
		Subtotal:            money(r.SubtotalPence),
		ShippingCostCharged: money(r.ShippingPence),
		Total:               money(r.TotalPence),
		CurrencyCode:        "GBP",
		PostageDetails:      postageDetails{ServiceCode: r.ServiceCode},
	}
	if r.WantLabel {
		o.Label = &labelGeneration{IncludeLabelInResponse: true}
	}
	return o
}

// trackingNumbers collects the order's and its packages' distinct tracking numbers.
func trackingNumbers(top string, pkgs []packageNumber) []string {
	all := []string{top}
	for _, p := range pkgs {
		all = append(all, p.TrackingNumber)
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range all {
		n = strings.TrimSpace(n)
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Limits of the Click & Drop schema that OrderDesk's data could exceed.
const maxMoneyPence = 99_999_900 // 999999.00

var packageFormats = map[string]bool{"undefined": true, "letter": true, "largeLetter": true, "smallParcel": true,
	"mediumParcel": true, "largeParcel": true, "parcel": true, "documents": true}

// checkReference says what is wrong with an order reference, "" when nothing.
func checkReference(ref string) string {
	if ref == "" {
		return "An order reference is required."
	}
	if len(ref) > 40 {
		return "An order reference has at most 40 characters."
	}
	for _, c := range ref {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "An order reference may hold only letters, digits, - and _."
		}
	}
	return ""
}

// Validate refuses, as EINVALID, a request that Click & Drop's schema would refuse:
// field names are ShipmentRequest's. CreateOrder checks it before any call; the
// sandbox carrier refuses the same requests.
func Validate(r ports.ShipmentRequest) error {
	var errs []ports.FieldError
	add := func(field, msg string) { errs = append(errs, ports.Field(field, msg)) }
	if msg := checkReference(r.Reference); msg != "" {
		add("reference", msg)
	}
	a := r.Recipient
	for _, f := range []struct {
		field, value string
		max          int
		required     bool
	}{
		{"recipient.name", a.Name, 210, false},
		{"recipient.line1", a.Line1, 100, true},
		{"recipient.line2", a.Line2, 100, false},
		{"recipient.line3", a.Line3, 100, false},
		{"recipient.city", a.City, 100, true},
		{"recipient.county", a.County, 100, false},
		{"recipient.postcode", a.Postcode, 20, false},
		{"recipient.phone", a.Phone, 25, false},
		{"serviceCode", r.ServiceCode, 10, true},
	} {
		switch n := utf8.RuneCountInString(f.value); {
		case f.required && strings.TrimSpace(f.value) == "":
			add(f.field, "This is required.")
		case n > f.max:
			add(f.field, fmt.Sprintf("Royal Mail takes at most %d characters here.", f.max))
		}
	}
	if len(a.CountryCode) != 2 {
		add("recipient.countryCode", "A two-letter country code (ISO 3166) is required.")
	}
	if !packageFormats[r.PackageFormat] {
		add("packageFormat", "Choose letter, largeLetter, smallParcel, mediumParcel, largeParcel or parcel.")
	}
	if r.WeightGrams < 1 || r.WeightGrams > 30000 {
		add("weightGrams", "The parcel weighs from 1 g to 30 kg.")
	}
	for _, m := range []struct {
		field string
		pence int64
	}{{"subtotal", r.SubtotalPence}, {"shipping", r.ShippingPence}, {"total", r.TotalPence}} {
		if m.pence < 0 || m.pence > maxMoneyPence {
			add(m.field, "Royal Mail takes amounts from 0.00 to 999999.00.")
		}
	}
	for i, it := range r.Items {
		p := fmt.Sprintf("items[%d].", i)
		if it.Quantity < 1 || it.Quantity > 999999 {
			add(p+"quantity", "A quantity is from 1 to 999999.")
		}
		if it.UnitValuePence < 0 || it.UnitValuePence > maxMoneyPence {
			add(p+"unitValue", "Royal Mail takes amounts from 0.00 to 999999.00.")
		}
		if it.UnitWeightGrams < 0 || it.UnitWeightGrams > 999999 {
			add(p+"unitWeight", "An item weighs from 0 to 999999 g.")
		}
		if utf8.RuneCountInString(it.SKU) > 100 {
			add(p+"sku", "Royal Mail takes at most 100 characters here.")
		}
		if utf8.RuneCountInString(it.Name) > 800 {
			add(p+"name", "Royal Mail takes at most 800 characters here.")
		}
	}
	return ports.Invalid(errs...)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do waits for the limiter, sends one request and reads at most limit bytes of the
// answer. Only a failure to get an answer is an error.
func (c *Client) do(ctx context.Context, method, path string, body any, accept string, limit int64) (*response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := c.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	return send(c.hc, req, limit)
}

func send(hc *http.Client, req *http.Request, limit int64) (*response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, errors.New("the answer is larger than " + strconv.FormatInt(limit>>20, 10) + " MiB")
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}
