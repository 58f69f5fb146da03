package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"orderdesk/app/apptest"
)

// redoclyLogo is the one thing Redoc 2 fetches from elsewhere, unconditionally: the
// small logo of its "API docs by Redocly" footer link. The page's policy blocks it, so
// no request leaves the browser, and Redoc hides the image when it fails to load.
const redoclyLogo = "https://cdn.redoc.ly/redoc/logo-mini.svg"

// TestAPIDocs opens the client API reference without logging in or a key and waits
// until Redoc, served by OrderDesk itself, has drawn operations of the OpenAPI
// document, under the page's own Content-Security-Policy; nothing on the page is
// blocked by that policy or fails (the policy allows no other origin, so a font or
// script from a CDN would show up here too). Its search, run in a blob: worker, finds
// an operation.
func TestAPIDocs(t *testing.T) {
	env := apptest.Start(t)
	ctx := apptest.Browser(t, 60*time.Second)

	var (
		mu       sync.Mutex
		problems []string
	)
	cctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	messages := chromedp.Console(cctx)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if strings.Contains(m.Text, redoclyLogo) && strings.Contains(m.Text, "blocked") {
				continue // see redoclyLogo
			}
			if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				problems = append(problems, m.String()+" ("+m.URL+")")
				mu.Unlock()
			}
		}
	}()

	if err := chromedp.Do(ctx, chromedp.Navigate(env.URL+"/api/v1/docs")); err != nil {
		t.Fatal(err)
	}
	// The operation's summary and operationId ("listProducts", as Redoc's anchor).
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.body.innerText.includes('Products on sale, by name') && !!document.querySelector('[id$="operation/listProducts"]')`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 2000)`))
		t.Fatalf("the reference does not show listProducts: %v\n%s", err, html)
	}
	for _, want := range []string{"OrderDesk client API", "Place an order"} {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.innerText.includes(`+jsString(want)+`)`))
		if err != nil || !ok {
			t.Errorf("the reference does not show %q (%v)", want, err)
		}
	}

	// Search (Redoc's lunr index in a blob: worker) finds the operation by its summary.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[role="search"], input.search-input`), "Products on sale"),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`[...document.querySelectorAll('[data-role="search:results"] li, .search-results li, [role="search"] ~ * li')].some(li => li.innerText.includes('Products on sale, by name'))`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Errorf("search found nothing: %v", err)
	}

	// The blocked logo is not shown broken.
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('img[src*="cdn.redoc.ly"]').length`)); err != nil || n != 0 {
		t.Errorf("%d Redocly logo images left on the page (%v)", n, err)
	}

	time.Sleep(300 * time.Millisecond) // let the last console events arrive
	stop()
	<-done
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("console: %s", p)
	}
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
