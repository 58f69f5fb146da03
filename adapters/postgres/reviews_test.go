package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/ordering"
	"orderdesk/modules/reviews"
	"orderdesk/ports"
)

func reviewsVersion(t *testing.T) int64 {
	t.Helper()
	v, err := postgres.NewReviewStore(testDB).Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// submit saves author's review of product through SaveAuthored as the service does,
// and reports whether it was created.
func submit(t *testing.T, s *postgres.ReviewStore, author reviews.Author, product uuid.UUID, rating int, body string, at time.Time) (*reviews.Review, bool) {
	t.Helper()
	created := false
	r, err := s.SaveAuthored(context.Background(), author, product, func(prev *reviews.Review) (*reviews.Review, error) {
		if prev == nil {
			created = true
			return reviews.New(author, product, rating, body, false, at), nil
		}
		if !prev.Edit(rating, body, false, at) {
			return nil, nil
		}
		return prev, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, created
}

func staffReviewCtx() context.Context {
	return ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: "u-7", Name: "sam", IP: "192.0.2.9"})
}

func approveReview(t *testing.T, s *postgres.ReviewStore, id uuid.UUID) {
	t.Helper()
	ctx := staffReviewCtx()
	if _, err := s.UpdateReview(ctx, id, func(r *reviews.Review) (ports.AuditEntry, error) {
		return ports.Audit(ctx, "review.approve", "review", r.ID.String(), "test"), r.Approve("sam", now())
	}); err != nil {
		t.Fatal(err)
	}
}

func TestReviewStoreSaveAuthored(t *testing.T) {
	s := postgres.NewReviewStore(testDB)
	ann := reviews.Author{AppID: uuid.New(), IdentityRef: "tg-ann"}
	product := uuid.New()
	t0 := now().Add(-time.Hour)

	first, created := submit(t, s, ann, product, 4, "Good tea 🍵", t0)
	if !created || first.Status != reviews.StatusPending {
		t.Fatalf("first review: created %v, %+v", created, first)
	}
	got, err := s.Review(context.Background(), first.ID)
	if err != nil || got.Body != "Good tea 🍵" || got.Rating != 4 || !got.CreatedAt.Equal(t0) || got.ModeratedAt != nil || got.RepliedAt != nil {
		t.Fatalf("stored: %+v, %v", got, err)
	}
	approveReview(t, s, first.ID)

	// The same rating and text again: nothing changes, it stays approved.
	same, created := submit(t, s, ann, product, 4, "Good tea 🍵", t0.Add(time.Minute))
	if created || same.ID != first.ID || same.Status != reviews.StatusApproved || !same.UpdatedAt.Equal(t0) {
		t.Fatalf("repeated review: created %v, %+v", created, same)
	}
	// An edit replaces the text and goes back to moderation.
	edited, created := submit(t, s, ann, product, 2, "Too bitter", t0.Add(2*time.Minute))
	if created || edited.ID != first.ID {
		t.Fatalf("edit made another review: created %v, %+v", created, edited)
	}
	got, _ = s.Review(context.Background(), first.ID)
	if got.Rating != 2 || got.Body != "Too bitter" || got.Status != reviews.StatusPending || !got.CreatedAt.Equal(t0) ||
		!got.UpdatedAt.Equal(t0.Add(2*time.Minute)) || got.ModeratedBy != "" || got.ModeratedAt != nil {
		t.Fatalf("after the edit: %+v", got)
	}

	// Another identity of the same app, the same identity of another app, and another
	// product are other reviews.
	for i, a := range []struct {
		author  reviews.Author
		product uuid.UUID
	}{
		{reviews.Author{AppID: ann.AppID, IdentityRef: "tg-bob"}, product},
		{reviews.Author{AppID: uuid.New(), IdentityRef: "tg-ann"}, product},
		{ann, uuid.New()},
	} {
		r, created := submit(t, s, a.author, a.product, 5, fmt.Sprintf("other %d", i), t0)
		if !created || r.ID == first.ID {
			t.Fatalf("other %d: created %v, %+v", i, created, r)
		}
	}
	if n := countRows(t, `SELECT count(*) FROM reviews.reviews WHERE app_id = $1 AND identity_ref = 'tg-ann' AND product_id = $2`, ann.AppID, product); n != 1 {
		t.Fatalf("%d reviews of one author and product", n)
	}

	// An error from fn saves nothing.
	boom := errors.New("boom")
	_, err = s.SaveAuthored(context.Background(), ann, product, func(prev *reviews.Review) (*reviews.Review, error) {
		prev.Body = "changed"
		return prev, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
	if got, _ := s.Review(context.Background(), first.ID); got.Body != "Too bitter" {
		t.Fatalf("a failed save changed the review: %q", got.Body)
	}
}

// TestReviewStoreConcurrentFirstReviews: many first posts of one author at once make
// one review; exactly one of them creates it and the others edit it.
func TestReviewStoreConcurrentFirstReviews(t *testing.T) {
	s := postgres.NewReviewStore(testDB)
	author := reviews.Author{AppID: uuid.New(), IdentityRef: "tg-race"}
	product := uuid.New()
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, ids := 0, map[uuid.UUID]bool{}
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			made := false
			r, err := s.SaveAuthored(context.Background(), author, product, func(prev *reviews.Review) (*reviews.Review, error) {
				body := fmt.Sprintf("take %d", i)
				if prev == nil {
					made = true
					return reviews.New(author, product, 3, body, false, now()), nil
				}
				made = false
				prev.Edit(3, body, false, now())
				return prev, nil
			})
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if made {
				created++
			}
			ids[r.ID] = true
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if created != 1 || len(ids) != 1 {
		t.Fatalf("%d creations, %d distinct reviews", created, len(ids))
	}
	if c := countRows(t, `SELECT count(*) FROM reviews.reviews WHERE app_id = $1`, author.AppID); c != 1 {
		t.Fatalf("%d rows", c)
	}
}

func TestReviewStoreModerationIsAudited(t *testing.T) {
	s := postgres.NewReviewStore(testDB)
	ctx := staffReviewCtx()
	r, _ := submit(t, s, reviews.Author{AppID: uuid.New(), IdentityRef: "tg-audit"}, uuid.New(), 1, "Awful", now())

	got, err := s.UpdateReview(ctx, r.ID, func(r *reviews.Review) (ports.AuditEntry, error) {
		return ports.Audit(ctx, "review.hide", "review", r.ID.String(), "pending → hidden: spam"), r.Hide("spam", "sam", now())
	})
	if err != nil || got.Status != reviews.StatusHidden || got.HiddenReason != "spam" {
		t.Fatalf("hide: %+v, %v", got, err)
	}
	var a ports.AuditEntry
	if err := testDB.GetContext(ctx, &a, `SELECT * FROM platform.audit_log WHERE action = 'review.hide' AND object_id = $1`, r.ID.String()); err != nil {
		t.Fatal(err)
	}
	if a.Actor != "sam" || a.ActorKind != "staff" || a.ObjectType != "review" || a.Detail != "pending → hidden: spam" || a.IP != "192.0.2.9" {
		t.Fatalf("audit entry %+v", a)
	}

	// A refused change writes neither the review nor an audit entry.
	_, err = s.UpdateReview(ctx, r.ID, func(r *reviews.Review) (ports.AuditEntry, error) {
		return ports.Audit(ctx, "review.hide", "review", r.ID.String(), "again"), r.Hide("again", "sam", now())
	})
	wantCode(t, err, ports.ECONFLICT)
	if n := auditCount(t, "review.hide", r.ID.String()); n != 1 {
		t.Fatalf("%d audit entries", n)
	}
	// A failing audit insert rolls the change back: the audit is in the same transaction.
	_, err = s.UpdateReview(ctx, r.ID, func(r *reviews.Review) (ports.AuditEntry, error) {
		// PostgreSQL's text refuses NUL: the audit insert fails.
		return ports.Audit(ctx, "review.approve", "review", r.ID.String(), "bad\x00detail"), r.Approve("sam", now())
	})
	if err == nil {
		t.Fatal("an approval with a broken audit entry was saved")
	}
	if got, _ := s.Review(ctx, r.ID); got.Status != reviews.StatusHidden {
		t.Fatalf("the approval was kept without its audit entry: %s", got.Status)
	}
	_, err = s.UpdateReview(ctx, uuid.New(), func(*reviews.Review) (ports.AuditEntry, error) { return ports.AuditEntry{}, nil })
	wantCode(t, err, ports.ENOTFOUND)
	_, err = s.Review(ctx, uuid.New())
	wantCode(t, err, ports.ENOTFOUND)

	// The schema holds the rules too.
	for _, q := range []string{
		`UPDATE reviews.reviews SET hidden_reason = '' WHERE id = $1`,
		`UPDATE reviews.reviews SET rating = 6 WHERE id = $1`,
		`UPDATE reviews.reviews SET body = '' WHERE id = $1`,
		`UPDATE reviews.reviews SET reply = 'x' WHERE id = $1`,
		`UPDATE reviews.reviews SET status = 'deleted' WHERE id = $1`,
	} {
		if _, err := testDB.ExecContext(ctx, q, r.ID); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
}

func TestReviewStoreLists(t *testing.T) {
	s := postgres.NewReviewStore(testDB)
	ctx := context.Background()
	app := uuid.New()
	product, other := uuid.New(), uuid.New()
	t0 := now().Add(-24 * time.Hour)
	var all []*reviews.Review
	for i := range 7 {
		r, _ := submit(t, s, reviews.Author{AppID: app, IdentityRef: fmt.Sprintf("list-%d", i)}, product, i%5+1, fmt.Sprintf("review %d", i), t0.Add(time.Duration(i)*time.Minute))
		all = append(all, r)
	}
	// Two share a creation time: the id breaks the tie.
	twin, _ := submit(t, s, reviews.Author{AppID: app, IdentityRef: "list-twin"}, product, 5, "twin", t0.Add(3*time.Minute))
	submit(t, s, reviews.Author{AppID: app, IdentityRef: "list-other"}, other, 1, "other product", t0)
	for _, i := range []int{0, 2, 3, 5, 6} {
		approveReview(t, s, all[i].ID)
	}
	approveReview(t, s, twin.ID)
	hideCtx := staffReviewCtx()
	if _, err := s.UpdateReview(hideCtx, all[1].ID, func(r *reviews.Review) (ports.AuditEntry, error) {
		return ports.Audit(hideCtx, "review.hide", "review", r.ID.String(), "x"), r.Hide("off topic", "sam", now())
	}); err != nil {
		t.Fatal(err)
	}

	// Approved, newest first, by pages of 2.
	want := []uuid.UUID{all[6].ID, all[5].ID}
	if twin.ID.String() > all[3].ID.String() {
		want = append(want, twin.ID, all[3].ID)
	} else {
		want = append(want, all[3].ID, twin.ID)
	}
	want = append(want, all[2].ID, all[0].ID)
	var got []uuid.UUID
	var after *reviews.Cursor
	for range 10 {
		page, err := s.ListApproved(ctx, product, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			if r.Status != reviews.StatusApproved || r.ProductID != product {
				t.Fatalf("listed %+v", r)
			}
			got = append(got, r.ID)
		}
		if len(page) < 2 {
			break
		}
		last := page[len(page)-1]
		after = &reviews.Cursor{At: last.CreatedAt, ID: last.ID}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("approved pages:\n got %v\nwant %v", got, want)
	}

	// The staff's queue: one status (and product), latest submission first.
	pending, err := s.ListStaff(ctx, reviews.StaffFilter{Status: reviews.StatusPending, ProductID: &product, Limit: 10})
	if err != nil || len(pending) != 1 || pending[0].ID != all[4].ID {
		t.Fatalf("pending: %v %v", pending, err)
	}
	hidden, err := s.ListStaff(ctx, reviews.StaffFilter{Status: reviews.StatusHidden, ProductID: &product, Limit: 10})
	if err != nil || len(hidden) != 1 || hidden[0].ID != all[1].ID || hidden[0].HiddenReason != "off topic" {
		t.Fatalf("hidden: %v %v", hidden, err)
	}
	approved, err := s.ListStaff(ctx, reviews.StaffFilter{Status: reviews.StatusApproved, ProductID: &product, Limit: 3})
	if err != nil || len(approved) != 3 || approved[0].ID != all[6].ID {
		t.Fatalf("approved: %v %v", approved, err)
	}
	last := approved[2]
	rest, err := s.ListStaff(ctx, reviews.StaffFilter{Status: reviews.StatusApproved, ProductID: &product, Limit: 10,
		After: &reviews.Cursor{At: last.UpdatedAt, ID: last.ID}})
	if err != nil || len(rest) != 3 {
		t.Fatalf("approved after the cursor: %d %v", len(rest), err)
	}
	counts, err := s.CountByStatus(ctx, &product)
	if err != nil || counts[reviews.StatusPending] != 1 || counts[reviews.StatusApproved] != 6 || counts[reviews.StatusHidden] != 1 {
		t.Fatalf("counts of the product: %v %v", counts, err)
	}
	everything, err := s.CountByStatus(ctx, nil)
	if err != nil || everything[reviews.StatusPending] < 2 {
		t.Fatalf("counts of every product: %v %v", everything, err)
	}

	// Ratings count approved reviews only: ratings 1, 3, 4, 2 (i=0,2,3,5 → i%5+1) of
	// which i=6 gives 2 again, plus the twin's 5.
	ratings, err := s.Ratings(ctx, []uuid.UUID{product, other, uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	if r := ratings[product]; r.Count != 6 || r.Sum != 1+3+4+1+2+5 {
		t.Fatalf("rating of the product: %+v", r)
	}
	if _, ok := ratings[other]; ok || len(ratings) != 1 {
		t.Fatalf("ratings of products without approved reviews: %v", ratings)
	}
}

// TestReviewsVersion: the version moves, once per transaction, with every committed
// change to what client apps see (approved reviews), and stays for the rest.
func TestReviewsVersion(t *testing.T) {
	s := postgres.NewReviewStore(testDB)
	ctx := staffReviewCtx()
	author := reviews.Author{AppID: uuid.New(), IdentityRef: "tg-version"}
	product := uuid.New()
	v0 := reviewsVersion(t)
	r, _ := submit(t, s, author, product, 4, "pending", now())
	if v := reviewsVersion(t); v != v0 {
		t.Fatalf("a pending review moved the version %d → %d", v0, v)
	}
	edit := func(what string, fn func(r *reviews.Review) error) {
		t.Helper()
		if _, err := s.UpdateReview(ctx, r.ID, func(r *reviews.Review) (ports.AuditEntry, error) {
			return ports.Audit(ctx, "review.test", "review", r.ID.String(), what), fn(r)
		}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	edit("reply to a pending review", func(r *reviews.Review) error { return r.SetReply("Thanks", "sam", now()) })
	if v := reviewsVersion(t); v != v0 {
		t.Fatalf("a reply to a pending review moved the version %d → %d", v0, v)
	}
	steps := []struct {
		what string
		fn   func(r *reviews.Review) error
		bump bool
	}{
		{"approve", func(r *reviews.Review) error { return r.Approve("sam", now()) }, true},
		{"edit the reply of an approved review", func(r *reviews.Review) error { return r.SetReply("Thank you!", "sam", now()) }, true},
		{"hide", func(r *reviews.Review) error { return r.Hide("spam", "sam", now()) }, true},
		{"reply to a hidden review", func(r *reviews.Review) error { return r.SetReply("Hm", "sam", now()) }, false},
		{"approve again", func(r *reviews.Review) error { return r.Approve("sam", now()) }, true},
	}
	prev := reviewsVersion(t)
	for _, st := range steps {
		edit(st.what, st.fn)
		v := reviewsVersion(t)
		if (v != prev) != st.bump || (st.bump && v != prev+1) {
			t.Fatalf("%s: version %d → %d, want a bump: %v", st.what, prev, v, st.bump)
		}
		prev = v
	}
	// The author's edit takes an approved review down: a bump.
	submit(t, s, author, product, 1, "changed my mind", now())
	if v := reviewsVersion(t); v != prev+1 {
		t.Fatalf("an edit of an approved review: version %d → %d", prev, v)
	}
	prev++
	// Several approvals in one transaction: one bump.
	var ids []uuid.UUID
	for i := range 3 {
		x, _ := submit(t, s, reviews.Author{AppID: author.AppID, IdentityRef: fmt.Sprintf("tg-version-%d", i)}, product, 5, "x", now())
		ids = append(ids, x.ID)
	}
	if err := testDB.InTx(ctx, func(ctx context.Context) error {
		for _, id := range ids {
			if _, err := s.UpdateReview(ctx, id, func(r *reviews.Review) (ports.AuditEntry, error) {
				return ports.Audit(ctx, "review.approve", "review", r.ID.String(), "batch"), r.Approve("sam", now())
			}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if v := reviewsVersion(t); v != prev+1 {
		t.Fatalf("three approvals in one transaction: version %d → %d", prev, v)
	}
}

func TestOrderingHasReceived(t *testing.T) {
	e := newOrdEnv(t)
	ctx := context.Background()
	app := uuid.New()
	for _, c := range []struct {
		status ordering.Status
		want   bool
	}{
		{ordering.StatusPendingPayment, false},
		{ordering.StatusProcessing, false},
		{ordering.StatusPicked, false},
		{ordering.StatusShipped, true},
		{ordering.StatusDelivered, true},
		{ordering.StatusOnHold, false},
		{ordering.StatusCancelled, false},
		{ordering.StatusExpired, false},
		{ordering.StatusRefunded, false},
	} {
		identity := "recv-" + string(c.status)
		o := e.order(t, app, identity, c.status, now())
		product := o.Lines[0].ProductID
		got, err := e.store.HasReceived(ctx, app, identity, product)
		if err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", c.status, got, err, c.want)
		}
		if c.want {
			// Not for another product, another identity or another app.
			for _, q := range []struct {
				app      uuid.UUID
				identity string
				product  uuid.UUID
			}{{app, identity, uuid.New()}, {app, identity + "x", product}, {uuid.New(), identity, product}} {
				if got, err := e.store.HasReceived(ctx, q.app, q.identity, q.product); err != nil || got {
					t.Errorf("%s for %v: %v %v", c.status, q, got, err)
				}
			}
		}
	}
}
