package reviews

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/ports"
)

func fieldsOf(err error) []string {
	var out []string
	for _, f := range ports.FieldErrorsOf(err) {
		out = append(out, f.Field)
	}
	return out
}

func TestInputParse(t *testing.T) {
	cases := []struct {
		name       string
		in         Input
		wantRating int
		wantBody   string
		wantFields string
	}{
		{"one star", Input{1, "Meh."}, 1, "Meh.", ""},
		{"five stars", Input{5, "Great"}, 5, "Great", ""},
		{"emoji and scripts kept", Input{4, "Lovely 🍵👍🏽 👩‍👩‍👧 日本語 très"}, 4, "Lovely 🍵👍🏽 👩‍👩‍👧 日本語 très", ""},
		{"HTML kept as text", Input{3, "<script>alert(1)</script> <b>bold</b> &amp;"}, 3, "<script>alert(1)</script> <b>bold</b> &amp;", ""},
		{"trimmed, CRLF made LF", Input{3, "  line one\r\nline two\rthree\t\n "}, 3, "line one\nline two\nthree", ""},
		{"tab inside kept", Input{2, "a\tb"}, 2, "a\tb", ""},
		{"exactly 2000 characters", Input{5, strings.Repeat("é", 2000)}, 5, strings.Repeat("é", 2000), ""},
		{"2000 emoji", Input{5, strings.Repeat("🍵", 2000)}, 5, strings.Repeat("🍵", 2000), ""},
		{"rating zero", Input{0, "x"}, 0, "", "rating"},
		{"rating six", Input{6, "x"}, 0, "", "rating"},
		{"rating negative", Input{-1, "x"}, 0, "", "rating"},
		{"empty body", Input{3, ""}, 0, "", "body"},
		{"blank body", Input{3, " \n\t "}, 0, "", "body"},
		{"2001 characters", Input{3, strings.Repeat("a", 2001)}, 0, "", "body"},
		{"NUL", Input{3, "a\x00b"}, 0, "", "body"},
		{"escape character", Input{3, "a\x1bb"}, 0, "", "body"},
		{"both wrong", Input{9, ""}, 0, "", "rating,body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rating, body, err := c.in.Parse()
			if got := strings.Join(fieldsOf(err), ","); got != c.wantFields {
				t.Fatalf("fields at fault %q, want %q (%v)", got, c.wantFields, err)
			}
			if c.wantFields != "" {
				if ports.ErrorCodeOf(err) != ports.EINVALID {
					t.Fatalf("code %q", ports.ErrorCodeOf(err))
				}
				return
			}
			if rating != c.wantRating || body != c.wantBody {
				t.Fatalf("got %d %q, want %d %q", rating, body, c.wantRating, c.wantBody)
			}
		})
	}
}

func TestRatingAverage(t *testing.T) {
	cases := []struct {
		count, sum int
		want       string
	}{
		{0, 0, ""},
		{1, 5, "5.0"},
		{1, 1, "1.0"},
		{2, 9, "4.5"},
		{3, 14, "4.7"}, // 4.666…
		{3, 13, "4.3"}, // 4.333…
		{4, 17, "4.3"}, // 4.25 rounds half up
		{8, 25, "3.1"}, // 3.125
		{20, 21, "1.1"},
		{7, 35, "5.0"},
	}
	for _, c := range cases {
		got, ok := Rating{Count: c.count, Sum: c.sum}.Average()
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%d reviews summing %d: %q %v, want %q", c.count, c.sum, got, ok, c.want)
		}
	}
}

func TestReviewLifecycle(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	author := Author{AppID: uuid.New(), IdentityRef: "tg-1"}
	product := uuid.New()
	type step struct {
		name       string
		do         func(r *Review) error
		wantStatus Status
		wantCode   ports.ErrorCode
	}
	approve := func(r *Review) error { return r.Approve("sam", t0.Add(time.Hour)) }
	hide := func(reason string) func(r *Review) error {
		return func(r *Review) error { return r.Hide(reason, "sam", t0.Add(time.Hour)) }
	}
	edit := func(rating int, body string, auto bool) func(r *Review) error {
		return func(r *Review) error { r.Edit(rating, body, auto, t0.Add(2*time.Hour)); return nil }
	}
	cases := []struct {
		name  string
		auto  bool
		steps []step
	}{
		{"held, approved, approved again", false, []step{
			{"approve", approve, StatusApproved, ""},
			{"approve again", approve, StatusApproved, ports.ECONFLICT},
		}},
		{"auto-approved at once", true, []step{
			{"approve", approve, StatusApproved, ports.ECONFLICT},
		}},
		{"hidden needs a reason", false, []step{
			{"no reason", hide(""), StatusPending, ports.EINVALID},
			{"blank reason", hide("  \n "), StatusPending, ports.EINVALID},
			{"long reason", hide(strings.Repeat("x", 501)), StatusPending, ports.EINVALID},
			{"reason", hide("Spam"), StatusHidden, ""},
			{"hide again", hide("Spam"), StatusHidden, ports.ECONFLICT},
			{"approve a hidden review", approve, StatusApproved, ""},
			{"hide an approved review", hide("Names a person"), StatusHidden, ""},
		}},
		{"an edit goes back to moderation", false, []step{
			{"approve", approve, StatusApproved, ""},
			{"same text again", edit(4, "Good", false), StatusApproved, ""},
			{"new text", edit(4, "Good, really", false), StatusPending, ""},
			{"approve", approve, StatusApproved, ""},
			{"new rating", edit(2, "Good, really", false), StatusPending, ""},
			{"hide", hide("Rude"), StatusHidden, ""},
			{"edit of a hidden review", edit(3, "Sorry, it is fine", false), StatusPending, ""},
		}},
		{"an edit under auto-approval stays published", true, []step{
			{"hide", hide("Rude"), StatusHidden, ""},
			{"edit", edit(5, "Better now", true), StatusApproved, ""},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := New(author, product, 4, "Good", c.auto, t0)
			if r.AppID != author.AppID || r.IdentityRef != "tg-1" || r.ProductID != product || !r.CreatedAt.Equal(t0) || !r.UpdatedAt.Equal(t0) {
				t.Fatalf("new review %+v", r)
			}
			for _, s := range c.steps {
				err := s.do(r)
				if ports.ErrorCodeOf(err) != s.wantCode {
					t.Fatalf("%s: error %v, want code %q", s.name, err, s.wantCode)
				}
				if r.Status != s.wantStatus {
					t.Fatalf("%s: status %s, want %s", s.name, r.Status, s.wantStatus)
				}
				if (r.Status == StatusHidden) != (r.HiddenReason != "") {
					t.Fatalf("%s: status %s with hidden reason %q", s.name, r.Status, r.HiddenReason)
				}
				if (r.ModeratedBy == "") != (r.ModeratedAt == nil) {
					t.Fatalf("%s: moderated by %q at %v", s.name, r.ModeratedBy, r.ModeratedAt)
				}
			}
		})
	}
}

func TestEditReportsChange(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	r := New(Author{AppID: uuid.New(), IdentityRef: "a"}, uuid.New(), 4, "Good", false, t0)
	if err := r.Approve("sam", t0); err != nil {
		t.Fatal(err)
	}
	if err := r.SetReply("Thanks", "sam", t0); err != nil {
		t.Fatal(err)
	}
	if r.Edit(4, "Good", false, t0.Add(time.Hour)) || !r.UpdatedAt.Equal(t0) || r.Status != StatusApproved {
		t.Fatalf("an unchanged edit changed the review: %+v", r)
	}
	if !r.Edit(5, "Good", false, t0.Add(time.Hour)) || !r.UpdatedAt.Equal(t0.Add(time.Hour)) || !r.CreatedAt.Equal(t0) ||
		r.Status != StatusPending || r.ModeratedBy != "" || r.ModeratedAt != nil || r.Reply != "Thanks" {
		t.Fatalf("an edit: %+v", r)
	}
}

func TestReplies(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	r := New(Author{AppID: uuid.New(), IdentityRef: "a"}, uuid.New(), 4, "Good", false, t0)
	cases := []struct {
		name      string
		do        func() error
		wantCode  ports.ErrorCode
		wantReply string
	}{
		{"remove when there is none", r.RemoveReply, ports.ECONFLICT, ""},
		{"empty reply", func() error { return r.SetReply(" ", "sam", t0) }, ports.EINVALID, ""},
		{"too long", func() error { return r.SetReply(strings.Repeat("ü", 2001), "sam", t0) }, ports.EINVALID, ""},
		{"reply", func() error { return r.SetReply(" Thank you! 🙏\r\n", "sam", t0) }, "", "Thank you! 🙏"},
		{"rewrite", func() error { return r.SetReply("Thanks, <b>Ann</b>", "kim", t0.Add(time.Hour)) }, "", "Thanks, <b>Ann</b>"},
		{"remove", r.RemoveReply, "", ""},
	}
	for _, c := range cases {
		err := c.do()
		if ports.ErrorCodeOf(err) != c.wantCode {
			t.Fatalf("%s: error %v, want code %q", c.name, err, c.wantCode)
		}
		if r.Reply != c.wantReply || (r.Reply == "") != (r.RepliedAt == nil) || (r.Reply == "") != (r.ReplyBy == "") {
			t.Fatalf("%s: reply %q by %q at %v, want %q", c.name, r.Reply, r.ReplyBy, r.RepliedAt, c.wantReply)
		}
	}
	if r.Status != StatusPending {
		t.Fatalf("replies changed the status to %s", r.Status)
	}
}
