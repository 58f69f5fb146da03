package app_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"orderdesk/app"
)

// configEnv returns a getenv over a minimal valid environment with the given changes
// ("" unsets a variable, as LoadConfig treats empty as unset).
func configEnv(changes map[string]string) func(string) string {
	env := map[string]string{
		"DATABASE_URL": "postgres://orderdesk@127.0.0.1:5432/orderdesk",
		"REDIS_URL":    "redis://127.0.0.1:6379/0",
	}
	for k, v := range changes {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// btcpayEnv is a complete BTCPay configuration.
var btcpayEnv = map[string]string{
	"PAYMENTS_PROVIDER":     "btcpay",
	"BTCPAY_URL":            "https://btcpay.example.com",
	"BTCPAY_API_KEY":        "key",
	"BTCPAY_STORE_ID":       "store",
	"BTCPAY_WEBHOOK_SECRET": "secret",
}

func withChanges(base map[string]string, changes map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range changes {
		out[k] = v
	}
	return out
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := app.LoadConfig(configEnv(nil))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	want := app.Config{
		HTTPAddr:             ":8080",
		BaseURL:              "http://localhost:8080",
		DatabaseURL:          "postgres://orderdesk@127.0.0.1:5432/orderdesk",
		RedisURL:             "redis://127.0.0.1:6379/0",
		DataDir:              ".data/files",
		PaymentsProvider:     "sandbox",
		ShippingProvider:     "sandbox",
		RoyalMailAPIURL:      "https://api.parcel.royalmail.com/api/v1",
		LogLevel:             "info",
		APIRateLimit:         600,
		PlacementConcurrency: 4,
		SecureCookies:        false,
		ShutdownTimeout:      25 * time.Second,
	}
	want.RoyalMailTrackingAPIURL = "https://api.royalmail.net/mailpieces/v2"
	if *c != want {
		t.Errorf("LoadConfig defaults =\n%+v\nwant\n%+v", *c, want)
	}
}

func TestLoadConfigValid(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c *app.Config)
	}{
		{"port from HTTP_ADDR goes into the default BASE_URL", map[string]string{"HTTP_ADDR": ":9090"},
			func(t *testing.T, c *app.Config) {
				if c.HTTPAddr != ":9090" || c.BaseURL != "http://localhost:9090" {
					t.Errorf("HTTPAddr %q BaseURL %q", c.HTTPAddr, c.BaseURL)
				}
			}},
		{"host and port", map[string]string{"HTTP_ADDR": "127.0.0.1:3000"},
			func(t *testing.T, c *app.Config) {
				if c.BaseURL != "http://localhost:3000" {
					t.Errorf("BaseURL %q", c.BaseURL)
				}
			}},
		{"https BASE_URL means secure cookies, trailing slash dropped", map[string]string{"BASE_URL": "https://shop.example.com/"},
			func(t *testing.T, c *app.Config) {
				if c.BaseURL != "https://shop.example.com" || !c.SecureCookies {
					t.Errorf("BaseURL %q SecureCookies %v", c.BaseURL, c.SecureCookies)
				}
			}},
		{"upper-case https scheme also means secure cookies", map[string]string{"BASE_URL": "HTTPS://shop.example.com"},
			func(t *testing.T, c *app.Config) {
				if !c.SecureCookies {
					t.Errorf("SecureCookies false for %q", c.BaseURL)
				}
			}},
		{"http BASE_URL means no secure cookies", map[string]string{"BASE_URL": "http://shop.example.com"},
			func(t *testing.T, c *app.Config) {
				if c.SecureCookies {
					t.Error("SecureCookies true for http")
				}
			}},
		{"values are trimmed", map[string]string{"LOG_LEVEL": "  debug \n", "DATA_DIR": " /srv/files "},
			func(t *testing.T, c *app.Config) {
				if c.LogLevel != "debug" || c.DataDir != "/srv/files" {
					t.Errorf("LogLevel %q DataDir %q", c.LogLevel, c.DataDir)
				}
			}},
		{"postgresql and rediss schemes", map[string]string{"DATABASE_URL": "postgresql://u:p@db:5432/x?sslmode=require", "REDIS_URL": "rediss://cache:6380/1"},
			func(t *testing.T, c *app.Config) {
				if c.DatabaseURL != "postgresql://u:p@db:5432/x?sslmode=require" || c.RedisURL != "rediss://cache:6380/1" {
					t.Errorf("DatabaseURL %q RedisURL %q", c.DatabaseURL, c.RedisURL)
				}
			}},
		{"btcpay", btcpayEnv,
			func(t *testing.T, c *app.Config) {
				if c.PaymentsProvider != "btcpay" || c.BTCPayURL != "https://btcpay.example.com" || c.BTCPayAPIKey != "key" ||
					c.BTCPayStoreID != "store" || c.BTCPayWebhookSecret != "secret" {
					t.Errorf("%+v", c)
				}
			}},
		{"royalmail", map[string]string{"SHIPPING_PROVIDER": "royalmail", "ROYALMAIL_API_KEY": "rm-key"},
			func(t *testing.T, c *app.Config) {
				if c.ShippingProvider != "royalmail" || c.RoyalMailAPIKey != "rm-key" || c.RoyalMailAPIURL == "" {
					t.Errorf("%+v", c)
				}
			}},
		{"royalmail with own URL", map[string]string{"SHIPPING_PROVIDER": "royalmail", "ROYALMAIL_API_KEY": "k", "ROYALMAIL_API_URL": "http://127.0.0.1:9999/api"},
			func(t *testing.T, c *app.Config) {
				if c.RoyalMailAPIURL != "http://127.0.0.1:9999/api" {
					t.Errorf("RoyalMailAPIURL %q", c.RoyalMailAPIURL)
				}
			}},
		{"royal mail tracking credentials", map[string]string{"ROYALMAIL_TRACKING_CLIENT_ID": " id ", "ROYALMAIL_TRACKING_CLIENT_SECRET": "secret"},
			func(t *testing.T, c *app.Config) {
				if c.RoyalMailTrackingClientID != "id" || c.RoyalMailTrackingClientSecret != "secret" ||
					c.RoyalMailTrackingAPIURL != "https://api.royalmail.net/mailpieces/v2" {
					t.Errorf("%+v", c)
				}
			}},
		{"royal mail tracking with own URL", map[string]string{"ROYALMAIL_TRACKING_CLIENT_ID": "id", "ROYALMAIL_TRACKING_CLIENT_SECRET": "s",
			"ROYALMAIL_TRACKING_API_URL": "http://127.0.0.1:9999/mailpieces/v2"},
			func(t *testing.T, c *app.Config) {
				if c.RoyalMailTrackingAPIURL != "http://127.0.0.1:9999/mailpieces/v2" {
					t.Errorf("RoyalMailTrackingAPIURL %q", c.RoyalMailTrackingAPIURL)
				}
			}},
		{"API_RATE_LIMIT default and explicit", nil, func(t *testing.T, c *app.Config) {
			if c.APIRateLimit != 600 {
				t.Errorf("default APIRateLimit %d, want 600", c.APIRateLimit)
			}
			for v, want := range map[string]int{"0": 0, "3": 3, " 1200 ": 1200} {
				c, err := app.LoadConfig(configEnv(map[string]string{"API_RATE_LIMIT": v}))
				if err != nil || c.APIRateLimit != want {
					t.Errorf("API_RATE_LIMIT=%q: %v %+v", v, err, c)
				}
			}
		}},
		{"ORDER_PLACEMENT_CONCURRENCY default and explicit", nil, func(t *testing.T, c *app.Config) {
			if c.PlacementConcurrency != 4 {
				t.Errorf("default PlacementConcurrency %d, want 4", c.PlacementConcurrency)
			}
			for v, want := range map[string]int{"1": 1, " 16 ": 16, "1000": 1000} {
				c, err := app.LoadConfig(configEnv(map[string]string{"ORDER_PLACEMENT_CONCURRENCY": v}))
				if err != nil || c.PlacementConcurrency != want {
					t.Errorf("ORDER_PLACEMENT_CONCURRENCY=%q: %v %+v", v, err, c)
				}
			}
		}},
		{"every log level", nil, func(t *testing.T, _ *app.Config) {
			for _, l := range []string{"debug", "info", "warn", "error"} {
				c, err := app.LoadConfig(configEnv(map[string]string{"LOG_LEVEL": l}))
				if err != nil || c.LogLevel != l {
					t.Errorf("LOG_LEVEL=%s: %v", l, err)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := app.LoadConfig(configEnv(tt.env))
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"DATABASE_URL missing", map[string]string{"DATABASE_URL": ""}, "DATABASE_URL"},
		{"DATABASE_URL blank", map[string]string{"DATABASE_URL": "   "}, "DATABASE_URL"},
		{"DATABASE_URL mysql", map[string]string{"DATABASE_URL": "mysql://u@127.0.0.1/x"}, "DATABASE_URL"},
		{"DATABASE_URL http", map[string]string{"DATABASE_URL": "http://127.0.0.1:5432/x"}, "DATABASE_URL"},
		{"DATABASE_URL not a URL", map[string]string{"DATABASE_URL": "not a url"}, "DATABASE_URL"},
		{"DATABASE_URL no host", map[string]string{"DATABASE_URL": "postgres://"}, "DATABASE_URL"},
		{"DATABASE_URL bad escape", map[string]string{"DATABASE_URL": "postgres://u@h/%zz"}, "DATABASE_URL"},
		{"REDIS_URL bad scheme", map[string]string{"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"},
		{"REDIS_URL host:port only", map[string]string{"REDIS_URL": "127.0.0.1:6379"}, "REDIS_URL"},
		{"btcpay without BTCPAY_URL", withChanges(btcpayEnv, map[string]string{"BTCPAY_URL": ""}), "BTCPAY_URL"},
		{"btcpay with bad BTCPAY_URL", withChanges(btcpayEnv, map[string]string{"BTCPAY_URL": "ftp://btcpay.example.com"}), "BTCPAY_URL"},
		{"btcpay without BTCPAY_API_KEY", withChanges(btcpayEnv, map[string]string{"BTCPAY_API_KEY": ""}), "BTCPAY_API_KEY"},
		{"btcpay without BTCPAY_STORE_ID", withChanges(btcpayEnv, map[string]string{"BTCPAY_STORE_ID": ""}), "BTCPAY_STORE_ID"},
		{"btcpay without BTCPAY_WEBHOOK_SECRET", withChanges(btcpayEnv, map[string]string{"BTCPAY_WEBHOOK_SECRET": ""}), "BTCPAY_WEBHOOK_SECRET"},
		{"btcpay with nothing else", map[string]string{"PAYMENTS_PROVIDER": "btcpay"}, "BTCPAY_URL"},
		{"unknown payments provider", map[string]string{"PAYMENTS_PROVIDER": "stripe"}, "PAYMENTS_PROVIDER"},
		{"payments provider wrong case", map[string]string{"PAYMENTS_PROVIDER": "BTCPay"}, "PAYMENTS_PROVIDER"},
		{"royalmail without ROYALMAIL_API_KEY", map[string]string{"SHIPPING_PROVIDER": "royalmail"}, "ROYALMAIL_API_KEY"},
		{"royalmail with bad ROYALMAIL_API_URL", map[string]string{"SHIPPING_PROVIDER": "royalmail", "ROYALMAIL_API_KEY": "k", "ROYALMAIL_API_URL": "api.royalmail.com"}, "ROYALMAIL_API_URL"},
		{"unknown shipping provider", map[string]string{"SHIPPING_PROVIDER": "dhl"}, "SHIPPING_PROVIDER"},
		{"tracking id without secret", map[string]string{"ROYALMAIL_TRACKING_CLIENT_ID": "id"}, "ROYALMAIL_TRACKING_CLIENT_SECRET"},
		{"tracking secret without id", map[string]string{"ROYALMAIL_TRACKING_CLIENT_SECRET": "s"}, "ROYALMAIL_TRACKING_CLIENT_ID"},
		{"tracking with bad URL", map[string]string{"ROYALMAIL_TRACKING_CLIENT_ID": "id", "ROYALMAIL_TRACKING_CLIENT_SECRET": "s",
			"ROYALMAIL_TRACKING_API_URL": "api.royalmail.net/mailpieces/v2"}, "ROYALMAIL_TRACKING_API_URL"},
		{"BASE_URL ftp", map[string]string{"BASE_URL": "ftp://shop.example.com"}, "BASE_URL"},
		{"BASE_URL without scheme", map[string]string{"BASE_URL": "shop.example.com"}, "BASE_URL"},
		{"BASE_URL without host", map[string]string{"BASE_URL": "https://"}, "BASE_URL"},
		{"BASE_URL garbage", map[string]string{"BASE_URL": "::not a url::"}, "BASE_URL"},
		{"HTTP_ADDR without colon", map[string]string{"HTTP_ADDR": "8080"}, "HTTP_ADDR"},
		{"HTTP_ADDR host only", map[string]string{"HTTP_ADDR": "localhost"}, "HTTP_ADDR"},
		{"LOG_LEVEL unknown", map[string]string{"LOG_LEVEL": "verbose"}, "LOG_LEVEL"},
		{"LOG_LEVEL upper case", map[string]string{"LOG_LEVEL": "DEBUG"}, "LOG_LEVEL"},
		{"LOG_LEVEL warning", map[string]string{"LOG_LEVEL": "warning"}, "LOG_LEVEL"},
		{"API_RATE_LIMIT negative", map[string]string{"API_RATE_LIMIT": "-1"}, "API_RATE_LIMIT"},
		{"API_RATE_LIMIT not a number", map[string]string{"API_RATE_LIMIT": "lots"}, "API_RATE_LIMIT"},
		{"API_RATE_LIMIT fraction", map[string]string{"API_RATE_LIMIT": "1.5"}, "API_RATE_LIMIT"},
		{"API_RATE_LIMIT too big", map[string]string{"API_RATE_LIMIT": "1000001"}, "API_RATE_LIMIT"},
		{"ORDER_PLACEMENT_CONCURRENCY zero", map[string]string{"ORDER_PLACEMENT_CONCURRENCY": "0"}, "ORDER_PLACEMENT_CONCURRENCY"},
		{"ORDER_PLACEMENT_CONCURRENCY not a number", map[string]string{"ORDER_PLACEMENT_CONCURRENCY": "many"}, "ORDER_PLACEMENT_CONCURRENCY"},
		{"ORDER_PLACEMENT_CONCURRENCY too big", map[string]string{"ORDER_PLACEMENT_CONCURRENCY": "1001"}, "ORDER_PLACEMENT_CONCURRENCY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := app.LoadConfig(configEnv(tt.env))
			if c != nil {
				t.Errorf("got a config with an error: %+v", c)
			}
			var ce *app.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a *ConfigError", err, err)
			}
			if ce.Var != tt.wantVar {
				t.Errorf("ConfigError.Var = %q, want %q (%v)", ce.Var, tt.wantVar, err)
			}
			if ce.Problem == "" {
				t.Error("empty Problem")
			}
			if msg := err.Error(); !strings.Contains(msg, tt.wantVar) || strings.Contains(msg, "\n") {
				t.Errorf("message %q should name %s on one line", msg, tt.wantVar)
			}
		})
	}
}

// unsetForTest unsets the variables for the test and restores them afterwards.
func unsetForTest(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		t.Setenv(n, "") // registers the restore of the previous state
		if err := os.Unsetenv(n); err != nil {
			t.Fatal(err)
		}
	}
}

func writeDotEnv(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadDotEnv(t *testing.T) {
	content := `# a comment
   # an indented comment

ODTEST_PLAIN=plain
export ODTEST_EXPORTED=exported
ODTEST_SPACES = spaced value  
ODTEST_DQ="double quoted # not a comment"
ODTEST_SQ='single quoted'
ODTEST_INLINE=value # an inline comment
ODTEST_HASH=abc#def
ODTEST_QUOTED_COMMENT="quoted" # a comment after quotes
ODTEST_SQ_COMMENT='single # quoted' # a comment
ODTEST_EMPTY=
ODTEST_EMPTY_QUOTES=""
ODTEST_EQUALS=a=b=c
ODTEST_URL=postgres://u:p@127.0.0.1:5432/db?sslmode=disable
ODTEST_CRLF=crlf` + "\r\n" + `ODTEST_PRESET=from file
ODTEST_PRESET_EMPTY=from file
`
	names := []string{"ODTEST_PLAIN", "ODTEST_EXPORTED", "ODTEST_SPACES", "ODTEST_DQ", "ODTEST_SQ", "ODTEST_INLINE",
		"ODTEST_HASH", "ODTEST_QUOTED_COMMENT", "ODTEST_SQ_COMMENT", "ODTEST_EMPTY", "ODTEST_EMPTY_QUOTES", "ODTEST_EQUALS", "ODTEST_URL", "ODTEST_CRLF"}
	unsetForTest(t, names...)
	t.Setenv("ODTEST_PRESET", "from env")
	t.Setenv("ODTEST_PRESET_EMPTY", "")

	if err := app.LoadDotEnv(writeDotEnv(t, content)); err != nil {
		t.Fatalf("LoadDotEnv: %v", err)
	}
	want := map[string]string{
		"ODTEST_PLAIN":          "plain",
		"ODTEST_EXPORTED":       "exported",
		"ODTEST_SPACES":         "spaced value",
		"ODTEST_DQ":             "double quoted # not a comment",
		"ODTEST_SQ":             "single quoted",
		"ODTEST_INLINE":         "value",
		"ODTEST_HASH":           "abc#def",
		"ODTEST_QUOTED_COMMENT": "quoted",
		"ODTEST_SQ_COMMENT":     "single # quoted",
		"ODTEST_EMPTY":          "",
		"ODTEST_EMPTY_QUOTES":   "",
		"ODTEST_EQUALS":         "a=b=c",
		"ODTEST_URL":            "postgres://u:p@127.0.0.1:5432/db?sslmode=disable",
		"ODTEST_CRLF":           "crlf",
		"ODTEST_PRESET":         "from env", // already set: not overridden
		"ODTEST_PRESET_EMPTY":   "",         // set though empty: not overridden either
	}
	for k, v := range want {
		got, ok := os.LookupEnv(k)
		if !ok {
			t.Errorf("%s not set", k)
		} else if got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if _, ok := os.LookupEnv("#"); ok {
		t.Error("a comment became a variable")
	}
}

func TestLoadDotEnvMissingFile(t *testing.T) {
	if err := app.LoadDotEnv(filepath.Join(t.TempDir(), "no-such.env")); err != nil {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadDotEnvMalformed(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		wantLine string
	}{
		{"no equals sign", "ODTEST_OK=1\nJUSTAKEY\n", ":2:"},
		{"no key", "=value\n", ":1:"},
		{"blank key", "# c\n\n   = value\n", ":3:"},
		{"export without assignment", "export ODTEST_X\n", ":1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unsetForTest(t, "ODTEST_OK", "ODTEST_X")
			path := writeDotEnv(t, tt.content)
			err := app.LoadDotEnv(path)
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.Contains(msg, path+tt.wantLine) {
				t.Errorf("error %q should name %s%s", msg, path, tt.wantLine)
			}
		})
	}
}

func TestLoadDotEnvDirectory(t *testing.T) {
	if err := app.LoadDotEnv(t.TempDir()); err == nil {
		t.Error("reading a directory gave no error")
	}
}

func TestRedisRequiredOnlyByProcessesThatQueue(t *testing.T) {
	cfg, err := app.LoadConfig(func(k string) string {
		return map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}[k]
	})
	if err != nil {
		t.Fatalf("migrate-style config without REDIS_URL: %v", err)
	}
	var ce *app.ConfigError
	if err := cfg.RequireRedis(); !errors.As(err, &ce) || ce.Var != "REDIS_URL" {
		t.Fatalf("RequireRedis without REDIS_URL: %v", err)
	}
	cfg.RedisURL = "redis://127.0.0.1:6379/0"
	if err := cfg.RequireRedis(); err != nil {
		t.Fatal(err)
	}
}
