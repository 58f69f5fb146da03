// Package bot is OrderDesk's reference client app: a Telegram shop bot built only on
// the public REST API (through the generated client in web/api/client) and the
// outbound webhooks. A customer browses the catalog, fills a cart that the bot keeps
// on disk, checks out step by step, gets the payment instructions with a QR code, and
// is told here when the order is paid, shipped (with its tracking number) or answered
// by the shop's staff. The customer's Telegram user id is their identity reference.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // expiry times are shown in UK time wherever the bot runs

	tele "gopkg.in/telebot.v3"
)

// Bot is the running Telegram bot: its long poller, its handlers and its webhook
// receiver. New builds it; Serve runs it until its context ends.
type Bot struct {
	cfg    *Config
	log    *slog.Logger
	tg     *tele.Bot
	api    *api
	store  *store
	now    func() time.Time
	photos sync.Map // photo URL → Telegram file id of the upload, to send it again cheaply
	hooks  *receiver
}

// New checks the token with Telegram (getMe), opens the data directory and registers
// the handlers. A token Telegram refuses is a *ConfigError naming TELEGRAM_BOT_TOKEN.
func New(cfg *Config, log *slog.Logger) (*Bot, error) {
	b := &Bot{cfg: cfg, log: log, now: time.Now}
	var err error
	if b.store, err = openStore(cfg.DataDir, log, b.now); err != nil {
		return nil, err
	}
	if b.api, err = newAPI(cfg.APIURL, cfg.APIKey, &http.Client{Timeout: 30 * time.Second}); err != nil {
		return nil, err
	}
	b.tg, err = tele.NewBot(tele.Settings{
		URL: cfg.TelegramAPIURL, Token: cfg.TelegramToken, Synchronous: true, ParseMode: tele.ModeHTML,
		Client: &http.Client{Timeout: 30 * time.Second}, OnError: b.onError,
	})
	var te *tele.Error
	switch {
	case errors.As(err, &te) && (te.Code == http.StatusUnauthorized || te.Code == http.StatusNotFound):
		return nil, &ConfigError{"TELEGRAM_BOT_TOKEN", "was refused by Telegram (" + te.Description + ")"}
	case err != nil:
		// telebot's error holds the request URL, and so the token.
		return nil, fmt.Errorf("telegram at %s (TELEGRAM_API_URL) cannot be used: %s", cfg.TelegramAPIURL,
			strings.ReplaceAll(err.Error(), cfg.TelegramToken, "<token>"))
	}
	b.hooks = &receiver{b: b, inflight: map[string]bool{}}
	b.routes()
	return b, nil
}

// Run listens on BOT_WEBHOOK_ADDR and serves until ctx ends.
func (b *Bot) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", b.cfg.WebhookAddr)
	if err != nil {
		return &ConfigError{"BOT_WEBHOOK_ADDR", fmt.Sprintf("cannot be listened on: %v", err)}
	}
	return b.Serve(ctx, ln)
}

// Serve receives OrderDesk's webhooks on ln and long-polls Telegram until ctx ends;
// then it stops taking updates, lets the handlers that are running finish, and
// returns.
func (b *Bot) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: b.hooks, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if err := b.tg.SetCommands(commands); err != nil {
		b.log.Warn("telegram: setMyCommands failed; the command menu may be out of date", "err", err)
	}
	b.log.Info("bot running", "telegram", "@"+b.tg.Me.Username, "webhooks", ln.Addr().String(), "api", b.cfg.APIURL)
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		b.poll(ctx)
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("webhook listener: %w", err)
	}
	shut, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shut); serr != nil && err == nil {
		err = fmt.Errorf("webhook listener: %w", serr)
	}
	<-polled
	return err
}

// commands is the bot's command menu in Telegram.
var commands = []tele.Command{
	{Text: "start", Description: "Welcome and the shop's menu"},
	{Text: "shop", Description: "Browse the categories and products"},
	{Text: "cart", Description: "Your cart and checkout"},
	{Text: "orders", Description: "Your orders: status, payment, tracking, help"},
	{Text: "help", Description: "What this bot can do"},
	{Text: "cancel", Description: "Stop what you are typing (your cart stays)"},
}

// onError is telebot's error hook: a handler's unexpected failure (a file that cannot
// be written, a message Telegram refused) is logged and the customer is told, so that
// nothing fails in silence.
func (b *Bot) onError(err error, c tele.Context) {
	if c == nil {
		b.log.Error("telegram", "err", err)
		return
	}
	b.log.Error("handler failed", "update", c.Update().ID, "err", err)
	if c.Callback() != nil {
		_ = c.Respond()
	}
	if c.Recipient() != nil {
		if _, serr := b.tg.Send(c.Recipient(), "Sorry, something went wrong on my side and I could not finish that. Please try again in a moment."); serr != nil {
			b.log.Error("telegram: could not apologise", "err", serr)
		}
	}
}
