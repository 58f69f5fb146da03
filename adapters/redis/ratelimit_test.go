package redis_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"orderdesk/adapters/asynq/redistest"
	"orderdesk/adapters/redis"
)

var redisURL string

func TestMain(m *testing.M) {
	url, release, err := redistest.Acquire(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		os.Exit(1)
	}
	redisURL = url
	code := m.Run()
	release()
	os.Exit(code)
}

func client(t *testing.T) *goredis.Client {
	t.Helper()
	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRateLimiterCountsPerKey(t *testing.T) {
	ctx := t.Context()
	l := redis.NewRateLimiter(client(t), 3, time.Minute, "test:rl1:")
	for i := range 3 {
		ok, _, err := l.Allow(ctx, "key-a")
		if err != nil || !ok {
			t.Fatalf("request %d refused: %v", i+1, err)
		}
	}
	ok, retry, err := l.Allow(ctx, "key-a")
	if err != nil || ok {
		t.Fatalf("4th request allowed (%v)", err)
	}
	if retry <= 0 || retry > time.Minute {
		t.Fatalf("retry after %v, want within the minute", retry)
	}
	if ok, _, err := l.Allow(ctx, "key-b"); err != nil || !ok {
		t.Fatalf("another key refused: %v", err)
	}
	// A second limiter on its own connection (another serve process) shares the count.
	other := redis.NewRateLimiter(client(t), 3, time.Minute, "test:rl1:")
	if ok, _, _ := other.Allow(ctx, "key-a"); ok {
		t.Fatal("the other process does not see the count")
	}
}

func TestRateLimiterWindowEnds(t *testing.T) {
	ctx := t.Context()
	l := redis.NewRateLimiter(client(t), 1, 200*time.Millisecond, "test:rl2:")
	if ok, _, _ := l.Allow(ctx, "k"); !ok {
		t.Fatal("first refused")
	}
	ok, retry, _ := l.Allow(ctx, "k")
	if ok {
		t.Fatal("second allowed")
	}
	time.Sleep(retry + 50*time.Millisecond)
	if ok, _, err := l.Allow(ctx, "k"); !ok {
		t.Fatalf("refused after the window ended: %v", err)
	}
}

// TestRateLimiterIsAtomic: 100 concurrent requests against a limit of 25 let exactly
// 25 through.
func TestRateLimiterIsAtomic(t *testing.T) {
	ctx := t.Context()
	l := redis.NewRateLimiter(client(t), 25, time.Minute, "test:rl3:")
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			ok, _, err := l.Allow(ctx, "k")
			if err != nil {
				t.Error(err)
			}
			if ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 25 {
		t.Fatalf("%d allowed, want 25", n)
	}
}

func TestRateLimiterUnreachableRedis(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	l := redis.NewRateLimiter(c, 3, time.Minute, "test:rl4:")
	if _, _, err := l.Allow(t.Context(), "k"); err == nil {
		t.Fatal("no error from an unreachable Redis")
	}
}
