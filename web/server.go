package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"orderdesk/modules/catalog"
	"orderdesk/modules/payments"
	"orderdesk/web/admin"
	"orderdesk/web/api"
)

// Deps is what the HTTP side needs from the composition root.
type Deps struct {
	Admin   admin.Deps
	API     api.Deps
	Catalog *catalog.Service
	// Payments receives the payment gateway's webhooks.
	Payments *payments.Service
	Log      *slog.Logger
	Metrics  *prometheus.Registry
	// Ready checks the database and Redis for /readyz.
	Ready func(ctx context.Context) error
}

// Server is the Fiber application with the admin handler it mounts.
type Server struct {
	App   *fiber.App
	Admin *admin.Handler
	API   *api.Handler
}

// New builds the HTTP application.
func New(d Deps) (*Server, error) {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	d.Admin.Templates = Templates()
	if d.Admin.Log == nil {
		d.Admin.Log = d.Log
	}
	adm, err := admin.New(d.Admin)
	if err != nil {
		return nil, err
	}
	if d.API.Log == nil {
		d.API.Log = d.Log
	}
	apiH, err := api.New(d.API)
	if err != nil {
		return nil, err
	}
	s := &Server{Admin: adm, API: apiH}
	app := fiber.New(fiber.Config{
		AppName:               "OrderDesk",
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		BodyLimit:             12 << 20,
		ErrorHandler:          s.errorHandler(d.Log),
	})
	s.App = app
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		Logger(c.UserContext()).Error("panic", "panic", e, "path", c.Path())
	}}))
	app.Use(requestContext(d.Log))
	if d.Metrics != nil {
		app.Use(newHTTPMetrics(d.Metrics).handler)
		app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(d.Metrics, promhttp.HandlerOpts{})))
	}
	app.Use(func(c *fiber.Ctx) error {
		switch path := c.Path(); {
		case strings.HasPrefix(path, "/admin/jobs"):
			return relaxedHeaders(c) // the Asynq UI ships inline scripts
		case strings.TrimSuffix(path, "/") == api.DocsPath:
			return docsHeaders(c) // Redoc injects styles and runs its search in a blob: worker
		}
		return securityHeaders(c)
	})

	app.Use(validText)

	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", func(c *fiber.Ctx) error {
		if d.Ready != nil {
			ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
			defer cancel()
			if err := d.Ready(ctx); err != nil {
				Logger(c.UserContext()).Warn("not ready", "err", err)
				return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "error": err.Error()})
			}
		}
		return c.JSON(fiber.Map{"status": "ok"})
	})
	app.Use("/static", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
		return c.Next()
	}, filesystem.New(filesystem.Config{Root: http.FS(Static())}))
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/admin", fiber.StatusFound) })
	app.Get("/media/photos/:id/:file", media(d.Catalog))
	if d.Payments != nil {
		app.Post("/webhooks/btcpay", btcpayWebhook(d.Payments))
	}
	apiH.Register(app)
	adm.Register(app)
	return s, nil
}

func relaxedHeaders(c *fiber.Ctx) error {
	c.Set("X-Frame-Options", "DENY")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'")
	return c.Next()
}

// docsHeaders are securityHeaders with the API reference's policy.
func docsHeaders(c *fiber.Ctx) error {
	c.Set("X-Frame-Options", "DENY")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Content-Security-Policy", api.DocsContentSecurityPolicy)
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	return c.Next()
}

// errorHandler answers every error: a friendly HTML page under /admin, RFC 9457
// problem+json under /api, plain JSON elsewhere. Internal errors are logged with the
// request id and never shown.
func (s *Server) errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		status := StatusOf(err)
		msg := MessageOf(err)
		if status >= 500 {
			Logger(c.UserContext()).Error("request failed", "err", err, "path", c.Path(), "method", c.Method())
			msg = "Something went wrong on our side. It has been logged; please try again."
		}
		var fe *fiber.Error
		if status == fiber.StatusNotFound && errors.As(err, &fe) && fe.Message == "Cannot "+c.Method()+" "+c.Path() {
			msg = "There is no page at this address."
		}
		path := c.Path()
		switch {
		case strings.HasPrefix(path, "/admin"):
			c.Set("Content-Security-Policy", ContentSecurityPolicy)
			if rerr := s.Admin.ErrorPage(c, status, msg); rerr != nil {
				log.Error("error page", "err", rerr)
				return c.Status(status).SendString(msg)
			}
			return nil
		case strings.HasPrefix(path, "/api/"):
			return api.ProblemFor(c, status, err)
		default:
			return c.Status(status).JSON(fiber.Map{"status": status, "error": msg})
		}
	}
}
