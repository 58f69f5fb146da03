package app_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// botVars are the variables `orderdesk bot` reads.
var botVars = []string{"TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "ORDERDESK_API_URL", "ORDERDESK_API_KEY",
	"BOT_WEBHOOK_ADDR", "BOT_WEBHOOK_SECRET", "BOT_DATA_DIR", "LOG_LEVEL"}

func TestBotCommandConfiguration(t *testing.T) {
	clearConfigEnv(t)
	set := func(vars map[string]string) {
		for _, v := range botVars {
			t.Setenv(v, vars[v])
		}
	}
	good := map[string]string{"TELEGRAM_BOT_TOKEN": "123456:ABC-def", "ORDERDESK_API_URL": "http://127.0.0.1:9/api/v1",
		"ORDERDESK_API_KEY": "od_abc_def", "BOT_WEBHOOK_SECRET": "whsec_x", "BOT_DATA_DIR": filepath.Join(t.TempDir(), "bot")}
	for _, missing := range []string{"TELEGRAM_BOT_TOKEN", "ORDERDESK_API_URL", "ORDERDESK_API_KEY", "BOT_WEBHOOK_SECRET"} {
		vars := map[string]string{}
		for k, v := range good {
			if k != missing {
				vars[k] = v
			}
		}
		set(vars)
		r := runMain(t, "", "bot")
		if r.code != 1 || !strings.Contains(r.stderr, missing) {
			t.Errorf("without %s: exit %d, stderr %q", missing, r.code, r.stderr)
		}
		wantOneErrorLine(t, r)
	}
	set(good)
	t.Setenv("BOT_WEBHOOK_ADDR", "nonsense")
	r := runMain(t, "", "bot")
	if r.code != 1 || !strings.Contains(r.stderr, "BOT_WEBHOOK_ADDR") {
		t.Errorf("bad BOT_WEBHOOK_ADDR: exit %d, stderr %q", r.code, r.stderr)
	}
	wantOneErrorLine(t, r)

	// Telegram cannot be reached at TELEGRAM_API_URL: one line, no token in it.
	set(good)
	t.Setenv("TELEGRAM_API_URL", "http://127.0.0.1:9")
	r = runMain(t, "", "bot")
	if r.code != 1 || !strings.Contains(r.stderr, "telegram") || strings.Contains(r.stderr, "ABC-def") {
		t.Errorf("unreachable Telegram: exit %d, stderr %q", r.code, r.stderr)
	}
	wantOneErrorLine(t, r)

	r = runMain(t, "", "bot", "now")
	if r.code != 2 || !strings.Contains(r.stderr, "bot takes no arguments") {
		t.Errorf("bot with an argument: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runMain(t, "", "help"); !strings.Contains(r.stdout, "  bot  ") {
		t.Errorf("help does not list bot: %s", r.stdout)
	}
}
