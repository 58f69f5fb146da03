package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// EffectRefunded: the customer's money went back; the order is refunded.
const EffectRefunded Effect = "refunded"

// The refund policies staff choose from (BTCPay's refund variants).
var RefundPolicies = []string{"RateThen", "CurrentRate", "OverpaidAmount"}

// reason checks a staff reason or note: required ones are 1..500 characters.
func reason(field, s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	bad := utf8.RuneCountInString(s) > 500 || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	})
	if bad || (required && s == "") {
		msg := "At most 500 characters, without control characters."
		if required {
			msg = "Give a reason (1 to 500 characters)."
		}
		return "", ports.Invalid(ports.Field(field, msg))
	}
	return s, nil
}

// Accept settles a payment exception the shop owner accepts (a partial or late
// payment, an invalid one): the invoice is marked settled at the gateway and the order
// goes to the pick queue.
func (s *Service) Accept(ctx context.Context, orderID uuid.UUID, note string) (*Invoice, error) {
	note, err := reason("note", note, false)
	if err != nil {
		return nil, err
	}
	inv, err := s.store.Invoice(ctx, orderID)
	if err != nil {
		return nil, err
	}
	switch inv.Status {
	case StatusPartiallyPaid, StatusPaidLate, StatusInvalid, StatusExpired:
	default:
		return nil, ports.Errorf(ports.ECONFLICT, "A payment that is %s cannot be accepted.", strings.ReplaceAll(string(inv.Status), "_", " "))
	}
	if inv.InvoiceID == nil {
		return nil, ports.Errorf(ports.ECONFLICT, "The invoice of %s is not created at the gateway yet.", inv.OrderNumber)
	}
	if err := s.gateway.MarkInvoice(ctx, *inv.InvoiceID, "Settled"); err != nil {
		return nil, fmt.Errorf("mark invoice settled: %w", err)
	}
	if note == "" {
		note = "accepted by staff"
	}
	return s.sync(ctx, orderID, syncOptions{source: SourceStaff, note: note,
		audit: auditOf(ctx, "payment.accept", "order", orderID.String(), inv.OrderNumber+": "+note)})
}

// MarkPaid records a payment made outside the gateway (admin or manager, with a
// reason): the invoice is marked settled at the gateway when it has one, and the
// order goes to the pick queue.
func (s *Service) MarkPaid(ctx context.Context, orderID uuid.UUID, why string) (*Invoice, error) {
	why, err := reason("reason", why, true)
	if err != nil {
		return nil, err
	}
	inv, err := s.store.Invoice(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if inv.Status.Paid() || inv.Status == StatusRefunded {
		return nil, ports.Errorf(ports.ECONFLICT, "This order's payment is %s already.", inv.Status)
	}
	audit := auditOf(ctx, "payment.mark_paid", "order", orderID.String(), inv.OrderNumber+": "+why)
	opt := syncOptions{source: SourceStaff, note: "marked paid: " + why, markedPaid: true, audit: audit}
	if inv.InvoiceID != nil {
		if err := s.gateway.MarkInvoice(ctx, *inv.InvoiceID, "Settled"); err != nil {
			return nil, fmt.Errorf("mark invoice settled: %w", err)
		}
		return s.sync(ctx, orderID, opt)
	}
	var out *Invoice
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		var c *statusChange
		inv, err := s.store.WithInvoiceLocked(ctx, orderID, func(inv *Invoice) error {
			inv.UpdatedAt = s.clock()
			c = s.changeStatus(inv, StatusPaid, EffectPaid)
			return nil
		})
		if err != nil {
			return err
		}
		out = inv
		return s.announce(ctx, inv, c, opt)
	})
	return out, err
}

// Refund pays a customer back through the gateway (a pull payment whose claim link
// goes to the client app). policy is one of RefundPolicies; OverpaidAmount refunds
// only an overpayment and leaves the order paid.
func (s *Service) Refund(ctx context.Context, orderID uuid.UUID, policy string) (*Invoice, error) {
	ok := false
	for _, p := range RefundPolicies {
		ok = ok || p == policy
	}
	if !ok {
		return nil, ports.Invalid(ports.Field("policy", "Choose how to value the refund: RateThen, CurrentRate or OverpaidAmount."))
	}
	inv, err := s.store.Invoice(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if inv.RefundID != "" {
		return nil, ports.Errorf(ports.ECONFLICT, "%s was refunded already (%s).", inv.OrderNumber, inv.RefundLink)
	}
	if inv.InvoiceID == nil || inv.ReceivedSats == 0 {
		return nil, ports.Errorf(ports.ECONFLICT, "Nothing was paid for %s through the gateway; there is nothing to refund there.", inv.OrderNumber)
	}
	if policy == "OverpaidAmount" && inv.OverpaidMinor == 0 {
		return nil, ports.Invalid(ports.Field("policy", "This order was not overpaid: choose RateThen or CurrentRate."))
	}
	r, err := s.gateway.Refund(ctx, ports.RefundRequest{InvoiceID: *inv.InvoiceID, RatePolicy: policy,
		Name: "Refund " + inv.OrderNumber, Description: "Refund of order " + inv.OrderNumber})
	if err != nil {
		return nil, fmt.Errorf("refund at the gateway: %w", err)
	}
	amount := inv.ReceivedMinor
	switch {
	case policy == "OverpaidAmount":
		amount = inv.OverpaidMinor
	case r.Amount.Currency == "GBP" && r.Amount.Minor > 0:
		amount = r.Amount.Minor
	case r.Amount.Currency == "BTC" && r.Amount.Minor > 0 && inv.RatePence > 0:
		amount = ports.SatsValue(r.Amount.Minor, inv.RatePence)
	}
	var out *Invoice
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		var c *statusChange
		inv, err := s.store.WithInvoiceLocked(ctx, orderID, func(inv *Invoice) error {
			inv.RefundID, inv.RefundLink, inv.RefundPolicy, inv.RefundMinor = r.ID, r.ClaimLink, policy, amount
			inv.UpdatedAt = s.clock()
			if policy != "OverpaidAmount" {
				c = s.changeStatus(inv, StatusRefunded, EffectRefunded)
			}
			return nil
		})
		if err != nil {
			return err
		}
		out = inv
		audit := auditOf(ctx, "payment.refund", "order", orderID.String(),
			fmt.Sprintf("%s: %s, %s", inv.OrderNumber, policy, ports.FormatMinor(amount, "GBP")))
		opt := syncOptions{source: SourceStaff, note: "refund " + policy + ": " + r.ClaimLink, audit: audit}
		if err := s.announce(ctx, inv, c, opt); err != nil {
			return err
		}
		e := ports.LedgerEvent{ID: "refund:" + r.ID, Kind: ports.LedgerRefund, At: s.clock(), OrderID: orderID.String(),
			OrderNumber: inv.OrderNumber, AmountPence: amount, RatePence: inv.RatePence, Memo: policy}
		if policy == "OverpaidAmount" {
			e.Memo = "overpayment"
		}
		payload, _ := json.Marshal(e)
		if err := s.store.AddJobs(ctx, ports.Job{ID: "ledger:" + e.ID, Type: ports.JobLedgerPost, Payload: payload}); err != nil {
			return err
		}
		if s.listener == nil {
			return nil
		}
		return s.listener.RefundIssued(ctx, orderID, r.ClaimLink, ports.Money{Minor: amount, Currency: "GBP"})
	})
	return out, err
}

// OrderCancelled hears that an order was cancelled, in its transaction: an invoice
// nothing was paid into is voided at the gateway by a queued job, so the customer
// cannot pay it any more; a paid one asks the ledger to turn the sale into a refund
// owed to the customer.
func (s *Service) OrderCancelled(ctx context.Context, orderID uuid.UUID) error {
	inv, err := s.store.Invoice(ctx, orderID)
	if err != nil {
		if ports.ErrorCodeOf(err) == ports.ENOTFOUND {
			return nil
		}
		return err
	}
	if inv.SettledAt != nil && inv.Status != StatusRefunded {
		e := ports.LedgerEvent{ID: "cancelled:" + orderID.String(), Kind: ports.LedgerPaidOrderCancelled, At: s.clock(),
			OrderID: orderID.String(), OrderNumber: inv.OrderNumber, SubtotalPence: inv.SubtotalMinor,
			ShippingPence: inv.ShippingMinor, TotalPence: inv.AmountMinor}
		payload, _ := json.Marshal(e)
		return s.store.AddJobs(ctx, ports.Job{ID: "ledger:" + e.ID, Type: ports.JobLedgerPost, Payload: payload})
	}
	if inv.Status != StatusPending {
		return nil
	}
	payload, _ := json.Marshal(invoiceJob{OrderID: orderID})
	return s.store.AddJobs(ctx, ports.Job{ID: JobVoid + ":" + orderID.String(), Type: JobVoid, Payload: payload, Queue: ports.QueueDefault})
}

// VoidJob marks a cancelled order's unpaid invoice invalid at the gateway, then
// syncs it. An invoice paid meanwhile is left alone for staff (sync shows it).
func (s *Service) VoidJob(ctx context.Context, payload []byte) error {
	var j invoiceJob
	if err := json.Unmarshal(payload, &j); err != nil {
		return fmt.Errorf("void job payload: %w", err)
	}
	inv, err := s.store.Invoice(ctx, j.OrderID)
	if err != nil {
		if ports.ErrorCodeOf(err) == ports.ENOTFOUND {
			return nil
		}
		return err
	}
	if inv.InvoiceID == nil {
		// Creation may still be retrying; it finds the order cancelled and the
		// reconciliation leaves an unpaid invoice to expire.
		return nil
	}
	gi, err := s.gateway.Invoice(ctx, *inv.InvoiceID)
	if err != nil {
		return err
	}
	if gi.Status == "New" && len(gi.Payments) == 0 {
		if err := s.gateway.MarkInvoice(ctx, gi.ID, "Invalid"); err != nil {
			return err
		}
	}
	_, err = s.Sync(ctx, j.OrderID, SourceReconcile)
	if code := ports.ErrorCodeOf(err); code == ports.ENOTFOUND || code == ports.ECONFLICT {
		return nil
	}
	return err
}

// Sandbox reports whether the gateway is the sandbox, whose payments staff may
// simulate.
func (s *Service) Sandbox() bool {
	_, ok := s.gateway.(Simulator)
	return ok
}

// SimulateActions are the sandbox's simulated customer actions.
var SimulateActions = []string{"pay", "pay_unconfirmed", "confirm", "pay_partial", "overpay", "pay_late", "expire"}

// Simulate pretends the customer acted on the invoice (sandbox only) and syncs the
// order as a webhook would.
func (s *Service) Simulate(ctx context.Context, orderID uuid.UUID, action string) (*Invoice, error) {
	sim, ok := s.gateway.(Simulator)
	if !ok {
		return nil, ports.Errorf(ports.EFORBIDDEN, "Payments can be simulated only with the sandbox gateway.")
	}
	valid := false
	for _, a := range SimulateActions {
		valid = valid || a == action
	}
	if !valid {
		return nil, ports.Invalid(ports.Field("action", "Choose a simulation: pay, pay_unconfirmed, confirm, pay_partial, overpay, pay_late or expire."))
	}
	inv, err := s.store.Invoice(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if inv.InvoiceID == nil {
		return nil, ports.Errorf(ports.ECONFLICT, "The invoice of %s is not created yet.", inv.OrderNumber)
	}
	if err := sim.Simulate(ctx, *inv.InvoiceID, action); err != nil {
		return nil, err
	}
	return s.sync(ctx, orderID, syncOptions{source: SourceSandbox, note: "sandbox: " + strings.ReplaceAll(action, "_", " "),
		audit: auditOf(ctx, "payment.simulate", "order", orderID.String(), inv.OrderNumber+": "+action)})
}

// auditOf is the audit entry of a staff action on an order's payment.
func auditOf(ctx context.Context, action, object, id, detail string) *ports.AuditEntry {
	a := ports.Audit(ctx, action, object, id, detail)
	return &a
}
