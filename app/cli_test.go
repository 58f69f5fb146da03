package app_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"orderdesk/app"
)

// configVars are every variable LoadConfig reads.
var configVars = []string{
	"HTTP_ADDR", "BASE_URL", "DATABASE_URL", "REDIS_URL", "DATA_DIR", "PAYMENTS_PROVIDER",
	"BTCPAY_URL", "BTCPAY_API_KEY", "BTCPAY_STORE_ID", "BTCPAY_WEBHOOK_SECRET",
	"SHIPPING_PROVIDER", "ROYALMAIL_API_URL", "ROYALMAIL_API_KEY", "LOG_LEVEL", "API_RATE_LIMIT",
}

// clearConfigEnv empties every configuration variable for the test, so that no
// command can reach a real database or Redis.
func clearConfigEnv(t *testing.T) {
	t.Helper()
	for _, v := range configVars {
		t.Setenv(v, "")
	}
	if _, err := os.Stat(".env"); err == nil {
		t.Fatal("a .env file in the package directory would leak into Main")
	}
}

type cliResult struct {
	code           int
	stdout, stderr string
}

func runMain(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := app.Main(args, strings.NewReader(stdin), &out, &errOut)
	return cliResult{code, out.String(), errOut.String()}
}

// wantOneErrorLine checks that stderr is exactly one line starting with "orderdesk: ".
func wantOneErrorLine(t *testing.T, r cliResult) {
	t.Helper()
	if !strings.HasPrefix(r.stderr, "orderdesk: ") || !strings.HasSuffix(r.stderr, "\n") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr is not exactly one orderdesk: line: %q", r.stderr)
	}
}

func TestMainUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		stdin   string
		wantMsg string // part of the one line on stderr
	}{
		{"no args", nil, "", "no command"},
		{"empty args", []string{}, "", "no command"},
		{"unknown command", []string{"frobnicate"}, "", `unknown command "frobnicate"`},
		{"command wrong case", []string{"Migrate"}, "", "unknown command"},
		{"migrate extra", []string{"migrate", "extra"}, "", "migrate takes no arguments"},
		{"serve extra", []string{"serve", "now"}, "", "serve takes no arguments"},
		{"worker extra", []string{"worker", "x"}, "", "worker takes no arguments"},
		{"run extra", []string{"run", "x"}, "", "run takes no arguments"},
		{"dev extra", []string{"dev", "x"}, "", "dev takes no arguments"},
		{"user alone", []string{"user"}, "", "user add"},
		{"user without add", []string{"user", "remove", "bob"}, "", "user add"},
		{"user add without username", []string{"user", "add", "--role", "admin", "--password", "long-enough-1"}, "", "USERNAME"},
		{"user add nothing", []string{"user", "add"}, "", "USERNAME"},
		{"user add without role", []string{"user", "add", "bob", "--password", "long-enough-1"}, "", "--role"},
		{"user add empty role", []string{"user", "add", "bob", "--role=", "--password", "long-enough-1"}, "", "--role"},
		{"user add unknown role", []string{"user", "add", "bob", "--role", "owner", "--password", "long-enough-1"}, "", `unknown role "owner"`},
		{"user add role wrong case", []string{"user", "add", "bob", "--role=Admin", "--password", "long-enough-1"}, "", "unknown role"},
		{"user add unknown flag", []string{"user", "add", "bob", "--role", "admin", "--force"}, "", "unknown flag --force"},
		{"user add short flag", []string{"user", "add", "bob", "-r", "admin"}, "", "unknown flag -r"},
		{"user add role without value", []string{"user", "add", "bob", "--role"}, "", "--role needs a value"},
		{"user add password without value", []string{"user", "add", "bob", "--role", "admin", "--password"}, "", "--password needs a value"},
		{"user add two usernames", []string{"user", "add", "bob", "carol", "--role", "admin"}, "", "one username"},
		{"user add no password on stdin", []string{"user", "add", "bob", "--role", "admin"}, "", "no password"},
		{"user add empty line on stdin", []string{"user", "add", "bob", "--role", "admin"}, "\r\nsecond-line-password\n", "no password"},
		{"seed without demo", []string{"seed"}, "", "seed demo"},
		{"seed other", []string{"seed", "production"}, "", "seed demo"},
		{"seed demo extra", []string{"seed", "demo", "again"}, "", "seed demo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearConfigEnv(t)
			r := runMain(t, tt.stdin, tt.args...)
			if r.code != 2 {
				t.Errorf("exit code %d, want 2 (stderr %q)", r.code, r.stderr)
			}
			wantOneErrorLine(t, r)
			if !strings.Contains(r.stderr, tt.wantMsg) {
				t.Errorf("stderr %q should contain %q", r.stderr, tt.wantMsg)
			}
			if !strings.Contains(r.stderr, "orderdesk help") {
				t.Errorf("stderr %q should point to orderdesk help", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

func TestMainHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		t.Run(arg, func(t *testing.T) {
			clearConfigEnv(t)
			r := runMain(t, "", arg)
			if r.code != 0 {
				t.Errorf("exit code %d, want 0", r.code)
			}
			if r.stderr != "" {
				t.Errorf("stderr %q, want nothing", r.stderr)
			}
			for _, want := range []string{"Usage:", "migrate", "serve", "worker", "run", "user add", "--role", "seed demo", "dev", "help"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("usage does not mention %q", want)
				}
			}
		})
	}
}

// Commands that need the configuration fail with exit 1 and one line naming the
// missing variable, before touching any database.
func TestMainConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		stdin   string
		env     map[string]string
		wantVar string
	}{
		{"migrate", []string{"migrate"}, "", nil, "DATABASE_URL"},
		{"serve", []string{"serve"}, "", nil, "DATABASE_URL"},
		{"worker", []string{"worker"}, "", nil, "DATABASE_URL"},
		{"run", []string{"run"}, "", nil, "DATABASE_URL"},
		{"seed demo", []string{"seed", "demo"}, "", nil, "DATABASE_URL"},
		{"user add with --password", []string{"user", "add", "bob", "--role", "admin", "--password", "long-enough-1"}, "", nil, "DATABASE_URL"},
		{"user add with password on stdin", []string{"user", "add", "bob", "--role=support"}, "long-enough-1\n", nil, "DATABASE_URL"},
		{"serve without REDIS_URL (migrate does not need it)", []string{"serve"}, "", map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:1/x"}, "REDIS_URL"},
		{"bad LOG_LEVEL", []string{"serve"}, "", map[string]string{
			"DATABASE_URL": "postgres://u@127.0.0.1:1/x", "REDIS_URL": "redis://127.0.0.1:1/0", "LOG_LEVEL": "loud"}, "LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearConfigEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			r := runMain(t, tt.stdin, tt.args...)
			if r.code != 1 {
				t.Errorf("exit code %d, want 1 (stderr %q)", r.code, r.stderr)
			}
			wantOneErrorLine(t, r)
			if !strings.Contains(r.stderr, tt.wantVar) {
				t.Errorf("stderr %q should name %s", r.stderr, tt.wantVar)
			}
		})
	}
}

func TestMainUserAddDatabaseDown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
	}{
		{"password flag", []string{"user", "add", "bob", "--role", "admin", "--password", "long-enough-1"}, ""},
		{"password on stdin", []string{"user", "add", "bob", "--role=manager"}, "long-enough-1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearConfigEnv(t)
			t.Setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:1/x?connect_timeout=5")
			t.Setenv("REDIS_URL", "redis://127.0.0.1:1/0")
			r := runMain(t, tc.stdin, tc.args...)
			if r.code != 1 {
				t.Errorf("exit code %d, want 1 (stderr %q)", r.code, r.stderr)
			}
			wantOneErrorLine(t, r)
			if !strings.Contains(r.stderr, "database") {
				t.Errorf("stderr %q should say the database could not be reached", r.stderr)
			}
			if strings.Contains(r.stderr, "long-enough-1") {
				t.Errorf("stderr %q leaks the password", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}
