package settings

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"orderdesk/ports"
)

// CacheTTL is how long Get answers from memory. A change saved by another process
// is seen within this time; a change saved through this Service, at once.
const CacheTTL = 3 * time.Second

// Store keeps the saved settings as one JSON value per key (the json names of
// Settings). Keys never saved are absent; keys this version does not know (saved by a
// newer one) are kept as they are.
type Store interface {
	// LoadSettings returns every saved value by key.
	LoadSettings(ctx context.Context) (map[string]json.RawMessage, error)
	// UpdateSettings locks the saved values against concurrent updates and passes them
	// to fn. When fn returns values, they are stored over the saved ones (other keys
	// stay) together with fn's audit entry, in one transaction; when it returns none,
	// nothing is written. An error from fn rolls back and is returned as it is.
	UpdateSettings(ctx context.Context, fn func(saved map[string]json.RawMessage) (map[string]json.RawMessage, ports.AuditEntry, error)) error
}

// Service reads and changes the shop's settings.
type Service struct {
	store Store
	clock ports.Clock

	mu       sync.Mutex
	cached   Settings
	cachedAt time.Time
	fresh    bool
	gen      uint64 // counts Updates, so that a load that raced one is not cached
}

// NewService returns the settings service.
func NewService(store Store, clock ports.Clock) *Service {
	return &Service{store: store, clock: clock}
}

// Get returns the settings in force: what was saved, and the default of anything
// never saved (or saved in a form this version cannot read). It reads the database
// at most once per CacheTTL.
func (s *Service) Get(ctx context.Context) (Settings, error) {
	now := s.clock()
	s.mu.Lock()
	if s.fresh && !now.Before(s.cachedAt) && now.Sub(s.cachedAt) < CacheTTL {
		defer s.mu.Unlock()
		return s.cached, nil
	}
	gen := s.gen
	s.mu.Unlock()

	saved, err := s.store.LoadSettings(ctx)
	if err != nil {
		return Settings{}, fmt.Errorf("load settings: %w", err)
	}
	set := decode(saved)
	s.mu.Lock()
	if s.gen == gen {
		s.cached, s.cachedAt, s.fresh = set, now, true
	}
	s.mu.Unlock()
	return set, nil
}

// Update checks next (after Normalized) and saves every setting that differs from
// the one in force, with an audit entry "settings.update" listing the changes. It
// returns the settings now in force. Errors: EINVALID naming each field at fault.
// Nothing is written when nothing changes.
func (s *Service) Update(ctx context.Context, next Settings) (Settings, error) {
	next = next.Normalized()
	if err := next.Validate(); err != nil {
		return Settings{}, err
	}
	err := s.store.UpdateSettings(ctx, func(saved map[string]json.RawMessage) (map[string]json.RawMessage, ports.AuditEntry, error) {
		changed, detail, err := diff(decode(saved), next)
		if err != nil || len(changed) == 0 {
			return nil, ports.AuditEntry{}, err
		}
		return changed, ports.Audit(ctx, "settings.update", "settings", "shop", detail), nil
	})
	if err != nil {
		return Settings{}, fmt.Errorf("save settings: %w", err)
	}
	// Forget the cache rather than fill it with next: a concurrent Update may have
	// committed after this one, and the next Get reads what is in force.
	s.mu.Lock()
	s.gen++
	s.fresh = false
	s.mu.Unlock()
	return next, nil
}

// field is a struct field of Settings and its storage key.
type field struct {
	key   string
	index int
}

// fields are the fields of Settings, in order.
var fields = func() []field {
	t := reflect.TypeFor[Settings]()
	out := make([]field, t.NumField())
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if key == "" {
			panic("settings: field " + t.Field(i).Name + " has no json name")
		}
		out[i].key, out[i].index = key, i
	}
	return out
}()

// decode builds the settings in force from saved values: each known key that holds
// a value of the field's type replaces the default; anything else (null included) is
// ignored.
func decode(saved map[string]json.RawMessage) Settings {
	set := Defaults()
	v := reflect.ValueOf(&set).Elem()
	for _, f := range fields {
		raw, ok := saved[f.key]
		if !ok || string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		fv := v.Field(f.index)
		p := reflect.New(fv.Type())
		if err := json.Unmarshal(raw, p.Interface()); err == nil {
			fv.Set(p.Elem())
		}
	}
	return set
}

// diff returns the values of next that differ from cur, by key, and a line that
// describes the changes for the audit log: `shop_name: "A" → "B"; ...`.
func diff(cur, next Settings) (map[string]json.RawMessage, string, error) {
	a, b := reflect.ValueOf(cur), reflect.ValueOf(next)
	changed := map[string]json.RawMessage{}
	var lines []string
	for _, f := range fields {
		was, err := marshal(a.Field(f.index).Interface())
		if err != nil {
			return nil, "", err
		}
		now, err := marshal(b.Field(f.index).Interface())
		if err != nil {
			return nil, "", err
		}
		if bytes.Equal(was, now) {
			continue
		}
		changed[f.key] = now
		lines = append(lines, fmt.Sprintf("%s: %s → %s", f.key, was, now))
	}
	return changed, strings.Join(lines, "; "), nil
}

// marshal encodes v as JSON without escaping &, < and > (URLs stay readable in the
// audit log).
func marshal(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
