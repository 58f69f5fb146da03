// Package e2e drives the admin in headless Chromium against a whole OrderDesk.
package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"orderdesk/app/apptest"
)

func TestMain(m *testing.M) { apptest.Main(m) }

// logIn fills and sends the admin's login form at base URL u.
func logIn(u, user, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(u+"/admin/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login")),
	)
}

// run runs one action and fails the test if the browser could not: a check that looks
// for the absence of something must not pass because the lookup itself failed.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
