package admin

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"orderdesk/modules/settings"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// paymentsTestTimeout bounds the "Test connection" call to the payment provider.
const paymentsTestTimeout = 20 * time.Second

// The shop's settings are the owner's decisions (how long customers have to pay, how
// labels are made): ObjSettings, which only admins hold. Testing the payment
// provider's connection needs write too: it uses the shop's credentials.
func (h *Handler) registerSettings(g fiber.Router) {
	const obj = staff.ObjSettings
	h.menu("Settings", "/admin/settings", obj)
	h.route(g, "GET", "/settings", obj, staff.ActRead, h.settingsPage)
	h.route(g, "POST", "/settings", obj, staff.ActWrite, h.saveSettings)
	h.route(g, "POST", "/settings/test-payments", obj, staff.ActWrite, h.testPayments)
}

var settingsFields = []string{"invoice_expiry_minutes", "block_explorer_tx_url", "label_mode", "packing_slip_prices",
	"reviews_auto_approve", "low_stock_threshold", "shop_name"}

type settingsData struct {
	Defaults        settings.Settings
	CanTestPayments bool
}

func (h *Handler) settingsForm(c *fiber.Ctx, status int, f *form) error {
	d := settingsData{Defaults: settings.Defaults(), CanTestPayments: h.d.TestPayments != nil}
	return h.page(c, status, "settings/edit", "Settings", d, f)
}

func settingsValues(s settings.Settings) *form {
	f := &form{Values: map[string]string{
		"invoice_expiry_minutes": strconv.Itoa(s.InvoiceExpiryMinutes),
		"block_explorer_tx_url":  s.BlockExplorerTxURL,
		"label_mode":             string(s.LabelMode),
		"low_stock_threshold":    strconv.Itoa(s.LowStockThreshold),
		"shop_name":              s.ShopName,
	}, Errors: map[string]string{}}
	if s.PackingSlipPrices {
		f.Values["packing_slip_prices"] = "on"
	}
	if s.ReviewsAutoApprove {
		f.Values["reviews_auto_approve"] = "on"
	}
	return f
}

// settingsInput reads the form; the numbers that are not whole numbers come back as
// field errors.
func settingsInput(f *form) (settings.Settings, []ports.FieldError) {
	var errs []ports.FieldError
	number := func(name string) int {
		n, err := strconv.Atoi(f.Trimmed(name))
		if err != nil {
			errs = append(errs, ports.Field(name, "Enter a whole number, like 10."))
		}
		return n
	}
	s := settings.Settings{
		InvoiceExpiryMinutes: number("invoice_expiry_minutes"),
		BlockExplorerTxURL:   f.Get("block_explorer_tx_url"),
		LabelMode:            settings.LabelMode(f.Get("label_mode")),
		PackingSlipPrices:    f.Get("packing_slip_prices") == "on",
		ReviewsAutoApprove:   f.Get("reviews_auto_approve") == "on",
		LowStockThreshold:    number("low_stock_threshold"),
		ShopName:             f.Get("shop_name"),
	}
	return s, errs
}

func (h *Handler) settingsPage(c *fiber.Ctx) error {
	s, err := h.d.Settings.Get(c.UserContext())
	if err != nil {
		return err
	}
	return h.settingsForm(c, fiber.StatusOK, settingsValues(s))
}

func (h *Handler) saveSettings(c *fiber.Ctx) error {
	f := newForm(c, settingsFields...)
	in, errs := settingsInput(f)
	if len(errs) > 0 {
		// Report the other fields' mistakes too, without saving anything.
		f.fail(ports.Invalid(errs...))
		f.fail(in.Normalized().Validate())
		return h.settingsForm(c, fiber.StatusUnprocessableEntity, f)
	}
	if _, err := h.d.Settings.Update(c.UserContext(), in); err != nil {
		if !f.fail(err) {
			return err
		}
		return h.settingsForm(c, fiber.StatusUnprocessableEntity, f)
	}
	h.flash(c, "ok", "Settings saved.")
	return h.redirect(c, "/admin/settings")
}

type paymentsTest struct {
	OK     bool
	Report string
}

// Lines are the report's lines, for the page.
func (t paymentsTest) Lines() []string { return strings.Split(strings.TrimSpace(t.Report), "\n") }

// testPayments asks the payment provider whether OrderDesk can reach it with the
// configured credentials. From the page (htmx) it answers the result alone, shown in
// place; without JavaScript it goes back to the page with the result as a flash.
func (h *Handler) testPayments(c *fiber.Ctx) error {
	res := paymentsTest{Report: "No payment provider test is configured."}
	if h.d.TestPayments != nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), paymentsTestTimeout)
		report, err := h.d.TestPayments(ctx)
		cancel()
		res = paymentsTest{OK: err == nil, Report: report}
		if err != nil {
			h.d.Log.Warn("payments connection test failed", "err", err)
			if strings.TrimSpace(report) == "" {
				res.Report = "The test failed: " + err.Error()
			}
		}
	}
	if c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true" {
		return h.page(c, fiber.StatusOK, "settings/test", "Test connection", res, nil)
	}
	kind := "ok"
	if !res.OK {
		kind = "error"
	}
	h.flash(c, kind, clip(res.Report, 1000)) // the flash travels in a cookie
	return h.redirect(c, "/admin/settings")
}
