package royalmail

import (
	"encoding/json"
	"fmt"
	"time"

	"orderdesk/ports"
)

// The Click & Drop API's JSON, as named in its specification (click-and-drop-api-v1.yaml),
// limited to the fields OrderDesk sends or reads.

type createOrdersRequest struct {
	Items []createOrderRequest `json:"items"`
}

type createOrderRequest struct {
	OrderReference      string                  `json:"orderReference"`
	Recipient           recipientDetailsRequest `json:"recipient"`
	Packages            []shipmentPackage       `json:"packages"`
	OrderDate           time.Time               `json:"orderDate"`
	Subtotal            money                   `json:"subtotal"`
	ShippingCostCharged money                   `json:"shippingCostCharged"`
	Total               money                   `json:"total"`
	CurrencyCode        string                  `json:"currencyCode"`
	PostageDetails      postageDetails          `json:"postageDetails"`
	Label               *labelGeneration        `json:"label,omitempty"`
}

type recipientDetailsRequest struct {
	Address     addressRequest `json:"address"`
	PhoneNumber string         `json:"phoneNumber,omitempty"`
}

type addressRequest struct {
	FullName     string `json:"fullName,omitempty"`
	AddressLine1 string `json:"addressLine1"`
	AddressLine2 string `json:"addressLine2,omitempty"`
	AddressLine3 string `json:"addressLine3,omitempty"`
	City         string `json:"city"`
	County       string `json:"county,omitempty"`
	Postcode     string `json:"postcode,omitempty"`
	CountryCode  string `json:"countryCode"`
}

type shipmentPackage struct {
	WeightInGrams           int           `json:"weightInGrams"`
	PackageFormatIdentifier string        `json:"packageFormatIdentifier"`
	Contents                []productItem `json:"contents,omitempty"`
}

type productItem struct {
	Name              string `json:"name,omitempty"`
	SKU               string `json:"SKU,omitempty"`
	Quantity          int    `json:"quantity"`
	UnitValue         money  `json:"unitValue"`
	UnitWeightInGrams int    `json:"unitWeightInGrams"`
}

type postageDetails struct {
	ServiceCode string `json:"serviceCode"`
}

type labelGeneration struct {
	IncludeLabelInResponse bool `json:"includeLabelInResponse"`
	IncludeCN              bool `json:"includeCN"`
	IncludeReturnsLabel    bool `json:"includeReturnsLabel"`
}

// money is an amount in pence, sent as a JSON number with two decimals ("12.50"),
// exact, as the API's multipleOf 0.01 wants.
type money int64

func (m money) MarshalJSON() ([]byte, error) {
	return []byte(ports.FormatMinor(int64(m), "GBP")), nil
}

type createOrdersResponse struct {
	SuccessCount  int                   `json:"successCount"`
	ErrorsCount   int                   `json:"errorsCount"`
	CreatedOrders []createdOrder        `json:"createdOrders"`
	FailedOrders  []failedOrderResponse `json:"failedOrders"`
}

type createdOrder struct {
	OrderIdentifier int64            `json:"orderIdentifier"`
	OrderReference  string           `json:"orderReference"`
	CreatedOn       stamp            `json:"createdOn"`
	ShippedOn       stamp            `json:"shippedOn"`
	TrackingNumber  string           `json:"trackingNumber"`
	Packages        []packageNumber  `json:"packages"`
	Label           string           `json:"label"`
	LabelErrors     []labelErrorResp `json:"labelErrors"`
}

type packageNumber struct {
	PackageNumber  int    `json:"packageNumber"`
	TrackingNumber string `json:"trackingNumber"`
}

type labelErrorResp struct {
	Message string `json:"message"`
	Code    string `json:"code"`
}

type failedOrderResponse struct {
	Errors []createOrderError `json:"errors"`
}

type createOrderError struct {
	ErrorCode    int          `json:"errorCode"`
	ErrorMessage string       `json:"errorMessage"`
	Fields       []orderField `json:"fields"`
}

type orderField struct {
	FieldName string `json:"fieldName"`
	Value     string `json:"value"`
}

// orderInfo is GetOrderInfoResource.
type orderInfo struct {
	OrderIdentifier int64           `json:"orderIdentifier"`
	OrderReference  string          `json:"orderReference"`
	CreatedOn       stamp           `json:"createdOn"`
	ShippedOn       stamp           `json:"shippedOn"`
	TrackingNumber  string          `json:"trackingNumber"`
	Packages        []packageNumber `json:"packages"`
}

// errorResponse is ErrorResponse; orderErrorResponse is OrderErrorResponse (the 400
// answer of the order and label lookups, as an array).
type errorResponse struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details string `json:"details"`
}

type orderErrorResponse struct {
	AccountOrderNumber    int64  `json:"accountOrderNumber"`
	ChannelOrderReference string `json:"channelOrderReference"`
	Code                  string `json:"code"`
	Message               string `json:"message"`
}

// stamp reads the API's date-times: RFC 3339, or the same without an offset (read as
// UTC), as .NET services sometimes write them; null or absent is the zero time.
type stamp struct{ time.Time }

func (s *stamp) UnmarshalJSON(b []byte) error {
	var v *string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v == nil || *v == "" {
		s.Time = time.Time{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, *v); err == nil {
			s.Time = t
			return nil
		}
	}
	return fmt.Errorf("date-time %q is not in RFC 3339 form", *v)
}

// ptr is the time or nil for the zero time.
func (s stamp) ptr() *time.Time {
	if s.IsZero() {
		return nil
	}
	t := s.Time
	return &t
}
