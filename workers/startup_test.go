package workers

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/discord/discordtest"
)

// Each misconfiguration stops tzurot with one line that says what is wrong and how to
// fix it.
func TestStartupErrorsAreOneClearLine(t *testing.T) {
	ctx := context.Background()
	sim, err := discordtest.New(discordtest.Options{BotToken: "right-token"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	logger := NewLogger(io.Discard, "error", "text")

	_, _, errWrongToken := DiscordSession(ctx, "wrong-token", sim.HTTPClient())
	_, _, errNoTokenGiven := DiscordSession(ctx, "  ", sim.HTTPClient())
	_, errTemporal := DialTemporal(ctx, "127.0.0.1:1", "default", logger, nil)
	errBot := RunBot(ctx, Config{DatabaseURL: "postgres://x@127.0.0.1:1/x", Logger: logger})
	const key = "0000000000000000000000000000000000000000000000000000000000000001"
	errWorker := RunWorker(ctx, Config{DiscordToken: "t", LLMAPIKey: "k", MasterKey: key, DatabaseURL: "postgres://x@127.0.0.1:1/x?connect_timeout=2", Logger: logger})
	errNoMasterKey := RunWorker(ctx, Config{DiscordToken: "t", Logger: logger})
	errBadMasterKey := RunWorker(ctx, Config{DiscordToken: "t", MasterKey: "not-a-key-zzz", Logger: logger})

	tests := []struct {
		name string
		err  error
		want string
	}{
		{"wrong Discord token", errWrongToken, "discord rejected the bot token"},
		{"no Discord token", errNoTokenGiven, "DISCORD_TOKEN"},
		{"Temporal unreachable", errTemporal, "cannot reach Temporal at 127.0.0.1:1"},
		{"bot without a token checks that first", errBot, "no Discord bot token"},
		{"database unreachable", errWorker, "cannot reach PostgreSQL at 127.0.0.1:1"},
		{"no master key", errNoMasterKey, "APP_MASTER_KEY"},
		{"malformed master key", errBadMasterKey, "APP_MASTER_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
			msg := tt.err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not say %q", msg, tt.want)
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine") {
				t.Errorf("not one line: %q", msg)
			}
			if strings.Contains(msg, "right-token") || strings.Contains(msg, "wrong-token") || strings.Contains(msg, "not-a-key-zzz") {
				t.Errorf("the token leaked: %q", msg)
			}
		})
	}
}
