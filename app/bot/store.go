package bot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// store keeps the sessions on disk, one JSON file per customer under sessions/, and
// the ids of the webhook events already handled (seen-events.json). Every change is
// written before it is acted on (a temporary file renamed over the old one), so a
// restart or a crash loses nothing.
type store struct {
	dir   string
	log   *slog.Logger
	now   func() time.Time
	mu    sync.Mutex
	cache map[int64]*Session
	seen  map[string]int64 // event id → unix seconds when handled
}

// seenKeep is how long a handled event id is remembered: longer than OrderDesk retries
// a delivery (24 hours), with room for a resend by hand.
const seenKeep = 14 * 24 * time.Hour

func openStore(dir string, log *slog.Logger, now func() time.Time) (*store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "sessions"), 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	s := &store{dir: dir, log: log, now: now, cache: map[int64]*Session{}, seen: map[string]int64{}}
	b, err := os.ReadFile(filepath.Join(dir, "seen-events.json"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("seen events: %w", err)
	default:
		if err := json.Unmarshal(b, &s.seen); err != nil {
			log.Error("seen-events.json is not valid JSON; starting a new one", "err", err)
			s.seen = map[string]int64{}
		}
	}
	return s, nil
}

func (s *store) path(userID int64) string {
	return filepath.Join(s.dir, "sessions", strconv.FormatInt(userID, 10)+".json")
}

// load returns the user's session, from the cache or the disk; a new one when there
// is none. A file that cannot be read as a session is set aside (renamed *.corrupt)
// and logged, so that the customer can carry on.
func (s *store) load(userID int64) (*Session, error) {
	if sess, ok := s.cache[userID]; ok {
		return sess, nil
	}
	sess := &Session{UserID: userID}
	b, err := os.ReadFile(s.path(userID))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read session: %w", err)
	default:
		if err := json.Unmarshal(b, sess); err != nil {
			bad := s.path(userID) + "." + strconv.FormatInt(s.now().Unix(), 10) + ".corrupt"
			s.log.Error("session file is not valid JSON; set aside", "user", userID, "file", bad, "err", err)
			if err := os.Rename(s.path(userID), bad); err != nil {
				return nil, fmt.Errorf("set aside session: %w", err)
			}
			sess = &Session{UserID: userID}
		}
		sess.UserID = userID
	}
	s.cache[userID] = sess
	return sess, nil
}

// get returns a copy of the user's session.
func (s *store) get(userID int64) (Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, err := s.load(userID)
	if err != nil {
		return Session{}, err
	}
	return clone(sess), nil
}

// update changes the user's session with fn and writes it to disk; when fn fails
// nothing changes. It returns a copy of the new session.
func (s *store) update(userID int64, fn func(*Session) error) (Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.load(userID)
	if err != nil {
		return Session{}, err
	}
	next := clone(cur)
	if err := fn(&next); err != nil {
		return Session{}, err
	}
	b, err := json.MarshalIndent(&next, "", "  ")
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	if err := writeFile(s.path(userID), b); err != nil {
		return Session{}, err
	}
	saved := clone(&next)
	s.cache[userID] = &saved
	return next, nil
}

// seenEvent says whether a webhook event was handled already.
func (s *store) seenEvent(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.seen[id]
	return ok
}

// markEvent records that a webhook event was handled, and forgets those older than
// seenKeep.
func (s *store) markEvent(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.seen[id] = now.Unix()
	for k, at := range s.seen {
		if now.Sub(time.Unix(at, 0)) > seenKeep {
			delete(s.seen, k)
		}
	}
	b, err := json.Marshal(s.seen)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(s.dir, "seen-events.json"), b)
}

// clone deep-copies a session.
func clone(s *Session) Session {
	out := *s
	out.Cart = append([]CartLine(nil), s.Cart...)
	out.Pending = append([]string(nil), s.Pending...)
	out.Cancelled = append([]string(nil), s.Cancelled...)
	if s.Checkout != nil {
		c := *s.Checkout
		c.Done = append([]string(nil), s.Checkout.Done...)
		out.Checkout = &c
	}
	if s.Awaiting != nil {
		a := *s.Awaiting
		out.Awaiting = &a
	}
	return out
}

// writeFile replaces path with data atomically: a synced temporary file renamed over it.
func writeFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
