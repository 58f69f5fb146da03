package api

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/google/uuid"
)

// encodeTimeCursor is the opaque cursor of a list ordered by (time, id): the orders
// and the reviews of a product.
func encodeTimeCursor(at time.Time, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id.String()))
}

// decodeTimeCursor reads a cursor encodeTimeCursor wrote; any other is a 422 naming
// the cursor parameter.
func decodeTimeCursor(s string) (time.Time, uuid.UUID, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	ts, id, ok := strings.Cut(string(b), "|")
	t, terr := time.Parse(time.RFC3339Nano, ts)
	uid, uerr := uuid.Parse(id)
	if err != nil || !ok || terr != nil || uerr != nil {
		return time.Time{}, uuid.Nil, invalid("cursor", "cursor is not one this API gave.")
	}
	return t, uid, nil
}
