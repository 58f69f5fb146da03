package api

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"orderdesk/modules/reviews"
)

// RatingJSON is a product's rating over its approved reviews: the average to one
// decimal (null when there is none) and how many there are.
type RatingJSON struct {
	Average *string `json:"average"`
	Count   int     `json:"count"`
}

// ReplyJSON is the shop's public reply to a review.
type ReplyJSON struct {
	Body      string `json:"body"`
	RepliedAt string `json:"repliedAt"`
}

// ReviewJSON is an approved review as every client app sees it: nothing says who
// wrote it.
type ReviewJSON struct {
	ID        string     `json:"id"`
	Rating    int        `json:"rating"`
	Body      string     `json:"body"`
	CreatedAt string     `json:"createdAt"`
	UpdatedAt string     `json:"updatedAt"`
	Reply     *ReplyJSON `json:"reply"`
}

// OwnReviewJSON is a review as its author's client app sees it after posting it: with
// its product and where moderation has it.
type OwnReviewJSON struct {
	ReviewJSON
	ProductID string `json:"productId"`
	Status    string `json:"status"`
}

// reviewInput is the body of POST /products/{id}/reviews.
type reviewInput struct {
	Rating int    `json:"rating"`
	Body   string `json:"body"`
}

func reviewJSON(r *reviews.Review) ReviewJSON {
	out := ReviewJSON{ID: r.ID.String(), Rating: r.Rating, Body: r.Body, CreatedAt: rfc3339(r.CreatedAt), UpdatedAt: rfc3339(r.UpdatedAt)}
	if r.Reply != "" && r.RepliedAt != nil {
		out.Reply = &ReplyJSON{Body: r.Reply, RepliedAt: rfc3339(*r.RepliedAt)}
	}
	return out
}

// registerReviews mounts the reviews of products.
func (h *Handler) registerReviews(g fiber.Router) {
	g.Get("/products/:id/reviews", h.listReviews)
	g.Post("/products/:id/reviews", h.identity, h.postReview)
}

// cacheVersion is what cached catalog answers are keyed by: the catalog's version and,
// since products carry their rating, the reviews' version.
func (h *Handler) cacheVersion(ctx context.Context) (string, error) {
	v, err := h.d.Catalog.Version(ctx)
	if err != nil {
		return "", err
	}
	key := strconv.FormatInt(v, 10)
	if h.d.Reviews != nil {
		rv, err := h.d.Reviews.Version(ctx)
		if err != nil {
			return "", err
		}
		key += "." + strconv.FormatInt(rv, 10)
	}
	return key, nil
}

// withRatings sets the rating of each product (ids[i] is ps[i]'s id) with one question
// to the reviews module.
func (h *Handler) withRatings(ctx context.Context, ps []Product, ids []uuid.UUID) error {
	if h.d.Reviews == nil {
		return nil
	}
	ratings, err := h.d.Reviews.Ratings(ctx, ids)
	if err != nil {
		return err
	}
	for i := range ps {
		r := ratings[ids[i]]
		ps[i].Rating = RatingJSON{Count: r.Count}
		if avg, ok := r.Average(); ok {
			ps[i].Rating.Average = &avg
		}
	}
	return nil
}

func productParam(c *fiber.Ctx) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return uuid.Nil, fiber.NewError(fiber.StatusNotFound, "No such product.")
	}
	return id, nil
}

func (h *Handler) listReviews(c *fiber.Ctx) error {
	id, err := productParam(c)
	if err != nil {
		return err
	}
	limit, cursor, err := listParams(c)
	if err != nil {
		return err
	}
	var after *reviews.Cursor
	if cursor != "" {
		t, uid, err := decodeTimeCursor(cursor)
		if err != nil {
			return err
		}
		after = &reviews.Cursor{At: t, ID: uid}
	}
	return h.cached(c, func(ctx context.Context) (any, error) {
		rs, next, err := h.d.Reviews.Approved(ctx, id, after, limit)
		if err != nil {
			return nil, err
		}
		out := page[ReviewJSON]{Data: make([]ReviewJSON, 0, len(rs))}
		for i := range rs {
			out.Data = append(out.Data, reviewJSON(&rs[i]))
		}
		if next != nil {
			s := encodeTimeCursor(next.At, next.ID)
			out.NextCursor = &s
		}
		return out, nil
	})
}

func (h *Handler) postReview(c *fiber.Ctx) error {
	id, err := productParam(c)
	if err != nil {
		return err
	}
	var in reviewInput
	if err := decodeStrict(c.Body(), &in); err != nil {
		return err
	}
	cl := orderingClient(c)
	r, created, err := h.d.Reviews.Submit(c.UserContext(), reviews.Author{AppID: cl.AppID, IdentityRef: cl.IdentityRef}, id,
		reviews.Input{Rating: in.Rating, Body: in.Body})
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(OwnReviewJSON{ReviewJSON: reviewJSON(r), ProductID: r.ProductID.String(), Status: string(r.Status)})
}
