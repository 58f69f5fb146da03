package asynq_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	queue "orderdesk/adapters/asynq"
	"orderdesk/adapters/asynq/redistest"
	"orderdesk/ports"
)

// redisURL is this package's private Redis database, acquired in TestMain.
var redisURL string

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	url, release, err := redistest.Acquire(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		os.Exit(1)
	}
	redisURL = url
	code := m.Run()
	release()
	os.Exit(code)
}

// redisOpt empties the package's Redis database (left over by an earlier test, or an
// earlier run under -count) and returns the option to connect to it.
func redisOpt(t *testing.T) asynq.RedisConnOpt {
	t.Helper()
	ropt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(ropt)
	defer c.Close()
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	opt, err := queue.ParseRedisURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newInspector(t *testing.T, opt asynq.RedisConnOpt) *asynq.Inspector {
	t.Helper()
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	return insp
}

func newQueue(t *testing.T, opt asynq.RedisConnOpt) *queue.Queue {
	t.Helper()
	q := queue.NewQueue(opt)
	t.Cleanup(func() { q.Close() })
	return q
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEnqueueSameIDTwiceQueuesOneTask(t *testing.T) {
	opt := redisOpt(t)
	q := newQueue(t, opt)
	insp := newInspector(t, opt)
	ctx := context.Background()
	const qname = "test-dedupe" // served by no worker, so the tasks stay pending

	j := ports.Job{ID: "dedupe:1", Type: "test:dedupe", Queue: qname, Payload: []byte(`{"n":1}`), MaxRetry: 3}
	if err := q.Enqueue(ctx, j); err != nil {
		t.Fatalf("first enqueue: %v", err)
	}
	j.Payload = []byte(`{"n":2}`)
	if err := q.Enqueue(ctx, j); err != nil {
		t.Fatalf("second enqueue of the same id must not be an error, got %v", err)
	}
	info, err := insp.GetQueueInfo(qname)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 1 || info.Pending != 1 {
		t.Fatalf("queue size %d, pending %d; want 1 task", info.Size, info.Pending)
	}
	ti, err := insp.GetTaskInfo(qname, "dedupe:1")
	if err != nil {
		t.Fatal(err)
	}
	if string(ti.Payload) != `{"n":1}` || ti.Type != "test:dedupe" || ti.MaxRetry != 3 {
		t.Fatalf("task = %s %s max_retry %d; want the first job kept", ti.Type, ti.Payload, ti.MaxRetry)
	}
	if ti.Retention != queue.Retention {
		t.Fatalf("retention %s, want %s", ti.Retention, queue.Retention)
	}

	// Another ID is another task; ProcessAt in the future makes it scheduled.
	j2 := ports.Job{ID: "dedupe:2", Type: "test:dedupe", Queue: qname, ProcessAt: time.Now().Add(time.Hour)}
	if err := q.Enqueue(ctx, j2); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(ctx, j2); err != nil {
		t.Fatal(err)
	}
	info, err = insp.GetQueueInfo(qname)
	if err != nil {
		t.Fatal(err)
	}
	if info.Pending != 1 || info.Scheduled != 1 {
		t.Fatalf("pending %d scheduled %d, want 1 and 1", info.Pending, info.Scheduled)
	}
}

func TestEnqueueFailsWhenRedisIsDown(t *testing.T) {
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	q := queue.NewQueue(asynq.RedisClientOpt{Addr: addr, DialTimeout: time.Second})
	defer q.Close()
	err = q.Enqueue(context.Background(), ports.Job{ID: "down:1", Type: "test:down"})
	if err == nil {
		t.Fatal("enqueue against a dead Redis succeeded")
	}
}

type flakyHandler struct {
	mu    sync.Mutex
	calls int
	fails int // fail this many times, then succeed
}

func (h *flakyHandler) handle(ctx context.Context, _ []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if h.calls <= h.fails {
		return errors.New("transient failure")
	}
	return nil
}

func (h *flakyHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

// TestWorker shares one worker between its subtests: two workers serving the same
// queues in one Redis database would take each other's tasks.
func TestWorker(t *testing.T) {
	opt := redisOpt(t)
	q := newQueue(t, opt)
	insp := newInspector(t, opt)

	flaky := &flakyHandler{fails: 2}
	var delays []int
	var delaysMu sync.Mutex
	w := queue.NewWorker(opt, queue.WorkerConfig{
		Concurrency:     2,
		ShutdownTimeout: time.Second,
		Log:             quietLog(),
		RetryDelay: func(n int, err error, task *asynq.Task) time.Duration {
			delaysMu.Lock()
			delays = append(delays, n)
			delaysMu.Unlock()
			return 10 * time.Millisecond
		},
	})
	w.Handle("test:flaky", flaky.handle)
	w.Every(ports.PeriodicJob{Cron: "@every 1h", Type: "test:periodic", Queue: ports.QueueLow})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Shutdown)

	t.Run("a failing job is retried until it succeeds", func(t *testing.T) {
		t.Parallel()
		if err := q.Enqueue(context.Background(), ports.Job{ID: "flaky:1", Type: "test:flaky", MaxRetry: 5}); err != nil {
			t.Fatal(err)
		}
		var ti *asynq.TaskInfo
		waitFor(t, 60*time.Second, "the flaky job to complete", func() bool {
			var err error
			ti, err = insp.GetTaskInfo(ports.QueueDefault, "flaky:1")
			return err == nil && ti.State == asynq.TaskStateCompleted
		})
		if got := flaky.count(); got != 3 {
			t.Fatalf("handler ran %d times, want 3 (two failures, one success)", got)
		}
		if ti.Retried != 2 {
			t.Fatalf("task retried %d times, want 2", ti.Retried)
		}
		delaysMu.Lock()
		defer delaysMu.Unlock()
		if !slices.Equal(delays, []int{0, 1}) {
			t.Fatalf("RetryDelay called with %v, want [0 1]", delays)
		}
	})

	t.Run("a periodic job has a scheduler entry", func(t *testing.T) {
		t.Parallel()
		var entry *asynq.SchedulerEntry
		// The scheduler publishes its entries at its first heartbeat (10 s).
		waitFor(t, 60*time.Second, "the scheduler entry", func() bool {
			entries, err := insp.SchedulerEntries()
			if err != nil {
				return false
			}
			for _, e := range entries {
				if e.Task.Type() == "test:periodic" {
					entry = e
					return true
				}
			}
			return false
		})
		if entry.Spec != "@every 1h" {
			t.Fatalf("spec %q, want @every 1h", entry.Spec)
		}
		var opts []string
		for _, o := range entry.Opts {
			opts = append(opts, o.String())
		}
		if !slices.Contains(opts, fmt.Sprintf("Queue(%q)", ports.QueueLow)) {
			t.Fatalf("entry options %v do not name the low queue", opts)
		}
		if d := time.Until(entry.Next); d <= 0 || d > time.Hour {
			t.Fatalf("next run in %s, want within the hour", d)
		}
	})
}

func TestQueueCollector(t *testing.T) {
	opt := redisOpt(t)
	q := newQueue(t, opt)
	ctx := context.Background()
	const qname = "test-metrics"
	for i := range 3 {
		if err := q.Enqueue(ctx, ports.Job{ID: fmt.Sprintf("metrics:%d", i), Type: "test:metrics", Queue: qname}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Enqueue(ctx, ports.Job{ID: "metrics:later", Type: "test:metrics", Queue: qname, ProcessAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	c := queue.NewQueueCollector(opt)
	defer c.Close()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	samples := gatherQueueTasks(t, reg)
	want := map[string]float64{"pending": 3, "scheduled": 1, "active": 0, "retry": 0, "archived": 0, "completed": 0}
	for state, n := range want {
		got, ok := samples[qname+"/"+state]
		if !ok {
			t.Errorf("no orderdesk_queue_tasks sample for queue=%s state=%s (have %v)", qname, state, samples)
			continue
		}
		if got != n {
			t.Errorf("orderdesk_queue_tasks{queue=%s,state=%s} = %v, want %v", qname, state, got, n)
		}
	}
}

func TestQueueCollectorRedisDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := queue.NewQueueCollector(asynq.RedisClientOpt{Addr: addr, DialTimeout: time.Second})
	defer c.Close()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	if samples := gatherQueueTasks(t, reg); len(samples) != 0 {
		t.Fatalf("samples with Redis down: %v", samples)
	}
}

// gatherQueueTasks returns the orderdesk_queue_tasks samples keyed "queue/state".
func gatherQueueTasks(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "orderdesk_queue_tasks" {
			continue
		}
		if mf.GetType() != dto.MetricType_GAUGE {
			t.Fatalf("orderdesk_queue_tasks is a %s, want a gauge", mf.GetType())
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			out[labels["queue"]+"/"+labels["state"]] = m.GetGauge().GetValue()
		}
	}
	return out
}
