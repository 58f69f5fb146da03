package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	hasynq "github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	queue "orderdesk/adapters/asynq"
	"orderdesk/adapters/postgres"
	"orderdesk/ports"
)

// The outbox tests relay every unsent row of the shared table, so each starts with an
// empty outbox and none runs in parallel.
func resetOutbox(t *testing.T) {
	t.Helper()
	mustExec(t, `DELETE FROM platform.outbox`)
}

type outboxRecord struct {
	JobID     string     `db:"job_id"`
	JobType   string     `db:"job_type"`
	Queue     string     `db:"queue"`
	Payload   []byte     `db:"payload"`
	MaxRetry  int        `db:"max_retry"`
	ProcessAt *time.Time `db:"process_at"`
	SentAt    *time.Time `db:"sent_at"`
	Attempts  int        `db:"attempts"`
	LastError string     `db:"last_error"`
}

func outboxRecords(t *testing.T) map[string]outboxRecord {
	t.Helper()
	var rows []outboxRecord
	if err := testDB.SelectContext(context.Background(), &rows, `SELECT job_id, job_type, queue, payload, max_retry,
		process_at, sent_at, attempts, last_error FROM platform.outbox ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	out := map[string]outboxRecord{}
	for _, r := range rows {
		out[r.JobID] = r
	}
	return out
}

func outboxRecordOf(t *testing.T, jobID string) outboxRecord {
	t.Helper()
	r, ok := outboxRecords(t)[jobID]
	if !ok {
		t.Fatalf("no outbox row for %s", jobID)
	}
	return r
}

func pending(t *testing.T, o *postgres.Outbox) int {
	t.Helper()
	n, err := o.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func relay(t *testing.T, o *postgres.Outbox, q ports.Enqueuer, batch int) int {
	t.Helper()
	n, err := o.RelayOnce(context.Background(), q, batch)
	if err != nil {
		t.Fatalf("RelayOnce: %v", err)
	}
	return n
}

// fakeEnqueuer records the jobs it is given and fails the calls fail says to.
type fakeEnqueuer struct {
	mu    sync.Mutex
	calls []ports.Job
	fail  func(call int) error
}

func (f *fakeEnqueuer) Enqueue(_ context.Context, j ports.Job) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, j)
	if f.fail != nil {
		return f.fail(len(f.calls))
	}
	return nil
}

func (f *fakeEnqueuer) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, j := range f.calls {
		out = append(out, j.ID)
	}
	return out
}

func TestOutboxAddStoresEachJobOnce(t *testing.T) {
	resetOutbox(t)
	ctx := context.Background()
	o := postgres.NewOutbox(testDB, quietLog())

	first := ports.Job{ID: "add:1", Type: "test.first", Payload: []byte(`{"v":1}`)}
	dup := ports.Job{ID: "add:1", Type: "test.first", Payload: []byte(`{"v":2}`)}
	if err := o.Add(ctx, first, dup); err != nil {
		t.Fatal(err)
	}
	if err := o.Add(ctx, ports.Job{ID: "add:1", Type: "test.other", Payload: []byte(`{"v":3}`)}); err != nil {
		t.Fatalf("adding a job id again must not be an error: %v", err)
	}
	processAt := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := o.Add(ctx,
		ports.Job{ID: "add:2", Type: "test.defaults"},
		ports.Job{ID: "add:3", Type: "test.explicit", Queue: ports.QueueCritical, MaxRetry: 3, ProcessAt: processAt, Payload: []byte(`[]`)},
	); err != nil {
		t.Fatal(err)
	}

	recs := outboxRecords(t)
	if len(recs) != 3 {
		t.Fatalf("%d rows, want 3: %+v", len(recs), recs)
	}
	if n := countRows(t, `SELECT count(*) FROM platform.outbox WHERE job_id = 'add:1'`); n != 1 {
		t.Fatalf("%d rows for add:1", n)
	}
	r := recs["add:1"]
	if r.JobType != "test.first" || string(r.Payload) != `{"v":1}` {
		t.Fatalf("add:1 = %s %s; the first job must be kept", r.JobType, r.Payload)
	}
	r = recs["add:2"]
	if r.Queue != ports.QueueDefault || r.MaxRetry != 25 || string(r.Payload) != "{}" || r.ProcessAt != nil ||
		r.SentAt != nil || r.Attempts != 0 || r.LastError != "" {
		t.Fatalf("defaults: %+v", r)
	}
	r = recs["add:3"]
	if r.Queue != ports.QueueCritical || r.MaxRetry != 3 || string(r.Payload) != "[]" || r.ProcessAt == nil ||
		!r.ProcessAt.Equal(processAt) {
		t.Fatalf("explicit fields: %+v", r)
	}

	// A job without id or type fails the whole Add: nothing of it is stored.
	if err := o.Add(ctx, ports.Job{ID: "add:4", Type: "test.ok"}, ports.Job{Type: "test.no_id"}); err == nil {
		t.Fatal("Add of a job without id succeeded")
	}
	if err := o.Add(ctx, ports.Job{ID: "add:5"}); err == nil {
		t.Fatal("Add of a job without type succeeded")
	}
	if recs := outboxRecords(t); len(recs) != 3 {
		t.Fatalf("%d rows after failed adds, want 3", len(recs))
	}
	if n := pending(t, o); n != 3 {
		t.Fatalf("Pending = %d, want 3", n)
	}
}

func TestOutboxRelayStopsAtFirstRefusal(t *testing.T) {
	resetOutbox(t)
	ctx := context.Background()
	o := postgres.NewOutbox(testDB, quietLog())
	processAt := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	j1 := ports.Job{ID: "relay:1", Type: "test.one", Queue: ports.QueueCritical, MaxRetry: 3, ProcessAt: processAt, Payload: []byte(`{"n":1}`)}
	for _, j := range []ports.Job{j1, {ID: "relay:2", Type: "test.two"}, {ID: "relay:3", Type: "test.three"}} {
		if err := o.Add(ctx, j); err != nil {
			t.Fatal(err)
		}
	}

	refused := errors.New("redis: connection refused")
	fake := &fakeEnqueuer{fail: func(call int) error {
		if call == 2 {
			return refused
		}
		return nil
	}}
	if n := relay(t, o, fake, 10); n != 1 {
		t.Fatalf("first pass sent %d, want 1", n)
	}
	if got := fmt.Sprint(fake.ids()); got != "[relay:1 relay:2]" {
		t.Fatalf("first pass enqueued %s; want relay:1 then relay:2, and nothing after the refusal", got)
	}
	// The job reached the enqueuer with every field.
	got := fake.calls[0]
	if got.Type != j1.Type || got.Queue != j1.Queue || got.MaxRetry != j1.MaxRetry || string(got.Payload) != string(j1.Payload) ||
		!got.ProcessAt.Equal(processAt) {
		t.Fatalf("enqueued %+v, want %+v", got, j1)
	}

	recs := outboxRecords(t)
	if r := recs["relay:1"]; r.SentAt == nil || r.Attempts != 0 || r.LastError != "" {
		t.Fatalf("relay:1 after first pass: %+v; want sent", r)
	}
	if r := recs["relay:2"]; r.SentAt != nil || r.Attempts != 1 || r.LastError != refused.Error() {
		t.Fatalf("relay:2 after first pass: %+v; want unsent, 1 attempt, the error noted", r)
	}
	if r := recs["relay:3"]; r.SentAt != nil || r.Attempts != 0 {
		t.Fatalf("relay:3 after first pass: %+v; want unsent and untried", r)
	}
	if n := pending(t, o); n != 2 {
		t.Fatalf("Pending = %d, want 2", n)
	}

	// The next pass sends the rest, in order.
	fake2 := &fakeEnqueuer{}
	if n := relay(t, o, fake2, 10); n != 2 {
		t.Fatalf("second pass sent %d, want 2", n)
	}
	if got := fmt.Sprint(fake2.ids()); got != "[relay:2 relay:3]" {
		t.Fatalf("second pass enqueued %s, want [relay:2 relay:3]", got)
	}
	recs = outboxRecords(t)
	for _, id := range []string{"relay:1", "relay:2", "relay:3"} {
		if r := recs[id]; r.SentAt == nil || r.LastError != "" {
			t.Fatalf("%s after second pass: %+v; want sent with no error", id, r)
		}
	}
	if r := recs["relay:2"]; r.Attempts != 1 {
		t.Fatalf("relay:2 attempts %d, want 1 (kept as history)", r.Attempts)
	}
	if n := pending(t, o); n != 0 {
		t.Fatalf("Pending = %d, want 0", n)
	}

	// Nothing left to send.
	fake3 := &fakeEnqueuer{}
	if n := relay(t, o, fake3, 10); n != 0 || len(fake3.ids()) != 0 {
		t.Fatalf("third pass sent %d (%v)", n, fake3.ids())
	}
}

func TestOutboxRelayBatchAndLockedRows(t *testing.T) {
	resetOutbox(t)
	ctx := context.Background()
	o := postgres.NewOutbox(testDB, quietLog())
	for i := 1; i <= 5; i++ {
		if err := o.Add(ctx, ports.Job{ID: fmt.Sprintf("batch:%d", i), Type: "test.batch"}); err != nil {
			t.Fatal(err)
		}
	}
	// A row locked by another relay is skipped, not waited for.
	tx, err := testDB.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var locked string
	if err := tx.GetContext(ctx, &locked, `SELECT job_id FROM platform.outbox WHERE job_id = 'batch:1' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	fake := &fakeEnqueuer{}
	if n := relay(t, o, fake, 2); n != 2 {
		t.Fatalf("sent %d, want a batch of 2", n)
	}
	if got := fmt.Sprint(fake.ids()); got != "[batch:2 batch:3]" {
		t.Fatalf("enqueued %s, want [batch:2 batch:3]", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	fake = &fakeEnqueuer{}
	if n := relay(t, o, fake, 10); n != 3 {
		t.Fatalf("sent %d, want 3", n)
	}
	if got := fmt.Sprint(fake.ids()); got != "[batch:1 batch:4 batch:5]" {
		t.Fatalf("enqueued %s, want [batch:1 batch:4 batch:5]", got)
	}
}

func TestOutboxDeleteSentBeforeAndPending(t *testing.T) {
	resetOutbox(t)
	ctx := context.Background()
	o := postgres.NewOutbox(testDB, quietLog())
	for _, id := range []string{"old", "older", "recent", "unsent"} {
		if err := o.Add(ctx, ports.Job{ID: id, Type: "test.cleanup"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := pending(t, o); n != 4 {
		t.Fatalf("Pending = %d, want 4", n)
	}
	ts := now()
	for id, ago := range map[string]time.Duration{"older": 10 * 24 * time.Hour, "old": 2 * 24 * time.Hour, "recent": time.Hour} {
		mustExec(t, `UPDATE platform.outbox SET sent_at = $2 WHERE job_id = $1`, id, ts.Add(-ago))
	}
	if n := pending(t, o); n != 1 {
		t.Fatalf("Pending = %d, want 1", n)
	}

	n, err := o.DeleteSentBefore(ctx, ts.Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("DeleteSentBefore(1 day ago) = %d, %v; want 2", n, err)
	}
	recs := outboxRecords(t)
	if _, ok := recs["recent"]; !ok || len(recs) != 2 {
		t.Fatalf("left: %v; want recent and unsent", recs)
	}
	// A later cutoff takes the recent row too, never an unsent one.
	n, err = o.DeleteSentBefore(ctx, ts.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("DeleteSentBefore(in an hour) = %d, %v; want 1", n, err)
	}
	recs = outboxRecords(t)
	if _, ok := recs["unsent"]; !ok || len(recs) != 1 {
		t.Fatalf("left: %v; want only unsent", recs)
	}
	if n := pending(t, o); n != 1 {
		t.Fatalf("Pending = %d, want 1", n)
	}
}

// runCounter is a job handler that counts its runs per Asynq task id.
type runCounter struct {
	mu   sync.Mutex
	runs map[string]int
}

func newRunCounter() *runCounter { return &runCounter{runs: map[string]int{}} }

func (c *runCounter) handle(ctx context.Context, _ []byte) error {
	id, ok := hasynq.GetTaskID(ctx)
	if !ok {
		return errors.New("no task id in the context")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs[id]++
	return nil
}

func (c *runCounter) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[id]
}

func (c *runCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.runs {
		n += v
	}
	return n
}

// waitCompleted waits until the task is in Asynq's completed set: it ran and will not
// run again.
func waitCompleted(t *testing.T, insp *hasynq.Inspector, qname, id string) *hasynq.TaskInfo {
	t.Helper()
	var ti *hasynq.TaskInfo
	waitFor(t, 30*time.Second, "task "+id+" to complete", func() bool {
		var err error
		ti, err = insp.GetTaskInfo(qname, id)
		if errors.Is(err, hasynq.ErrTaskNotFound) {
			t.Fatalf("task %s is not in Redis: a completed task must be retained so that its id still dedupes", id)
		}
		return err == nil && ti.State == hasynq.TaskStateCompleted
	})
	return ti
}

func startWorker(t *testing.T, opt hasynq.RedisConnOpt, handlers map[string]ports.JobHandler) {
	t.Helper()
	w := queue.NewWorker(opt, queue.WorkerConfig{Concurrency: 1, ShutdownTimeout: time.Second, Log: quietLog()})
	for typ, h := range handlers {
		w.Handle(typ, h)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Shutdown)
}

// redisServer is a private redis-server process on a fixed port, which the test can
// stop and start again.
type redisServer struct {
	port int
	dir  string
	cmd  *exec.Cmd
	done chan error
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newRedisServer(t *testing.T) *redisServer {
	t.Helper()
	r := &redisServer{port: freePort(t), dir: t.TempDir()}
	r.start(t)
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) start(t *testing.T) {
	t.Helper()
	logFile, err := os.OpenFile(filepath.Join(r.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	r.cmd, r.done = cmd, done

	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	waitFor(t, 20*time.Second, "redis-server on "+r.addr(), func() bool {
		select {
		case err := <-done:
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			t.Fatalf("redis-server exited: %v\n%s", err, log)
		default:
		}
		return c.Ping(context.Background()).Err() == nil
	})
}

// stop shuts the server down without saving and waits for the process to end.
func (r *redisServer) stop(t *testing.T) {
	t.Helper()
	if r.cmd == nil {
		return
	}
	cmd, done := r.cmd, r.done
	r.cmd, r.done = nil, nil
	_ = exec.Command("redis-cli", "-p", strconv.Itoa(r.port), "shutdown", "nosave").Run()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// TestOutboxSurvivesRedisOutage: a job recorded while Redis is down stays in the
// outbox and reaches the worker, once, when Redis is back.
func TestOutboxSurvivesRedisOutage(t *testing.T) {
	resetOutbox(t)
	ctx := context.Background()
	rs := newRedisServer(t)
	opt, err := queue.ParseRedisURL("redis://" + rs.addr() + "/0")
	if err != nil {
		t.Fatal(err)
	}
	q := queue.NewQueue(opt)
	defer q.Close()
	insp := hasynq.NewInspector(opt)
	defer insp.Close()
	runs := newRunCounter()
	startWorker(t, opt, map[string]ports.JobHandler{"test.outage": runs.handle})
	o := postgres.NewOutbox(testDB, quietLog())

	if err := o.Add(ctx, ports.Job{ID: "outage:1", Type: "test.outage", Payload: []byte(`{"order":1}`)}); err != nil {
		t.Fatal(err)
	}
	rs.stop(t) // Redis goes down.

	n, err := o.RelayOnce(ctx, q, 10)
	if err != nil {
		t.Fatalf("RelayOnce with Redis down returned an error: %v", err)
	}
	if n != 0 {
		t.Fatalf("RelayOnce with Redis down sent %d", n)
	}
	r := outboxRecordOf(t, "outage:1")
	if r.SentAt != nil || r.Attempts != 1 || r.LastError == "" {
		t.Fatalf("row after the failed relay: %+v; want unsent with the attempt and error noted", r)
	}
	if n := pending(t, o); n != 1 {
		t.Fatalf("Pending = %d, want 1", n)
	}

	rs.start(t) // Redis is back, empty.
	if n := relay(t, o, q, 10); n != 1 {
		t.Fatalf("relay after the outage sent %d, want 1", n)
	}
	if r := outboxRecordOf(t, "outage:1"); r.SentAt == nil || r.LastError != "" {
		t.Fatalf("row after the relay: %+v; want sent, error cleared", r)
	}
	waitCompleted(t, insp, ports.QueueDefault, "outage:1")
	if got := runs.count("outage:1"); got != 1 {
		t.Fatalf("job ran %d times, want 1", got)
	}
	if got := runs.total(); got != 1 {
		t.Fatalf("%d runs in all, want 1", got)
	}
}

// TestOutboxRelayCrash: the relay enqueued a job but crashed before its commit, so the
// row is still unsent and the next pass enqueues the job again. The queue drops the
// duplicate by task id, whether the first copy still waits or has already run.
func TestOutboxRelayCrash(t *testing.T) {
	resetOutbox(t)
	ctx := context.Background()
	// Start from an empty queue (an earlier run under -count leaves completed tasks).
	ropt, err := redis.ParseURL(testRedisURL)
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(ropt)
	err = rc.FlushDB(ctx).Err()
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	opt, err := queue.ParseRedisURL(testRedisURL)
	if err != nil {
		t.Fatal(err)
	}
	q := queue.NewQueue(opt)
	defer q.Close()
	insp := hasynq.NewInspector(opt)
	defer insp.Close()
	o := postgres.NewOutbox(testDB, quietLog())
	crash := func(jobID string) {
		t.Helper()
		mustExec(t, `UPDATE platform.outbox SET sent_at = NULL WHERE job_id = $1`, jobID)
	}

	if err := o.Add(ctx, ports.Job{ID: "crash:1", Type: "test.crash"}); err != nil {
		t.Fatal(err)
	}
	if n := relay(t, o, q, 10); n != 1 {
		t.Fatalf("first relay sent %d", n)
	}

	// Crash while the task still waits in the queue (no worker runs yet).
	crash("crash:1")
	if n := pending(t, o); n != 1 {
		t.Fatalf("Pending after the crash = %d, want 1", n)
	}
	if n := relay(t, o, q, 10); n != 1 {
		t.Fatalf("relay after the crash sent %d, want 1 (a duplicate counts as sent)", n)
	}
	if r := outboxRecordOf(t, "crash:1"); r.SentAt == nil || r.Attempts != 0 || r.LastError != "" {
		t.Fatalf("row after the second relay: %+v", r)
	}
	info, err := insp.GetQueueInfo(ports.QueueDefault)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 1 || info.Pending != 1 {
		t.Fatalf("queue holds %d tasks (%d pending), want 1", info.Size, info.Pending)
	}

	runs := newRunCounter()
	startWorker(t, opt, map[string]ports.JobHandler{"test.crash": runs.handle, "test.barrier": runs.handle})
	ti := waitCompleted(t, insp, ports.QueueDefault, "crash:1")
	if got := runs.count("crash:1"); got != 1 {
		t.Fatalf("job ran %d times, want 1", got)
	}
	if ti.Retention != queue.Retention {
		t.Fatalf("completed task kept for %s, want %s", ti.Retention, queue.Retention)
	}

	// Crash again, now after the task has completed: the task id is still known (it is
	// retained), so the job is not queued again.
	crash("crash:1")
	if n := relay(t, o, q, 10); n != 1 {
		t.Fatalf("relay after the second crash sent %d, want 1", n)
	}
	if err := q.Enqueue(ctx, ports.Job{ID: "crash:1", Type: "test.crash"}); err != nil {
		t.Fatalf("direct enqueue of a completed job id: %v", err)
	}
	ti, err = insp.GetTaskInfo(ports.QueueDefault, "crash:1")
	if err != nil {
		t.Fatal(err)
	}
	if ti.State != hasynq.TaskStateCompleted {
		t.Fatalf("task state %s after re-enqueue, want completed", ti.State)
	}
	info, err = insp.GetQueueInfo(ports.QueueDefault)
	if err != nil {
		t.Fatal(err)
	}
	if info.Pending != 0 || info.Scheduled != 0 || info.Retry != 0 {
		t.Fatalf("queue after re-enqueue: %d pending, %d scheduled, %d retry; want none", info.Pending, info.Scheduled, info.Retry)
	}

	// A barrier job relayed after the duplicates: the worker (concurrency 1, FIFO)
	// would have run any duplicate before it.
	if err := o.Add(ctx, ports.Job{ID: "barrier:1", Type: "test.barrier"}); err != nil {
		t.Fatal(err)
	}
	if n := relay(t, o, q, 10); n != 1 {
		t.Fatalf("relay of the barrier sent %d", n)
	}
	waitCompleted(t, insp, ports.QueueDefault, "barrier:1")
	if got := runs.count("crash:1"); got != 1 {
		t.Fatalf("job ran %d times in all, want 1", got)
	}
	if got := runs.total(); got != 2 {
		t.Fatalf("%d runs in all, want 2 (the job and the barrier)", got)
	}
}
