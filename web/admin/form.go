package admin

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"orderdesk/ports"
)

// form carries what a user typed and what is wrong with it, for re-rendering.
type form struct {
	Values  map[string]string
	Errors  map[string]string
	Message string
}

func newForm(c *fiber.Ctx, fields ...string) *form {
	f := &form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, name := range fields {
		f.Values[name] = c.FormValue(name)
	}
	return f
}

// Get returns a field's value.
func (f *form) Get(name string) string { return f.Values[name] }

// Error returns a field's message.
func (f *form) Error(name string) string { return f.Errors[name] }

// Trimmed returns a field's value without surrounding space.
func (f *form) Trimmed(name string) string { return strings.TrimSpace(f.Values[name]) }

// fail records err on the form: field errors by field, anything else as the message.
// It reports whether err was a user error worth re-rendering the form for.
func (f *form) fail(err error) bool {
	switch ports.ErrorCodeOf(err) {
	case ports.EINVALID, ports.ECONFLICT, ports.EUNAUTHORIZED, ports.ETOOMANY, ports.ENOTFOUND:
	default:
		return false
	}
	fields := ports.FieldErrorsOf(err)
	for _, fe := range fields {
		if _, seen := f.Errors[fe.Field]; !seen {
			f.Errors[fe.Field] = fe.Message
		}
	}
	if len(fields) == 0 {
		f.Message = ports.ErrorMessageOf(err)
	} else {
		f.Message = "Please correct the fields marked below."
	}
	return true
}
