// Package redis implements ports on Redis directly (the job queue, on Redis too, is
// package asynq): the API's per-key rate limiter, shared by every serve process.
package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"orderdesk/ports"
)

// RateLimiter is a fixed-window counter per key: the first request of a key opens a
// window of Period in which Limit requests are allowed. INCR and PEXPIRE run in one
// Lua script, so concurrent requests from any number of processes count exactly.
type RateLimiter struct {
	rdb    goredis.UniversalClient
	limit  int64
	period time.Duration
	prefix string
}

var _ ports.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter allows limit requests per period per key. Keys are stored under
// prefix (e.g. "orderdesk:ratelimit:api:").
func NewRateLimiter(rdb goredis.UniversalClient, limit int, period time.Duration, prefix string) *RateLimiter {
	return &RateLimiter{rdb: rdb, limit: int64(limit), period: period, prefix: prefix}
}

// countScript increments the window's counter, opening the window on the first
// request (or repairing a counter that lost its expiry), and returns the count and
// the window's remaining milliseconds.
var countScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

// Allow counts a request of key.
func (l *RateLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	res, err := countScript.Run(ctx, l.rdb, []string{l.prefix + key}, l.period.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("rate limit: unexpected reply %v", res)
	}
	if res[0] <= l.limit {
		return true, 0, nil
	}
	return false, time.Duration(res[1]) * time.Millisecond, nil
}
