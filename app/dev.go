package app

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// Ports of the project-local services that `dev` starts.
const (
	devPostgresPort = 54329
	devRedisPort    = 63799
)

// dev brings up a development OrderDesk: a project-local PostgreSQL and Redis under
// .data/ unless DATABASE_URL / REDIS_URL are set, the migrations, the default admin,
// the demo data, then serve + worker. On Ctrl-C it stops what it started.
func dev(ctx context.Context, out io.Writer) error {
	root, err := filepath.Abs(".data")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()
	if os.Getenv("DATABASE_URL") == "" {
		stop, url, err := devPostgres(ctx, root, out)
		if err != nil {
			return err
		}
		stops = append(stops, stop)
		os.Setenv("DATABASE_URL", url)
	}
	if os.Getenv("REDIS_URL") == "" {
		stop, url, err := devRedis(ctx, root, out)
		if err != nil {
			return err
		}
		stops = append(stops, stop)
		os.Setenv("REDIS_URL", url)
	}
	if os.Getenv("DATA_DIR") == "" {
		os.Setenv("DATA_DIR", filepath.Join(root, "files"))
	}
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	if err := migrateAndBootstrap(ctx, cfg, out); err != nil {
		return err
	}
	if err := seedDemo(ctx, cfg, out); err != nil {
		return err
	}
	fmt.Fprintf(out, "OrderDesk is starting on %s/admin (default login admin/admin)\n", cfg.BaseURL)
	return runProcess(ctx, cfg, "run")
}

// postgresBin finds a PostgreSQL server binary directory, installing Debian's package
// when none is there and we may.
func postgresBin(out io.Writer) (string, error) {
	find := func() string {
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
				return d
			}
		}
		return ""
	}
	if d := find(); d != "" {
		return d, nil
	}
	if err := aptInstall(out, "postgresql"); err != nil {
		return "", err
	}
	if d := find(); d != "" {
		return d, nil
	}
	return "", fmt.Errorf("PostgreSQL server binaries not found: install the postgresql package or set DATABASE_URL")
}

func versionOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func aptInstall(out io.Writer, pkgs ...string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s is not installed: install it (apt-get install %s) or set the URL variable", pkgs[0], strings.Join(pkgs, " "))
	}
	fmt.Fprintf(out, "installing %s with apt-get\n", strings.Join(pkgs, " "))
	for _, args := range [][]string{{"update", "-qq"}, append([]string{"install", "-y", "-qq"}, pkgs...)} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w", args[0], err)
		}
	}
	return nil
}

// asPostgres runs a PostgreSQL binary, as the postgres system user when we are root
// (initdb and the server refuse to run as root).
func asPostgres(bin string, args ...string) *exec.Cmd {
	if os.Geteuid() != 0 {
		return exec.Command(bin, args...)
	}
	quoted := make([]string, 0, len(args)+1)
	for _, a := range append([]string{bin}, args...) {
		quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	return exec.Command("su", "postgres", "-s", "/bin/sh", "-c", strings.Join(quoted, " "))
}

func devPostgres(ctx context.Context, root string, out io.Writer) (func(), string, error) {
	bin, err := postgresBin(out)
	if err != nil {
		return nil, "", err
	}
	dir := filepath.Join(root, "postgres")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return nil, "", fmt.Errorf("no postgres system user: %w", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		}); err != nil {
			return nil, "", err
		}
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		fmt.Fprintln(out, "initialising a local PostgreSQL in", data)
		cmd := asPostgres(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, "", fmt.Errorf("initdb: %v: %s", err, b)
		}
	}
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/orderdesk?sslmode=disable", devPostgresPort)
	pgctl := filepath.Join(bin, "pg_ctl")
	stop := func() {}
	if err := asPostgres(pgctl, "-D", data, "status").Run(); err != nil {
		fmt.Fprintf(out, "starting PostgreSQL on 127.0.0.1:%d\n", devPostgresPort)
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", devPostgresPort, dir)
		cmd := asPostgres(pgctl, "-D", data, "-o", opts, "-l", filepath.Join(dir, "postgres.log"), "-w", "start")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, "", fmt.Errorf("start PostgreSQL: %v: %s (see %s)", err, b, filepath.Join(dir, "postgres.log"))
		}
		stop = func() {
			fmt.Fprintln(out, "stopping PostgreSQL")
			_ = asPostgres(pgctl, "-D", data, "-m", "fast", "-w", "stop").Run()
		}
	}
	// Create the database on first use.
	admin, err := sql.Open("pgx", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", devPostgresPort))
	if err != nil {
		stop()
		return nil, "", err
	}
	defer admin.Close()
	var exists bool
	if err := admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'orderdesk')`).Scan(&exists); err != nil {
		stop()
		return nil, "", fmt.Errorf("local PostgreSQL: %w", err)
	}
	if !exists {
		if _, err := admin.ExecContext(ctx, `CREATE DATABASE orderdesk`); err != nil {
			stop()
			return nil, "", err
		}
	}
	return stop, url, nil
}

func devRedis(ctx context.Context, root string, out io.Writer) (func(), string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if err := aptInstall(out, "redis-server"); err != nil {
			return nil, "", err
		}
		if bin, err = exec.LookPath("redis-server"); err != nil {
			return nil, "", fmt.Errorf("redis-server not found after installing it")
		}
	}
	dir := filepath.Join(root, "redis")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", devRedisPort)
	pidfile := filepath.Join(dir, "redis.pid")
	if pid := readPid(pidfile); pid > 0 && alive(pid) {
		return func() {}, url, nil // already running: not ours to stop
	}
	fmt.Fprintf(out, "starting Redis on 127.0.0.1:%d\n", devRedisPort)
	cmd := exec.CommandContext(ctx, bin, "--port", strconv.Itoa(devRedisPort), "--bind", "127.0.0.1", "--daemonize", "yes",
		"--pidfile", pidfile, "--dir", dir, "--appendonly", "yes", "--save", "", "--logfile", filepath.Join(dir, "redis.log"))
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("start Redis: %v: %s", err, b)
	}
	for i := 0; i < 50 && readPid(pidfile) == 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	stop := func() {
		if pid := readPid(pidfile); pid > 0 {
			fmt.Fprintln(out, "stopping Redis")
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Signal(os.Interrupt)
			}
		}
	}
	return stop, url, nil
}

func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// alive reports whether a process with pid exists.
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}
