package admin

import (
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"orderdesk/ports"
)

func (h *Handler) dashboard(c *fiber.Ctx) error {
	var stats []Stat
	if h.d.Stats != nil {
		var err error
		if stats, err = h.d.Stats(c.UserContext()); err != nil {
			return err
		}
	}
	return h.page(c, fiber.StatusOK, "dashboard", "Dashboard", stats, nil)
}

type auditData struct {
	Entries []ports.AuditEntry
	Filter  ports.AuditFilter
	From    string
	To      string
	NextURL string
}

const dateLayout = "2006-01-02"

func (h *Handler) audit(c *fiber.Ctx) error {
	f := ports.AuditFilter{
		Actor: clip(c.Query("actor"), 64), Action: clip(c.Query("action"), 64),
		ObjectType: clip(c.Query("object_type"), 64), ObjectID: clip(c.Query("object_id"), 64), Limit: 50,
	}
	d := auditData{From: c.Query("from"), To: c.Query("to")}
	fm := &form{Values: map[string]string{}, Errors: map[string]string{}}
	if d.From != "" {
		t, err := time.Parse(dateLayout, d.From)
		if err != nil {
			fm.Errors["from"] = "Use a date like 2026-01-31."
		}
		f.From = t
	}
	if d.To != "" {
		t, err := time.Parse(dateLayout, d.To)
		if err != nil {
			fm.Errors["to"] = "Use a date like 2026-01-31."
		} else {
			f.To = t.Add(24 * time.Hour)
		}
	}
	if b, err := strconv.ParseInt(c.Query("before"), 10, 64); err == nil && b > 0 {
		f.Before = b
	}
	status := fiber.StatusOK
	if len(fm.Errors) > 0 {
		status = fiber.StatusUnprocessableEntity
		fm.Message = "Please correct the dates."
	} else {
		f.Limit++
		entries, err := h.d.Audit.ListAudit(c.UserContext(), f)
		if err != nil {
			return err
		}
		f.Limit--
		if len(entries) > f.Limit {
			entries = entries[:f.Limit]
			q := c.Context().QueryArgs()
			q.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
			d.NextURL = "/admin/audit?" + q.String()
		}
		d.Entries = entries
	}
	d.Filter = f
	return h.page(c, status, "audit", "Audit log", d, fm)
}

// clip shortens s to at most n bytes without cutting a character in two (half a
// character is not text PostgreSQL accepts).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func adaptHandler(hh http.Handler) fiber.Handler {
	return adaptor.HTTPHandler(hh)
}
