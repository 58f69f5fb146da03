// Command bench measures OrderDesk against the targets of its issues, driving the
// real server binary with an HTTP load generator and, in the same run, the reference
// it is compared with. `go tool task bench:catalog` runs `go run ./app/bench catalog`.
//
// It needs the local PostgreSQL and Redis the tests use (TEST_DATABASE_URL,
// TEST_REDIS_URL) and creates and drops its own database.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/asynq/redistest"
	"orderdesk/adapters/postgres"
	"orderdesk/adapters/postgres/pgtest"
	"orderdesk/modules/clients"
	"orderdesk/modules/ordering"
	"orderdesk/ports"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench catalog|orders|webhooks|accounting [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "catalog":
		err = benchCatalog(context.Background(), os.Args[2:])
	case "orders":
		err = benchOrders(context.Background(), os.Args[2:])
	case "accounting":
		err = benchAccounting(context.Background(), os.Args[2:])
	case "webhooks":
		err = benchWebhooks(context.Background(), os.Args[2:])
	default:
		err = fmt.Errorf("unknown benchmark %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// server is an orderdesk process started for a benchmark, with its binary, data and
// log in dir.
type server struct {
	cmd  *exec.Cmd
	url  string
	dir  string
	logs *os.File
}

// startCommand builds the binary and runs `orderdesk <command>` (serve or run) with env
// on a free port.
func startCommand(ctx context.Context, command string, env map[string]string) (*server, error) {
	dir, err := os.MkdirTemp("", "orderdesk-bench")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "orderdesk")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("build: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logs, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, command)
	cmd.Env = append(os.Environ(), "ORDERDESK_CPUPROFILE="+os.Getenv("BENCH_CPUPROFILE"), "HTTP_ADDR="+addr, "BASE_URL=http://"+addr, "LOG_LEVEL=warn", "DATA_DIR="+filepath.Join(dir, "data"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		logs.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &server{cmd: cmd, url: "http://" + addr, dir: dir, logs: logs}
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.halt() // the log stays for the reader
	return nil, fmt.Errorf("server did not start; see %s", logs.Name())
}

// halt ends the process and closes its log.
func (s *server) halt() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait()
	s.logs.Close()
}

// stop ends the process and removes its directory.
func (s *server) stop() {
	s.halt()
	_ = os.RemoveAll(s.dir)
}

// rssMB reads the resident set size of the server process.
func (s *server) rssMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
}

// result of a load run.
type result struct {
	count    int64
	errors   int64
	duration time.Duration
	p99      time.Duration
}

func (r result) rate() float64 { return float64(r.count) / r.duration.Seconds() }

// load runs fn from conns goroutines for d and records every call's latency.
func load(conns int, d time.Duration, fn func() error) result {
	var count, errs atomic.Int64
	lat := make([][]time.Duration, conns)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := fn(); err != nil {
					errs.Add(1)
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
				count.Add(1)
			}
		}(i)
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := result{count: count.Load(), errors: errs.Load(), duration: time.Since(start)}
	if len(all) > 0 {
		r.p99 = all[len(all)*99/100]
	}
	return r
}

// wrk drives url with the wrk load generator (Debian's wrk package) when it is
// installed, which leaves more of the machine to the server than a Go generator does.
// ok is false when wrk is not there.
func wrk(conns int, d time.Duration, url string, header http.Header) (r result, ok bool, err error) {
	path, lerr := exec.LookPath("wrk")
	if lerr != nil {
		return result{}, false, nil
	}
	args := []string{"-t2", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--latency"}
	for k, vs := range header {
		for _, v := range vs {
			args = append(args, "-H", k+": "+v)
		}
	}
	out, err := exec.Command(path, append(args, url)...).CombinedOutput()
	if err != nil {
		return result{}, true, fmt.Errorf("wrk: %v: %s", err, out)
	}
	r.duration = d
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "99%":
			r.p99 = parseWrkDuration(f[1])
		case len(f) >= 2 && f[0] == "Requests/sec:":
			rate, _ := strconv.ParseFloat(f[1], 64)
			r.count = int64(rate * d.Seconds())
		case strings.Contains(line, "Non-2xx or 3xx responses:"):
			n, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
			r.errors += n
		case strings.HasPrefix(strings.TrimSpace(line), "Socket errors:"):
			r.errors++
		}
	}
	if r.count == 0 {
		return r, true, fmt.Errorf("wrk printed no rate: %s", out)
	}
	return r, true, nil
}

func parseWrkDuration(s string) time.Duration {
	for _, unit := range []struct {
		suffix string
		mult   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}} {
		if strings.HasSuffix(s, unit.suffix) {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(s, unit.suffix), 64)
			return time.Duration(v * float64(unit.mult))
		}
	}
	return 0
}

// httpGetter returns a load function that GETs url with a header and checks the status.
func httpGetter(conns int, url string, header http.Header) func() error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns}, Timeout: 10 * time.Second}
	return func() error {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header = header
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}

// benchEnv is a throwaway database and Redis index for one benchmark.
type benchEnv struct {
	dbURL, redisURL string
	db              *postgres.DB
	close           func()
}

func newBenchEnv(ctx context.Context) (*benchEnv, error) {
	dbURL, drop, err := pgtest.Create(ctx)
	if err != nil {
		return nil, err
	}
	redisURL, release, err := redistest.Acquire(ctx)
	if err != nil {
		drop()
		return nil, err
	}
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		release()
		drop()
		return nil, err
	}
	return &benchEnv{dbURL: dbURL, redisURL: redisURL, db: db, close: func() { db.Close(); release(); drop() }}, nil
}

// serve registers a client app and starts `orderdesk <command>` (serve or run) on the
// env's database and Redis, with the API rate limit off and the variables of extra;
// it returns the server and the app's API key.
func (e *benchEnv) serve(ctx context.Context, command string, extra map[string]string) (*server, string, error) {
	created, err := clients.NewService(postgres.NewClientStore(e.db), ports.SystemClock).CreateApp(ctx, "bench", "")
	if err != nil {
		return nil, "", err
	}
	env := map[string]string{"DATABASE_URL": e.dbURL, "REDIS_URL": e.redisURL, "API_RATE_LIMIT": "0"}
	maps.Copy(env, extra)
	srv, err := startCommand(ctx, command, env)
	return srv, created.APIKey, err
}

// shippingMethod creates a shipping method in the env's database.
func (e *benchEnv) shippingMethod(ctx context.Context, in ordering.ShippingMethodInput) (*ordering.ShippingMethod, error) {
	return ordering.NewService(postgres.NewOrderStore(e.db), e.db, nil, nil, nil, nil, ports.SystemClock).CreateShippingMethod(ctx, in)
}

// seedProducts loads n active products with SKUs prefix-1 to prefix-n, priced
// basePence+i, the first scarce of them with 40 in stock and the others with plenty,
// and returns their ids in SKU order.
func (e *benchEnv) seedProducts(ctx context.Context, prefix string, n, scarce int, basePence int64) ([]string, error) {
	if _, err := e.db.ExecContext(ctx, `INSERT INTO catalog.products (id, name, category_id, sku, status, price_minor, weight_unit,
		weight_milli, shipping_weight_grams, track_stock, stock_on_hand)
		SELECT gen_random_uuid(), 'Product ' || i, NULL, $1 || '-' || i, 'active', $2 + i, 'grams', 100000, 100, true,
		CASE WHEN i <= $3 THEN 40 ELSE 1000000 END FROM generate_series(1, $4::int) i`, prefix, basePence, scarce, n); err != nil {
		return nil, fmt.Errorf("seed products: %w", err)
	}
	var ids []string
	if err := e.db.SelectContext(ctx, &ids, `SELECT id::text FROM catalog.products WHERE sku LIKE $1 || '-%' ORDER BY sku`, prefix); err != nil {
		return nil, err
	}
	return ids, nil
}

// orderRequest is the API request that places an order of items (productId and
// quantity each) for identity, shipped by method to a fixed address.
func orderRequest(base, apiKey string, items []map[string]any, method uuid.UUID, identity, idemKey string) *http.Request {
	body, _ := json.Marshal(map[string]any{"items": items, "shippingMethodId": method.String(),
		"shippingAddress": map[string]any{"name": "Bench Customer", "line1": "1 High Street", "city": "York",
			"postcode": "YO1 7HH", "countryCode": "GB"}})
	req, _ := http.NewRequest("POST", base+"/api/v1/orders", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Identity-Reference", identity)
	req.Header.Set("Idempotency-Key", idemKey)
	return req
}
