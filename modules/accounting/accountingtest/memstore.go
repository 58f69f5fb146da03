// Package accountingtest helps test the accounting module and its store: an in-memory
// store that keeps the PostgreSQL store's rules, a generator of random ledger events,
// and the ledger's invariants as a property suite that runs against any store.
package accountingtest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"orderdesk/modules/accounting"
	"orderdesk/ports"
)

// MemStore is an in-memory accounting.Store. Like the database it refuses an
// unbalanced entry and a second entry of the same source, and it never changes an
// entry once recorded.
type MemStore struct {
	mu         sync.Mutex
	entries    []accounting.Entry // by id - 1
	bySource   map[string]int64
	reversedBy map[int64]int64
	// Audit holds the audit entries recorded with reversals.
	Audit []ports.AuditEntry
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{bySource: map[string]int64{}, reversedBy: map[int64]int64{}}
}

var _ accounting.Store = (*MemStore)(nil)

// copyOf returns entry id as the store would read it: a copy, with ReversedBy.
func (m *MemStore) copyOf(id int64) *accounting.Entry {
	e := m.entries[id-1]
	e.Lines = slices.Clone(e.Lines)
	if r, ok := m.reversedBy[id]; ok {
		e.ReversedBy = &r
	} else {
		e.ReversedBy = nil
	}
	return &e
}

func (m *MemStore) owed(e *accounting.Entry) accounting.Owed {
	var o accounting.Owed
	if e.OrderID == nil {
		return o
	}
	for _, x := range m.entries {
		if x.OrderID != nil && *x.OrderID == *e.OrderID {
			o.Add(x.Lines)
		}
	}
	return o
}

// insert records e as the database would, or refuses it.
func (m *MemStore) insert(e *accounting.Entry) error {
	if err := accounting.Balanced(e.Lines); err != nil {
		return err
	}
	if e.Reverses != nil {
		if _, ok := m.reversedBy[*e.Reverses]; ok {
			return ports.Errorf(ports.ECONFLICT, "That entry was reversed meanwhile.")
		}
	}
	e.ID = int64(len(m.entries) + 1)
	e.PostedAt = time.Now()
	e.ReversedBy = nil
	for i := range e.Lines {
		e.Lines[i].EntryID = e.ID
	}
	stored := *e
	stored.Lines = slices.Clone(e.Lines)
	m.entries = append(m.entries, stored)
	m.bySource[e.Source] = e.ID
	if e.Reverses != nil {
		m.reversedBy[*e.Reverses] = e.ID
	}
	return nil
}

// Post records e with the lines build makes, unless e's source is posted already.
func (m *MemStore) Post(_ context.Context, e *accounting.Entry, build func(accounting.Owed) ([]accounting.Line, error)) (*accounting.Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.bySource[e.Source]; ok {
		return m.copyOf(id), false, nil
	}
	lines, err := build(m.owed(e))
	if err != nil {
		return nil, false, err
	}
	ne := *e
	ne.Lines = lines
	if err := m.insert(&ne); err != nil {
		return nil, false, err
	}
	return &ne, true, nil
}

// Reverse records the reversal fn makes of entry id.
func (m *MemStore) Reverse(_ context.Context, id int64, fn func(*accounting.Entry) (*accounting.Entry, error), audit func(*accounting.Entry) ports.AuditEntry) (*accounting.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > int64(len(m.entries)) {
		return nil, ports.Errorf(ports.ENOTFOUND, "There is no such journal entry.")
	}
	rev, err := fn(m.copyOf(id))
	if err != nil {
		return nil, err
	}
	if _, ok := m.bySource[rev.Source]; ok {
		return nil, ports.Errorf(ports.ECONFLICT, "Entry %d was reversed meanwhile.", id)
	}
	if err := m.insert(rev); err != nil {
		return nil, err
	}
	m.Audit = append(m.Audit, audit(rev))
	return rev, nil
}

// Entry returns one entry.
func (m *MemStore) Entry(_ context.Context, id int64) (*accounting.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > int64(len(m.entries)) {
		return nil, ports.Errorf(ports.ENOTFOUND, "There is no such journal entry.")
	}
	return m.copyOf(id), nil
}

// matching returns the entries matching f (cursor included when withCursor), most
// recent first.
func (m *MemStore) matching(f accounting.EntryFilter, withCursor bool) []*accounting.Entry {
	var out []*accounting.Entry
	for i := range m.entries {
		e := &m.entries[i]
		switch {
		case !f.From.IsZero() && e.OccurredAt.Before(f.From),
			!f.To.IsZero() && !e.OccurredAt.Before(f.To),
			f.OrderNumber != "" && e.OrderNumber != f.OrderNumber,
			f.Account != "" && !slices.ContainsFunc(e.Lines, func(l accounting.Line) bool { return l.Account == f.Account }):
			continue
		}
		if withCursor && f.After != nil && !(e.OccurredAt.Before(f.After.OccurredAt) ||
			e.OccurredAt.Equal(f.After.OccurredAt) && e.ID < f.After.ID) {
			continue
		}
		out = append(out, m.copyOf(e.ID))
	}
	slices.SortFunc(out, func(a, b *accounting.Entry) int {
		if c := b.OccurredAt.Compare(a.OccurredAt); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	return out
}

// Entries returns a page of the entries matching f.
func (m *MemStore) Entries(_ context.Context, f accounting.EntryFilter) ([]accounting.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []accounting.Entry
	for _, e := range m.matching(f, true) {
		if len(out) == f.Limit {
			break
		}
		out = append(out, *e)
	}
	return out, nil
}

// StreamLedger calls fn with every line of the entries matching f.
func (m *MemStore) StreamLedger(_ context.Context, f accounting.EntryFilter, fn func(accounting.LedgerRow) error) error {
	m.mu.Lock()
	es := m.matching(f, false)
	m.mu.Unlock()
	for _, e := range es {
		for _, l := range e.Lines {
			if err := fn(accounting.LedgerRow{Line: l, OccurredAt: e.OccurredAt, Kind: e.Kind, Source: e.Source, OrderID: e.OrderID,
				OrderNumber: e.OrderNumber, Memo: e.Memo, Reverses: e.Reverses}); err != nil {
				return err
			}
		}
	}
	return nil
}

// days returns the daily totals of every account with lines in [from, to).
func (m *MemStore) days(from, to time.Time) map[[2]string]*accounting.DayTotal {
	out := map[[2]string]*accounting.DayTotal{}
	for _, e := range m.entries {
		day := accounting.Day(e.OccurredAt)
		if (!from.IsZero() && day.Before(accounting.Day(from))) || !day.Before(accounting.Day(to)) {
			continue
		}
		for _, l := range e.Lines {
			k := [2]string{day.Format(time.DateOnly), l.Account}
			t, ok := out[k]
			if !ok {
				t = &accounting.DayTotal{Day: day, Account: l.Account}
				out[k] = t
			}
			t.DebitPence += l.DebitPence
			t.CreditPence += l.CreditPence
		}
	}
	return out
}

// AccountTotals sums each account's lines dated in [from, to).
func (m *MemStore) AccountTotals(_ context.Context, from, to time.Time) ([]accounting.AccountTotal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sums := map[string]*accounting.AccountTotal{}
	for _, d := range m.days(from, to) {
		t, ok := sums[d.Account]
		if !ok {
			t = &accounting.AccountTotal{Account: d.Account}
			sums[d.Account] = t
		}
		t.DebitPence += d.DebitPence
		t.CreditPence += d.CreditPence
	}
	var out []accounting.AccountTotal
	for _, t := range sums {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b accounting.AccountTotal) int { return strings.Compare(a.Account, b.Account) })
	return out, nil
}

// DailyTotals returns the accounts' totals per day in [from, to).
func (m *MemStore) DailyTotals(_ context.Context, from, to time.Time, accounts []string) ([]accounting.DayTotal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []accounting.DayTotal
	for _, d := range m.days(from, to) {
		if slices.Contains(accounts, d.Account) {
			out = append(out, *d)
		}
	}
	slices.SortFunc(out, func(a, b accounting.DayTotal) int {
		if c := a.Day.Compare(b.Day); c != 0 {
			return c
		}
		return strings.Compare(a.Account, b.Account)
	})
	return out, nil
}

// PaidOrders counts the payment entries in [from, to) not reversed, with their income.
func (m *MemStore) PaidOrders(_ context.Context, from, to time.Time) (int, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, pence := 0, int64(0)
	for _, e := range m.entries {
		if (e.Kind != ports.LedgerPaymentSettled && e.Kind != ports.LedgerLatePaymentAccepted) ||
			e.OccurredAt.Before(from) || !e.OccurredAt.Before(to) {
			continue
		}
		if _, ok := m.reversedBy[e.ID]; ok {
			continue
		}
		n++
		for _, l := range e.Lines {
			if l.Account == accounting.AccSales || l.Account == accounting.AccShipping {
				pence += l.CreditPence
			}
		}
	}
	return n, pence, nil
}

// CountEntries counts the entries dated in [from, to).
func (m *MemStore) CountEntries(_ context.Context, from, to time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, e := range m.entries {
		if !e.OccurredAt.Before(from) && e.OccurredAt.Before(to) {
			n++
		}
	}
	return n, nil
}
