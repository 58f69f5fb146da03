// Command bench measures OrderDesk against the targets of its issues, driving the
// real server binary with an HTTP load generator and, in the same run, the reference
// it is compared with. `go tool task bench:catalog` runs `go run ./app/bench catalog`.
//
// It needs the local PostgreSQL and Redis the tests use (TEST_DATABASE_URL,
// TEST_REDIS_URL) and creates and drops its own database.
package main

import (
	"context"

	"fmt"
	"io"
	"net"
	"net/http"
	"orderdesk/adapters/asynq/redistest"
	"orderdesk/adapters/postgres"
	"orderdesk/adapters/postgres/pgtest"
	"orderdesk/modules/clients"
	"orderdesk/ports"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench catalog|orders|webhooks [flags]")
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

// server is an orderdesk process started for a benchmark.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *os.File
}

// startServer builds the binary and runs `orderdesk serve` with env on a free port.
func startServer(ctx context.Context, env map[string]string) (*server, error) {
	return startCommand(ctx, "serve", env)
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
		return nil, fmt.Errorf("build: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logs, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, command)
	cmd.Env = append(os.Environ(), "ORDERDESK_CPUPROFILE="+os.Getenv("BENCH_CPUPROFILE"), "HTTP_ADDR="+addr, "BASE_URL=http://"+addr, "LOG_LEVEL=warn", "DATA_DIR="+filepath.Join(dir, "data"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, url: "http://" + addr, logs: logs}
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("server did not start; see %s", logs.Name())
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait()
	s.logs.Close()
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

// serve registers a client app and starts a serve process on the env's database and
// Redis, with the API rate limit off; it returns the server and the app's API key.
func (e *benchEnv) serve(ctx context.Context) (*server, string, error) {
	created, err := clients.NewService(postgres.NewClientStore(e.db), ports.SystemClock).CreateApp(ctx, "bench", "")
	if err != nil {
		return nil, "", err
	}
	srv, err := startServer(ctx, map[string]string{"DATABASE_URL": e.dbURL, "REDIS_URL": e.redisURL, "API_RATE_LIMIT": "0"})
	return srv, created.APIKey, err
}
