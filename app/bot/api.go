package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"orderdesk/web/api/client"
)

// api is OrderDesk's client API as the bot uses it: the generated typed client with
// the bot's API key, each customer's identity reference, and errors in words.
type api struct {
	c    *client.ClientWithResponses
	http *http.Client
}

func newAPI(baseURL, key string, hc *http.Client) (*api, error) {
	c, err := client.NewClientWithResponses(baseURL, client.WithHTTPClient(hc),
		client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+key)
			r.Header.Set("User-Agent", "OrderDesk-TelegramBot/1.0")
			return nil
		}))
	if err != nil {
		return nil, fmt.Errorf("api client: %w", err)
	}
	return &api{c: c, http: hc}, nil
}

// fieldError is one entry of a problem's errors: the field at fault and why.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// apiError is an answer of OrderDesk other than the one asked for: an RFC 9457
// problem, or just a status.
type apiError struct {
	Status int
	Title  string
	Detail string
	Fields []fieldError
}

func (e *apiError) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	for _, f := range e.Fields {
		msg += " " + f.Message
	}
	return fmt.Sprintf("orderdesk answered %d: %s", e.Status, strings.TrimSpace(msg))
}

// field returns the message of the first error about name (or under name, like
// "shippingAddress.postcode" under "shippingAddress"), if any.
func (e *apiError) field(name string) (fieldError, bool) {
	for _, f := range e.Fields {
		if f.Field == name || strings.HasPrefix(f.Field, name+".") || strings.HasPrefix(f.Field, name+"[") {
			return f, true
		}
	}
	return fieldError{}, false
}

// errUnreachable wraps a failure to get any answer from OrderDesk.
var errUnreachable = errors.New("orderdesk cannot be reached")

// problemOf reads the problem document of a failed answer.
func problemOf(status int, body []byte) *apiError {
	e := &apiError{Status: status}
	var p struct {
		Title  string       `json:"title"`
		Detail string       `json:"detail"`
		Errors []fieldError `json:"errors"`
	}
	if json.Unmarshal(body, &p) == nil {
		e.Title, e.Detail, e.Fields = p.Title, p.Detail, p.Errors
	}
	if e.Title == "" && e.Detail == "" {
		e.Title = http.StatusText(status)
	}
	return e
}

// userMessage says what went wrong in words for the customer: OrderDesk's own detail
// for what the customer can act on, and a plain apology for the rest.
func userMessage(err error) string {
	var ae *apiError
	if !errors.As(err, &ae) {
		return "I could not reach the shop just now. Please try again in a moment."
	}
	detail := ae.Detail
	for _, f := range ae.Fields {
		if !strings.Contains(detail, f.Message) {
			detail = strings.TrimSpace(detail + " " + f.Message)
		}
	}
	switch {
	case ae.Status == http.StatusUnauthorized || (ae.Status == http.StatusForbidden && detail == ""):
		return "The shop refused this bot's key, so I cannot help right now. The shop has been told; please try again later."
	case ae.Status == http.StatusTooManyRequests:
		return "The shop is busy right now. Please try again in a minute."
	case ae.Status >= 500:
		return "The shop could not answer just now. Please try again in a moment."
	case detail == "":
		return "The shop said: " + ae.Title + "."
	}
	return detail
}

func identity(userID int64) client.Identity { return fmt.Sprint(userID) }

func (a *api) categories(ctx context.Context) ([]client.Category, error) {
	limit := 100
	r, err := a.c.ListCategoriesWithResponse(ctx, &client.ListCategoriesParams{Limit: &limit})
	if err := resultOf(r, err, http.StatusOK); err != nil {
		return nil, err
	}
	return r.JSON200.Data, nil
}

// products lists a page of products, of one category or matching q when given.
func (a *api) products(ctx context.Context, category, q, cursor string, limit int) ([]client.Product, string, error) {
	p := &client.ListProductsParams{Limit: &limit}
	if category != "" {
		id, err := uuid.Parse(category)
		if err != nil {
			return nil, "", &apiError{Status: http.StatusNotFound, Detail: "That category no longer exists."}
		}
		p.Category = &id
	}
	if q != "" {
		p.Q = &q
	}
	if cursor != "" {
		p.Cursor = &cursor
	}
	r, err := a.c.ListProductsWithResponse(ctx, p)
	if err := resultOf(r, err, http.StatusOK); err != nil {
		return nil, "", err
	}
	return r.JSON200.Data, deref(r.JSON200.NextCursor), nil
}

func (a *api) product(ctx context.Context, id string) (*client.Product, error) {
	r, err := a.c.GetProductWithResponse(ctx, id)
	if err := resultOf(r, err, http.StatusOK); err != nil {
		return nil, err
	}
	return r.JSON200, nil
}

func (a *api) shippingMethods(ctx context.Context) ([]client.ShippingMethod, error) {
	r, err := a.c.ListShippingMethodsWithResponse(ctx)
	if err := resultOf(r, err, http.StatusOK); err != nil {
		return nil, err
	}
	return r.JSON200.Data, nil
}

func (a *api) placeOrder(ctx context.Context, userID int64, key string, body client.PlaceOrder) (*client.Order, error) {
	r, err := a.c.PlaceOrderWithResponse(ctx, &client.PlaceOrderParams{XIdentityReference: identity(userID), IdempotencyKey: key}, body)
	if err := resultOf(r, err, http.StatusCreated); err != nil {
		return nil, err
	}
	return r.JSON201, nil
}

func (a *api) orders(ctx context.Context, userID int64, cursor string, limit int) ([]client.Order, string, error) {
	p := &client.ListOrdersParams{XIdentityReference: identity(userID), Limit: &limit}
	if cursor != "" {
		p.Cursor = &cursor
	}
	r, err := a.c.ListOrdersWithResponse(ctx, p)
	if err := resultOf(r, err, http.StatusOK); err != nil {
		return nil, "", err
	}
	return r.JSON200.Data, deref(r.JSON200.NextCursor), nil
}

func (a *api) order(ctx context.Context, userID int64, id string) (*client.Order, error) {
	r, err := a.c.GetOrderWithResponse(ctx, id, &client.GetOrderParams{XIdentityReference: identity(userID)})
	if err := resultOf(r, err, http.StatusOK); err != nil {
		return nil, err
	}
	return r.JSON200, nil
}

func (a *api) cancelOrder(ctx context.Context, userID int64, id string) (*client.Order, error) {
	reason := "Cancelled by the customer in Telegram."
	r, err := a.c.CancelOrderWithResponse(ctx, id, &client.CancelOrderParams{XIdentityReference: identity(userID)},
		client.CancelOrderJSONRequestBody{Reason: &reason})
	if err := resultOf(r, err, http.StatusOK); err != nil {
		return nil, err
	}
	return r.JSON200, nil
}

func (a *api) postMessage(ctx context.Context, userID int64, orderID, body string) error {
	r, err := a.c.PostOrderMessageWithResponse(ctx, orderID, &client.PostOrderMessageParams{XIdentityReference: identity(userID)},
		client.PostOrderMessageJSONRequestBody{Body: body})
	return resultOf(r, err, http.StatusCreated)
}

func (a *api) paymentQR(ctx context.Context, userID int64, orderID string) ([]byte, error) {
	r, err := a.c.GetOrderPaymentQRWithResponse(ctx, orderID, &client.GetOrderPaymentQRParams{XIdentityReference: identity(userID)})
	if err := resultOf(r, err, http.StatusOK); err != nil {
		return nil, err
	}
	return r.Body, nil
}

// maxPhotoBytes is the most Telegram takes for a photo upload.
const maxPhotoBytes = 10 << 20

// photo downloads a product photo (its URL comes from the API).
func (a *api) photo(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("photo %s: status %d", url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPhotoBytes+1))
	if err != nil {
		return nil, fmt.Errorf("photo %s: %w", url, err)
	}
	if len(b) > maxPhotoBytes {
		return nil, fmt.Errorf("photo %s is over 10 MB", url)
	}
	return b, nil
}

// answer is what every generated response has.
type answer interface {
	StatusCode() int
	GetBody() []byte
}

// resultOf turns a generated client's answer (nil when err is not) into an error
// unless its status is want.
func resultOf[R answer](r R, err error, want int) error {
	if err != nil {
		return fmt.Errorf("%w: %v", errUnreachable, err)
	}
	if r.StatusCode() != want {
		return problemOf(r.StatusCode(), r.GetBody())
	}
	return nil
}

// review posts (or replaces) the customer's review of a product; created is true for
// their first review of it.
func (a *api) review(ctx context.Context, userID int64, productID string, rating int, body string) (rev *client.OwnReview, created bool, err error) {
	r, err := a.c.PostProductReviewWithResponse(ctx, productID, &client.PostProductReviewParams{XIdentityReference: identity(userID)},
		client.PostProductReviewJSONRequestBody{Rating: rating, Body: body})
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", errUnreachable, err)
	}
	switch r.StatusCode() {
	case http.StatusCreated:
		return r.JSON201, true, nil
	case http.StatusOK:
		return r.JSON200, false, nil
	}
	return nil, false, problemOf(r.StatusCode(), r.Body)
}

// reviews lists a product's newest approved reviews.
func (a *api) reviews(ctx context.Context, productID string, limit int) ([]client.Review, error) {
	r, err := a.c.ListProductReviewsWithResponse(ctx, productID, &client.ListProductReviewsParams{Limit: &limit})
	if err := resultOf(r, err, http.StatusOK); err != nil {
		return nil, err
	}
	return r.JSON200.Data, nil
}

// deref is *p, or "" for nil (a last page's nextCursor).
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
