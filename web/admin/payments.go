package admin

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
	"orderdesk/modules/settings"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// The staff side of payments: the payment panel of the order page with its
// decisions, the queue of orders on hold, and the gateway's webhook inbox. Every
// decision is a payments service call, which audits it.
func (h *Handler) registerPayments(g fiber.Router) {
	obj := staff.ObjPayments
	h.menu("Payments", "/admin/payments/on-hold", obj)
	h.route(g, "GET", "/payments/on-hold", obj, staff.ActRead, h.onHold)
	// The webhook inbox is for those who decide about payments (admin, manager).
	h.route(g, "GET", "/payments/webhooks", obj, staff.ActWrite, h.paymentWebhooks)
	h.route(g, "POST", "/orders/:id/payment/accept", obj, staff.ActWrite, h.acceptPayment)
	h.route(g, "POST", "/orders/:id/payment/ask", obj, staff.ActWrite, h.askForRest)
	h.route(g, "POST", "/orders/:id/payment/refund", obj, staff.ActWrite, h.refundPayment)
	h.route(g, "POST", "/orders/:id/payment/mark-paid", obj, staff.ActWrite, h.markPaid)
	h.route(g, "POST", "/orders/:id/payment/simulate", obj, staff.ActWrite, h.simulatePayment)
}

// ---- amounts

// satsText formats satoshis as a bitcoin amount ("0.00012500").
func satsText(sats int64) string { return ports.FormatMinor(sats, "BTC") }

// dueAmount is what a customer still has to pay, read from the invoice's payment
// methods (the on-chain one first): the gateway keeps each method's due up to date.
type dueAmount struct {
	Sats        int64
	Minor       int64
	BTC         string
	Destination string
}

func dueOf(inv *payments.Invoice) dueAmount {
	ms := inv.Methods()
	if len(ms) == 0 {
		return dueAmount{}
	}
	m := ms[0]
	for _, x := range ms {
		if x.Method == "BTC-CHAIN" {
			m = x
			break
		}
	}
	return dueAmount{Sats: m.DueSats, Minor: ports.SatsValue(m.DueSats, m.RatePence), BTC: satsText(m.DueSats), Destination: m.Destination}
}

// askText is the message that asks a customer for the rest of a short payment; staff
// may edit it before sending.
func askText(o *ordering.Order, inv *payments.Invoice, due dueAmount) string {
	return fmt.Sprintf("Hello, we received £%s (%s BTC) towards order %s, which comes to £%s. "+
		"£%s (%s BTC) is still due. Please send the rest to %s and we will release your order, "+
		"or reply here if you would rather cancel it.",
		ports.FormatMinor(inv.ReceivedMinor, "GBP"), satsText(inv.ReceivedSats), o.Number, ports.FormatMinor(inv.AmountMinor, "GBP"),
		ports.FormatMinor(due.Minor, "GBP"), due.BTC, due.Destination)
}

// heldFor says roughly how long ago t was.
func heldFor(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// txURL returns the block explorer's address of a transaction, from the shop
// settings (the default explorer when no settings are wired).
func (h *Handler) txURL(ctx context.Context) (func(txid string) string, error) {
	s := settings.Defaults()
	if h.d.Settings != nil {
		var err error
		if s, err = h.d.Settings.Get(ctx); err != nil {
			return nil, err
		}
	}
	return s.TxURL, nil
}

// ---- the order page's payment panel

// The forms of the payment panel.
const (
	formAccept   = "accept"
	formAsk      = "ask"
	formRefund   = "refund"
	formMarkPaid = "mark-paid"
	formSimulate = "simulate"
)

// paymentFormKey is where a refused payment action leaves its form (with what was
// typed and what was wrong) for the order page it re-renders.
const paymentFormKey = "payment-form"

type paymentFailure struct {
	name string
	form *form
}

// receivedRow is a payment received, with its explorer link.
type receivedRow struct {
	payments.Payment
	BTC   string
	TxURL string
}

type simulation struct {
	Action, Label string
}

// simulations are the sandbox's buttons, in the order a customer's story goes.
var simulations = []simulation{
	{"pay", "Pay in full"}, {"pay_unconfirmed", "Pay, unconfirmed"}, {"confirm", "Confirm"}, {"pay_partial", "Pay partially"},
	{"overpay", "Overpay"}, {"pay_late", "Pay late"}, {"expire", "Expire"},
}

// paymentPanel is what the order page shows about the payment and which decisions it
// offers. The service enforces the rules again; the panel only hides what would be
// refused.
type paymentPanel struct {
	Invoice     *payments.Invoice
	History     []payments.HistoryEntry
	Payments    []receivedRow
	ReceivedBTC string
	Due         dueAmount
	// Decide: the user may take payment decisions (payments write).
	Decide      bool
	CanAccept   bool
	CanAsk      bool
	CanRefund   bool
	CanMarkPaid bool
	// CanCancel points at the order's cancel form, one of the decisions on hold.
	CanCancel   bool
	Policies    []string
	Sandbox     bool
	Simulations []simulation

	Accept, Ask, Refund, MarkPaid, Simulate *form
	failed                                  *form
}

// Failed is the form of the refused action, or nil.
func (p *paymentPanel) Failed() *form {
	if p == nil {
		return nil
	}
	return p.failed
}

// paymentPanel gathers the payment panel of order o (inv is nil when it has no
// invoice).
func (h *Handler) paymentPanel(c *fiber.Ctx, o *ordering.Order, inv *payments.Invoice) (*paymentPanel, error) {
	ctx := c.UserContext()
	p := &paymentPanel{Invoice: inv, Decide: h.d.Staff.Can(principal(c), staff.ObjPayments, staff.ActWrite),
		Accept: emptyForm(), Ask: emptyForm(), Refund: emptyForm(), MarkPaid: emptyForm(), Simulate: emptyForm()}
	if inv == nil {
		return p, nil
	}
	var err error
	if p.History, err = h.d.Payments.History(ctx, o.ID); err != nil {
		return nil, err
	}
	ps, err := h.d.Payments.Payments(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	tx, err := h.txURL(ctx)
	if err != nil {
		return nil, err
	}
	for _, pm := range ps {
		row := receivedRow{Payment: pm, BTC: satsText(pm.AmountSats)}
		if pm.TxID != "" && pm.Method != "BTC-LN" {
			row.TxURL = tx(pm.TxID)
		}
		p.Payments = append(p.Payments, row)
	}
	p.ReceivedBTC = satsText(inv.ReceivedSats)
	if !inv.Status.Paid() && inv.Status != payments.StatusRefunded {
		// A paid invoice owes nothing, whatever its methods still say.
		p.Due = dueOf(inv)
	}

	created := inv.InvoiceID != nil
	onHold := o.Status == ordering.StatusOnHold
	switch inv.Status {
	case payments.StatusPartiallyPaid, payments.StatusPaidLate, payments.StatusInvalid:
		p.CanAccept = onHold && created
	}
	p.CanAsk = inv.ReceivedSats > 0 && p.Due.Sats > 0 && inv.RefundID == "" &&
		(onHold || o.Status == ordering.StatusPendingPayment)
	if created && inv.ReceivedSats > 0 && inv.RefundID == "" {
		if onHold || o.Status == ordering.StatusCancelled {
			p.Policies = []string{"RateThen", "CurrentRate"}
		}
		if inv.OverpaidMinor > 0 {
			p.Policies = append(p.Policies, "OverpaidAmount")
		}
		p.CanRefund = len(p.Policies) > 0
	}
	switch o.Status {
	case ordering.StatusPendingPayment, ordering.StatusOnHold, ordering.StatusExpired:
		p.CanMarkPaid = !inv.Status.Paid() && inv.Status != payments.StatusRefunded
	}
	p.CanCancel = onHold && h.d.Staff.Can(principal(c), staff.ObjOrders, staff.ActWrite)
	p.Sandbox = created && h.d.Payments.Sandbox()
	p.Simulations = simulations
	if p.CanAsk {
		p.Ask.Values["body"] = askText(o, inv, p.Due)
	}
	if f, ok := c.Locals(paymentFormKey).(*paymentFailure); ok {
		p.failed = f.form
		switch f.name {
		case formAccept:
			p.Accept = f.form
		case formAsk:
			p.Ask = f.form
		case formRefund:
			p.Refund = f.form
		case formMarkPaid:
			p.MarkPaid = f.form
		case formSimulate:
			p.Simulate = f.form
		}
	}
	return p, nil
}

// paymentAction runs one decision on the order of the URL. A refusal re-renders the
// order page with the form and its message (422 for bad input, 409 when the payment
// is not in a state for it, 503 when the gateway cannot be reached), having changed
// nothing; a success says what happened and goes back to where the user came from.
func (h *Handler) paymentAction(c *fiber.Ctx, name string, fields []string,
	do func(ctx context.Context, o *ordering.Order, f *form) (string, error)) error {
	o, err := h.loadOrder(c)
	if err != nil {
		return err
	}
	f := newForm(c, fields...)
	ctx := c.UserContext()
	done, err := do(ctx, o, f)
	if err != nil {
		status := fiber.StatusUnprocessableEntity
		code := ports.ErrorCodeOf(err)
		if code == ports.EUNAVAILABLE {
			status, f.Message = fiber.StatusServiceUnavailable, ports.ErrorMessageOf(err)
		} else if !f.fail(err) {
			return err // EFORBIDDEN (simulating without the sandbox) and internal errors
		} else if code == ports.ECONFLICT || code == ports.ENOTFOUND {
			// Not in a state for it, or no invoice to act on: said at the top of the page.
			status = fiber.StatusConflict
		}
		if now, lerr := h.d.Orders.Order(ctx, o.ID); lerr == nil {
			o = now
		}
		c.Locals(paymentFormKey, &paymentFailure{name: name, form: f})
		return h.orderPage(c, status, o, nil, nil)
	}
	h.flash(c, "ok", done)
	if c.FormValue("back") == "on-hold" {
		return h.redirect(c, "/admin/payments/on-hold")
	}
	return h.redirect(c, "/admin/orders/"+o.ID.String()+"#payment")
}

func (h *Handler) acceptPayment(c *fiber.Ctx) error {
	return h.paymentAction(c, formAccept, []string{"note"}, func(ctx context.Context, o *ordering.Order, f *form) (string, error) {
		if _, err := h.d.Payments.Accept(ctx, o.ID, f.Get("note")); err != nil {
			return "", err
		}
		return "Payment of " + o.Number + " accepted; the order goes to the pick queue.", nil
	})
}

func (h *Handler) askForRest(c *fiber.Ctx) error {
	return h.paymentAction(c, formAsk, []string{"body"}, func(ctx context.Context, o *ordering.Order, f *form) (string, error) {
		if _, err := h.d.Orders.ReplyAsStaff(ctx, o, f.Get("body")); err != nil {
			return "", err
		}
		return "Message sent to " + o.IdentityRef + " through the client app.", nil
	})
}

func (h *Handler) refundPayment(c *fiber.Ctx) error {
	return h.paymentAction(c, formRefund, []string{"policy"}, func(ctx context.Context, o *ordering.Order, f *form) (string, error) {
		inv, err := h.d.Payments.Refund(ctx, o.ID, f.Get("policy"))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Refund of £%s (%s) issued for %s; the claim link went to the customer through the client app.",
			ports.FormatMinor(inv.RefundMinor, "GBP"), inv.RefundPolicy, o.Number), nil
	})
}

func (h *Handler) markPaid(c *fiber.Ctx) error {
	return h.paymentAction(c, formMarkPaid, []string{"reason"}, func(ctx context.Context, o *ordering.Order, f *form) (string, error) {
		if _, err := h.d.Payments.MarkPaid(ctx, o.ID, f.Get("reason")); err != nil {
			return "", err
		}
		return o.Number + " marked paid; the order goes to the pick queue.", nil
	})
}

// simulatePayment pretends the customer acted (sandbox only: with any other gateway
// the service refuses with EFORBIDDEN, a 403).
func (h *Handler) simulatePayment(c *fiber.Ctx) error {
	return h.paymentAction(c, formSimulate, []string{"action"}, func(ctx context.Context, o *ordering.Order, f *form) (string, error) {
		inv, err := h.d.Payments.Simulate(ctx, o.ID, f.Get("action"))
		if err != nil {
			return "", err
		}
		label := f.Get("action")
		for _, s := range simulations {
			if s.Action == label {
				label = s.Label
			}
		}
		return fmt.Sprintf("Sandbox: %q simulated; the payment is %s.", label, strings.ReplaceAll(string(inv.Status), "_", " ")), nil
	})
}

// ---- the on-hold queue

type onHoldRow struct {
	ordering.Order
	AppName     string
	Invoice     *payments.Invoice
	ReceivedBTC string
	Due         dueAmount
	OnHoldFor   string
	CanAccept   bool
}

type onHoldData struct {
	Rows     []onHoldRow
	NextURL  string
	Decide   bool
	Webhooks bool
}

// onHold lists the orders whose payment waits for a decision, newest first, a keyset
// page at a time.
func (h *Handler) onHold(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p := principal(c)
	f := ordering.StaffFilter{Status: ordering.StatusOnHold, Limit: 50, After: parseOrderCursor(c.Query("after"))}
	os, next, err := h.d.Orders.StaffOrders(ctx, f)
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, len(os))
	for i := range os {
		ids[i] = os[i].ID
	}
	invs, err := h.d.Payments.ForOrders(ctx, ids)
	if err != nil {
		return err
	}
	names, err := h.appNames(ctx)
	if err != nil {
		return err
	}
	d := onHoldData{Decide: h.d.Staff.Can(p, staff.ObjPayments, staff.ActWrite)}
	d.Webhooks = d.Decide
	now := time.Now()
	for _, o := range os {
		// An order on hold moved there last, so its last change is when it did.
		row := onHoldRow{Order: o, AppName: names[o.AppID], OnHoldFor: heldFor(now, o.UpdatedAt)}
		if inv := invs[o.ID]; inv != nil {
			row.Invoice, row.ReceivedBTC, row.Due = inv, satsText(inv.ReceivedSats), dueOf(inv)
			switch inv.Status {
			case payments.StatusPartiallyPaid, payments.StatusPaidLate, payments.StatusInvalid:
				row.CanAccept = d.Decide && inv.InvoiceID != nil
			}
		}
		d.Rows = append(d.Rows, row)
	}
	if next != nil {
		d.NextURL = "/admin/payments/on-hold?after=" + url.QueryEscape(formatOrderCursor(next))
	}
	return h.page(c, fiber.StatusOK, "payments/on-hold", "Payments on hold", d, nil)
}

// ---- the webhook inbox

// webhookLimit is how many of the latest deliveries the inbox page shows.
const webhookLimit = 200

func (h *Handler) paymentWebhooks(c *fiber.Ctx) error {
	ws, err := h.d.Payments.Webhooks(c.UserContext(), webhookLimit)
	if err != nil {
		return err
	}
	return h.page(c, fiber.StatusOK, "payments/webhooks", "Payment webhooks", map[string]any{"Deliveries": ws, "Limit": webhookLimit}, nil)
}
