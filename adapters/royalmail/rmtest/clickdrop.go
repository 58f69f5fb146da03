package rmtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"orderdesk/adapters/royalmail"
)

// reply is an answer built before it is checked against the spec and sent.
type reply struct {
	status      int
	contentType string
	header      http.Header
	body        []byte
}

func jsonReply(status int, v any) *reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return &reply{status: status, contentType: "application/json", body: b}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	rep := jsonReply(status, v)
	w.Header().Set("Content-Type", rep.contentType)
	w.WriteHeader(status)
	w.Write(rep.body)
}

func (s *Server) send(w http.ResponseWriter, op *operation, in *openapi3filter.RequestValidationInput, rep *reply) {
	if err := op.checkResponse(in, rep); err != nil {
		s.report("rmtest: the fake's own answer to %s %s does not match the spec: %v", in.Request.Method, in.Request.URL, err)
	}
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	if rep.contentType != "" {
		w.Header().Set("Content-Type", rep.contentType)
	}
	w.WriteHeader(rep.status)
	w.Write(rep.body)
}

// The Click & Drop JSON the fake reads and writes. Money stays json.Number: exact.

type cdCreateRequest struct {
	Items []json.RawMessage `json:"items"`
}

type cdOrderRequest struct {
	OrderReference string `json:"orderReference"`
	Recipient      struct {
		Address struct {
			FullName    string `json:"fullName"`
			Postcode    string `json:"postcode"`
			CountryCode string `json:"countryCode"`
			City        string `json:"city"`
		} `json:"address"`
	} `json:"recipient"`
	OrderDate string `json:"orderDate"`
	Packages  []struct {
		WeightInGrams           int    `json:"weightInGrams"`
		PackageFormatIdentifier string `json:"packageFormatIdentifier"`
		Contents                []struct {
			SKU               string       `json:"SKU"`
			UnitValue         *json.Number `json:"unitValue"`
			UnitWeightInGrams *int         `json:"unitWeightInGrams"`
		} `json:"contents"`
	} `json:"packages"`
	PostageDetails *struct {
		ServiceCode string `json:"serviceCode"`
	} `json:"postageDetails"`
	Label *struct {
		IncludeLabelInResponse bool `json:"includeLabelInResponse"`
	} `json:"label"`
}

type cdError struct {
	ErrorCode    int       `json:"errorCode"`
	ErrorMessage string    `json:"errorMessage"`
	Fields       []cdField `json:"fields,omitempty"`
}

type cdField struct {
	FieldName string `json:"fieldName"`
	Value     string `json:"value"`
}

type cdPackage struct {
	PackageNumber  int    `json:"packageNumber"`
	TrackingNumber string `json:"trackingNumber,omitempty"`
}

type cdCreated struct {
	OrderIdentifier int64          `json:"orderIdentifier"`
	OrderReference  string         `json:"orderReference,omitempty"`
	CreatedOn       string         `json:"createdOn"`
	OrderDate       string         `json:"orderDate,omitempty"`
	PrintedOn       string         `json:"printedOn,omitempty"`
	ShippedOn       string         `json:"shippedOn,omitempty"`
	TrackingNumber  string         `json:"trackingNumber,omitempty"`
	Packages        []cdPackage    `json:"packages"`
	Label           string         `json:"label,omitempty"`
	LabelErrors     []cdLabelError `json:"labelErrors,omitempty"`
	Generated       []string       `json:"generatedDocuments,omitempty"`
}

type cdLabelError struct {
	Message string `json:"message"`
	Code    string `json:"code"`
}

type cdFailed struct {
	Order  json.RawMessage `json:"order"`
	Errors []cdError       `json:"errors"`
}

type cdOrderError struct {
	AccountOrderNumber    int64  `json:"accountOrderNumber,omitempty"`
	ChannelOrderReference string `json:"channelOrderReference,omitempty"`
	Code                  string `json:"code"`
	Message               string `json:"message"`
}

// Error codes the fake uses inside failedOrders. Royal Mail does not publish its codes
// (NOTES §10); these only need to be stable.
const (
	ErrCodeDuplicateReference = 1001
	ErrCodePostcode           = 1002
	ErrCodeServiceCode        = 1003
	ErrCodeContents           = 1004
	ErrCodeWeight             = 1005
)

// Weight limits of the package formats (NOTES §6.6).
var formatMaxGrams = map[string]int{"letter": 100, "largeLetter": 1000, "smallParcel": 2000, "mediumParcel": 20000}

func stampString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) serveClickDrop(w http.ResponseWriter, r *http.Request) {
	if s.fault(w, "clickdrop") {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+APIKey {
		s.mu.Lock()
		s.counts.Unauthorized++
		s.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.EscapedPath(), "/api/v1"), "/")
	var key, ids string
	switch {
	case r.Method == http.MethodPost && path == "/orders":
		key = "POST /orders"
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/orders/") && strings.HasSuffix(path, "/label"):
		key, ids = "GET /orders/{ids}/label", strings.TrimSuffix(strings.TrimPrefix(path, "/orders/"), "/label")
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/orders/") && !strings.Contains(path[len("/orders/"):], "/"):
		key, ids = "GET /orders/{ids}", strings.TrimPrefix(path, "/orders/")
	default:
		s.report("rmtest: Click & Drop has no %s %s (or the fake does not offer it)", r.Method, r.URL)
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "No such endpoint."})
		return
	}
	op := s.cd[key]
	in, err := op.checkRequest(r, map[string]string{"orderIdentifiers": ids})
	if err != nil {
		s.mu.Lock()
		s.counts.Invalid++
		s.mu.Unlock()
		s.report("rmtest: %s %s does not match the Click & Drop spec: %v", r.Method, r.URL, err)
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "ValidationError", "message": "The request is invalid.", "details": err.Error()})
		return
	}
	var rep *reply
	switch key {
	case "POST /orders":
		var hang bool
		rep, hang = s.createOrders(r)
		if hang {
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			return
		}
	case "GET /orders/{ids}":
		rep = s.getOrders(ids)
	default:
		rep = s.getLabel(ids, r.URL.Query().Get("documentType"))
	}
	s.send(w, op, in, rep)
}

func (s *Server) createOrders(r *http.Request) (*reply, bool) {
	var req cdCreateRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return jsonReply(http.StatusBadRequest, map[string]string{"code": "InvalidJson", "message": err.Error()}), false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.CreateOrders++
	created, failed := []cdCreated{}, []cdFailed{}
	for _, raw := range req.Items {
		var it cdOrderRequest
		if err := json.Unmarshal(raw, &it); err != nil {
			return jsonReply(http.StatusBadRequest, map[string]string{"code": "InvalidJson", "message": err.Error()}), false
		}
		if errs := s.orderErrors(&it); len(errs) > 0 {
			failed = append(failed, cdFailed{Order: raw, Errors: errs})
			continue
		}
		created = append(created, s.create(&it, raw))
	}
	hang := s.hangN > 0
	if hang {
		s.hangN--
	}
	return jsonReply(http.StatusOK, map[string]any{
		"successCount": len(created), "errorsCount": len(failed), "createdOrders": created, "failedOrders": failed,
	}), hang
}

// orderErrors is what Click & Drop would refuse in an order beyond its schema.
func (s *Server) orderErrors(it *cdOrderRequest) []cdError {
	var errs []cdError
	if it.OrderReference != "" {
		if _, dup := s.byRef[it.OrderReference]; dup {
			errs = append(errs, cdError{ErrCodeDuplicateReference, fmt.Sprintf("An order with reference '%s' already exists", it.OrderReference),
				[]cdField{{"orderReference", it.OrderReference}}})
		}
	}
	if pc := it.Recipient.Address.Postcode; s.badPCs[normPostcode(pc)] {
		errs = append(errs, cdError{ErrCodePostcode, "Postcode is not recognised for the destination country",
			[]cdField{{"recipient.address.postcode", pc}}})
	}
	if pd := it.PostageDetails; pd != nil && pd.ServiceCode != "" && !s.services[pd.ServiceCode] {
		errs = append(errs, cdError{ErrCodeServiceCode, "Service code is not available on this account",
			[]cdField{{"postageDetails.serviceCode", pd.ServiceCode}}})
	}
	for i, p := range it.Packages {
		if limit, ok := formatMaxGrams[p.PackageFormatIdentifier]; ok && p.WeightInGrams > limit {
			errs = append(errs, cdError{ErrCodeWeight, fmt.Sprintf("Weight exceeds the maximum of %d g for the package format %s", limit, p.PackageFormatIdentifier),
				[]cdField{{fmt.Sprintf("packages[%d].weightInGrams", i), strconv.Itoa(p.WeightInGrams)}}})
		}
		for _, c := range p.Contents {
			if c.SKU == "" && (c.UnitValue == nil || c.UnitWeightInGrams == nil) {
				errs = append(errs, cdError{ErrCodeContents, "When value 'SKU' is not provided values 'UnitValue' and 'UnitWeightInGrams' are required.", nil})
			}
		}
	}
	return errs
}

// create stores a valid order and makes its label when asked and allowed. s.mu is held.
func (s *Server) create(it *cdOrderRequest, raw json.RawMessage) cdCreated {
	o := &Order{ID: s.nextID, Reference: it.OrderReference, FullName: it.Recipient.Address.FullName,
		Postcode: it.Recipient.Address.Postcode, CountryCode: it.Recipient.Address.CountryCode,
		CreatedOn: s.clock().UTC().Truncate(time.Second), Request: bytes.Clone(raw)}
	s.nextID++
	if it.PostageDetails != nil {
		o.ServiceCode = it.PostageDetails.ServiceCode
	}
	if len(it.Packages) > 0 {
		o.PackageFormat, o.WeightGrams = it.Packages[0].PackageFormatIdentifier, it.Packages[0].WeightInGrams
	}
	s.orders = append(s.orders, o)
	s.byID[o.ID] = o
	if o.Reference != "" {
		s.byRef[o.Reference] = o
	}
	out := cdCreated{OrderIdentifier: o.ID, OrderReference: o.Reference, CreatedOn: stampString(o.CreatedOn), OrderDate: it.OrderDate}
	if it.Label != nil && it.Label.IncludeLabelInResponse && s.oba {
		if o.ServiceCode == "" {
			out.LabelErrors = []cdLabelError{{Code: "OrderValidationError", Message: "Label generation only available for orders with postage applied status"}}
		} else {
			s.makeLabel(o)
			out.Label = base64.StdEncoding.EncodeToString(o.Label)
			out.Generated = []string{"postageLabel"}
		}
	}
	out.PrintedOn, out.TrackingNumber, out.Packages = stampString(o.PrintedOn), o.TrackingNumber, packagesOf(o)
	return out
}

// makeLabel gives o a tracking number and a label PDF. s.mu is held.
func (s *Server) makeLabel(o *Order) {
	if o.Label != nil {
		return
	}
	o.TrackingNumber = royalmail.S10("TT", s.nextTrack)
	s.nextTrack++
	o.PrintedOn = s.clock().UTC().Truncate(time.Second)
	pdf, err := labelPDF(o)
	if err != nil {
		s.report("rmtest: making a label: %v", err)
	}
	o.Label = pdf
	if _, known := s.tracking[o.TrackingNumber]; !known {
		s.tracking[o.TrackingNumber] = nil
	}
}

func packagesOf(o *Order) []cdPackage {
	return []cdPackage{{PackageNumber: 1, TrackingNumber: o.TrackingNumber}}
}

// lookup resolves an {orderIdentifiers} path segment: identifiers and "quoted",
// percent-encoded references separated by semicolons. It returns the orders found,
// or the answer to give instead: 400 for a malformed identifier, 404 for none found.
// s.mu is held.
func (s *Server) lookup(ids string) ([]*Order, *reply) {
	refuse := func(bad string) *reply {
		return jsonReply(http.StatusBadRequest, []cdOrderError{{Code: "InvalidOrderIdentifier",
			Message: fmt.Sprintf("%s is neither an order identifier nor a quoted order reference", bad)}})
	}
	var found []*Order
	parts := strings.Split(ids, ";")
	if len(parts) > 100 {
		return nil, refuse("the 101st identifier")
	}
	for _, p := range parts {
		if strings.HasPrefix(p, "%22") && strings.HasSuffix(p, "%22") && len(p) >= 6 {
			ref, err := url.PathUnescape(p[3 : len(p)-3])
			if err != nil {
				return nil, refuse(p)
			}
			if o, ok := s.byRef[ref]; ok {
				found = append(found, o)
			}
			continue
		}
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, refuse(p)
		}
		if o, ok := s.byID[id]; ok {
			found = append(found, o)
		}
	}
	if len(found) == 0 {
		return nil, &reply{status: http.StatusNotFound}
	}
	return found, nil
}

func (s *Server) getOrders(ids string) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.GetOrders++
	found, rep := s.lookup(ids)
	if rep != nil {
		return rep
	}
	out := make([]cdCreated, 0, len(found))
	for _, o := range found {
		out = append(out, cdCreated{OrderIdentifier: o.ID, OrderReference: o.Reference, CreatedOn: stampString(o.CreatedOn),
			PrintedOn: stampString(o.PrintedOn), ShippedOn: stampString(o.ShippedOn), TrackingNumber: o.TrackingNumber, Packages: packagesOf(o)})
	}
	return jsonReply(http.StatusOK, out)
}

func (s *Server) getLabel(ids, documentType string) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Labels++
	if !s.oba {
		return &reply{status: http.StatusForbidden}
	}
	found, rep := s.lookup(ids)
	if rep != nil {
		return rep
	}
	var errs []cdOrderError
	for _, o := range found {
		if o.ServiceCode == "" {
			errs = append(errs, cdOrderError{AccountOrderNumber: o.ID, ChannelOrderReference: o.Reference, Code: "OrderValidationError",
				Message: "Label generation only available for orders with postage applied status"})
		}
	}
	if len(errs) > 0 {
		return jsonReply(http.StatusBadRequest, errs)
	}
	for _, o := range found {
		s.makeLabel(o)
	}
	if len(found) == 1 && documentType == "postageLabel" {
		return &reply{status: http.StatusOK, contentType: "application/pdf", body: bytes.Clone(found[0].Label)}
	}
	pdf, err := labelPDF(found...)
	if err != nil {
		s.report("rmtest: making labels: %v", err)
	}
	return &reply{status: http.StatusOK, contentType: "application/pdf", body: pdf}
}
