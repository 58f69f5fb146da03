package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	hasynq "github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"orderdesk/adapters/asynq"
	"orderdesk/adapters/btcpay"
	"orderdesk/adapters/filestore"
	"orderdesk/adapters/pdfdocs"
	"orderdesk/adapters/postgres"
	redisstore "orderdesk/adapters/redis"
	"orderdesk/adapters/sandbox"
	"orderdesk/adapters/sealer"
	"orderdesk/modules/accounting"
	"orderdesk/modules/catalog"
	"orderdesk/modules/clients"
	"orderdesk/modules/fulfilment"
	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
	"orderdesk/modules/reviews"
	"orderdesk/modules/settings"
	"orderdesk/modules/staff"
	"orderdesk/ports"
	"orderdesk/web"
	"orderdesk/web/admin"
	"orderdesk/web/api"
)

// Job types of the platform itself.
const (
	JobCleanup = "platform:cleanup"
)

// App is OrderDesk wired together: configuration, connections, services and the
// HTTP and worker sides. Open builds it; Serve and Work run it; Close releases it.
type App struct {
	Config   *Config
	Log      *slog.Logger
	DB       *postgres.DB
	Redis    hasynq.RedisConnOpt
	Queue    *asynq.Queue
	Outbox   *postgres.Outbox
	Staff    *staff.Service
	Catalog  *catalog.Service
	Clients  *clients.Service
	Orders   *ordering.Service
	Payments *payments.Service
	Settings *settings.Service
	Files    ports.FileStore
	Audit    *postgres.AuditLog
	Metrics  *prometheus.Registry
	Web      *web.Server
	redisCli *redis.Client
	closers  []func() error

	// Fulfilment ships picked orders through Carrier (and follows them with Tracker,
	// nil when no tracking service is configured).
	Fulfilment *fulfilment.Service
	Carrier    ports.Carrier
	Tracker    ports.Tracker

	// Accounting keeps the ledger, posted from the other modules' money events.
	Accounting *accounting.Service

	// Reviews keeps product reviews and their moderation.
	Reviews *reviews.Service
}

// Options adjust Open for tests.
type Options struct {
	// PasswordParams overrides the argon2id cost (tests use a cheap one).
	PasswordParams *staff.PasswordParams
	// Clock overrides the system clock.
	Clock ports.Clock
	// Carrier and Tracker override the ones SHIPPING_PROVIDER chooses (tests).
	Carrier ports.Carrier
	Tracker ports.Tracker
	// PlacementWait overrides how long an order waits for its turn (tests).
	PlacementWait time.Duration
}

// NewLogger returns the JSON logger at the configured level.
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// Open connects to PostgreSQL and Redis and wires every module.
func Open(ctx context.Context, cfg *Config, log *slog.Logger, opts Options) (*App, error) {
	if err := cfg.RequireRedis(); err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, Metrics: prometheus.NewRegistry()}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a.DB = db
	a.closers = append(a.closers, db.Close)

	a.Redis, err = asynq.ParseRedisURL(cfg.RedisURL)
	if err != nil {
		return nil, &ConfigError{"REDIS_URL", "is not a valid Redis URL"}
	}
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, &ConfigError{"REDIS_URL", "is not a valid Redis URL"}
	}
	a.redisCli = redis.NewClient(ropt)
	a.closers = append(a.closers, a.redisCli.Close)
	a.Queue = asynq.NewQueue(a.Redis)
	a.closers = append(a.closers, a.Queue.Close)
	a.Outbox = postgres.NewOutbox(db, log)
	a.Audit = postgres.NewAuditLog(db)

	clock := opts.Clock
	if clock == nil {
		clock = ports.SystemClock
	}
	params := staff.DefaultPasswordParams
	if opts.PasswordParams != nil {
		params = *opts.PasswordParams
	}
	policy, err := staff.NewPolicy()
	if err != nil {
		return nil, err
	}
	a.Staff, err = staff.NewService(postgres.NewStaffStore(db), policy, clock, params)
	if err != nil {
		return nil, err
	}

	files, err := filestore.NewLocal(cfg.DataDir)
	if err != nil {
		return nil, &ConfigError{"DATA_DIR", fmt.Sprintf("cannot be used: %v", err)}
	}
	a.Files = files
	a.Catalog = catalog.NewService(postgres.NewCatalogStore(db), files, clock)
	a.Clients = clients.NewService(postgres.NewClientStore(db), clock)
	a.Settings = settings.NewService(postgres.NewSettingsStore(db), clock)
	ring, err := addressSealer(ctx, cfg, db)
	if err != nil {
		return nil, err
	}
	var gateway ports.PaymentGateway
	switch cfg.PaymentsProvider {
	case "sandbox":
		gateway = sandbox.NewPayments(cfg.BaseURL, clock, postgres.NewSandboxInvoices(db))
	case "btcpay":
		gateway = btcpay.New(btcpay.Config{URL: cfg.BTCPayURL, APIKey: cfg.BTCPayAPIKey, StoreID: cfg.BTCPayStoreID,
			WebhookSecret: cfg.BTCPayWebhookSecret, Clock: clock})
	default:
		return nil, &ConfigError{"PAYMENTS_PROVIDER", "must be btcpay or sandbox"}
	}
	a.Payments = payments.NewService(payments.Deps{Store: postgres.NewPaymentStore(db), Gateway: gateway, Clock: clock, Tx: db,
		Listener: paymentEvents{a}, Queue: a.Queue, Log: log, Expiry: a.invoiceExpiry})
	a.Orders = ordering.NewService(postgres.NewOrderStore(db), db, catalogStock{a.Catalog}, a.Payments, a.Clients, ring, clock)
	a.Carrier, a.Tracker = a.shippingAdapters(opts, clock)
	a.Fulfilment = fulfilment.NewService(fulfilment.Config{Store: postgres.NewShipmentStore(db), Tx: db,
		Orders: fulfilmentOrders{a.Orders}, Stock: fulfilmentStock{a.Catalog}, Carrier: a.Carrier, Tracker: a.Tracker,
		Files: files, Documents: pdfdocs.New(), PushOnly: a.pushOnly, SlipPrices: a.slipPrices, Clock: clock})
	a.Accounting = a.newAccounting(db, clock)
	a.Reviews = a.newReviews(db, clock)

	qc := asynq.NewQueueCollector(a.Redis)
	a.closers = append(a.closers, qc.Close)
	a.Metrics.MustRegister(
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.DB.DB, "orderdesk"), qc,
	)

	jobsUI := asynqmon.New(asynqmon.Options{RootPath: "/admin/jobs", RedisConnOpt: a.Redis})
	a.closers = append(a.closers, jobsUI.Close)
	a.Web, err = web.New(web.Deps{
		Log: log, Metrics: a.Metrics, Ready: a.Ready, Catalog: a.Catalog, Payments: a.Payments,
		Admin: admin.Deps{
			Staff: a.Staff, Catalog: a.Catalog, Clients: a.Clients, Orders: a.Orders, Payments: a.Payments, Audit: a.Audit, SecureCookies: cfg.SecureCookies, JobsUI: jobsUI, Stats: a.dashboardStats,
			Settings: a.Settings, TestPayments: a.testPayments, Fulfilment: a.Fulfilment,
			Accounting: a.Accounting, ExplorerTxURL: a.explorerTxURL,
			Reviews: a.Reviews,
		},
		API: api.Deps{Catalog: a.Catalog, Clients: a.Clients, Orders: a.Orders, Payments: a.Payments, Fulfilment: a.Fulfilment, BaseURL: cfg.BaseURL,
			RateLimiter: a.rateLimiter(), Reviews: a.Reviews, PlacementConcurrency: cfg.PlacementConcurrency,
			PlacementWait: opts.PlacementWait},
	})
	if err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// Close releases every connection, last opened first.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		_ = a.closers[i]()
	}
	a.closers = nil
}

// Ready checks that PostgreSQL and Redis answer.
func (a *App) Ready(ctx context.Context) error {
	if err := a.DB.PingContext(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if err := a.redisCli.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// dashboardStats gathers the dashboard's figures from every module that has some.
func (a *App) dashboardStats(ctx context.Context) ([]admin.Stat, error) {
	active, err := a.Staff.CountActiveUsers(ctx)
	if err != nil {
		return nil, err
	}
	pending, err := a.Outbox.Pending(ctx)
	if err != nil {
		return nil, err
	}
	low, err := a.Catalog.CountLowStock(ctx)
	if err != nil {
		return nil, err
	}
	products, err := a.Catalog.CountProducts(ctx, catalog.ProductFilter{Status: catalog.StatusActive})
	if err != nil {
		return nil, err
	}
	return []admin.Stat{
		{Label: "Products on sale", Value: strconv.Itoa(products), Href: "/admin/catalog/products?status=active"},
		{Label: "Low-stock products", Value: strconv.Itoa(low), Href: "/admin/catalog/products?low=1"},
		{Label: "Active staff users", Value: strconv.Itoa(active), Href: "/admin/users"},
		{Label: "Jobs waiting in the outbox", Value: strconv.Itoa(pending), Href: "/admin/jobs"},
	}, nil
}

// invoiceExpiry is how long customers have to pay, from the shop settings.
func (a *App) invoiceExpiry(ctx context.Context) (time.Duration, error) {
	s, err := a.Settings.Get(ctx)
	if err != nil {
		return 0, err
	}
	return time.Duration(s.InvoiceExpiryMinutes) * time.Minute, nil
}

// testPayments is the settings page's "Test connection": it asks the configured
// payment provider whether OrderDesk can reach it with its credentials, and returns
// the provider's report (with the error, when the test failed). For BTCPay it runs
// the checks of `orderdesk btcpay check` on a client of its own (the checks only
// read).
func (a *App) testPayments(ctx context.Context) (string, error) {
	cfg := a.Config
	switch cfg.PaymentsProvider {
	case "sandbox":
		return "Sandbox payments: nothing to test; no real money moves.", nil
	case "btcpay":
		r, err := btcpay.New(btcpay.Config{URL: cfg.BTCPayURL, APIKey: cfg.BTCPayAPIKey, StoreID: cfg.BTCPayStoreID}).Check(ctx)
		return r.Report(), err
	}
	return "", fmt.Errorf("no connection test for payments provider %q", cfg.PaymentsProvider)
}

// Serve runs the HTTP server on ln until ctx ends, then stops accepting requests and
// lets in-flight ones finish.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- a.Web.App.Listener(ln) }()
	a.Log.Info("http server listening", "addr", ln.Addr().String(), "base_url", a.Config.BaseURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("http server shutting down")
	if err := a.Web.App.ShutdownWithTimeout(a.Config.ShutdownTimeout); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// NewWorker builds the Asynq worker with every module's job handlers and periodic jobs.
func (a *App) NewWorker() *asynq.Worker {
	w := asynq.NewWorker(a.Redis, asynq.WorkerConfig{Log: a.Log, ShutdownTimeout: a.Config.ShutdownTimeout, RetryDelay: retryDelay})
	w.Handle(JobCleanup, func(ctx context.Context, _ []byte) error {
		if err := a.Staff.CleanUp(ctx); err != nil {
			return err
		}
		if err := a.Orders.CleanUp(ctx); err != nil {
			return err
		}
		_, err := a.Outbox.DeleteSentBefore(ctx, time.Now().Add(-7*24*time.Hour))
		return err
	})
	w.Every(ports.PeriodicJob{Cron: "*/15 * * * *", Type: JobCleanup, Queue: ports.QueueLow})
	w.Handle(catalog.JobProcessPhoto, a.Catalog.ProcessPhotoJob)
	w.Handle(payments.JobCreateInvoice, a.Payments.CreateInvoiceJob)
	w.Handle(payments.JobSync, a.Payments.SyncJob)
	w.Handle(payments.JobWebhook, a.Payments.WebhookJob)
	w.Handle(payments.JobVoid, a.Payments.VoidJob)
	w.Handle(payments.JobReconcile, a.Payments.ReconcileJob)
	w.Every(ports.PeriodicJob{Cron: "* * * * *", Type: payments.JobReconcile, Queue: ports.QueueDefault})
	w.Handle(clients.JobDeliver, a.Clients.DeliverJob)
	w.Handle(ports.JobLedgerPost, a.Accounting.PostJob)
	w.Handle(fulfilment.JobRegister, a.Fulfilment.RegisterJob)
	w.Handle(fulfilment.JobPollCarrier, a.Fulfilment.PollCarrier)
	w.Every(ports.PeriodicJob{Cron: "* * * * *", Type: fulfilment.JobPollCarrier, Queue: ports.QueueDefault})
	if a.Tracker != nil {
		w.Handle(fulfilment.JobTrack, a.Fulfilment.Track)
		w.Every(ports.PeriodicJob{Cron: "17 * * * *", Type: fulfilment.JobTrack, Queue: ports.QueueLow})
	}
	return w
}

// retryDelay is the wait before retrying a failed job: webhook deliveries back off
// exponentially to an hour (clients.RetryDelay), so that their retries span more than a
// day; every other job keeps Asynq's default.
func retryDelay(n int, err error, t *hasynq.Task) time.Duration {
	if t.Type() == clients.JobDeliver {
		return clients.RetryDelay(n)
	}
	return hasynq.DefaultRetryDelayFunc(n, err, t)
}

// rateLimiter is the API's per-key limiter on Redis, or nil when API_RATE_LIMIT is 0.
func (a *App) rateLimiter() ports.RateLimiter {
	if a.Config.APIRateLimit == 0 {
		return nil
	}
	return redisstore.NewRateLimiter(a.redisCli, a.Config.APIRateLimit, time.Minute, "orderdesk:ratelimit:api:")
}

// Work runs the worker, the scheduler and the outbox relay until ctx ends, then lets
// running jobs finish.
func (a *App) Work(ctx context.Context) error {
	w := a.NewWorker()
	if err := w.Start(); err != nil {
		return err
	}
	a.Log.Info("worker started")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.Outbox.Relay(ctx, a.Queue, 500*time.Millisecond)
	}()
	<-ctx.Done()
	a.Log.Info("worker shutting down")
	wg.Wait()
	w.Shutdown()
	return nil
}

// RunAll runs Serve and Work together (the run command) until ctx ends.
func (a *App) RunAll(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var workErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		workErr = a.Work(ctx)
		cancel()
	}()
	err := a.Serve(ctx, ln)
	cancel()
	wg.Wait()
	return errors.Join(err, workErr)
}

// addressSealer builds the key ring that seals customers' addresses: ENCRYPTION_KEYS
// when set, else a key generated once and kept in the database (set ENCRYPTION_KEYS in
// production so that a copy of the database alone does not reveal addresses).
func addressSealer(ctx context.Context, cfg *Config, db *postgres.DB) (*sealer.Ring, error) {
	if cfg.EncryptionKeys != "" {
		keys, err := sealer.ParseKeys(cfg.EncryptionKeys)
		if err != nil {
			return nil, &ConfigError{"ENCRYPTION_KEYS", "is invalid: " + err.Error()}
		}
		return sealer.New(keys...)
	}
	k, err := db.Secret(ctx, "address-key-db1", func() []byte { return sealer.NewKey("db1").Key })
	if err != nil {
		return nil, err
	}
	return sealer.New(sealer.Key{ID: "db1", Key: k})
}
