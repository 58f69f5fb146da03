package royalmail

import (
	"context"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Limiter spaces out calls to a Royal Mail API. Wait returns when the caller may make
// one call, or with an error when ctx ends first or the next free moment lies past
// ctx's deadline.
type Limiter interface {
	Wait(ctx context.Context) error
}

// interval is the spacing of perSecond calls a second; below 1 counts as 1.
func interval(perSecond int) time.Duration {
	if perSecond < 1 {
		perSecond = 1
	}
	return time.Second / time.Duration(perSecond)
}

// LocalLimiter spaces calls within one process: each call gets the next free slot,
// slots 1/perSecond apart.
type LocalLimiter struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time
}

// NewLocalLimiter allows perSecond calls a second in this process (at least 1). It
// suits tests and a single process; several worker processes share a RedisLimiter.
func NewLocalLimiter(perSecond int) *LocalLimiter {
	return &LocalLimiter{interval: interval(perSecond)}
}

// Wait takes the next free slot and sleeps until it comes.
func (l *LocalLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	now := time.Now()
	slot := now
	if l.next.After(now) {
		slot = l.next
	}
	wait := slot.Sub(now)
	if d, ok := ctx.Deadline(); ok && slot.After(d) {
		l.mu.Unlock()
		return fmt.Errorf("rate limit: next call in %v, past the deadline: %w", wait.Round(time.Millisecond), context.DeadlineExceeded)
	}
	l.next = slot.Add(l.interval)
	l.mu.Unlock()
	return sleep(ctx, wait)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RedisLimiter spaces calls across every process that shares a Redis key: a Lua
// script reserves the next free slot (by Redis's own clock, so the processes' clocks
// need not agree) and the caller sleeps until it.
type RedisLimiter struct {
	rdb      goredis.UniversalClient
	key      string
	interval time.Duration
}

// NewRedisLimiter allows perSecond calls a second (at least 1) among all the limiters
// on key, e.g. "orderdesk:royalmail:clickanddrop:<account>".
func NewRedisLimiter(rdb goredis.UniversalClient, key string, perSecond int) *RedisLimiter {
	return &RedisLimiter{rdb: rdb, key: key, interval: interval(perSecond)}
}

// reserveScript takes the next free slot unless it is more than ARGV[2] ms away
// (ARGV[2] < 0: no bound) and returns {taken (1|0), ms to wait}. KEYS[1] holds the
// first free slot in ms of Redis time; it expires once idle.
var reserveScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local maxWait = tonumber(ARGV[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, free)
local wait = slot - now
if maxWait >= 0 and wait > maxWait then
  return {0, wait}
end
redis.call('SET', KEYS[1], slot + interval, 'PX', wait + interval + 1000)
return {1, wait}
`)

// Wait reserves a slot in Redis and sleeps until it. An unreachable Redis is an
// error: the call is not made.
func (l *RedisLimiter) Wait(ctx context.Context) error {
	maxWait := int64(-1)
	if d, ok := ctx.Deadline(); ok {
		maxWait = max(0, time.Until(d).Milliseconds())
	}
	res, err := reserveScript.Run(ctx, l.rdb, []string{l.key}, l.interval.Milliseconds(), maxWait).Int64Slice()
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	if len(res) != 2 {
		return fmt.Errorf("rate limit: unexpected reply %v", res)
	}
	wait := time.Duration(res[1]) * time.Millisecond
	if res[0] == 0 {
		return fmt.Errorf("rate limit: next call in %v, past the deadline: %w", wait, context.DeadlineExceeded)
	}
	return sleep(ctx, wait)
}
