package app_test

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestComposeFile checks compose.yaml where no docker compose is installed to run
// `docker compose config`: the services a deployment needs, their health checks, and
// that the app services run the right commands.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile("../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Command     []string       `yaml:"command"`
			Healthcheck map[string]any `yaml:"healthcheck"`
			DependsOn   map[string]any `yaml:"depends_on"`
			Environment map[string]any `yaml:"environment"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for name, cmd := range map[string]string{"migrate": "migrate", "serve": "serve", "worker": "worker"} {
		s, ok := doc.Services[name]
		if !ok {
			t.Fatalf("no %s service", name)
		}
		if len(s.Command) != 1 || s.Command[0] != cmd {
			t.Errorf("%s runs %v", name, s.Command)
		}
		for _, v := range []string{"DATABASE_URL", "REDIS_URL"} {
			if _, ok := s.Environment[v]; !ok {
				t.Errorf("%s lacks %s", name, v)
			}
		}
	}
	for _, name := range []string{"postgres", "redis", "serve"} {
		if len(doc.Services[name].Healthcheck) == 0 {
			t.Errorf("%s has no healthcheck", name)
		}
	}
	for _, name := range []string{"serve", "worker"} {
		if _, ok := doc.Services[name].DependsOn["migrate"]; !ok {
			t.Errorf("%s does not wait for migrate", name)
		}
	}
	bot, ok := doc.Services["bot"]
	if !ok || len(bot.Command) != 1 || bot.Command[0] != "bot" {
		t.Errorf("no bot service running the bot: %+v", bot)
	}
	for _, v := range []string{"TELEGRAM_BOT_TOKEN", "ORDERDESK_API_URL", "ORDERDESK_API_KEY", "BOT_WEBHOOK_SECRET", "BOT_DATA_DIR"} {
		if _, ok := bot.Environment[v]; !ok {
			t.Errorf("the bot lacks %s", v)
		}
	}
	for _, v := range []string{"pgdata", "redisdata", "data", "botdata"} {
		if _, ok := doc.Volumes[v]; !ok {
			t.Errorf("no volume %s", v)
		}
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "USER nonroot", "AS build", "COPY --from=build"} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
