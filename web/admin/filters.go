package admin

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// dateFilter reads from and to (dates like 2026-01-31, to inclusive) from the query
// into fm, and the valid ones into q for the page's links, returning the half-open
// range [from, to+1 day): the orders list and the accounting lists.
func dateFilter(c *fiber.Ctx, fm *form, q url.Values) (from, to time.Time) {
	for _, k := range []string{"from", "to"} {
		s := strings.TrimSpace(c.Query(k))
		if s == "" {
			continue
		}
		fm.Values[k] = s
		t, err := time.Parse(dateLayout, s)
		if err != nil {
			fm.Errors[k] = "Use a date like 2026-01-31."
			continue
		}
		q.Set(k, s)
		if k == "from" {
			from = t
		} else {
			to = t.AddDate(0, 0, 1)
		}
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		fm.Errors["to"] = "The end date cannot be before the start date."
	}
	if len(fm.Errors) > 0 {
		fm.Message = "Please correct the dates."
	}
	return from, to
}
