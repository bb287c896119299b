package workers

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestLoggerRedactsSecrets(t *testing.T) {
	secrets := []string{
		"sk-or-v1-FAKEtes-key0000-0000000-0000000-0000000-0000000-0000000-0goodcdef",
		"sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
		"sk-0123456-89abcde-ghijklm-opqrstuv",
		"AIzaSyA1234567890abcdefghijklmnopqrstu",
		"MTA5ODc2NTQzMjEwOTg3NjU0.GabCdE.abcdefghijklmnopqrstuvwxyz0123456",
	}
	// A webhook token is only recognisable inside its URL.
	const webhookToken = "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789_-aBcDeFgHiJkLmNoPqRsTuVwXyZ"
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		log := NewLogger(&buf, "debug", format)
		for _, s := range secrets {
			log.Info("calling with "+s, "key", s, "err", errors.New("rejected "+s),
				"url", "https://discord.com/api/v9/webhooks/123/"+s, "auth", "Bearer "+s)
			log.With("k", s).WithGroup("g").Warn("x", "inner", s)
		}
		log.Error("post failed", "err", errors.New(`Post "https://discord.com/api/v9/webhooks/42/`+webhookToken+`?wait=true": EOF`))
		for _, s := range append(secrets, webhookToken) {
			if strings.Contains(buf.String(), s) {
				t.Errorf("%s log contains secret %.10s...:\n%s", format, s, buf.String())
			}
		}
		if !strings.Contains(buf.String(), "[redacted]") {
			t.Errorf("%s: nothing was redacted", format)
		}
	}
}

func TestRedactKeepsOrdinaryText(t *testing.T) {
	for _, s := range []string{"hello world", "workflow msg-123 finished", "sk-short", "channel_id=1234567890"} {
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q", s, got)
		}
	}
}
