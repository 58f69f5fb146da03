package admin_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"orderdesk/app/apptest"
	"orderdesk/modules/catalog"
	"orderdesk/modules/staff"
)

func managerClient(t *testing.T, env *apptest.Env, name string) *apptest.Client {
	env.CreateUser(t, name, staff.RoleManager, "correct horse battery")
	c := env.NewClient(t)
	c.Login(name, "correct horse battery")
	return c
}

func countCategories(t *testing.T, env *apptest.Env) int {
	cats, err := env.App.Catalog.Categories(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(cats)
}

func TestCategoryForm(t *testing.T) {
	env := apptest.Start(t)
	c := managerClient(t, env, "cat-form")
	ctx := context.Background()
	top, err := env.App.Catalog.CreateCategory(ctx, catalog.CategoryInput{Name: "Top", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	child, err := env.App.Catalog.CreateCategory(ctx, catalog.CategoryInput{Name: "Child", ParentID: &top.ID, Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	c.Get("/admin/catalog/categories/new")
	cases := []struct {
		name    string
		form    url.Values
		field   string
		message string
	}{
		{"empty name", url.Values{"name": {""}}, "name", "Enter a name."},
		{"long name", url.Values{"name": {strings.Repeat("é", 101)}}, "name", "at most 100 characters"},
		{"bad slug", url.Values{"name": {"Ok"}, "slug": {"No Spaces!"}}, "slug", "lower-case letters"},
		{"taken slug", url.Values{"name": {"Another top"}, "slug": {"top"}}, "slug", "Another category has this slug"},
		{"grandchild", url.Values{"name": {"Deep"}, "parent_id": {child.ID.String()}}, "parent_id", "nest one level deep"},
		{"unknown parent", url.Values{"name": {"Lost"}, "parent_id": {uuid.NewString()}}, "parent_id", "Choose a parent"},
		{"garbage parent", url.Values{"name": {"Lost"}, "parent_id": {"x"}}, "parent_id", "Choose a parent"},
		{"bad position", url.Values{"name": {"Pos"}, "position": {"first"}}, "position", "whole number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := countCategories(t, env)
			resp, body := c.Post("/admin/catalog/categories", tc.form)
			if resp.StatusCode != 422 || !strings.Contains(body, tc.message) || !strings.Contains(body, `id="`+tc.field+`" `) {
				t.Fatalf("status %d, want 422 with %q:\n%.2000s", resp.StatusCode, tc.message, body)
			}
			if countCategories(t, env) != before {
				t.Fatal("a category was created")
			}
		})
	}
	// A top-level category with children cannot become a child.
	other, _ := env.App.Catalog.CreateCategory(ctx, catalog.CategoryInput{Name: "Other", Visible: true})
	resp, body := c.Post("/admin/catalog/categories/"+top.ID.String(), url.Values{"name": {"Top"}, "parent_id": {other.ID.String()}})
	if resp.StatusCode != 422 || !strings.Contains(body, "has sub-categories") {
		t.Fatalf("parent with children: %d", resp.StatusCode)
	}
	// Deletion: refused with products unless they move; refused with children.
	p, err := env.App.Catalog.CreateProduct(ctx, catalog.ProductInput{Name: "Thing", Price: "1", WeightUnit: "unit", ShippingWeight: "10",
		CategoryID: child.ID.String()})
	if err != nil {
		t.Fatal(err)
	}
	resp, body = c.Post("/admin/catalog/categories/"+top.ID.String()+"/delete", nil)
	if resp.StatusCode != 409 || !strings.Contains(body, "sub-categories") {
		t.Fatalf("delete with children: %d", resp.StatusCode)
	}
	resp, body = c.Post("/admin/catalog/categories/"+child.ID.String()+"/delete", nil)
	if resp.StatusCode != 409 || !strings.Contains(body, "still has 1 products") {
		t.Fatalf("delete with products: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = c.Post("/admin/catalog/categories/"+child.ID.String()+"/delete", url.Values{"move_to": {other.ID.String()}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete moving products: %d", resp.StatusCode)
	}
	moved, _ := env.App.Catalog.Product(ctx, p.ID)
	if moved.CategoryID == nil || *moved.CategoryID != other.ID {
		t.Fatalf("product not moved: %v", moved.CategoryID)
	}
}

func TestProductForm(t *testing.T) {
	env := apptest.Start(t)
	c := managerClient(t, env, "prod-form")
	ctx := context.Background()
	if _, err := env.App.Catalog.CreateProduct(ctx, catalog.ProductInput{Name: "Existing", SKU: "SKU-1", Price: "1", WeightUnit: "unit", ShippingWeight: "10"}); err != nil {
		t.Fatal(err)
	}
	good := url.Values{"name": {"Tea"}, "price": {"4.50"}, "weight_unit": {"grams"}, "weight": {"250"}, "status": {"active"},
		"track_stock": {"on"}, "initial_stock": {"5"}, "low_stock_threshold": {"1"}}
	cases := []struct {
		name, field, value, message string
	}{
		{"price 1.234", "price", "1.234", "at most 2 decimal places"},
		{"price -1", "price", "-1", "cannot be negative"},
		{"price letters", "price", "abc", "using digits"},
		{"price empty", "price", "", "Enter an amount"},
		{"price too large", "price", "100000000", "at most 99999999.99"},
		{"weight missing for grams", "weight", "", "Enter the weight in grams"},
		{"weight zero", "weight", "0", "more than zero"},
		{"weight letters", "weight", "heavy", "like 250 or 0.5"},
		{"unknown unit", "weight_unit", "stones", "Choose a unit"},
		{"taken sku, other case", "sku", "sku-1", "Another product has this SKU"},
		{"name too long", "name", strings.Repeat("x", 201), "at most 200 characters"},
		{"bad status", "status", "deleted", "Choose active, inactive or archived"},
		{"negative stock", "initial_stock", "-3", "whole number of units"},
		{"bad category", "category_id", uuid.NewString(), "Choose a category"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := env.App.Catalog.CountProducts(ctx, catalog.ProductFilter{})
			f := url.Values{}
			for k, v := range good {
				f[k] = v
			}
			f.Set(tc.field, tc.value)
			f.Set("name", f.Get("name")+" "+tc.name)
			if tc.field == "name" {
				f.Set("name", tc.value)
			}
			resp, body := c.Post("/admin/catalog/products", f)
			after, _ := env.App.Catalog.CountProducts(ctx, catalog.ProductFilter{})
			if tc.message == "" {
				if resp.StatusCode != http.StatusSeeOther || after != before+1 {
					t.Fatalf("status %d, products %d → %d", resp.StatusCode, before, after)
				}
				return
			}
			if resp.StatusCode != 422 || !strings.Contains(body, tc.message) {
				t.Fatalf("status %d, want 422 with %q:\n%.3000s", resp.StatusCode, tc.message, body)
			}
			if after != before {
				t.Fatal("a product was created")
			}
		})
	}
	// The same SKU exactly is refused.
	f := url.Values{}
	for k, v := range good {
		f[k] = v
	}
	f.Set("sku", "SKU-1")
	if resp, body := c.Post("/admin/catalog/products", f); resp.StatusCode != 422 || !strings.Contains(body, "Another product has this SKU") {
		t.Fatalf("duplicate SKU: %d", resp.StatusCode)
	}
	// A "unit" product without shipping weight cannot be active, but can be inactive.
	f = url.Values{"name": {"Mug"}, "price": {"7"}, "weight_unit": {"unit"}, "status": {"active"}}
	if resp, body := c.Post("/admin/catalog/products", f); resp.StatusCode != 422 || !strings.Contains(body, "Royal Mail needs it") {
		t.Fatalf("active without shipping weight: %d", resp.StatusCode)
	}
	f.Set("status", "inactive")
	if resp, _ := c.Post("/admin/catalog/products", f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("inactive without shipping weight: %d", resp.StatusCode)
	}
}

func TestQuickEditsAndStock(t *testing.T) {
	env := apptest.Start(t)
	c := managerClient(t, env, "quick")
	ctx := context.Background()
	p, err := env.App.Catalog.CreateProduct(ctx, catalog.ProductInput{Name: "Quick", Price: "2", WeightUnit: "unit", ShippingWeight: "10",
		TrackStock: true, InitialStock: "4", Status: "active"})
	if err != nil {
		t.Fatal(err)
	}
	id := p.ID.String()
	c.Get("/admin/catalog/products")
	hx := http.Header{"Hx-Request": {"true"}, "X-Csrf-Token": {c.CSRF}}
	resp, body := c.Do("POST", "/admin/catalog/products/"+id+"/stock", url.Values{"stock": {"9"}}, hx)
	if resp.StatusCode != 200 || !strings.HasPrefix(strings.TrimSpace(body), `<tr id="product-`+id) || !strings.Contains(body, `value="9"`) {
		t.Fatalf("quick stock: %d\n%s", resp.StatusCode, body)
	}
	resp, body = c.Do("POST", "/admin/catalog/products/"+id+"/stock", url.Values{"stock": {"-1"}}, hx)
	if resp.StatusCode != 422 || !strings.Contains(body, "from 0 to 1000000") {
		t.Fatalf("quick stock -1: %d\n%s", resp.StatusCode, body)
	}
	resp, body = c.Do("POST", "/admin/catalog/products/"+id+"/status", url.Values{"status": {"inactive"}}, hx)
	if resp.StatusCode != 200 || !strings.Contains(body, `value="inactive" selected`) {
		t.Fatalf("quick status: %d\n%s", resp.StatusCode, body)
	}
	got, _ := env.App.Catalog.Product(ctx, p.ID)
	if got.StockOnHand != 9 || got.Status != catalog.StatusInactive {
		t.Fatalf("after quick edits: %+v", got)
	}
	// Adjustments with a reason; bad ones change nothing.
	c.Get("/admin/catalog/products/" + id)
	for _, bad := range []url.Values{
		{"delta": {"-10"}, "reason": {"damaged"}},
		{"delta": {"0"}, "reason": {"received"}},
		{"delta": {"three"}, "reason": {"received"}},
		{"delta": {"1"}, "reason": {"sold"}},
	} {
		resp, body := c.Post("/admin/catalog/products/"+id+"/adjust", bad)
		if resp.StatusCode != 422 || !strings.Contains(body, "field-error") {
			t.Fatalf("%v: %d", bad, resp.StatusCode)
		}
	}
	if resp, _ := c.Post("/admin/catalog/products/"+id+"/adjust", url.Values{"delta": {"+6"}, "reason": {"received"}, "note": {"delivery 42"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adjust: %d", resp.StatusCode)
	}
	moves, _ := env.App.Catalog.Movements(ctx, p.ID)
	if len(moves) != 3 || moves[0].Delta != 6 || moves[0].BalanceAfter != 15 || moves[0].Note != "delivery 42" || moves[0].Actor != "quick" {
		t.Fatalf("movements %+v", moves)
	}
	_, body = c.Get("/admin/catalog/products/" + id)
	if !strings.Contains(body, "delivery 42") || !strings.Contains(body, `<strong id="on-hand">15</strong>`) {
		t.Fatal("movement history not on the product page")
	}
	// Delete: a never-ordered product goes; the list no longer has it.
	if resp, _ := c.Post("/admin/catalog/products/"+id+"/delete", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := c.Get("/admin/catalog/products/" + id); resp.StatusCode != 404 {
		t.Fatalf("deleted product page: %d", resp.StatusCode)
	}
}

// upload posts files as the multipart field "photos".
func upload(t *testing.T, c *apptest.Client, path string, files map[string][]byte) (*http.Response, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("_csrf", c.CSRF)
	for name, data := range files {
		fw, _ := w.CreateFormFile("photos", name)
		_, _ = fw.Write(data)
	}
	w.Close()
	req, _ := http.NewRequest("POST", strings.TrimSuffix(c.Base(), "/")+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func pngBytes(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// bombPNG is a tiny PNG whose header claims 20000×20000 pixels.
func bombPNG() []byte {
	b := pngBytes(1, 1)
	// IHDR data starts at byte 16: width, height; its CRC follows the 13 data bytes.
	binary.BigEndian.PutUint32(b[16:], 20000)
	binary.BigEndian.PutUint32(b[20:], 20000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// gpsJPEG is a JPEG carrying an EXIF segment with a GPS latitude.
func gpsJPEG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for i := range img.Pix {
		img.Pix[i] = 120
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, nil)
	j := buf.Bytes()
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, // header, IFD0 at 8
		0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, // GPSInfo → 26
		0, 0, 0, 0, // no next IFD
		0, 1, 0, 1, 0, 2, 0, 0, 0, 2, 'N', 0, 0, 0, // GPSLatitudeRef "N"
		0, 0, 0, 0}
	app1 := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, byte((len(app1) + 2) >> 8), byte(len(app1) + 2)}
	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	out = append(out, app1...)
	return append(out, j[2:]...)
}

func TestPhotoUploads(t *testing.T) {
	env := apptest.Start(t)
	c := managerClient(t, env, "photos")
	ctx := context.Background()
	p, err := env.App.Catalog.CreateProduct(ctx, catalog.ProductInput{Name: "Pictured", Price: "2", WeightUnit: "unit", ShippingWeight: "10"})
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/catalog/products/" + p.ID.String() + "/photos"
	c.Get("/admin/catalog/products/" + p.ID.String())
	big := append(pngBytes(10, 10), bytes.Repeat([]byte{0}, 11<<20)...)
	cases := []struct {
		name    string
		data    []byte
		message string
	}{
		{"notes.png", []byte("just some text, not an image"), "not a JPEG, PNG or WebP"},
		{"huge.png", big, "larger than 10 MB"},
		{"bomb.png", bombPNG(), "megapixels"},
	}
	for _, tc := range cases {
		resp, _ := upload(t, c, path, map[string][]byte{tc.name: tc.data})
		_, body := c.Get("/admin/catalog/products/" + p.ID.String())
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(body, tc.message) {
			t.Fatalf("%s: %d, page lacks %q", tc.name, resp.StatusCode, tc.message)
		}
		if got, _ := env.App.Catalog.Product(ctx, p.ID); len(got.Photos) != 0 {
			t.Fatalf("%s was stored", tc.name)
		}
	}
	// A PNG named .jpg and a JPEG with GPS data are both taken; the GPS data is gone
	// from every served copy.
	resp, _ := upload(t, c, path, map[string][]byte{"renamed.jpg": pngBytes(40, 30), "gps.jpg": gpsJPEG()})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good uploads: %d", resp.StatusCode)
	}
	got, _ := env.App.Catalog.Product(ctx, p.ID)
	if len(got.Photos) != 2 {
		t.Fatalf("photos stored: %d", len(got.Photos))
	}
	for _, ph := range got.Photos {
		if err := env.App.Catalog.ProcessPhotoJob(ctx, []byte(`{"photoId":"`+ph.ID.String()+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = env.App.Catalog.Product(ctx, p.ID)
	for _, ph := range got.Photos {
		if ph.Status != catalog.PhotoReady {
			t.Fatalf("photo %s: %s %s", ph.ID, ph.Status, ph.Error)
		}
		for _, r := range []catalog.Rendition{catalog.RenditionOriginal, catalog.RenditionWeb, catalog.RenditionThumb} {
			resp, err := http.Get(env.URL + ph.URLPath(r))
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || len(data) < 50 {
				t.Fatalf("%s: %d", ph.URLPath(r), resp.StatusCode)
			}
			if bytes.Contains(data, []byte("Exif")) || bytes.Contains(data, []byte{'N', 0, 0, 0}) && bytes.Contains(data, []byte{0x88, 0x25}) {
				t.Fatalf("%s still carries EXIF/GPS", ph.URLPath(r))
			}
			if !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || resp.Header.Get("ETag") == "" {
				t.Fatalf("%s cache headers %v", ph.URLPath(r), resp.Header)
			}
		}
	}
	if !bytes.Contains(gpsJPEG(), []byte("Exif")) {
		t.Fatal("the test JPEG has no EXIF to strip")
	}
}
