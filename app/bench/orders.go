package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"orderdesk/adapters/postgres/pgtest"
	"orderdesk/modules/ordering"
)

// benchOrders places orders through the API of a real server from many clients at once
// and, in the same run, measures pgbench's TPC-B against the same PostgreSQL server.
func benchOrders(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("orders", flag.ContinueOnError)
	duration := fs.Duration("duration", 30*time.Second, "length of each run")
	conns := fs.Int("conns", 32, "concurrent clients")
	if err := fs.Parse(args); err != nil {
		return err
	}
	env, err := newBenchEnv(ctx)
	if err != nil {
		return err
	}
	defer env.close()
	dbURL, db := env.dbURL, env.db

	// 200 products: 195 with plenty of stock, 5 scarce ones that sell out early in the
	// run, so that the oversell check has something to check. Few, so that the answers
	// are mostly placed orders: wrk's p99 is over every answer, a quick 409 too.
	products, err := env.seedProducts(ctx, "B", 200, 5, 100)
	if err != nil {
		return err
	}
	method, err := env.shippingMethod(ctx, ordering.ShippingMethodInput{Name: "Tracked 24", ServiceCode: "TPN24",
		PackageFormat: "parcel", Price: "5.50", MaxWeight: "30000", Active: true})
	if err != nil {
		return err
	}
	srv, apiKey, err := env.serve(ctx, "serve", nil)
	if err != nil {
		return err
	}
	defer srv.stop()

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: *conns, MaxIdleConnsPerHost: *conns}, Timeout: 10 * time.Second}
	var seq, soldOut, serverErrors atomic.Int64
	place := func() error {
		n := seq.Add(1)
		items := make([]map[string]any, 1+rand.IntN(3))
		seen := map[int]bool{}
		for i := range items {
			p := rand.IntN(len(products))
			for seen[p] {
				p = rand.IntN(len(products))
			}
			seen[p] = true
			items[i] = map[string]any{"productId": products[p], "quantity": 1 + rand.IntN(3)}
		}
		req := orderRequest(srv.url, apiKey, items, method.ID, "bench:"+strconv.FormatInt(n%500, 10), "bench-"+strconv.FormatInt(n, 10))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusCreated:
			return nil
		case resp.StatusCode == http.StatusConflict:
			soldOut.Add(1)
			return errSoldOut
		case resp.StatusCode >= 500:
			serverErrors.Add(1)
		}
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if err := place(); err != nil {
		return fmt.Errorf("first order: %w", err)
	}
	generator := "wrk"
	res, _, refused, failed, usedWrk, err := wrkOrders(*conns, *duration, srv.url, apiKey, products, method.ID.String())
	if err != nil {
		return err
	}
	if usedWrk {
		soldOut.Add(refused)
		serverErrors.Add(failed)
		// errors counts what is neither an order nor a refusal for stock.
		res.errors += refused - failed
	} else {
		generator = "go"
		res = load(*conns, *duration, place)
	}

	var oversold int64
	if err := db.GetContext(ctx, &oversold, `SELECT coalesce(sum(greatest(r.held - p.stock_on_hand, 0)), 0) FROM catalog.products p
		JOIN (SELECT product_id, sum(quantity) AS held FROM catalog.reservations WHERE status = 'held' GROUP BY product_id) r
		ON r.product_id = p.id`); err != nil {
		return err
	}
	tps, err := pgbench(ctx, dbURL, *conns, *duration)
	if err != nil {
		return err
	}
	fmt.Printf("load generator: %s, %d clients, %s per run; %d orders placed, %d refused for stock (409)\n",
		generator, *conns, *duration, res.count, soldOut.Load())
	fmt.Printf("orders: rate=%.0f pgbench=%.0f ratio=%.2f p99=%.1f oversold=%d errors=%d\n",
		res.rate(), tps, res.rate()/tps, float64(res.p99.Microseconds())/1000, oversold, serverErrors.Load()+res.errors-soldOut.Load())
	return nil
}

var errSoldOut = fmt.Errorf("sold out")

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs TPC-B at the given concurrency against a database of its own on the
// same server as dbURL.
func pgbench(ctx context.Context, dbURL string, conns int, d time.Duration) (float64, error) {
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		return 0, fmt.Errorf("pgbench not found (Debian package postgresql-client or postgresql)")
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return 0, err
	}
	admin, err := sql.Open("pgx", pgtest.ServerURL())
	if err != nil {
		return 0, err
	}
	defer admin.Close()
	name := "orderdesk_pgbench"
	_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return 0, err
	}
	defer admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	u.Path = "/" + name
	conn := u.String()
	if out, err := exec.CommandContext(ctx, bin, "-i", "-q", "-s", "1", conn).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pgbench -i: %v: %s", err, out)
	}
	out, err := exec.CommandContext(ctx, bin, "-c", strconv.Itoa(conns), "-j", "2", "-T", strconv.Itoa(int(d.Seconds())), conn).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v: %s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
