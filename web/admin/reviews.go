package admin

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"orderdesk/modules/reviews"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// reviewsPageSize is how many reviews a page of the moderation queue shows.
const reviewsPageSize = 25

func (h *Handler) registerReviews(g fiber.Router) {
	h.menu("Reviews", "/admin/reviews", staff.ObjReviews)
	h.route(g, "GET", "/reviews", staff.ObjReviews, staff.ActRead, h.reviews)
	h.route(g, "POST", "/reviews/:id/approve", staff.ObjReviews, staff.ActWrite, h.approveReview)
	h.route(g, "POST", "/reviews/:id/hide", staff.ObjReviews, staff.ActWrite, h.hideReview)
	h.route(g, "POST", "/reviews/:id/reply", staff.ObjReviews, staff.ActWrite, h.replyToReview)
	h.route(g, "POST", "/reviews/:id/reply/delete", staff.ObjReviews, staff.ActWrite, h.removeReviewReply)
}

// reviewRow is one review of the queue with what its forms show: what was typed
// into them and what is wrong with it, after a failed action on this review.
type reviewRow struct {
	reviews.Listed
	AppName     string
	Stars       string
	ReasonValue string
	ReasonError string
	ReplyValue  string
	ReplyError  string
}

type productFilter struct {
	ID, Name string
}

type reviewsData struct {
	Status  reviews.Status
	Tabs    []statusTab
	Rows    []reviewRow
	NextURL string
	// Back is the page's own address, where an action returns to.
	Back          string
	Product       *productFilter
	CanModerate   bool
	CanSeeCatalog bool
}

func stars(n int) string {
	if n < 0 || n > reviews.MaxRating {
		return ""
	}
	return strings.Repeat("★", n) + strings.Repeat("☆", reviews.MaxRating-n)
}

// reviewsData builds the queue for the query q (status, product, after); failed,
// when not nil, is the form of a failed action on the review whose id it holds.
func (h *Handler) reviewsData(c *fiber.Ctx, q url.Values, failed *form) (*reviewsData, error) {
	ctx := c.UserContext()
	p := principal(c)
	f := reviews.StaffFilter{Status: reviews.StatusPending, Limit: reviewsPageSize}
	keep := url.Values{}
	if st := reviews.Status(q.Get("status")); st.Valid() {
		f.Status = st
	}
	keep.Set("status", string(f.Status))
	d := &reviewsData{Status: f.Status,
		CanModerate:   h.d.Staff.Can(p, staff.ObjReviews, staff.ActWrite),
		CanSeeCatalog: h.d.Staff.Can(p, staff.ObjCatalog, staff.ActRead)}
	if id := optionalID(q.Get("product")); id != nil {
		f.ProductID = id
		keep.Set("product", id.String())
	}
	back := url.Values{}
	for k, v := range keep {
		back[k] = v
	}
	if at, id, ok := parseKeyset(q.Get("after")); ok {
		f.After = &reviews.Cursor{At: at, ID: id}
		back.Set("after", q.Get("after"))
	}
	d.Back = "/admin/reviews?" + back.Encode()

	rows, next, err := h.d.Reviews.Queue(ctx, f)
	if err != nil {
		return nil, err
	}
	names, err := h.appNames(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		row := reviewRow{Listed: r, AppName: names[r.AppID], Stars: stars(r.Rating), ReplyValue: r.Reply}
		if failed != nil && failed.Get("id") == r.ID.String() {
			row.ReasonValue, row.ReasonError = failed.Get("reason"), failed.Error("reason")
			if _, typed := failed.Values["reply"]; typed {
				row.ReplyValue, row.ReplyError = failed.Get("reply"), failed.Error("reply")
			}
		}
		d.Rows = append(d.Rows, row)
	}
	if next != nil {
		d.NextURL = "/admin/reviews?" + withParam(keep, "after", formatKeyset(next.At, next.ID))
	}
	if f.ProductID != nil {
		d.Product = &productFilter{ID: f.ProductID.String()}
		for _, r := range rows {
			d.Product.Name = r.ProductName
		}
	}
	counts, err := h.d.Reviews.CountByStatus(ctx, f.ProductID)
	if err != nil {
		return nil, err
	}
	for _, st := range reviews.Statuses {
		d.Tabs = append(d.Tabs, statusTab{Label: string(st), Href: "/admin/reviews?" + withParam(keep, "status", string(st)),
			Count: counts[st], Active: st == f.Status})
	}
	return d, nil
}

func (h *Handler) reviews(c *fiber.Ctx) error {
	q := url.Values{}
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) { q.Add(string(k), string(v)) })
	d, err := h.reviewsData(c, q, nil)
	if err != nil {
		return err
	}
	return h.page(c, fiber.StatusOK, "reviews/queue", "Reviews", d, nil)
}

// reviewBack is where an action returns to: the queue page it was made from (the
// form's "back"), else the pending reviews.
func reviewBack(c *fiber.Ctx) string {
	back := c.FormValue("back")
	if !strings.HasPrefix(back, "/admin/reviews?") {
		return "/admin/reviews"
	}
	return back
}

// moderate runs one action on the review of the path. On success it flashes ok and
// returns to the queue; a mistake in the form or a conflict re-renders the queue
// with the review's form marked; a missing review is a 404.
func (h *Handler) moderate(c *fiber.Ctx, ok string, fields []string, act func(id uuid.UUID, f *form) error) error {
	id, err := parseID(c, "id", "review")
	if err != nil {
		return err
	}
	f := newForm(c, fields...)
	f.Values["id"] = id.String()
	back := reviewBack(c)
	err = act(id, f)
	if err == nil {
		h.flash(c, "ok", ok)
		return h.redirect(c, back)
	}
	if ports.ErrorCodeOf(err) == ports.ENOTFOUND || !f.fail(err) {
		return err
	}
	status := fiber.StatusUnprocessableEntity
	if ports.ErrorCodeOf(err) == ports.ECONFLICT {
		status = fiber.StatusConflict
	}
	u, _ := url.Parse(back)
	d, derr := h.reviewsData(c, u.Query(), f)
	if derr != nil {
		return derr
	}
	return h.page(c, status, "reviews/queue", "Reviews", d, f)
}

func (h *Handler) approveReview(c *fiber.Ctx) error {
	return h.moderate(c, "Review approved: client apps show it now.", nil, func(id uuid.UUID, _ *form) error {
		_, err := h.d.Reviews.Approve(c.UserContext(), id)
		return err
	})
}

func (h *Handler) hideReview(c *fiber.Ctx) error {
	return h.moderate(c, "Review hidden from client apps.", []string{"reason"}, func(id uuid.UUID, f *form) error {
		_, err := h.d.Reviews.Hide(c.UserContext(), id, f.Get("reason"))
		return err
	})
}

func (h *Handler) replyToReview(c *fiber.Ctx) error {
	return h.moderate(c, "Reply saved: client apps show it with the review while it is approved.", []string{"reply"},
		func(id uuid.UUID, f *form) error {
			_, err := h.d.Reviews.Reply(c.UserContext(), id, f.Get("reply"))
			return err
		})
}

func (h *Handler) removeReviewReply(c *fiber.Ctx) error {
	return h.moderate(c, "Reply removed.", nil, func(id uuid.UUID, _ *form) error {
		_, err := h.d.Reviews.RemoveReply(c.UserContext(), id)
		return err
	})
}
