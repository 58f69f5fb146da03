package bot

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Config is the bot's configuration, read from the environment.
type Config struct {
	// TelegramToken is the bot's token from @BotFather (TELEGRAM_BOT_TOKEN).
	TelegramToken string
	// TelegramAPIURL is the Bot API server (TELEGRAM_API_URL, default
	// https://api.telegram.org); tests point it at a fake.
	TelegramAPIURL string
	// APIURL is OrderDesk's client API, ending in /api/v1 (ORDERDESK_API_URL).
	APIURL string
	// APIKey is the client app's API key (ORDERDESK_API_KEY).
	APIKey string
	// WebhookAddr is where the bot listens for OrderDesk's webhooks (BOT_WEBHOOK_ADDR,
	// default :8090); the client app's webhook URL must reach it.
	WebhookAddr string
	// WebhookSecret is the client app's webhook signing secret (BOT_WEBHOOK_SECRET).
	WebhookSecret string
	// DataDir holds the carts and checkouts, one file per customer (BOT_DATA_DIR,
	// default .data/bot).
	DataDir string
	// LogLevel is debug, info, warn or error (LOG_LEVEL, default info).
	LogLevel string

	// PollTimeout is how long one getUpdates call waits for updates.
	PollTimeout time.Duration
	// SignatureTolerance is how old (or how far in the future) a webhook signature may
	// be: older requests are refused as replays.
	SignatureTolerance time.Duration
}

// ConfigError names the variable that is wrong or missing.
type ConfigError struct {
	Var, Problem string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("configuration: %s %s", e.Var, e.Problem) }

var tokenPattern = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)

// LoadConfig reads the configuration through getenv and returns the first problem as a
// *ConfigError. It creates the data directory when it does not exist.
func LoadConfig(getenv func(string) string) (*Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := &Config{
		TelegramToken:      get("TELEGRAM_BOT_TOKEN", ""),
		TelegramAPIURL:     strings.TrimRight(get("TELEGRAM_API_URL", "https://api.telegram.org"), "/"),
		APIURL:             get("ORDERDESK_API_URL", ""),
		APIKey:             get("ORDERDESK_API_KEY", ""),
		WebhookAddr:        get("BOT_WEBHOOK_ADDR", ":8090"),
		WebhookSecret:      get("BOT_WEBHOOK_SECRET", ""),
		DataDir:            get("BOT_DATA_DIR", ".data/bot"),
		LogLevel:           get("LOG_LEVEL", "info"),
		PollTimeout:        30 * time.Second,
		SignatureTolerance: 5 * time.Minute,
	}
	switch {
	case c.TelegramToken == "":
		return nil, &ConfigError{"TELEGRAM_BOT_TOKEN", "is required (the token @BotFather gave, like 123456789:AAE...)"}
	case !tokenPattern.MatchString(c.TelegramToken):
		return nil, &ConfigError{"TELEGRAM_BOT_TOKEN", "is not a bot token (digits, a colon, then letters, digits, - and _)"}
	}
	if err := checkURL("TELEGRAM_API_URL", c.TelegramAPIURL); err != nil {
		return nil, err
	}
	if c.APIURL == "" {
		return nil, &ConfigError{"ORDERDESK_API_URL", "is required (e.g. https://shop.example/api/v1)"}
	}
	if err := checkURL("ORDERDESK_API_URL", c.APIURL); err != nil {
		return nil, err
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if u, _ := url.Parse(c.APIURL); u.Path == "" {
		c.APIURL += "/api/v1"
	}
	switch {
	case c.APIKey == "":
		return nil, &ConfigError{"ORDERDESK_API_KEY", "is required (orderdesk client create NAME --webhook-url URL prints it)"}
	case strings.ContainsFunc(c.APIKey, func(r rune) bool { return r <= ' ' || r > '~' }):
		return nil, &ConfigError{"ORDERDESK_API_KEY", "must be the key exactly as printed, without spaces"}
	}
	if _, port, err := net.SplitHostPort(c.WebhookAddr); err != nil || port == "" {
		return nil, &ConfigError{"BOT_WEBHOOK_ADDR", "must be host:port or :port, e.g. :8090"}
	}
	if c.WebhookSecret == "" {
		return nil, &ConfigError{"BOT_WEBHOOK_SECRET", "is required (the WEBHOOK_SECRET printed with the client app's API key)"}
	}
	if err := checkDir(c.DataDir); err != nil {
		return nil, &ConfigError{"BOT_DATA_DIR", err.Error()}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return nil, &ConfigError{"LOG_LEVEL", "must be debug, info, warn or error"}
	}
	return c, nil
}

func checkURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return &ConfigError{name, "must be an http:// or https:// URL"}
	}
	return nil
}

// checkDir makes dir when it is missing and checks that files can be written in it.
func checkDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot be created: %v", err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("is not writable: %v", err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("is not writable: %v", err)
	}
	return nil
}
