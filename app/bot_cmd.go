package app

import (
	"context"

	"orderdesk/app/bot"
)

// botCommand implements `bot`: the Telegram shop bot, a client app of this OrderDesk
// (or another) that talks to it only through the REST API and its webhooks. It needs
// none of OrderDesk's own configuration.
func botCommand(ctx context.Context, args []string, getenv func(string) string) error {
	if len(args) > 0 {
		return usagef("bot takes no arguments (it is configured by TELEGRAM_BOT_TOKEN, ORDERDESK_API_URL and the others in README.md)")
	}
	cfg, err := bot.LoadConfig(getenv)
	if err != nil {
		return err
	}
	b, err := bot.New(cfg, NewLogger(cfg.LogLevel))
	if err != nil {
		return err
	}
	return b.Run(ctx)
}
