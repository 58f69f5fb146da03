package admin

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// pollInterval is how often the orders list refreshes itself.
const pollInterval = "10s"

func (h *Handler) registerOrders(g fiber.Router) {
	h.menu("Orders", "/admin/orders", staff.ObjOrders)
	h.route(g, "GET", "/orders", staff.ObjOrders, staff.ActRead, h.orders)
	// The list's live part (tabs, table, pager) alone, polled with the page's query.
	h.route(g, "GET", "/orders/live", staff.ObjOrders, staff.ActRead, h.ordersLive)
	h.route(g, "GET", "/orders/:id", staff.ObjOrders, staff.ActRead, h.order)
	h.route(g, "POST", "/orders/:id/cancel", staff.ObjOrders, staff.ActWrite, h.cancelOrder)
	h.route(g, "POST", "/orders/:id/messages", staff.ObjMessages, staff.ActWrite, h.replyToOrder)
	h.route(g, "POST", "/orders/:id/notes", staff.ObjOrders, staff.ActWrite, h.addNote)

	h.menu("Messages", "/admin/messages", staff.ObjMessages)
	h.route(g, "GET", "/messages", staff.ObjMessages, staff.ActRead, h.inbox)
}

// ---- the list

type orderRow struct {
	ordering.Order
	AppName string
	Payment payments.Status
}

type statusTab struct {
	Label, Href string
	Count       int
	Active      bool
}

type ordersData struct {
	Rows     []orderRow
	Tabs     []statusTab
	Apps     []appOption
	Payments []payments.Status
	Query    url.Values
	// LiveURL is the address the live part polls: the page's own query.
	LiveURL  string
	NextURL  string
	Poll     string
	Filtered bool
}

type appOption struct {
	ID, Name string
}

// ordersFilter reads the list's filters from the query: the filter for the service,
// the normalized query to repeat in links, and the form with any mistakes.
func (h *Handler) ordersFilter(c *fiber.Ctx) (ordering.StaffFilter, url.Values, *form) {
	f := ordering.StaffFilter{Limit: 50}
	q := url.Values{}
	fm := &form{Values: map[string]string{}, Errors: map[string]string{}}
	set := func(k, v string) {
		q.Set(k, v)
		fm.Values[k] = v
	}
	if st := ordering.Status(c.Query("status")); st.Valid() {
		f.Status = st
		set("status", string(st))
	}
	if ps := payments.Status(c.Query("payment")); ps.Valid() {
		f.PaymentStatus = string(ps)
		set("payment", string(ps))
	}
	if id := optionalID(c.Query("app")); id != nil {
		f.AppID = id
		set("app", id.String())
	}
	if s := strings.TrimSpace(c.Query("identity")); s != "" {
		f.IdentityRef = clip(s, ordering.IdentityRefMax*4)
		set("identity", f.IdentityRef)
	}
	if s := strings.TrimSpace(c.Query("number")); s != "" {
		f.Number = clip(s, 32)
		set("number", f.Number)
	}
	f.From, f.To = dateFilter(c, fm, q)
	return f, q, fm
}

// appNames maps every client app's id to its name, for lists of orders and reviews.
func (h *Handler) appNames(ctx context.Context) (map[uuid.UUID]string, error) {
	apps, err := h.d.Clients.Apps(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[uuid.UUID]string, len(apps))
	for _, a := range apps {
		names[a.ID] = a.Name
	}
	return names, nil
}

func parseOrderCursor(s string) *ordering.Cursor {
	t, id, ok := parseKeyset(s)
	if !ok {
		return nil
	}
	return &ordering.Cursor{CreatedAt: t, ID: id}
}

func formatOrderCursor(cur *ordering.Cursor) string { return formatKeyset(cur.CreatedAt, cur.ID) }

func withParam(q url.Values, k, v string) string {
	nq := url.Values{}
	for key, vs := range q {
		nq[key] = vs
	}
	if v == "" {
		nq.Del(k)
	} else {
		nq.Set(k, v)
	}
	return nq.Encode()
}

func (h *Handler) ordersData(c *fiber.Ctx) (*ordersData, *form, error) {
	ctx := c.UserContext()
	f, q, fm := h.ordersFilter(c)
	d := &ordersData{Query: q, Payments: payments.Statuses, Poll: pollInterval}
	apps, err := h.d.Clients.Apps(ctx)
	if err != nil {
		return nil, nil, err
	}
	names := map[uuid.UUID]string{}
	for _, a := range apps {
		names[a.ID] = a.Name
		d.Apps = append(d.Apps, appOption{ID: a.ID.String(), Name: a.Name})
	}
	if len(fm.Errors) > 0 {
		return d, fm, nil
	}
	d.Filtered = len(q) > 0
	live := url.Values{}
	for k, v := range q {
		live[k] = v
	}
	if cur := parseOrderCursor(c.Query("after")); cur != nil {
		f.After = cur
		live.Set("after", c.Query("after"))
	}
	d.LiveURL = "/admin/orders/live?" + live.Encode()
	os, next, err := h.d.Orders.StaffOrders(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]uuid.UUID, len(os))
	for i := range os {
		ids[i] = os[i].ID
	}
	pay, err := h.d.Payments.Statuses(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	for _, o := range os {
		d.Rows = append(d.Rows, orderRow{Order: o, AppName: names[o.AppID], Payment: pay[o.ID]})
	}
	if next != nil {
		d.NextURL = "/admin/orders?" + withParam(q, "after", formatOrderCursor(next))
	}
	counts, err := h.d.Orders.CountByStatus(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	d.Tabs = append(d.Tabs, statusTab{Label: "All", Href: "/admin/orders?" + withParam(q, "status", ""), Count: total, Active: f.Status == ""})
	for _, st := range ordering.Statuses {
		d.Tabs = append(d.Tabs, statusTab{Label: strings.ReplaceAll(string(st), "_", " "), Href: "/admin/orders?" + withParam(q, "status", string(st)),
			Count: counts[st], Active: f.Status == st})
	}
	return d, fm, nil
}

func (h *Handler) orders(c *fiber.Ctx) error {
	d, fm, err := h.ordersData(c)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if len(fm.Errors) > 0 {
		status = fiber.StatusUnprocessableEntity
	}
	return h.page(c, status, "orders/list", "Orders", d, fm)
}

func (h *Handler) ordersLive(c *fiber.Ctx) error {
	d, fm, err := h.ordersData(c)
	if err != nil {
		return err
	}
	if len(fm.Errors) > 0 {
		return fiber.NewError(fiber.StatusUnprocessableEntity, fm.Message)
	}
	return h.page(c, fiber.StatusOK, "orders/live", "Orders", d, nil)
}

// ---- one order

type timelineEntry struct {
	At    time.Time
	Kind  string // status, message, audit
	Title string
	Who   string
	Text  string
	order int
}

type orderData struct {
	Order          *ordering.Order
	Note           *form
	AppName        string
	Address        *ordering.Address
	CanSeeAddress  bool
	Invoice        *payments.Invoice
	Methods        []ports.PaymentMethod
	Payment        *paymentPanel
	Timeline       []timelineEntry
	Messages       []ordering.Message
	CanReadThread  bool
	CanReply       bool
	CanCancel      bool
	Cancellable    bool
	RefundOnCancel bool
	Cancel         *form
	Reply          *form
	// Shipment is the fulfilment module's part: status, tracking, label, events.
	Shipment *shipmentPanel
}

func emptyForm() *form { return &form{Values: map[string]string{}, Errors: map[string]string{}} }

func (h *Handler) loadOrder(c *fiber.Ctx) (*ordering.Order, error) {
	id, err := parseID(c, "id", "order")
	if err != nil {
		return nil, err
	}
	return h.d.Orders.Order(c.UserContext(), id)
}

// orderPage renders the order page; cancel and reply carry what was typed into
// either form, and f the page's message.
func (h *Handler) orderPage(c *fiber.Ctx, status int, o *ordering.Order, cancel, reply *form, note ...*form) error {
	ctx := c.UserContext()
	p := principal(c)
	if cancel == nil {
		cancel = emptyForm()
	}
	if reply == nil {
		reply = emptyForm()
	}
	noteForm := emptyForm()
	if len(note) > 0 && note[0] != nil {
		noteForm = note[0]
	}
	rule := ordering.CancelRule(o.Status)
	d := orderData{Order: o, Cancel: cancel, Reply: reply, Note: noteForm,
		// Addresses are personal data: only the roles that ship parcels see them.
		CanSeeAddress: h.d.Staff.Can(p, staff.ObjFulfilment, staff.ActRead),
		CanReadThread: h.d.Staff.Can(p, staff.ObjMessages, staff.ActRead),
		CanReply:      h.d.Staff.Can(p, staff.ObjMessages, staff.ActWrite),
		CanCancel:     h.d.Staff.Can(p, staff.ObjOrders, staff.ActWrite),
		Cancellable:   rule != ordering.CancelRefused, RefundOnCancel: rule == ordering.CancelPaid,
	}
	if app, err := h.d.Clients.App(ctx, o.AppID); err == nil {
		d.AppName = app.Name
	} else if ports.ErrorCodeOf(err) != ports.ENOTFOUND {
		return err
	}
	if d.CanSeeAddress {
		a, err := h.d.Orders.Address(o)
		if err != nil {
			return err
		}
		d.Address = a
	}
	shipment, err := h.shipmentPanel(ctx, p, o)
	if err != nil {
		return err
	}
	d.Shipment = shipment
	inv, err := h.d.Payments.ForOrder(ctx, o.ID)
	switch {
	case err == nil:
		d.Invoice, d.Methods = inv, inv.Methods()
	case ports.ErrorCodeOf(err) != ports.ENOTFOUND:
		return err
	}
	if d.Payment, err = h.paymentPanel(c, o, d.Invoice); err != nil {
		return err
	}
	for _, e := range o.History {
		who := e.Actor
		if who == "" {
			who = e.ActorKind
		}
		d.Timeline = append(d.Timeline, timelineEntry{At: e.At, Kind: "status", Title: "Status: " + strings.ReplaceAll(string(e.Status), "_", " "),
			Who: who + " (" + e.ActorKind + ")", Text: e.Note, order: 0})
	}
	if d.CanReadThread {
		msgs, err := h.d.Orders.Messages(ctx, o.ID)
		if err != nil {
			return err
		}
		d.Messages = msgs
		for _, m := range msgs {
			title := "Message from the customer"
			if m.AuthorKind == "staff" {
				title = "Reply from staff"
			}
			d.Timeline = append(d.Timeline, timelineEntry{At: m.CreatedAt, Kind: "message", Title: title, Who: m.Author, Text: m.Body, order: 1})
		}
	}
	notes, err := h.d.Orders.Notes(ctx, o.ID)
	if err != nil {
		return err
	}
	for _, n := range notes {
		d.Timeline = append(d.Timeline, timelineEntry{At: n.CreatedAt, Kind: "note", Title: "Internal note", Who: n.Author, Text: n.Body, order: 1})
	}
	audit, err := h.d.Audit.ListAudit(ctx, ports.AuditFilter{ObjectType: "order", ObjectID: o.ID.String(), Limit: 200})
	if err != nil {
		return err
	}
	for _, a := range audit {
		if a.Action == "order.note" {
			continue // the note itself is on the timeline
		}
		d.Timeline = append(d.Timeline, timelineEntry{At: a.At, Kind: "audit", Title: "Staff action " + a.Action, Who: a.Actor, Text: a.Detail, order: 2})
	}
	sort.SliceStable(d.Timeline, func(i, j int) bool {
		a, b := d.Timeline[i], d.Timeline[j]
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		return a.order < b.order
	})
	var msg *form
	for _, f := range []*form{cancel, reply, noteForm} {
		if f.Message != "" {
			msg = f
		}
	}
	if f := d.Payment.Failed(); f != nil {
		msg = f
	}
	return h.page(c, status, "orders/order", "Order "+o.Number, d, msg)
}

func (h *Handler) order(c *fiber.Ctx) error {
	o, err := h.loadOrder(c)
	if err != nil {
		return err
	}
	return h.orderPage(c, fiber.StatusOK, o, nil, nil)
}

func (h *Handler) cancelOrder(c *fiber.Ctx) error {
	o, err := h.loadOrder(c)
	if err != nil {
		return err
	}
	f := newForm(c, "reason")
	done, err := h.d.Orders.CancelAsStaff(c.UserContext(), o, f.Get("reason"))
	if err != nil {
		if !f.fail(err) {
			return err
		}
		status := fiber.StatusUnprocessableEntity
		if ports.ErrorCodeOf(err) == ports.ECONFLICT {
			// The rule refused it (picked already, or another cancel won): say so at
			// the top of the page, which shows the order as it is now.
			status = fiber.StatusConflict
			if now, lerr := h.d.Orders.Order(c.UserContext(), o.ID); lerr == nil {
				o = now
			}
		}
		return h.orderPage(c, status, o, f, nil)
	}
	msg := "Order " + done.Number + " cancelled; its stock is released."
	if done.RefundDue {
		msg = "Order " + done.Number + " cancelled. It was paid: refund £" + ports.FormatMinor(done.TotalMinor, done.Currency) + " to the customer."
	}
	h.flash(c, "ok", msg)
	return h.redirect(c, "/admin/orders/"+done.ID.String())
}

func (h *Handler) replyToOrder(c *fiber.Ctx) error {
	o, err := h.loadOrder(c)
	if err != nil {
		return err
	}
	f := newForm(c, "body")
	if _, err := h.d.Orders.ReplyAsStaff(c.UserContext(), o, f.Get("body")); err != nil {
		if !f.fail(err) {
			return err
		}
		return h.orderPage(c, fiber.StatusUnprocessableEntity, o, nil, f)
	}
	h.flash(c, "ok", "Reply sent to "+o.IdentityRef+" through the client app.")
	return h.redirect(c, "/admin/orders/"+o.ID.String()+"#messages")
}

func (h *Handler) addNote(c *fiber.Ctx) error {
	o, err := h.loadOrder(c)
	if err != nil {
		return err
	}
	f := newForm(c, "note")
	if _, err := h.d.Orders.AddNote(c.UserContext(), o, f.Get("note")); err != nil {
		if !f.fail(err) {
			return err
		}
		return h.orderPage(c, fiber.StatusUnprocessableEntity, o, nil, nil, f)
	}
	h.flash(c, "ok", "Note added.")
	return h.redirect(c, "/admin/orders/"+o.ID.String()+"#timeline")
}

// ---- the inbox

type inboxRow struct {
	ordering.Conversation
	AppName string
}

type inboxData struct {
	Rows    []inboxRow
	NextURL string
}

func (h *Handler) inbox(c *fiber.Ctx) error {
	ctx := c.UserContext()
	cs, next, err := h.d.Orders.OpenConversations(ctx, parseOrderCursor(c.Query("after")), 50)
	if err != nil {
		return err
	}
	names, err := h.appNames(ctx)
	if err != nil {
		return err
	}
	d := inboxData{}
	for _, cv := range cs {
		d.Rows = append(d.Rows, inboxRow{Conversation: cv, AppName: names[cv.AppID]})
	}
	if next != nil {
		d.NextURL = "/admin/messages?after=" + url.QueryEscape(formatOrderCursor(next))
	}
	return h.page(c, fiber.StatusOK, "orders/inbox", "Messages", d, nil)
}
