package royalmail_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"orderdesk/adapters/asynq/redistest"
	"orderdesk/adapters/royalmail"
)

// Redis is claimed only by the tests that need it, and released when all have run.
var (
	redisOnce    sync.Once
	redisURL     string
	redisErr     error
	redisRelease func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	if redisRelease != nil {
		redisRelease()
	}
	os.Exit(code)
}

func redisClient(t *testing.T) *goredis.Client {
	t.Helper()
	redisOnce.Do(func() { redisURL, redisRelease, redisErr = redistest.Acquire(context.Background()) })
	if redisErr != nil {
		t.Fatalf("redis: %v", redisErr)
	}
	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// hammer calls Wait from goroutines on each limiter, calls times each, and returns
// the moments the calls were let through.
func hammer(t *testing.T, limiters []royalmail.Limiter, goroutines, calls int) []time.Time {
	t.Helper()
	var mu sync.Mutex
	var at []time.Time
	var wg sync.WaitGroup
	for _, l := range limiters {
		for range goroutines {
			wg.Go(func() {
				for range calls {
					if err := l.Wait(t.Context()); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					at = append(at, time.Now())
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	return at
}

// busiestWindow is the largest number of calls in any window of length w.
func busiestWindow(at []time.Time, w time.Duration) int {
	most := 0
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < w; j++ {
			n++
		}
		most = max(most, n)
	}
	return most
}

func TestLocalLimiterSpacesCalls(t *testing.T) {
	l := royalmail.NewLocalLimiter(20)
	at := hammer(t, []royalmail.Limiter{l}, 4, 5)
	// 20 calls a second: at most 10 in any half second, one more for timer jitter.
	if n := busiestWindow(at, 500*time.Millisecond); len(at) != 20 || n > 11 {
		t.Fatalf("%d calls, %d in the busiest half second (want at most 11)", len(at), n)
	}
}

func TestLocalLimiterRefusesPastDeadline(t *testing.T) {
	l := royalmail.NewLocalLimiter(1)
	if err := l.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := l.Wait(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("err %v after %v, want an immediate deadline error", err, time.Since(start))
	}
}

func TestRedisLimiterSharedAcrossProcesses(t *testing.T) {
	key := fmt.Sprintf("test:royalmail:limiter:%d", time.Now().UnixNano())
	// Two limiters on their own connections stand for two worker processes.
	a := royalmail.NewRedisLimiter(redisClient(t), key, 10)
	b := royalmail.NewRedisLimiter(redisClient(t), key, 10)
	at := hammer(t, []royalmail.Limiter{a, b}, 2, 6)
	// 10 calls a second between them: at most 10 in any second, two more for
	// scheduling jitter; unshared they would make about 20.
	if n := busiestWindow(at, time.Second); len(at) != 24 || n > 12 {
		t.Fatalf("%d calls, %d in the busiest second (want at most 12)", len(at), n)
	}
}

func TestRedisLimiterRefusesPastDeadlineWithoutReserving(t *testing.T) {
	rdb := redisClient(t)
	key := fmt.Sprintf("test:royalmail:limiter:%d", time.Now().UnixNano())
	l := royalmail.NewRedisLimiter(rdb, key, 1)
	if err := l.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	before, err := rdb.Get(t.Context(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the deadline", err)
	}
	if after, _ := rdb.Get(t.Context(), key).Result(); after != before {
		t.Errorf("a refused wait reserved a slot: %s → %s", before, after)
	}
	if ttl := rdb.PTTL(t.Context(), key).Val(); ttl <= 0 || ttl > 3*time.Second {
		t.Errorf("key ttl %v: it must expire once idle", ttl)
	}
}

func TestRedisLimiterUnreachable(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	if err := royalmail.NewRedisLimiter(c, "k", 1).Wait(t.Context()); err == nil {
		t.Fatal("no error from an unreachable Redis")
	}
}
