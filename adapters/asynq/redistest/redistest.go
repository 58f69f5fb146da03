// Package redistest gives a test package a Redis database index of its own, flushed
// before and after use, so that packages tested in parallel do not see each other's
// queues. The server is TEST_REDIS_URL, by default redis://127.0.0.1:6379.
package redistest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ServerURL is the Redis server tests use.
func ServerURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379"
}

// Acquire claims a free database index from 1 to 15 (a lock key in database 0) and
// returns its URL and a function that flushes and releases it.
func Acquire(ctx context.Context) (string, func(), error) {
	opt, err := redis.ParseURL(ServerURL())
	if err != nil {
		return "", nil, err
	}
	ctl := redis.NewClient(opt)
	deadline := time.Now().Add(3 * time.Minute)
	token := strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	for {
		for i := 1; i <= 15; i++ {
			key := fmt.Sprintf("orderdesk:test:db:%d", i)
			ok, err := ctl.SetNX(ctx, key, token, 30*time.Minute).Result()
			if err != nil {
				ctl.Close()
				return "", nil, fmt.Errorf("redis (is it running at %s?): %w", ServerURL(), err)
			}
			if !ok {
				continue
			}
			o := *opt
			o.DB = i
			c := redis.NewClient(&o)
			c.FlushDB(ctx)
			c.Close()
			release := func() {
				ctx := context.Background()
				c := redis.NewClient(&o)
				c.FlushDB(ctx)
				c.Close()
				if v, _ := ctl.Get(ctx, key).Result(); v == token {
					ctl.Del(ctx, key)
				}
				ctl.Close()
			}
			return fmt.Sprintf("redis://%s/%d", opt.Addr, i), release, nil
		}
		if time.Now().After(deadline) {
			ctl.Close()
			return "", nil, fmt.Errorf("no free Redis database index for tests")
		}
		time.Sleep(500 * time.Millisecond)
	}
}
