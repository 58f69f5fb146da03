package ports

import "time"

// Clock tells the time. Services take one so tests can fix it.
type Clock func() time.Time

// SystemClock is the real clock.
func SystemClock() time.Time { return time.Now() }
