package admin

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"orderdesk/modules/ordering"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// Shipping methods are the shop's price list for postage. Everyone who works with
// orders may read them (support quotes them to customers, the accountant checks what
// was charged), so the list is under ObjOrders; changing them changes what customers
// pay, a decision of the roles that set product prices, so writes need ObjCatalog
// (admin, manager) rather than ObjOrders, which support also holds.
func (h *Handler) registerShipping(g fiber.Router) {
	h.menu("Shipping", "/admin/shipping", staff.ObjOrders)
	h.route(g, "GET", "/shipping", staff.ObjOrders, staff.ActRead, h.shippingMethods)
	h.route(g, "GET", "/shipping/new", staff.ObjCatalog, staff.ActWrite, h.newShippingMethod)
	h.route(g, "POST", "/shipping", staff.ObjCatalog, staff.ActWrite, h.createShippingMethod)
	h.route(g, "GET", "/shipping/:id", staff.ObjCatalog, staff.ActWrite, h.shippingMethod)
	h.route(g, "POST", "/shipping/:id", staff.ObjCatalog, staff.ActWrite, h.updateShippingMethod)
	h.route(g, "POST", "/shipping/:id/active", staff.ObjCatalog, staff.ActWrite, h.toggleShippingMethod)
}

type shippingListData struct {
	Methods  []ordering.ShippingMethod
	CanWrite bool
}

func (h *Handler) canEditShipping(c *fiber.Ctx) bool {
	return h.d.Staff.Can(principal(c), staff.ObjCatalog, staff.ActWrite)
}

func (h *Handler) shippingMethods(c *fiber.Ctx) error {
	ms, err := h.d.Orders.ShippingMethods(c.UserContext(), false)
	if err != nil {
		return err
	}
	return h.page(c, fiber.StatusOK, "shipping/list", "Shipping methods", shippingListData{Methods: ms, CanWrite: h.canEditShipping(c)}, nil)
}

var shippingFields = []string{"name", "service_code", "package_format", "price", "max_weight", "position", "express", "active"}

type shippingFormData struct {
	Method  *ordering.ShippingMethod
	Formats []ordering.PackageFormat
}

func (h *Handler) shippingForm(c *fiber.Ctx, status int, m *ordering.ShippingMethod, f *form) error {
	title := "New shipping method"
	if m != nil {
		title = "Shipping method " + m.Name
	}
	return h.page(c, status, "shipping/edit", title, shippingFormData{Method: m, Formats: ordering.PackageFormats}, f)
}

func shippingInput(f *form) ordering.ShippingMethodInput {
	return ordering.ShippingMethodInput{Name: f.Get("name"), ServiceCode: f.Get("service_code"), PackageFormat: f.Get("package_format"),
		Price: f.Get("price"), MaxWeight: f.Get("max_weight"), Position: f.Get("position"),
		Express: f.Get("express") == "on", Active: f.Get("active") == "on"}
}

func (h *Handler) newShippingMethod(c *fiber.Ctx) error {
	f := &form{Values: map[string]string{"active": "on", "package_format": string(ordering.FormatSmallParcel), "position": "0"},
		Errors: map[string]string{}}
	return h.shippingForm(c, fiber.StatusOK, nil, f)
}

func (h *Handler) createShippingMethod(c *fiber.Ctx) error {
	f := newForm(c, shippingFields...)
	m, err := h.d.Orders.CreateShippingMethod(c.UserContext(), shippingInput(f))
	if err != nil {
		if !f.fail(err) {
			return err
		}
		return h.shippingForm(c, fiber.StatusUnprocessableEntity, nil, f)
	}
	h.flash(c, "ok", "Shipping method "+m.Name+" created.")
	return h.redirect(c, "/admin/shipping")
}

func (h *Handler) loadShippingMethod(c *fiber.Ctx) (*ordering.ShippingMethod, error) {
	id, err := parseID(c, "id", "shipping method")
	if err != nil {
		return nil, err
	}
	return h.d.Orders.ShippingMethod(c.UserContext(), id)
}

func (h *Handler) shippingMethod(c *fiber.Ctx) error {
	m, err := h.loadShippingMethod(c)
	if err != nil {
		return err
	}
	f := &form{Values: map[string]string{
		"name": m.Name, "service_code": m.ServiceCode, "package_format": string(m.PackageFormat),
		"price": ports.FormatMinor(m.PriceMinor, "GBP"), "max_weight": strconv.Itoa(m.MaxWeightGrams), "position": strconv.Itoa(m.Position),
	}, Errors: map[string]string{}}
	if m.Express {
		f.Values["express"] = "on"
	}
	if m.Active {
		f.Values["active"] = "on"
	}
	return h.shippingForm(c, fiber.StatusOK, m, f)
}

func (h *Handler) updateShippingMethod(c *fiber.Ctx) error {
	m, err := h.loadShippingMethod(c)
	if err != nil {
		return err
	}
	f := newForm(c, shippingFields...)
	saved, err := h.d.Orders.UpdateShippingMethod(c.UserContext(), m.ID, shippingInput(f))
	if err != nil {
		if !f.fail(err) {
			return err
		}
		return h.shippingForm(c, fiber.StatusUnprocessableEntity, m, f)
	}
	h.flash(c, "ok", "Shipping method "+saved.Name+" saved.")
	return h.redirect(c, "/admin/shipping")
}

// toggleShippingMethod switches a method on or off. From the list (htmx) it answers
// the method's row; without JavaScript it goes back to the list.
func (h *Handler) toggleShippingMethod(c *fiber.Ctx) error {
	m, err := h.loadShippingMethod(c)
	if err != nil {
		return err
	}
	in := ordering.ShippingMethodInput{Name: m.Name, ServiceCode: m.ServiceCode, PackageFormat: string(m.PackageFormat),
		Price: ports.FormatMinor(m.PriceMinor, "GBP"), MaxWeight: strconv.Itoa(m.MaxWeightGrams), Position: strconv.Itoa(m.Position),
		Express: m.Express, Active: !m.Active}
	saved, err := h.d.Orders.UpdateShippingMethod(c.UserContext(), m.ID, in)
	if err != nil {
		return err
	}
	if c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true" {
		return h.page(c, fiber.StatusOK, "shipping/row", "Shipping method", map[string]any{"M": saved, "CanWrite": true, "Saved": true}, nil)
	}
	state := "switched off"
	if saved.Active {
		state = "switched on"
	}
	h.flash(c, "ok", saved.Name+" "+state+".")
	return h.redirect(c, "/admin/shipping")
}
