package discord

import (
	"errors"
	"strings"
	"testing"
)

func TestClassifyNeverLeaksWebhookToken(t *testing.T) {
	const token = "aBcD-efGh_ijkl.MNOP1234"
	err := errors.New(`Post "https://discord.com/api/v9/webhooks/123456/` + token + `?wait=true": dial tcp: connection refused`)
	got := classify("execute webhook", err).Error()
	if strings.Contains(got, token) {
		t.Fatalf("token leaked: %s", got)
	}
	if !strings.Contains(got, "/webhooks/123456/[redacted]") {
		t.Fatalf("unexpected text: %s", got)
	}
	if got := redactURL("/interactions/99/" + token + "/callback"); strings.Contains(got, token) {
		t.Fatalf("interaction token leaked: %s", got)
	}
}
