package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/accounting"
	"orderdesk/modules/ordering"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// benchAccounting loads a year of a busy shop (orders, invoices, payments and their
// ledger entries) and measures the accountant's pages through a real server: the
// dashboard, the ledger's first page and one month of it (median of repeated
// requests), and the CSV export of the whole year's ledger (rows per second, with the
// server's peak resident memory during the export).
func benchAccounting(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("accounting", flag.ContinueOnError)
	orders := fs.Int("orders", 100_000, "orders to generate over the last 365 days")
	repeat := fs.Int("repeat", 30, "measured requests per page")
	if err := fs.Parse(args); err != nil {
		return err
	}
	env, err := newBenchEnv(ctx)
	if err != nil {
		return err
	}
	defer env.close()
	now := time.Now().UTC()
	t0 := time.Now()
	counts, err := seedAccounting(ctx, env, *orders, now)
	if err != nil {
		return err
	}
	fmt.Printf("seeded %d orders, %d payments, %d journal entries with %d lines in %s\n",
		*orders, counts.payments, counts.entries, counts.lines, time.Since(t0).Round(time.Second))

	params := staff.PasswordParams{Time: 1, Memory: 8 * 1024, Threads: 1}
	policy, err := staff.NewPolicy()
	if err != nil {
		return err
	}
	staffSvc, err := staff.NewService(postgres.NewStaffStore(env.db), policy, ports.SystemClock, params)
	if err != nil {
		return err
	}
	const user, password = "bench-accountant", "bench accountant password"
	sysCtx := ports.WithActor(ctx, ports.System)
	if _, err := staffSvc.CreateUser(sysCtx, staff.NewUser{Username: user, Role: staff.RoleAccountant, Password: password}, false); err != nil {
		return err
	}
	srv, _, err := env.serve(ctx, "serve", nil)
	if err != nil {
		return err
	}
	defer srv.stop()
	client, err := adminLogin(srv.url, user, password)
	if err != nil {
		return err
	}

	month := accounting.Month(now).AddDate(0, -6, 0)
	pages := []struct{ name, path string }{
		{"dashboard", "/admin/accounting"},
		{"ledger", "/admin/accounting/ledger"},
		{"ledger_month", fmt.Sprintf("/admin/accounting/ledger?from=%s&to=%s", month.Format(time.DateOnly),
			month.AddDate(0, 1, -1).Format(time.DateOnly))},
	}
	medians := map[string]time.Duration{}
	for _, p := range pages {
		var took []time.Duration
		for i := 0; i < *repeat+3; i++ {
			d, err := timedGet(client, srv.url+p.path)
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			if i >= 3 { // the first requests warm the caches
				took = append(took, d)
			}
		}
		slices.Sort(took)
		medians[p.name] = took[len(took)/2]
		fmt.Printf("%s: median %.1f ms, p90 %.1f ms, max %.1f ms over %d requests\n", p.name, ms(took[len(took)/2]),
			ms(took[len(took)*9/10]), ms(took[len(took)-1]), len(took))
	}

	rssBefore := srv.rssMB()
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if mb := int64(srv.rssMB() * 1024); mb > peak.Load() {
				peak.Store(mb)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	year := fmt.Sprintf("/admin/accounting/ledger.csv?from=%s&to=%s", now.AddDate(-1, 0, 0).Format(time.DateOnly), now.Format(time.DateOnly))
	start := time.Now()
	rows, err := countCSVRows(client, srv.url+year)
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	if rows != counts.lines {
		return fmt.Errorf("csv: %d rows, want %d (one per journal line)", rows, counts.lines)
	}
	rate := float64(rows) / elapsed.Seconds()
	fmt.Printf("csv: %d rows in %.2f s; server RSS %.0f MB before, %.0f MB at most during the export\n",
		rows, elapsed.Seconds(), rssBefore, float64(peak.Load())/1024)
	fmt.Printf("accounting: dashboard=%.1f ledger=%.1f ledger_month=%.1f csv=%.0f rss=%.0f\n",
		ms(medians["dashboard"]), ms(medians["ledger"]), ms(medians["ledger_month"]), rate, float64(peak.Load())/1024)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

// adminLogin logs in to the admin at base and returns a client with the session.
func adminLogin(base, user, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := c.Get(base + "/admin/login")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfMeta.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("login page without a CSRF token")
	}
	resp, err = c.PostForm(base+"/admin/login", url.Values{"username": {user}, "password": {password}, "_csrf": {string(m[1])}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("login: status %d", resp.StatusCode)
	}
	return c, nil
}

// timedGet fetches a page whole and returns how long it took.
func timedGet(c *http.Client, u string) (time.Duration, error) {
	start := time.Now()
	resp, err := c.Get(u)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return d, nil
}

// countCSVRows downloads a CSV export and counts its records after the header. The
// exports quote no newline (memos are one line), so a record is a line.
func countCSVRows(c *http.Client, u string) (int, error) {
	resp, err := c.Get(u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := -1
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

type seedCounts struct {
	payments, entries, lines int
}

// seedAccounting writes n orders placed evenly over the year before now, with their
// invoices, payments and ledger entries, by COPY in batches. Orders of the last hour
// wait for payment; of the others most are paid (then shipped with postage bought,
// some cancelled and refunded), a few expired, cancelled unpaid or on hold. The ledger
// entries are made by the module's own mapping of the ledger events.
func seedAccounting(ctx context.Context, env *benchEnv, n int, now time.Time) (seedCounts, error) {
	var counts seedCounts
	method, err := env.shippingMethod(ctx, ordering.ShippingMethodInput{Name: "Tracked 48", ServiceCode: "TPS48",
		PackageFormat: "smallParcel", Price: "3.50", MaxWeight: "2000", Active: true})
	if err != nil {
		return counts, err
	}
	pool, err := pgxpool.New(ctx, env.dbURL)
	if err != nil {
		return counts, err
	}
	defer pool.Close()
	r := rand.New(rand.NewPCG(7, 7))
	appID := uuid.New()
	start := now.AddDate(-1, 0, 0)
	step := now.Sub(start) / time.Duration(n)
	const batch = 5000
	var entryID int64
	for first := 0; first < n; first += batch {
		var orders, invoices, pays, entries, lines [][]any
		for i := first; i < min(first+batch, n); i++ {
			id := uuid.New()
			number := fmt.Sprintf("OD-%d", 100001+i)
			created := start.Add(time.Duration(i) * step)
			subtotal := 500 + r.Int64N(9_500)
			const shipping = 350
			total := subtotal + shipping
			rate := 4_000_000 + r.Int64N(2_000_000)
			sats := total * 100_000_000 / rate
			received := sats * rate / 100_000_000 // what the sats are worth: a penny short at times
			status := ordering.StatusDelivered
			var events []ports.LedgerEvent
			paid := false
			switch p := r.IntN(100); {
			case now.Sub(created) < time.Hour:
				status = ordering.StatusPendingPayment
			case p < 3:
				status = ordering.StatusExpired
			case p < 4:
				status = ordering.StatusCancelled
			case p < 5:
				status = ordering.StatusOnHold
			default:
				paid = true
				switch age := now.Sub(created); {
				case p < 7 && age > 72*time.Hour:
					status = ordering.StatusRefunded
				case age < 24*time.Hour:
					status = ordering.StatusProcessing
				case age < 72*time.Hour:
					status = ordering.StatusShipped
				}
			}
			settledAt := created.Add(10 * time.Minute)
			base := ports.LedgerEvent{OrderID: id.String(), OrderNumber: number, SubtotalPence: subtotal, ShippingPence: shipping, TotalPence: total}
			event := func(kind, key string, at time.Time, f func(*ports.LedgerEvent)) {
				e := base
				e.ID, e.Kind, e.At = key+":"+id.String(), kind, at
				f(&e)
				events = append(events, e)
			}
			invStatus, invoiceID := "pending", "inv-"+number
			var settled any
			if paid {
				invStatus, settled = "paid", settledAt
				event(ports.LedgerPaymentSettled, "settled", settledAt, func(e *ports.LedgerEvent) {
					e.ReceivedPence, e.AmountSats, e.RatePence = received, sats, rate
				})
				txid := make([]byte, 32)
				for k := range txid {
					txid[k] = byte(r.Uint32())
				}
				pays = append(pays, []any{invoiceID, hex.EncodeToString(txid) + "-0", id, number, "BTC-CHAIN", hex.EncodeToString(txid),
					sats, rate, received, "settled", settledAt.Add(-5 * time.Minute), settledAt})
				switch status {
				case ordering.StatusRefunded:
					invStatus = "refunded"
					event(ports.LedgerPaidOrderCancelled, "cancelled", settledAt.Add(2*time.Hour), func(*ports.LedgerEvent) {})
					event(ports.LedgerRefund, "refund", settledAt.Add(26*time.Hour), func(e *ports.LedgerEvent) {
						e.AmountPence, e.RatePence = total, rate
					})
				case ordering.StatusShipped, ordering.StatusDelivered:
					event(ports.LedgerPostagePurchased, "postage", created.Add(20*time.Hour), func(e *ports.LedgerEvent) {
						e.AmountPence = 150 + r.Int64N(300)
					})
				}
			} else if status == ordering.StatusExpired || status == ordering.StatusCancelled {
				invStatus = "expired"
			} else if status == ordering.StatusOnHold {
				invStatus = "partially_paid"
			}
			orders = append(orders, []any{id, number, appID, "tg:" + number, string(status), method.ID, method.Name, method.ServiceCode,
				method.PackageFormat, subtotal, int64(shipping), total, 500, []byte{0}, created, created})
			invoices = append(invoices, []any{id, number, "sandbox", invoiceID, invStatus, total, subtotal, int64(shipping),
				created.Add(time.Hour), "https://pay.example/i/" + invoiceID, rate, settled, created, created})
			var owed accounting.Owed
			for _, e := range events {
				ls, err := accounting.Lines(e, owed)
				if err != nil {
					return counts, err
				}
				entryID++
				entries = append(entries, []any{entryID, e.ID, e.Kind, e.At, e.At, id, number, "", "system"})
				for _, l := range ls {
					lines = append(lines, []any{entryID, int16(l.LineNo), l.Account, l.DebitPence, l.CreditPence, l.AmountSats, l.RatePence})
				}
				owed.Add(ls)
			}
		}
		counts.payments += len(pays)
		counts.entries += len(entries)
		counts.lines += len(lines)
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			for _, c := range []struct {
				table string
				cols  []string
				rows  [][]any
			}{
				{"ordering.orders", []string{"id", "number", "app_id", "identity_ref", "status", "shipping_method_id", "shipping_name",
					"shipping_service_code", "package_format", "subtotal_minor", "shipping_minor", "total_minor", "weight_grams",
					"address_sealed", "created_at", "updated_at"}, orders},
				{"payments.invoices", []string{"order_id", "order_number", "provider", "invoice_id", "status", "amount_minor",
					"subtotal_minor", "shipping_minor", "expires_at", "checkout_link", "rate_pence", "settled_at", "created_at", "updated_at"}, invoices},
				{"payments.payments", []string{"invoice_id", "payment_id", "order_id", "order_number", "method", "txid", "amount_sats",
					"rate_pence", "value_minor", "status", "received_at", "confirmed_at"}, pays},
				{"accounting.journal_entries", []string{"id", "source", "kind", "occurred_at", "posted_at", "order_id", "order_number",
					"memo", "posted_by"}, entries},
				{"accounting.journal_lines", []string{"entry_id", "line_no", "account", "debit_pence", "credit_pence", "amount_sats",
					"rate_pence"}, lines},
			} {
				schema, table, _ := strings.Cut(c.table, ".")
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{schema, table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
					return fmt.Errorf("copy %s: %w", c.table, err)
				}
			}
			return nil
		})
		if err != nil {
			return counts, fmt.Errorf("seed: %w", err)
		}
	}
	for _, q := range []string{
		`SELECT setval(pg_get_serial_sequence('accounting.journal_entries', 'id'), (SELECT max(id) FROM accounting.journal_entries))`,
		`VACUUM ANALYZE`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return counts, fmt.Errorf("seed: %w", err)
		}
	}
	return counts, nil
}
