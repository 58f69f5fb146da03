package ordering

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// StaffFilter selects orders for the staff's list. Zero values match everything.
type StaffFilter struct {
	Status Status
	// PaymentStatus is the status of the order's invoice, as the payments module
	// keeps it.
	PaymentStatus string
	// From and To bound the time of placing: From ≤ created_at < To.
	From, To    time.Time
	AppID       *uuid.UUID
	IdentityRef string
	// Number is an order number, "OD-10042" or just "10042".
	Number string
	// IDs, when not nil, keeps only these orders. The service sets it from
	// PaymentStatus; it is never an empty, non-nil slice when it reaches the store.
	IDs   []uuid.UUID
	After *Cursor
	Limit int
}

// Conversation is an order whose customer waits for an answer from staff.
type Conversation struct {
	OrderID     uuid.UUID `db:"order_id"`
	Number      string    `db:"number"`
	Status      Status    `db:"status"`
	AppID       uuid.UUID `db:"app_id"`
	IdentityRef string    `db:"identity_ref"`
	LastAt      time.Time `db:"last_at"`
	LastBody    string    `db:"last_body"`
	Messages    int       `db:"messages"`
}

// NormalizeNumber turns what staff type for an order number ("od-10042", "10042")
// into the stored form ("OD-10042").
func NormalizeNumber(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s != "" && strings.Trim(s, "0123456789") == "" {
		return "OD-" + s
	}
	return s
}

// resolve turns f.PaymentStatus into the set of orders it selects; none reports that
// no order can match.
func (s *Service) resolve(ctx context.Context, f *StaffFilter) (none bool, err error) {
	f.Number = NormalizeNumber(f.Number)
	if f.PaymentStatus == "" {
		return false, nil
	}
	ids, err := s.payments.OrderIDsWithStatus(ctx, f.PaymentStatus)
	if err != nil {
		return false, err
	}
	if len(ids) == 0 {
		return true, nil
	}
	f.IDs = ids
	return false, nil
}

// StaffOrders lists orders for staff, newest first, with the cursor of the next page.
func (s *Service) StaffOrders(ctx context.Context, f StaffFilter) ([]Order, *Cursor, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if none, err := s.resolve(ctx, &f); none || err != nil {
		return nil, nil, err
	}
	want := f.Limit
	f.Limit++
	os, err := s.store.ListStaffOrders(ctx, f)
	return onePage(os, err, want)
}

// CountByStatus counts the orders matching f (whatever its Status) per status.
func (s *Service) CountByStatus(ctx context.Context, f StaffFilter) (map[Status]int, error) {
	if none, err := s.resolve(ctx, &f); none || err != nil {
		return map[Status]int{}, err
	}
	return s.store.CountByStatus(ctx, f)
}

// CancelAsStaff cancels an order on the staff's word, which must give a reason; the
// rules are Cancel's.
func (s *Service) CancelAsStaff(ctx context.Context, o *Order, reason string) (*Order, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, ports.Invalid(ports.Field("reason", "Say why the order is cancelled; the customer's app is told."))
	}
	return s.Cancel(ctx, o, reason)
}

// OpenConversations lists the orders whose last message is the customer's, the most
// recent first, with the cursor of the next page.
func (s *Service) OpenConversations(ctx context.Context, after *Cursor, limit int) ([]Conversation, *Cursor, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	cs, err := s.store.OpenConversations(ctx, after, limit+1)
	if err != nil || len(cs) <= limit {
		return cs, nil, err
	}
	cs = cs[:limit]
	last := cs[limit-1]
	return cs, &Cursor{CreatedAt: last.LastAt, ID: last.OrderID}, nil
}

// staffAudit is the audit entry of a change to o when a staff user makes it, else
// nil: client apps and the system are recorded in the order's history.
func staffAudit(ctx context.Context, action string, o *Order, detail string) *ports.AuditEntry {
	if ports.ActorFrom(ctx).Kind != ports.ActorStaff {
		return nil
	}
	a := ports.Audit(ctx, action, "order", o.ID.String(), detail)
	return &a
}

// clipRunes shortens s to at most n runes, marking the cut.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
