package web

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"orderdesk/ports"
)

// StatusOf maps an error to its HTTP status. It is the one place where error codes
// become statuses.
func StatusOf(err error) int {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	switch ports.ErrorCodeOf(err) {
	case ports.EINVALID:
		return http.StatusUnprocessableEntity
	case ports.ENOTFOUND:
		return http.StatusNotFound
	case ports.ECONFLICT:
		return http.StatusConflict
	case ports.EFORBIDDEN:
		return http.StatusForbidden
	case ports.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case ports.ETOOMANY:
		return http.StatusTooManyRequests
	case ports.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// MessageOf is the user-facing message for err: its own message for known errors,
// the status text for HTTP errors, and "Internal error." for the rest.
func MessageOf(err error) string {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return ports.ErrorMessageOf(err)
}
