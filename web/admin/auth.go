package admin

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"orderdesk/modules/staff"
	"orderdesk/ports"
)

func (h *Handler) loginPage(c *fiber.Ctx) error {
	if principal(c) != nil {
		return h.redirect(c, "/admin")
	}
	f := &form{Values: map[string]string{"next": safeNext(c.Query("next"))}, Errors: map[string]string{}}
	return h.page(c, fiber.StatusOK, "login", "Log in", nil, f)
}

func (h *Handler) login(c *fiber.Ctx) error {
	f := newForm(c, "username", "password", "next")
	f.Values["next"] = safeNext(f.Values["next"])
	token, p, err := h.d.Staff.Login(c.UserContext(), f.Get("username"), f.Get("password"), c.IP(), c.Get("User-Agent"))
	if err != nil {
		f.Values["password"] = ""
		if !f.fail(err) {
			return err
		}
		status := fiber.StatusUnprocessableEntity
		if ports.ErrorCodeOf(err) == ports.ETOOMANY {
			status = fiber.StatusTooManyRequests
		}
		return h.page(c, status, "login", "Log in", nil, f)
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: token, Path: "/admin", HTTPOnly: true, Secure: h.d.SecureCookies,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Now().Add(staff.SessionIdleTimeout * 14)})
	h.clearCookie(c, csrfCookie)
	ports.Logger(c.UserContext()).Info("staff login", "user", p.User.Username)
	if p.User.MustChangePassword {
		return h.redirect(c, "/admin/password")
	}
	return h.redirect(c, f.Get("next"))
}

// safeNext keeps a post-login destination only when it is a path inside the admin.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(u.Path, "/admin") ||
		strings.HasPrefix(next, "//") || strings.HasPrefix(u.Path, "/admin/login") {
		return "/admin"
	}
	return u.RequestURI()
}

func (h *Handler) logout(c *fiber.Ctx) error {
	if err := h.d.Staff.Logout(c.UserContext(), c.Cookies(sessionCookie)); err != nil {
		return err
	}
	h.clearCookie(c, sessionCookie)
	h.flash(c, "ok", "You have logged out.")
	return h.redirect(c, "/admin/login")
}

func (h *Handler) passwordPage(c *fiber.Ctx) error {
	return h.page(c, fiber.StatusOK, "password", "Change password", nil, &form{Values: map[string]string{}, Errors: map[string]string{}})
}

func (h *Handler) changePassword(c *fiber.Ctx) error {
	f := newForm(c, "current_password", "new_password", "confirm_password")
	p := principal(c)
	err := h.d.Staff.ChangePassword(c.UserContext(), p, f.Get("current_password"), f.Get("new_password"), f.Get("confirm_password"))
	if err != nil {
		f.Values = map[string]string{}
		if !f.fail(err) {
			return err
		}
		return h.page(c, fiber.StatusUnprocessableEntity, "password", "Change password", nil, f)
	}
	h.flash(c, "ok", "Your password has been changed.")
	return h.redirect(c, "/admin")
}
