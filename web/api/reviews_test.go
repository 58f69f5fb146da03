package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"orderdesk/app/apptest"
	"orderdesk/modules/catalog"
	"orderdesk/modules/ordering"
	"orderdesk/modules/reviews"
)

// ---- wire types of reviews, as a client app would write them ----

type reviewReply struct {
	Body      string `json:"body"`
	RepliedAt string `json:"repliedAt"`
}

type review struct {
	ID        string       `json:"id"`
	ProductID string       `json:"productId"`
	Status    string       `json:"status"`
	Rating    int          `json:"rating"`
	Body      string       `json:"body"`
	CreatedAt string       `json:"createdAt"`
	UpdatedAt string       `json:"updatedAt"`
	Reply     *reviewReply `json:"reply"`
}

type rating struct {
	Average *string `json:"average"`
	Count   int     `json:"count"`
}

type problemBody struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// ---- fixtures ----

// reviewShop is a shop whose customers can be given received orders.
type reviewShop struct {
	t    *testing.T
	env  *apptest.Env
	shop *apptest.Shop
	api  *apptest.APIClient
}

func newReviewShop(t *testing.T, env *apptest.Env, name string) *reviewShop {
	t.Helper()
	shop := env.NewShop(t, name)
	return &reviewShop{t: t, env: env, shop: shop, api: env.API(t, shop.App.APIKey).Strict()}
}

func (s *reviewShop) productPath() string { return "/api/v1/products/" + s.shop.Product.ID.String() }

// moveTo takes an order through the workflow, as staff, to status (shipped or
// delivered).
func (s *reviewShop) moveTo(o *ordering.Order, statuses ...ordering.Status) {
	s.t.Helper()
	for _, st := range statuses {
		if _, err := s.env.App.Orders.Transition(staffCtx(), o.ID, st, "test"); err != nil {
			s.t.Fatalf("order %s → %s: %v", o.Number, st, err)
		}
	}
}

var toShipped = []ordering.Status{ordering.StatusProcessing, ordering.StatusPicked, ordering.StatusShipped}

// received gives identity a shipped order of the shop's product.
func (s *reviewShop) received(identity string) *ordering.Order {
	s.t.Helper()
	o := s.shop.Place(s.t, identity, 1)
	s.moveTo(o, toShipped...)
	return o
}

// post posts a review for identity and returns the status and the body.
func (s *reviewShop) post(c *apptest.APIClient, identity, path string, body any) (int, []byte) {
	s.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	h := http.Header{}
	if identity != "" {
		h.Set("X-Identity-Reference", identity)
	}
	resp, out := c.Do(http.MethodPost, path+"/reviews", raw, h)
	return resp.StatusCode, out
}

// review posts a review that must be answered with want, and decodes it.
func (s *reviewShop) review(identity string, stars int, body string, want int) review {
	s.t.Helper()
	status, raw := s.post(s.api, identity, s.productPath(), map[string]any{"rating": stars, "body": body})
	if status != want {
		s.t.Fatalf("POST review as %s: %d, want %d: %s", identity, status, want, raw)
	}
	var r review
	if err := json.Unmarshal(raw, &r); err != nil {
		s.t.Fatal(err)
	}
	return r
}

func (s *reviewShop) list(query string) ([]review, *string) {
	s.t.Helper()
	var page struct {
		Data       []review `json:"data"`
		NextCursor *string  `json:"nextCursor"`
	}
	s.api.JSON(s.productPath()+"/reviews"+query, http.StatusOK, &page)
	return page.Data, page.NextCursor
}

func (s *reviewShop) rating() rating {
	s.t.Helper()
	var p struct {
		Rating rating `json:"rating"`
	}
	s.api.JSON(s.productPath(), http.StatusOK, &p)
	return p.Rating
}

func wantRating(t *testing.T, got rating, avg string, count int) {
	t.Helper()
	a := "null"
	if got.Average != nil {
		a = *got.Average
	}
	if a != avg || got.Count != count {
		t.Fatalf("rating %s over %d, want %s over %d", a, got.Count, avg, count)
	}
}

func decodeProblem(t *testing.T, raw []byte) problemBody {
	t.Helper()
	var p problemBody
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("problem: %v: %s", err, raw)
	}
	return p
}

func mustReviewID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// ---- tests ----

// TestReviewEligibility: only a customer with a shipped or delivered order of the
// product may review it; everyone else is told why with a 403.
func TestReviewEligibility(t *testing.T) {
	env := apptest.Start(t)
	s := newReviewShop(t, env, "rev-elig")
	const forbidden = "no shipped or delivered order"
	refused := func(identity, path, why string) {
		t.Helper()
		status, raw := s.post(s.api, identity, path, map[string]any{"rating": 5, "body": "Nice"})
		p := decodeProblem(t, raw)
		if status != http.StatusForbidden || p.Status != http.StatusForbidden || !strings.Contains(p.Detail, forbidden) {
			t.Fatalf("%s: %d %s", why, status, raw)
		}
	}

	refused("tg-100", s.productPath(), "no order at all")
	o := s.shop.Place(t, "tg-100", 2)
	refused("tg-100", s.productPath(), "pending payment")
	s.moveTo(o, ordering.StatusProcessing)
	refused("tg-100", s.productPath(), "paid, in the pick queue")
	s.moveTo(o, ordering.StatusPicked)
	refused("tg-100", s.productPath(), "picked")
	s.moveTo(o, ordering.StatusShipped)
	r := s.review("tg-100", 5, "Arrived quickly.", http.StatusCreated)
	if r.Status != "pending" || r.ProductID != s.shop.Product.ID.String() || r.Rating != 5 || r.Body != "Arrived quickly." || r.Reply != nil {
		t.Fatalf("review %+v", r)
	}
	// Delivered counts too.
	d := s.shop.Place(t, "tg-101", 1)
	s.moveTo(d, append(toShipped, ordering.StatusDelivered)...)
	s.review("tg-101", 4, "Good.", http.StatusCreated)
	// A cancelled order does not.
	c := s.shop.Place(t, "tg-102", 1)
	s.moveTo(c, ordering.StatusCancelled)
	refused("tg-102", s.productPath(), "cancelled order")

	// Another product on sale, never ordered by this customer.
	other, err := env.App.Catalog.CreateProduct(staffCtx(), catalog.ProductInput{Name: "rev-elig other", Price: "2.00", WeightUnit: "unit",
		ShippingWeight: "10", Status: "active"})
	if err != nil {
		t.Fatal(err)
	}
	refused("tg-100", "/api/v1/products/"+other.ID.String(), "another product")

	// The same identity reference at another client app is another customer.
	b := newReviewShop(t, env, "rev-elig-b")
	status, raw := b.post(b.api, "tg-100", s.productPath(), map[string]any{"rating": 1, "body": "Never bought it"})
	if status != http.StatusForbidden || !strings.Contains(decodeProblem(t, raw).Detail, forbidden) {
		t.Fatalf("another client app's customer of the same reference: %d %s", status, raw)
	}

	// Products that are not on sale are 404, for posting and listing.
	draft, err := env.App.Catalog.CreateProduct(staffCtx(), catalog.ProductInput{Name: "rev-elig draft", Price: "2.00", WeightUnit: "unit",
		ShippingWeight: "10", Status: "inactive"})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/products/" + uuid.NewString(), "/api/v1/products/not-a-uuid", "/api/v1/products/" + draft.ID.String()} {
		if status, raw := s.post(s.api, "tg-100", path, map[string]any{"rating": 5, "body": "x"}); status != http.StatusNotFound {
			t.Errorf("POST %s/reviews: %d %s", path, status, raw)
		}
		if resp, raw := s.api.Get(path + "/reviews"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s/reviews: %d %s", path, resp.StatusCode, raw)
		}
	}

	// The identity header is required, like the order endpoints'.
	loose := env.API(t, s.shop.App.APIKey)
	for _, ref := range []string{"", strings.Repeat("x", 129), "tab\there"} {
		status, raw := s.post(loose, ref, s.productPath(), map[string]any{"rating": 5, "body": "x"})
		p := decodeProblem(t, raw)
		if status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != "X-Identity-Reference" {
			t.Errorf("identity %q: %d %s", ref, status, raw)
		}
	}
	// And an API key.
	if status, _ := s.post(env.API(t, ""), "tg-100", s.productPath(), map[string]any{"rating": 5, "body": "x"}); status != http.StatusUnauthorized {
		t.Errorf("without a key: %d", status)
	}
}

// TestReviewEditAndModeration: one review per customer and product, which they may
// edit; an edit goes back to moderation unless the shop auto-approves.
func TestReviewEditAndModeration(t *testing.T) {
	env := apptest.Start(t)
	s := newReviewShop(t, env, "rev-edit")
	s.received("tg-200")
	first := s.review("tg-200", 4, "Good", http.StatusCreated)
	if got, _ := s.list(""); len(got) != 0 {
		t.Fatalf("a pending review is listed: %+v", got)
	}
	id := mustReviewID(t, first.ID)
	if _, err := env.App.Reviews.Approve(staffCtx(), id); err != nil {
		t.Fatal(err)
	}
	listed, _ := s.list("")
	if len(listed) != 1 || listed[0].ID != first.ID || listed[0].Body != "Good" || listed[0].Rating != 4 {
		t.Fatalf("listed %+v", listed)
	}

	// The same again: 200, unchanged, still approved.
	again := s.review("tg-200", 4, "Good", http.StatusOK)
	if again.ID != first.ID || again.Status != "approved" || again.UpdatedAt != first.UpdatedAt {
		t.Fatalf("posted again: %+v", again)
	}
	// An edit: 200, the same review, back to moderation and out of the list.
	edited := s.review("tg-200", 2, "Too bitter after all", http.StatusOK)
	if edited.ID != first.ID || edited.Status != "pending" || edited.Rating != 2 || edited.Body != "Too bitter after all" || edited.CreatedAt != first.CreatedAt {
		t.Fatalf("edited: %+v", edited)
	}
	if got, _ := s.list(""); len(got) != 0 {
		t.Fatalf("an edited review is still listed: %+v", got)
	}
	// Hidden, then edited: pending again.
	if _, err := env.App.Reviews.Hide(staffCtx(), id, "Rude"); err != nil {
		t.Fatal(err)
	}
	if r := s.review("tg-200", 3, "Sorry. It is fine.", http.StatusOK); r.Status != "pending" {
		t.Fatalf("edit of a hidden review: %+v", r)
	}

	// With auto-approval, new reviews and edits are published at once.
	set, err := env.App.Settings.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	set.ReviewsAutoApprove = true
	if _, err := env.App.Settings.Update(staffCtx(), set); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		set.ReviewsAutoApprove = false
		if _, err := env.App.Settings.Update(staffCtx(), set); err != nil {
			t.Error(err)
		}
	})
	if r := s.review("tg-200", 5, "Grew on me.", http.StatusOK); r.Status != "approved" {
		t.Fatalf("edit under auto-approval: %+v", r)
	}
	s.received("tg-201")
	if r := s.review("tg-201", 3, "OK", http.StatusCreated); r.Status != "approved" {
		t.Fatalf("new review under auto-approval: %+v", r)
	}
	if got, _ := s.list(""); len(got) != 2 || got[0].Body != "OK" || got[1].Body != "Grew on me." {
		t.Fatalf("listed under auto-approval: %+v", got)
	}

	// The staff's reply is public with the review.
	if _, err := env.App.Reviews.Reply(staffCtx(), id, "Glad you came round 😊"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.list("")
	if got[1].Reply == nil || got[1].Reply.Body != "Glad you came round 😊" || got[1].Reply.RepliedAt == "" || got[0].Reply != nil {
		t.Fatalf("reply: %+v", got)
	}
	if _, err := env.App.Reviews.RemoveReply(staffCtx(), id); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.list(""); got[1].Reply != nil {
		t.Fatalf("removed reply still shown: %+v", got[1].Reply)
	}
}

// TestReviewTextRoundTrip: any Unicode comes back exactly as sent, and HTML is
// text, never interpreted or mangled.
func TestReviewTextRoundTrip(t *testing.T) {
	env := apptest.Start(t)
	s := newReviewShop(t, env, "rev-text")
	bodies := map[string]string{
		"tg-emoji": "Lovely tea 🍵👍🏽 — family approved 👩‍👩‍👧‍👦, très bon, 日本語もOK, עברית, ÅÄÖ, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢\nSecond line\twith a tab",
		"tg-html":  `<script>alert("x")</script> <b>bold</b> &amp; <img src=x onerror=alert(1)> "quotes" 'too'`,
		"tg-long":  strings.Repeat("🍵", 2000),
	}
	for identity, body := range bodies {
		s.received(identity)
		r := s.review(identity, 5, body, http.StatusCreated)
		if r.Body != body {
			t.Fatalf("%s: posted %q, answered %q", identity, body, r.Body)
		}
		if _, err := env.App.Reviews.Approve(staffCtx(), mustReviewID(t, r.ID)); err != nil {
			t.Fatal(err)
		}
	}
	listed, _ := s.list("")
	if len(listed) != len(bodies) {
		t.Fatalf("%d listed", len(listed))
	}
	seen := 0
	for _, r := range listed {
		for _, body := range bodies {
			if r.Body == body {
				seen++
			}
		}
	}
	if seen != len(bodies) {
		t.Fatalf("bodies changed on the way: %+v", listed)
	}
}

// TestReviewValidation: bad bodies are 422s naming the field, strictly decoded.
func TestReviewValidation(t *testing.T) {
	env := apptest.Start(t)
	s := newReviewShop(t, env, "rev-valid")
	s.received("tg-300")
	loose := env.API(t, s.shop.App.APIKey)
	cases := []struct {
		name, body, field string
	}{
		{"rating zero", `{"rating": 0, "body": "x"}`, "rating"},
		{"rating six", `{"rating": 6, "body": "x"}`, "rating"},
		{"rating as a string", `{"rating": "5", "body": "x"}`, "rating"},
		{"rating with a fraction", `{"rating": 4.5, "body": "x"}`, "rating"},
		{"rating huge", `{"rating": 99999999999999999999, "body": "x"}`, "rating"},
		{"rating missing", `{"body": "x"}`, "rating"},
		{"rating null", `{"rating": null, "body": "x"}`, "rating"},
		{"body missing", `{"rating": 5}`, "body"},
		{"body empty", `{"rating": 5, "body": ""}`, "body"},
		{"body blank", `{"rating": 5, "body": " \n\t "}`, "body"},
		{"body too long", `{"rating": 5, "body": "` + strings.Repeat("a", 2001) + `"}`, "body"},
		{"body with NUL", `{"rating": 5, "body": "a\u0000b"}`, "body"},
		{"body a number", `{"rating": 5, "body": 5}`, "body"},
		{"unknown field", `{"rating": 5, "body": "x", "ratng": 5}`, "ratng"},
		{"field in another case", `{"Rating": 5, "body": "x"}`, "Rating"},
		{"not JSON", `{"rating": 5,`, "body"},
		{"an array", `[1, 2]`, "body"},
		{"trailing data", `{"rating": 5, "body": "x"} {}`, "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, raw := s.post(loose, "tg-300", s.productPath(), c.body)
			p := decodeProblem(t, raw)
			if status != http.StatusUnprocessableEntity || len(p.Errors) == 0 {
				t.Fatalf("%d %s", status, raw)
			}
			found := false
			for _, e := range p.Errors {
				found = found || e.Field == c.field
			}
			if !found {
				t.Fatalf("errors %+v do not name %s", p.Errors, c.field)
			}
		})
	}
	// None of them made a review.
	if n, _ := env.App.Reviews.CountByStatus(context.Background(), &s.shop.Product.ID); n[reviews.StatusPending] != 0 {
		t.Fatalf("%d reviews made by invalid requests", n[reviews.StatusPending])
	}
	// The list's parameters.
	for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", "?cursor=nope", "?cursor=" + url.QueryEscape("bm9wZQ")} {
		resp, raw := loose.Get(s.productPath() + "/reviews" + q)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("GET reviews%s: %d %s", q, resp.StatusCode, raw)
		}
	}
}

// TestReviewIsolation: a customer's review is theirs; another customer, of the same
// client app or another, makes their own and never changes it.
func TestReviewIsolation(t *testing.T) {
	env := apptest.Start(t)
	a := newReviewShop(t, env, "rev-iso")
	a.received("ann")
	a.received("bob")
	ann := a.review("ann", 5, "Ann's words", http.StatusCreated)
	bob := a.review("bob", 1, "Bob's words", http.StatusCreated)
	if bob.ID == ann.ID {
		t.Fatal("bob edited ann's review")
	}
	// Another client app whose own customer "ann" received the same product.
	other := env.NewShop(t, "rev-iso-b")
	other.Product = a.shop.Product
	b := &reviewShop{t: t, env: env, shop: other, api: env.API(t, other.App.APIKey).Strict()}
	bo := b.shop.Place(t, "ann", 1)
	b.moveTo(bo, toShipped...)
	annB := b.review("ann", 2, "The other Ann", http.StatusCreated)
	if annB.ID == ann.ID {
		t.Fatal("another app's customer edited ann's review")
	}
	for _, r := range []review{ann, bob, annB} {
		if _, err := env.App.Reviews.Approve(staffCtx(), mustReviewID(t, r.ID)); err != nil {
			t.Fatal(err)
		}
	}
	listed, _ := a.list("")
	bodies := map[string]string{}
	for _, r := range listed {
		bodies[r.ID] = r.Body
	}
	if len(listed) != 3 || bodies[ann.ID] != "Ann's words" || bodies[bob.ID] != "Bob's words" || bodies[annB.ID] != "The other Ann" {
		t.Fatalf("listed %+v", listed)
	}
	// No identity reference or client app leaks into the public list.
	_, raw := a.api.JSON(a.productPath()+"/reviews", http.StatusOK, nil)
	for _, secret := range []string{`"ann"`, `"bob"`, a.shop.App.App.ID.String(), other.App.App.ID.String(), "identity", "appId", "status"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the public list contains %s: %s", secret, raw)
		}
	}
}

// TestReviewPagination: approved reviews only, newest first, by cursor pages.
func TestReviewPagination(t *testing.T) {
	env := apptest.Start(t)
	s := newReviewShop(t, env, "rev-page")
	var want []string
	for i := range 5 {
		identity := fmt.Sprintf("tg-page-%d", i)
		s.received(identity)
		r := s.review(identity, i+1, fmt.Sprintf("review %d", i), http.StatusCreated)
		if _, err := env.App.Reviews.Approve(staffCtx(), mustReviewID(t, r.ID)); err != nil {
			t.Fatal(err)
		}
		want = append([]string{r.ID}, want...)
	}
	s.received("tg-page-pending")
	s.review("tg-page-pending", 3, "pending", http.StatusCreated)
	s.received("tg-page-hidden")
	h := s.review("tg-page-hidden", 1, "hidden", http.StatusCreated)
	if _, err := env.App.Reviews.Hide(staffCtx(), mustReviewID(t, h.ID), "spam"); err != nil {
		t.Fatal(err)
	}

	var got []string
	sizes := []int{}
	query := "?limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		data, next := s.list(query)
		sizes = append(sizes, len(data))
		for _, r := range data {
			got = append(got, r.ID)
		}
		if next == nil {
			break
		}
		query = "?limit=2&cursor=" + url.QueryEscape(*next)
	}
	if fmt.Sprint(sizes) != "[2 2 1]" || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("pages of %v: %v, want %v", sizes, got, want)
	}
	all, next := s.list("")
	if len(all) != 5 || next != nil {
		t.Fatalf("default page: %d, next %v", len(all), next)
	}
	wantRating(t, s.rating(), "3.0", 5)
}

// TestReviewRatingAndCatalogCache: products carry the rating of their approved
// reviews, in the detail and the list, and the catalog's cached answers (and ETags)
// change with every approval, hiding and edit that changes it, and only then.
func TestReviewRatingAndCatalogCache(t *testing.T) {
	env := apptest.Start(t)
	s := newReviewShop(t, env, "rev-cache")
	one := s.productPath()
	list := "/api/v1/products?q=" + url.QueryEscape(s.shop.Product.Name)
	get := func(path, inm string) (int, string, rating) {
		t.Helper()
		h := http.Header{}
		if inm != "" {
			h.Set("If-None-Match", inm)
		}
		resp, raw := s.api.Get(path, h)
		if resp.StatusCode == http.StatusNotModified {
			return resp.StatusCode, resp.Header.Get("ETag"), rating{}
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
		}
		var r rating
		if path == one {
			var p struct {
				Rating rating `json:"rating"`
			}
			_ = json.Unmarshal(raw, &p)
			r = p.Rating
		} else {
			var p struct {
				Data []struct {
					ID     string `json:"id"`
					Rating rating `json:"rating"`
				} `json:"data"`
			}
			_ = json.Unmarshal(raw, &p)
			if len(p.Data) != 1 || p.Data[0].ID != s.shop.Product.ID.String() {
				t.Fatalf("list: %s", raw)
			}
			r = p.Data[0].Rating
		}
		return resp.StatusCode, resp.Header.Get("ETag"), r
	}
	etags := map[string]string{}
	check := func(step, avg string, count int, changed bool) {
		t.Helper()
		for _, path := range []string{one, list} {
			status, etag, r := get(path, etags[path])
			if changed != (status == http.StatusOK) {
				t.Fatalf("%s: GET %s If-None-Match %s: %d, want a change: %v", step, path, etags[path], status, changed)
			}
			if status == http.StatusOK {
				wantRating(t, r, avg, count)
				if etag == etags[path] {
					t.Fatalf("%s: the ETag of %s did not change", step, path)
				}
				etags[path] = etag
			}
		}
	}
	// The orders change the product's stock (and so the catalog's version) first.
	s.received("tg-c1")
	s.received("tg-c2")
	s.received("tg-c3")
	check("no reviews", "null", 0, true)
	five := s.review("tg-c1", 5, "Five", http.StatusCreated)
	four := s.review("tg-c2", 4, "Four", http.StatusCreated)
	check("pending reviews do not count", "", 0, false)

	if _, err := env.App.Reviews.Approve(staffCtx(), mustReviewID(t, five.ID)); err != nil {
		t.Fatal(err)
	}
	check("one approved", "5.0", 1, true)
	if _, err := env.App.Reviews.Approve(staffCtx(), mustReviewID(t, four.ID)); err != nil {
		t.Fatal(err)
	}
	check("two approved", "4.5", 2, true)
	two := s.review("tg-c3", 2, "Two", http.StatusCreated)
	if _, err := env.App.Reviews.Approve(staffCtx(), mustReviewID(t, two.ID)); err != nil {
		t.Fatal(err)
	}
	check("three approved", "3.7", 3, true)
	if _, err := env.App.Reviews.Hide(staffCtx(), mustReviewID(t, two.ID), "Off topic"); err != nil {
		t.Fatal(err)
	}
	check("one hidden", "4.5", 2, true)
	s.review("tg-c2", 1, "Changed my mind", http.StatusOK)
	check("an approved review edited, back to moderation", "5.0", 1, true)

	// The reviews list has its own ETag, which an approval changes too.
	resp, _ := s.api.JSON(one+"/reviews", http.StatusOK, nil)
	e := resp.Header.Get("ETag")
	if resp, _ := s.api.Get(one+"/reviews", http.Header{"If-None-Match": {e}}); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("reviews list If-None-Match: %d", resp.StatusCode)
	}
	if _, err := env.App.Reviews.Reply(staffCtx(), mustReviewID(t, five.ID), "Thanks!"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := s.api.Get(one+"/reviews", http.Header{"If-None-Match": {e}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("reviews list after a reply: %d", resp.StatusCode)
	}
}
