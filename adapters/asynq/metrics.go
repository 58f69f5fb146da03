package asynq

import (
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// QueueCollector reports the size of each Asynq queue, by state, to Prometheus.
type QueueCollector struct {
	inspector *asynq.Inspector
	size      *prometheus.Desc
}

// NewQueueCollector returns a collector reading queue sizes through an inspector.
func NewQueueCollector(opt asynq.RedisConnOpt) *QueueCollector {
	return &QueueCollector{
		inspector: asynq.NewInspector(opt),
		size: prometheus.NewDesc("orderdesk_queue_tasks", "Tasks in each Asynq queue by state.",
			[]string{"queue", "state"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.size }

// Collect implements prometheus.Collector. A Redis outage yields no samples, not an
// error page.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	queues, err := c.inspector.Queues()
	if err != nil {
		return
	}
	for _, q := range queues {
		info, err := c.inspector.GetQueueInfo(q)
		if err != nil {
			continue
		}
		for state, n := range map[string]int{
			"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed,
		} {
			ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(n), q, state)
		}
	}
}

// Close releases the inspector's connection.
func (c *QueueCollector) Close() error { return c.inspector.Close() }
