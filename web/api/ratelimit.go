package api

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"orderdesk/ports"
)

// RateLimit answers 429 with Retry-After (whole seconds, rounded up) when the request's
// API key is over its limit. It runs after authentication, so only valid keys are
// counted, each under a hash of the key (the key itself never reaches Redis). When the
// limiter fails (Redis unreachable) the request goes through and a warning is logged:
// an outage of the limiter must not become an outage of the API. A nil limiter
// disables the limit.
func RateLimit(l ports.RateLimiter, log *slog.Logger) fiber.Handler {
	if l == nil {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	if log == nil {
		log = slog.Default()
	}
	return func(c *fiber.Ctx) error {
		_, key, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(key)))
		ok, retry, err := l.Allow(c.UserContext(), hex.EncodeToString(sum[:16]))
		if err != nil {
			log.Warn("rate limiter unavailable; request let through", "err", err)
			return c.Next()
		}
		if ok {
			return c.Next()
		}
		secs := max(int(math.Ceil(retry.Seconds())), 1)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return Problem(c, http.StatusTooManyRequests,
			"This API key has made too many requests. Try again in "+strconv.Itoa(secs)+" seconds.", nil)
	}
}
