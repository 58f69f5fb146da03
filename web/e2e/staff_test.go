package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"orderdesk/app/apptest"
)

// TestFirstLoginAndRoles is the foundation's acceptance flow: log in as admin/admin,
// be forced to choose a new password, create a packer, log out, log in as the packer,
// and find the users page forbidden and only Fulfilment in the menu.
func TestFirstLoginAndRoles(t *testing.T) {
	env := apptest.Start(t)
	ctx := apptest.Browser(t, 60*time.Second)
	u := env.URL

	// The default admin is sent to the password page and cannot go anywhere else.
	if err := chromedp.Do(ctx, logIn(u, "admin", "admin"), chromedp.WaitVisible(chromedp.ID("change-password"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(u+"/admin/users"), chromedp.WaitVisible(chromedp.ID("change-password"))); err != nil {
		t.Fatal(err)
	}
	// A too-short password is refused with the message next to the field.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("current_password"), "admin"),
		chromedp.SendKeys(chromedp.ID("new_password"), "short"),
		chromedp.SendKeys(chromedp.ID("confirm_password"), "short"),
		chromedp.Click(chromedp.ID("change-password")),
		chromedp.WaitVisible(chromedp.CSS(".field-error")),
	); err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".field-error")))
	if err != nil || !strings.Contains(msg, "at least 10 characters") {
		t.Fatalf("field error %q, %v", msg, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("current_password"), "admin"),
		chromedp.SendKeys(chromedp.ID("new_password"), "a much better password"),
		chromedp.SendKeys(chromedp.ID("confirm_password"), "a much better password"),
		chromedp.Click(chromedp.ID("change-password")),
		chromedp.WaitVisible(chromedp.ID("menu")),
	); err != nil {
		t.Fatal(err)
	}

	// Create a packer through the form (with one mistake first).
	if err := chromedp.Do(ctx,
		chromedp.Navigate(u+"/admin/users"),
		chromedp.Click(chromedp.ID("new-user")),
		chromedp.WaitVisible(chromedp.ID("user-form")),
		chromedp.SendKeys(chromedp.ID("username"), "pat the packer"),
		chromedp.SetValue(chromedp.ID("role"), "packer"),
		chromedp.SendKeys(chromedp.ID("password"), "packing is fun"),
		chromedp.Click(chromedp.ID("create-user")),
		chromedp.WaitVisible(chromedp.CSS(".field-error")),
	); err != nil {
		t.Fatal(err)
	}
	if msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".field-error"))); !strings.Contains(msg, "Use only letters") {
		t.Fatalf("username error %q", msg)
	}
	if err := chromedp.Do(ctx,
		chromedp.Clear(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "pat"),
		chromedp.SetValue(chromedp.ID("role"), "packer"),
		chromedp.SendKeys(chromedp.ID("password"), "packing is fun"),
		chromedp.Click(chromedp.ID("create-user")),
		chromedp.WaitVisible(chromedp.CSS(`#users-table tr[data-username="pat"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if flash, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash-ok"))); !strings.Contains(flash, "User pat created") {
		t.Fatalf("flash %q", flash)
	}

	// Log out, log in as the packer.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, logIn(u, "pat", "packing is fun"), chromedp.WaitVisible(chromedp.ID("menu"))); err != nil {
		t.Fatal(err)
	}
	menu, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("menu")))
	if err != nil || strings.TrimSpace(menu) != "Fulfilment" {
		t.Fatalf("packer menu %q, %v", menu, err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasSuffix(loc, "/admin/fulfilment") {
		t.Fatalf("packer landed on %s", loc)
	}
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u+"/admin/users"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 403 {
		t.Fatalf("users page as packer: %d", resp.Status)
	}
	title, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".error-page h1")))
	if !strings.Contains(title, "403") {
		t.Fatalf("403 page heading %q", title)
	}
	menu, _ = chromedp.Run(ctx, chromedp.Text(chromedp.ID("menu")))
	if strings.TrimSpace(menu) != "Fulfilment" {
		t.Fatalf("packer menu on the 403 page %q", menu)
	}
}
