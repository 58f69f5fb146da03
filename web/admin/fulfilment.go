package admin

import (
	"context"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"orderdesk/modules/fulfilment"
	"orderdesk/modules/ordering"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// The packers' screens: the pick queue with Picked, the list of picked orders with
// their labels, the papers to print, and the recovery of a parcel Royal Mail refused.
// Cancelling a picked order is an orders decision (a refund falls due), so it needs
// ObjOrders like every other cancellation.
func (h *Handler) registerFulfilment(g fiber.Router) {
	h.menu("Fulfilment", "/admin/fulfilment", staff.ObjFulfilment)
	h.route(g, "GET", "/fulfilment", staff.ObjFulfilment, staff.ActRead, h.pickQueue)
	h.route(g, "GET", "/fulfilment/live", staff.ObjFulfilment, staff.ActRead, h.pickQueueLive)
	h.route(g, "GET", "/fulfilment/shipments", staff.ObjFulfilment, staff.ActRead, h.shipments)
	h.route(g, "GET", "/fulfilment/shipments/live", staff.ObjFulfilment, staff.ActRead, h.shipmentsLive)
	h.route(g, "GET", "/fulfilment/print", staff.ObjFulfilment, staff.ActRead, h.printLabels)
	h.route(g, "GET", "/fulfilment/labels.pdf", staff.ObjFulfilment, staff.ActRead, h.labelsPDF)
	h.route(g, "GET", "/fulfilment/picklist.pdf", staff.ObjFulfilment, staff.ActRead, h.pickListPDF)
	h.route(g, "GET", "/fulfilment/slips.pdf", staff.ObjFulfilment, staff.ActRead, h.slipsPDF)
	h.route(g, "POST", "/fulfilment/orders/:id/picked", staff.ObjFulfilment, staff.ActWrite, h.picked)
	h.route(g, "GET", "/fulfilment/orders/:id/label.pdf", staff.ObjFulfilment, staff.ActRead, h.labelPDF)
	h.route(g, "POST", "/fulfilment/orders/:id/retry", staff.ObjFulfilment, staff.ActWrite, h.retryShipment)
	h.route(g, "GET", "/fulfilment/orders/:id/address", staff.ObjFulfilment, staff.ActWrite, h.addressForm)
	h.route(g, "POST", "/fulfilment/orders/:id/address", staff.ObjFulfilment, staff.ActWrite, h.fixAddress)
	h.route(g, "POST", "/fulfilment/orders/:id/cancel", staff.ObjOrders, staff.ActWrite, h.cancelPicked)
}

// livePoll is how often the packers' lists look for changes.
const livePoll = "5s"

// ---- the pick queue

type pickCard struct {
	fulfilment.Order
	// Form carries what the packer typed (package format, weight) and its errors.
	Form    *form
	Formats []formatOption
	Warning string
}

type formatOption struct {
	Value, Label string
}

type queueData struct {
	Cards []pickCard
	Poll  string
}

func formatOptions() []formatOption {
	out := make([]formatOption, len(fulfilment.PackageFormats))
	for i, f := range fulfilment.PackageFormats {
		out[i] = formatOption{Value: f, Label: fulfilment.FormatName(f) + " (≤ " + strconv.Itoa(fulfilment.MaxGrams(f)) + " g)"}
	}
	return out
}

func newPickCard(o fulfilment.Order, f *form) pickCard {
	if f == nil {
		f = &form{Values: map[string]string{"package_format": o.PackageFormat, "weight": strconv.Itoa(o.WeightGrams)},
			Errors: map[string]string{}}
	}
	card := pickCard{Order: o, Form: f, Formats: formatOptions()}
	if _, err := (fulfilment.PickInput{}).Parse(o.Package()); err != nil {
		if fe := ports.FieldErrorsOf(err); len(fe) > 0 {
			card.Warning = fe[0].Message
		}
	}
	return card
}

func (h *Handler) queueData(ctx context.Context) (*queueData, error) {
	os, err := h.d.Fulfilment.Queue(ctx)
	if err != nil {
		return nil, err
	}
	d := &queueData{Poll: livePoll}
	for _, o := range os {
		d.Cards = append(d.Cards, newPickCard(o, nil))
	}
	return d, nil
}

// pickQueue lists the paid orders waiting to be picked, express first, then oldest.
func (h *Handler) pickQueue(c *fiber.Ctx) error {
	d, err := h.queueData(c.UserContext())
	if err != nil {
		return err
	}
	return h.page(c, fiber.StatusOK, "fulfilment/queue", "Pick queue", d, nil)
}

// pickQueueLive is the queue's cards alone, which the page polls and merges into the
// cards it shows (new orders appear, picked ones go) without touching the packer's
// open form.
func (h *Handler) pickQueueLive(c *fiber.Ctx) error {
	d, err := h.queueData(c.UserContext())
	if err != nil {
		return err
	}
	return h.page(c, fiber.StatusOK, "fulfilment/queue_live", "Pick queue", d, nil)
}

func isFragment(c *fiber.Ctx) bool {
	return c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true"
}

// picked is the packer's Picked. From the queue (htmx) it answers the order's card
// alone: a confirmation, or the form again with what is wrong. Without JavaScript it
// goes back to the queue with a message.
func (h *Handler) picked(c *fiber.Ctx) error {
	id, err := parseID(c, "id", "order")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	f := newForm(c, "package_format", "weight")
	sh, already, err := h.d.Fulfilment.Picked(ctx, id, fulfilment.PickInput{Format: f.Get("package_format"), Weight: f.Get("weight")})
	if err != nil {
		if !f.fail(err) {
			return err
		}
		status := fiber.StatusUnprocessableEntity
		if ports.ErrorCodeOf(err) != ports.EINVALID {
			status = fiber.StatusConflict
		}
		o, oerr := h.d.Fulfilment.QueueOrder(ctx, id)
		if oerr != nil && ports.ErrorCodeOf(oerr) != ports.ENOTFOUND {
			return oerr
		}
		if isFragment(c) {
			if oerr != nil || status == fiber.StatusConflict {
				// The order left the queue (another packer, a cancellation): the card says so.
				return h.page(c, status, "fulfilment/card_done", "Pick queue", map[string]any{"ID": id, "Message": f.Message, "Failed": true}, nil)
			}
			return h.page(c, status, "fulfilment/card", "Pick queue", newPickCard(*o, f), nil)
		}
		d, err := h.queueData(ctx)
		if err != nil {
			return err
		}
		for i := range d.Cards {
			if d.Cards[i].ID == id {
				d.Cards[i] = newPickCard(d.Cards[i].Order, f)
			}
		}
		return h.page(c, status, "fulfilment/queue", "Pick queue", d, f)
	}
	msg := sh.OrderNumber + " picked: its label is being made."
	if already {
		msg = sh.OrderNumber + " was picked already; nothing changed."
	}
	if isFragment(c) {
		return h.page(c, fiber.StatusOK, "fulfilment/card_done", "Pick queue", map[string]any{"ID": id, "Message": msg}, nil)
	}
	h.flash(c, "ok", msg)
	return h.redirect(c, "/admin/fulfilment")
}

// ---- picked orders and their labels

type shipmentRow struct {
	fulfilment.Shipment
	TrackingURL string
	Version     string
}

type shipmentsData struct {
	Rows []shipmentRow
	Poll string
}

func (h *Handler) shipmentsData(ctx context.Context) (*shipmentsData, error) {
	list, err := h.d.Fulfilment.Recent(ctx)
	if err != nil {
		return nil, err
	}
	d := &shipmentsData{Poll: livePoll}
	for _, sh := range list {
		d.Rows = append(d.Rows, shipmentRow{Shipment: sh, TrackingURL: h.d.Fulfilment.TrackingURL(sh.TrackingNumber()),
			Version: string(sh.State) + "-" + strconv.FormatInt(sh.UpdatedAt.UnixMicro(), 10)})
	}
	return d, nil
}

// shipments lists the picked orders: their state in words, failures with what to do,
// labels ready to print, alone or as a batch.
func (h *Handler) shipments(c *fiber.Ctx) error {
	d, err := h.shipmentsData(c.UserContext())
	if err != nil {
		return err
	}
	return h.page(c, fiber.StatusOK, "fulfilment/shipments", "Picked orders", d, nil)
}

func (h *Handler) shipmentsLive(c *fiber.Ctx) error {
	d, err := h.shipmentsData(c.UserContext())
	if err != nil {
		return err
	}
	return h.page(c, fiber.StatusOK, "fulfilment/shipments_live", "Picked orders", d, nil)
}

// sendPDF answers a PDF to show in the browser (and in the print page's frame, which
// the site's headers would otherwise forbid).
func sendPDF(c *fiber.Ctx, name string, b []byte) error {
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set("X-Frame-Options", "SAMEORIGIN")
	c.Set("Content-Security-Policy", "frame-ancestors 'self'")
	return c.Send(b)
}

func (h *Handler) labelPDF(c *fiber.Ctx) error {
	id, err := parseID(c, "id", "order")
	if err != nil {
		return err
	}
	f, info, err := h.d.Fulfilment.Label(c.UserContext(), id)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, info.Size+1))
	if err != nil {
		return err
	}
	return sendPDF(c, "label-"+id.String()+".pdf", b)
}

// batchIDs reads the orders a batch form selected (?id=…&id=…).
func batchIDs(c *fiber.Ctx) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	for _, raw := range c.Context().QueryArgs().PeekMulti("id") {
		id, err := uuid.Parse(string(raw))
		if err != nil {
			return nil, ports.Invalid(ports.Field("id", "An order id in the selection is not valid."))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// batchPDF answers the PDF make builds from the selected orders; a mistake in the
// selection goes back to the page the packer came from, with the message.
func (h *Handler) batchPDF(c *fiber.Ctx, name, back string, make func(ctx context.Context, ids []uuid.UUID) ([]byte, error)) error {
	ids, err := batchIDs(c)
	if err == nil {
		var b []byte
		if b, err = make(c.UserContext(), ids); err == nil {
			return sendPDF(c, name, b)
		}
	}
	if ports.ErrorCodeOf(err) != ports.EINVALID {
		return err
	}
	h.flash(c, "error", ports.ErrorMessageOf(err)+" "+strings.Join(fieldMessages(err), " "))
	return h.redirect(c, back)
}

func fieldMessages(err error) []string {
	var out []string
	for _, f := range ports.FieldErrorsOf(err) {
		out = append(out, f.Message)
	}
	return out
}

func (h *Handler) labelsPDF(c *fiber.Ctx) error {
	return h.batchPDF(c, "labels.pdf", "/admin/fulfilment/shipments", h.d.Fulfilment.Labels)
}

func (h *Handler) pickListPDF(c *fiber.Ctx) error {
	return h.batchPDF(c, "pick-list.pdf", "/admin/fulfilment", h.d.Fulfilment.PickList)
}

func (h *Handler) slipsPDF(c *fiber.Ctx) error {
	back := "/admin/fulfilment"
	if strings.Contains(c.Get("Referer"), "/admin/fulfilment/shipments") {
		back = "/admin/fulfilment/shipments"
	}
	return h.batchPDF(c, "packing-slips.pdf", back, h.d.Fulfilment.PackingSlips)
}

type printData struct {
	PDF     string
	Numbers []string
}

// printLabels is the page that shows the selected labels and opens the browser's
// print dialog (admin.js, on the frame's load: no inline script).
func (h *Handler) printLabels(c *fiber.Ctx) error {
	ids, err := batchIDs(c)
	if err == nil && len(ids) == 0 {
		err = ports.Invalid(ports.Field("id", "Select at least one order."))
	}
	if err != nil {
		h.flash(c, "error", strings.Join(fieldMessages(err), " "))
		return h.redirect(c, "/admin/fulfilment/shipments")
	}
	shs, err := h.d.Fulfilment.ForOrders(c.UserContext(), ids)
	if err != nil {
		return err
	}
	q := url.Values{}
	d := printData{}
	for _, id := range ids {
		q.Add("id", id.String())
		if sh, ok := shs[id]; ok {
			d.Numbers = append(d.Numbers, sh.OrderNumber)
		}
	}
	d.PDF = "/admin/fulfilment/labels.pdf?" + q.Encode()
	return h.page(c, fiber.StatusOK, "fulfilment/print", "Print labels", d, nil)
}

func (h *Handler) retryShipment(c *fiber.Ctx) error {
	id, err := parseID(c, "id", "order")
	if err != nil {
		return err
	}
	sh, err := h.d.Fulfilment.Retry(c.UserContext(), id)
	if err != nil {
		if ports.ErrorCodeOf(err) != ports.ECONFLICT {
			return err
		}
		h.flash(c, "error", ports.ErrorMessageOf(err))
		return h.redirect(c, "/admin/fulfilment/shipments")
	}
	h.flash(c, "ok", "Registering "+sh.OrderNumber+" with Royal Mail again.")
	return h.redirect(c, "/admin/fulfilment/shipments")
}

// ---- fixing the address of a refused parcel

var addressFields = []string{"name", "line1", "line2", "line3", "city", "county", "postcode", "countryCode", "phone"}

type addressData struct {
	Shipment *fulfilment.Shipment
}

func (h *Handler) addressPage(c *fiber.Ctx, status int, sh *fulfilment.Shipment, f *form) error {
	return h.page(c, status, "fulfilment/address", "Fix the address of "+sh.OrderNumber, addressData{Shipment: sh}, f)
}

func (h *Handler) addressForm(c *fiber.Ctx) error {
	id, err := parseID(c, "id", "order")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	sh, err := h.d.Fulfilment.Shipment(ctx, id)
	if err != nil {
		return err
	}
	o, err := h.d.Orders.Order(ctx, id)
	if err != nil {
		return err
	}
	a, err := h.d.Orders.Address(o)
	if err != nil {
		return err
	}
	f := &form{Values: map[string]string{"name": a.Name, "line1": a.Line1, "line2": a.Line2, "line3": a.Line3, "city": a.City,
		"county": a.County, "postcode": a.Postcode, "countryCode": a.CountryCode, "phone": a.Phone}, Errors: map[string]string{}}
	if err := sh.CanFixAddress(); err != nil {
		f.Message = ports.ErrorMessageOf(err)
	}
	return h.addressPage(c, fiber.StatusOK, sh, f)
}

func (h *Handler) fixAddress(c *fiber.Ctx) error {
	id, err := parseID(c, "id", "order")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	f := newForm(c, addressFields...)
	r := ports.Recipient{Name: f.Get("name"), Line1: f.Get("line1"), Line2: f.Get("line2"), Line3: f.Get("line3"),
		City: f.Get("city"), County: f.Get("county"), Postcode: f.Get("postcode"), CountryCode: f.Get("countryCode"), Phone: f.Get("phone")}
	sh, err := h.d.Fulfilment.FixAddress(ctx, id, r)
	if err != nil {
		if !f.fail(err) {
			return err
		}
		now, lerr := h.d.Fulfilment.Shipment(ctx, id)
		if lerr != nil {
			return lerr
		}
		status := fiber.StatusUnprocessableEntity
		if ports.ErrorCodeOf(err) == ports.ECONFLICT {
			status = fiber.StatusConflict
		}
		return h.addressPage(c, status, now, f)
	}
	h.flash(c, "ok", "Address of "+sh.OrderNumber+" corrected; registering it with Royal Mail again.")
	return h.redirect(c, "/admin/fulfilment/shipments")
}

// ---- cancelling a picked order (from the order page)

func (h *Handler) cancelPicked(c *fiber.Ctx) error {
	o, err := h.loadOrder(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	f := newForm(c, "reason")
	if _, err := h.d.Fulfilment.CancelPicked(ctx, o.ID, f.Get("reason")); err != nil {
		if !f.fail(err) {
			return err
		}
		status := fiber.StatusUnprocessableEntity
		if ports.ErrorCodeOf(err) == ports.ECONFLICT {
			status = fiber.StatusConflict
		}
		if now, lerr := h.d.Orders.Order(ctx, o.ID); lerr == nil {
			o = now
		}
		return h.orderPage(c, status, o, f, nil)
	}
	h.flash(c, "ok", "Order "+o.Number+" cancelled after picking; its items are back in stock. It was paid: refund £"+
		ports.FormatMinor(o.TotalMinor, o.Currency)+" to the customer.")
	return h.redirect(c, "/admin/orders/"+o.ID.String())
}

// shipmentPanel is the shipment part of the order page.
type shipmentPanel struct {
	Shipment    *fulfilment.Shipment
	Events      []fulfilment.TrackingEvent
	TrackingURL string
	// CanPrint: the viewer may open labels (fulfilment roles).
	CanPrint bool
	// CanCancelPicked: the order is picked, the viewer may cancel orders, and the
	// carrier does not have the parcel yet.
	CanCancelPicked bool
}

func (h *Handler) shipmentPanel(ctx context.Context, p *staff.Principal, o *ordering.Order) (*shipmentPanel, error) {
	sp := &shipmentPanel{CanPrint: h.d.Staff.Can(p, staff.ObjFulfilment, staff.ActRead)}
	sh, err := h.d.Fulfilment.Shipment(ctx, o.ID)
	switch {
	case ports.ErrorCodeOf(err) == ports.ENOTFOUND:
		return sp, nil
	case err != nil:
		return nil, err
	}
	sp.Shipment = sh
	sp.TrackingURL = h.d.Fulfilment.TrackingURL(sh.TrackingNumber())
	if sp.Events, err = h.d.Fulfilment.Events(ctx, o.ID); err != nil {
		return nil, err
	}
	sp.CanCancelPicked = o.Status == ordering.StatusPicked && !sh.AtCarrier() && h.d.Staff.Can(p, staff.ObjOrders, staff.ActWrite)
	return sp, nil
}
