package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"orderdesk/app/apptest"
	"orderdesk/modules/catalog"
	"orderdesk/ports"
	"orderdesk/web/api"
)

// ---- wire types, as a client app would write them ----

type money struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

type photo struct {
	URL          string `json:"url"`
	ThumbnailURL string `json:"thumbnailUrl"`
	Alt          string `json:"alt"`
}

type product struct {
	ID                string  `json:"id"`
	Name              string  `json:"name"`
	Description       string  `json:"description"`
	CategoryID        *string `json:"categoryId"`
	SKU               *string `json:"sku"`
	Price             money   `json:"price"`
	Weight            *string `json:"weight"`
	WeightUnit        string  `json:"weightUnit"`
	Photos            []photo `json:"photos"`
	AvailableQuantity *int    `json:"availableQuantity"`
}

type category struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Slug     string  `json:"slug"`
	ParentID *string `json:"parentId"`
	Position int     `json:"position"`
}

type page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// ---- fixtures ----

func staffCtx() context.Context {
	return ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: "test", Name: "test"})
}

// tag is a short random word that keeps a test's rows apart from other tests' in
// the package's shared database.
func tag(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

func newCategory(t *testing.T, env *apptest.Env, name string, parent *uuid.UUID, position int, visible bool) *catalog.Category {
	t.Helper()
	c, err := env.App.Catalog.CreateCategory(staffCtx(), catalog.CategoryInput{Name: name, ParentID: parent, Position: position, Visible: visible})
	if err != nil {
		t.Fatalf("create category %q: %v", name, err)
	}
	return c
}

// productIn is an active, tracked product of 250 g at £12.50 with 10 in stock.
func productIn(name string, cat *catalog.Category) catalog.ProductInput {
	in := catalog.ProductInput{Name: name, Price: "12.50", WeightUnit: "grams", Weight: "250", TrackStock: true, InitialStock: "10", Status: "active"}
	if cat != nil {
		in.CategoryID = cat.ID.String()
	}
	return in
}

func newProduct(t *testing.T, env *apptest.Env, in catalog.ProductInput) *catalog.Product {
	t.Helper()
	p, err := env.App.Catalog.CreateProduct(staffCtx(), in)
	if err != nil {
		t.Fatalf("create product %q: %v", in.Name, err)
	}
	return p
}

func setStatus(t *testing.T, env *apptest.Env, id uuid.UUID, s catalog.ProductStatus) {
	t.Helper()
	if _, err := env.App.Catalog.SetStatus(staffCtx(), id, s); err != nil {
		t.Fatalf("set status %s: %v", s, err)
	}
}

func setCategoryVisible(t *testing.T, env *apptest.Env, c *catalog.Category, visible bool) {
	t.Helper()
	in := catalog.CategoryInput{Name: c.Name, Slug: c.Slug, ParentID: c.ParentID, Position: c.Position, Visible: visible}
	if _, err := env.App.Catalog.UpdateCategory(staffCtx(), c.ID, in); err != nil {
		t.Fatalf("update category: %v", err)
	}
}

func execSQL(t *testing.T, env *apptest.Env, q string, args ...any) {
	t.Helper()
	if _, err := env.App.DB.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// pngImage makes a w×h PNG of one colour.
func pngImage(t *testing.T, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, color.RGBA{R: c.R, G: c.G ^ uint8(x), B: c.B ^ uint8(y), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// addReadyPhoto uploads a photo and runs its processing job, as the worker would.
func addReadyPhoto(t *testing.T, env *apptest.Env, productID uuid.UUID, data []byte, alt string) *catalog.Photo {
	t.Helper()
	ph, err := env.App.Catalog.AddPhoto(staffCtx(), productID, data, alt)
	if err != nil {
		t.Fatalf("add photo: %v", err)
	}
	processPhoto(t, env, ph.ID)
	return ph
}

func processPhoto(t *testing.T, env *apptest.Env, id uuid.UUID) {
	t.Helper()
	// The job's payload as the outbox holds it.
	var payload []byte
	if err := env.App.DB.GetContext(context.Background(), &payload,
		`SELECT payload FROM platform.outbox WHERE job_id = $1`, catalog.JobProcessPhoto+":"+id.String()); err != nil {
		t.Fatalf("outbox row of photo %s: %v", id, err)
	}
	if err := env.App.Catalog.ProcessPhotoJob(context.Background(), payload); err != nil {
		t.Fatalf("process photo: %v", err)
	}
}

// ---- helpers on the API ----

func getProduct(t *testing.T, c *apptest.APIClient, id string) (product, *http.Response, []byte) {
	t.Helper()
	var p product
	resp, b := c.JSON("/api/v1/products/"+id, http.StatusOK, &p)
	return p, resp, b
}

// allPages walks a list from its first page (path has a query already or not),
// failing on a repeated cursor; it returns the items and the number of pages.
func allPages[T any](t *testing.T, c *apptest.APIClient, path string) ([]T, int) {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var out []T
	seen := map[string]bool{}
	next := path
	for n := 1; ; n++ {
		var pg page[T]
		c.JSON(next, http.StatusOK, &pg)
		if pg.Data == nil {
			t.Fatalf("GET %s: data is null", next)
		}
		out = append(out, pg.Data...)
		if pg.NextCursor == nil {
			return out, n
		}
		if seen[*pg.NextCursor] {
			t.Fatalf("GET %s: cursor %q repeats", next, *pg.NextCursor)
		}
		seen[*pg.NextCursor] = true
		if n > 500 {
			t.Fatal("more than 500 pages")
		}
		next = path + sep + "cursor=" + url.QueryEscape(*pg.NextCursor)
	}
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func productIDs(ps []product) []string { return ids(ps, func(p product) string { return p.ID }) }

func wantProblem(t *testing.T, resp *http.Response, body []byte, status int, field string) problem {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d: %s", resp.Request.URL, resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: Content-Type %q, want application/problem+json", resp.Request.URL, ct)
	}
	var p problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%s: problem: %v: %s", resp.Request.URL, err, body)
	}
	if p.Status != status || p.Title == "" || p.Type == "" || p.Detail == "" {
		t.Errorf("%s: problem %+v lacks type/title/detail or has the wrong status", resp.Request.URL, p)
	}
	if field != "" {
		found := false
		for _, e := range p.Errors {
			found = found || e.Field == field
		}
		if !found {
			t.Errorf("%s: problem %s does not name field %q", resp.Request.URL, body, field)
		}
	}
	return p
}

// ---- the document and the validator ----

func TestOpenAPIDocument(t *testing.T) {
	raw, err := api.Document()
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi: %q, want 3.1.x", doc.OpenAPI)
	}
	for _, p := range []string{"/categories", "/products", "/products/{id}"} {
		if item := doc.Paths.Value(p); item == nil || item.Get == nil {
			t.Errorf("the document has no GET %s", p)
		}
	}

	env := apptest.Start(t)
	// No key needed.
	resp, body := env.API(t, "").JSON("/api/v1/openapi.json", http.StatusOK, nil)
	if !bytes.Equal(body, raw) {
		t.Errorf("/api/v1/openapi.json differs from api.Document()")
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if _, err := openapi3.NewLoader().LoadFromData(body); err != nil {
		t.Errorf("served document does not load: %v", err)
	}
}

// TestValidatorCatchesMismatches feeds the validator responses that break the
// document in one way each: it must reject every one, and accept the good one.
func TestValidatorCatchesMismatches(t *testing.T) {
	spec, err := apptest.LoadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.Must(uuid.NewV7()).String()
	good := map[string]any{
		"id": id, "name": "Tea", "description": "", "categoryId": nil, "sku": nil,
		"price": map[string]any{"amount": "12.50", "currency": "GBP"}, "weight": "250", "weightUnit": "grams",
		"photos":            []any{map[string]any{"url": "http://shop.test/media/a.jpg", "thumbnailUrl": "http://shop.test/media/b.jpg", "alt": ""}},
		"availableQuantity": 3,
		"rating":            map[string]any{"average": "4.5", "count": 2},
	}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		if v == nil && k[0] == '-' {
			delete(m, k[1:])
		} else {
			m[k] = v
		}
		return m
	}
	js := func(v any) []byte { b, _ := json.Marshal(v); return b }
	jsonH := http.Header{"Content-Type": {"application/json"}, "Etag": {`"abc"`}}
	probH := http.Header{"Content-Type": {"application/problem+json"}, "Www-Authenticate": {`Bearer realm="x"`}}
	req := func(path string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1"+path, nil)
		return r
	}
	prodPath := "/api/v1/products/" + id
	if err := spec.ValidateResponse(req(prodPath), 200, jsonH, js(good)); err != nil {
		t.Fatalf("a good product is refused: %v", err)
	}
	bad := []struct {
		name   string
		path   string
		status int
		header http.Header
		body   []byte
	}{
		{"undocumented status", prodPath, 500, probH, js(map[string]any{"type": "about:blank", "title": "x", "status": 500, "detail": "x"})},
		{"undocumented path", "/api/v1/nothing", 200, jsonH, js(good)},
		{"wrong content type", prodPath, 200, http.Header{"Content-Type": {"text/html"}, "Etag": {`"a"`}}, js(good)},
		{"not JSON", prodPath, 200, jsonH, []byte("{")},
		{"missing field", prodPath, 200, jsonH, js(with("-availableQuantity", nil))},
		{"extra field", prodPath, 200, jsonH, js(with("stock", 3))},
		{"price as a number", prodPath, 200, jsonH, js(with("price", map[string]any{"amount": 12.5, "currency": "GBP"}))},
		{"price with a comma", prodPath, 200, jsonH, js(with("price", map[string]any{"amount": "1,000.00", "currency": "GBP"}))},
		{"unknown unit", prodPath, 200, jsonH, js(with("weightUnit", "kilograms"))},
		{"id not a uuid", prodPath, 200, jsonH, js(with("id", "123"))},
		{"relative photo url", prodPath, 200, jsonH, js(with("photos", []any{map[string]any{"url": "/media/a.jpg", "thumbnailUrl": "/media/b.jpg", "alt": ""}}))},
		{"negative quantity", prodPath, 200, jsonH, js(with("availableQuantity", -1))},
		{"photos null", prodPath, 200, jsonH, js(with("photos", nil))},
		{"304 with a body", prodPath, 304, http.Header{"Etag": {`"a"`}}, []byte("x")},
		{"problem with another status", prodPath, 404, probH, js(map[string]any{"type": "about:blank", "title": "x", "status": 400, "detail": "x"})},
		{"422 without errors", "/api/v1/products?limit=0", 422, probH, js(map[string]any{"type": "about:blank", "title": "x", "status": 422, "detail": "x"})},
		{"list without nextCursor", "/api/v1/products", 200, jsonH, js(map[string]any{"data": []any{good}})},
		{"200 without ETag", prodPath, 200, http.Header{"Content-Type": {"application/json"}}, js(good)},
		{"304 without ETag", prodPath, 304, http.Header{}, nil},
		{"401 without WWW-Authenticate", prodPath, 401, http.Header{"Content-Type": {"application/problem+json"}},
			js(map[string]any{"type": "about:blank", "title": "x", "status": 401, "detail": "x"})},
		{"problem as plain JSON", prodPath, 404, jsonH, js(map[string]any{"type": "about:blank", "title": "x", "status": 404, "detail": "x"})},
	}
	for _, c := range bad {
		if err := spec.ValidateResponse(req(c.path), c.status, c.header, c.body); err == nil {
			t.Errorf("%s: accepted", c.name)
		} else {
			t.Logf("%s: %v", c.name, firstLine(err.Error()))
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// ---- auth ----

func TestAuth(t *testing.T) {
	env := apptest.Start(t)
	key := env.NewAPIKey(t, "auth-"+tag(t))
	p := newProduct(t, env, productIn("Auth product "+tag(t), nil))

	revoked := env.NewAPIKey(t, "revoked-"+tag(t))
	execSQL(t, env, `UPDATE clients.api_keys SET revoked_at = now() WHERE hash = sha256(convert_to($1, 'UTF8'))`, revoked)
	disabledName := "disabled-" + tag(t)
	disabled := env.NewAPIKey(t, disabledName)
	execSQL(t, env, `UPDATE clients.apps SET disabled = true WHERE name = $1`, disabledName)

	paths := []string{"/api/v1/categories", "/api/v1/products", "/api/v1/products/" + p.ID.String()}
	cases := []struct {
		name string
		auth []string // nil: no header
	}{
		{"no header", nil},
		{"empty header", []string{""}},
		{"basic scheme", []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+key))}},
		{"key without scheme", []string{key}},
		{"bearer without key", []string{"Bearer"}},
		{"bearer with blank key", []string{"Bearer   "}},
		{"unknown key", []string{"Bearer od_AAAAAAAA_" + strings.Repeat("B", 43)}},
		{"malformed key", []string{"Bearer not-a-key"}},
		{"over-long key", []string{"Bearer od_" + strings.Repeat("x", 500)}},
		{"key with a typo", []string{"Bearer " + key[:len(key)-1] + flip(key[len(key)-1])}},
		{"revoked key", []string{"Bearer " + revoked}},
		{"disabled app", []string{"Bearer " + disabled}},
	}
	anon := env.API(t, "")
	for _, c := range cases {
		for _, path := range paths {
			h := http.Header{}
			if c.auth != nil {
				h["Authorization"] = c.auth
			}
			resp, body := anon.Get(path, h)
			wantProblem(t, resp, body, http.StatusUnauthorized, "")
			if w := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(w, "Bearer") {
				t.Errorf("%s %s: WWW-Authenticate %q", c.name, path, w)
			}
			if strings.Contains(string(body), key) {
				t.Errorf("%s %s: the problem echoes the key", c.name, path)
			}
		}
	}
	// The right key works, whatever the case of the scheme (RFC 9110 §11.1).
	good := env.API(t, key).Strict()
	for _, path := range paths {
		good.JSON(path, http.StatusOK, nil)
		good.JSON(path, http.StatusOK, nil, http.Header{"Authorization": {"bearer " + key}})
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

// ---- categories ----

func TestCategories(t *testing.T) {
	env := apptest.Start(t)
	c := env.API(t, env.NewAPIKey(t, "cats-"+tag(t))).Strict()
	tg := tag(t)
	a := newCategory(t, env, tg+" A", nil, -90000, true)
	a1 := newCategory(t, env, tg+" A1", &a.ID, 2, true)
	a0 := newCategory(t, env, tg+" A0", &a.ID, 1, true)
	aHidden := newCategory(t, env, tg+" A hidden", &a.ID, 0, false)
	h := newCategory(t, env, tg+" H", nil, -89999, false)
	hChild := newCategory(t, env, tg+" H child", &h.ID, 0, true)
	b := newCategory(t, env, tg+" B", nil, -89998, true)
	b1 := newCategory(t, env, tg+" B1", &b.ID, 0, true)
	lone := newCategory(t, env, tg+" Lone", nil, -89997, true)

	all, pages := allPages[category](t, c, "/api/v1/categories?limit=100")
	if pages != 1 && len(all) <= 100 {
		t.Errorf("%d categories took %d pages of 100", len(all), pages)
	}
	byID := map[string]int{}
	for i, x := range all {
		if _, dup := byID[x.ID]; dup {
			t.Errorf("category %s listed twice", x.Name)
		}
		byID[x.ID] = i
	}
	for _, hidden := range []*catalog.Category{aHidden, h, hChild} {
		if _, ok := byID[hidden.ID.String()]; ok {
			t.Errorf("hidden category (or child of a hidden one) %q is listed", hidden.Name)
		}
	}
	// Parents before their children, the children right after their parent.
	for i, x := range all {
		if x.ParentID == nil {
			continue
		}
		pi, ok := byID[*x.ParentID]
		if !ok {
			t.Errorf("%q is listed without its parent", x.Name)
			continue
		}
		if pi >= i {
			t.Errorf("%q comes before its parent", x.Name)
		}
		prev := all[i-1]
		if prev.ID != *x.ParentID && (prev.ParentID == nil || *prev.ParentID != *x.ParentID) {
			t.Errorf("%q does not follow its parent or a sibling (but %q)", x.Name, prev.Name)
		}
	}
	var mine []string
	for _, x := range all {
		if strings.HasPrefix(x.Name, tg) {
			mine = append(mine, x.Name)
		}
	}
	want := []string{a.Name, a0.Name, a1.Name, b.Name, b1.Name, lone.Name}
	if !slices.Equal(mine, want) {
		t.Errorf("order:\n got %q\nwant %q", mine, want)
	}
	got := all[byID[a1.ID.String()]]
	if got.Slug != a1.Slug || got.Position != 2 || got.ParentID == nil || *got.ParentID != a.ID.String() {
		t.Errorf("category fields: %+v", got)
	}

	// Pages of 2 give the same list.
	paged, n := allPages[category](t, c, "/api/v1/categories?limit=2")
	if !slices.Equal(ids(paged, func(c category) string { return c.ID }), ids(all, func(c category) string { return c.ID })) {
		t.Errorf("pages of 2 differ from one page of 100")
	}
	if wantPages := (len(all) + 1) / 2; n != wantPages {
		t.Errorf("%d categories in %d pages of 2, want %d", len(all), n, wantPages)
	}
	var first page[category]
	c.JSON("/api/v1/categories?limit=1", http.StatusOK, &first)
	if len(first.Data) != 1 || first.NextCursor == nil {
		t.Errorf("limit=1: %+v", first)
	}

	testBadListParams(t, env, "/api/v1/categories")
}

// testBadListParams checks that bad limits and cursors are 422 problems naming them.
func testBadListParams(t *testing.T, env *apptest.Env, path string) {
	t.Helper()
	c := env.API(t, env.NewAPIKey(t, "params-"+tag(t))) // invalid on purpose: no request validation
	for _, limit := range []string{"0", "101", "abc", "-1", "1.5", "1e2", " 5", "99999999999999999999"} {
		resp, body := c.Get(path + "?limit=" + url.QueryEscape(limit))
		wantProblem(t, resp, body, http.StatusUnprocessableEntity, "limit")
	}
	for _, limit := range []string{"1", "100"} {
		c.JSON(path+"?limit="+limit, http.StatusOK, nil)
	}
	garbage := []string{"garbage", "!!!", base64.RawURLEncoding.EncodeToString([]byte("no-bar")),
		base64.RawURLEncoding.EncodeToString([]byte("not-a-uuid|x")), strings.Repeat("A", 201),
		base64.RawURLEncoding.EncodeToString([]byte(uuid.NewString() + "|zzz"))}
	for _, cur := range garbage {
		resp, body := c.Get(path + "?cursor=" + url.QueryEscape(cur))
		if path == "/api/v1/products" && cur == garbage[len(garbage)-1] {
			// A well-formed product cursor points at a position, not a row: it may be
			// used even when that row has gone.
			if resp.StatusCode != http.StatusOK {
				t.Errorf("well-formed cursor: status %d: %s", resp.StatusCode, body)
			}
			continue
		}
		wantProblem(t, resp, body, http.StatusUnprocessableEntity, "cursor")
	}
}

// ---- products ----

func TestProductVisibility(t *testing.T) {
	env := apptest.Start(t)
	c := env.API(t, env.NewAPIKey(t, "vis-"+tag(t))).Strict()
	tg := tag(t)
	v := newCategory(t, env, tg+" visible", nil, 0, true)
	vc := newCategory(t, env, tg+" visible child", &v.ID, 0, true)
	hidden := newCategory(t, env, tg+" hidden", nil, 0, false)
	hc := newCategory(t, env, tg+" child of hidden", &hidden.ID, 0, true)
	other := newCategory(t, env, tg+" other", nil, 0, true)

	inV := newProduct(t, env, productIn(tg+" in visible", v))
	inVC := newProduct(t, env, productIn(tg+" in visible child", vc))
	inHidden := newProduct(t, env, productIn(tg+" in hidden", hidden))
	inHC := newProduct(t, env, productIn(tg+" in child of hidden", hc))
	none := newProduct(t, env, productIn(tg+" uncategorised", nil))
	inOther := newProduct(t, env, productIn(tg+" in other", other))
	inactiveIn := productIn(tg+" inactive", v)
	inactiveIn.Status = "inactive"
	inactive := newProduct(t, env, inactiveIn)
	archived := newProduct(t, env, productIn(tg+" archived", v))
	setStatus(t, env, archived.ID, catalog.StatusArchived)

	list := func(query string) []string {
		t.Helper()
		ps, _ := allPages[product](t, c, "/api/v1/products?"+query)
		got := productIDs(ps)
		sort.Strings(got)
		return got
	}
	want := func(ps ...*catalog.Product) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.ID.String()
		}
		sort.Strings(out)
		return out
	}
	check := func(query string, ps ...*catalog.Product) {
		t.Helper()
		if got, w := list(query), want(ps...); !slices.Equal(got, w) {
			t.Errorf("?%s:\n got %v\nwant %v", query, got, w)
		}
	}
	q := "q=" + url.QueryEscape(tg)
	check(q, inV, inVC, none, inOther)
	check(q+"&category="+v.ID.String(), inV, inVC) // sub-categories included
	check(q+"&category="+vc.ID.String(), inVC)
	check(q+"&category="+other.ID.String(), inOther)
	check(q + "&category=" + hidden.ID.String())
	check(q + "&category=" + hc.ID.String())
	check(q + "&category=" + uuid.NewString())
	// Without q, the scoped products appear the same.
	all := list("limit=100")
	for _, p := range []*catalog.Product{inV, inVC, none, inOther} {
		if !slices.Contains(all, p.ID.String()) {
			t.Errorf("%s missing from the unfiltered list", p.Name)
		}
	}
	for _, p := range []*catalog.Product{inHidden, inHC, inactive, archived} {
		if slices.Contains(all, p.ID.String()) {
			t.Errorf("%s is in the unfiltered list", p.Name)
		}
	}

	// Search: part of the name, any case, nothing else.
	check("q="+url.QueryEscape(strings.ToUpper(tg)+" IN VISIBLE"), inV, inVC)
	check("q="+url.QueryEscape(tg+" uncat"), none)
	check("q=" + url.QueryEscape(tg+" nothing like this"))
	check("q=" + url.QueryEscape("%") + "&category=" + v.ID.String()) // no LIKE wildcards
	check("q=" + url.QueryEscape("_") + "&category=" + v.ID.String())

	// Bad filters are 422 naming the parameter.
	anyKey := env.API(t, env.NewAPIKey(t, "vis-bad-"+tag(t)))
	for _, bad := range []string{"nope", "123", uuid.NewString() + "x", "'; DROP TABLE x"} {
		resp, body := anyKey.Get("/api/v1/products?category=" + url.QueryEscape(bad))
		wantProblem(t, resp, body, http.StatusUnprocessableEntity, "category")
	}
	resp, body := anyKey.Get("/api/v1/products?q=" + url.QueryEscape(strings.Repeat("é", 201)))
	wantProblem(t, resp, body, http.StatusUnprocessableEntity, "q")
	c.JSON("/api/v1/products?q="+url.QueryEscape(strings.Repeat("é", 200)), http.StatusOK, nil)
	testBadListParams(t, env, "/api/v1/products")

	// One product: 404 for anything not on sale.
	getProduct(t, c, inV.ID.String())
	getProduct(t, c, none.ID.String())
	for name, id := range map[string]string{
		"unknown": uuid.NewString(), "hidden category": inHidden.ID.String(), "child of hidden": inHC.ID.String(),
		"inactive": inactive.ID.String(), "archived": archived.ID.String(),
	} {
		resp, body := c.Get("/api/v1/products/" + id)
		wantProblem(t, resp, body, http.StatusNotFound, "")
		if strings.Contains(string(body), tg) {
			t.Errorf("%s: the 404 tells the product's name", name)
		}
	}
	for _, id := range []string{"not-a-uuid", "123", url.PathEscape(inV.ID.String() + " "), strings.ToUpper(inV.ID.String()) + "0", "%00"} {
		resp, body := c.Get("/api/v1/products/" + id)
		wantProblem(t, resp, body, http.StatusNotFound, "")
	}
	// Upper-case UUIDs are still UUIDs.
	if p, _, _ := getProduct(t, c, strings.ToUpper(inV.ID.String())); p.ID != inV.ID.String() {
		t.Errorf("upper-case id: got %s", p.ID)
	}
}

func TestProductFields(t *testing.T) {
	env := apptest.Start(t)
	c := env.API(t, env.NewAPIKey(t, "fields-"+tag(t))).Strict()
	tg := tag(t)
	cat := newCategory(t, env, tg+" cat", nil, 0, true)

	in := productIn(tg+" tea", cat)
	in.Price, in.Weight, in.SKU, in.Description = "12.5", "0.125", "TEA-"+tg, "Green tea.\nLine two."
	tea := newProduct(t, env, in)

	piece := productIn(tg+" mug", nil)
	piece.Price, piece.WeightUnit, piece.Weight, piece.ShippingWeight, piece.TrackStock, piece.InitialStock = "1,000.00", "unit", "", "400", false, ""
	mug := newProduct(t, env, piece)

	cheap := productIn(tg+" sticker", nil)
	cheap.Price, cheap.WeightUnit, cheap.Weight, cheap.ShippingWeight, cheap.InitialStock = "0.05", "litres", "1.5", "1600", "7"
	sticker := newProduct(t, env, cheap)

	p, _, raw := getProduct(t, c, tea.ID.String())
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	wantKeys := []string{"availableQuantity", "categoryId", "description", "id", "name", "photos", "price", "rating", "sku", "weight", "weightUnit"}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("fields %v, want %v", keys, wantKeys)
	}
	if string(fields["photos"]) != "[]" {
		t.Errorf("photos %s, want []", fields["photos"])
	}
	if string(fields["rating"]) != `{"average":null,"count":0}` {
		t.Errorf("rating %s, want no reviews", fields["rating"])
	}
	if string(fields["price"]) != `{"amount":"12.50","currency":"GBP"}` {
		t.Errorf("price %s", fields["price"])
	}
	if p.ID != tea.ID.String() || p.Name != tea.Name || p.Description != "Green tea.\nLine two." ||
		p.CategoryID == nil || *p.CategoryID != cat.ID.String() || p.SKU == nil || *p.SKU != "TEA-"+tg ||
		p.Weight == nil || *p.Weight != "0.125" || p.WeightUnit != "grams" || p.AvailableQuantity == nil || *p.AvailableQuantity != 10 {
		t.Errorf("tea: %s", raw)
	}

	m, _, raw := getProduct(t, c, mug.ID.String())
	if m.Price != (money{"1000.00", "GBP"}) || m.Weight != nil || m.WeightUnit != "unit" || m.AvailableQuantity != nil ||
		m.CategoryID != nil || m.SKU != nil || !strings.Contains(string(raw), `"availableQuantity":null`) ||
		!strings.Contains(string(raw), `"weight":null`) {
		t.Errorf("mug: %s", raw)
	}
	s, _, raw := getProduct(t, c, sticker.ID.String())
	if s.Price != (money{"0.05", "GBP"}) || s.Weight == nil || *s.Weight != "1.5" || s.WeightUnit != "litres" || *s.AvailableQuantity != 7 {
		t.Errorf("sticker: %s", raw)
	}

	// The same product in the list is the same object.
	var pg page[product]
	c.JSON("/api/v1/products?q="+url.QueryEscape(tg+" tea"), http.StatusOK, &pg)
	if len(pg.Data) != 1 {
		t.Fatalf("list: %+v", pg)
	}
	if got, _ := json.Marshal(pg.Data[0]); !bytes.Equal(got, mustJSON(t, p)) {
		t.Errorf("list item %s differs from the product %s", got, mustJSON(t, p))
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProductPhotos(t *testing.T) {
	env := apptest.Start(t)
	c := env.API(t, env.NewAPIKey(t, "photos-"+tag(t))).Strict()
	p := newProduct(t, env, productIn("Photo product "+tag(t), nil))
	ctx := staffCtx()

	one, err := env.App.Catalog.AddPhoto(ctx, p.ID, pngImage(t, 40, 30, color.RGBA{R: 200, A: 255}), "Red one")
	if err != nil {
		t.Fatal(err)
	}
	two, err := env.App.Catalog.AddPhoto(ctx, p.ID, pngImage(t, 20, 50, color.RGBA{B: 200, A: 255}), "Blue <two>")
	if err != nil {
		t.Fatal(err)
	}
	// Not processed yet: no photos.
	if got, _, raw := getProduct(t, c, p.ID.String()); len(got.Photos) != 0 {
		t.Errorf("photos before processing: %s", raw)
	}
	processPhoto(t, env, one.ID)
	got, _, raw := getProduct(t, c, p.ID.String())
	if len(got.Photos) != 1 || got.Photos[0].Alt != "Red one" {
		t.Errorf("after processing the first: %s", raw)
	}
	processPhoto(t, env, two.ID)
	got, _, raw = getProduct(t, c, p.ID.String())
	if len(got.Photos) != 2 || got.Photos[0].Alt != "Red one" || got.Photos[1].Alt != "Blue <two>" {
		t.Fatalf("after processing both: %s", raw)
	}
	// The primary comes first.
	if err := env.App.Catalog.SetPrimaryPhoto(ctx, p.ID, two.ID); err != nil {
		t.Fatal(err)
	}
	got, _, raw = getProduct(t, c, p.ID.String())
	if len(got.Photos) != 2 || got.Photos[0].Alt != "Blue <two>" || got.Photos[1].Alt != "Red one" {
		t.Fatalf("after making the second primary: %s", raw)
	}
	for i, ph := range got.Photos {
		id := []uuid.UUID{two.ID, one.ID}[i]
		for _, u := range []string{ph.URL, ph.ThumbnailURL} {
			if !strings.HasPrefix(u, env.URL+"/media/photos/"+id.String()+"/") {
				t.Errorf("photo URL %q is not under BASE_URL %s", u, env.URL)
			}
			checkImage(t, u)
		}
		if ph.URL == ph.ThumbnailURL {
			t.Errorf("url and thumbnailUrl are the same: %s", ph.URL)
		}
	}
	// The list carries the same photos.
	var pg page[product]
	c.JSON("/api/v1/products?q="+url.QueryEscape(p.Name), http.StatusOK, &pg)
	if len(pg.Data) != 1 || !slices.Equal(pg.Data[0].Photos, got.Photos) {
		t.Errorf("list photos %+v, want %+v", pg.Data, got.Photos)
	}
	// A photo that fails processing is never shown.
	bad, err := env.App.Catalog.AddPhoto(ctx, p.ID, pngImage(t, 10, 10, color.RGBA{G: 9, A: 255}), "")
	if err != nil {
		t.Fatal(err)
	}
	execSQL(t, env, `UPDATE catalog.photos SET status = 'failed' WHERE id = $1`, bad.ID)
	if got, _, raw := getProduct(t, c, p.ID.String()); len(got.Photos) != 2 {
		t.Errorf("a failed photo is listed: %s", raw)
	}
}

// checkImage fetches a photo URL as a client app's user would: image bytes, cached for
// long, with an ETag that gives 304.
func checkImage(t *testing.T, u string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
		t.Errorf("GET %s: Content-Type %q", u, ct)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("GET %s: not a PNG: %v", u, err)
	}
	cc := resp.Header.Get("Cache-Control")
	maxAge := 0
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			maxAge, _ = strconv.Atoi(v)
		}
	}
	if maxAge < 30*24*3600 || !strings.Contains(cc, "public") {
		t.Errorf("GET %s: Cache-Control %q, want public and long", u, cc)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatalf("GET %s: no ETag", u)
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Errorf("GET %s with If-None-Match: %d, %d bytes", u, resp.StatusCode, len(b))
	}
}

// ---- pagination ----

func TestPagination(t *testing.T) {
	env := apptest.Start(t)
	c := env.API(t, env.NewAPIKey(t, "pages-"+tag(t))).Strict()
	tg := tag(t)
	cat := newCategory(t, env, tg+" paging", nil, 0, true)

	// 55 products created in a shuffled order, so creation order is not name order.
	const n = 55
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j, _ := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		order[i], order[j.Int64()] = order[j.Int64()], order[i]
	}
	names := map[string]string{}
	for _, i := range order {
		// Alternate the case: the order is by name, whatever its case.
		name := fmt.Sprintf("%s item %03d", tg, i*10)
		if i%2 == 1 {
			name = fmt.Sprintf("%s ITEM %03d", tg, i*10)
		}
		p := newProduct(t, env, productIn(name, cat))
		names[p.ID.String()] = name
	}
	// Two products of the same name: the id breaks the tie.
	for range 2 {
		p := newProduct(t, env, productIn(tg+" item 250", cat))
		names[p.ID.String()] = p.Name
	}
	total := len(names)

	base := "/api/v1/products?category=" + cat.ID.String()
	walk := func(path string, limit int) []product {
		t.Helper()
		ps, pages := allPages[product](t, c, fmt.Sprintf("%s&limit=%d", path, limit))
		if want := (len(ps) + limit - 1) / limit; pages != want && !(len(ps) == 0 && pages == 1) {
			t.Errorf("limit %d: %d products in %d pages, want %d", limit, len(ps), pages, want)
		}
		return ps
	}
	checkAll := func(ps []product) {
		t.Helper()
		seen := map[string]int{}
		for _, p := range ps {
			seen[p.ID]++
		}
		for id, name := range names {
			if seen[id] != 1 {
				t.Errorf("%q seen %d times", name, seen[id])
			}
		}
		if len(ps) != total {
			t.Errorf("%d products listed, want %d", len(ps), total)
		}
		if !sort.SliceIsSorted(ps, func(i, j int) bool {
			a, b := strings.ToLower(ps[i].Name), strings.ToLower(ps[j].Name)
			return a < b || a == b && ps[i].ID < ps[j].ID
		}) {
			t.Errorf("not in name order: %v", ids(ps, func(p product) string { return p.Name }))
		}
	}
	for _, limit := range []int{20, 1, 7, 57, 100} {
		checkAll(walk(base, limit))
	}
	checkAll(walk("/api/v1/products?q="+url.QueryEscape(tg+" item"), 20))

	// The default page is 20.
	var pg page[product]
	c.JSON(base, http.StatusOK, &pg)
	if len(pg.Data) != 20 || pg.NextCursor == nil {
		t.Errorf("default page: %d items, nextCursor %v", len(pg.Data), pg.NextCursor)
	}

	// Stable under inserts (and a deletion) between pages: every product that existed
	// at the start is seen exactly once, and nothing twice.
	var got []product
	var first page[product]
	c.JSON(base+"&limit=20", http.StatusOK, &first)
	got = append(got, first.Data...)
	last := first.Data[len(first.Data)-1]
	for _, name := range []string{tg + " item 000", tg + " ITEM 001", tg + " a first", last.Name, tg + " item 105x", tg + " item 999", tg + " zzz"} {
		newProduct(t, env, productIn(name, cat))
	}
	cursor := first.NextCursor
	pageNo := 1
	for cursor != nil {
		var next page[product]
		c.JSON(base+"&limit=20&cursor="+url.QueryEscape(*cursor), http.StatusOK, &next)
		got = append(got, next.Data...)
		cursor = next.NextCursor
		if pageNo == 1 && len(next.Data) > 0 {
			// Remove the last product of this page, then go on from its cursor.
			gone := next.Data[len(next.Data)-1]
			if _, err := env.App.Catalog.DeleteProduct(staffCtx(), uuid.MustParse(gone.ID)); err != nil {
				t.Fatal(err)
			}
			// And put one in right where the next page starts.
			newProduct(t, env, productIn(gone.Name, cat))
		}
		pageNo++
		if pageNo > 20 {
			t.Fatal("too many pages")
		}
	}
	seen := map[string]int{}
	for _, p := range got {
		seen[p.ID]++
		if seen[p.ID] == 2 {
			t.Errorf("%q listed twice", p.Name)
		}
	}
	for id, name := range names {
		if seen[id] != 1 {
			t.Errorf("%q, there from the start, seen %d times", name, seen[id])
		}
	}
	if !sort.SliceIsSorted(got, func(i, j int) bool {
		a, b := strings.ToLower(got[i].Name), strings.ToLower(got[j].Name)
		return a < b || a == b && got[i].ID < got[j].ID
	}) {
		t.Errorf("not in name order across pages")
	}
}

// ---- ETags and cache invalidation ----

func TestETagAndInvalidation(t *testing.T) {
	env := apptest.Start(t)
	c := env.API(t, env.NewAPIKey(t, "etag-"+tag(t))).Strict()
	tg := tag(t)
	cat := newCategory(t, env, tg+" etag", nil, 0, true)
	in := productIn(tg+" kettle", cat)
	p := newProduct(t, env, in)
	id := p.ID.String()
	one := "/api/v1/products/" + id
	list := "/api/v1/products?category=" + cat.ID.String()
	cats := "/api/v1/categories?limit=100"

	etagOf := func(path string) (string, []byte) {
		t.Helper()
		resp, body := c.JSON(path, http.StatusOK, nil)
		e := resp.Header.Get("ETag")
		if e == "" || !strings.HasPrefix(e, `"`) && !strings.HasPrefix(e, `W/"`) {
			t.Fatalf("GET %s: ETag %q", path, e)
		}
		return e, body
	}
	notModified := func(path, inm string) {
		t.Helper()
		resp, body := c.Get(path, http.Header{"If-None-Match": {inm}})
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("GET %s If-None-Match %s: %d, %q", path, inm, resp.StatusCode, body)
		}
	}
	modified := func(path, inm string) []byte {
		t.Helper()
		resp, body := c.Get(path, http.Header{"If-None-Match": {inm}})
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s If-None-Match %s (stale): %d, %q", path, inm, resp.StatusCode, body)
		}
		return body
	}

	for _, path := range []string{one, list, cats} {
		e1, b1 := etagOf(path)
		e2, b2 := etagOf(path)
		if e1 != e2 || !bytes.Equal(b1, b2) {
			t.Errorf("GET %s twice: ETags %s %s", path, e1, e2)
		}
		notModified(path, e1)
		notModified(path, `"nope", `+e1)
		notModified(path, "W/"+e1)
		notModified(path, "*")
		modified(path, `"nope"`)
	}

	// Each edit through the catalog service is seen at once, with a new ETag.
	edits := []struct {
		name  string
		edit  func()
		check func(p product, found bool) bool
	}{
		{"price", func() {
			in.Price = "13.99"
			if _, err := env.App.Catalog.UpdateProduct(staffCtx(), p.ID, in); err != nil {
				t.Fatal(err)
			}
		}, func(p product, found bool) bool { return found && p.Price.Amount == "13.99" }},
		{"name and description", func() {
			in.Name, in.Description = tg+" kettle deluxe", "Now with a lid."
			if _, err := env.App.Catalog.UpdateProduct(staffCtx(), p.ID, in); err != nil {
				t.Fatal(err)
			}
		}, func(p product, found bool) bool {
			return found && p.Name == tg+" kettle deluxe" && p.Description == "Now with a lid."
		}},
		{"stock", func() {
			if _, err := env.App.Catalog.SetStock(staffCtx(), p.ID, 4); err != nil {
				t.Fatal(err)
			}
		}, func(p product, found bool) bool {
			return found && p.AvailableQuantity != nil && *p.AvailableQuantity == 4
		}},
		{"stock adjustment", func() {
			if _, err := env.App.Catalog.AdjustStock(staffCtx(), p.ID, 3, catalog.ReasonReceived, "delivery"); err != nil {
				t.Fatal(err)
			}
		}, func(p product, found bool) bool { return found && *p.AvailableQuantity == 7 }},
		{"reservation", func() {
			execSQL(t, env, `UPDATE catalog.products SET reserved = 2 WHERE id = $1`, p.ID)
		}, func(p product, found bool) bool { return found && *p.AvailableQuantity == 5 }},
		{"inactive", func() { setStatus(t, env, p.ID, catalog.StatusInactive) },
			func(_ product, found bool) bool { return !found }},
		{"active again", func() { setStatus(t, env, p.ID, catalog.StatusActive) },
			func(p product, found bool) bool { return found }},
		{"category hidden", func() { setCategoryVisible(t, env, cat, false) },
			func(_ product, found bool) bool { return !found }},
		{"category shown", func() { setCategoryVisible(t, env, cat, true) },
			func(_ product, found bool) bool { return found }},
		{"photo ready", func() {
			addReadyPhoto(t, env, p.ID, pngImage(t, 8, 8, color.RGBA{R: 1, A: 255}), "kettle")
		}, func(p product, found bool) bool { return found && len(p.Photos) == 1 && p.Photos[0].Alt == "kettle" }},
		{"archived", func() { setStatus(t, env, p.ID, catalog.StatusArchived) },
			func(_ product, found bool) bool { return !found }},
		{"active once more", func() { setStatus(t, env, p.ID, catalog.StatusActive) },
			func(p product, found bool) bool { return found }},
	}
	// versions checks a resource after an edit: a new body must come with a new ETag,
	// the old ETag then gets the new body (not 304), and an unchanged body keeps its ETag.
	type version struct {
		etag string
		body []byte
	}
	prev := map[string]version{}
	for _, path := range []string{one, list, cats} {
		e, b := etagOf(path)
		prev[path] = version{e, b}
	}
	fresh := func(edit, path string) (int, []byte) {
		t.Helper()
		old := prev[path]
		resp, body := c.Get(path)
		if resp.StatusCode == http.StatusNotFound {
			delete(prev, path)
			return resp.StatusCode, body
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: GET %s: %d %s", edit, path, resp.StatusCode, body)
		}
		et := resp.Header.Get("ETag")
		if old.etag != "" {
			changed := !bytes.Equal(body, old.body)
			if changed == (et == old.etag) {
				t.Errorf("%s: GET %s: body changed %v but ETag %s -> %s", edit, path, changed, old.etag, et)
			}
			r2, b2 := c.Get(path, http.Header{"If-None-Match": {old.etag}})
			if changed && (r2.StatusCode != http.StatusOK || !bytes.Equal(b2, body)) {
				t.Errorf("%s: GET %s with the old ETag: %d (stale)", edit, path, r2.StatusCode)
			}
			if !changed && r2.StatusCode != http.StatusNotModified {
				t.Errorf("%s: GET %s with the current ETag: %d, want 304", edit, path, r2.StatusCode)
			}
		}
		prev[path] = version{et, body}
		return resp.StatusCode, body
	}
	for _, e := range edits {
		e.edit()
		status, body := fresh(e.name, one)
		found := status == http.StatusOK
		var got product
		if found {
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
		}
		if !e.check(got, found) {
			t.Errorf("%s: GET %s is stale or wrong: %d %s", e.name, one, status, body)
		}
		// The list that holds it agrees.
		_, body = fresh(e.name, list)
		var pg page[product]
		if err := json.Unmarshal(body, &pg); err != nil {
			t.Fatal(err)
		}
		var inList product
		for _, x := range pg.Data {
			if x.ID == id {
				inList = x
			}
		}
		if (inList.ID != "") != found || (found && !bytes.Equal(mustJSON(t, inList), mustJSON(t, got))) {
			t.Errorf("%s: the list disagrees with the product: %s", e.name, body)
		}
		// The categories change only with the category.
		before := prev[cats].body
		_, body = fresh(e.name, cats)
		if changed := !bytes.Equal(before, body); changed != strings.HasPrefix(e.name, "category") {
			t.Errorf("%s: categories changed: %v", e.name, changed)
		}
	}

	// Many quick edits, each read straight after: never stale.
	for i := range 15 {
		in.Price = fmt.Sprintf("%d.%02d", 20+i, i)
		if _, err := env.App.Catalog.UpdateProduct(staffCtx(), p.ID, in); err != nil {
			t.Fatal(err)
		}
		got, _, _ := getProduct(t, c, id)
		if got.Price.Amount != in.Price {
			t.Fatalf("edit %d: price %s, want %s", i, got.Price.Amount, in.Price)
		}
		var pg page[product]
		c.JSON(list, http.StatusOK, &pg)
		if len(pg.Data) != 1 || pg.Data[0].Price.Amount != in.Price {
			t.Fatalf("edit %d: list %+v, want price %s", i, pg.Data, in.Price)
		}
	}
}

// ---- Unicode ----

func TestUnicodeRoundTrip(t *testing.T) {
	env := apptest.Start(t)
	c := env.API(t, env.NewAPIKey(t, "unicode-"+tag(t))).Strict()
	tg := tag(t)
	name := tg + " Çay 🍵🫖 شاي עברית e\u0301 a\u0308\u0301 𝄞 👩\u200d👩\u200d👧 <script>alert(1)</script> & \"q\" \u2028 'a'"
	desc := "Line one: 🍵 (4-byte U+1F375) and 𝄞 (U+1D11E).\n" +
		"مرحبا بالعالم — right-to-left, with \u200f mark and \u202e override\u202c.\n" +
		"Combining: Z\u0351\u0307a\u0308\u0301l\u0336g\u0327o\u0303 and NFD cafe\u0301 ≠ NFC café.\n" +
		"<script>alert('x')</script><b>bold</b> &amp; \\u003c not an escape \\n\n" +
		"Han 漢字, Hangul 한국어, Devanagari हिन्दी, flag 🇬🇧, skin tone 👍🏽, nul-free\ttab."
	in := productIn(name, nil)
	in.Description = desc
	p := newProduct(t, env, in)
	if p.Name != name || p.Description != desc {
		t.Fatalf("the service changed the text: %q %q", p.Name, p.Description)
	}

	got, _, raw := getProduct(t, c, p.ID.String())
	if got.Name != name {
		t.Errorf("name:\n got %q\nwant %q", got.Name, name)
	}
	if got.Description != desc {
		t.Errorf("description:\n got %q\nwant %q", got.Description, desc)
	}
	// The JSON carries the characters themselves, not HTML-safe escapes.
	for _, s := range []string{"🍵", "𝄞", "شاي", "e\u0301", "<script>alert(1)</script>", "&amp;"} {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("body lacks %q literally: %s", s, raw)
		}
	}
	if htmlEscape.Match(raw) {
		t.Errorf("body HTML-escapes: %s", raw)
	}

	// Found by searching for a part of it, in the list too, identically.
	for _, q := range []string{"شاي", "🫖", "e\u0301 a\u0308", "<script>", strings.ToUpper("çay")} {
		var pg page[product]
		c.JSON("/api/v1/products?q="+url.QueryEscape(q), http.StatusOK, &pg)
		found := false
		for _, x := range pg.Data {
			if x.ID == p.ID.String() {
				found = true
				if x.Name != name || x.Description != desc {
					t.Errorf("q=%q: the list changed the text", q)
				}
			}
		}
		if !found {
			t.Errorf("q=%q does not find the product", q)
		}
	}
	// NFC é does not match the NFD text: no silent normalisation either way.
	var pg page[product]
	c.JSON("/api/v1/products?q="+url.QueryEscape(tg+" Çay 🍵🫖 شاي עברית é"), http.StatusOK, &pg)
	if len(pg.Data) != 0 {
		t.Errorf("NFC query matched NFD text")
	}
}

// htmlEscape finds \u003c, \u003e or \u0026 escapes (not preceded by another backslash).
var htmlEscape = regexp.MustCompile(`(^|[^\\])\\u00(3c|3e|26)`)

// ---- stock ----

func TestAvailableQuantity(t *testing.T) {
	env := apptest.Start(t)
	c := env.API(t, env.NewAPIKey(t, "stock-"+tag(t))).Strict()
	tg := tag(t)
	cat := newCategory(t, env, tg+" stock", nil, 0, true)
	p := newProduct(t, env, productIn(tg+" tracked", cat))
	untrackedIn := productIn(tg+" untracked", cat)
	untrackedIn.TrackStock, untrackedIn.InitialStock = false, ""
	untracked := newProduct(t, env, untrackedIn)

	qty := func(id uuid.UUID) *int {
		t.Helper()
		got, _, _ := getProduct(t, c, id.String())
		var pg page[product]
		c.JSON("/api/v1/products?category="+cat.ID.String(), http.StatusOK, &pg)
		for _, x := range pg.Data {
			if x.ID == id.String() && fmt.Sprint(deref(x.AvailableQuantity)) != fmt.Sprint(deref(got.AvailableQuantity)) {
				t.Errorf("list says %v, product says %v", deref(x.AvailableQuantity), deref(got.AvailableQuantity))
			}
		}
		return got.AvailableQuantity
	}
	for _, step := range []struct {
		stock, reserved, want int
	}{{10, 0, 10}, {10, 3, 7}, {10, 10, 0}, {12, 10, 2}, {5, 0, 5}} {
		execSQL(t, env, `UPDATE catalog.products SET stock_on_hand = $2, reserved = $3 WHERE id = $1`, p.ID, step.stock, step.reserved)
		if got := qty(p.ID); got == nil || *got != step.want {
			t.Errorf("stock %d reserved %d: availableQuantity %v, want %d", step.stock, step.reserved, deref(got), step.want)
		}
	}
	if got := qty(untracked.ID); got != nil {
		t.Errorf("untracked: availableQuantity %d, want null", *got)
	}
	// Reservations on an untracked product do not make it tracked.
	execSQL(t, env, `UPDATE catalog.products SET reserved = 4 WHERE id = $1`, untracked.ID)
	if got := qty(untracked.ID); got != nil {
		t.Errorf("untracked with reservations: availableQuantity %d, want null", *got)
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
