package reviews

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// Products is what reviews need of the catalog.
type Products interface {
	// OnSale returns nil for a product client apps can see, ENOTFOUND otherwise.
	OnSale(ctx context.Context, id uuid.UUID) error
	// Names returns the names of the products that exist, on sale or not; ids it does
	// not know are left out.
	Names(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error)
}

// Purchases is what reviews need of ordering.
type Purchases interface {
	// HasReceived reports whether the client app's customer has an order, shipped or
	// delivered, that contains the product.
	HasReceived(ctx context.Context, appID uuid.UUID, identityRef string, productID uuid.UUID) (bool, error)
}

// StaffFilter selects reviews for the moderation queue.
type StaffFilter struct {
	Status Status
	// ProductID, when not nil, keeps one product's reviews.
	ProductID *uuid.UUID
	After     *Cursor
	Limit     int
}

// Store keeps reviews. Errors: ENOTFOUND for a missing review.
type Store interface {
	// SaveAuthored locks the author's review of the product, if there is one, and
	// calls fn with it (nil when there is none): fn returns the review to save (the one
	// it was given, changed, or a new one) or nil to save nothing. Concurrent calls for
	// the same author and product run one after the other, so that an author never
	// has two reviews of a product. It returns the review saved, or when fn saved
	// nothing the one fn was given.
	SaveAuthored(ctx context.Context, author Author, productID uuid.UUID, fn func(r *Review) (*Review, error)) (*Review, error)
	Review(ctx context.Context, id uuid.UUID) (*Review, error)
	// UpdateReview locks the review, lets fn change it, and saves it with fn's audit
	// entry in one transaction.
	UpdateReview(ctx context.Context, id uuid.UUID, fn func(r *Review) (ports.AuditEntry, error)) (*Review, error)
	// ListApproved returns a product's approved reviews, newest created first, after
	// the cursor (creation time, id), at most limit of them.
	ListApproved(ctx context.Context, productID uuid.UUID, after *Cursor, limit int) ([]Review, error)
	// ListStaff returns the reviews matching f, latest submission (updated_at) first.
	ListStaff(ctx context.Context, f StaffFilter) ([]Review, error)
	// CountByStatus counts the reviews (of one product, when productID is not nil)
	// per status.
	CountByStatus(ctx context.Context, productID *uuid.UUID) (map[Status]int, error)
	// Ratings sums up the approved reviews of each product that has some.
	Ratings(ctx context.Context, productIDs []uuid.UUID) (map[uuid.UUID]Rating, error)
	// Version is bumped by every committed change to what client apps can see.
	Version(ctx context.Context) (int64, error)
}

// Config is what the service needs.
type Config struct {
	Store     Store
	Products  Products
	Purchases Purchases
	// AutoApprove says whether the shop publishes new and edited reviews without a
	// moderator (the shop's settings); nil means never.
	AutoApprove func(ctx context.Context) (bool, error)
	Clock       ports.Clock
}

// Service is the reviews module's application service.
type Service struct {
	c Config
}

// NewService returns the reviews service.
func NewService(c Config) *Service {
	if c.AutoApprove == nil {
		c.AutoApprove = func(context.Context) (bool, error) { return false, nil }
	}
	if c.Clock == nil {
		c.Clock = ports.SystemClock
	}
	return &Service{c: c}
}

// Submit records author's review of a product: the first one, or a new version of
// the one they wrote before (created reports which). Errors, in this order: EINVALID
// naming "rating" and "body"; ENOTFOUND for a product that is not on sale; EFORBIDDEN
// when the author has no shipped or delivered order containing the product.
func (s *Service) Submit(ctx context.Context, author Author, productID uuid.UUID, in Input) (r *Review, created bool, err error) {
	if author.IdentityRef == "" || utf8.RuneCountInString(author.IdentityRef) > IdentityRefMax {
		return nil, false, ports.Invalid(ports.Field("X-Identity-Reference", "Send the customer's identity reference: 1 to 128 printable characters."))
	}
	rating, body, err := in.Parse()
	if err != nil {
		return nil, false, err
	}
	if err := s.c.Products.OnSale(ctx, productID); err != nil {
		return nil, false, err
	}
	ok, err := s.c.Purchases.HasReceived(ctx, author.AppID, author.IdentityRef, productID)
	if err != nil {
		return nil, false, fmt.Errorf("review eligibility: %w", err)
	}
	if !ok {
		return nil, false, ports.Errorf(ports.EFORBIDDEN,
			"Only a customer who has received this product can review it: this customer has no shipped or delivered order containing it.")
	}
	auto, err := s.c.AutoApprove(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("reviews auto-approve setting: %w", err)
	}
	// At the database's precision, so that what is returned is what is stored.
	now := s.c.Clock().UTC().Truncate(time.Microsecond)
	r, err = s.c.Store.SaveAuthored(ctx, author, productID, func(prev *Review) (*Review, error) {
		if prev == nil {
			created = true
			return New(author, productID, rating, body, auto, now), nil
		}
		created = false
		if !prev.Edit(rating, body, auto, now) {
			return nil, nil
		}
		return prev, nil
	})
	if err != nil {
		return nil, false, err
	}
	return r, created, nil
}

// Approved lists a product's approved reviews, newest first, with the cursor of the
// next page (nil on the last). A product that is not on sale is ENOTFOUND.
func (s *Service) Approved(ctx context.Context, productID uuid.UUID, after *Cursor, limit int) ([]Review, *Cursor, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	if err := s.c.Products.OnSale(ctx, productID); err != nil {
		return nil, nil, err
	}
	rs, err := s.c.Store.ListApproved(ctx, productID, after, limit+1)
	if err != nil || len(rs) <= limit {
		return rs, nil, err
	}
	rs = rs[:limit]
	last := rs[limit-1]
	return rs, &Cursor{At: last.CreatedAt, ID: last.ID}, nil
}

// Ratings returns the rating of each of the products (a zero Rating for a product
// without approved reviews).
func (s *Service) Ratings(ctx context.Context, productIDs []uuid.UUID) (map[uuid.UUID]Rating, error) {
	if len(productIDs) == 0 {
		return map[uuid.UUID]Rating{}, nil
	}
	return s.c.Store.Ratings(ctx, productIDs)
}

// Version is the version of what client apps can see of reviews, for caching.
func (s *Service) Version(ctx context.Context) (int64, error) { return s.c.Store.Version(ctx) }

// Listed is a review in the moderation queue, with its product's name (empty when
// the product no longer exists).
type Listed struct {
	Review
	ProductName string
}

// Queue lists reviews for moderation, latest submission first, with the cursor of the
// next page.
func (s *Service) Queue(ctx context.Context, f StaffFilter) ([]Listed, *Cursor, error) {
	if !f.Status.Valid() {
		return nil, nil, ports.Invalid(ports.Field("status", "Choose pending, approved or hidden."))
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 25
	}
	want := f.Limit
	f.Limit++
	rs, err := s.c.Store.ListStaff(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	var next *Cursor
	if len(rs) > want {
		rs = rs[:want]
		next = &Cursor{At: rs[want-1].UpdatedAt, ID: rs[want-1].ID}
	}
	seen := map[uuid.UUID]bool{}
	var ids []uuid.UUID
	for _, r := range rs {
		if !seen[r.ProductID] {
			seen[r.ProductID] = true
			ids = append(ids, r.ProductID)
		}
	}
	names := map[uuid.UUID]string{}
	if len(ids) > 0 {
		if names, err = s.c.Products.Names(ctx, ids); err != nil {
			return nil, nil, err
		}
	}
	out := make([]Listed, len(rs))
	for i, r := range rs {
		out[i] = Listed{Review: r, ProductName: names[r.ProductID]}
	}
	return out, next, nil
}

// CountByStatus counts the reviews (of one product, when productID is not nil) per
// status.
func (s *Service) CountByStatus(ctx context.Context, productID *uuid.UUID) (map[Status]int, error) {
	return s.c.Store.CountByStatus(ctx, productID)
}

// Review returns one review.
func (s *Service) Review(ctx context.Context, id uuid.UUID) (*Review, error) {
	return s.c.Store.Review(ctx, id)
}

// Approve publishes a review (pending or hidden); it is audited as review.approve.
func (s *Service) Approve(ctx context.Context, id uuid.UUID) (*Review, error) {
	return s.moderate(ctx, id, "review.approve", func(r *Review, by string) (string, error) {
		from := r.Status
		if err := r.Approve(by, s.c.Clock()); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s → approved: %d★ %q", from, r.Rating, clip(r.Body, 80)), nil
	})
}

// Hide takes a review out of client apps' sight; the reason is required (EINVALID
// naming "reason") and audited as review.hide.
func (s *Service) Hide(ctx context.Context, id uuid.UUID, reason string) (*Review, error) {
	if _, err := ParseReason(reason); err != nil {
		return nil, err
	}
	return s.moderate(ctx, id, "review.hide", func(r *Review, by string) (string, error) {
		from := r.Status
		if err := r.Hide(reason, by, s.c.Clock()); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s → hidden: %s", from, r.HiddenReason), nil
	})
}

// Reply writes or rewrites the staff's public reply to a review (EINVALID naming
// "reply" when it is empty or too long), audited as review.reply.
func (s *Service) Reply(ctx context.Context, id uuid.UUID, reply string) (*Review, error) {
	if _, err := ParseReply(reply); err != nil {
		return nil, err
	}
	return s.moderate(ctx, id, "review.reply", func(r *Review, by string) (string, error) {
		if err := r.SetReply(reply, by, s.c.Clock()); err != nil {
			return "", err
		}
		return clip(r.Reply, 200), nil
	})
}

// RemoveReply takes the staff's reply to a review down, audited as
// review.reply_remove.
func (s *Service) RemoveReply(ctx context.Context, id uuid.UUID) (*Review, error) {
	return s.moderate(ctx, id, "review.reply_remove", func(r *Review, _ string) (string, error) {
		old := r.Reply
		if err := r.RemoveReply(); err != nil {
			return "", err
		}
		return "removed: " + clip(old, 200), nil
	})
}

// moderate applies a staff action to a review and records it in the audit log, in
// one transaction.
func (s *Service) moderate(ctx context.Context, id uuid.UUID, action string, fn func(r *Review, by string) (string, error)) (*Review, error) {
	by := ports.ActorFrom(ctx).Name
	return s.c.Store.UpdateReview(ctx, id, func(r *Review) (ports.AuditEntry, error) {
		detail, err := fn(r, by)
		if err != nil {
			return ports.AuditEntry{}, err
		}
		return ports.Audit(ctx, action, "review", r.ID.String(), detail), nil
	})
}

// clip shortens s to at most n runes, marking the cut, on one line.
func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
