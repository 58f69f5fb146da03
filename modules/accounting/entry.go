package accounting

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// KindReversal is the kind of an entry that reverses another. The other kinds are the
// ledger event kinds of package ports.
const KindReversal = "reversal"

// EventKinds lists the kinds of ledger event the module posts.
var EventKinds = []string{ports.LedgerPaymentSettled, ports.LedgerOverpayment, ports.LedgerLatePaymentAccepted,
	ports.LedgerRefund, ports.LedgerPaidOrderCancelled, ports.LedgerPostagePurchased}

// MaxPence bounds every amount of an event (ten billion pounds), so that no sum of
// amounts can overflow.
const MaxPence = 1_000_000_000_000

// MaxMemo is the longest memo or reversal reason, in characters.
const MaxMemo = 500

// Entry is one journal entry: a dated set of lines whose debits equal its credits.
type Entry struct {
	ID int64 `db:"id"`
	// Source identifies what the entry records: the ledger event's id, or
	// "reversal:<id>" for a reversal. It is unique: posting is idempotent.
	Source      string     `db:"source"`
	Kind        string     `db:"kind"`
	OccurredAt  time.Time  `db:"occurred_at"`
	PostedAt    time.Time  `db:"posted_at"`
	OrderID     *uuid.UUID `db:"order_id"`
	OrderNumber string     `db:"order_number"`
	Memo        string     `db:"memo"`
	PostedBy    string     `db:"posted_by"`
	// Reverses is the entry a reversal reverses; ReversedBy the reversal of this
	// entry, if it has one.
	Reverses   *int64 `db:"reverses"`
	ReversedBy *int64 `db:"reversed_by"`

	Lines []Line `db:"-"`
}

// Line is one account's debit or credit in an entry, in pence, with the bitcoin that
// moved where any did.
type Line struct {
	EntryID     int64  `db:"entry_id"`
	LineNo      int    `db:"line_no"`
	Account     string `db:"account"`
	DebitPence  int64  `db:"debit_pence"`
	CreditPence int64  `db:"credit_pence"`
	AmountSats  int64  `db:"amount_sats"`
	// RatePence is the rate of AmountSats, in pence per bitcoin.
	RatePence int64 `db:"rate_pence"`
}

// Total is the entry's debits (equal to its credits).
func (e *Entry) Total() int64 {
	var t int64
	for _, l := range e.Lines {
		t += l.DebitPence
	}
	return t
}

// Owed is what the ledger says an order's customer is owed: the credit balances of
// the order's refunds payable and overpayments. A refund draws on them first.
type Owed struct {
	RefundsPayable int64
	Overpaid       int64
}

// Add counts the lines of one of the order's entries into what is owed.
func (o *Owed) Add(lines []Line) {
	for _, l := range lines {
		switch l.Account {
		case AccRefundsPayable:
			o.RefundsPayable += l.CreditPence - l.DebitPence
		case AccOverpayments:
			o.Overpaid += l.CreditPence - l.DebitPence
		}
	}
}

// Balanced checks that lines make a valid entry: at least two lines, each a debit or
// a credit of a known account, no account twice, a rate only with bitcoin, and
// debits equal to credits.
func Balanced(lines []Line) error {
	if len(lines) < 2 {
		return fmt.Errorf("an entry needs at least two lines, not %d", len(lines))
	}
	var debits, credits int64
	seen := map[string]bool{}
	for _, l := range lines {
		if _, ok := AccountByCode(l.Account); !ok {
			return fmt.Errorf("unknown account %q", l.Account)
		}
		if seen[l.Account] {
			return fmt.Errorf("account %s appears twice", l.Account)
		}
		seen[l.Account] = true
		if l.DebitPence < 0 || l.CreditPence < 0 || (l.DebitPence > 0) == (l.CreditPence > 0) {
			return fmt.Errorf("line of account %s must be either a debit or a credit", l.Account)
		}
		if l.AmountSats < 0 || l.RatePence < 0 || (l.RatePence > 0 && l.AmountSats == 0) {
			return fmt.Errorf("line of account %s has a rate without bitcoin", l.Account)
		}
		debits += l.DebitPence
		credits += l.CreditPence
	}
	if debits != credits {
		return fmt.Errorf("debits %d ≠ credits %d", debits, credits)
	}
	return nil
}

// ValidateEvent checks a ledger event before it is posted: a known kind, an id, a
// time, an order for the kinds that concern one, amounts within bounds and consistent
// with each other. Errors are EINVALID naming the event's JSON fields.
func ValidateEvent(ev ports.LedgerEvent) error {
	var errs []ports.FieldError
	bad := func(field, msg string) { errs = append(errs, ports.Field(field, msg)) }
	if ev.ID == "" || len(ev.ID) > 200 || !utf8.ValidString(ev.ID) || strings.HasPrefix(ev.ID, "reversal:") {
		bad("id", "An event needs an id of 1 to 200 bytes (not starting with reversal:).")
	}
	known := false
	for _, k := range EventKinds {
		known = known || ev.Kind == k
	}
	if !known {
		bad("kind", fmt.Sprintf("Unknown kind %q.", ev.Kind))
	}
	if ev.At.IsZero() {
		bad("at", "An event needs the time it happened.")
	}
	if ev.OrderID != "" {
		if _, err := uuid.Parse(ev.OrderID); err != nil {
			bad("orderId", "Not a UUID.")
		}
	} else if known && ev.Kind != ports.LedgerPostagePurchased {
		bad("orderId", "This kind of event concerns an order: give its id.")
	}
	if len(ev.OrderNumber) > 64 || !utf8.ValidString(ev.OrderNumber) {
		bad("orderNumber", "At most 64 bytes of text.")
	}
	if utf8.RuneCountInString(ev.Memo) > MaxMemo || !utf8.ValidString(ev.Memo) {
		bad("memo", fmt.Sprintf("At most %d characters of text.", MaxMemo))
	}
	for _, a := range []struct {
		field string
		v     int64
	}{{"subtotalPence", ev.SubtotalPence}, {"shippingPence", ev.ShippingPence}, {"totalPence", ev.TotalPence},
		{"receivedPence", ev.ReceivedPence}, {"amountPence", ev.AmountPence}, {"ratePence", ev.RatePence}} {
		if a.v < 0 || a.v > MaxPence {
			bad(a.field, "Out of range.")
		}
	}
	if ev.AmountSats < 0 || ev.AmountSats > 21e14 {
		bad("amountSats", "Out of range.")
	}
	if len(errs) > 0 {
		return ports.Invalid(errs...)
	}
	split := func() {
		if ev.TotalPence <= 0 {
			bad("totalPence", "The order's total must be positive.")
		} else if ev.SubtotalPence+ev.ShippingPence != ev.TotalPence {
			bad("totalPence", "The total must be the subtotal plus shipping.")
		}
	}
	switch ev.Kind {
	case ports.LedgerPaymentSettled:
		split()
		if ev.ReceivedPence <= 0 {
			bad("receivedPence", "A settled payment received something.")
		}
	case ports.LedgerLatePaymentAccepted:
		split()
		if ev.ReceivedPence <= 0 {
			bad("receivedPence", "An accepted payment received something.")
		}
	case ports.LedgerPaidOrderCancelled:
		split()
	default: // overpayment, refund, postage
		if ev.AmountPence <= 0 {
			bad("amountPence", "The amount must be positive.")
		}
	}
	return ports.Invalid(errs...)
}

// builder collects amounts per account (debits positive) in the order they come.
type builder struct {
	order []string
	net   map[string]int64
	sats  map[string][2]int64
}

func (b *builder) add(account string, pence int64) {
	if b.net == nil {
		b.net, b.sats = map[string]int64{}, map[string][2]int64{}
	}
	if _, ok := b.net[account]; !ok {
		b.order = append(b.order, account)
	}
	b.net[account] += pence
}

func (b *builder) debit(account string, pence int64)  { b.add(account, pence) }
func (b *builder) credit(account string, pence int64) { b.add(account, -pence) }

// crypto records the bitcoin that moved through account, with its rate when known.
func (b *builder) crypto(account string, sats, rate int64) {
	if sats > 0 {
		b.sats[account] = [2]int64{sats, rate}
	}
}

// balance puts whatever the lines so far leave unbalanced on account.
func (b *builder) balance(account string) {
	var sum int64
	for _, v := range b.net {
		sum += v
	}
	if sum != 0 {
		b.add(account, -sum)
	}
}

// lines returns the debits, then the credits, numbered; accounts that net to zero
// are left out.
func (b *builder) lines() []Line {
	var debits, credits []Line
	for _, acc := range b.order {
		v := b.net[acc]
		if v == 0 {
			continue
		}
		l := Line{Account: acc}
		if s, ok := b.sats[acc]; ok {
			l.AmountSats, l.RatePence = s[0], s[1]
		}
		if v > 0 {
			l.DebitPence = v
			debits = append(debits, l)
		} else {
			l.CreditPence = -v
			credits = append(credits, l)
		}
	}
	out := append(debits, credits...)
	for i := range out {
		out[i].LineNo = i + 1
	}
	return out
}

// Lines maps a ledger event to the balanced lines of its entry. owed is what the
// order's customer is owed before the event; only a refund depends on it.
//
//   - payment_settled: the wallet receives ReceivedPence (or, when no bitcoin moved,
//     Payments outside BTCPay: staff marked the order paid); Sales and Shipping income
//     earn the subtotal and shipping; the difference is a rounding/FX difference.
//   - overpayment: the wallet receives AmountPence more, owed to the customer
//     (Customer overpayments).
//   - late_payment_accepted: as payment_settled (ReceivedPence received; a shortfall
//     is a difference too).
//   - refund: the wallet pays AmountPence, which settles first what the order's
//     customer is owed (refunds payable, then overpayments); the rest is a Refund.
//   - paid_order_cancelled: the order's sales and shipping income are reversed and
//     its total becomes a refund payable.
//   - postage_purchased: Postage expense, payable to Royal Mail.
func Lines(ev ports.LedgerEvent, owed Owed) ([]Line, error) {
	if err := ValidateEvent(ev); err != nil {
		return nil, err
	}
	var b builder
	switch ev.Kind {
	case ports.LedgerPaymentSettled, ports.LedgerLatePaymentAccepted:
		received := ev.ReceivedPence
		asset := AccWallet
		if ev.AmountSats == 0 {
			asset = AccOutside
		}
		b.debit(asset, received)
		b.crypto(asset, ev.AmountSats, ev.RatePence)
		b.credit(AccSales, ev.SubtotalPence)
		b.credit(AccShipping, ev.ShippingPence)
		b.balance(AccFX)
	case ports.LedgerOverpayment:
		b.debit(AccWallet, ev.AmountPence)
		b.crypto(AccWallet, ev.AmountSats, ev.RatePence)
		b.credit(AccOverpayments, ev.AmountPence)
	case ports.LedgerRefund:
		rest := ev.AmountPence
		for _, o := range []struct {
			account string
			owed    int64
		}{{AccRefundsPayable, owed.RefundsPayable}, {AccOverpayments, owed.Overpaid}} {
			if take := min(rest, max(o.owed, 0)); take > 0 {
				b.debit(o.account, take)
				rest -= take
			}
		}
		b.debit(AccRefunds, rest)
		b.credit(AccWallet, ev.AmountPence)
		b.crypto(AccWallet, ev.AmountSats, ev.RatePence)
	case ports.LedgerPaidOrderCancelled:
		b.debit(AccSales, ev.SubtotalPence)
		b.debit(AccShipping, ev.ShippingPence)
		b.credit(AccRefundsPayable, ev.TotalPence)
	case ports.LedgerPostagePurchased:
		b.debit(AccPostage, ev.AmountPence)
		b.credit(AccPostagePayable, ev.AmountPence)
	}
	lines := b.lines()
	if err := Balanced(lines); err != nil {
		return nil, fmt.Errorf("ledger event %s (%s): %w", ev.ID, ev.Kind, err)
	}
	return lines, nil
}

// NewEntry is the entry of a ledger event, without its lines (which Lines makes once
// the order's balances are known).
func NewEntry(ev ports.LedgerEvent, postedBy string) *Entry {
	e := &Entry{Source: ev.ID, Kind: ev.Kind, OccurredAt: ev.At.UTC(), OrderNumber: ev.OrderNumber, Memo: ev.Memo, PostedBy: postedBy}
	if id, err := uuid.Parse(ev.OrderID); err == nil {
		e.OrderID = &id
	}
	return e
}

// ReversalSource is the source of the entry that reverses entry id.
func ReversalSource(id int64) string { return "reversal:" + strconv.FormatInt(id, 10) }

// Reversal is the entry that cancels e: the same lines with debits and credits
// swapped, dated at, giving the reason. A reversal cannot itself be reversed (post
// the original event's correction instead), nor can an entry be reversed twice; both
// are ECONFLICT. A missing reason is EINVALID.
func (e *Entry) Reversal(at time.Time, reason, by string) (*Entry, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > MaxMemo {
		return nil, ports.Invalid(ports.Field("reason", fmt.Sprintf("Say why the entry is reversed (at most %d characters).", MaxMemo)))
	}
	if e.Kind == KindReversal {
		return nil, ports.Errorf(ports.ECONFLICT, "Entry %d is itself a reversal and cannot be reversed.", e.ID)
	}
	if e.ReversedBy != nil {
		return nil, ports.Errorf(ports.ECONFLICT, "Entry %d was already reversed by entry %d.", e.ID, *e.ReversedBy)
	}
	id := e.ID
	r := &Entry{Source: ReversalSource(e.ID), Kind: KindReversal, OccurredAt: at.UTC(), OrderID: e.OrderID, OrderNumber: e.OrderNumber,
		Memo: reason, PostedBy: by, Reverses: &id}
	for _, l := range e.Lines {
		r.Lines = append(r.Lines, Line{LineNo: l.LineNo, Account: l.Account, DebitPence: l.CreditPence, CreditPence: l.DebitPence,
			AmountSats: l.AmountSats, RatePence: l.RatePence})
	}
	return r, nil
}
