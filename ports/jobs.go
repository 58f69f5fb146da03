package ports

import (
	"context"
	"time"
)

// The queues, by priority. The worker serves them weighted 6:3:1.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueLow      = "low"
)

// Job is a unit of background work. ID is stable for the work it describes (for
// example "order.invoice:<order id>") so that enqueuing it twice runs it once.
type Job struct {
	ID        string
	Type      string
	Payload   []byte
	Queue     string
	MaxRetry  int
	ProcessAt time.Time
}

// Enqueuer puts jobs on the queue. Enqueuing a job whose ID is already queued, running
// or recently completed is not an error: the job is not added again.
type Enqueuer interface {
	Enqueue(ctx context.Context, j Job) error
}

// JobHandler processes the payload of one job. Returning an error retries the job with
// backoff; handlers must be idempotent because a job may run more than once.
type JobHandler func(ctx context.Context, payload []byte) error

// PeriodicJob is a job the scheduler enqueues on a cron spec.
type PeriodicJob struct {
	Cron  string
	Type  string
	Queue string
}
