// Package admin is the staff's HTMX admin: login, the role-aware shell, and the pages
// of each module. Every route declares the policy object and action it needs; the
// middleware enforces it on the server, and the menu is built from the same table.
package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"orderdesk/modules/accounting"
	"orderdesk/modules/catalog"
	"orderdesk/modules/clients"
	"orderdesk/modules/fulfilment"
	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
	"orderdesk/modules/reviews"
	"orderdesk/modules/settings"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// Cookie names.
const (
	sessionCookie = "od_session"
	csrfCookie    = "od_csrf"
	flashCookie   = "od_flash"
)

// Stat is one figure on the dashboard.
type Stat struct {
	Label string
	Value string
	Href  string
}

// Deps is what the admin needs.
type Deps struct {
	Staff         *staff.Service
	Catalog       *catalog.Service
	Clients       *clients.Service
	Orders        *ordering.Service
	Payments      *payments.Service
	Fulfilment    *fulfilment.Service
	Settings      *settings.Service
	Audit         ports.AuditLog
	Templates     fs.FS
	SecureCookies bool
	// JobsUI is the Asynq monitoring UI, mounted at /admin/jobs when not nil.
	JobsUI http.Handler
	// Accounting serves the accountant's pages (nil leaves them out).
	Accounting *accounting.Service
	// ExplorerTxURL returns the block explorer's URL template for transactions
	// ("{txid}" stands for the id), from the settings.
	ExplorerTxURL func(ctx context.Context) (string, error)
	// Stats returns the dashboard's figures.
	Stats func(ctx context.Context) ([]Stat, error)
	// TestPayments checks the connection to the payment provider and says what it
	// found (the settings page's "Test connection"); with an error, the report (when
	// not empty) says what failed. Nil hides the button.
	TestPayments func(ctx context.Context) (report string, err error)
	Log          *slog.Logger
	// Reviews serves the moderation queue of product reviews (nil leaves it out).
	Reviews *reviews.Service
}

// Route is one admin route and the permission it needs. Obj "" means any logged-in
// user; Public means no login at all.
type Route struct {
	Method, Path string
	Obj, Act     string
	Public       bool
}

type navItem struct {
	Label, Href, Obj string
}

// Handler serves the admin.
type Handler struct {
	d      Deps
	tmpl   *renderer
	routes []Route
	nav    []navItem
}

// New builds the admin handler.
func New(d Deps) (*Handler, error) {
	r, err := newRenderer(d.Templates)
	if err != nil {
		return nil, err
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Handler{d: d, tmpl: r}, nil
}

// Routes lists every registered admin route with its permission.
func (h *Handler) Routes() []Route { return append([]Route(nil), h.routes...) }

// Register mounts the admin on app.
func (h *Handler) Register(app *fiber.App) {
	g := app.Group("/admin", h.authenticate, h.checkCSRF)
	h.public(g, "GET", "/login", h.loginPage)
	h.public(g, "POST", "/login", h.login)
	h.route(g, "POST", "/logout", "", "", h.logout)
	h.route(g, "GET", "/password", "", "", h.passwordPage)
	h.route(g, "POST", "/password", "", "", h.changePassword)
	h.route(g, "GET", "", "", "", h.home)

	h.menu("Dashboard", "/admin/dashboard", staff.ObjDashboard)
	h.route(g, "GET", "/dashboard", staff.ObjDashboard, staff.ActRead, h.dashboard)

	h.registerOrders(g)
	h.registerPayments(g)

	h.registerFulfilment(g)

	h.registerCatalog(g)
	h.registerShipping(g)
	if h.d.Reviews != nil {
		h.registerReviews(g)
	}

	h.registerAccounting(g)
	h.registerClients(g)

	h.menu("Staff", "/admin/users", staff.ObjUsers)
	h.route(g, "GET", "/users", staff.ObjUsers, staff.ActRead, h.users)
	h.route(g, "GET", "/users/new", staff.ObjUsers, staff.ActWrite, h.newUser)
	h.route(g, "POST", "/users", staff.ObjUsers, staff.ActWrite, h.createUser)
	h.route(g, "GET", "/users/:id", staff.ObjUsers, staff.ActRead, h.user)
	h.route(g, "POST", "/users/:id", staff.ObjUsers, staff.ActWrite, h.updateUser)
	h.route(g, "POST", "/users/:id/disable", staff.ObjUsers, staff.ActWrite, h.disableUser)
	h.route(g, "POST", "/users/:id/enable", staff.ObjUsers, staff.ActWrite, h.enableUser)
	h.route(g, "POST", "/users/:id/password", staff.ObjUsers, staff.ActWrite, h.resetPassword)
	h.route(g, "POST", "/users/:id/delete", staff.ObjUsers, staff.ActWrite, h.deleteUser)

	h.menu("Audit log", "/admin/audit", staff.ObjAudit)
	h.route(g, "GET", "/audit", staff.ObjAudit, staff.ActRead, h.audit)

	if h.d.JobsUI != nil {
		h.menu("Jobs", "/admin/jobs", staff.ObjJobs)
		jobs := adaptHandler(h.d.JobsUI)
		for _, m := range []string{"GET", "POST", "DELETE"} {
			h.route(g, m, "/jobs", staff.ObjJobs, staff.ActWrite, jobs)
			h.route(g, m, "/jobs/*", staff.ObjJobs, staff.ActWrite, jobs)
		}
	}

	h.registerSettings(g)
	// Anything else under /admin is a friendly 404 for a logged-in user.
	g.Use(func(c *fiber.Ctx) error {
		return fiber.NewError(fiber.StatusNotFound, "There is no page at this address.")
	})
}

func (h *Handler) menu(label, href, obj string) {
	h.nav = append(h.nav, navItem{Label: label, Href: href, Obj: obj})
}

func (h *Handler) public(g fiber.Router, method, path string, fn fiber.Handler) {
	h.routes = append(h.routes, Route{Method: method, Path: "/admin" + path, Public: true})
	g.Add(method, path, fn)
}

// route registers fn behind the permission (obj, act).
func (h *Handler) route(g fiber.Router, method, path, obj, act string, fn fiber.Handler) {
	h.routes = append(h.routes, Route{Method: method, Path: "/admin" + path, Obj: obj, Act: act})
	g.Add(method, path, h.require(obj, act), fn)
}

const principalKey = "principal"

func principal(c *fiber.Ctx) *staff.Principal {
	p, _ := c.Locals(principalKey).(*staff.Principal)
	return p
}

func isPublic(path string) bool {
	return path == "/admin/login"
}

// authenticate resolves the session cookie to a principal. Without one, a request for
// a private page is sent to the login page; a user who must change their password is
// sent to the password page until they have.
func (h *Handler) authenticate(c *fiber.Ctx) error {
	if token := c.Cookies(sessionCookie); token != "" {
		p, err := h.d.Staff.Authenticate(c.UserContext(), token)
		switch {
		case err == nil:
			c.Locals(principalKey, p)
			c.SetUserContext(ports.WithActor(c.UserContext(), ports.Actor{
				Kind: ports.ActorStaff, ID: p.User.ID.String(), Name: p.User.Username, IP: c.IP()}))
		case ports.ErrorCodeOf(err) == ports.EUNAUTHORIZED:
			h.clearCookie(c, sessionCookie)
		default:
			return err
		}
	}
	path := strings.TrimRight(c.Path(), "/")
	p := principal(c)
	if isPublic(path) {
		return c.Next()
	}
	if p == nil {
		next := c.OriginalURL()
		if c.Method() != fiber.MethodGet {
			next = "/admin"
		}
		return h.redirect(c, "/admin/login?next="+url.QueryEscape(next))
	}
	if p.User.MustChangePassword && path != "/admin/password" && path != "/admin/logout" {
		return h.redirect(c, "/admin/password")
	}
	return c.Next()
}

// require answers 403 unless the principal's role may perform act on obj.
func (h *Handler) require(obj, act string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if obj == "" {
			return c.Next()
		}
		if !h.d.Staff.Can(principal(c), obj, act) {
			return fiber.NewError(fiber.StatusForbidden, "Your role does not give access to this page or action.")
		}
		return c.Next()
	}
}

// csrfToken is the token the page must send back: the session's, or for anonymous
// visitors (the login form) a random one kept in a cookie.
func (h *Handler) csrfToken(c *fiber.Ctx) string {
	if p := principal(c); p != nil {
		return p.Session.CSRFToken
	}
	if t := c.Cookies(csrfCookie); len(t) >= 32 && len(t) <= 64 {
		return t
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: t, Path: "/admin", HTTPOnly: true, Secure: h.d.SecureCookies,
		SameSite: fiber.CookieSameSiteStrictMode})
	c.Request().Header.SetCookie(csrfCookie, t)
	return t
}

// checkCSRF refuses a state-changing request that does not present the page's token
// (form field _csrf or header X-CSRF-Token). The Asynq UI, which cannot send the
// token, is held to a same-origin check instead.
func (h *Handler) checkCSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if strings.HasPrefix(c.Path(), "/admin/jobs") {
		if c.Get("Sec-Fetch-Site") == "same-origin" || sameOrigin(c) {
			return c.Next()
		}
		return fiber.NewError(fiber.StatusForbidden, "Cross-site request refused.")
	}
	want := ""
	if p := principal(c); p != nil {
		want = p.Session.CSRFToken
	} else {
		want = c.Cookies(csrfCookie)
	}
	match := func(got string) bool { return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 }
	if want == "" || !(match(c.Get("X-CSRF-Token")) || match(c.FormValue("_csrf"))) {
		return fiber.NewError(fiber.StatusForbidden, "This form has expired. Reload the page and try again.")
	}
	return c.Next()
}

func sameOrigin(c *fiber.Ctx) bool {
	o := c.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == c.Hostname()
}

// redirect answers 303, or for htmx an HX-Location-free HX-Redirect so that the whole
// page changes.
func (h *Handler) redirect(c *fiber.Ctx, to string) error {
	if c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true" {
		c.Set("HX-Redirect", to)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

func (h *Handler) clearCookie(c *fiber.Ctx, name string) {
	path := "/admin"
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: path, Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, Secure: h.d.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode})
}

// flash stores a one-time message shown on the next page.
func (h *Handler) flash(c *fiber.Ctx, kind, msg string) {
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: url.QueryEscape(kind + "|" + msg), Path: "/admin",
		HTTPOnly: true, Secure: h.d.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode, MaxAge: 60})
}

type flashMsg struct{ Kind, Text string }

func (h *Handler) takeFlash(c *fiber.Ctx) *flashMsg {
	raw := c.Cookies(flashCookie)
	if raw == "" {
		return nil
	}
	h.clearCookie(c, flashCookie)
	s, err := url.QueryUnescape(raw)
	if err != nil {
		return nil
	}
	kind, text, ok := strings.Cut(s, "|")
	if !ok || (kind != "ok" && kind != "error") {
		return nil
	}
	return &flashMsg{Kind: kind, Text: text}
}

// view is what every page template receives.
type view struct {
	Title     string
	Principal *staff.Principal
	Nav       []navItem
	Active    string
	CSRF      string
	Flash     *flashMsg
	Form      *form
	Data      any
}

func (h *Handler) view(c *fiber.Ctx, title string, data any) *view {
	v := &view{Title: title, Principal: principal(c), CSRF: h.csrfToken(c), Flash: h.takeFlash(c), Data: data}
	if v.Principal != nil && !v.Principal.User.MustChangePassword {
		for _, n := range h.nav {
			if h.d.Staff.Can(v.Principal, n.Obj, staff.ActRead) {
				v.Nav = append(v.Nav, n)
				if strings.HasPrefix(c.Path(), n.Href) {
					v.Active = n.Href
				}
			}
		}
	}
	return v
}

func (h *Handler) page(c *fiber.Ctx, status int, name, title string, data any, f *form) error {
	v := h.view(c, title, data)
	v.Form = f
	return h.tmpl.render(c, status, name, v)
}

// ErrorPage renders the friendly error page for status; the app's error handler uses
// it for every /admin path.
func (h *Handler) ErrorPage(c *fiber.Ctx, status int, msg string) error {
	if principal(c) == nil && c.Cookies(sessionCookie) != "" {
		// The error happened before authentication ran (an unknown path is matched by
		// no group): look the session up so the page can show the menu.
		if p, err := h.d.Staff.Authenticate(c.UserContext(), c.Cookies(sessionCookie)); err == nil {
			c.Locals(principalKey, p)
		}
	}
	title := http.StatusText(status)
	data := map[string]any{"Status": status, "Message": msg}
	return h.page(c, status, "error", title, data, nil)
}

// home sends the user to the first section their role may read.
func (h *Handler) home(c *fiber.Ctx) error {
	p := principal(c)
	for _, n := range h.nav {
		if h.d.Staff.Can(p, n.Obj, staff.ActRead) {
			return h.redirect(c, n.Href)
		}
	}
	return h.redirect(c, "/admin/password")
}
