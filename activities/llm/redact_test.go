package llm

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	const key = "sk-or-v1-0e6f44a-7a05f1d-d2ad7e8-c4c1d6b-1688e4f-ad4ed0c-ce6e2b5-1a1d71c9"
	tests := []struct {
		name, key, in, want string
	}{
		{"whole key", key, "bad key " + key + " here", "bad key [REDACTED] here"},
		{"echoed header", key, `got "Authorization: Bearer ` + key + `"`, `got "Authorization: [REDACTED]"`},
		{"bearer alone", "other", "token Bearer abc.def-ghi was refused", "token Bearer [REDACTED] was refused"},
		{"openai masked", "sk-proj-zzzzzzzz", "Incorrect API key provided: sk-abc12***************wxyz. You can find", "Incorrect API key provided: [REDACTED] You can find"},
		{"fragment of the key", key, "key ending ...7a05f1d-d2ad is invalid", "key ending ...[REDACTED] is invalid"},
		{"non-sk key fragment", "gsk_8a7b6c5d4e3f2a1b0c9d", "key gsk_8a7b6c5d... rejected", "key [REDACTED]... rejected"},
		{"api_key field", "x", `{"api_key": "AIzaSyD-9tSrke72"}`, `{"api_key": "[REDACTED]"}`},
		{"nothing secret", key, "Rate limit exceeded for task-force", "Rate limit exceeded for task-force"},
		{"short key only exact", "abc", "abc and ab", "[REDACTED] and ab"},
		{"no key", "", "sk-live-1234 leaked", "[REDACTED] leaked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(tt.in, tt.key); got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("sk-or-v1-abcdef0123456789", "Incorrect API key provided: sk-or-v1-abcdef0123456789")
	f.Add("AIzaSyD-9tSrke72PouQMnMX", "key=AIzaSyD-9tSrke72PouQMnMX&x=1")
	f.Add("[REDACTED]x", "[REDACTED]x[REDACTED]x")
	f.Add("ééééééééé", "aéééééééééb")
	f.Fuzz(func(t *testing.T, key, text string) {
		out := redact(text+key+text, key)
		if k := strings.TrimSpace(key); k != "" && strings.Contains(out, k) && !strings.Contains(redacted, k) {
			t.Fatalf("redact left the key %q in %q", key, out)
		}
		if len(strings.TrimSpace(key)) >= minKeyFragment {
			k := strings.TrimSpace(key)
			for i := 0; i+minKeyFragment <= len(k); i++ {
				if strings.Contains(out, k[i:i+minKeyFragment]) && !strings.Contains(redacted, k[i:i+minKeyFragment]) {
					t.Fatalf("redact left the fragment %q in %q", k[i:i+minKeyFragment], out)
				}
			}
		}
	})
}
