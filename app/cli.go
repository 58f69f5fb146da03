package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/clients"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// usage is what `orderdesk help` prints.
const usage = `OrderDesk: the back office of a shop that sells for bitcoin and ships with Royal Mail.

Usage: orderdesk COMMAND [ARGUMENTS]

Commands:
  migrate                      apply all database migrations (and create the default
                               admin/admin user when there are no staff users), then exit
  serve                        run the HTTP server (admin, API, webhooks)
  worker                       run the background worker, scheduler and outbox relay
  run                          serve and worker in one process (the default for development)
  user add USERNAME --role ROLE [--password PASSWORD]
                               add a staff user; without --password the password is read
                               from standard input. Roles: admin, manager, packer,
                               accountant, support
  client create NAME [--webhook-url URL]
                               register a client app; prints API_KEY=<key> and, with a
                               URL, WEBHOOK_SECRET=<secret> (shown once)
  seed demo                    load demo data (idempotent)
  btcpay check                 check BTCPAY_URL, BTCPAY_API_KEY and BTCPAY_STORE_ID against
                               the server: version, sync, the key's permissions, the store
  btcpay register-webhook      create the store webhook to BASE_URL/webhooks/btcpay; prints
                               WEBHOOK_ID=<id> and BTCPAY_WEBHOOK_SECRET=<secret> (shown once)
  dev                          development: start a local PostgreSQL and Redis under .data/
                               unless DATABASE_URL and REDIS_URL are set, migrate, seed,
                               and run; Ctrl-C stops everything it started
  bot                          run the Telegram shop bot, a client app of OrderDesk's REST
                               API and webhooks (TELEGRAM_BOT_TOKEN, ORDERDESK_API_URL,
                               ORDERDESK_API_KEY, BOT_WEBHOOK_SECRET, ...; see README.md)
  healthcheck                  exit 0 when the local server answers /healthz (for
                               container health checks)
  help                         show this text

Configuration comes from the environment (a .env file in the working directory is read
too); see README.md for the variables.
`

// Main runs the command line and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if err := LoadDotEnv(".env"); err != nil {
		fmt.Fprintln(stderr, "orderdesk: .env:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, args, stdin, stdout)
	if err == nil {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "orderdesk: %s (see 'orderdesk help')\n", ue.msg)
		return 2
	}
	fmt.Fprintln(stderr, "orderdesk:", oneLine(err))
	return 1
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// oneLine renders err as a single line, with field errors spelled out.
func oneLine(err error) string {
	var pe *ports.Error
	if errors.As(err, &pe) && len(pe.Fields) > 0 {
		var parts []string
		for _, f := range pe.Fields {
			parts = append(parts, f.Field+": "+f.Message)
		}
		return strings.Join(parts, "; ")
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "migrate":
		if len(rest) > 0 {
			return usagef("migrate takes no arguments")
		}
		return withConfig(func(cfg *Config) error { return migrateAndBootstrap(ctx, cfg, stdout) })
	case "serve", "worker", "run":
		if len(rest) > 0 {
			return usagef("%s takes no arguments", cmd)
		}
		return withConfig(func(cfg *Config) error { return runProcess(ctx, cfg, cmd) })
	case "user":
		return userCommand(ctx, rest, stdin, stdout)
	case "client":
		return clientCommand(ctx, rest, stdout)
	case "seed":
		if len(rest) != 1 || rest[0] != "demo" {
			return usagef("usage: orderdesk seed demo")
		}
		return withConfig(func(cfg *Config) error { return seedDemo(ctx, cfg, stdout) })
	case "btcpay":
		return btcpayCommand(ctx, rest, os.Getenv, stdout)
	case "bot":
		return botCommand(ctx, rest, os.Getenv)
	case "healthcheck":
		return healthcheck(ctx)
	case "dev":
		if len(rest) > 0 {
			return usagef("dev takes no arguments")
		}
		return dev(ctx, stdout)
	}
	return usagef("unknown command %q", cmd)
}

func withConfig(fn func(*Config) error) error {
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	return fn(cfg)
}

// migrateAndBootstrap applies the migrations and creates the default admin user when
// there is no staff user at all.
func migrateAndBootstrap(ctx context.Context, cfg *Config, out io.Writer) error {
	if err := postgres.Migrate(cfg.DatabaseURL); err != nil {
		return err
	}
	fmt.Fprintln(out, "migrations applied")
	return withStaff(ctx, cfg, func(_ *postgres.DB, svc *staff.Service) error {
		created, err := svc.EnsureDefaultAdmin(ctx)
		if created {
			fmt.Fprintln(out, "created the default staff user admin/admin: change its password at first login")
		}
		return err
	})
}

// withStaff opens the database and the staff service for a one-shot command.
func withStaff(ctx context.Context, cfg *Config, fn func(db *postgres.DB, svc *staff.Service) error) error {
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := newStaffService(db)
	if err != nil {
		return err
	}
	return fn(db, svc)
}

func newStaffService(db *postgres.DB) (*staff.Service, error) {
	policy, err := staff.NewPolicy()
	if err != nil {
		return nil, err
	}
	return staff.NewService(postgres.NewStaffStore(db), policy, ports.SystemClock, staff.DefaultPasswordParams)
}

func runProcess(ctx context.Context, cfg *Config, cmd string) error {
	log := NewLogger(cfg.LogLevel)
	// ORDERDESK_CPUPROFILE names a file to write a CPU profile of the whole process to
	// (for `go tool pprof`); the benchmarks use it.
	if path := os.Getenv("ORDERDESK_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	a, err := Open(ctx, cfg, log, Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	if cmd == "worker" {
		return a.Work(ctx)
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return &ConfigError{"HTTP_ADDR", fmt.Sprintf("cannot be listened on: %v", err)}
	}
	if cmd == "serve" {
		return a.Serve(ctx, ln)
	}
	return a.RunAll(ctx, ln)
}

// userCommand implements `user add USERNAME --role ROLE [--password P]`.
func userCommand(ctx context.Context, args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return usagef("usage: orderdesk user add USERNAME --role ROLE [--password PASSWORD]")
	}
	var username, role, password string
	havePassword := false
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		name, value, hasValue := strings.Cut(a, "=")
		switch name {
		case "--role", "--password":
			if !hasValue {
				if i+1 >= len(rest) {
					return usagef("%s needs a value", name)
				}
				i++
				value = rest[i]
			}
			if name == "--role" {
				role = value
			} else {
				password, havePassword = value, true
			}
		default:
			if strings.HasPrefix(a, "-") {
				return usagef("unknown flag %s", a)
			}
			if username != "" {
				return usagef("one username only (got %q and %q)", username, a)
			}
			username = a
		}
	}
	if username == "" {
		return usagef("user add needs a USERNAME")
	}
	if role == "" {
		return usagef("user add needs --role (admin, manager, packer, accountant or support)")
	}
	if !staff.Role(role).Valid() {
		return usagef("unknown role %q (admin, manager, packer, accountant or support)", role)
	}
	if !havePassword {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return usagef("no password given: pass --password or write it to standard input")
		}
	}
	return withConfig(func(cfg *Config) error {
		return withStaff(ctx, cfg, func(_ *postgres.DB, svc *staff.Service) error {
			ctx := ports.WithActor(ctx, ports.Actor{Kind: ports.ActorSystem, Name: "cli"})
			u, err := svc.CreateUser(ctx, staff.NewUser{Username: username, Role: staff.Role(role), Password: password}, false)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "created staff user %s (%s)\n", u.Username, u.Role)
			return nil
		})
	})
}

// healthcheck asks the server on HTTP_ADDR for /healthz; containers without a shell or
// curl use it as their health check.
func healthcheck(ctx context.Context) error {
	addr := os.Getenv("HTTP_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: status %d", resp.StatusCode)
	}
	return nil
}

// clientCommand implements `client create NAME [--webhook-url URL]`.
func clientCommand(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("usage: orderdesk client create NAME [--webhook-url URL]")
	}
	var name, hook string
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		flag, value, hasValue := strings.Cut(a, "=")
		switch {
		case flag == "--webhook-url":
			if !hasValue {
				if i+1 >= len(rest) {
					return usagef("--webhook-url needs a value")
				}
				i++
				value = rest[i]
			}
			hook = value
		case strings.HasPrefix(a, "-"):
			return usagef("unknown flag %s", a)
		case name != "":
			return usagef("one name only (quote a name with spaces)")
		default:
			name = a
		}
	}
	if strings.TrimSpace(name) == "" {
		return usagef("client create needs a NAME")
	}
	return withConfig(func(cfg *Config) error {
		db, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer db.Close()
		svc := clients.NewService(postgres.NewClientStore(db), ports.SystemClock)
		ctx := ports.WithActor(ctx, ports.Actor{Kind: ports.ActorSystem, Name: "cli"})
		created, err := svc.CreateApp(ctx, name, hook)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "API_KEY=%s\n", created.APIKey)
		if created.WebhookSecret != "" {
			fmt.Fprintf(out, "WEBHOOK_SECRET=%s\n", created.WebhookSecret)
		}
		return nil
	})
}
