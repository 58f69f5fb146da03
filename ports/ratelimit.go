package ports

import (
	"context"
	"time"
)

// RateLimiter counts requests per key (an API key) against a limit per period shared
// by every process. Allow counts one request; when the key is over its limit it
// returns ok false and how long until a request may succeed. An error means the
// limiter could not decide (its store is unreachable); callers let the request
// through rather than fail.
type RateLimiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}
