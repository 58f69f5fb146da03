// Package reviews is the module for product reviews: customers who received a product
// rate and review it through their client app, staff moderate the reviews (approve,
// hide with a reason, reply publicly), and client apps read the approved ones and each
// product's rating.
package reviews

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// Status is a review's state of moderation.
type Status string

// The statuses. Only approved reviews are shown to client apps.
const (
	StatusPending  Status = "pending"
	StatusApproved Status = "approved"
	StatusHidden   Status = "hidden"
)

// Statuses lists every status, in the moderation queue's order of tabs.
var Statuses = []Status{StatusPending, StatusApproved, StatusHidden}

// Valid reports whether s is a status.
func (s Status) Valid() bool {
	return s == StatusPending || s == StatusApproved || s == StatusHidden
}

// Limits of what reviews say.
const (
	MinRating      = 1
	MaxRating      = 5
	BodyMax        = 2000
	ReplyMax       = 2000
	ReasonMax      = 500
	IdentityRefMax = 128
)

// Author is who writes a review: a client app's customer, known by the identity
// reference the app gives. A customer has at most one review per product.
type Author struct {
	AppID       uuid.UUID
	IdentityRef string
}

// Review is a customer's rating and review of a product.
type Review struct {
	ID          uuid.UUID `db:"id"`
	ProductID   uuid.UUID `db:"product_id"`
	AppID       uuid.UUID `db:"app_id"`
	IdentityRef string    `db:"identity_ref"`
	Rating      int       `db:"rating"`
	Body        string    `db:"body"`
	Status      Status    `db:"status"`
	// HiddenReason says why staff hid the review (hidden reviews only). Client apps
	// never see it.
	HiddenReason string     `db:"hidden_reason"`
	ModeratedBy  string     `db:"moderated_by"`
	ModeratedAt  *time.Time `db:"moderated_at"`
	// Reply is the staff's public answer, empty when there is none.
	Reply     string     `db:"reply"`
	ReplyBy   string     `db:"reply_by"`
	RepliedAt *time.Time `db:"replied_at"`
	// CreatedAt is when the customer first posted the review, UpdatedAt when they last
	// changed it (moderation changes neither).
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// Input is what a customer posts: a rating of 1 to 5 stars and a text.
type Input struct {
	Rating int    `json:"rating"`
	Body   string `json:"body"`
}

// Parse validates the input and returns the rating and the body as stored: line
// breaks made "\n" and surrounding white space removed; every other character,
// emoji included, is kept as it was. Errors: EINVALID naming "rating" and "body".
func (in Input) Parse() (int, string, error) {
	var errs []ports.FieldError
	if in.Rating < MinRating || in.Rating > MaxRating {
		errs = append(errs, ports.Field("rating", "rating must be a whole number from 1 to 5."))
	}
	body, err := cleanText(in.Body, BodyMax)
	if err != nil {
		errs = append(errs, ports.Field("body", fmt.Sprintf("body must be 1 to %d characters of text (%s).", BodyMax, err)))
	}
	return in.Rating, body, ports.Invalid(errs...)
}

// ParseReason validates the reason staff give for hiding a review.
func ParseReason(s string) (string, error) {
	reason, err := cleanText(s, ReasonMax)
	if err != nil {
		return "", ports.Invalid(ports.Field("reason", fmt.Sprintf("Say why the review is hidden, in at most %d characters (%s).", ReasonMax, err)))
	}
	return reason, nil
}

// ParseReply validates a staff reply.
func ParseReply(s string) (string, error) {
	reply, err := cleanText(s, ReplyMax)
	if err != nil {
		return "", ports.Invalid(ports.Field("reply", fmt.Sprintf("Write a reply of 1 to %d characters (%s); to take a reply down, remove it.", ReplyMax, err)))
	}
	return reply, nil
}

// cleanText normalizes line breaks, trims surrounding white space and checks that
// 1 to max characters remain, none of them a control character other than a line
// break or a tab.
func cleanText(s string, max int) (string, error) {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", ports.Message("it is empty")
	case n > max:
		return "", ports.Message(fmt.Sprintf("it has %d", n))
	case !utf8.ValidString(s):
		return "", ports.Message("it is not valid UTF-8")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		return "", ports.Message("it has a control character")
	}
	return s, nil
}

// New is the first review of a product by author: pending, or approved at once when
// the shop auto-approves reviews.
func New(author Author, productID uuid.UUID, rating int, body string, autoApprove bool, now time.Time) *Review {
	r := &Review{ID: uuid.Must(uuid.NewV7()), ProductID: productID, AppID: author.AppID, IdentityRef: author.IdentityRef,
		Rating: rating, Body: body, Status: StatusPending, CreatedAt: now, UpdatedAt: now}
	if autoApprove {
		r.Status = StatusApproved
	}
	return r
}

// Edit replaces the rating and the text with the author's new ones. A review that
// changes goes back to moderation (pending; the earlier decision, which was about the
// earlier text, is dropped with its reason), unless the shop auto-approves reviews;
// posting the same rating and text again changes nothing (a retry must not take an
// approved review down). The staff's reply stays. It reports whether anything changed.
func (r *Review) Edit(rating int, body string, autoApprove bool, now time.Time) bool {
	if r.Rating == rating && r.Body == body {
		return false
	}
	r.Rating, r.Body, r.UpdatedAt = rating, body, now
	r.HiddenReason, r.ModeratedBy, r.ModeratedAt = "", "", nil
	r.Status = StatusPending
	if autoApprove {
		r.Status = StatusApproved
	}
	return true
}

// Approve publishes the review. Approving an approved review is ECONFLICT.
func (r *Review) Approve(by string, now time.Time) error {
	if r.Status == StatusApproved {
		return ports.Errorf(ports.ECONFLICT, "This review is approved already.")
	}
	r.Status, r.HiddenReason = StatusApproved, ""
	r.ModeratedBy, r.ModeratedAt = by, &now
	return nil
}

// Hide takes the review out of client apps' sight for a reason (see ParseReason).
// Hiding a hidden review is ECONFLICT.
func (r *Review) Hide(reason, by string, now time.Time) error {
	reason, err := ParseReason(reason)
	if err != nil {
		return err
	}
	if r.Status == StatusHidden {
		return ports.Errorf(ports.ECONFLICT, "This review is hidden already.")
	}
	r.Status, r.HiddenReason = StatusHidden, reason
	r.ModeratedBy, r.ModeratedAt = by, &now
	return nil
}

// SetReply writes or rewrites the staff's public reply (see ParseReply). It is shown
// with the review whenever the review is approved.
func (r *Review) SetReply(reply, by string, now time.Time) error {
	reply, err := ParseReply(reply)
	if err != nil {
		return err
	}
	r.Reply, r.ReplyBy, r.RepliedAt = reply, by, &now
	return nil
}

// RemoveReply takes the staff's reply down; a review without one is ECONFLICT.
func (r *Review) RemoveReply() error {
	if r.Reply == "" {
		return ports.Errorf(ports.ECONFLICT, "This review has no reply to remove.")
	}
	r.Reply, r.ReplyBy, r.RepliedAt = "", "", nil
	return nil
}

// Rating sums up a product's approved reviews.
type Rating struct {
	Count int
	Sum   int
}

// Average is the mean rating rounded half up to one decimal ("4.5"), and false when
// there is no review. It is computed in integers, so it is exact.
func (r Rating) Average() (string, bool) {
	if r.Count <= 0 {
		return "", false
	}
	tenths := (r.Sum*20 + r.Count) / (2 * r.Count)
	return fmt.Sprintf("%d.%d", tenths/10, tenths%10), true
}

// Cursor is a keyset position in a list of reviews, newest first: the time the list
// is ordered by (the review's creation for client apps, its last submission for
// staff) and the id.
type Cursor struct {
	At time.Time
	ID uuid.UUID
}
