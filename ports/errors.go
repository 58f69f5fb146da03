// Package ports holds the vocabulary that modules and adapters share across the
// hexagon's boundary: the error type, the acting principal, jobs and the audit log,
// and the interfaces through which modules reach the outside world. Nothing here
// imports a module.
package ports

import (
	"errors"
	"fmt"
)

// ErrorCode classifies an error for the outside world. The web layer maps each code
// to an HTTP status in exactly one place.
type ErrorCode string

// The error codes. Anything that is not a *Error is treated as EINTERNAL: logged, and
// shown to users only as "internal error".
const (
	EINVALID      ErrorCode = "invalid"
	ENOTFOUND     ErrorCode = "not_found"
	ECONFLICT     ErrorCode = "conflict"
	EFORBIDDEN    ErrorCode = "forbidden"
	EUNAUTHORIZED ErrorCode = "unauthorized"
	ETOOMANY      ErrorCode = "too_many_requests"
	EUNAVAILABLE  ErrorCode = "unavailable"
	EINTERNAL     ErrorCode = "internal"
)

// FieldError names one input field at fault and says what is wrong with it.
type FieldError struct {
	Field   string
	Message string
}

// Error is the application error: a code, a message meant for the user, and for
// EINVALID the fields at fault.
type Error struct {
	Code    ErrorCode
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	msg := e.Message
	for _, f := range e.Fields {
		msg += fmt.Sprintf("; %s: %s", f.Field, f.Message)
	}
	return msg
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error for the given fields, or nil when there are none,
// so that a validator can end with `return ports.Invalid(errs...)`.
func Invalid(fields ...FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "Some fields need attention.", Fields: fields}
}

// Field is a shorthand for building a FieldError.
func Field(field, message string) FieldError { return FieldError{Field: field, Message: message} }

// ErrorCodeOf returns the code of the first *Error in err's chain, EINTERNAL for any
// other non-nil error and "" for nil.
func ErrorCodeOf(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessageOf returns the user-facing message of err: the *Error's message, or
// "Internal error." for anything else.
func ErrorMessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// FieldErrorsOf returns the field errors carried by err, if any.
func FieldErrorsOf(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Message is an error whose text is a complete sentence meant for the user, as the
// parsers of typed input return; callers put it on the field at fault.
type Message string

func (m Message) Error() string { return string(m) }
