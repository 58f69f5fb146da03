package admin

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// parseKeyset reads the keyset cursor of an admin list ("time~id", as formatKeyset
// writes it); ok is false when s is not one.
func parseKeyset(s string) (at time.Time, id uuid.UUID, ok bool) {
	ts, rawID, found := strings.Cut(s, "~")
	if !found {
		return time.Time{}, uuid.Nil, false
	}
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, uuid.Nil, false
	}
	id, err = uuid.Parse(rawID)
	if err != nil {
		return time.Time{}, uuid.Nil, false
	}
	return at, id, true
}

// formatKeyset writes the keyset cursor of an admin list: the last row's time and id.
func formatKeyset(at time.Time, id uuid.UUID) string {
	return at.UTC().Format(time.RFC3339Nano) + "~" + id.String()
}
