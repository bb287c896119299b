package llm

import (
	"regexp"
	"strings"
)

// redacted replaces anything that looks like a secret.
const redacted = "[REDACTED]"

// minKeyFragment is the shortest piece of the key that is scrubbed on its own. Providers
// echo keys masked ("sk-abc1****wxyz") or cut; eight characters of a key are already too
// many to leak, while shorter runs would also match ordinary words.
const minKeyFragment = 8

// maxRedactInput bounds the scrubbing work; messages are shortened afterwards anyway.
const maxRedactInput = 16 << 10

var secretPatterns = []*regexp.Regexp{
	// Header-like "name: value" pairs, the value possibly a bearer token.
	regexp.MustCompile(`(?i)\b(authorization|x-api-key|api[_-]?key)(["']?\s*[:=]\s*["']?)(?:bearer\s+)?[^\s"',;}\]]+`),
	// Bearer tokens on their own.
	regexp.MustCompile(`(?i)\bbearer\s+[^\s"',;}\]]+`),
	// OpenAI / OpenRouter / Anthropic style keys, masked or not: sk-..., sk-or-v1-..., sk-ant-...
	regexp.MustCompile(`\bsk-[A-Za-z0-9_*.\-]{3,}`),
}

// redact removes the key, any long fragment of it, and anything shaped like a key or a
// bearer token from s. It is the last thing between a provider's error text and our logs.
func redact(s, apiKey string) string {
	if len(s) > maxRedactInput {
		s = s[:maxRedactInput]
	}
	// Patterns first: once the key is a marker, "Bearer <marker>" no longer parses as one.
	s = secretPatterns[0].ReplaceAllString(s, "${1}${2}"+redacted)
	s = secretPatterns[1].ReplaceAllString(s, "Bearer "+redacted)
	s = secretPatterns[2].ReplaceAllString(s, redacted)
	s = redactFragments(s, apiKey)
	s = strings.ToValidUTF8(s, "�")
	// Belt and braces: should a replacement ever recreate a piece of the key next to a
	// marker, say nothing at all.
	if hasFragment(s, apiKey) {
		return redacted
	}
	return s
}

// hasFragment reports whether s still holds the key or a fragment redactFragments would
// have removed, other than inside the marker itself.
func hasFragment(s, apiKey string) bool {
	key := strings.TrimSpace(apiKey)
	if key == "" {
		return false
	}
	n := min(minKeyFragment, len(key))
	for i := 0; i+n <= len(key); i++ {
		frag := key[i : i+n]
		if strings.Contains(s, frag) && !strings.Contains(redacted, frag) {
			return true
		}
	}
	return false
}

// redactFragments replaces every run of s covered by a substring of the key at least
// minKeyFragment bytes long (or the whole key, when it is shorter).
func redactFragments(s, apiKey string) string {
	key := strings.TrimSpace(apiKey)
	if key == "" || s == "" {
		return s
	}
	n := min(minKeyFragment, len(key))
	covered := make([]bool, len(s))
	found := false
	for i := 0; i+n <= len(key); i++ {
		frag := key[i : i+n]
		for off := 0; off <= len(s)-n; {
			j := strings.Index(s[off:], frag)
			if j < 0 {
				break
			}
			for k := off + j; k < off+j+n; k++ {
				covered[k] = true
			}
			found = true
			off += j + 1
		}
	}
	if !found {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !covered[i] {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(redacted)
		for i < len(s) && covered[i] {
			i++
		}
	}
	return b.String()
}
