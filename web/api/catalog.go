package api

import (
	"context"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"orderdesk/modules/catalog"
	"orderdesk/ports"
)

// Money is an exact amount on the wire.
type Money struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

func gbp(minor int64) Money { return Money{Amount: ports.FormatMinor(minor, "GBP"), Currency: "GBP"} }

// Category is a category as client apps see it.
type Category struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Slug     string  `json:"slug"`
	ParentID *string `json:"parentId"`
	Position int     `json:"position"`
}

// Photo is a product photo's public URLs.
type Photo struct {
	URL          string `json:"url"`
	ThumbnailURL string `json:"thumbnailUrl"`
	Alt          string `json:"alt"`
}

// Product is a product as client apps see it.
type Product struct {
	ID                string  `json:"id"`
	Name              string  `json:"name"`
	Description       string  `json:"description"`
	CategoryID        *string `json:"categoryId"`
	SKU               *string `json:"sku"`
	Price             Money   `json:"price"`
	Weight            *string `json:"weight"`
	WeightUnit        string  `json:"weightUnit"`
	Photos            []Photo `json:"photos"`
	AvailableQuantity *int    `json:"availableQuantity"`
	// Rating is set from the reviews module (withRatings).
	Rating RatingJSON `json:"rating"`
}

func idString(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	s := id.String()
	return &s
}

func (h *Handler) product(p *catalog.Product) Product {
	out := Product{
		ID: p.ID.String(), Name: p.Name, Description: p.Description, CategoryID: idString(p.CategoryID), SKU: p.SKU,
		Price: gbp(p.PriceMinor), WeightUnit: string(p.WeightUnit), Photos: []Photo{}, AvailableQuantity: p.Available(),
	}
	if w := p.Weight(); w != "" {
		out.Weight = &w
	}
	// The primary photo first, then the others in their order.
	for _, primary := range []bool{true, false} {
		for i := range p.Photos {
			ph := &p.Photos[i]
			if ph.Status != catalog.PhotoReady || ph.Primary != primary {
				continue
			}
			out.Photos = append(out.Photos, Photo{URL: h.d.BaseURL + ph.URLPath(catalog.RenditionWeb),
				ThumbnailURL: h.d.BaseURL + ph.URLPath(catalog.RenditionThumb), Alt: ph.Alt})
		}
	}
	return out
}

func (h *Handler) listCategories(c *fiber.Ctx) error {
	limit, cursor, err := listParams(c)
	if err != nil {
		return err
	}
	var after uuid.UUID
	if cursor != "" {
		cur, err := decodeCursor(cursor)
		if err != nil {
			return err
		}
		after = cur.ID
	}
	return h.cached(c, func(ctx context.Context) (any, error) {
		cats, err := h.d.Catalog.PublicCategories(ctx)
		if err != nil {
			return nil, err
		}
		start := 0
		if after != uuid.Nil {
			start = -1
			for i, cat := range cats {
				if cat.ID == after {
					start = i + 1
				}
			}
			if start < 0 {
				return nil, invalid("cursor", "The category this cursor points after no longer exists; start again.")
			}
		}
		out := page[Category]{Data: []Category{}}
		for i := start; i < len(cats) && len(out.Data) < limit; i++ {
			cat := cats[i]
			out.Data = append(out.Data, Category{ID: cat.ID.String(), Name: cat.Name, Slug: cat.Slug, ParentID: idString(cat.ParentID), Position: cat.Position})
			if len(out.Data) == limit && i+1 < len(cats) {
				out.NextCursor = encodeCursor(&catalog.Cursor{ID: cat.ID})
			}
		}
		return out, nil
	})
}

func (h *Handler) listProducts(c *fiber.Ctx) error {
	limit, cursor, err := listParams(c)
	if err != nil {
		return err
	}
	f := catalog.PublicFilter{Limit: limit, Query: c.Query("q")}
	if utf8.RuneCountInString(f.Query) > 200 {
		return invalid("q", "q has at most 200 characters.")
	}
	if s := c.Query("category"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			return invalid("category", "category must be a category id (UUID).")
		}
		f.CategoryID = &id
	}
	if f.After, err = decodeCursor(cursor); err != nil {
		return err
	}
	return h.cached(c, func(ctx context.Context) (any, error) {
		ps, next, err := h.d.Catalog.PublicProducts(ctx, f)
		if err != nil {
			return nil, err
		}
		out := page[Product]{Data: make([]Product, 0, len(ps)), NextCursor: encodeCursor(next)}
		ids := make([]uuid.UUID, len(ps))
		for i := range ps {
			out.Data = append(out.Data, h.product(&ps[i]))
			ids[i] = ps[i].ID
		}
		if err := h.withRatings(ctx, out.Data, ids); err != nil {
			return nil, err
		}
		return out, nil
	})
}

func (h *Handler) getProduct(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return fiber.NewError(fiber.StatusNotFound, "No such product.")
	}
	return h.cached(c, func(ctx context.Context) (any, error) {
		p, err := h.d.Catalog.PublicProduct(ctx, id)
		if err != nil {
			return nil, err
		}
		out := []Product{h.product(p)}
		if err := h.withRatings(ctx, out, []uuid.UUID{p.ID}); err != nil {
			return nil, err
		}
		return out[0], nil
	})
}
