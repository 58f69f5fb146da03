package e2e

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"orderdesk/app/apptest"
	"orderdesk/modules/accounting"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// TestAccountantFlow is the accounting issue's acceptance flow: the accountant opens
// the accounting dashboard and sees its charts drawn, filters the ledger to the
// postage account, exports that list as CSV, and is refused the catalog.
func TestAccountantFlow(t *testing.T) {
	env := apptest.Start(t)
	ctx := context.Background()
	now := time.Now().UTC()
	for i, subtotal := range []int64{4000, 2500, 1250} {
		id := uuid.New()
		number := "OD-E2E" + strings.ToUpper(id.String()[:6])
		at := now.Add(-time.Duration(i+1) * time.Hour)
		for _, e := range []ports.LedgerEvent{
			{ID: "settled:" + id.String(), Kind: ports.LedgerPaymentSettled, At: at, OrderID: id.String(), OrderNumber: number,
				SubtotalPence: subtotal, ShippingPence: 350, TotalPence: subtotal + 350, ReceivedPence: subtotal + 350,
				AmountSats: (subtotal + 350) * 20, RatePence: 5_000_000},
			{ID: "postage:" + id.String(), Kind: ports.LedgerPostagePurchased, At: at.Add(time.Minute), OrderID: id.String(),
				OrderNumber: number, AmountPence: 289 + int64(i)},
		} {
			if _, _, err := env.App.Accounting.Post(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	env.CreateUser(t, "alex-accounts", staff.RoleAccountant, "correct horse battery")
	bctx := apptest.Browser(t, 90*time.Second)
	u := env.URL

	// The dashboard, with its charts drawn by the vendored Chart.js.
	if err := chromedp.Do(bctx,
		logIn(u, "alex-accounts", "correct horse battery"),
		chromedp.WaitVisible(chromedp.ID("menu")),
		chromedp.Click(chromedp.CSS(`#menu a[href="/admin/accounting"]`)),
		chromedp.WaitVisible(chromedp.ID("accounting-stats")),
		chromedp.WaitVisible(chromedp.CSS(`#chart-daily[data-rendered="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#chart-monthly[data-rendered="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#chart-status[data-rendered="true"]`)),
	); err != nil {
		t.Fatal(err)
	}
	drawn := run(t, bctx, chromedp.Evaluate[bool](`!!(window.Chart && Chart.getChart(document.getElementById("chart-daily")))`))
	if !drawn {
		t.Fatal("the revenue chart is not a Chart.js chart")
	}
	stat := run(t, bctx, chromedp.Text(chromedp.ID("stat-average")))
	if !strings.Contains(stat, "Average order value") {
		t.Fatalf("average order value stat: %q", stat)
	}

	// The ledger, filtered to the postage account: choosing the account (a change
	// event) refreshes the list in place.
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`.accounting-tabs a[href="/admin/accounting/ledger"]`)),
		chromedp.WaitVisible(chromedp.ID("ledger-filters")),
		chromedp.SetValue(chromedp.ID("account"), accounting.AccPostage),
		chromedp.WaitVisible(chromedp.ID("clear-filters")),
	); err != nil {
		t.Fatal(err)
	}
	loc := run(t, bctx, chromedp.Location())
	if !strings.Contains(loc, "account="+accounting.AccPostage) {
		t.Fatalf("the filter is not in the address: %s", loc)
	}
	kinds := run(t, bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#ledger-table tbody.entry")).map(b => b.dataset.kind)`))
	if len(kinds) != 3 {
		t.Fatalf("%d entries on the filtered ledger, want 3: %v", len(kinds), kinds)
	}
	for _, k := range kinds {
		if k != ports.LedgerPostagePurchased {
			t.Fatalf("a %s entry on the postage ledger", k)
		}
	}

	// Export the filtered list.
	dir := t.TempDir()
	progress := chromedp.BrowserEvents(bctx, browser.DownloadProgress)
	enable := true
	if err := chromedp.Do(bctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &enable})
			return err
		}),
		// Clicked from a script once htmx has settled: the filter's swap may replace
		// the link under a node-id click ("Could not find node with given id").
		chromedp.Poll[chromedp.Void](`!document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")`),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("export-csv").click()`),
	); err != nil {
		t.Fatal(err)
	}
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatal(err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+3*2 || rows[0][0] != "entry_id" {
		t.Fatalf("export: %v", rows)
	}
	for _, r := range rows[1:] {
		if r[2] != ports.LedgerPostagePurchased || !strings.HasPrefix(r[5], "OD-E2E") {
			t.Fatalf("export row %v", r)
		}
		if _, err := time.Parse(time.RFC3339, r[1]); err != nil {
			t.Fatalf("date %q is not ISO 8601", r[1])
		}
	}

	// The catalog is not the accountant's: no menu entry, and a 403 page.
	catalogLinks := run(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll('#menu a[href^="/admin/catalog"]').length`))
	if catalogLinks != 0 {
		t.Fatal("the accountant's menu offers the catalog")
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(u+"/admin/catalog/products"), chromedp.WaitVisible(chromedp.CSS(".error-page"))); err != nil {
		t.Fatal(err)
	}
	msg := run(t, bctx, chromedp.Text(chromedp.CSS(".error-page")))
	if !strings.Contains(msg, "Your role does not give access") {
		t.Fatalf("catalog as accountant: %q", msg)
	}
}
