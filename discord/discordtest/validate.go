package discordtest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// Discord's content limits, enforced the way the API reports them.
const (
	maxContentRunes = 2000
	maxEmbeds       = 10
	maxEmbedChars   = 6000
)

// validateMessage applies Discord's content rules and answers 400 when one
// fails. Length counts Unicode code points, as Discord does.
func validateMessage(w http.ResponseWriter, content string, embeds []*discordgo.MessageEmbed, extras int) bool {
	switch {
	case utf8.RuneCountInString(content) > maxContentRunes:
		writeFormError(w, "content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
	case len(embeds) > maxEmbeds:
		writeFormError(w, "embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
	case embedChars(embeds) > maxEmbedChars:
		writeFormError(w, "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
	case strings.TrimSpace(content) == "" && len(embeds) == 0 && extras == 0:
		writeError(w, http.StatusBadRequest, 50006, "Cannot send an empty message")
	default:
		return true
	}
	return false
}

func embedChars(embeds []*discordgo.MessageEmbed) int {
	n := 0
	for _, e := range embeds {
		if e == nil {
			continue
		}
		n += utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
		for _, f := range e.Fields {
			if f != nil {
				n += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
			}
		}
		if e.Footer != nil {
			n += utf8.RuneCountInString(e.Footer.Text)
		}
		if e.Author != nil {
			n += utf8.RuneCountInString(e.Author.Name)
		}
	}
	return n
}

// parseWait reads ?wait=, which Discord accepts only as a boolean.
func parseWait(w http.ResponseWriter, r *http.Request) (bool, bool) {
	switch v := strings.ToLower(r.URL.Query().Get("wait")); v {
	case "", "false", "0":
		return false, true
	case "true", "1":
		return true, true
	default:
		writeFormError(w, "wait", "BOOLEAN_TYPE_COERCE", "Value \""+v+"\" is not a valid boolean.")
		return false, false
	}
}

// validateUsername applies Discord's webhook name rules: 1 to 80 characters,
// no "discord" or "clyde", not "everyone" or "here".
func validateUsername(w http.ResponseWriter, field, name string) bool {
	lower := strings.ToLower(name)
	n := utf8.RuneCountInString(name)
	switch {
	case n < 1 || n > 80:
		writeFormError(w, field, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")
	case strings.Contains(lower, "discord"):
		writeFormError(w, field, "USERNAME_INVALID_CONTAINS", `Username cannot contain "discord"`)
	case strings.Contains(lower, "clyde"):
		writeFormError(w, field, "USERNAME_INVALID_CONTAINS", `Username cannot contain "clyde"`)
	case lower == "everyone" || lower == "here":
		writeFormError(w, field, "USERNAME_INVALID", "Username is invalid")
	default:
		return true
	}
	return false
}

// avatarHash stands in for the hash Discord derives from an uploaded or
// proxied avatar; empty stays empty.
func avatarHash(src string) string {
	if src == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(src))
	return hex.EncodeToString(sum[:16])
}
