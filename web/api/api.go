// Package api is the REST API for client apps under /api/v1: JSON in camelCase, RFC
// 9457 problems, bearer API keys, customer scope by identity reference, cursor lists.
// openapi.yaml describes all of it and is served at /api/v1/openapi.json.
package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"orderdesk/modules/catalog"
	"orderdesk/modules/clients"
	"orderdesk/modules/fulfilment"
	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
	"orderdesk/modules/reviews"
	"orderdesk/ports"
)

// Deps is what the API needs.
type Deps struct {
	Catalog  *catalog.Service
	Orders   *ordering.Service
	Payments *payments.Service
	Clients  *clients.Service
	BaseURL  string
	Log      *slog.Logger
	// RateLimiter limits requests per API key; nil disables the limit.
	RateLimiter ports.RateLimiter
	// Fulfilment gives orders their shipment (status, tracking).
	Fulfilment *fulfilment.Service
	// Reviews serves products' reviews and ratings (nil leaves them out).
	Reviews *reviews.Service
	// PlacementConcurrency is how many orders are placed at once; the others wait
	// their turn (DefaultPlacementConcurrency when 0).
	PlacementConcurrency int
	// PlacementWait is how long an order waits for its turn before the answer is 503
	// (10 s when 0).
	PlacementWait time.Duration
}

// Handler serves the API.
type Handler struct {
	d     Deps
	cache *responseCache
	doc   []byte
	// placing holds a token for each order being placed (admit).
	placing chan struct{}
}

// New builds the API handler.
func New(d Deps) (*Handler, error) {
	doc, err := Document()
	if err != nil {
		return nil, err
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.PlacementConcurrency <= 0 {
		d.PlacementConcurrency = DefaultPlacementConcurrency
	}
	if d.PlacementWait <= 0 {
		d.PlacementWait = placementWait
	}
	return &Handler{d: d, cache: newResponseCache(2048), doc: doc, placing: make(chan struct{}, d.PlacementConcurrency)}, nil
}

// docsPage is the API reference at /api/v1/docs: Redoc, served under /static, draws it in
// the browser from /api/v1/openapi.json. It has no inline script; the server gives it
// DocsContentSecurityPolicy.
//
//go:embed docs.html
var docsPage []byte

// DocsPath is the human-readable API reference, public like the OpenAPI document.
const DocsPath = "/api/v1/docs"

// DocsContentSecurityPolicy is the site's policy with only what Redoc needs: inline
// styles (styled-components injects <style> elements) and a blob: worker (its search
// index). No 'unsafe-eval', and nothing from another origin.
const DocsContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src blob:; object-src 'none'; " +
	"frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// Register mounts the API on app. The OpenAPI document and the reference drawn from it
// are public; everything else needs an API key.
func (h *Handler) Register(app *fiber.App) {
	app.Get("/api/v1/openapi.json", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
		return c.Send(h.doc)
	})
	app.Get(DocsPath, func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
		return c.Send(docsPage)
	})
	g := app.Group("/api/v1", h.authenticate, RateLimit(h.d.RateLimiter, h.d.Log))
	g.Get("/categories", h.listCategories)
	g.Get("/products", h.listProducts)
	g.Get("/products/:id", h.getProduct)
	if h.d.Reviews != nil {
		h.registerReviews(g)
	}
	g.Get("/shipping-methods", h.listShippingMethods)
	g.Post("/orders", h.identity, h.placeOrder)
	g.Get("/orders", h.identity, h.listOrders)
	g.Get("/orders/:id", h.identity, h.getOrder)
	g.Post("/orders/:id/cancel", h.identity, h.cancelOrder)
	g.Post("/orders/:id/messages", h.identity, h.postMessage)
	g.Get("/orders/:id/messages", h.identity, h.listMessages)
	g.Get("/orders/:id/payment/qr.png", h.identity, h.paymentQR)
	g.Use(func(c *fiber.Ctx) error {
		return fiber.NewError(fiber.StatusNotFound, "There is no such API endpoint.")
	})
}

const appKey = "clientApp"

// authenticate requires "Authorization: Bearer <api key>" of an active key.
func (h *Handler) authenticate(c *fiber.Ctx) error {
	auth := c.Get(fiber.HeaderAuthorization)
	scheme, key, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="orderdesk"`)
		return Problem(c, http.StatusUnauthorized, "Send your API key as Authorization: Bearer <key>.", nil)
	}
	app, err := h.d.Clients.Authenticate(c.UserContext(), strings.TrimSpace(key))
	if err != nil {
		if ports.ErrorCodeOf(err) == ports.EUNAUTHORIZED {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="orderdesk", error="invalid_token"`)
			return Problem(c, http.StatusUnauthorized, ports.ErrorMessageOf(err), nil)
		}
		return err
	}
	c.Locals(appKey, app)
	c.SetUserContext(ports.WithActor(c.UserContext(), ports.Actor{Kind: ports.ActorClient, ID: app.ID.String(), Name: app.Name, IP: c.IP()}))
	return c.Next()
}

// FieldProblem is one entry of a problem's errors.
type FieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Errors []FieldProblem `json:"errors,omitempty"`
}

// Problem writes an RFC 9457 application/problem+json response.
func Problem(c *fiber.Ctx, status int, detail string, fields []FieldProblem) error {
	b, _ := json.Marshal(problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Errors: fields})
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Status(status).Send(b)
}

// ProblemFor writes err as a problem: validation errors with their fields, known
// errors with their message, anything else as 500 (logged by the caller).
func ProblemFor(c *fiber.Ctx, status int, err error) error {
	var fields []FieldProblem
	for _, f := range ports.FieldErrorsOf(err) {
		fields = append(fields, FieldProblem{Field: f.Field, Message: f.Message})
	}
	msg := ports.ErrorMessageOf(err)
	var fe *fiber.Error
	if errors.As(err, &fe) {
		msg = fe.Message
	}
	if status >= 500 {
		msg = "Something went wrong on our side. It has been logged; please try again."
	}
	return Problem(c, status, msg, fields)
}

// invalid is a 422 naming one field.
func invalid(field, msg string) error {
	return ports.Invalid(ports.Field(field, msg))
}

// listParams reads ?limit= and ?cursor=.
func listParams(c *fiber.Ctx) (int, string, error) {
	limit := 20
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return 0, "", invalid("limit", "limit must be a whole number from 1 to 100.")
		}
		limit = n
	}
	cursor := c.Query("cursor")
	if len(cursor) > 200 {
		return 0, "", invalid("cursor", "cursor is not one this API gave.")
	}
	return limit, cursor, nil
}

// page is the envelope of every list.
type page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

// encodeCursor and decodeCursor make keyset cursors opaque.
func encodeCursor(c *catalog.Cursor) *string {
	if c == nil {
		return nil
	}
	s := base64.RawURLEncoding.EncodeToString([]byte(c.ID.String() + "|" + c.Value))
	return &s
}

func decodeCursor(s string) (*catalog.Cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, invalid("cursor", "cursor is not one this API gave.")
	}
	id, value, ok := strings.Cut(string(b), "|")
	uid, err := uuid.Parse(id)
	if !ok || err != nil {
		return nil, invalid("cursor", "cursor is not one this API gave.")
	}
	return &catalog.Cursor{ID: uid, Value: value}, nil
}

// cached answers a catalog GET from the response cache, keyed by the catalog's and
// the reviews' versions (cacheVersion): any committed change to either makes a new
// version, so a cached answer is never stale. It honours If-None-Match with 304.
func (h *Handler) cached(c *fiber.Ctx, build func(ctx context.Context) (any, error)) error {
	version, err := h.cacheVersion(c.UserContext())
	if err != nil {
		return err
	}
	key := version + " " + string(c.Request().URI().RequestURI())
	e, ok := h.cache.get(key)
	if !ok {
		v, err := build(c.UserContext())
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		sum := sha256.Sum256(buf.Bytes())
		e = cacheEntry{body: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		h.cache.put(key, e)
	}
	c.Set(fiber.HeaderETag, e.etag)
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	if match := c.Get(fiber.HeaderIfNoneMatch); match != "" && etagMatches(match, e.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(e.body)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
