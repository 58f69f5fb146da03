package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"orderdesk/adapters/postgres"
)

var errRollBack = errors.New("roll back")

// TestTxLater: statements queued with Later are sent before the next statement (a read
// sees them) or with the commit; a failure among them fails the whole transaction,
// and no connection is left in the pool inside a transaction, whatever happened.
func TestTxLater(t *testing.T) {
	ctx := context.Background()
	if _, err := testDB.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS public.tx_later (id int PRIMARY KEY, v text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	rows := func() map[int]string {
		var list []struct {
			ID int    `db:"id"`
			V  string `db:"v"`
		}
		if err := testDB.SelectContext(ctx, &list, `SELECT id, v FROM public.tx_later`); err != nil {
			t.Fatal(err)
		}
		out := map[int]string{}
		for _, r := range list {
			out[r.ID] = r.V
		}
		return out
	}
	reset := func() {
		if _, err := testDB.ExecContext(ctx, `TRUNCATE public.tx_later`); err != nil {
			t.Fatal(err)
		}
	}
	inTxLeft := func() int {
		var n int
		if err := testDB.GetContext(ctx, &n, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND state LIKE 'idle in transaction%'`); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("read sees queued, commit sends the rest", func(t *testing.T) {
		reset()
		err := testDB.InTx(ctx, func(ctx context.Context) error {
			postgres.Later(ctx, `INSERT INTO public.tx_later VALUES ($1, $2)`, 1, "a")
			var n int
			if err := testDB.GetContext(ctx, &n, `SELECT 0`); err != nil { // the pool, not the transaction
				return err
			}
			var seen int
			if err := postgres.TxGet(ctx, &seen, `SELECT count(*) FROM public.tx_later`); err != nil {
				return err
			}
			if seen != 1 {
				t.Errorf("the transaction's read saw %d rows, want the queued one", seen)
			}
			postgres.Later(ctx, `INSERT INTO public.tx_later VALUES ($1, $2)`, 2, "b")
			postgres.Later(ctx, `UPDATE public.tx_later SET v = $2 WHERE id = $1`, 1, "a2")
			if got := rows(); len(got) != 0 {
				t.Errorf("outside the transaction before commit: %v", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := rows(); len(got) != 2 || got[1] != "a2" || got[2] != "b" {
			t.Fatalf("after commit: %v", got)
		}
	})

	t.Run("reads that carry the queued statements", func(t *testing.T) {
		reset()
		type row struct {
			ID int    `db:"id"`
			V  string `db:"v"`
		}
		err := testDB.InTx(ctx, func(ctx context.Context) error {
			// BEGIN and both inserts go with the first read.
			postgres.Later(ctx, `INSERT INTO public.tx_later VALUES ($1, $2)`, 1, "a")
			postgres.Later(ctx, `INSERT INTO public.tx_later VALUES ($1, $2)`, 2, "b")
			var structs []row
			if err := postgres.TxSelect(ctx, &structs, `SELECT id, v FROM public.tx_later ORDER BY id`); err != nil {
				return err
			}
			if len(structs) != 2 || structs[0] != (row{1, "a"}) || structs[1] != (row{2, "b"}) {
				t.Errorf("structs %+v", structs)
			}
			postgres.Later(ctx, `INSERT INTO public.tx_later VALUES ($1, $2)`, 3, "c")
			var ptrs []*row
			if err := postgres.TxSelect(ctx, &ptrs, `SELECT id, v FROM public.tx_later WHERE id > $1 ORDER BY id`, 1); err != nil {
				return err
			}
			if len(ptrs) != 2 || *ptrs[1] != (row{3, "c"}) {
				t.Errorf("pointers %+v", ptrs)
			}
			postgres.Later(ctx, `UPDATE public.tx_later SET v = 'b2' WHERE id = 2`)
			var ids []int
			if err := postgres.TxSelect(ctx, &ids, `SELECT id FROM public.tx_later WHERE v LIKE '%2' ORDER BY id`); err != nil {
				return err
			}
			if len(ids) != 1 || ids[0] != 2 {
				t.Errorf("scalars %v", ids)
			}
			postgres.Later(ctx, `DELETE FROM public.tx_later WHERE id = 3`)
			var one row
			if err := postgres.TxGet(ctx, &one, `SELECT id, v FROM public.tx_later WHERE id = 3`); !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("get of a deleted row: %v", err)
			}
			postgres.Later(ctx, `UPDATE public.tx_later SET v = 'a2' WHERE id = 1`)
			if err := postgres.TxGet(ctx, &one, `SELECT id, v, 'x' AS extra FROM public.tx_later WHERE id = 1`); err == nil {
				t.Error("a column with no field was accepted")
			}
			return errRollBack
		})
		if !errors.Is(err, errRollBack) {
			t.Fatalf("transaction: %v", err)
		}
		if got := rows(); len(got) != 0 {
			t.Fatalf("after rollback: %v", got)
		}
	})

	t.Run("failure among queued statements rolls back everything", func(t *testing.T) {
		reset()
		if _, err := testDB.ExecContext(ctx, `INSERT INTO public.tx_later VALUES (1, 'old')`); err != nil {
			t.Fatal(err)
		}
		err := testDB.InTx(ctx, func(ctx context.Context) error {
			if err := postgres.TxExec(ctx, `INSERT INTO public.tx_later VALUES (5, 'e')`); err != nil {
				return err
			}
			postgres.Later(ctx, `UPDATE public.tx_later SET v = 'new' WHERE id = 1`)
			postgres.Later(ctx, `INSERT INTO public.tx_later VALUES (1, 'duplicate')`)
			return nil
		})
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
			t.Fatalf("commit with a failing queued statement: %v", err)
		}
		if got := rows(); len(got) != 1 || got[1] != "old" {
			t.Fatalf("after the failed commit: %v", got)
		}
	})

	t.Run("failure surfaced by a single-row read", func(t *testing.T) {
		reset()
		err := testDB.InTx(ctx, func(ctx context.Context) error {
			postgres.Later(ctx, `INSERT INTO public.tx_later VALUES (7, NULL)`)
			var n int
			// QueryRowx cannot return the queued statement's error; the transaction does.
			_ = postgres.TxRow(ctx, &n, `SELECT count(*) FROM public.tx_later`)
			return nil
		})
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23502" {
			t.Fatalf("transaction whose queued insert breaks NOT NULL: %v", err)
		}
		if got := rows(); len(got) != 0 {
			t.Fatalf("rows after: %v", got)
		}
	})

	t.Run("panic rolls back", func(t *testing.T) {
		reset()
		func() {
			defer func() {
				if recover() == nil {
					t.Error("the panic was swallowed")
				}
			}()
			_ = testDB.InTx(ctx, func(ctx context.Context) error {
				if err := postgres.TxExec(ctx, `INSERT INTO public.tx_later VALUES (9, 'p')`); err != nil {
					return err
				}
				postgres.Later(ctx, `INSERT INTO public.tx_later VALUES (10, 'q')`)
				panic("boom")
			})
		}()
		if got := rows(); len(got) != 0 {
			t.Fatalf("rows after a panic: %v", got)
		}
	})

	t.Run("nothing but queued statements", func(t *testing.T) {
		reset()
		if err := testDB.InTx(ctx, func(ctx context.Context) error {
			postgres.Later(ctx, `INSERT INTO public.tx_later VALUES (11, 'k')`)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := testDB.InTx(ctx, func(ctx context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := testDB.InTx(ctx, func(ctx context.Context) error { return errors.New("changed my mind") }); err == nil {
			t.Fatal("an error of fn was lost")
		}
		if got := rows(); len(got) != 1 || got[11] != "k" {
			t.Fatalf("rows: %v", got)
		}
	})
	if n := inTxLeft(); n != 0 {
		t.Fatalf("%d connections idle in a transaction", n)
	}
}
