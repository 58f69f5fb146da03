// Package app is the composition root: configuration, wiring of modules to adapters,
// the commands, and the lifecycle of the serve, worker and run processes.
package app

import (
	"bufio"

	"fmt"
	"net/url"
	"orderdesk/adapters/sealer"
	"orderdesk/web/api"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is OrderDesk's configuration, read from the environment.
type Config struct {
	HTTPAddr            string
	BaseURL             string
	DatabaseURL         string
	RedisURL            string
	DataDir             string
	PaymentsProvider    string
	BTCPayURL           string
	BTCPayAPIKey        string
	BTCPayStoreID       string
	BTCPayWebhookSecret string
	ShippingProvider    string
	RoyalMailAPIURL     string
	RoyalMailAPIKey     string
	LogLevel            string
	// EncryptionKeys seal customers' addresses: "id:base64key,…", the first current.
	// Empty: a key is generated once and kept in the database.
	EncryptionKeys string
	// APIRateLimit is the number of API requests a minute allowed per API key; 0
	// disables the limit.
	APIRateLimit int
	// PlacementConcurrency is how many orders one serve process places at once; the
	// others wait their turn, first come first served.
	PlacementConcurrency int
	// RoyalMailTracking* are the Tracking API v2 app's credentials (Royal Mail's
	// developer portal), optional: both or neither. Without them nothing is tracked.
	RoyalMailTrackingClientID     string
	RoyalMailTrackingClientSecret string
	RoyalMailTrackingAPIURL       string
	// SecureCookies is true when BASE_URL is https.
	SecureCookies   bool
	ShutdownTimeout time.Duration
}

// ConfigError names the variable that is wrong or missing.
type ConfigError struct {
	Var, Problem string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("configuration: %s %s", e.Var, e.Problem) }

// LoadConfig reads the configuration through getenv. It checks every variable and
// returns the first problem as a *ConfigError.
func LoadConfig(getenv func(string) string) (*Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := &Config{
		HTTPAddr:            get("HTTP_ADDR", ":8080"),
		DatabaseURL:         get("DATABASE_URL", ""),
		RedisURL:            get("REDIS_URL", ""),
		DataDir:             get("DATA_DIR", ".data/files"),
		PaymentsProvider:    get("PAYMENTS_PROVIDER", "sandbox"),
		BTCPayURL:           get("BTCPAY_URL", ""),
		BTCPayAPIKey:        get("BTCPAY_API_KEY", ""),
		BTCPayStoreID:       get("BTCPAY_STORE_ID", ""),
		BTCPayWebhookSecret: get("BTCPAY_WEBHOOK_SECRET", ""),
		ShippingProvider:    get("SHIPPING_PROVIDER", "sandbox"),
		RoyalMailAPIURL:     get("ROYALMAIL_API_URL", "https://api.parcel.royalmail.com/api/v1"),
		RoyalMailAPIKey:     get("ROYALMAIL_API_KEY", ""),
		LogLevel:            get("LOG_LEVEL", "info"),
		EncryptionKeys:      get("ENCRYPTION_KEYS", ""),
		ShutdownTimeout:     25 * time.Second,
	}
	c.RoyalMailTrackingClientID = get("ROYALMAIL_TRACKING_CLIENT_ID", "")
	c.RoyalMailTrackingClientSecret = get("ROYALMAIL_TRACKING_CLIENT_SECRET", "")
	c.RoyalMailTrackingAPIURL = get("ROYALMAIL_TRACKING_API_URL", "https://api.royalmail.net/mailpieces/v2")
	if !strings.Contains(c.HTTPAddr, ":") {
		return nil, &ConfigError{"HTTP_ADDR", "must be host:port or :port, e.g. :8080"}
	}
	port := c.HTTPAddr[strings.LastIndex(c.HTTPAddr, ":")+1:]
	c.BaseURL = strings.TrimRight(get("BASE_URL", "http://localhost:"+port), "/")
	if err := checkURL("BASE_URL", c.BaseURL, "http", "https"); err != nil {
		return nil, err
	}
	c.SecureCookies = strings.HasPrefix(strings.ToLower(c.BaseURL), "https://") // url.Parse accepts HTTPS://
	if c.DatabaseURL == "" {
		return nil, &ConfigError{"DATABASE_URL", "is required (e.g. postgres://user@127.0.0.1:5432/orderdesk)"}
	}
	if err := checkURL("DATABASE_URL", c.DatabaseURL, "postgres", "postgresql"); err != nil {
		return nil, err
	}
	// REDIS_URL is required by the processes that use the queue (serve, worker, run),
	// not by one-shot commands such as migrate: see RequireRedis.
	if c.RedisURL != "" {
		if err := checkURL("REDIS_URL", c.RedisURL, "redis", "rediss"); err != nil {
			return nil, err
		}
	}
	switch c.PaymentsProvider {
	case "sandbox":
	case "btcpay":
		if err := checkURL("BTCPAY_URL", c.BTCPayURL, "http", "https"); err != nil {
			return nil, err
		}
		for _, kv := range [][2]string{{"BTCPAY_API_KEY", c.BTCPayAPIKey}, {"BTCPAY_STORE_ID", c.BTCPayStoreID},
			{"BTCPAY_WEBHOOK_SECRET", c.BTCPayWebhookSecret}} {
			if kv[1] == "" {
				return nil, &ConfigError{kv[0], "is required when PAYMENTS_PROVIDER is btcpay"}
			}
		}
	default:
		return nil, &ConfigError{"PAYMENTS_PROVIDER", "must be btcpay or sandbox"}
	}
	switch c.ShippingProvider {
	case "sandbox":
	case "royalmail":
		if err := checkURL("ROYALMAIL_API_URL", c.RoyalMailAPIURL, "http", "https"); err != nil {
			return nil, err
		}
		if c.RoyalMailAPIKey == "" {
			return nil, &ConfigError{"ROYALMAIL_API_KEY", "is required when SHIPPING_PROVIDER is royalmail"}
		}
	default:
		return nil, &ConfigError{"SHIPPING_PROVIDER", "must be royalmail or sandbox"}
	}
	switch id, secret := c.RoyalMailTrackingClientID, c.RoyalMailTrackingClientSecret; {
	case id != "" && secret == "":
		return nil, &ConfigError{"ROYALMAIL_TRACKING_CLIENT_SECRET", "is required when ROYALMAIL_TRACKING_CLIENT_ID is set"}
	case id == "" && secret != "":
		return nil, &ConfigError{"ROYALMAIL_TRACKING_CLIENT_ID", "is required when ROYALMAIL_TRACKING_CLIENT_SECRET is set"}
	case id != "":
		if err := checkURL("ROYALMAIL_TRACKING_API_URL", c.RoyalMailTrackingAPIURL, "http", "https"); err != nil {
			return nil, err
		}
	}
	rl := get("API_RATE_LIMIT", "600")
	n, err := strconv.Atoi(rl)
	if err != nil || n < 0 || n > 1_000_000 {
		return nil, &ConfigError{"API_RATE_LIMIT", "must be a whole number of requests a minute from 0 (no limit) to 1000000"}
	}
	c.APIRateLimit = n
	pc, err := strconv.Atoi(get("ORDER_PLACEMENT_CONCURRENCY", strconv.Itoa(api.DefaultPlacementConcurrency)))
	if err != nil || pc < 1 || pc > 1000 {
		return nil, &ConfigError{"ORDER_PLACEMENT_CONCURRENCY", "must be a whole number of orders from 1 to 1000"}
	}
	c.PlacementConcurrency = pc
	if c.EncryptionKeys != "" {
		if _, err := sealer.ParseKeys(c.EncryptionKeys); err != nil {
			return nil, &ConfigError{"ENCRYPTION_KEYS", "is invalid: " + err.Error() + " (id:base64 of 32 random bytes, comma-separated)"}
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return nil, &ConfigError{"LOG_LEVEL", "must be debug, info, warn or error"}
	}
	return c, nil
}

// RequireRedis reports the missing REDIS_URL that serve, worker and run need.
func (c *Config) RequireRedis() error {
	if c.RedisURL == "" {
		return &ConfigError{"REDIS_URL", "is required (e.g. redis://127.0.0.1:6379/0)"}
	}
	return nil
}

func checkURL(name, raw string, schemes ...string) error {
	if raw == "" {
		return &ConfigError{name, "is required"}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return &ConfigError{name, "is not a valid URL"}
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return nil
		}
	}
	return &ConfigError{name, fmt.Sprintf("must be a %s:// URL", strings.Join(schemes, ":// or "))}
}

// LoadDotEnv sets the variables of a .env file (KEY=VALUE lines, # comments, optional
// quotes, optional "export ") that are not already set in the environment. A missing
// file is not an error.
func LoadDotEnv(path string) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return fmt.Errorf("%s:%d: expected KEY=VALUE", path, n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') { // drop a comment after a quoted value
			if j := strings.IndexByte(v[1:], v[0]); j >= 0 && strings.HasPrefix(strings.TrimSpace(v[j+2:]), "#") {
				v = v[:j+2]
			}
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		} else if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		if _, set := os.LookupEnv(k); !set {
			os.Setenv(k, v)
		}
	}
	return sc.Err()
}
