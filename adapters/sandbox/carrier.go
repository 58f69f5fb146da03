package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"orderdesk/adapters/pdfkit"
	"orderdesk/adapters/royalmail"
	"orderdesk/ports"
)

// RefusedPostcode is the postcode the sandbox carrier refuses, as Royal Mail refuses
// an unknown one, so that the refusal path can be tried in development.
const RefusedPostcode = "ZZ1 1ZZ"

// Carrier is a development carrier: it answers at once, makes tracking numbers shaped
// like Royal Mail's ("SB" + 9 digits + "GB", derived from the reference) and 6 × 4
// inch PDF labels marked as specimens. Orders live in memory, in this process.
type Carrier struct {
	clock  ports.Clock
	mu     sync.Mutex
	nextID int64
	byRef  map[string]*sandboxShipment
	byID   map[string]*sandboxShipment
}

type sandboxShipment struct {
	order ports.CarrierOrder
	label []byte
}

var _ ports.Carrier = (*Carrier)(nil)

// NewCarrier returns an empty sandbox carrier.
func NewCarrier(clock ports.Clock) *Carrier {
	return &Carrier{clock: clock, nextID: 1, byRef: map[string]*sandboxShipment{}, byID: map[string]*sandboxShipment{}}
}

// Name is "sandbox".
func (c *Carrier) Name() string { return "sandbox" }

// TrackingURL points where Royal Mail's would (sandbox numbers are not found there).
func (c *Carrier) TrackingURL(trackingNumber string) string {
	return royalmail.TrackingURL(trackingNumber)
}

// TrackingNumber is the tracking number the sandbox gives a reference: "SB",
// eight digits from the reference's hash, the S10 check digit, "GB".
func TrackingNumber(reference string) string {
	h := sha256.Sum256([]byte(reference))
	return royalmail.S10("SB", int(binary.BigEndian.Uint32(h[:4])%100_000_000))
}

// CreateOrder registers the parcel in memory and makes its label, returned when
// r.WantLabel. It refuses what Royal Mail would refuse for content (EINVALID: what
// royalmail.Validate refuses, and RefusedPostcode), and a reference in use (ECONFLICT).
func (c *Carrier) CreateOrder(_ context.Context, r ports.ShipmentRequest) (*ports.CarrierOrder, error) {
	if err := royalmail.Validate(r); err != nil {
		return nil, err
	}
	if strings.EqualFold(strings.Join(strings.Fields(r.Recipient.Postcode), ""), strings.ReplaceAll(RefusedPostcode, " ", "")) {
		return nil, ports.Errorf(ports.EINVALID, "Royal Mail refused the parcel: Postcode %s is not recognised for the destination country (sandbox).", r.Recipient.Postcode)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.byRef[r.Reference]; dup {
		return nil, ports.Errorf(ports.ECONFLICT, "The sandbox carrier already has an order with reference %s.", r.Reference)
	}
	s := &sandboxShipment{order: ports.CarrierOrder{
		ID:              strconv.FormatInt(c.nextID, 10),
		Reference:       r.Reference,
		TrackingNumbers: []string{TrackingNumber(r.Reference)},
		CreatedAt:       c.clock().UTC().Truncate(time.Second),
	}}
	label, err := specimenLabel(r, s.order.TrackingNumbers[0], s.order.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("sandbox label: %w", err)
	}
	s.label = label
	c.nextID++
	c.byRef[r.Reference], c.byID[s.order.ID] = s, s
	o := s.copy()
	if r.WantLabel {
		o.Label = append([]byte(nil), label...)
	}
	return o, nil
}

func (s *sandboxShipment) copy() *ports.CarrierOrder {
	o := s.order
	o.TrackingNumbers = append([]string(nil), s.order.TrackingNumbers...)
	return &o
}

// OrderByReference finds an order made earlier in this process.
func (c *Carrier) OrderByReference(_ context.Context, reference string) (*ports.CarrierOrder, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.byRef[reference]
	if !ok {
		return nil, ports.Errorf(ports.ENOTFOUND, "The sandbox carrier has no order with reference %s.", reference)
	}
	return s.copy(), nil
}

// Label returns the order's label again.
func (c *Carrier) Label(_ context.Context, id string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.byID[id]
	if !ok {
		return nil, ports.Errorf(ports.ENOTFOUND, "The sandbox carrier has no order %s.", id)
	}
	return append([]byte(nil), s.label...), nil
}

// createdAt is when the order with tracking number n was made, if this process made it.
func (c *Carrier) createdAt(n string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.byRef {
		if s.order.TrackingNumbers[0] == n {
			return s.order.CreatedAt, true
		}
	}
	return time.Time{}, false
}

// specimenLabel draws a 6 × 4 inch label that no one could mistake for postage.
func specimenLabel(r ports.ShipmentRequest, tracking string, at time.Time) ([]byte, error) {
	const w = 101.6 // mm; the page is 152.4 tall
	pdf := pdfkit.New("P", pdfkit.Label6x4)
	pdf.SetTitle("SPECIMEN — NOT FOR POSTAGE: sandbox label "+r.Reference, true)
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetMargins(5, 5, 5)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddPage()

	// A pale diagonal watermark under everything.
	pdf.TransformBegin()
	pdf.TransformRotate(55, w/2, 76)
	pdf.SetTextColor(225, 225, 225)
	pdf.SetFont(pdfkit.Font, "B", 46)
	pdf.Text(w/2-48, 90, "SPECIMEN")
	pdf.TransformEnd()

	// The banner.
	pdf.SetFillColor(0, 0, 0)
	pdf.SetTextColor(255, 255, 255)
	pdf.SetFont(pdfkit.Font, "B", 13)
	pdf.SetXY(5, 5)
	pdf.CellFormat(w-10, 10, "SPECIMEN — NOT FOR POSTAGE", "", 1, "C", true, 0, "")
	pdf.SetTextColor(0, 0, 0)
	pdf.SetFont(pdfkit.Font, "", 8)
	pdf.CellFormat(w-10, 5, "OrderDesk sandbox carrier · no parcel has been booked", "", 1, "C", false, 0, "")

	// Service and parcel.
	pdf.Ln(2)
	pdf.SetFont(pdfkit.Font, "B", 11)
	pdf.CellFormat(w-10, 6, fmt.Sprintf("Service %s · %d g · %s", r.ServiceCode, r.WeightGrams, r.PackageFormat), "TB", 1, "L", false, 0, "")

	// The addressee.
	pdf.Ln(3)
	pdf.SetFont(pdfkit.Font, "", 8)
	pdf.CellFormat(w-10, 4, "DELIVER TO", "", 1, "L", false, 0, "")
	pdf.SetFont(pdfkit.Font, "B", 12)
	a := r.Recipient
	for _, line := range []string{a.Name, a.Line1, a.Line2, a.Line3, a.City, a.County, strings.ToUpper(a.Postcode), strings.ToUpper(a.CountryCode)} {
		if strings.TrimSpace(line) != "" {
			pdf.MultiCell(w-10, 5.5, line, "", "L", false)
		}
	}

	// Tracking number, as text and as a QR code, and our reference.
	pdf.SetXY(5, 100)
	pdf.SetFont(pdfkit.Font, "", 8)
	pdf.CellFormat(w-10, 4, "TRACKING NUMBER", "T", 1, "L", false, 0, "")
	pdf.SetFont(pdfkit.Font, "B", 14)
	pdf.CellFormat(w-10, 7, tracking, "", 1, "L", false, 0, "")
	pdf.SetFont(pdfkit.Font, "", 9)
	pdf.CellFormat(w-10, 5, "Reference "+r.Reference, "", 1, "L", false, 0, "")
	pdf.CellFormat(w-10, 5, "Made "+at.Format("2 Jan 2006 15:04 MST"), "", 1, "L", false, 0, "")
	if err := pdfkit.QRCode(pdf, tracking, w-5-30, 117, 30); err != nil {
		return nil, err
	}
	return pdfkit.Bytes(pdf)
}
