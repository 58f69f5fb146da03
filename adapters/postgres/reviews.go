package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"orderdesk/modules/reviews"
	"orderdesk/ports"
)

// ReviewStore implements reviews.Store on the reviews schema.
type ReviewStore struct{ db *DB }

// NewReviewStore returns the review store.
func NewReviewStore(db *DB) *ReviewStore { return &ReviewStore{db: db} }

var _ reviews.Store = (*ReviewStore)(nil)

const reviewColumns = `id, product_id, app_id, identity_ref, rating, body, status, hidden_reason, moderated_by, moderated_at,
	reply, reply_by, replied_at, created_at, updated_at`

const insertReview = `INSERT INTO reviews.reviews (` + reviewColumns + `) VALUES (:id, :product_id, :app_id, :identity_ref,
	:rating, :body, :status, :hidden_reason, :moderated_by, :moderated_at, :reply, :reply_by, :replied_at, :created_at, :updated_at)
	ON CONFLICT (app_id, identity_ref, product_id) DO NOTHING`

const saveReview = `UPDATE reviews.reviews SET rating = :rating, body = :body, status = :status, hidden_reason = :hidden_reason,
	moderated_by = :moderated_by, moderated_at = :moderated_at, reply = :reply, reply_by = :reply_by, replied_at = :replied_at,
	updated_at = :updated_at WHERE id = :id`

// SaveAuthored locks the author's review of the product (or, when there is none,
// inserts fn's new one; an insert that loses a race to a concurrent one finds and
// locks the winner's row instead, and asks fn again).
func (s *ReviewStore) SaveAuthored(ctx context.Context, author reviews.Author, productID uuid.UUID,
	fn func(r *reviews.Review) (*reviews.Review, error)) (*reviews.Review, error) {
	var out *reviews.Review
	err := s.db.inTx(ctx, func(tx *Tx) error {
		// Two rounds at most: the second sees the row a concurrent insert committed.
		for range 2 {
			var prev *reviews.Review
			var r reviews.Review
			err := sqlx.GetContext(ctx, tx, &r, `SELECT `+reviewColumns+` FROM reviews.reviews
				WHERE app_id = $1 AND identity_ref = $2 AND product_id = $3 FOR UPDATE`, author.AppID, author.IdentityRef, productID)
			switch {
			case err == nil:
				prev = &r
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("find review: %w", err)
			}
			next, err := fn(prev)
			if err != nil {
				return err
			}
			if next == nil {
				out = prev
				return nil
			}
			if prev != nil {
				if _, err := tx.NamedExecContext(ctx, saveReview, next); err != nil {
					return fmt.Errorf("save review: %w", err)
				}
				out = next
				return nil
			}
			res, err := tx.NamedExecContext(ctx, insertReview, next)
			if err != nil {
				return fmt.Errorf("insert review: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				out = next
				return nil
			}
		}
		return errors.New("save review: the review was neither found nor inserted")
	})
	return out, err
}

// Review returns one review.
func (s *ReviewStore) Review(ctx context.Context, id uuid.UUID) (*reviews.Review, error) {
	var r reviews.Review
	if err := sqlx.GetContext(ctx, s.db.q(ctx), &r, `SELECT `+reviewColumns+` FROM reviews.reviews WHERE id = $1`, id); err != nil {
		return nil, notFound(err, "No such review.")
	}
	return &r, nil
}

// UpdateReview locks the review, lets fn change it, and saves it with fn's audit entry.
func (s *ReviewStore) UpdateReview(ctx context.Context, id uuid.UUID, fn func(r *reviews.Review) (ports.AuditEntry, error)) (*reviews.Review, error) {
	var r reviews.Review
	err := s.db.inTx(ctx, func(tx *Tx) error {
		if err := sqlx.GetContext(ctx, tx, &r, `SELECT `+reviewColumns+` FROM reviews.reviews WHERE id = $1 FOR UPDATE`, id); err != nil {
			return notFound(err, "No such review.")
		}
		a, err := fn(&r)
		if err != nil {
			return err
		}
		if _, err := tx.NamedExecContext(ctx, saveReview, &r); err != nil {
			return fmt.Errorf("save review: %w", err)
		}
		return insertAudit(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// ListApproved returns a product's approved reviews, newest first.
func (s *ReviewStore) ListApproved(ctx context.Context, productID uuid.UUID, after *reviews.Cursor, limit int) ([]reviews.Review, error) {
	args := []any{productID, limit}
	cond := ""
	if after != nil {
		args = append(args, after.At, after.ID)
		cond = ` AND (created_at, id) < ($3, $4)`
	}
	out := []reviews.Review{}
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `SELECT `+reviewColumns+` FROM reviews.reviews
		WHERE product_id = $1 AND status = 'approved'`+cond+` ORDER BY created_at DESC, id DESC LIMIT $2`, args...); err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	return out, nil
}

// ListStaff returns the reviews matching f, latest submission first.
func (s *ReviewStore) ListStaff(ctx context.Context, f reviews.StaffFilter) ([]reviews.Review, error) {
	where := []string{"status = $1"}
	args := []any{f.Status}
	if f.ProductID != nil {
		args = append(args, *f.ProductID)
		where = append(where, fmt.Sprintf("product_id = $%d", len(args)))
	}
	if f.After != nil {
		args = append(args, f.After.At, f.After.ID)
		where = append(where, fmt.Sprintf("(updated_at, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	args = append(args, f.Limit)
	out := []reviews.Review{}
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &out, `SELECT `+reviewColumns+` FROM reviews.reviews WHERE `+
		strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY updated_at DESC, id DESC LIMIT $%d`, len(args)), args...); err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	return out, nil
}

// CountByStatus counts reviews per status.
func (s *ReviewStore) CountByStatus(ctx context.Context, productID *uuid.UUID) (map[reviews.Status]int, error) {
	var rows []struct {
		Status reviews.Status `db:"status"`
		N      int            `db:"n"`
	}
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &rows, `SELECT status, count(*) AS n FROM reviews.reviews
		WHERE $1::uuid IS NULL OR product_id = $1 GROUP BY status`, productID); err != nil {
		return nil, fmt.Errorf("count reviews: %w", err)
	}
	out := make(map[reviews.Status]int, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// Ratings sums up the approved reviews of each product.
func (s *ReviewStore) Ratings(ctx context.Context, productIDs []uuid.UUID) (map[uuid.UUID]reviews.Rating, error) {
	var rows []struct {
		ProductID uuid.UUID `db:"product_id"`
		Count     int       `db:"n"`
		Sum       int       `db:"total"`
	}
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &rows, `SELECT product_id, count(*) AS n, sum(rating) AS total
		FROM reviews.reviews WHERE status = 'approved' AND product_id = ANY($1) GROUP BY product_id`, productIDs); err != nil {
		return nil, fmt.Errorf("ratings: %w", err)
	}
	out := make(map[uuid.UUID]reviews.Rating, len(rows))
	for _, r := range rows {
		out[r.ProductID] = reviews.Rating{Count: r.Count, Sum: r.Sum}
	}
	return out, nil
}

// Version returns the reviews' version.
func (s *ReviewStore) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := sqlx.GetContext(ctx, s.db.q(ctx), &v, `SELECT version FROM reviews.version`); err != nil {
		return 0, fmt.Errorf("reviews version: %w", err)
	}
	return v, nil
}
