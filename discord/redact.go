package discord

import "regexp"

var webhookTokenInURL = regexp.MustCompile(`(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_\-.]+`)

// redactURL removes webhook and interaction tokens from text that may quote a request
// URL (net/http errors do: `Post "https://discord.com/api/v9/webhooks/1/TOKEN": ...`).
func redactURL(s string) string {
	return webhookTokenInURL.ReplaceAllString(s, "${1}[redacted]")
}
