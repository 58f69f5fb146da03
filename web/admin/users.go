package admin

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"orderdesk/modules/staff"
	"orderdesk/ports"
)

type usersData struct {
	Users    []staff.User
	Next     string
	Query    string
	Role     string
	Roles    []staff.Role
	CanWrite bool
}

func (h *Handler) users(c *fiber.Ctx) error {
	q := c.Query("q")
	if len(q) > 100 {
		q = q[:100]
	}
	role := staff.Role(c.Query("role"))
	if !role.Valid() {
		role = ""
	}
	after := c.Query("after")
	if len(after) > staff.UsernameMaxLen {
		after = ""
	}
	users, next, err := h.d.Staff.Users(c.UserContext(), staff.UserFilter{Query: q, Role: role, After: after, Limit: 50})
	if err != nil {
		return err
	}
	d := usersData{Users: users, Next: next, Query: q, Role: string(role), Roles: staff.Roles,
		CanWrite: h.d.Staff.Can(principal(c), staff.ObjUsers, staff.ActWrite)}
	return h.page(c, fiber.StatusOK, "users/list", "Staff", d, nil)
}

var userFields = []string{"username", "display_name", "role", "password", "must_change"}

func (h *Handler) newUser(c *fiber.Ctx) error {
	f := &form{Values: map[string]string{"role": string(staff.RolePacker)}, Errors: map[string]string{}}
	return h.page(c, fiber.StatusOK, "users/new", "New staff user", staff.Roles, f)
}

func (h *Handler) createUser(c *fiber.Ctx) error {
	f := newForm(c, userFields...)
	u, err := h.d.Staff.CreateUser(c.UserContext(), staff.NewUser{
		Username: f.Get("username"), DisplayName: f.Trimmed("display_name"), Role: staff.Role(f.Get("role")), Password: f.Get("password"),
	}, f.Get("must_change") == "on")
	if err != nil {
		f.Values["password"] = ""
		if !f.fail(err) {
			return err
		}
		return h.page(c, fiber.StatusUnprocessableEntity, "users/new", "New staff user", staff.Roles, f)
	}
	msg := "User " + u.Username + " created."
	if u.MustChangePassword {
		msg += " They must choose a new password when they first log in."
	}
	h.flash(c, "ok", msg)
	return h.redirect(c, "/admin/users")
}

type userData struct {
	User     *staff.User
	Roles    []staff.Role
	Self     bool
	CanWrite bool
}

func (h *Handler) loadUser(c *fiber.Ctx) (*staff.User, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return nil, fiber.NewError(fiber.StatusNotFound, "No such user.")
	}
	return h.d.Staff.User(c.UserContext(), id)
}

func (h *Handler) userPage(c *fiber.Ctx, status int, u *staff.User, f *form) error {
	if f == nil {
		f = &form{Values: map[string]string{"display_name": u.DisplayName, "role": string(u.Role)}, Errors: map[string]string{}}
	}
	p := principal(c)
	d := userData{User: u, Roles: staff.Roles, Self: p.User.ID == u.ID, CanWrite: h.d.Staff.Can(p, staff.ObjUsers, staff.ActWrite)}
	return h.page(c, status, "users/edit", "Staff user "+u.Username, d, f)
}

func (h *Handler) user(c *fiber.Ctx) error {
	u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	return h.userPage(c, fiber.StatusOK, u, nil)
}

func (h *Handler) updateUser(c *fiber.Ctx) error {
	u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	f := newForm(c, "display_name", "role")
	_, err = h.d.Staff.UpdateUser(c.UserContext(), u.ID, staff.UserUpdate{DisplayName: f.Trimmed("display_name"), Role: staff.Role(f.Get("role"))})
	if err != nil {
		if !f.fail(err) {
			return err
		}
		return h.userPage(c, fiber.StatusUnprocessableEntity, u, f)
	}
	h.flash(c, "ok", "User "+u.Username+" saved.")
	return h.redirect(c, "/admin/users/"+u.ID.String())
}

// userAction runs a one-button action on a user and reports its outcome as a flash.
func (h *Handler) userAction(c *fiber.Ctx, done string, fn func(u *staff.User) error) error {
	u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	if err := fn(u); err != nil {
		switch ports.ErrorCodeOf(err) {
		case ports.ECONFLICT, ports.EINVALID:
			h.flash(c, "error", ports.ErrorMessageOf(err))
			return h.redirect(c, "/admin/users/"+u.ID.String())
		}
		return err
	}
	h.flash(c, "ok", "User "+u.Username+" "+done+".")
	return h.redirect(c, "/admin/users/"+u.ID.String())
}

func (h *Handler) disableUser(c *fiber.Ctx) error {
	return h.userAction(c, "disabled", func(u *staff.User) error {
		_, err := h.d.Staff.SetDisabled(c.UserContext(), u.ID, true)
		return err
	})
}

func (h *Handler) enableUser(c *fiber.Ctx) error {
	return h.userAction(c, "enabled", func(u *staff.User) error {
		_, err := h.d.Staff.SetDisabled(c.UserContext(), u.ID, false)
		return err
	})
}

func (h *Handler) resetPassword(c *fiber.Ctx) error {
	u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	f := newForm(c, "password", "must_change")
	if _, err := h.d.Staff.ResetPassword(c.UserContext(), u.ID, f.Get("password"), f.Get("must_change") == "on"); err != nil {
		f.Values = map[string]string{"display_name": u.DisplayName, "role": string(u.Role)}
		if !f.fail(err) {
			return err
		}
		return h.userPage(c, fiber.StatusUnprocessableEntity, u, f)
	}
	h.flash(c, "ok", "Password of "+u.Username+" reset; their sessions have ended.")
	return h.redirect(c, "/admin/users/"+u.ID.String())
}

func (h *Handler) deleteUser(c *fiber.Ctx) error {
	u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	if err := h.d.Staff.DeleteUser(c.UserContext(), u.ID); err != nil {
		if ports.ErrorCodeOf(err) == ports.ECONFLICT {
			h.flash(c, "error", ports.ErrorMessageOf(err))
			return h.redirect(c, "/admin/users/"+u.ID.String())
		}
		return err
	}
	h.flash(c, "ok", "User "+u.Username+" deleted.")
	return h.redirect(c, "/admin/users")
}
