package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/filestore"
	"orderdesk/adapters/postgres"
	"orderdesk/modules/catalog"
	"orderdesk/ports"
)

// The catalog tests share the package's database with the other tests; each starts
// from an empty catalog (the audit log cannot be emptied, so audit checks look at the
// rows of the objects a test made).

// catClock is a test clock that moves on by step at every reading.
type catClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *catClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

type catEnv struct {
	ctx   context.Context
	store *postgres.CatalogStore
	svc   *catalog.Service
	files *filestore.Local
	dir   string
	clock *catClock
}

var catActor = ports.Actor{Kind: ports.ActorStaff, ID: "staff-1", Name: "editor", IP: "192.0.2.7"}

func catReset(t *testing.T) {
	t.Helper()
	mustExec(t, `DELETE FROM catalog.stock_movements`)
	mustExec(t, `DELETE FROM catalog.photos`)
	mustExec(t, `DELETE FROM catalog.products`)
	mustExec(t, `DELETE FROM catalog.categories WHERE parent_id IS NOT NULL`)
	mustExec(t, `DELETE FROM catalog.categories`)
}

func newCatEnv(t *testing.T) *catEnv {
	t.Helper()
	catReset(t)
	dir := t.TempDir()
	files, err := filestore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	clock := &catClock{t: time.Date(2030, 5, 1, 9, 0, 0, 123456789, time.UTC), step: time.Millisecond}
	store := postgres.NewCatalogStore(testDB)
	return &catEnv{
		ctx:   ports.WithActor(context.Background(), catActor),
		store: store,
		svc:   catalog.NewService(store, files, clock.now),
		files: files,
		dir:   dir,
		clock: clock,
	}
}

// catWantField checks that err is EINVALID with an error on field (and no other).
func catWantField(t *testing.T, err error, field string) {
	t.Helper()
	wantCode(t, err, ports.EINVALID)
	fe := ports.FieldErrorsOf(err)
	if len(fe) != 1 || fe[0].Field != field || fe[0].Message == "" {
		t.Fatalf("field errors %v, want one on %q", fe, field)
	}
}

func catVersion(t *testing.T, e *catEnv) int64 {
	t.Helper()
	v, err := e.svc.Version(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *catEnv) category(t *testing.T, name string, parent *uuid.UUID, visible bool) *catalog.Category {
	t.Helper()
	c, err := e.svc.CreateCategory(e.ctx, catalog.CategoryInput{Name: name, ParentID: parent, Visible: visible})
	if err != nil {
		t.Fatalf("create category %q: %v", name, err)
	}
	return c
}

// product creates a product from a valid form changed by mutate.
func (e *catEnv) product(t *testing.T, name string, mutate func(in *catalog.ProductInput)) *catalog.Product {
	t.Helper()
	in := catalog.ProductInput{Name: name, Price: "5.00", WeightUnit: "grams", Weight: "100", TrackStock: true, InitialStock: "10"}
	if mutate != nil {
		mutate(&in)
	}
	p, err := e.svc.CreateProduct(e.ctx, in)
	if err != nil {
		t.Fatalf("create product %q: %v", name, err)
	}
	return p
}

func (e *catEnv) get(t *testing.T, id uuid.UUID) *catalog.Product {
	t.Helper()
	p, err := e.svc.Product(e.ctx, id)
	if err != nil {
		t.Fatalf("product %s: %v", id, err)
	}
	return p
}

func catIDs(ps []catalog.Product) []uuid.UUID {
	out := make([]uuid.UUID, len(ps))
	for i := range ps {
		out[i] = ps[i].ID
	}
	return out
}

// catSameSet checks that got holds exactly the products want, in any order.
func catSameSet(t *testing.T, what string, got []catalog.Product, want ...*catalog.Product) {
	t.Helper()
	g := catIDs(got)
	w := make([]uuid.UUID, len(want))
	for i, p := range want {
		w[i] = p.ID
	}
	cmp := func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }
	slices.SortFunc(g, cmp)
	slices.SortFunc(w, cmp)
	if !slices.Equal(g, w) {
		t.Fatalf("%s: got %v, want %v", what, catNames(got), want)
	}
}

func catNames(ps []catalog.Product) []string {
	out := make([]string, len(ps))
	for i := range ps {
		out[i] = ps[i].Name
	}
	return out
}

func catPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 90, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *catEnv) fileExists(t *testing.T, key string) bool {
	t.Helper()
	f, _, err := e.files.Open(e.ctx, key)
	if err == nil {
		f.Close()
		return true
	}
	if ports.ErrorCodeOf(err) != ports.ENOTFOUND {
		t.Fatalf("open %s: %v", key, err)
	}
	return false
}

// uploads counts the upload files in the file store.
func (e *catEnv) uploads(t *testing.T) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(e.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "upload" {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCatalogCategories(t *testing.T) {
	e := newCatEnv(t)
	ctx := e.ctx

	v0 := catVersion(t, e)
	cakes, err := e.svc.CreateCategory(ctx, catalog.CategoryInput{Name: "  Crème brûlée ", Position: 2, Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	if cakes.Slug != "creme-brulee" || cakes.Name != "Crème brûlée" {
		t.Fatalf("created %+v", cakes)
	}
	got, err := e.svc.Category(ctx, cakes.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Crème brûlée" || got.Slug != "creme-brulee" || got.Position != 2 || !got.Visible || got.ParentID != nil ||
		!got.CreatedAt.Equal(cakes.CreatedAt.Truncate(time.Microsecond)) {
		t.Fatalf("read back %+v, created %+v", got, cakes)
	}
	if n := auditCount(t, "category.create", cakes.ID.String()); n != 1 {
		t.Fatalf("%d category.create audit rows, want 1", n)
	}
	v1 := catVersion(t, e)
	if v1 <= v0 {
		t.Fatalf("version %d after creating a category, was %d", v1, v0)
	}

	// The same derived slug is taken: a field error on "slug", nothing written.
	_, err = e.svc.CreateCategory(ctx, catalog.CategoryInput{Name: "Creme Brulee"})
	catWantField(t, err, "slug")
	if n := countRows(t, `SELECT count(*) FROM catalog.categories`); n != 1 {
		t.Fatalf("%d categories after a slug conflict", n)
	}
	if v := catVersion(t, e); v != v1 {
		t.Fatalf("version %d after a refused creation, want %d", v, v1)
	}
	// The store itself says ECONFLICT.
	dup := &catalog.Category{ID: uuid.New(), Name: "x", Slug: "creme-brulee", CreatedAt: now(), UpdatedAt: now()}
	wantCode(t, e.store.CreateCategory(ctx, dup, ports.Audit(ctx, "category.create", "category", dup.ID.String(), "")), ports.ECONFLICT)
	if n := auditCount(t, "category.create", dup.ID.String()); n != 0 {
		t.Fatalf("%d audit rows for a refused creation", n)
	}

	tea := e.category(t, "Tea", nil, true)
	if tea.Slug != "tea" {
		t.Fatalf("slug %q", tea.Slug)
	}
	// Taking another category's slug on update is a field error; the category is unchanged.
	_, err = e.svc.UpdateCategory(ctx, tea.ID, catalog.CategoryInput{Name: "Tea", Slug: "creme-brulee", Visible: true})
	catWantField(t, err, "slug")
	if c, _ := e.svc.Category(ctx, tea.ID); c.Slug != "tea" {
		t.Fatalf("slug %q after a refused update", c.Slug)
	}
	if n := auditCount(t, "category.update", tea.ID.String()); n != 0 {
		t.Fatalf("%d category.update rows for a refused update", n)
	}
	// Invalid input is refused before the store.
	_, err = e.svc.UpdateCategory(ctx, tea.ID, catalog.CategoryInput{Name: "", Slug: "tea"})
	catWantField(t, err, "name")
	// A good update.
	upd, err := e.svc.UpdateCategory(ctx, tea.ID, catalog.CategoryInput{Name: "Teas 🍵", Slug: " Fine-Teas ", Position: -3, Visible: false})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Name != "Teas 🍵" || upd.Slug != "fine-teas" || upd.Position != -3 || upd.Visible {
		t.Fatalf("updated %+v", upd)
	}
	if c, _ := e.svc.Category(ctx, tea.ID); c.Name != "Teas 🍵" || c.Slug != "fine-teas" || c.Visible {
		t.Fatalf("read back %+v", c)
	}
	if n := auditCount(t, "category.update", tea.ID.String()); n != 1 {
		t.Fatalf("%d category.update rows, want 1", n)
	}
	_, err = e.svc.UpdateCategory(ctx, uuid.New(), catalog.CategoryInput{Name: "Nothing"})
	wantCode(t, err, ports.ENOTFOUND)
	_, err = e.svc.Category(ctx, uuid.New())
	wantCode(t, err, ports.ENOTFOUND)

	// One level of nesting, through the service.
	green := e.category(t, "Green tea", &tea.ID, true)
	if green.ParentID == nil || *green.ParentID != tea.ID {
		t.Fatalf("parent %v", green.ParentID)
	}
	_, err = e.svc.CreateCategory(ctx, catalog.CategoryInput{Name: "Matcha", ParentID: &green.ID})
	catWantField(t, err, "parent_id")
	_, err = e.svc.UpdateCategory(ctx, tea.ID, catalog.CategoryInput{Name: "Teas", ParentID: &cakes.ID})
	catWantField(t, err, "parent_id") // it has a child
	_, err = e.svc.UpdateCategory(ctx, cakes.ID, catalog.CategoryInput{Name: "Cakes", ParentID: &cakes.ID})
	catWantField(t, err, "parent_id") // itself
	_, err = e.svc.UpdateCategory(ctx, cakes.ID, catalog.CategoryInput{Name: "Cakes", ParentID: &green.ID})
	catWantField(t, err, "parent_id") // a child
	missing := uuid.New()
	_, err = e.svc.CreateCategory(ctx, catalog.CategoryInput{Name: "Orphan", ParentID: &missing})
	catWantField(t, err, "parent_id")
	// A child may move to another top-level category, and back to the top.
	if _, err := e.svc.UpdateCategory(ctx, green.ID, catalog.CategoryInput{Name: "Green tea", ParentID: &cakes.ID, Visible: true}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, `SELECT count(*) FROM catalog.categories c JOIN catalog.categories p ON p.id = c.parent_id
		WHERE p.parent_id IS NOT NULL`); n != 0 {
		t.Fatalf("%d categories nested two deep", n)
	}

	// Listing: parents before their children, with counts.
	e.product(t, "Sencha", func(in *catalog.ProductInput) { in.CategoryID = green.ID.String() })
	list, err := e.svc.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, c := range list {
		order = append(order, fmt.Sprintf("%s:%d/%d", c.Slug, c.Products, c.Children))
	}
	// Teas has position -3, so it comes first; Green tea follows its parent.
	if want := []string{"fine-teas:0/0", "creme-brulee:0/1", "green-tea:1/0"}; !slices.Equal(order, want) {
		t.Fatalf("categories %v, want %v", order, want)
	}

	// A category with sub-categories cannot be deleted.
	err = e.svc.DeleteCategory(ctx, cakes.ID, nil)
	wantCode(t, err, ports.ECONFLICT)
	err = e.svc.DeleteCategory(ctx, cakes.ID, &tea.ID)
	wantCode(t, err, ports.ECONFLICT)
	// A category with products cannot be deleted unless they move.
	vBefore := catVersion(t, e)
	err = e.svc.DeleteCategory(ctx, green.ID, nil)
	wantCode(t, err, ports.ECONFLICT)
	if !strings.Contains(ports.ErrorMessageOf(err), "1 products") {
		t.Fatalf("message %q does not say how many products", ports.ErrorMessageOf(err))
	}
	if _, err := e.svc.Category(ctx, green.ID); err != nil {
		t.Fatalf("category gone after a refused delete: %v", err)
	}
	if v := catVersion(t, e); v != vBefore {
		t.Fatalf("version moved on a refused delete: %d → %d", vBefore, v)
	}
	catWantField(t, e.svc.DeleteCategory(ctx, green.ID, &green.ID), "move_to")
	catWantField(t, e.svc.DeleteCategory(ctx, green.ID, &missing), "move_to")
	if n := auditCount(t, "category.delete", green.ID.String()); n != 0 {
		t.Fatalf("%d category.delete rows for refused deletes", n)
	}
	if err := e.svc.DeleteCategory(ctx, green.ID, &tea.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Category(ctx, green.ID)
	wantCode(t, err, ports.ENOTFOUND)
	if n := countRows(t, `SELECT count(*) FROM catalog.products WHERE category_id = $1`, tea.ID); n != 1 {
		t.Fatalf("%d products moved, want 1", n)
	}
	var detail string
	if err := testDB.GetContext(ctx, &detail, `SELECT detail FROM platform.audit_log WHERE action = 'category.delete' AND object_id = $1`,
		green.ID.String()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "Green tea") || !strings.Contains(detail, tea.ID.String()) {
		t.Fatalf("audit detail %q", detail)
	}
	// Now the top-level category has no children: it can go.
	if err := e.svc.DeleteCategory(ctx, cakes.ID, nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.svc.DeleteCategory(ctx, cakes.ID, nil), ports.ENOTFOUND)
	if v := catVersion(t, e); v <= vBefore {
		t.Fatalf("version %d after deletes, was %d", v, vBefore)
	}
}

// catLockWaiters counts this database's sessions waiting for a lock.
func catLockWaiters(t *testing.T) int {
	return countRows(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)
}

// The one-level rule holds when a parent is moved under another category while a
// category is being made its child: the service checks the parent it read before the
// store's transaction, so the store must check again under lock. The concurrent move
// is made by a transaction of the test, committed while the service's update waits.
func TestCatalogCategoryNestingUnderConcurrency(t *testing.T) {
	for _, creating := range []bool{false, true} {
		t.Run(map[bool]string{false: "update", true: "create"}[creating], func(t *testing.T) {
			e := newCatEnv(t)
			parent := e.category(t, "Parent", nil, true)
			grand := e.category(t, "Grand", nil, true)
			child := e.category(t, "Child", nil, true)

			tx, err := testDB.BeginTxx(e.ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			// Hold the row the service's transaction locks first.
			locked := child.ID
			if creating {
				locked = parent.ID
			}
			if _, err := tx.ExecContext(e.ctx, `SELECT 1 FROM catalog.categories WHERE id = $1 FOR UPDATE`, locked); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				var err error
				if creating {
					_, err = e.svc.CreateCategory(e.ctx, catalog.CategoryInput{Name: "New child", ParentID: &parent.ID, Visible: true})
				} else {
					_, err = e.svc.UpdateCategory(e.ctx, child.ID, catalog.CategoryInput{Name: "Child", ParentID: &parent.ID, Visible: true})
				}
				done <- err
			}()
			waitFor(t, 30*time.Second, "the service to wait for the lock", func() bool { return catLockWaiters(t) >= 1 })
			if _, err := tx.ExecContext(e.ctx, `UPDATE catalog.categories SET parent_id = $1 WHERE id = $2`, grand.ID, parent.ID); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			err = <-done
			if n := countRows(t, `SELECT count(*) FROM catalog.categories c JOIN catalog.categories p ON p.id = c.parent_id
				WHERE p.parent_id IS NOT NULL`); n != 0 {
				t.Fatalf("%d categories nested two deep (service said %v)", n, err)
			}
			catWantField(t, err, "parent_id")
		})
	}
}

func TestCatalogCreateProduct(t *testing.T) {
	e := newCatEnv(t)
	ctx := e.ctx
	cat := e.category(t, "Tea", nil, true)
	desc := "Line one 🍵\r\nשלום עולם\u200F مرحبا\r\ne\u0301 a\u0308 𝄞 𠜎 👨‍👩‍👧\r\n<script>alert(1)</script>"
	wantDesc := strings.ReplaceAll(desc, "\r\n", "\n")

	v0 := catVersion(t, e)
	p, err := e.svc.CreateProduct(ctx, catalog.ProductInput{Name: "Earl Grey 🍵", Description: "  " + desc + "\n", CategoryID: cat.ID.String(),
		SKU: "TEA-001", Price: "1,234.50", WeightUnit: "ounces", Weight: "8", TrackStock: true, InitialStock: "25",
		LowStockThreshold: "4"})
	if err != nil {
		t.Fatal(err)
	}
	got := e.get(t, p.ID)
	if got.Name != "Earl Grey 🍵" || got.Description != wantDesc || got.CategoryID == nil || *got.CategoryID != cat.ID ||
		got.SKU == nil || *got.SKU != "TEA-001" || got.Status != catalog.StatusActive || got.PriceMinor != 123450 ||
		got.WeightUnit != catalog.UnitOunces || got.WeightMilli == nil || *got.WeightMilli != 8000 ||
		got.ShippingWeightGrams == nil || *got.ShippingWeightGrams != 227 || !got.TrackStock || got.StockOnHand != 25 ||
		got.Reserved != 0 || got.LowStockThreshold != 4 || got.TimesOrdered != 0 || len(got.Photos) != 0 {
		t.Fatalf("read back %+v", got)
	}
	if !got.CreatedAt.Equal(p.CreatedAt.Truncate(time.Microsecond)) || !got.UpdatedAt.Equal(p.UpdatedAt.Truncate(time.Microsecond)) {
		t.Fatalf("times %v %v, want %v %v", got.CreatedAt, got.UpdatedAt, p.CreatedAt, p.UpdatedAt)
	}
	// Byte for byte, as the database stores it.
	var raw []byte
	if err := testDB.GetContext(ctx, &raw, `SELECT convert_to(description, 'UTF8') FROM catalog.products WHERE id = $1`, p.ID); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, []byte(wantDesc)) {
		t.Fatalf("stored bytes % x\nwant % x", raw, []byte(wantDesc))
	}
	// The initial stock is the first movement.
	ms, err := e.svc.Movements(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Delta != 25 || ms[0].BalanceAfter != 25 || ms[0].Reason != catalog.ReasonInitial ||
		ms[0].Actor != "editor" || ms[0].ProductID != p.ID {
		t.Fatalf("movements %+v", ms)
	}
	if n := auditCount(t, "product.create", p.ID.String()); n != 1 {
		t.Fatalf("%d product.create rows, want 1", n)
	}
	var a ports.AuditEntry
	if err := testDB.GetContext(ctx, &a, `SELECT * FROM platform.audit_log WHERE action = 'product.create' AND object_id = $1`, p.ID.String()); err != nil {
		t.Fatal(err)
	}
	if a.Actor != "editor" || a.ActorKind != "staff" || a.ActorID != "staff-1" || a.IP != "192.0.2.7" || a.ObjectType != "product" ||
		a.Detail != "Earl Grey 🍵" {
		t.Fatalf("audit row %+v", a)
	}
	if v := catVersion(t, e); v <= v0 {
		t.Fatalf("version %d after creating a product, was %d", v, v0)
	}

	// No stock tracking, or no initial stock: no movement.
	untracked := e.product(t, "Gift card", func(in *catalog.ProductInput) {
		in.TrackStock, in.WeightUnit, in.Weight, in.ShippingWeight = false, "unit", "", "20"
	})
	if g := e.get(t, untracked.ID); g.TrackStock || g.StockOnHand != 0 || g.WeightMilli != nil || g.Available() != nil {
		t.Fatalf("untracked product %+v", g)
	}
	empty := e.product(t, "Empty", func(in *catalog.ProductInput) { in.InitialStock = "" })
	for _, id := range []uuid.UUID{untracked.ID, empty.ID} {
		if n := countRows(t, `SELECT count(*) FROM catalog.stock_movements WHERE product_id = $1`, id); n != 0 {
			t.Fatalf("%d movements for a product without initial stock", n)
		}
	}

	// A taken SKU is a field error on "sku"; SKUs are compared as typed.
	v1 := catVersion(t, e)
	_, err = e.svc.CreateProduct(ctx, catalog.ProductInput{Name: "Copy", SKU: "TEA-001", Price: "1", WeightUnit: "grams", Weight: "5", InitialStock: "3", TrackStock: true})
	catWantField(t, err, "sku")
	if n := countRows(t, `SELECT count(*) FROM catalog.products WHERE name = 'Copy'`); n != 0 {
		t.Fatal("a product with a taken SKU was stored")
	}
	if n := countRows(t, `SELECT count(*) FROM catalog.stock_movements`); n != 1 {
		t.Fatalf("%d movements after a refused creation, want 1", n)
	}
	if v := catVersion(t, e); v != v1 {
		t.Fatalf("version moved on a refused creation: %d → %d", v1, v)
	}
	// Products without a SKU do not conflict with each other.
	e.product(t, "No SKU 1", nil)
	e.product(t, "No SKU 2", nil)

	// An unknown category is a field error; so is invalid input.
	_, err = e.svc.CreateProduct(ctx, catalog.ProductInput{Name: "Lost", CategoryID: uuid.NewString(), Price: "1", WeightUnit: "grams", Weight: "5"})
	catWantField(t, err, "category_id")
	_, err = e.svc.CreateProduct(ctx, catalog.ProductInput{Name: "Bad", Price: "-1", WeightUnit: "grams", Weight: "5"})
	catWantField(t, err, "price")
	// A NUL byte cannot be stored in PostgreSQL text: it is a field error, not an
	// internal error.
	_, err = e.svc.CreateProduct(ctx, catalog.ProductInput{Name: "Nul", Description: "a\x00b", Price: "1", WeightUnit: "grams", Weight: "5"})
	catWantField(t, err, "description")
}

func TestCatalogUpdateProduct(t *testing.T) {
	e := newCatEnv(t)
	ctx := e.ctx
	a := e.product(t, "Alpha", func(in *catalog.ProductInput) { in.SKU = "A-1" })
	b := e.product(t, "Beta", func(in *catalog.ProductInput) { in.SKU = "B-1" })

	in := catalog.ProductInput{Name: "Beta 2", Description: "new", SKU: "A-1", Price: "7.25", WeightUnit: "pounds", Weight: "1", TrackStock: true}
	_, err := e.svc.UpdateProduct(ctx, b.ID, in)
	catWantField(t, err, "sku")
	if g := e.get(t, b.ID); g.Name != "Beta" || *g.SKU != "B-1" {
		t.Fatalf("product changed by a refused update: %+v", g)
	}
	if n := auditCount(t, "product.update", b.ID.String()); n != 0 {
		t.Fatalf("%d product.update rows for a refused update", n)
	}
	in.SKU = "B-2"
	upd, err := e.svc.UpdateProduct(ctx, b.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	g := e.get(t, b.ID)
	if g.Name != "Beta 2" || g.Description != "new" || *g.SKU != "B-2" || g.PriceMinor != 725 || g.WeightUnit != catalog.UnitPounds ||
		*g.ShippingWeightGrams != 454 || g.StockOnHand != 10 || !g.UpdatedAt.Equal(upd.UpdatedAt.Truncate(time.Microsecond)) || !g.UpdatedAt.After(b.UpdatedAt) {
		t.Fatalf("updated %+v", g)
	}
	if n := auditCount(t, "product.update", b.ID.String()); n != 1 {
		t.Fatalf("%d product.update rows, want 1", n)
	}
	_, err = e.svc.UpdateProduct(ctx, uuid.New(), in)
	wantCode(t, err, ports.ENOTFOUND)
	_, err = e.svc.UpdateProduct(ctx, a.ID, catalog.ProductInput{Name: "Alpha", Price: "1", WeightUnit: "grams", Weight: "1", CategoryID: uuid.NewString()})
	catWantField(t, err, "category_id")

	// Stock tracking cannot be switched off while orders hold reservations.
	mustExec(t, `UPDATE catalog.products SET reserved = 2 WHERE id = $1`, a.ID)
	_, err = e.svc.UpdateProduct(ctx, a.ID, catalog.ProductInput{Name: "Alpha", SKU: "A-1", Price: "1", WeightUnit: "grams", Weight: "1"})
	catWantField(t, err, "track_stock")
	if g := e.get(t, a.ID); !g.TrackStock {
		t.Fatal("tracking switched off")
	}

	// Status quick edit: active needs a shipping weight.
	c := e.product(t, "Candle", func(in *catalog.ProductInput) {
		in.Status, in.WeightUnit, in.Weight, in.ShippingWeight = "inactive", "unit", "", ""
	})
	_, err = e.svc.SetStatus(ctx, c.ID, catalog.StatusActive)
	catWantField(t, err, "status")
	_, err = e.svc.SetStatus(ctx, c.ID, "gone")
	catWantField(t, err, "status")
	if _, err := e.svc.SetStatus(ctx, c.ID, catalog.StatusArchived); err != nil {
		t.Fatal(err)
	}
	if g := e.get(t, c.ID); g.Status != catalog.StatusArchived {
		t.Fatalf("status %s", g.Status)
	}
	if n := auditCount(t, "product.status", c.ID.String()); n != 1 {
		t.Fatalf("%d product.status rows, want 1", n)
	}
}

func TestCatalogListProductsFilters(t *testing.T) {
	e := newCatEnv(t)
	ctx := e.ctx
	tea := e.category(t, "Tea", nil, true)
	coffee := e.category(t, "Coffee", nil, true)
	earl := e.product(t, "Earl Grey Tea", func(in *catalog.ProductInput) {
		in.SKU, in.CategoryID, in.InitialStock, in.LowStockThreshold = "TEA-EG-01", tea.ID.String(), "50", "5"
	})
	green := e.product(t, "Green tea", func(in *catalog.ProductInput) {
		in.SKU, in.CategoryID, in.Status, in.InitialStock, in.LowStockThreshold = "tea-gr-02", tea.ID.String(), "inactive", "3", "5"
	})
	beans := e.product(t, "Coffee Beans", func(in *catalog.ProductInput) {
		in.SKU, in.CategoryID, in.InitialStock = "COF-01", coffee.ID.String(), "0"
	})
	pot := e.product(t, "Teapot", func(in *catalog.ProductInput) {
		in.Status, in.TrackStock, in.InitialStock = "archived", false, ""
	})
	mug := e.product(t, "Mug", func(in *catalog.ProductInput) {
		in.SKU, in.CategoryID, in.InitialStock, in.LowStockThreshold = "MUG", coffee.ID.String(), "10", "2"
	})
	mustExec(t, `UPDATE catalog.products SET reserved = 8 WHERE id = $1`, mug.ID) // 2 available: low
	archivedLow := e.product(t, "Old grinder", func(in *catalog.ProductInput) { in.Status, in.InitialStock = "archived", "0" })

	cases := []struct {
		name string
		f    catalog.ProductFilter
		want []*catalog.Product
	}{
		{"everything", catalog.ProductFilter{}, []*catalog.Product{earl, green, beans, pot, mug, archivedLow}},
		{"name part, any case", catalog.ProductFilter{Query: "TEA"}, []*catalog.Product{earl, green, pot}},
		{"name part inside a word", catalog.ProductFilter{Query: "eapo"}, []*catalog.Product{pot}},
		{"exact SKU, any case", catalog.ProductFilter{Query: "tea-eg-01"}, []*catalog.Product{earl}},
		{"exact SKU upper", catalog.ProductFilter{Query: "TEA-GR-02"}, []*catalog.Product{green}},
		{"partial SKU does not match", catalog.ProductFilter{Query: "TEA-EG"}, nil},
		{"name and SKU match once", catalog.ProductFilter{Query: "mug"}, []*catalog.Product{mug}},
		{"percent is literal", catalog.ProductFilter{Query: "%"}, nil},
		{"underscore is literal", catalog.ProductFilter{Query: "_"}, nil},
		{"category", catalog.ProductFilter{CategoryID: &tea.ID}, []*catalog.Product{earl, green}},
		{"status active", catalog.ProductFilter{Status: catalog.StatusActive}, []*catalog.Product{earl, beans, mug}},
		{"status inactive", catalog.ProductFilter{Status: catalog.StatusInactive}, []*catalog.Product{green}},
		{"status archived", catalog.ProductFilter{Status: catalog.StatusArchived}, []*catalog.Product{pot, archivedLow}},
		{"low stock (archived products left out, as on the dashboard)", catalog.ProductFilter{LowStock: true}, []*catalog.Product{green, beans, mug}},
		{"category and low stock", catalog.ProductFilter{CategoryID: &coffee.ID, LowStock: true}, []*catalog.Product{beans, mug}},
		{"query and status", catalog.ProductFilter{Query: "tea", Status: catalog.StatusActive}, []*catalog.Product{earl}},
		{"query and category", catalog.ProductFilter{Query: "tea", CategoryID: &coffee.ID}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			f.Limit = 100
			ps, next, err := e.svc.Products(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if next != nil {
				t.Fatalf("next cursor %+v on the only page", next)
			}
			catSameSet(t, "products", ps, tc.want...)
			n, err := e.svc.CountProducts(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tc.want) {
				t.Fatalf("CountProducts = %d, want %d", n, len(tc.want))
			}
		})
	}
	// The dashboard count leaves archived products out.
	if n, err := e.svc.CountLowStock(ctx); err != nil || n != 3 {
		t.Fatalf("CountLowStock = %d, %v; want 3", n, err)
	}
}

// catSortKey is the value a product sorts by, for checking the order in Go.
func catSortKey(p *catalog.Product, s catalog.ProductSort) string {
	switch s {
	case catalog.SortPrice:
		return fmt.Sprintf("%020d", p.PriceMinor)
	case catalog.SortStock:
		return fmt.Sprintf("%020d", p.StockOnHand-p.Reserved)
	case catalog.SortUpdated:
		return p.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000000")
	}
	return strings.ToLower(p.Name)
}

func catCompare(a, b *catalog.Product, s catalog.ProductSort, desc bool) int {
	c := strings.Compare(catSortKey(a, s), catSortKey(b, s))
	if c == 0 {
		c = bytes.Compare(a.ID[:], b.ID[:])
	}
	if desc {
		c = -c
	}
	return c
}

// Every sort, both ways, paged by keyset: each product comes exactly once and in
// order, also when products are added between the page fetches.
func TestCatalogListProductsSortAndPaging(t *testing.T) {
	e := newCatEnv(t)
	ctx := e.ctx
	e.clock.step = 0 // products created together have the same times
	// Letters only, so that the case-insensitive order is the same in every collation.
	// Names, prices, stock and update times repeat, so ties must be broken by id.
	names := []string{"apple", "Apricot", "banana", "Blueberry", "cherry", "Cherry", "date", "Elderberry", "fig", "grape", "Guava", "kiwi", "lemon"}
	prices := []string{"3.00", "1.50", "1.50", "9.99", "0.01", "3.00", "3.00", "12.00", "1.50", "0.99", "7.00", "3.00", "0.02"}
	stock := []int{5, 1, 7, 5, 5, 12, 3, 1, 8, 5, 2, 40, 9}
	var base []*catalog.Product
	for i, n := range names {
		p := e.product(t, n, func(in *catalog.ProductInput) {
			in.Price, in.InitialStock = prices[i], strconv.Itoa(stock[i]+2)
		})
		base = append(base, p)
	}
	// Reservations count against stock; update times with microseconds and ties.
	for i, p := range base {
		mustExec(t, `UPDATE catalog.products SET reserved = 2,
			updated_at = '2020-01-01 00:00:00.123456+00'::timestamptz + ($2::int % 4) * interval '1.000001 second' WHERE id = $1`, p.ID, i)
	}
	for i, p := range base {
		base[i] = e.get(t, p.ID)
	}

	sorts := []catalog.ProductSort{catalog.SortName, catalog.SortPrice, catalog.SortStock, catalog.SortUpdated}
	for _, sort := range sorts {
		for _, desc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s desc=%v", sort, desc), func(t *testing.T) {
				// Products added after the first page: one that sorts before every other
				// (so before the cursor: never shown) and one that sorts after every other
				// (shown once, last).
				low := catalog.ProductInput{Name: "aaaa", Price: "0", InitialStock: "2"}
				high := catalog.ProductInput{Name: "ZZZZ", Price: "99999999.99", InitialStock: "1000000"}
				lowTime, highTime := "1990-01-01", "2100-01-01"
				first, last, firstTime, lastTime := low, high, lowTime, highTime
				if desc {
					first, last, firstTime, lastTime = high, low, highTime, lowTime
				}
				want := slices.Clone(base)
				slices.SortFunc(want, func(a, b *catalog.Product) int { return catCompare(a, b, sort, desc) })

				var got []catalog.Product
				f := catalog.ProductFilter{Sort: sort, Desc: desc, Limit: 4}
				ps, next, err := e.svc.Products(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ps...)
				var added []uuid.UUID
				for _, in := range []catalog.ProductInput{first, last} {
					in.WeightUnit, in.Weight, in.TrackStock = "grams", "1", true
					p, err := e.svc.CreateProduct(ctx, in)
					if err != nil {
						t.Fatal(err)
					}
					mustExec(t, `UPDATE catalog.products SET reserved = 2, updated_at = $2 WHERE id = $1`, p.ID,
						map[string]string{first.Name: firstTime, last.Name: lastTime}[in.Name])
					added = append(added, p.ID)
				}
				t.Cleanup(func() { mustExec(t, `DELETE FROM catalog.products WHERE id = ANY($1)`, added) })
				pages := 1
				for next != nil {
					f.After = next
					ps, next, err = e.svc.Products(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					if len(ps) == 0 {
						t.Fatal("an empty page with a next cursor")
					}
					got = append(got, ps...)
					if pages++; pages > 10 {
						t.Fatal("paging does not end")
					}
				}
				if len(got) != len(base)+1 {
					t.Fatalf("%d products over %d pages, want %d: %v", len(got), pages, len(base)+1, catNames(got))
				}
				for i, w := range want {
					if got[i].ID != w.ID {
						t.Fatalf("position %d: %s, want %s\n got %v", i, got[i].Name, w.Name, catNames(got))
					}
				}
				if got[len(got)-1].ID != added[1] {
					t.Fatalf("last product %s, want the one added after the cursor (%s)", got[len(got)-1].Name, last.Name)
				}
				if pages != 4 {
					t.Fatalf("%d pages of 4 for 14 products", pages)
				}
			})
		}
	}
}

// Names with accents, emoji and mixed case page the same way the database orders them.
func TestCatalogListProductsUnicodeNames(t *testing.T) {
	e := newCatEnv(t)
	names := []string{"Éclair", "eclair", "École", "zèbre", "Zebra", "Ölkanne", "ölkanne", "Ωmega", "ωmega", "🍵 Tea", "Straße", "STRASSE", "İstanbul", "istanbul", "ǅemal", "Crème brûlée"}
	for _, n := range names {
		e.product(t, n, nil)
	}
	for _, desc := range []bool{false, true} {
		dir := "ASC"
		if desc {
			dir = "DESC"
		}
		var want []uuid.UUID
		if err := testDB.SelectContext(e.ctx, &want, `SELECT id FROM catalog.products ORDER BY lower(name) `+dir+`, id `+dir); err != nil {
			t.Fatal(err)
		}
		var got []uuid.UUID
		f := catalog.ProductFilter{Sort: catalog.SortName, Desc: desc, Limit: 3}
		for {
			ps, next, err := e.svc.Products(e.ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, catIDs(ps)...)
			if next == nil {
				break
			}
			if len(got) > len(names) {
				t.Fatal("paging does not end")
			}
			f.After = next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("desc=%v: paged %v, want %v", desc, got, want)
		}
	}
}

// A cursor the store cannot read is a field error, not an internal one.
func TestCatalogListProductsBadCursor(t *testing.T) {
	e := newCatEnv(t)
	for _, s := range []catalog.ProductSort{catalog.SortPrice, catalog.SortStock, catalog.SortUpdated} {
		_, _, err := e.svc.Products(e.ctx, catalog.ProductFilter{Sort: s, After: &catalog.Cursor{Value: "x", ID: uuid.New()}})
		catWantField(t, err, "cursor")
	}
}

func TestCatalogDeleteProduct(t *testing.T) {
	e := newCatEnv(t)
	ctx := e.ctx
	fresh := e.product(t, "Fresh", nil)
	if _, err := e.svc.AddPhoto(ctx, fresh.ID, catPNG(t, 8, 8), ""); err != nil {
		t.Fatal(err)
	}
	ordered := e.product(t, "Ordered", nil)
	mustExec(t, `UPDATE catalog.products SET times_ordered = 3 WHERE id = $1`, ordered.ID)
	reserved := e.product(t, "Reserved", nil)
	mustExec(t, `UPDATE catalog.products SET reserved = 1 WHERE id = $1`, reserved.ID)

	archived, err := e.svc.DeleteProduct(ctx, fresh.ID)
	if err != nil || archived {
		t.Fatalf("DeleteProduct = %v, %v; want deleted", archived, err)
	}
	_, err = e.svc.Product(ctx, fresh.ID)
	wantCode(t, err, ports.ENOTFOUND)
	if n := countRows(t, `SELECT count(*) FROM catalog.photos WHERE product_id = $1`, fresh.ID) +
		countRows(t, `SELECT count(*) FROM catalog.stock_movements WHERE product_id = $1`, fresh.ID); n != 0 {
		t.Fatalf("%d photos and movements left", n)
	}
	if n := auditCount(t, "product.delete", fresh.ID.String()); n != 1 {
		t.Fatalf("%d product.delete rows, want 1", n)
	}

	for _, p := range []*catalog.Product{ordered, reserved} {
		archived, err := e.svc.DeleteProduct(ctx, p.ID)
		if err != nil || !archived {
			t.Fatalf("DeleteProduct(%s) = %v, %v; want archived", p.Name, archived, err)
		}
		g := e.get(t, p.ID)
		if g.Status != catalog.StatusArchived {
			t.Fatalf("%s has status %s", p.Name, g.Status)
		}
		if n := auditCount(t, "product.archive", p.ID.String()); n != 1 {
			t.Fatalf("%d product.archive rows, want 1", n)
		}
		if n := auditCount(t, "product.delete", p.ID.String()); n != 0 {
			t.Fatalf("%d product.delete rows for an archived product", n)
		}
		_, err = e.svc.PublicProduct(ctx, p.ID)
		wantCode(t, err, ports.ENOTFOUND)
	}
	_, err = e.svc.DeleteProduct(ctx, uuid.New())
	wantCode(t, err, ports.ENOTFOUND)
}

func TestCatalogAdjustStock(t *testing.T) {
	e := newCatEnv(t)
	ctx := e.ctx
	p := e.product(t, "Tea", nil) // 10 on hand

	got, err := e.svc.AdjustStock(ctx, p.ID, 5, catalog.ReasonReceived, "  delivery 🚚  ")
	if err != nil {
		t.Fatal(err)
	}
	if got.StockOnHand != 15 {
		t.Fatalf("stock %d after +5", got.StockOnHand)
	}
	if _, err := e.svc.AdjustStock(ctx, p.ID, -3, catalog.ReasonDamaged, ""); err != nil {
		t.Fatal(err)
	}
	mustExec(t, `UPDATE catalog.products SET reserved = 8 WHERE id = $1`, p.ID)
	// 12 on hand, 8 reserved: going to 7 is refused, to 8 allowed.
	_, err = e.svc.AdjustStock(ctx, p.ID, -5, catalog.ReasonLost, "")
	catWantField(t, err, "delta")
	_, err = e.svc.AdjustStock(ctx, p.ID, -13, catalog.ReasonLost, "")
	catWantField(t, err, "delta")
	_, err = e.svc.AdjustStock(ctx, p.ID, 1, catalog.ReasonSold, "")
	catWantField(t, err, "reason")
	_, err = e.svc.SetStock(ctx, p.ID, 7)
	catWantField(t, err, "stock")
	_, err = e.svc.SetStock(ctx, p.ID, -1)
	catWantField(t, err, "stock")
	if g := e.get(t, p.ID); g.StockOnHand != 12 {
		t.Fatalf("stock %d after refused adjustments, want 12", g.StockOnHand)
	}
	if got, err = e.svc.AdjustStock(ctx, p.ID, -4, catalog.ReasonLost, ""); err != nil || got.StockOnHand != 8 {
		t.Fatalf("AdjustStock -4 = %+v, %v", got, err)
	}
	if got, err = e.svc.SetStock(ctx, p.ID, 30); err != nil || got.StockOnHand != 30 {
		t.Fatalf("SetStock 30 = %+v, %v", got, err)
	}
	// Setting the same count records nothing.
	if got, err = e.svc.SetStock(ctx, p.ID, 30); err != nil || got.StockOnHand != 30 {
		t.Fatalf("SetStock 30 again = %+v, %v", got, err)
	}
	ms, err := e.svc.Movements(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	type mv struct {
		delta, balance int
		reason         catalog.StockReason
		note           string
	}
	var gotMs []mv
	for _, m := range ms {
		if m.Actor != "editor" {
			t.Fatalf("movement actor %q", m.Actor)
		}
		gotMs = append(gotMs, mv{m.Delta, m.BalanceAfter, m.Reason, m.Note})
	}
	want := []mv{ // newest first
		{22, 30, catalog.ReasonCorrection, ""},
		{-4, 8, catalog.ReasonLost, ""},
		{-3, 12, catalog.ReasonDamaged, ""},
		{5, 15, catalog.ReasonReceived, "delivery 🚚"},
		{10, 10, catalog.ReasonInitial, ""},
	}
	if !slices.Equal(gotMs, want) {
		t.Fatalf("movements %+v, want %+v", gotMs, want)
	}
	if n := auditCount(t, "product.stock", p.ID.String()); n != 4 {
		t.Fatalf("%d product.stock rows, want 4", n)
	}

	// Untracked stock cannot be adjusted.
	u := e.product(t, "Gift card", func(in *catalog.ProductInput) { in.TrackStock = false })
	_, err = e.svc.AdjustStock(ctx, u.ID, 1, catalog.ReasonReceived, "")
	catWantField(t, err, "delta")
	_, err = e.svc.AdjustStock(ctx, uuid.New(), 1, catalog.ReasonReceived, "")
	wantCode(t, err, ports.ENOTFOUND)

	// The audit entry is written with the change: if it cannot be, nothing changes.
	v := catVersion(t, e)
	bad := ports.Audit(ctx, "product.stock", "product", p.ID.String(), "bad\x00detail")
	_, err = e.store.AdjustStock(ctx, p.ID, func(p *catalog.Product) (catalog.StockMovement, error) {
		return catalog.StockMovement{ProductID: p.ID, Delta: 1, BalanceAfter: p.StockOnHand + 1, Reason: catalog.ReasonReceived}, nil
	}, bad)
	if err == nil {
		t.Fatal("AdjustStock with an unwritable audit entry succeeded")
	}
	if g := e.get(t, p.ID); g.StockOnHand != 30 {
		t.Fatalf("stock %d after a rolled-back adjustment", g.StockOnHand)
	}
	if n := countRows(t, `SELECT count(*) FROM catalog.stock_movements WHERE product_id = $1`, p.ID); n != 5 {
		t.Fatalf("%d movements after a rolled-back adjustment, want 5", n)
	}
	if v2 := catVersion(t, e); v2 != v {
		t.Fatalf("version moved on a rolled-back adjustment: %d → %d", v, v2)
	}
}

func TestCatalogConcurrentStockAdjustments(t *testing.T) {
	e := newCatEnv(t)
	p := e.product(t, "Busy", func(in *catalog.ProductInput) { in.InitialStock = "20" })
	const workers, rounds = 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				// Even workers add first, odd ones remove first; each ends ±1.
				delta := 1
				if (w+r)%2 == 1 {
					delta = -1
				}
				if _, err := e.svc.AdjustStock(e.ctx, p.ID, delta, catalog.ReasonCorrection, fmt.Sprintf("w%d r%d", w, r)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("adjustment: %v", err)
	}
	// Each even worker nets +1, each odd one -1.
	final := e.get(t, p.ID).StockOnHand
	if final != 20 {
		t.Fatalf("final stock %d, want 20", final)
	}
	var ms []catalog.StockMovement
	if err := testDB.SelectContext(e.ctx, &ms, `SELECT id, product_id, delta, balance_after, reason, note, actor, created_at
		FROM catalog.stock_movements WHERE product_id = $1 ORDER BY id`, p.ID); err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1+workers*rounds {
		t.Fatalf("%d movements, want %d", len(ms), 1+workers*rounds)
	}
	balance := 0
	for i, m := range ms {
		balance += m.Delta
		if m.BalanceAfter != balance {
			t.Fatalf("movement %d: delta %+d balance_after %d, running balance %d", i, m.Delta, m.BalanceAfter, balance)
		}
	}
	if balance != final {
		t.Fatalf("movements end at %d, stock is %d", balance, final)
	}
	if n := auditCount(t, "product.stock", p.ID.String()); n != workers*rounds {
		t.Fatalf("%d product.stock rows, want %d", n, workers*rounds)
	}
}

func TestCatalogPhotos(t *testing.T) {
	e := newCatEnv(t)
	ctx := e.ctx
	p := e.product(t, "Teapot", nil)
	data := catPNG(t, 64, 48)

	v0 := catVersion(t, e)
	ph, err := e.svc.AddPhoto(ctx, p.ID, data, "  A blue teapot 🫖 ")
	if err != nil {
		t.Fatal(err)
	}
	if ph.Status != catalog.PhotoProcessing || !ph.Primary || ph.Position != 1 || ph.Alt != "A blue teapot 🫖" ||
		ph.ContentType != "image/png" || ph.Width != 64 || ph.Height != 48 || ph.Bytes != int64(len(data)) {
		t.Fatalf("added %+v", ph)
	}
	stored, err := e.svc.Photo(ctx, ph.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != catalog.PhotoProcessing || !stored.Primary || stored.UploadKey != catalog.PhotoKey(ph.ID, "upload") ||
		stored.OriginalKey != "" || stored.WebKey != "" || stored.ThumbKey != "" {
		t.Fatalf("stored %+v", stored)
	}
	if !e.fileExists(t, stored.UploadKey) {
		t.Fatal("upload not stored")
	}
	if v := catVersion(t, e); v <= v0 {
		t.Fatalf("version %d after adding a photo, was %d", v, v0)
	}
	if n := auditCount(t, "product.photo.add", p.ID.String()); n != 1 {
		t.Fatalf("%d product.photo.add rows, want 1", n)
	}
	// Exactly one outbox row, with the job's payload.
	type outboxRow struct {
		JobID   string `db:"job_id"`
		JobType string `db:"job_type"`
		Payload []byte `db:"payload"`
	}
	var rows []outboxRow
	if err := testDB.SelectContext(ctx, &rows, `SELECT job_id, job_type, payload FROM platform.outbox
		WHERE job_type = 'catalog:photo.process' AND position($1 in job_id) > 0`, ph.ID.String()); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d outbox rows for the photo, want 1", len(rows))
	}
	var payload struct {
		PhotoID uuid.UUID `json:"photoId"`
	}
	if err := json.Unmarshal(rows[0].Payload, &payload); err != nil || payload.PhotoID != ph.ID {
		t.Fatalf("payload %s: %v", rows[0].Payload, err)
	}

	// The job makes the renditions and drops the upload.
	if err := e.svc.ProcessPhotoJob(ctx, rows[0].Payload); err != nil {
		t.Fatal(err)
	}
	ready, err := e.svc.Photo(ctx, ph.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ready.Status != catalog.PhotoReady || ready.UploadKey != "" || ready.Error != "" || ready.Width != 64 || ready.Height != 48 {
		t.Fatalf("processed %+v", ready)
	}
	prefix := "photos/" + ph.ID.String() + "/"
	keys := []string{ready.OriginalKey, ready.WebKey, ready.ThumbKey}
	for i, k := range keys {
		name := []string{"original", "web", "thumb"}[i]
		if !strings.HasPrefix(k, prefix+name+".") || !e.fileExists(t, k) {
			t.Fatalf("%s key %q missing or not stored", name, k)
		}
	}
	if e.fileExists(t, stored.UploadKey) {
		t.Fatal("upload kept after processing")
	}
	f, info, served, err := e.svc.OpenPhoto(ctx, ph.ID, catalog.RenditionThumb)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if info.Size == 0 || served.ID != ph.ID {
		t.Fatalf("OpenPhoto gave %+v", info)
	}
	// Again: nothing changes.
	vReady := catVersion(t, e)
	if err := e.svc.ProcessPhotoJob(ctx, rows[0].Payload); err != nil {
		t.Fatal(err)
	}
	again, _ := e.svc.Photo(ctx, ph.ID)
	if again.Status != catalog.PhotoReady || again.OriginalKey != ready.OriginalKey || again.WebKey != ready.WebKey || again.ThumbKey != ready.ThumbKey {
		t.Fatalf("second run changed the photo: %+v", again)
	}
	for _, k := range keys {
		if !e.fileExists(t, k) {
			t.Fatalf("%s gone after a second run", k)
		}
	}
	if v := catVersion(t, e); v != vReady {
		t.Fatalf("a second run moved the version: %d → %d", vReady, v)
	}
	// A deleted photo's job, and a bad payload.
	if err := e.svc.ProcessPhotoJob(ctx, []byte(`{"photoId":"`+uuid.NewString()+`"}`)); err != nil {
		t.Fatalf("job of a missing photo: %v", err)
	}
	if err := e.svc.ProcessPhotoJob(ctx, []byte(`not json`)); err == nil {
		t.Fatal("a bad payload was accepted")
	}

	// Not an image; an unknown product.
	_, err = e.svc.AddPhoto(ctx, p.ID, []byte("hello, I am text"), "")
	catWantField(t, err, "photo")
	_, err = e.svc.AddPhoto(ctx, uuid.New(), data, "")
	wantCode(t, err, ports.ENOTFOUND)
	_, err = e.svc.AddPhoto(ctx, p.ID, data, strings.Repeat("a", 301))
	catWantField(t, err, "alt")
	if e.uploads(t) != 0 {
		t.Fatalf("%d uploads left by refused photos", e.uploads(t))
	}

	// Up to 20 photos; the later ones are not primary and go after the others.
	photos := []uuid.UUID{ph.ID}
	for i := 2; i <= catalog.MaxPhotosPerProduct; i++ {
		x, err := e.svc.AddPhoto(ctx, p.ID, data, "")
		if err != nil {
			t.Fatalf("photo %d: %v", i, err)
		}
		if x.Primary || x.Position != i {
			t.Fatalf("photo %d: primary %v position %d", i, x.Primary, x.Position)
		}
		photos = append(photos, x.ID)
	}
	if n := e.uploads(t); n != catalog.MaxPhotosPerProduct-1 {
		t.Fatalf("%d uploads, want %d", n, catalog.MaxPhotosPerProduct-1)
	}
	outbox := countRows(t, `SELECT count(*) FROM platform.outbox WHERE job_type = 'catalog:photo.process'`)
	_, err = e.svc.AddPhoto(ctx, p.ID, data, "")
	catWantField(t, err, "photo")
	if n := countRows(t, `SELECT count(*) FROM catalog.photos WHERE product_id = $1`, p.ID); n != catalog.MaxPhotosPerProduct {
		t.Fatalf("%d photos, want %d", n, catalog.MaxPhotosPerProduct)
	}
	if n := countRows(t, `SELECT count(*) FROM platform.outbox WHERE job_type = 'catalog:photo.process'`); n != outbox {
		t.Fatalf("the refused photo wrote an outbox row (%d → %d)", outbox, n)
	}
	if n := e.uploads(t); n != catalog.MaxPhotosPerProduct-1 {
		t.Fatalf("the refused photo's upload was kept: %d uploads", n)
	}
	if n := auditCount(t, "product.photo.add", p.ID.String()); n != catalog.MaxPhotosPerProduct {
		t.Fatalf("%d product.photo.add rows, want %d", n, catalog.MaxPhotosPerProduct)
	}
}

func TestCatalogPhotoOrderPrimaryDelete(t *testing.T) {
	e := newCatEnv(t)
	ctx := e.ctx
	p := e.product(t, "Cups", nil)
	other := e.product(t, "Saucers", nil)
	var ids []uuid.UUID
	for range 4 {
		ph, err := e.svc.AddPhoto(ctx, p.ID, catPNG(t, 10, 10), "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ph.ID)
	}
	foreign, err := e.svc.AddPhoto(ctx, other.ID, catPNG(t, 10, 10), "")
	if err != nil {
		t.Fatal(err)
	}
	order := func() []uuid.UUID {
		t.Helper()
		var out []uuid.UUID
		for _, ph := range e.get(t, p.ID).Photos {
			out = append(out, ph.ID)
		}
		return out
	}
	primaries := func() []uuid.UUID {
		t.Helper()
		var out []uuid.UUID
		if err := testDB.SelectContext(ctx, &out, `SELECT id FROM catalog.photos WHERE product_id = $1 AND is_primary`, p.ID); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := order(); !slices.Equal(got, ids) {
		t.Fatalf("order %v, want %v", got, ids)
	}

	// Reorder: every photo, once.
	rev := []uuid.UUID{ids[3], ids[2], ids[1], ids[0]}
	if err := e.svc.ReorderPhotos(ctx, p.ID, rev); err != nil {
		t.Fatal(err)
	}
	if got := order(); !slices.Equal(got, rev) {
		t.Fatalf("order %v, want %v", got, rev)
	}
	if n := auditCount(t, "product.photo.reorder", p.ID.String()); n != 1 {
		t.Fatalf("%d product.photo.reorder rows, want 1", n)
	}
	v := catVersion(t, e)
	for name, bad := range map[string][]uuid.UUID{
		"missing one": {ids[3], ids[2], ids[1]},
		"twice":       {ids[3], ids[2], ids[1], ids[0], ids[0]},
		"duplicate":   {ids[3], ids[3], ids[1], ids[0]},
		"foreign":     {ids[3], ids[2], ids[1], foreign.ID},
		"extra":       {ids[3], ids[2], ids[1], ids[0], foreign.ID},
		"unknown":     {ids[3], ids[2], ids[1], uuid.New()},
		"empty":       {},
	} {
		err := e.svc.ReorderPhotos(ctx, p.ID, bad)
		wantCode(t, err, ports.EINVALID)
		if got := order(); !slices.Equal(got, rev) {
			t.Fatalf("%s: order changed to %v", name, got)
		}
	}
	if v2 := catVersion(t, e); v2 != v {
		t.Fatalf("refused reorders moved the version: %d → %d", v, v2)
	}
	wantCode(t, e.svc.ReorderPhotos(ctx, uuid.New(), nil), ports.ENOTFOUND)

	// Primary: exactly one.
	if got := primaries(); !slices.Equal(got, ids[:1]) {
		t.Fatalf("primary %v, want the first photo added", got)
	}
	if err := e.svc.SetPrimaryPhoto(ctx, p.ID, ids[2]); err != nil {
		t.Fatal(err)
	}
	if got := primaries(); !slices.Equal(got, []uuid.UUID{ids[2]}) {
		t.Fatalf("primary %v, want %v", got, ids[2])
	}
	if pp := e.get(t, p.ID).PrimaryPhoto(); pp == nil || pp.ID != ids[2] {
		t.Fatalf("PrimaryPhoto %v", pp)
	}
	if err := e.svc.SetPrimaryPhoto(ctx, p.ID, ids[2]); err != nil {
		t.Fatalf("setting the primary again: %v", err)
	}
	wantCode(t, e.svc.SetPrimaryPhoto(ctx, p.ID, foreign.ID), ports.ENOTFOUND)
	wantCode(t, e.svc.SetPrimaryPhoto(ctx, p.ID, uuid.New()), ports.ENOTFOUND)
	if got := primaries(); !slices.Equal(got, []uuid.UUID{ids[2]}) {
		t.Fatalf("primary %v after refused changes, want %v", got, ids[2])
	}
	if got, _ := e.svc.Photo(ctx, foreign.ID); !got.Primary {
		t.Fatal("the other product's photo lost its primary flag")
	}
	if n := auditCount(t, "product.photo.primary", p.ID.String()); n != 2 {
		t.Fatalf("%d product.photo.primary rows, want 2", n)
	}

	// Alt text.
	if err := e.svc.SetPhotoAlt(ctx, p.ID, ids[1], "  Side view  "); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.Photo(ctx, ids[1]); got.Alt != "Side view" {
		t.Fatalf("alt %q", got.Alt)
	}
	catWantField(t, e.svc.SetPhotoAlt(ctx, p.ID, ids[1], "two\nlines"), "alt")
	wantCode(t, e.svc.SetPhotoAlt(ctx, p.ID, foreign.ID, "x"), ports.ENOTFOUND)

	// Deleting the primary promotes the first remaining photo (order ids 3, 2, 1, 0;
	// the primary is 2, so 3 becomes primary).
	uploadKey := catalog.PhotoKey(ids[2], "upload")
	if !e.fileExists(t, uploadKey) {
		t.Fatal("upload missing")
	}
	if err := e.svc.DeletePhoto(ctx, p.ID, ids[2]); err != nil {
		t.Fatal(err)
	}
	if e.fileExists(t, uploadKey) {
		t.Fatal("deleted photo's upload kept")
	}
	if got := primaries(); !slices.Equal(got, []uuid.UUID{ids[3]}) {
		t.Fatalf("primary %v after deleting the primary, want %v", got, ids[3])
	}
	if got := order(); !slices.Equal(got, []uuid.UUID{ids[3], ids[1], ids[0]}) {
		t.Fatalf("order %v", got)
	}
	// Deleting another photo leaves the primary alone.
	if err := e.svc.DeletePhoto(ctx, p.ID, ids[0]); err != nil {
		t.Fatal(err)
	}
	if got := primaries(); !slices.Equal(got, []uuid.UUID{ids[3]}) {
		t.Fatalf("primary %v, want %v", got, ids[3])
	}
	if err := e.svc.DeletePhoto(ctx, p.ID, ids[3]); err != nil {
		t.Fatal(err)
	}
	if got := primaries(); !slices.Equal(got, []uuid.UUID{ids[1]}) {
		t.Fatalf("primary %v, want %v", got, ids[1])
	}
	wantCode(t, e.svc.DeletePhoto(ctx, p.ID, foreign.ID), ports.ENOTFOUND)
	wantCode(t, e.svc.DeletePhoto(ctx, p.ID, ids[0]), ports.ENOTFOUND)
	if err := e.svc.DeletePhoto(ctx, p.ID, ids[1]); err != nil {
		t.Fatal(err)
	}
	if n := len(e.get(t, p.ID).Photos); n != 0 {
		t.Fatalf("%d photos left", n)
	}
	if n := auditCount(t, "product.photo.delete", p.ID.String()); n != 4 {
		t.Fatalf("%d product.photo.delete rows, want 4", n)
	}
}

func TestCatalogPublic(t *testing.T) {
	e := newCatEnv(t)
	ctx := e.ctx
	shown := e.category(t, "Shown", nil, true)
	shownChild := e.category(t, "Shown child", &shown.ID, true)
	hiddenChild := e.category(t, "Hidden child", &shown.ID, false)
	hidden := e.category(t, "Hidden", nil, false)
	underHidden := e.category(t, "Under hidden", &hidden.ID, true)

	in := func(c *catalog.Category) func(*catalog.ProductInput) {
		return func(in *catalog.ProductInput) { in.CategoryID = c.ID.String() }
	}
	pShown := e.product(t, "Bramble jam", in(shown))
	pChild := e.product(t, "apricot jam", in(shownChild))
	pLoose := e.product(t, "Candle", nil) // no category
	pHiddenChild := e.product(t, "Hidden child jam", in(hiddenChild))
	pHidden := e.product(t, "Hidden jam", in(hidden))
	pUnderHidden := e.product(t, "Under hidden jam", in(underHidden))
	pInactive := e.product(t, "Inactive jam", func(in *catalog.ProductInput) { in.CategoryID, in.Status = shown.ID.String(), "inactive" })
	pArchived := e.product(t, "Archived jam", func(in *catalog.ProductInput) { in.CategoryID, in.Status = shown.ID.String(), "archived" })
	pUntracked := e.product(t, "Damson jam", func(in *catalog.ProductInput) { in.CategoryID, in.TrackStock = shown.ID.String(), false })

	// Photos: one ready, one processing, one failed; only the ready one is public.
	var readyID uuid.UUID
	for i := range 3 {
		ph, err := e.svc.AddPhoto(ctx, pShown.ID, catPNG(t, 12, 12), fmt.Sprintf("photo %d", i))
		if err != nil {
			t.Fatal(err)
		}
		switch i {
		case 1:
			readyID = ph.ID
			if err := e.svc.ProcessPhotoJob(ctx, []byte(`{"photoId":"`+ph.ID.String()+`"}`)); err != nil {
				t.Fatal(err)
			}
		case 2:
			mustExec(t, `UPDATE catalog.photos SET status = 'failed' WHERE id = $1`, ph.ID)
		}
	}

	list := func(f catalog.PublicFilter) []catalog.Product {
		t.Helper()
		f.Limit = 100
		ps, next, err := e.svc.PublicProducts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if next != nil {
			t.Fatal("a next cursor on the only page")
		}
		return ps
	}
	all := list(catalog.PublicFilter{})
	// By name, case-insensitively.
	if got, want := catNames(all), []string{"apricot jam", "Bramble jam", "Candle", "Damson jam"}; !slices.Equal(got, want) {
		t.Fatalf("public products %v, want %v", got, want)
	}
	catSameSet(t, "category Shown (with its sub-categories)", list(catalog.PublicFilter{CategoryID: &shown.ID}), pShown, pChild, pUntracked)
	catSameSet(t, "category Shown child", list(catalog.PublicFilter{CategoryID: &shownChild.ID}), pChild)
	catSameSet(t, "hidden category", list(catalog.PublicFilter{CategoryID: &hidden.ID}))
	catSameSet(t, "child of a hidden category", list(catalog.PublicFilter{CategoryID: &underHidden.ID}))
	catSameSet(t, "hidden child", list(catalog.PublicFilter{CategoryID: &hiddenChild.ID}))
	catSameSet(t, "query", list(catalog.PublicFilter{Query: "JAM"}), pShown, pChild, pUntracked)
	catSameSet(t, "query and category", list(catalog.PublicFilter{Query: "apri", CategoryID: &shown.ID}), pChild)

	for _, p := range []*catalog.Product{pHiddenChild, pHidden, pUnderHidden, pInactive, pArchived} {
		_, err := e.svc.PublicProduct(ctx, p.ID)
		wantCode(t, err, ports.ENOTFOUND)
	}
	_, err := e.svc.PublicProduct(ctx, uuid.New())
	wantCode(t, err, ports.ENOTFOUND)
	for _, p := range []*catalog.Product{pShown, pChild, pLoose, pUntracked} {
		if _, err := e.svc.PublicProduct(ctx, p.ID); err != nil {
			t.Fatalf("PublicProduct(%s): %v", p.Name, err)
		}
	}
	if a := all[3].Available(); a != nil {
		t.Fatalf("untracked product has available %d", *a)
	}

	// Only ready photos.
	pub, err := e.svc.PublicProduct(ctx, pShown.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(pub.Photos) != 1 || pub.Photos[0].ID != readyID || pub.PrimaryPhoto().ID != readyID {
		t.Fatalf("public photos %+v", pub.Photos)
	}
	if len(all[1].Photos) != 1 || all[1].Photos[0].ID != readyID {
		t.Fatalf("listed photos %+v", all[1].Photos)
	}
	if n := len(e.get(t, pShown.ID).Photos); n != 3 {
		t.Fatalf("staff see %d photos, want 3", n)
	}

	// Public categories: visible ones whose parent is visible.
	cats, err := e.svc.PublicCategories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var slugs []string
	for _, c := range cats {
		slugs = append(slugs, c.Slug)
	}
	if want := []string{"shown", "shown-child"}; !slices.Equal(slugs, want) {
		t.Fatalf("public categories %v, want %v", slugs, want)
	}

	// Hiding a category hides its products and its sub-categories' products.
	if _, err := e.svc.UpdateCategory(ctx, shown.ID, catalog.CategoryInput{Name: "Shown", Slug: "shown", Visible: false}); err != nil {
		t.Fatal(err)
	}
	catSameSet(t, "after hiding", list(catalog.PublicFilter{}), pLoose)
}

func TestCatalogPublicPaging(t *testing.T) {
	e := newCatEnv(t)
	ctx := e.ctx
	names := []string{"Apple", "apple", "Banana", "cherry", "Cherry", "Damson", "elder", "Fig", "grape", "Hazel", "Éclair"}
	for _, n := range names {
		e.product(t, n, nil)
	}
	e.product(t, "Hidden", func(in *catalog.ProductInput) { in.Status = "inactive" })
	var got []uuid.UUID
	var early *catalog.Product
	f := catalog.PublicFilter{Limit: 3}
	for pages := 0; ; pages++ {
		ps, next, err := e.svc.PublicProducts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 || len(ps) > 3 {
			t.Fatalf("page of %d products", len(ps))
		}
		got = append(got, catIDs(ps)...)
		if pages == 0 {
			// Added after the first page: one behind the cursor (never shown), one
			// ahead of it (shown once).
			early = e.product(t, "Aardvark", nil)
			e.product(t, "Mulberry", nil)
		}
		if next == nil {
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		f.After = next
	}
	var want []uuid.UUID
	if err := testDB.SelectContext(ctx, &want, `SELECT id FROM catalog.products WHERE status = 'active' AND id <> $1
		ORDER BY lower(name), id`, early.ID); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(names)+1 {
		t.Fatalf("%d products expected", len(want))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged %v\nwant  %v", got, want)
	}
	// A limit above 100 is capped, not refused.
	ps, _, err := e.svc.PublicProducts(ctx, catalog.PublicFilter{Limit: 1000})
	if err != nil || len(ps) != len(want)+1 {
		t.Fatalf("%d products with limit 1000, %v", len(ps), err)
	}
}

// The version moves on with every committed change and stays put when a change is
// rolled back.
func TestCatalogVersion(t *testing.T) {
	e := newCatEnv(t)
	ctx := e.ctx
	v := catVersion(t, e)
	step := func(what string, changed bool, fn func() error) {
		t.Helper()
		err := fn()
		nv := catVersion(t, e)
		if changed {
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if nv <= v {
				t.Fatalf("%s: version %d, was %d", what, nv, v)
			}
		} else {
			if err == nil {
				t.Fatalf("%s succeeded", what)
			}
			if nv != v {
				t.Fatalf("%s: version moved from %d to %d", what, v, nv)
			}
		}
		v = nv
	}
	var cat *catalog.Category
	var p *catalog.Product
	step("create category", true, func() (err error) {
		cat, err = e.svc.CreateCategory(ctx, catalog.CategoryInput{Name: "Jams", Visible: true})
		return err
	})
	step("update category", true, func() error {
		_, err := e.svc.UpdateCategory(ctx, cat.ID, catalog.CategoryInput{Name: "Jams!", Visible: true})
		return err
	})
	step("create product", true, func() (err error) {
		p, err = e.svc.CreateProduct(ctx, catalog.ProductInput{Name: "Jam", CategoryID: cat.ID.String(), Price: "3", WeightUnit: "grams", Weight: "340", TrackStock: true})
		return err
	})
	step("failing update fn", false, func() error {
		_, err := e.store.UpdateProduct(ctx, p.ID, func(p *catalog.Product) error {
			p.Name = "Changed"
			return errors.New("refused")
		}, ports.Audit(ctx, "product.update", "product", p.ID.String(), "rolled back"))
		return err
	})
	// The row was updated, then the transaction failed on its audit entry.
	step("update rolled back after writing", false, func() error {
		_, err := e.store.UpdateProduct(ctx, p.ID, func(p *catalog.Product) error {
			p.Name = "Changed"
			return nil
		}, ports.Audit(ctx, "product.update", "product", p.ID.String(), "bad\x00"))
		return err
	})
	if g := e.get(t, p.ID); g.Name != "Jam" {
		t.Fatalf("name %q after rolled-back updates", g.Name)
	}
	step("update product", true, func() error {
		_, err := e.svc.UpdateProduct(ctx, p.ID, catalog.ProductInput{Name: "Jam 2", Price: "3", WeightUnit: "grams", Weight: "340", TrackStock: true})
		return err
	})
	step("adjust stock", true, func() error {
		_, err := e.svc.AdjustStock(ctx, p.ID, 4, catalog.ReasonReceived, "")
		return err
	})
	step("refused adjustment", false, func() error {
		_, err := e.svc.AdjustStock(ctx, p.ID, -40, catalog.ReasonLost, "")
		return err
	})
	var ph *catalog.Photo
	step("add photo", true, func() (err error) {
		ph, err = e.svc.AddPhoto(ctx, p.ID, catPNG(t, 5, 5), "")
		return err
	})
	step("process photo", true, func() error {
		return e.svc.ProcessPhotoJob(ctx, []byte(`{"photoId":"`+ph.ID.String()+`"}`))
	})
	step("delete product", true, func() error {
		_, err := e.svc.DeleteProduct(ctx, p.ID)
		return err
	})
	step("delete category", true, func() error { return e.svc.DeleteCategory(ctx, cat.ID, nil) })
	if n := auditCount(t, "product.update", p.ID.String()); n != 1 {
		t.Fatalf("%d product.update rows, want 1 (rolled-back updates leave none)", n)
	}
}
