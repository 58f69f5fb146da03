package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"orderdesk/ports"
)

// addJobs records jobs in the transactional outbox inside tx, so that they are
// enqueued if and only if tx commits; in a Tx the rows go with its next round trip
// (Tx.Later). A job whose ID is already in the outbox is not
// added again.
func addJobs(ctx context.Context, tx sqlx.ExtContext, jobs ...ports.Job) error {
	for _, j := range jobs {
		if j.ID == "" || j.Type == "" {
			return fmt.Errorf("outbox: job needs an id and a type")
		}
		if j.Queue == "" {
			j.Queue = ports.QueueDefault
		}
		if j.MaxRetry <= 0 {
			j.MaxRetry = 25
		}
		var processAt *time.Time
		if !j.ProcessAt.IsZero() {
			processAt = &j.ProcessAt
		}
		if j.Payload == nil {
			j.Payload = []byte("{}")
		}
		const insert = `INSERT INTO platform.outbox (job_id, job_type, queue, payload, max_retry, process_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (job_id) DO NOTHING`
		if t, ok := tx.(*Tx); ok {
			t.Later(insert, j.ID, j.Type, j.Queue, j.Payload, j.MaxRetry, processAt)
			continue
		}
		if _, err := tx.ExecContext(ctx, insert, j.ID, j.Type, j.Queue, j.Payload, j.MaxRetry, processAt); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return nil
}

// Outbox relays the jobs recorded in platform.outbox to the queue.
type Outbox struct {
	db  *DB
	log *slog.Logger
}

// NewOutbox returns the outbox.
func NewOutbox(db *DB, log *slog.Logger) *Outbox { return &Outbox{db: db, log: log} }

// Add records jobs in the outbox in a transaction of their own, for callers that have
// no state change to commit with them.
func (o *Outbox) Add(ctx context.Context, jobs ...ports.Job) error {
	return o.db.inTx(ctx, func(tx *Tx) error { return addJobs(ctx, tx, jobs...) })
}

type outboxRow struct {
	ID        int64      `db:"id"`
	JobID     string     `db:"job_id"`
	JobType   string     `db:"job_type"`
	Queue     string     `db:"queue"`
	Payload   []byte     `db:"payload"`
	MaxRetry  int        `db:"max_retry"`
	ProcessAt *time.Time `db:"process_at"`
}

// RelayOnce moves up to batch unsent rows to the queue and marks them sent. Rows are
// locked with SKIP LOCKED, so several relays (one per worker process) share the work.
// If the queue refuses a job (Redis down), that row and the rest stay unsent and are
// tried on the next pass. A crash between enqueue and commit re-enqueues the rows on
// the next pass; the queue drops them as duplicates by job ID.
func (o *Outbox) RelayOnce(ctx context.Context, q ports.Enqueuer, batch int) (int, error) {
	sent := 0
	err := o.db.inTx(ctx, func(tx *Tx) error {
		var rows []outboxRow
		if err := tx.SelectContext(ctx, &rows, `SELECT id, job_id, job_type, queue, payload, max_retry, process_at
			FROM platform.outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, batch); err != nil {
			return fmt.Errorf("outbox select: %w", err)
		}
		var done []int64
		var enqErr error
		for _, r := range rows {
			j := ports.Job{ID: r.JobID, Type: r.JobType, Queue: r.Queue, Payload: r.Payload, MaxRetry: r.MaxRetry}
			if r.ProcessAt != nil {
				j.ProcessAt = *r.ProcessAt
			}
			if err := q.Enqueue(ctx, j); err != nil {
				enqErr = err
				if _, err := tx.ExecContext(ctx, `UPDATE platform.outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1`,
					r.ID, err.Error()); err != nil {
					return fmt.Errorf("outbox note error: %w", err)
				}
				break
			}
			done = append(done, r.ID)
		}
		if len(done) > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE platform.outbox SET sent_at = now(), last_error = '' WHERE id = ANY($1)`, done); err != nil {
				return fmt.Errorf("outbox mark sent: %w", err)
			}
		}
		sent = len(done)
		if enqErr != nil {
			o.log.Warn("outbox relay: queue refused a job; will retry", "err", enqErr)
		}
		return nil
	})
	return sent, err
}

// Relay runs RelayOnce every interval (and again at once after a full batch) until ctx
// ends.
func (o *Outbox) Relay(ctx context.Context, q ports.Enqueuer, interval time.Duration) {
	const batch = 100
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := o.RelayOnce(ctx, q, batch)
		if err != nil && ctx.Err() == nil {
			o.log.Error("outbox relay", "err", err)
		}
		if n == batch {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pending counts unsent rows, for metrics and the dashboard.
func (o *Outbox) Pending(ctx context.Context) (int, error) {
	var n int
	err := o.db.GetContext(ctx, &n, `SELECT count(*) FROM platform.outbox WHERE sent_at IS NULL`)
	return n, err
}

// DeleteSentBefore removes rows sent before a time; a periodic job keeps the table small.
func (o *Outbox) DeleteSentBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := o.db.ExecContext(ctx, `DELETE FROM platform.outbox WHERE sent_at < $1`, before)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
