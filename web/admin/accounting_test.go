package admin_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/app/apptest"
	"orderdesk/modules/accounting"
	"orderdesk/modules/ordering"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// ledgerOrder posts the money events of one paid order (settled on day, postage the
// next day) and returns its order number.
func ledgerOrder(t *testing.T, env *apptest.Env, day time.Time, subtotal int64) string {
	t.Helper()
	id := uuid.New()
	number := "OD-T" + strings.ToUpper(id.String()[:8])
	for _, e := range []ports.LedgerEvent{
		{ID: "settled:" + id.String(), Kind: ports.LedgerPaymentSettled, At: day, OrderID: id.String(), OrderNumber: number,
			SubtotalPence: subtotal, ShippingPence: 350, TotalPence: subtotal + 350, ReceivedPence: subtotal + 351,
			AmountSats: (subtotal + 351) * 20, RatePence: 5_000_000},
		{ID: "postage:" + id.String(), Kind: ports.LedgerPostagePurchased, At: day.Add(24 * time.Hour), OrderID: id.String(),
			OrderNumber: number, AmountPence: 289},
	} {
		if _, _, err := env.App.Accounting.Post(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	return number
}

// csvRows returns the reader of a CSV answer: csvRows(t)(c.Get(path)).
func csvRows(t *testing.T) func(resp *http.Response, body string) [][]string {
	return func(resp *http.Response, body string) [][]string {
		t.Helper()
		return readCSV(t, resp, body)
	}
}

func readCSV(t *testing.T, resp *http.Response, body string) [][]string {
	t.Helper()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment; filename=") {
		t.Fatalf("status %d, %s, %s\n%.500s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%.500s", err, body)
	}
	return rows
}

func TestAccountingLedgerPages(t *testing.T) {
	env := apptest.Start(t)
	c := roleClient(t, env, "ledger-accountant", staff.RoleAccountant)
	may := time.Date(2030, 5, 10, 12, 0, 0, 0, time.UTC)
	first := ledgerOrder(t, env, may, 4000)
	second := ledgerOrder(t, env, may.AddDate(0, 0, 5), 2500)
	june := ledgerOrder(t, env, may.AddDate(0, 1, 0), 1000)

	// May, all accounts: four entries, newest first, each with its lines.
	resp, body := c.Get("/admin/accounting/ledger?from=2030-05-01&to=2030-05-31")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ledger: %d\n%.2000s", resp.StatusCode, body)
	}
	if n := strings.Count(body, `<tbody class="entry"`); n != 4 {
		t.Fatalf("%d entries in May, want 4\n%s", n, body)
	}
	if strings.Index(body, second) > strings.Index(body, first) || strings.Contains(body, june) {
		t.Fatalf("May's entries out of order or June's shown")
	}
	for _, want := range []string{"1010 BTCPay wallet", "£43.51", "0.00087020", "£50,000.00", "4010 Sales", "5090 Rounding/FX differences"} {
		if !strings.Contains(body, want) {
			t.Errorf("ledger lacks %q", want)
		}
	}
	// Filtered by account: only the postage entries; by order: only that order's.
	_, body = c.Get("/admin/accounting/ledger?from=2030-05-01&to=2030-06-30&account=" + accounting.AccPostage)
	if n := strings.Count(body, `data-kind="postage_purchased"`); n != 3 || strings.Contains(body, `data-kind="payment_settled"`) {
		t.Fatalf("postage filter: %d postage entries\n%s", n, body)
	}
	_, body = c.Get("/admin/accounting/ledger?order=" + url.QueryEscape(strings.ToLower(first)))
	if n := strings.Count(body, `<tbody class="entry"`); n != 2 || !strings.Contains(body, `class="order-link">`+first) {
		t.Fatalf("order filter: %d entries\n%s", n, body)
	}
	// Keyset pages of one entry each walk the whole month without repeats.
	seen := map[string]bool{}
	next := "/admin/accounting/ledger?from=2030-05-01&to=2030-06-30&limit=1"
	for pages := 0; next != ""; pages++ {
		if pages > 6 {
			t.Fatal("the pages do not end")
		}
		_, body = c.Get(next)
		for _, part := range strings.Split(body, `data-entry="`)[1:] {
			id := part[:strings.Index(part, `"`)]
			if seen[id] {
				t.Fatalf("entry %s on two pages", id)
			}
			seen[id] = true
		}
		next = ""
		if i := strings.Index(body, `id="older-entries"`); i >= 0 {
			j := strings.LastIndex(body[:i], `href="`)
			next = strings.ReplaceAll(body[j+6:strings.Index(body[j+6:], `"`)+j+6], "&amp;", "&")
		}
	}
	if len(seen) != 6 {
		t.Fatalf("%d entries over the pages, want 6", len(seen))
	}

	// Mistakes are 422 with the field marked.
	for _, q := range []string{"from=2030-13-01", "from=2030-05-10&to=2030-05-01", "account=9999"} {
		resp, body := c.Get("/admin/accounting/ledger?" + q)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%s: status %d\n%.1500s", q, resp.StatusCode, body)
		}
	}
	if resp, _ := c.Get("/admin/accounting/ledger?after=nonsense"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad cursor: %d", resp.StatusCode)
	}

	// The CSV of May: a header, then one row per line, with ISO dates.
	rows := csvRows(t)(c.Get("/admin/accounting/ledger.csv?from=2030-05-01&to=2030-05-31"))
	if strings.Join(rows[0], ",") != "entry_id,date,kind,source,order_id,order_number,memo,reverses_entry,line,account_code,account_name,debit_gbp,credit_gbp,amount_btc,rate_gbp_per_btc" {
		t.Fatalf("header %v", rows[0])
	}
	if len(rows) != 1+4+2+4+2 { // settled: wallet, sales, shipping, fx; postage: two lines
		t.Fatalf("%d rows\n%v", len(rows), rows)
	}
	var debits, credits int64
	for _, r := range rows[1:] {
		if _, err := time.Parse(time.RFC3339, r[1]); err != nil {
			t.Fatalf("date %q: %v", r[1], err)
		}
		d, _ := ports.ParseMinor(r[11], "GBP", 0)
		cr, _ := ports.ParseMinor(r[12], "GBP", 0)
		debits, credits = debits+d, credits+cr
		if r[9] == accounting.AccWallet && (r[13] == "" || r[14] != "50000.00") {
			t.Fatalf("wallet row without its bitcoin: %v", r)
		}
	}
	if debits != credits || debits != 4351+2851+289+289 {
		t.Fatalf("debits %d, credits %d", debits, credits)
	}
	rows = csvRows(t)(c.Get("/admin/accounting/ledger.csv?from=2030-05-01&to=2030-06-30&account=" + accounting.AccPostage))
	if len(rows) != 1+3*2 {
		t.Fatalf("postage export: %d rows", len(rows))
	}
	if resp, _ := c.Get("/admin/accounting/ledger.csv?from=tomorrow"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad export date: %d", resp.StatusCode)
	}
}

func TestAccountingReversal(t *testing.T) {
	env := apptest.Start(t)
	number := ledgerOrder(t, env, time.Date(2030, 8, 1, 9, 0, 0, 0, time.UTC), 1200)
	es, _, err := env.App.Accounting.Entries(context.Background(), accounting.EntryFilter{OrderNumber: number, Account: accounting.AccPostage})
	if err != nil || len(es) != 1 {
		t.Fatalf("entries %+v, %v", es, err)
	}
	entry := fmt.Sprintf("/admin/accounting/entries/%d", es[0].ID)

	// A manager reads the ledger but may not reverse.
	m := roleClient(t, env, "ledger-manager", staff.RoleManager)
	if resp, body := m.Get(entry); resp.StatusCode != http.StatusOK || strings.Contains(body, `id="reverse-form"`) {
		t.Fatalf("manager's entry page: %d, form shown: %v", resp.StatusCode, strings.Contains(body, `id="reverse-form"`))
	}
	if resp, _ := m.Post(entry+"/reverse", url.Values{"reason": {"label voided"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("manager reversed: %d", resp.StatusCode)
	}

	c := roleClient(t, env, "ledger-reverser", staff.RoleAccountant)
	resp, body := c.Get(entry)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="reverse-form"`) || !strings.Contains(body, "5010 Postage expense") {
		t.Fatalf("entry page: %d\n%.2000s", resp.StatusCode, body)
	}
	if resp, body := c.Post(entry+"/reverse", url.Values{"reason": {"   "}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "Say why the entry is reversed") {
		t.Fatalf("no reason: %d\n%.2000s", resp.StatusCode, body)
	}
	resp, body = c.Post(entry+"/reverse", url.Values{"reason": {"label voided at Royal Mail"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reverse: %d\n%.2000s", resp.StatusCode, body)
	}
	revPath := resp.Header.Get("Location")
	_, body = c.Get(revPath)
	if !strings.Contains(body, "label voided at Royal Mail") || !strings.Contains(body, `id="reversed-entry"`) ||
		!strings.Contains(body, "reversed by entry") || strings.Contains(body, `id="reverse-form"`) {
		t.Fatalf("reversal page:\n%.3000s", body)
	}
	if resp, body := c.Post(entry+"/reverse", url.Values{"reason": {"again"}}); resp.StatusCode != http.StatusConflict ||
		!strings.Contains(body, "already reversed") {
		t.Fatalf("second reversal: %d\n%.2000s", resp.StatusCode, body)
	}
	if resp, _ := c.Post("/admin/accounting/entries/999999999/reverse", url.Values{"reason": {"x"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown entry: %d", resp.StatusCode)
	}
	audit := auditRows(t, env, "ledger.reverse", fmt.Sprint(es[0].ID))
	if len(audit) != 1 || audit[0].Actor != "ledger-reverser" || !strings.Contains(audit[0].Detail, "label voided at Royal Mail") {
		t.Fatalf("audit %+v", audit)
	}
	// A memo that a spreadsheet would run as a formula is exported as text.
	if _, _, err := env.App.Accounting.Post(context.Background(), ports.LedgerEvent{ID: "postage:formula", Kind: ports.LedgerPostagePurchased,
		At: time.Now(), OrderNumber: "OD-FORMULA", AmountPence: 100, Memo: "=HYPERLINK(\"http://x\")"}); err != nil {
		t.Fatal(err)
	}
	rows := csvRows(t)(c.Get("/admin/accounting/ledger.csv?order=OD-FORMULA"))
	if len(rows) != 3 || rows[1][6] != `'=HYPERLINK("http://x")` {
		t.Fatalf("formula memo exported as %v", rows)
	}

	// The trial balance still sums to zero.
	_, body = c.Get("/admin/accounting/trial-balance")
	if !strings.Contains(body, "The balances sum to zero") {
		t.Fatalf("trial balance:\n%.3000s", body)
	}
}

// TestAccountingScreens walks the dashboard, unpaid orders and payments received
// with orders placed and paid through the real services, the worker posting the
// payments' ledger entries from the outbox.
func TestAccountingScreens(t *testing.T) {
	env := apptest.Start(t)
	env.RunWorker(t)
	shop := env.NewShop(t, "Books shop")
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorSystem, Name: "test"})
	invoicedOrder := func() *ordering.Order {
		o := shop.Place(t, "tg:"+uuid.NewString()[:8], 2)
		if _, err := env.App.Payments.CreateInvoice(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
		return o
	}
	unpaid := invoicedOrder()
	paid := invoicedOrder()
	if _, err := env.App.Payments.Simulate(ctx, paid.ID, "pay"); err != nil {
		t.Fatal(err)
	}
	// The settlement reaches the ledger through the outbox and the queue.
	deadline := time.Now().Add(15 * time.Second)
	for {
		es, _, err := env.App.Accounting.Entries(ctx, accounting.EntryFilter{OrderNumber: paid.Number})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 1 {
			if es[0].Kind != ports.LedgerPaymentSettled || es[0].Lines[0].Account != accounting.AccWallet || es[0].Lines[0].AmountSats == 0 {
				t.Fatalf("settlement entry %+v", es[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ledger entry for %s after 15 s (%d entries)", paid.Number, len(es))
		}
		time.Sleep(100 * time.Millisecond)
	}

	c := roleClient(t, env, "screens-accountant", staff.RoleAccountant)
	resp, body := c.Get("/admin/accounting")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d\n%.2000s", resp.StatusCode, body)
	}
	for _, want := range []string{`id="stat-pending"`, "Received today", "Average order value", `data-status="pending_payment"`,
		`id="chart-monthly" data-chart="{`, `href="/admin/accounting/ledger"`} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if strings.Contains(body, `href="/admin/catalog/products?low=1"`) {
		t.Error("the dashboard links the accountant to the catalog")
	}
	// The charts' data is in the canvases: the last of 30 days is today, with the payment.
	m := regexp.MustCompile(`id="chart-daily" data-chart="([^"]*)"`).FindStringSubmatch(body)
	var daily struct {
		Labels []string `json:"labels"`
		Values []int64  `json:"values"`
	}
	if m == nil || json.Unmarshal([]byte(html.UnescapeString(m[1])), &daily) != nil {
		t.Fatalf("daily chart data: %v", m)
	}
	if len(daily.Labels) != 30 || len(daily.Values) != 30 || daily.Labels[29] != time.Now().UTC().Format("2006-01-02") {
		t.Fatalf("daily chart %+v", daily)
	}
	if daily.Values[29] < paid.TotalMinor {
		t.Fatalf("today's revenue %d < %d", daily.Values[29], paid.TotalMinor)
	}

	// Unpaid orders: the unpaid one with its invoice, not the paid one.
	_, body = c.Get("/admin/accounting/unpaid")
	if !strings.Contains(body, `data-number="`+unpaid.Number+`"`) || strings.Contains(body, `data-number="`+paid.Number+`"`) ||
		!strings.Contains(body, "data-countdown=") || !strings.Contains(body, "Open invoice") {
		t.Fatalf("unpaid:\n%s", body)
	}
	today := time.Now().UTC().Format("2006-01-02")
	rows := csvRows(t)(c.Get("/admin/accounting/unpaid.csv?from=" + today + "&to=" + today))
	found := false
	for _, r := range rows[1:] {
		found = found || r[1] == unpaid.Number
		if r[1] == paid.Number {
			t.Fatal("the paid order is in the unpaid export")
		}
	}
	if strings.Join(rows[0], ",") != "order_id,order_number,placed_at,total_gbp,invoice_expires_at,invoice_url" || !found {
		t.Fatalf("unpaid export %v", rows)
	}

	// Payments received: the payment with its bitcoin, rate and explorer link.
	_, body = c.Get("/admin/accounting/payments")
	if !strings.Contains(body, paid.Number) || !strings.Contains(body, `href="https://mempool.space/tx/`) || !strings.Contains(body, "On-chain") {
		t.Fatalf("payments:\n%s", body)
	}
	rows = csvRows(t)(c.Get("/admin/accounting/payments.csv?from=" + today + "&to=" + today))
	found = false
	for _, r := range rows[1:] {
		if r[2] == paid.Number {
			found = true
			if r[8] != ports.FormatMinor(paid.TotalMinor, "GBP") || r[6] == "" || !strings.HasPrefix(r[12], "https://mempool.space/tx/") {
				t.Fatalf("payment row %v", r)
			}
		}
	}
	if !found || rows[0][0] != "received_at" {
		t.Fatalf("payments export %v", rows)
	}
	if resp, _ := c.Get("/admin/accounting/payments?after=garbage"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad payments cursor: %d", resp.StatusCode)
	}

	// The trial balance and the month's summary include the payment.
	_, body = c.Get("/admin/accounting/trial-balance")
	if !strings.Contains(body, "The balances sum to zero") {
		t.Fatalf("trial balance:\n%s", body)
	}
	rows = csvRows(t)(c.Get("/admin/accounting/trial-balance.csv"))
	if len(rows) != 1+len(accounting.Chart)+1 || rows[len(rows)-1][6] != rows[len(rows)-1][7] {
		t.Fatalf("trial balance export %v", rows)
	}
	resp, body = c.Get("/admin/accounting/summary?month=" + time.Now().UTC().Format("2006-01"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-print`) || !strings.Contains(body, `id="summary-revenue"`) {
		t.Fatalf("summary: %d\n%.2000s", resp.StatusCode, body)
	}
	if resp, _ := c.Get("/admin/accounting/summary?month=2026-13"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad month: %d", resp.StatusCode)
	}
}

// TestAccountingByRole: the accountant and the manager read the accounting pages;
// support and packers are refused them, and the accountant is refused the catalog.
func TestAccountingByRole(t *testing.T) {
	env := apptest.Start(t)
	for role, want := range map[staff.Role]int{staff.RoleAccountant: 200, staff.RoleManager: 200, staff.RoleAdmin: 200,
		staff.RoleSupport: 403, staff.RolePacker: 403} {
		c := roleClient(t, env, "acc-"+string(role), role)
		for _, p := range []string{"/admin/accounting", "/admin/accounting/ledger", "/admin/accounting/ledger.csv", "/admin/accounting/trial-balance"} {
			if resp, _ := c.Get(p); resp.StatusCode != want {
				t.Errorf("%s %s: %d, want %d", role, p, resp.StatusCode, want)
			}
		}
		_, body := c.Get("/admin/password")
		if menu := strings.Contains(body, `href="/admin/accounting"`); menu != (want == 200) {
			t.Errorf("%s: accounting in the menu = %v", role, menu)
		}
		if role == staff.RoleAccountant {
			if resp, _ := c.Get("/admin/catalog/products"); resp.StatusCode != http.StatusForbidden {
				t.Errorf("accountant on the catalog: %d", resp.StatusCode)
			}
		}
	}
}
