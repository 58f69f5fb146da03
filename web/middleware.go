package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"orderdesk/ports"
)

// Logger returns the request's logger (with its request id), or slog.Default().
func Logger(ctx context.Context) *slog.Logger { return ports.Logger(ctx) }

// requestContext gives every request an id (X-Request-ID, taken from the client when
// sane), a logger carrying it, and writes one access log line when it ends.
func requestContext(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := c.Get(fiber.HeaderXRequestID)
		if id == "" || len(id) > 64 || strings.ContainsAny(id, " \t\r\n\"") {
			id = newRequestID()
		}
		c.Set(fiber.HeaderXRequestID, id)
		l := log.With("request_id", id)
		c.SetUserContext(ports.WithLogger(c.UserContext(), l))
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			status = StatusOf(err)
		}
		if c.Path() != "/healthz" && c.Path() != "/readyz" && c.Path() != "/metrics" {
			l.Info("http", "method", c.Method(), "path", c.Path(), "route", c.Route().Path, "status", status,
				"ms", time.Since(start).Milliseconds(), "ip", c.IP())
		}
		return err
	}
}

// requestIDPrefix makes request ids unique across processes; a counter makes them
// unique within one, without a call to the random source per request.
var (
	requestIDPrefix = func() string {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}()
	requestSeq atomic.Uint64
)

func newRequestID() string {
	return requestIDPrefix + "-" + strconv.FormatUint(requestSeq.Add(1), 36)
}

// httpMetrics counts requests by method, route pattern and status, and observes
// their durations.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderdesk_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "orderdesk_http_request_duration_seconds", Help: "HTTP request durations by method and route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *httpMetrics) handler(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = StatusOf(err)
	}
	route := c.Route().Path
	if status == fiber.StatusNotFound && (route == "/" || route == "/*" || route == "") {
		route = "unmatched"
	}
	m.requests.WithLabelValues(c.Method(), route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(c.Method(), route).Observe(time.Since(start).Seconds())
	return err
}

// ContentSecurityPolicy allows only the app's own scripts and styles: no inline script.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// securityHeaders sets the headers every response carries.
func securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Frame-Options", "DENY")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Content-Security-Policy", ContentSecurityPolicy)
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	return c.Next()
}

// validText refuses a request whose query parameters or form fields are not valid
// UTF-8 or contain a NUL byte, before any of it reaches a handler: PostgreSQL cannot
// store or compare such text, and no person types it. The answer names the field.
func validText(c *fiber.Ctx) error {
	var bad string
	check := func(key, value []byte) {
		if bad == "" && (!utf8.Valid(value) || bytes.IndexByte(value, 0) >= 0 || !utf8.Valid(key)) {
			bad = strings.ToValidUTF8(string(key), "?")
		}
	}
	c.Context().QueryArgs().VisitAll(check)
	switch {
	case bytes.HasPrefix(c.Request().Header.ContentType(), []byte(fiber.MIMEApplicationForm)):
		c.Context().PostArgs().VisitAll(check)
	case bytes.HasPrefix(c.Request().Header.ContentType(), []byte(fiber.MIMEMultipartForm)):
		if mf, err := c.MultipartForm(); err == nil {
			for k, vs := range mf.Value {
				for _, v := range vs {
					check([]byte(k), []byte(v))
				}
			}
		}
	}
	if bad != "" {
		return &ports.Error{Code: ports.EINVALID, Message: bad + " is not valid text (it must be UTF-8 without NUL characters).",
			Fields: []ports.FieldError{{Field: bad, Message: "Not valid text: it must be UTF-8 without NUL characters."}}}
	}
	return c.Next()
}
