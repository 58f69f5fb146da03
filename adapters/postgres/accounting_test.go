package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/accounting"
	"orderdesk/modules/accounting/accountingtest"
	"orderdesk/ports"
)

// noPayments is a payments module that has received nothing.
type noPayments struct{}

func (noPayments) Received(context.Context, accounting.ReceivedFilter) ([]accounting.Payment, string, error) {
	return nil, "", nil
}
func (noPayments) StreamReceived(context.Context, time.Time, time.Time, func(accounting.Payment) error) error {
	return nil
}
func (noPayments) ReceivedTotals(context.Context, time.Time, time.Time) (int, int64, error) {
	return 0, 0, nil
}

func ledgerService(clock ports.Clock) *accounting.Service {
	return accounting.NewService(postgres.NewAccountingStore(testDB), clock, accounting.Sources{})
}

func TestAccountingChartMatchesMigration(t *testing.T) {
	got, err := postgres.NewAccountingStore(testDB).Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, accounting.Chart) {
		t.Fatalf("accounting.accounts\n%+v\nChart\n%+v", got, accounting.Chart)
	}
}

// TestAccountingLedgerProperties checks the ledger's invariants against PostgreSQL:
// the triggers, the daily totals and the store's queries.
func TestAccountingLedgerProperties(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			accountingtest.CheckLedgerProperties(t, ledgerService(time.Now), seed, fmt.Sprintf("pg%d-%s", seed, uuid.NewString()[:6]), 80)
		})
	}
}

// execTx runs stmts in one transaction and returns the error of the first that fails
// or of the commit.
func execTx(t *testing.T, stmts ...string) error {
	t.Helper()
	ctx := context.Background()
	tx, err := testDB.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

func TestAccountingDatabaseRefusesUnbalancedEntries(t *testing.T) {
	src := "unbalanced-" + uuid.NewString()
	entry := func(suffix string) string {
		return fmt.Sprintf(`INSERT INTO accounting.journal_entries (id, source, kind, occurred_at)
			VALUES (nextval(pg_get_serial_sequence('accounting.journal_entries', 'id')), '%s%s', 'postage_purchased', now())`, src, suffix)
	}
	line := func(suffix string, no int, account string, debit, credit int64) string {
		return fmt.Sprintf(`INSERT INTO accounting.journal_lines (entry_id, line_no, account, debit_pence, credit_pence)
			SELECT id, %d, '%s', %d, %d FROM accounting.journal_entries WHERE source = '%s%s'`, no, account, debit, credit, src, suffix)
	}
	cases := []struct {
		name  string
		stmts []string
	}{
		{"debits exceed credits", []string{entry("a"), line("a", 1, accounting.AccPostage, 385, 0), line("a", 2, accounting.AccPostagePayable, 0, 384)}},
		{"one line", []string{entry("b"), line("b", 1, accounting.AccPostage, 385, 0)}},
		{"no lines", []string{entry("c")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := execTx(t, tc.stmts...)
			if err == nil || !strings.Contains(err.Error(), "does not balance") {
				t.Fatalf("commit: %v, want the balance check's refusal", err)
			}
		})
	}
	// A balanced entry commits; a line added to it later is refused.
	if err := execTx(t, entry("d"), line("d", 1, accounting.AccPostage, 385, 0), line("d", 2, accounting.AccPostagePayable, 0, 385)); err != nil {
		t.Fatalf("balanced entry: %v", err)
	}
	if err := execTx(t, line("d", 3, accounting.AccFX, 1, 0)); err == nil || !strings.Contains(err.Error(), "does not balance") {
		t.Fatalf("late line: %v", err)
	}
	// Lines that break the line rules fail at once.
	for name, stmt := range map[string]string{
		"debit and credit": line("d", 4, accounting.AccFX, 1, 1),
		"neither":          line("d", 4, accounting.AccFX, 0, 0),
		"unknown account":  line("d", 4, "9999", 1, 0),
		"account twice":    line("d", 4, accounting.AccPostage, 1, 0),
		"sats without rate": fmt.Sprintf(`INSERT INTO accounting.journal_lines (entry_id, line_no, account, debit_pence, amount_sats)
			SELECT id, 4, '%s', 1, 5 FROM accounting.journal_entries WHERE source = '%sd'`, accounting.AccFX, src),
	} {
		if err := execTx(t, stmt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAccountingLedgerIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	svc := ledgerService(time.Now)
	e, _, err := svc.Post(ctx, ports.LedgerEvent{ID: "append-only-" + uuid.NewString(), Kind: ports.LedgerPostagePurchased, At: time.Now(), AmountPence: 385})
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		fmt.Sprintf(`UPDATE accounting.journal_entries SET memo = 'tampered' WHERE id = %d`, e.ID),
		fmt.Sprintf(`DELETE FROM accounting.journal_entries WHERE id = %d`, e.ID),
		`TRUNCATE accounting.journal_entries CASCADE`,
		fmt.Sprintf(`UPDATE accounting.journal_lines SET debit_pence = 1 WHERE entry_id = %d AND debit_pence > 0`, e.ID),
		fmt.Sprintf(`DELETE FROM accounting.journal_lines WHERE entry_id = %d`, e.ID),
		`TRUNCATE accounting.journal_lines`,
	} {
		if _, err := testDB.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", stmt, err)
		}
	}
	for _, stmt := range []string{
		`UPDATE accounting.daily_totals SET debit_pence = debit_pence + 1`,
		`DELETE FROM accounting.daily_totals`,
		`INSERT INTO accounting.daily_totals VALUES ('2001-01-01', '1010', 1, 0)`,
		`TRUNCATE accounting.daily_totals`,
	} {
		if _, err := testDB.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "cannot be changed directly") {
			t.Errorf("%s: err = %v, want the refusal", stmt, err)
		}
	}
	got, err := svc.Entry(ctx, e.ID)
	if err != nil || got.Memo != "" || got.Total() != 385 {
		t.Fatalf("entry after the attempts: %+v, %v", got, err)
	}
}

func TestAccountingConcurrentPosting(t *testing.T) {
	ctx := context.Background()
	svc := ledgerService(time.Now)
	order := uuid.New()
	base := ports.LedgerEvent{At: time.Now(), OrderID: order.String(), OrderNumber: "OD-CONC", SubtotalPence: 4000, ShippingPence: 350, TotalPence: 4350}
	settled, cancelled := base, base
	settled.ID, settled.Kind, settled.ReceivedPence = "conc-settled-"+order.String(), ports.LedgerPaymentSettled, 4350
	cancelled.ID, cancelled.Kind = "conc-cancelled-"+order.String(), ports.LedgerPaidOrderCancelled

	// The same event from eight workers at once: one entry.
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids, postedCount := map[int64]bool{}, 0
	for _, e := range []ports.LedgerEvent{settled, cancelled} {
		for range 8 {
			wg.Go(func() {
				got, posted, err := svc.Post(ctx, e)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				ids[got.ID] = true
				if posted {
					postedCount++
				}
			})
		}
		wg.Wait()
	}
	if len(ids) != 2 || postedCount != 2 {
		t.Fatalf("%d entries, %d posted for two events", len(ids), postedCount)
	}
	// Three refunds of £20 at once for £43.50 owed: the order is locked while each
	// reads what is owed, so £40 settles the payable and nothing becomes a Refund.
	for i := range 3 {
		wg.Go(func() {
			r := base
			r.ID, r.Kind, r.AmountPence = fmt.Sprintf("conc-refund-%d-%s", i, order), ports.LedgerRefund, 2000
			if _, _, err := svc.Post(ctx, r); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var payable, refunds int64
	if err := svc.StreamLedger(ctx, accounting.EntryFilter{OrderNumber: "OD-CONC"}, func(r accounting.LedgerRow) error {
		switch r.Account {
		case accounting.AccRefundsPayable:
			payable += r.CreditPence - r.DebitPence
		case accounting.AccRefunds:
			refunds += r.DebitPence - r.CreditPence
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if payable != 0 || refunds != 6000-4350 {
		t.Fatalf("refunds payable %d, refunds %d; want 0 and %d", payable, refunds, 6000-4350)
	}
}

// TestAccountingStoreMatchesMemStore posts one random history into PostgreSQL and into
// the in-memory store and compares what the queries return, so that the fake that the
// module's tests use stays honest. The history is dated in 2031, after every other
// test's entries.
func TestAccountingStoreMatchesMemStore(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 6, 0)
	clock := func() time.Time { return end.AddDate(0, 0, 1) }
	mem := accounting.NewService(accountingtest.NewMemStore(), clock, accounting.Sources{Payments: noPayments{}})
	pg := accounting.NewService(postgres.NewAccountingStore(testDB), clock, accounting.Sources{Payments: noPayments{}})
	r := rand.New(rand.NewPCG(7, 11))
	prefix := "contract-" + uuid.NewString()[:6]
	for _, e := range accountingtest.Events(r, prefix, 150, start) {
		for _, svc := range []*accounting.Service{mem, pg} {
			if _, _, err := svc.Post(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Reverse the same few entries in both (found by source, as the ids differ).
	var memAll, pgAll []accounting.Entry
	for _, c := range []struct {
		svc *accounting.Service
		out *[]accounting.Entry
	}{{mem, &memAll}, {pg, &pgAll}} {
		f := accounting.EntryFilter{From: start, To: end.AddDate(1, 0, 0), Limit: 200}
		for {
			es, next, err := c.svc.Entries(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			*c.out = append(*c.out, es...)
			if next == nil {
				break
			}
			f.After = next
		}
	}
	if len(memAll) != len(pgAll) || len(memAll) == 0 {
		t.Fatalf("%d entries in memory, %d in PostgreSQL", len(memAll), len(pgAll))
	}
	actx := ports.WithActor(ctx, ports.Actor{Kind: ports.ActorStaff, Name: "contract"})
	for i := 0; i < len(memAll); i += 17 {
		if _, err := mem.Reverse(actx, memAll[i].ID, "contract"); err != nil {
			t.Fatal(err)
		}
		if _, err := pg.Reverse(actx, pgAll[i].ID, "contract"); err != nil {
			t.Fatal(err)
		}
	}

	// describe renders entries without their ids.
	describe := func(es []accounting.Entry) string {
		var b strings.Builder
		for _, e := range es {
			source := e.Source
			if e.Reverses != nil { // "reversal:<id>"
				source = "reversal"
			}
			fmt.Fprintf(&b, "%s %s %s %s %v %s|", source, e.Kind, e.OccurredAt.UTC().Format(time.RFC3339), e.OrderNumber, e.ReversedBy != nil, e.Memo)
			for _, l := range e.Lines {
				fmt.Fprintf(&b, " %d:%s:%d:%d:%d:%d", l.LineNo, l.Account, l.DebitPence, l.CreditPence, l.AmountSats, l.RatePence)
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	someOrder := memAll[len(memAll)/2].OrderNumber
	filters := []accounting.EntryFilter{
		{From: start, To: end.AddDate(1, 0, 0)},
		{From: start.AddDate(0, 1, 0), To: start.AddDate(0, 2, 0)},
		{From: start, To: end.AddDate(1, 0, 0), Account: accounting.AccRefunds},
		{From: start.AddDate(0, 0, 20), To: start.AddDate(0, 3, 0), Account: accounting.AccWallet},
		{From: start, To: end.AddDate(1, 0, 0), OrderNumber: someOrder},
		{From: start, To: end.AddDate(1, 0, 0), OrderNumber: someOrder, Account: accounting.AccSales},
	}
	for i, f := range filters {
		var got [2]string
		var lines [2]int
		for j, svc := range []*accounting.Service{mem, pg} {
			var all []accounting.Entry
			pf := f
			pf.Limit = 7
			for {
				es, next, err := svc.Entries(ctx, pf)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, es...)
				if next == nil {
					break
				}
				pf.After = next
			}
			got[j] = describe(all)
			if err := svc.StreamLedger(ctx, f, func(accounting.LedgerRow) error { lines[j]++; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		if got[0] != got[1] || got[0] == "" {
			t.Fatalf("filter %d %+v:\nmemory:\n%s\nPostgreSQL:\n%s", i, f, got[0], got[1])
		}
		if lines[0] != lines[1] {
			t.Fatalf("filter %d: %d lines streamed from memory, %d from PostgreSQL", i, lines[0], lines[1])
		}
	}
	for _, month := range []time.Time{start, start.AddDate(0, 2, 0)} {
		var res [2]string
		for j, svc := range []*accounting.Service{mem, pg} {
			ms, err := svc.MonthSummary(ctx, month)
			if err != nil {
				t.Fatal(err)
			}
			for k := range ms.Accounts { // PostgreSQL holds earlier tests' entries too
				ms.Accounts[k].Opening = 0
			}
			res[j] = fmt.Sprintf("%+v", *ms)
		}
		if res[0] != res[1] {
			t.Fatalf("month summary of %s:\nmemory     %s\nPostgreSQL %s", month.Format("2006-01"), res[0], res[1])
		}
	}
}
