package admin

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"orderdesk/modules/accounting"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// The accountant's pages: dashboard, unpaid orders, payments received, the ledger with
// its entries, the trial balance and the monthly summary, and their CSV exports.
func (h *Handler) registerAccounting(g fiber.Router) {
	if h.d.Accounting == nil {
		return
	}
	h.menu("Accounting", "/admin/accounting", staff.ObjAccounting)
	read := func(path string, fn fiber.Handler) {
		h.route(g, "GET", "/accounting"+path, staff.ObjAccounting, staff.ActRead, fn)
	}
	read("", h.accountingDashboard)
	read("/unpaid", h.unpaidOrders)
	read("/unpaid.csv", h.unpaidCSV)
	read("/payments", h.paymentsReceived)
	read("/payments.csv", h.paymentsCSV)
	read("/ledger", h.ledger)
	read("/ledger.csv", h.ledgerCSV)
	read("/entries/:id", h.ledgerEntry)
	h.route(g, "POST", "/accounting/entries/:id/reverse", staff.ObjAccounting, staff.ActWrite, h.reverseEntry)
	read("/trial-balance", h.trialBalance)
	read("/trial-balance.csv", h.trialBalanceCSV)
	read("/summary", h.monthSummary)
}

// accountingTab is one tab of the accounting section.
type accountingTab struct {
	Label, Href string
	Active      bool
}

func accountingTabs(active string) []accountingTab {
	tabs := []accountingTab{{"Dashboard", "/admin/accounting", false}, {"Unpaid orders", "/admin/accounting/unpaid", false},
		{"Payments received", "/admin/accounting/payments", false}, {"Ledger", "/admin/accounting/ledger", false},
		{"Trial balance", "/admin/accounting/trial-balance", false}, {"Monthly summary", "/admin/accounting/summary", false}}
	for i := range tabs {
		tabs[i].Active = tabs[i].Href == active
	}
	return tabs
}

// pounds writes pence as "£1,234.50" or "−£12.50".
func pounds(pence int64) string {
	sign := ""
	if pence < 0 {
		sign, pence = "−", -pence
	}
	s := ports.FormatMinor(pence, "GBP")
	whole, frac, _ := strings.Cut(s, ".")
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return sign + "£" + whole + "." + frac
}

// btc writes satoshis as bitcoin with eight decimals, "" for none.
func btc(sats int64) string {
	if sats == 0 {
		return ""
	}
	return ports.FormatMinor(sats, "BTC")
}

// age writes a duration as staff read it: "3 min", "2 h 5 min", "4 d 3 h".
func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	m := int(d.Minutes())
	switch {
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m < 24*60:
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
	return fmt.Sprintf("%d d %d h", m/(24*60), m%(24*60)/60)
}

// rangeName names an export file after its dates.
func rangeName(base string, q url.Values) string {
	name := base
	if f := q.Get("from"); f != "" {
		name += "-from-" + f
	}
	if t := q.Get("to"); t != "" {
		name += "-to-" + t
	}
	return name + ".csv"
}

// streamCSV answers with a CSV file written as its rows come: rows calls write for
// each record, reading them from the database as it goes, so that memory stays flat
// however long the file. An error once the first bytes are sent is logged and breaks
// the response off (no final chunk), so that a client cannot take a cut file for a
// whole one.
func (h *Handler) streamCSV(c *fiber.Ctx, name string, header []string, rows func(ctx context.Context, write func([]string) error) error) error {
	ctx := c.UserContext()
	log := ports.Logger(ctx)
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	pr, pw := io.Pipe()
	go func() {
		n := 0
		var err error
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
			if err != nil {
				log.Error("csv export stopped", "file", name, "rows", n, "err", err)
			}
			pw.CloseWithError(err) // nil ends the body normally
		}()
		bw := bufio.NewWriterSize(pw, 64<<10)
		cw := csv.NewWriter(bw)
		if err = cw.Write(header); err != nil {
			return
		}
		err = rows(ctx, func(rec []string) error {
			n++
			return cw.Write(rec)
		})
		if err == nil {
			cw.Flush()
			if err = cw.Error(); err == nil {
				err = bw.Flush()
			}
		}
	}()
	// fasthttp reads the pipe as it writes the response, and closes it when the
	// client goes away, which stops the writer above.
	c.Context().SetBodyStream(pr, -1)
	return nil
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// plainText keeps typed text from being read as a formula by a spreadsheet that opens
// the CSV: text starting with = + - @ or a control character gets a leading quote.
func plainText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ---- dashboard

type accountingDashboardData struct {
	Tabs []accountingTab
	*accounting.Dashboard
	CanSeeCatalog bool
	CanSeeOrders  bool
}

// Pounds formats pence for the templates.
func (accountingDashboardData) Pounds(p int64) string { return pounds(p) }

// Label writes a status as words.
func (accountingDashboardData) Label(s string) string { return strings.ReplaceAll(s, "_", " ") }

func (h *Handler) accountingDashboard(c *fiber.Ctx) error {
	d, err := h.d.Accounting.Dashboard(c.UserContext())
	if err != nil {
		return err
	}
	p := principal(c)
	return h.page(c, fiber.StatusOK, "accounting/dashboard", "Accounting", accountingDashboardData{
		Tabs: accountingTabs("/admin/accounting"), Dashboard: d,
		CanSeeCatalog: h.d.Staff.Can(p, staff.ObjCatalog, staff.ActRead), CanSeeOrders: h.d.Staff.Can(p, staff.ObjOrders, staff.ActRead),
	}, nil)
}

// chartSeries is the data of one chart, which the page hands to the chart script in
// a data attribute: labels, and values in pence (or counts).
type chartSeries struct {
	Labels []string `json:"labels"`
	Values []int64  `json:"values"`
}

func chartJSON(c chartSeries) string {
	b, _ := json.Marshal(c)
	return string(b)
}

// DailyChart is the revenue of each of the last 30 days.
func (d accountingDashboardData) DailyChart() string {
	var c chartSeries
	for _, p := range d.Daily {
		c.Labels = append(c.Labels, p.Start.Format(dateLayout))
		c.Values = append(c.Values, p.Pence)
	}
	return chartJSON(c)
}

// MonthlyChart is the revenue of each of the last 12 months.
func (d accountingDashboardData) MonthlyChart() string {
	var c chartSeries
	for _, p := range d.Monthly {
		c.Labels = append(c.Labels, p.Start.Format("Jan 2006"))
		c.Values = append(c.Values, p.Pence)
	}
	return chartJSON(c)
}

// StatusChart is the number of orders in each status.
func (d accountingDashboardData) StatusChart() string {
	var c chartSeries
	for _, s := range d.ByStatus {
		c.Labels = append(c.Labels, strings.ReplaceAll(s.Status, "_", " "))
		c.Values = append(c.Values, int64(s.Count))
	}
	return chartJSON(c)
}

// ---- unpaid orders

type unpaidRow struct {
	accounting.Order
	Age       string
	ExpiresIn string
	Expired   bool
}

// ExpiresISO is the invoice's expiry for the countdown script.
func (r unpaidRow) ExpiresISO() string {
	if r.ExpiresAt == nil {
		return ""
	}
	return isoTime(*r.ExpiresAt)
}

type unpaidData struct {
	Tabs      []accountingTab
	Rows      []unpaidRow
	NextURL   string
	ExportURL string
}

func (h *Handler) unpaidOrders(c *fiber.Ctx) error {
	fm := emptyForm()
	q := url.Values{}
	from, to := dateFilter(c, fm, q)
	d := unpaidData{Tabs: accountingTabs("/admin/accounting/unpaid"), ExportURL: "/admin/accounting/unpaid.csv?" + q.Encode()}
	if len(fm.Errors) > 0 {
		return h.page(c, fiber.StatusUnprocessableEntity, "accounting/unpaid", "Unpaid orders", d, fm)
	}
	os, next, err := h.d.Accounting.Unpaid(c.UserContext(), accounting.UnpaidFilter{From: from, To: to, After: c.Query("after"), Limit: 50})
	if err != nil {
		return err
	}
	now := time.Now()
	for _, o := range os {
		r := unpaidRow{Order: o, Age: age(now.Sub(o.CreatedAt))}
		if o.ExpiresAt != nil {
			r.Expired = !o.ExpiresAt.After(now)
			r.ExpiresIn = age(o.ExpiresAt.Sub(now))
		}
		d.Rows = append(d.Rows, r)
	}
	if next != "" {
		d.NextURL = "/admin/accounting/unpaid?" + withParam(q, "after", next)
	}
	return h.page(c, fiber.StatusOK, "accounting/unpaid", "Unpaid orders", d, fm)
}

// exportDates reads the dates of a CSV export: wrong ones are EINVALID.
func exportDates(c *fiber.Ctx) (from, to time.Time, q url.Values, err error) {
	fm, q := emptyForm(), url.Values{}
	from, to = dateFilter(c, fm, q)
	if len(fm.Errors) > 0 {
		return from, to, q, ports.Invalid(ports.Field("from", fm.Message))
	}
	return from, to, q, nil
}

func (h *Handler) unpaidCSV(c *fiber.Ctx) error {
	from, to, q, err := exportDates(c)
	if err != nil {
		return err
	}
	return h.streamCSV(c, rangeName("unpaid-orders", q),
		[]string{"order_id", "order_number", "placed_at", "total_gbp", "invoice_expires_at", "invoice_url"},
		func(ctx context.Context, write func([]string) error) error {
			return h.d.Accounting.StreamUnpaid(ctx, from, to, func(o accounting.Order) error {
				expires := ""
				if o.ExpiresAt != nil {
					expires = isoTime(*o.ExpiresAt)
				}
				return write([]string{o.ID.String(), o.Number, isoTime(o.CreatedAt), ports.FormatMinor(o.TotalPence, "GBP"), expires, o.InvoiceURL})
			})
		})
}

// ---- payments received

type paymentRow struct {
	accounting.Payment
	ExplorerURL string
}

// BTC is the amount in bitcoin.
func (p paymentRow) BTC() string { return btc(p.AmountSats) }

// Rate is the rate in pounds per bitcoin.
func (p paymentRow) Rate() string { return pounds(p.RatePence) }

// Value is the GBP value.
func (p paymentRow) Value() string { return pounds(p.ValuePence) }

// MethodName is the method in words.
func (p paymentRow) MethodName() string {
	switch p.Method {
	case accounting.MethodOnChain:
		return "On-chain"
	case accounting.MethodLightning:
		return "Lightning"
	}
	return p.Method
}

type paymentsData struct {
	Tabs      []accountingTab
	Rows      []paymentRow
	NextURL   string
	ExportURL string
}

// explorerTemplate is the block explorer's URL template from the settings.
func (h *Handler) explorerTemplate(ctx context.Context) (string, error) {
	if h.d.ExplorerTxURL == nil {
		return accounting.DefaultExplorerTxURL, nil
	}
	return h.d.ExplorerTxURL(ctx)
}

func (h *Handler) paymentsReceived(c *fiber.Ctx) error {
	fm := emptyForm()
	q := url.Values{}
	from, to := dateFilter(c, fm, q)
	d := paymentsData{Tabs: accountingTabs("/admin/accounting/payments"), ExportURL: "/admin/accounting/payments.csv?" + q.Encode()}
	if len(fm.Errors) > 0 {
		return h.page(c, fiber.StatusUnprocessableEntity, "accounting/payments", "Payments received", d, fm)
	}
	ctx := c.UserContext()
	ps, next, err := h.d.Accounting.Received(ctx, accounting.ReceivedFilter{From: from, To: to, After: c.Query("after"), Limit: 50})
	if err != nil {
		return err
	}
	tmpl, err := h.explorerTemplate(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		d.Rows = append(d.Rows, paymentRow{Payment: p, ExplorerURL: accounting.ExplorerURL(tmpl, p)})
	}
	if next != "" {
		d.NextURL = "/admin/accounting/payments?" + withParam(q, "after", next)
	}
	return h.page(c, fiber.StatusOK, "accounting/payments", "Payments received", d, fm)
}

func (h *Handler) paymentsCSV(c *fiber.Ctx) error {
	from, to, q, err := exportDates(c)
	if err != nil {
		return err
	}
	tmpl, err := h.explorerTemplate(c.UserContext())
	if err != nil {
		return err
	}
	return h.streamCSV(c, rangeName("payments-received", q),
		[]string{"received_at", "order_id", "order_number", "invoice_id", "payment_id", "method", "amount_btc", "rate_gbp_per_btc",
			"value_gbp", "status", "confirmed_at", "txid", "explorer_url"},
		func(ctx context.Context, write func([]string) error) error {
			return h.d.Accounting.StreamReceived(ctx, from, to, func(p accounting.Payment) error {
				confirmed := ""
				if p.ConfirmedAt != nil {
					confirmed = isoTime(*p.ConfirmedAt)
				}
				return write([]string{isoTime(p.ReceivedAt), p.OrderID.String(), p.OrderNumber, p.InvoiceID, p.ID, p.Method,
					ports.FormatMinor(p.AmountSats, "BTC"), ports.FormatMinor(p.RatePence, "GBP"), ports.FormatMinor(p.ValuePence, "GBP"),
					p.Status, confirmed, p.TxID, accounting.ExplorerURL(tmpl, p)})
			})
		})
}

// ---- the ledger

type entryView struct {
	accounting.Entry
}

// KindLabel is the entry's kind in words.
func (e entryView) KindLabel() string { return strings.ReplaceAll(e.Kind, "_", " ") }

// LineViews are the entry's lines for display.
func (e entryView) LineViews() []lineView {
	out := make([]lineView, len(e.Lines))
	for i, l := range e.Lines {
		out[i] = lineView{l}
	}
	return out
}

type lineView struct{ accounting.Line }

// AccountName is the line's account name.
func (l lineView) AccountName() string { return accounting.AccountName(l.Account) }

// Debit is the debit in pounds, "" for none.
func (l lineView) Debit() string {
	if l.DebitPence == 0 {
		return ""
	}
	return pounds(l.DebitPence)
}

// Credit is the credit in pounds, "" for none.
func (l lineView) Credit() string {
	if l.CreditPence == 0 {
		return ""
	}
	return pounds(l.CreditPence)
}

// BTC is the bitcoin amount, "" for none.
func (l lineView) BTC() string { return btc(l.AmountSats) }

// Rate is the rate in pounds per bitcoin, "" for none.
func (l lineView) Rate() string {
	if l.RatePence == 0 {
		return ""
	}
	return pounds(l.RatePence)
}

type ledgerData struct {
	Tabs      []accountingTab
	Accounts  []accounting.Account
	Entries   []entryView
	NextURL   string
	ExportURL string
	Filtered  bool
}

// ledgerFilter reads the ledger's filters from the query.
func ledgerFilter(c *fiber.Ctx) (accounting.EntryFilter, url.Values, *form) {
	fm := emptyForm()
	q := url.Values{}
	f := accounting.EntryFilter{Limit: 50}
	f.From, f.To = dateFilter(c, fm, q)
	if a := strings.TrimSpace(c.Query("account")); a != "" {
		fm.Values["account"] = a
		if _, ok := accounting.AccountByCode(a); ok {
			f.Account = a
			q.Set("account", a)
		} else {
			fm.Errors["account"] = "Choose an account from the list."
			fm.Message = "Please correct the filters."
		}
	}
	if o := strings.TrimSpace(c.Query("order")); o != "" {
		f.OrderNumber = clip(o, 64)
		fm.Values["order"] = f.OrderNumber
		q.Set("order", f.OrderNumber)
	}
	if n, err := strconv.Atoi(c.Query("limit")); err == nil && n > 0 && n <= 200 {
		f.Limit = n
		q.Set("limit", c.Query("limit"))
	}
	return f, q, fm
}

func parseEntryCursor(s string) *accounting.EntryCursor {
	ts, id, ok := strings.Cut(s, "~")
	if !ok {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err != nil || err2 != nil {
		return nil
	}
	return &accounting.EntryCursor{OccurredAt: t, ID: n}
}

func (h *Handler) ledger(c *fiber.Ctx) error {
	f, q, fm := ledgerFilter(c)
	d := ledgerData{Tabs: accountingTabs("/admin/accounting/ledger"), Accounts: accounting.Chart,
		ExportURL: "/admin/accounting/ledger.csv?" + q.Encode(), Filtered: len(q) > 0}
	if len(fm.Errors) > 0 {
		return h.page(c, fiber.StatusUnprocessableEntity, "accounting/ledger", "Ledger", d, fm)
	}
	if a := c.Query("after"); a != "" {
		if f.After = parseEntryCursor(a); f.After == nil {
			return fiber.NewError(fiber.StatusUnprocessableEntity, "This page link is not valid any more: start from the first page.")
		}
	}
	es, next, err := h.d.Accounting.Entries(c.UserContext(), f)
	if err != nil {
		if !fm.fail(err) {
			return err
		}
		return h.page(c, fiber.StatusUnprocessableEntity, "accounting/ledger", "Ledger", d, fm)
	}
	for _, e := range es {
		d.Entries = append(d.Entries, entryView{e})
	}
	if next != nil {
		d.NextURL = "/admin/accounting/ledger?" + withParam(q, "after", next.OccurredAt.UTC().Format(time.RFC3339Nano)+"~"+strconv.FormatInt(next.ID, 10))
	}
	return h.page(c, fiber.StatusOK, "accounting/ledger", "Ledger", d, fm)
}

func (h *Handler) ledgerCSV(c *fiber.Ctx) error {
	f, q, fm := ledgerFilter(c)
	if len(fm.Errors) > 0 {
		return &ports.Error{Code: ports.EINVALID, Message: fm.Message}
	}
	name := "ledger"
	if f.Account != "" {
		name += "-" + f.Account
	}
	return h.streamCSV(c, rangeName(name, q),
		[]string{"entry_id", "date", "kind", "source", "order_id", "order_number", "memo", "reverses_entry", "line", "account_code",
			"account_name", "debit_gbp", "credit_gbp", "amount_btc", "rate_gbp_per_btc"},
		func(ctx context.Context, write func([]string) error) error {
			rec := make([]string, 15)
			return h.d.Accounting.StreamLedger(ctx, f, func(r accounting.LedgerRow) error {
				orderID, reverses := "", ""
				if r.OrderID != nil {
					orderID = r.OrderID.String()
				}
				if r.Reverses != nil {
					reverses = strconv.FormatInt(*r.Reverses, 10)
				}
				rec[0], rec[1], rec[2], rec[3] = strconv.FormatInt(r.EntryID, 10), isoTime(r.OccurredAt), r.Kind, r.Source
				rec[4], rec[5], rec[6], rec[7] = orderID, r.OrderNumber, plainText(r.Memo), reverses
				rec[8], rec[9], rec[10] = strconv.Itoa(r.LineNo), r.Account, accounting.AccountName(r.Account)
				rec[11], rec[12] = ports.FormatMinor(r.DebitPence, "GBP"), ports.FormatMinor(r.CreditPence, "GBP")
				rec[13], rec[14] = "", ""
				if r.AmountSats != 0 {
					rec[13], rec[14] = ports.FormatMinor(r.AmountSats, "BTC"), ports.FormatMinor(r.RatePence, "GBP")
				}
				return write(rec)
			})
		})
}

type entryData struct {
	Tabs       []accountingTab
	Entry      entryView
	Total      string
	CanReverse bool
	Reverse    *form
}

func (h *Handler) entryPage(c *fiber.Ctx, status int, e *accounting.Entry, f *form) error {
	if f == nil {
		f = emptyForm()
	}
	d := entryData{Tabs: accountingTabs("/admin/accounting/ledger"), Entry: entryView{*e}, Total: pounds(e.Total()), Reverse: f,
		CanReverse: h.d.Staff.Can(principal(c), staff.ObjAccounting, staff.ActWrite) && e.Kind != accounting.KindReversal && e.ReversedBy == nil}
	return h.page(c, status, "accounting/entry", fmt.Sprintf("Journal entry %d", e.ID), d, f)
}

func entryID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.NewError(fiber.StatusNotFound, "No such journal entry.")
	}
	return id, nil
}

func (h *Handler) ledgerEntry(c *fiber.Ctx) error {
	id, err := entryID(c)
	if err != nil {
		return err
	}
	e, err := h.d.Accounting.Entry(c.UserContext(), id)
	if err != nil {
		return err
	}
	return h.entryPage(c, fiber.StatusOK, e, nil)
}

func (h *Handler) reverseEntry(c *fiber.Ctx) error {
	id, err := entryID(c)
	if err != nil {
		return err
	}
	f := newForm(c, "reason")
	rev, err := h.d.Accounting.Reverse(c.UserContext(), id, f.Get("reason"))
	if err != nil {
		if !f.fail(err) || ports.ErrorCodeOf(err) == ports.ENOTFOUND {
			return err
		}
		e, lerr := h.d.Accounting.Entry(c.UserContext(), id)
		if lerr != nil {
			return lerr
		}
		status := fiber.StatusUnprocessableEntity
		if ports.ErrorCodeOf(err) == ports.ECONFLICT {
			status = fiber.StatusConflict
		}
		return h.entryPage(c, status, e, f)
	}
	h.flash(c, "ok", fmt.Sprintf("Entry %d reversed by entry %d.", id, rev.ID))
	return h.redirect(c, fmt.Sprintf("/admin/accounting/entries/%d", rev.ID))
}

// ---- trial balance and monthly summary

type trialData struct {
	Tabs      []accountingTab
	TB        *accounting.TrialBalance
	AsOf      string
	ExportURL string
}

// Pounds formats pence for the templates.
func (trialData) Pounds(p int64) string { return pounds(p) }

// trialTo reads the trial balance's date ("balances at the end of" a day).
func trialTo(c *fiber.Ctx, fm *form) time.Time {
	s := strings.TrimSpace(c.Query("to"))
	if s == "" {
		return time.Time{}
	}
	fm.Values["to"] = s
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		fm.Errors["to"] = "Use a date like 2026-01-31."
		fm.Message = "Please correct the date."
		return time.Time{}
	}
	return t.AddDate(0, 0, 1)
}

func (h *Handler) trialBalance(c *fiber.Ctx) error {
	fm := emptyForm()
	to := trialTo(c, fm)
	d := trialData{Tabs: accountingTabs("/admin/accounting/trial-balance"), ExportURL: "/admin/accounting/trial-balance.csv"}
	if len(fm.Errors) > 0 {
		return h.page(c, fiber.StatusUnprocessableEntity, "accounting/trial", "Trial balance", d, fm)
	}
	tb, err := h.d.Accounting.TrialBalance(c.UserContext(), to)
	if err != nil {
		return err
	}
	d.TB, d.AsOf = tb, tb.To.AddDate(0, 0, -1).Format(dateLayout)
	d.ExportURL += "?to=" + d.AsOf
	return h.page(c, fiber.StatusOK, "accounting/trial", "Trial balance", d, fm)
}

func (h *Handler) trialBalanceCSV(c *fiber.Ctx) error {
	fm := emptyForm()
	to := trialTo(c, fm)
	if len(fm.Errors) > 0 {
		return ports.Invalid(ports.Field("to", fm.Message))
	}
	tb, err := h.d.Accounting.TrialBalance(c.UserContext(), to)
	if err != nil {
		return err
	}
	asOf := tb.To.AddDate(0, 0, -1).Format(dateLayout)
	return h.streamCSV(c, "trial-balance-"+asOf+".csv",
		[]string{"as_of", "account_code", "account_name", "type", "debits_gbp", "credits_gbp", "debit_balance_gbp", "credit_balance_gbp"},
		func(_ context.Context, write func([]string) error) error {
			for _, r := range tb.Rows {
				if err := write([]string{asOf, r.Account.Code, r.Account.Name, string(r.Account.Type), ports.FormatMinor(r.DebitPence, "GBP"),
					ports.FormatMinor(r.CreditPence, "GBP"), ports.FormatMinor(r.DebitBalance(), "GBP"), ports.FormatMinor(r.CreditBalance(), "GBP")}); err != nil {
					return err
				}
			}
			return write([]string{asOf, "", "Total", "", ports.FormatMinor(tb.DebitPence, "GBP"), ports.FormatMinor(tb.CreditPence, "GBP"),
				ports.FormatMinor(tb.DebitBalances, "GBP"), ports.FormatMinor(tb.CreditBalances, "GBP")})
		})
}

type summaryData struct {
	Tabs  []accountingTab
	S     *accounting.MonthSummary
	Month string
	Prev  string
	Next  string
	Last  string // the month's last day
}

// Pounds formats pence for the templates.
func (summaryData) Pounds(p int64) string { return pounds(p) }

func (h *Handler) monthSummary(c *fiber.Ctx) error {
	fm := emptyForm()
	month := accounting.Month(time.Now())
	if s := strings.TrimSpace(c.Query("month")); s != "" {
		fm.Values["month"] = s
		m, err := accounting.ParseMonth("month", s)
		if err != nil {
			fm.fail(err)
			return h.page(c, fiber.StatusUnprocessableEntity, "accounting/summary", "Monthly summary",
				summaryData{Tabs: accountingTabs("/admin/accounting/summary")}, fm)
		}
		month = m
	}
	s, err := h.d.Accounting.MonthSummary(c.UserContext(), month)
	if err != nil {
		return err
	}
	d := summaryData{Tabs: accountingTabs("/admin/accounting/summary"), S: s, Month: s.Month.Format("2006-01"),
		Prev: s.Month.AddDate(0, -1, 0).Format("2006-01"), Next: s.Next.Format("2006-01"), Last: s.Next.AddDate(0, 0, -1).Format(dateLayout)}
	fm.Values["month"] = d.Month
	return h.page(c, fiber.StatusOK, "accounting/summary", "Summary of "+s.Month.Format("January 2006"), d, fm)
}
