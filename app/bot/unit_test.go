package bot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tele "gopkg.in/telebot.v3"

	"orderdesk/modules/clients"
)

func TestVerifySignature(t *testing.T) {
	const secret = "whsec_test"
	body := []byte(`{"id":"e1","type":"order.created","data":{}}`)
	now := time.Unix(1_800_000_000, 0)
	good := clients.Sign(secret, now, body)
	ts := "t=1800000000"
	tests := []struct {
		name   string
		header string
		body   []byte
		at     time.Time
		want   error
	}{
		{"signed by OrderDesk", good, body, now, nil},
		{"4 minutes later", good, body, now.Add(4 * time.Minute), nil},
		{"spaces after commas", strings.ReplaceAll(good, ",", ", "), body, now, nil},
		{"rotation: second v1 matches", ts + ",v1=" + strings.Repeat("ab", 32) + "," + good[len(ts)+1:], body, now, nil},
		{"6 minutes later", good, body, now.Add(6 * time.Minute), errSignatureStale},
		{"from the future", good, body, now.Add(-6 * time.Minute), errSignatureStale},
		{"another secret", clients.Sign("whsec_other", now, body), body, now, errSignatureMismatch},
		{"another body", good, append([]byte(" "), body...), now, errSignatureMismatch},
		{"another timestamp", "t=1800000001," + good[len(ts)+1:], body, now, errSignatureMismatch},
		{"missing", "", body, now, errSignatureMissing},
		{"no v1", ts, body, now, errSignatureFormat},
		{"no t", good[len(ts)+1:], body, now, errSignatureFormat},
		{"not hex", ts + ",v1=xyz", body, now, errSignatureFormat},
		{"no equals", "t1800000000,v1", body, now, errSignatureFormat},
		{"t not a number", "t=soon," + good[len(ts)+1:], body, now, errSignatureFormat},
	}
	for _, tt := range tests {
		if err := verifySignature(secret, tt.header, tt.body, tt.at, 5*time.Minute); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestAddressSteps(t *testing.T) {
	tests := []struct {
		field, in, want, problem string
	}{
		{"name", "  Ann   Example ", "Ann Example", ""},
		{"name", "   ", "", "That is empty: please send the recipient's name."},
		{"name", strings.Repeat("a", 211), "", "at most 210 characters"},
		{"line1", "1 High St\nLondon", "", "one line at a time"},
		{"line2", "   ", "", "or tap Skip"},
		{"postcode", "sw1a1aa", "SW1A 1AA", ""},
		{"postcode", " SW1A  1AA ", "SW1A 1AA", ""},
		{"postcode", "m11ae", "M1 1AE", ""},
		{"postcode", "EC1A 1BB", "EC1A 1BB", ""},
		{"postcode", "gir0aa", "GIR 0AA", ""},
		{"postcode", "ZZ9 9ZZ", "", "“ZZ9 9ZZ” is not a UK postcode"},
		{"postcode", "12345", "", "not a UK postcode"},
		{"postcode", "SW1A", "", "not a UK postcode"},
		{"postcode", "75001", "", "we ship within the UK only"},
		{"phone", "+44 (0)20 7946-0000", "+44 (0)20 7946-0000", ""},
		{"phone", "020 7946", "020 7946", ""},
		{"phone", "12345", "", "at least 7 digits"},
		{"phone", "call me", "", "digits, spaces, + - ( and ) only"},
		{"phone", strings.Repeat("1", 26), "", "at most 25 characters"},
	}
	for _, tt := range tests {
		got, problem := steps[stepIndex(tt.field)].validate(tt.in)
		if got != tt.want || (tt.problem == "") != (problem == "") || !strings.Contains(problem, tt.problem) {
			t.Errorf("%s %q: %q, %q; want %q, %q", tt.field, tt.in, got, problem, tt.want, tt.problem)
		}
	}
	if stepIndex("line3") != -1 || stepIndex(stepConfirm) != -1 {
		t.Error("stepIndex knows steps that are not asked")
	}
	co := &Checkout{}
	for _, st := range steps {
		if got := co.nextStep(); got != st.field {
			t.Fatalf("next step %q, want %q", got, st.field)
		}
		co.answer(st.field, "x")
	}
	if got := co.nextStep(); got != "" {
		t.Fatalf("next step after all: %q", got)
	}
	co.reopen("postcode")
	if co.nextStep() != "postcode" || co.Address.Postcode != "" || co.Address.City != "x" {
		t.Fatalf("reopen: %+v", co)
	}
}

func TestMoney(t *testing.T) {
	for in, want := range map[string]int64{"4.50": 450, "4.5": 450, "4": 400, "0.05": 5, "-1.05": -105, "1234.56": 123456} {
		if got, ok := parseMinor(in, 2); !ok || got != want {
			t.Errorf("parseMinor(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "1.234", "abc", ".5", "1.2.3", "1e3"} {
		if got, ok := parseMinor(in, 2); ok {
			t.Errorf("parseMinor(%q) = %d, want not ok", in, got)
		}
	}
	for pence, want := range map[int64]string{0: "£0.00", 5: "£0.05", 450: "£4.50", 123456: "£1,234.56", 123456789: "£1,234,567.89", -250: "-£2.50"} {
		if got := gbp(pence); got != want {
			t.Errorf("gbp(%d) = %q, want %q", pence, got, want)
		}
	}
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	if got := until(now.Add(59*time.Minute), now); got != "13:59 on 1 Jul UK time (in 59 minutes)" {
		t.Errorf("until, summer time: %q", got)
	}
	if got := until(now.Add(-time.Minute), now); !strings.Contains(got, "that time has passed") {
		t.Errorf("until, past: %q", got)
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	good := map[string]string{"TELEGRAM_BOT_TOKEN": "123456:ABC-def_123", "ORDERDESK_API_URL": "https://shop.example",
		"ORDERDESK_API_KEY": "od_abc_def", "BOT_WEBHOOK_SECRET": "whsec_x", "BOT_DATA_DIR": filepath.Join(dir, "bot")}
	with := func(k, v string) func(string) string {
		return func(name string) string {
			if name == k {
				return v
			}
			return good[name]
		}
	}
	cfg, err := LoadConfig(with("", ""))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIURL != "https://shop.example/api/v1" || cfg.TelegramAPIURL != "https://api.telegram.org" || cfg.WebhookAddr != ":8090" ||
		cfg.SignatureTolerance != 5*time.Minute {
		t.Errorf("defaults: %+v", cfg)
	}
	if fi, err := os.Stat(good["BOT_DATA_DIR"]); err != nil || !fi.IsDir() {
		t.Errorf("the data directory was not made: %v", err)
	}
	if cfg, _ := LoadConfig(with("ORDERDESK_API_URL", "http://od:8080/api/v1/")); cfg == nil || cfg.APIURL != "http://od:8080/api/v1" {
		t.Errorf("an API URL with its path: %+v", cfg)
	}
	tests := []struct{ name, value, wantVar string }{
		{"TELEGRAM_BOT_TOKEN", "", "TELEGRAM_BOT_TOKEN"},
		{"TELEGRAM_BOT_TOKEN", "not a token", "TELEGRAM_BOT_TOKEN"},
		{"TELEGRAM_API_URL", "ftp://x", "TELEGRAM_API_URL"},
		{"ORDERDESK_API_URL", "", "ORDERDESK_API_URL"},
		{"ORDERDESK_API_URL", "shop.example", "ORDERDESK_API_URL"},
		{"ORDERDESK_API_KEY", "", "ORDERDESK_API_KEY"},
		{"ORDERDESK_API_KEY", "od_abc def", "ORDERDESK_API_KEY"},
		{"BOT_WEBHOOK_ADDR", "8090", "BOT_WEBHOOK_ADDR"},
		{"BOT_WEBHOOK_SECRET", "", "BOT_WEBHOOK_SECRET"},
		{"BOT_DATA_DIR", filepath.Join(file, "bot"), "BOT_DATA_DIR"},
		{"LOG_LEVEL", "loud", "LOG_LEVEL"},
	}
	for _, tt := range tests {
		_, err := LoadConfig(with(tt.name, tt.value))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Var != tt.wantVar || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%q: %v, want a one-line error naming %s", tt.name, tt.value, err, tt.wantVar)
		}
	}
}

func TestStore(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	st, err := openStore(dir, log, now)
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.update(42, func(s *Session) error {
		s.Cart = append(s.Cart, CartLine{ProductID: "p1", Name: "Tea", Price: "4.50", Quantity: 2})
		s.Checkout = &Checkout{MethodID: "m1", Done: []string{"name"}, Address: Address{Name: "Ann"}}
		return nil
	})
	if err != nil || s.items() != 2 || s.subtotal() != 900 {
		t.Fatalf("update: %+v, %v", s, err)
	}
	// A copy is a copy.
	s.Cart[0].Quantity, s.Checkout.Done[0] = 99, "x"
	if _, err := st.update(42, func(*Session) error { return errors.New("no") }); err == nil {
		t.Fatal("a failed update should fail")
	}
	if err := st.markEvent("ev-1"); err != nil {
		t.Fatal(err)
	}

	again, err := openStore(dir, log, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := again.get(42)
	if err != nil || len(got.Cart) != 1 || got.Cart[0].Quantity != 2 || got.Checkout == nil || got.Checkout.Done[0] != "name" ||
		got.UserID != 42 {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
	if !again.seenEvent("ev-1") || again.seenEvent("ev-2") {
		t.Fatal("seen events were not kept")
	}

	// A damaged file is set aside, and the customer starts afresh.
	if err := os.WriteFile(filepath.Join(dir, "sessions", "7.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh, err := again.get(7)
	if err != nil || len(fresh.Cart) != 0 || fresh.UserID != 7 {
		t.Fatalf("damaged session: %+v, %v", fresh, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "sessions", "7.json.*.corrupt")); len(m) != 1 {
		t.Fatalf("the damaged file was not set aside: %v", m)
	}

	// Old event ids are forgotten.
	later := func() time.Time { return now().Add(seenKeep + time.Hour) }
	old, err := openStore(dir, log, later)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.markEvent("ev-2"); err != nil {
		t.Fatal(err)
	}
	if old.seenEvent("ev-1") || !old.seenEvent("ev-2") {
		t.Fatal("old event ids were kept")
	}
}

// TestDispatcher checks that each chat's updates are handled in order, one at a
// time, and different chats at once.
func TestDispatcher(t *testing.T) {
	var mu sync.Mutex
	got := map[int64][]int{}
	var running, most atomic.Int32
	d := &dispatcher{queues: map[int64][]tele.Update{}, handle: func(u tele.Update) {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		id := u.Message.Chat.ID
		got[id] = append(got[id], u.ID)
		mu.Unlock()
		running.Add(-1)
	}}
	for i := range 60 {
		chat := int64(i%3 + 1)
		d.dispatch(tele.Update{ID: i, Message: &tele.Message{Chat: &tele.Chat{ID: chat}}})
	}
	d.wait()
	for chat, ids := range got {
		if len(ids) != 20 {
			t.Errorf("chat %d: %d updates", chat, len(ids))
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] < ids[i-1] {
				t.Errorf("chat %d: out of order %v", chat, ids)
				break
			}
		}
	}
	if most.Load() < 2 || most.Load() > 3 {
		t.Errorf("at most %d handlers ran at once, want 2 or 3 (one per chat)", most.Load())
	}
}

// TestPollBacksOff checks that a failing Telegram is retried with backoff, not in a
// tight loop, and that the token never reaches the log.
func TestPollBacksOff(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html>bad gateway</html>"))
	}))
	defer srv.Close()
	var logs strings.Builder
	var lmu sync.Mutex
	b := &Bot{cfg: &Config{TelegramAPIURL: srv.URL, TelegramToken: "123:SECRET", PollTimeout: time.Second},
		log: slog.New(slog.NewTextHandler(lockedWriter{&lmu, &logs}, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	b.poll(ctx)
	if n := calls.Load(); n < 2 || n > 3 {
		t.Errorf("%d getUpdates calls in 2.5 s, want 2 or 3 (1 s, then 2 s apart)", n)
	}
	lmu.Lock()
	defer lmu.Unlock()
	if strings.Contains(logs.String(), "SECRET") || !strings.Contains(logs.String(), "getUpdates failed") {
		t.Errorf("log: %s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
