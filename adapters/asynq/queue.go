// Package asynq implements the job queue on Redis with Asynq: the Enqueuer used by the
// outbox relay, the worker that runs job handlers from weighted queues, the periodic
// scheduler, and a Prometheus collector of queue sizes.
package asynq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"orderdesk/ports"
)

// Retention keeps a completed task's ID in Redis for this long, so that enqueuing the
// same job again within it (a relay retry) is recognised as a duplicate.
const Retention = 24 * time.Hour

// ParseRedisURL turns a redis:// URL into Asynq's connection option.
func ParseRedisURL(url string) (asynq.RedisConnOpt, error) {
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	return opt, nil
}

// Queue enqueues jobs on Asynq.
type Queue struct {
	client *asynq.Client
}

var _ ports.Enqueuer = (*Queue)(nil)

// NewQueue returns a queue client.
func NewQueue(opt asynq.RedisConnOpt) *Queue { return &Queue{client: asynq.NewClient(opt)} }

// Close releases the Redis connection.
func (q *Queue) Close() error { return q.client.Close() }

// Enqueue adds j with its ID as Asynq's task ID; a duplicate ID is not an error.
func (q *Queue) Enqueue(ctx context.Context, j ports.Job) error {
	opts := []asynq.Option{asynq.TaskID(j.ID), asynq.Queue(queueOrDefault(j.Queue)), asynq.Retention(Retention)}
	if j.MaxRetry > 0 {
		opts = append(opts, asynq.MaxRetry(j.MaxRetry))
	}
	if !j.ProcessAt.IsZero() {
		opts = append(opts, asynq.ProcessAt(j.ProcessAt))
	}
	_, err := q.client.EnqueueContext(ctx, asynq.NewTask(j.Type, j.Payload), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", j.Type, err)
	}
	return nil
}

func queueOrDefault(q string) string {
	if q == "" {
		return ports.QueueDefault
	}
	return q
}

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	Concurrency     int
	ShutdownTimeout time.Duration
	Log             *slog.Logger
	// RetryDelay says how long to wait before retrying a failed job (n is the number of
	// retries so far). Nil means Asynq's exponential backoff.
	RetryDelay func(n int, err error, t *asynq.Task) time.Duration
}

// Worker runs job handlers and the periodic scheduler.
type Worker struct {
	srv       *asynq.Server
	scheduler *asynq.Scheduler
	mux       *asynq.ServeMux
	periodic  []ports.PeriodicJob
	log       *slog.Logger
}

// NewWorker returns a worker serving the critical, default and low queues weighted
// 6:3:1, retrying failed jobs with Asynq's exponential backoff.
func NewWorker(opt asynq.RedisConnOpt, cfg WorkerConfig) *Worker {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 10
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 25 * time.Second
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency: cfg.Concurrency,
		// Look for new work every 100 ms when idle (Asynq's default is 1 s): a paid
		// order should reach the pick queue within a second of BTCPay's webhook.
		TaskCheckInterval: 100 * time.Millisecond,
		Queues:            map[string]int{ports.QueueCritical: 6, ports.QueueDefault: 3, ports.QueueLow: 1},
		ShutdownTimeout:   cfg.ShutdownTimeout,
		Logger:            slogAdapter{log},
		LogLevel:          asynq.WarnLevel,
		RetryDelayFunc:    cfg.RetryDelay,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			id, _ := asynq.GetTaskID(ctx)
			log.Warn("job failed", "type", t.Type(), "job_id", id, "retry", retried, "max_retry", maxRetry, "err", err)
		}),
	})
	scheduler := asynq.NewScheduler(opt, &asynq.SchedulerOpts{Logger: slogAdapter{log}, LogLevel: asynq.WarnLevel})
	return &Worker{srv: srv, scheduler: scheduler, mux: asynq.NewServeMux(), log: log}
}

// Handle registers the handler of a job type.
func (w *Worker) Handle(jobType string, h ports.JobHandler) {
	w.mux.HandleFunc(jobType, func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		id, _ := asynq.GetTaskID(ctx)
		ctx = ports.WithActor(ctx, ports.System)
		log := w.log.With("job_id", id, "type", jobType)
		ctx = ports.WithLogger(ctx, log)
		err := h(ctx, t.Payload())
		log.Info("job", "ms", time.Since(start).Milliseconds(), "ok", err == nil)
		return err
	})
}

// Every registers a periodic job.
func (w *Worker) Every(p ports.PeriodicJob) { w.periodic = append(w.periodic, p) }

// Start starts processing and scheduling; it returns at once.
func (w *Worker) Start() error {
	for _, p := range w.periodic {
		// The scheduler's task ID dedupes a tick enqueued by several worker processes.
		if _, err := w.scheduler.Register(p.Cron, asynq.NewTask(p.Type, nil), asynq.Queue(queueOrDefault(p.Queue)),
			asynq.Unique(time.Minute)); err != nil {
			return fmt.Errorf("schedule %s: %w", p.Type, err)
		}
	}
	if err := w.srv.Start(w.mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if err := w.scheduler.Start(); err != nil {
		w.srv.Shutdown()
		return fmt.Errorf("start scheduler: %w", err)
	}
	return nil
}

// Shutdown stops the scheduler, then lets running jobs finish (up to the shutdown
// timeout) before returning.
func (w *Worker) Shutdown() {
	w.scheduler.Shutdown()
	w.srv.Shutdown()
}

// slogAdapter lets Asynq log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
