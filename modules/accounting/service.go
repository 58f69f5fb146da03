package accounting

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// EntryCursor is the keyset position of an entry in the ledger's order (most recent
// first).
type EntryCursor struct {
	OccurredAt time.Time
	ID         int64
}

// EntryFilter selects journal entries. Zero values match everything.
type EntryFilter struct {
	// From and To bound the date of the entries: From ≤ occurred_at < To.
	From, To time.Time
	// Account keeps the entries with a line on that account.
	Account string
	// OrderNumber keeps the entries of one order ("OD-10042" or "10042").
	OrderNumber string
	After       *EntryCursor
	Limit       int
}

// LedgerRow is one line of the ledger with its entry, as the CSV export writes it.
type LedgerRow struct {
	Line
	OccurredAt  time.Time
	Kind        string
	Source      string
	OrderID     *uuid.UUID
	OrderNumber string
	Memo        string
	Reverses    *int64
}

// AccountTotal is the sum of an account's debits and credits over a period.
type AccountTotal struct {
	Account     string `db:"account"`
	DebitPence  int64  `db:"debit_pence"`
	CreditPence int64  `db:"credit_pence"`
}

// DayTotal is an account's debits and credits on one day (UTC).
type DayTotal struct {
	Day         time.Time `db:"day"`
	Account     string    `db:"account"`
	DebitPence  int64     `db:"debit_pence"`
	CreditPence int64     `db:"credit_pence"`
}

// Store keeps the ledger. Errors: ENOTFOUND.
type Store interface {
	// Post records e with the lines build returns, unless an entry with e's source
	// exists: then it returns that one and posted is false. build runs inside the
	// transaction with what e's order is owed, the order locked against other
	// postings meanwhile.
	Post(ctx context.Context, e *Entry, build func(Owed) ([]Line, error)) (out *Entry, posted bool, err error)
	// Reverse locks entry id, asks fn for its reversal and records it with the audit
	// entry audit makes of it.
	Reverse(ctx context.Context, id int64, fn func(orig *Entry) (*Entry, error), audit func(rev *Entry) ports.AuditEntry) (*Entry, error)
	// Entry returns one entry with its lines.
	Entry(ctx context.Context, id int64) (*Entry, error)
	// Entries returns the entries matching f with their lines, most recent first, at
	// most f.Limit.
	Entries(ctx context.Context, f EntryFilter) ([]Entry, error)
	// StreamLedger calls fn with every line of the entries matching f (its cursor and
	// limit ignored), most recent entry first, as it reads them.
	StreamLedger(ctx context.Context, f EntryFilter, fn func(LedgerRow) error) error
	// AccountTotals sums each account's lines dated in [from, to) (whole UTC days; a
	// zero from is the beginning).
	AccountTotals(ctx context.Context, from, to time.Time) ([]AccountTotal, error)
	// DailyTotals returns the accounts' totals per UTC day in [from, to).
	DailyTotals(ctx context.Context, from, to time.Time, accounts []string) ([]DayTotal, error)
	// PaidOrders counts the payment entries (settled or accepted late, not reversed)
	// dated in [from, to) and sums their sales and shipping income.
	PaidOrders(ctx context.Context, from, to time.Time) (count int, pence int64, err error)
	// CountEntries counts the entries dated in [from, to).
	CountEntries(ctx context.Context, from, to time.Time) (int, error)
}

// Service is the accounting module's application service.
type Service struct {
	store Store
	clock ports.Clock
	src   Sources
}

// NewService returns the accounting service. src may lack what a caller never uses
// (the worker only posts).
func NewService(store Store, clock ports.Clock, src Sources) *Service {
	return &Service{store: store, clock: clock, src: src}
}

// Post records the journal entry of a ledger event. An event already posted (same
// ID) posts nothing new: Post returns its entry with posted false. An invalid event
// is EINVALID.
func (s *Service) Post(ctx context.Context, ev ports.LedgerEvent) (e *Entry, posted bool, err error) {
	if err := ValidateEvent(ev); err != nil {
		return nil, false, err
	}
	return s.store.Post(ctx, NewEntry(ev, ports.ActorFrom(ctx).Name), func(owed Owed) ([]Line, error) {
		return Lines(ev, owed)
	})
}

// PostJob is the handler of ports.JobLedgerPost: it posts the JSON ports.LedgerEvent
// of the payload. A payload that is not a valid event fails the job, which the queue
// retries and then archives, where it stays visible in the jobs UI.
func (s *Service) PostJob(ctx context.Context, payload []byte) error {
	var ev ports.LedgerEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("ledger event payload: %w", err)
	}
	e, posted, err := s.Post(ctx, ev)
	if err != nil {
		return fmt.Errorf("post ledger event %q: %w", ev.ID, err)
	}
	if posted {
		ports.Logger(ctx).Info("ledger entry posted", "entry", e.ID, "source", e.Source, "kind", e.Kind, "pence", e.Total())
	}
	return nil
}

// Reverse posts the entry that reverses entry id, dated now, and records the staff
// action in the audit log. Errors: ENOTFOUND, EINVALID without a reason, ECONFLICT
// for a reversal or an entry already reversed.
func (s *Service) Reverse(ctx context.Context, id int64, reason string) (*Entry, error) {
	actor := ports.ActorFrom(ctx)
	return s.store.Reverse(ctx, id, func(orig *Entry) (*Entry, error) {
		return orig.Reversal(s.clock(), reason, actor.Name)
	}, func(rev *Entry) ports.AuditEntry {
		return ports.Audit(ctx, "ledger.reverse", "ledger_entry", fmt.Sprint(id),
			fmt.Sprintf("Reversed by entry %d: %s", rev.ID, rev.Memo))
	})
}

// Entry returns one journal entry with its lines. Errors: ENOTFOUND.
func (s *Service) Entry(ctx context.Context, id int64) (*Entry, error) {
	return s.store.Entry(ctx, id)
}

// normalizeFilter checks f and puts its order number in the stored form.
func normalizeFilter(f *EntryFilter) error {
	if f.Account != "" {
		if _, ok := AccountByCode(f.Account); !ok {
			return ports.Invalid(ports.Field("account", "Choose an account from the list."))
		}
	}
	f.OrderNumber = NormalizeOrderNumber(f.OrderNumber)
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return ports.Invalid(ports.Field("to", "The end date cannot be before the start date."))
	}
	return nil
}

// Entries lists the journal entries matching f, most recent first, with the cursor
// of the next page. Errors: EINVALID for an unknown account or dates out of order.
func (s *Service) Entries(ctx context.Context, f EntryFilter) ([]Entry, *EntryCursor, error) {
	if err := normalizeFilter(&f); err != nil {
		return nil, nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	want := f.Limit
	f.Limit++
	es, err := s.store.Entries(ctx, f)
	if err != nil || len(es) <= want {
		return es, nil, err
	}
	es = es[:want]
	last := es[want-1]
	return es, &EntryCursor{OccurredAt: last.OccurredAt, ID: last.ID}, nil
}

// StreamLedger calls fn with every line of the entries matching f, as it reads them.
func (s *Service) StreamLedger(ctx context.Context, f EntryFilter, fn func(LedgerRow) error) error {
	if err := normalizeFilter(&f); err != nil {
		return err
	}
	return s.store.StreamLedger(ctx, f, fn)
}

// NormalizeOrderNumber turns what staff type for an order number ("od-10042",
// "10042") into the stored form ("OD-10042").
func NormalizeOrderNumber(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s != "" && strings.Trim(s, "0123456789") == "" {
		return "OD-" + s
	}
	return s
}

// Unpaid lists the orders waiting for payment placed in the filter's dates, newest
// first, with the cursor of the next page.
func (s *Service) Unpaid(ctx context.Context, f UnpaidFilter) ([]Order, string, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	return s.src.Orders.Unpaid(ctx, f)
}

// StreamUnpaid calls fn with every order waiting for payment placed in [from, to),
// reading them a page at a time.
func (s *Service) StreamUnpaid(ctx context.Context, from, to time.Time, fn func(Order) error) error {
	f := UnpaidFilter{From: from, To: to, Limit: 200}
	for {
		os, next, err := s.src.Orders.Unpaid(ctx, f)
		if err != nil {
			return err
		}
		for _, o := range os {
			if err := fn(o); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		f.After = next
	}
}

// Received lists the payments received in the filter's dates, most recent first,
// with the cursor of the next page.
func (s *Service) Received(ctx context.Context, f ReceivedFilter) ([]Payment, string, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	return s.src.Payments.Received(ctx, f)
}

// StreamReceived calls fn with every payment received in [from, to), as it reads them.
func (s *Service) StreamReceived(ctx context.Context, from, to time.Time, fn func(Payment) error) error {
	return s.src.Payments.StreamReceived(ctx, from, to, fn)
}
