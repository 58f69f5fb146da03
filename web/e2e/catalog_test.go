package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"orderdesk/app/apptest"
	"orderdesk/modules/staff"
)

// writePNG writes a small one-colour PNG and returns its path. The name need not say
// PNG: the server decides by content.
func writePNG(t *testing.T, name string, c color.RGBA) string {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCatalogEditing creates a category and a product with two photos in the admin,
// reorders the photos and makes the second primary, and finds it all, byte for byte,
// in the client API.
func TestCatalogEditing(t *testing.T) {
	env := apptest.Start(t)
	env.RunWorker(t)
	env.CreateUser(t, "cat-manager", staff.RoleManager, "correct horse battery")
	ctx := apptest.Browser(t, 90*time.Second)
	u := env.URL
	name := "Thé vert 🍵 مرحبا e\u0301"
	desc := "Line one 😀\nשלום עולם\n<script>window.pwned=1</script> 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"

	if err := chromedp.Do(ctx,
		logIn(u, "cat-manager", "correct horse battery"),
		chromedp.WaitVisible(chromedp.ID("menu")),
		chromedp.Navigate(u+"/admin/catalog/categories"),
		chromedp.Click(chromedp.ID("new-category")),
		chromedp.WaitVisible(chromedp.ID("category-form")),
		chromedp.SendKeys(chromedp.ID("name"), "Green Teas"),
		chromedp.Click(chromedp.ID("save-category")),
		chromedp.WaitVisible(chromedp.CSS(`#categories-table tr[data-slug="green-teas"]`)),
	); err != nil {
		t.Fatal(err)
	}

	// A product with a mistake first: no price.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(u+"/admin/catalog/products/new"),
		chromedp.WaitVisible(chromedp.ID("product-form")),
		chromedp.SetValue(chromedp.ID("name"), name),
		chromedp.SetValue(chromedp.ID("description"), desc),
		chromedp.SetValue(chromedp.ID("weight"), "100"),
		chromedp.Click(chromedp.ID("save-product")),
		chromedp.WaitVisible(chromedp.CSS(`#price[aria-invalid="true"]`)),
	); err != nil {
		t.Fatal(err)
	}
	catID, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#category_id option')].find(o => o.textContent.trim() === 'Green Teas').value`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("category_id"), catID),
		chromedp.SetValue(chromedp.ID("price"), "4.50"),
		chromedp.SetValue(chromedp.ID("initial_stock"), "10"),
		chromedp.Click(chromedp.ID("save-product")),
		chromedp.WaitVisible(chromedp.ID("upload-form")),
	); err != nil {
		t.Fatal(err)
	}
	// The description is shown as text with its line breaks; the script never ran.
	pwned := run(t, ctx, chromedp.Evaluate[bool](`window.pwned === 1 || document.querySelectorAll('#preview script').length > 0`))
	if pwned {
		t.Fatal("the description was rendered as HTML")
	}
	shown, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#preview .description")))
	if !strings.Contains(shown, "<script>window.pwned=1</script>") || !strings.Contains(shown, "שלום עולם") {
		t.Fatalf("description shown as %q", shown)
	}

	// Two photos at once; one named .jpg though it is a PNG.
	a := writePNG(t, "first.png", color.RGBA{200, 30, 30, 255})
	b := writePNG(t, "second.jpg", color.RGBA{30, 30, 200, 255})
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#flash').replaceChildren() === undefined`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.ID("photo-files"), []string{a, b}),
		chromedp.Click(chromedp.ID("upload-photos")),
		chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
	); err != nil {
		t.Fatal(err)
	}
	flash, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash-ok")))
	if !strings.Contains(flash, "2 photo(s) added") {
		t.Fatalf("upload flash %q", flash)
	}
	// The worker makes the renditions; the page notices by itself.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#photo-list li:nth-child(2) img`))); err != nil {
		t.Fatal(err)
	}
	order := func() []string {
		ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#photo-list li[data-photo]')].map(li => li.dataset.photo)`))
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	before := order()
	if len(before) != 2 {
		t.Fatalf("photos %v", before)
	}
	// Move the second photo up, then make it primary.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#photo-list li:nth-child(2) .move-up`)),
		chromedp.WaitVisible(chromedp.CSS(`#photo-list li:first-child[data-photo="`+before[1]+`"]`)),
		chromedp.Click(chromedp.CSS(`#photo-list li:first-child .make-primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#photo-list li:first-child .primary-badge`)),
	); err != nil {
		t.Fatal(err)
	}

	// The client API shows it all.
	created, err := env.App.Clients.CreateApp(context.Background(), "e2e-catalog", "")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", u+"/api/v1/products?category="+catID, nil)
	req.Header.Set("Authorization", "Bearer "+created.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var got struct {
		Data []struct {
			Name, Description string
			Price             struct{ Amount string }
			AvailableQuantity *int
			Photos            []struct{ URL, ThumbnailURL string }
		}
	}
	if err := json.Unmarshal(raw, &got); err != nil || len(got.Data) != 1 {
		t.Fatalf("API: %v %s", err, raw)
	}
	p := got.Data[0]
	if p.Name != name || p.Description != desc || p.Price.Amount != "4.50" || p.AvailableQuantity == nil || *p.AvailableQuantity != 10 {
		t.Fatalf("API product %+v", p)
	}
	if len(p.Photos) != 2 || !strings.Contains(p.Photos[0].URL, before[1]) || !strings.HasPrefix(p.Photos[0].URL, u+"/media/") {
		t.Fatalf("API photos %+v, want %s first", p.Photos, before[1])
	}
}
