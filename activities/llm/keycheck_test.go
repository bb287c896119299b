package llm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
)

func TestCheckKey(t *testing.T) {
	const good, spent, limited = "sk-or-v1-good000-0000000-000000", "sk-or-v1-spent00-0000000-000000", "sk-or-v1-limit00-0000000-000000"
	stub := llmtest.New(llmtest.Options{APIKeys: []string{good, spent, limited}})
	defer stub.Close()
	stub.SetKeyLimit(spent, 5, 5)
	stub.SetKeyLimit(limited, 10, 2.5)
	c := llm.New(llm.Config{BaseURL: stub.URL()})
	tests := []struct {
		provider, key string
		want          llm.KeyState
	}{
		{"openrouter", good, llm.KeyUnlimited},
		{"openrouter", spent, llm.KeyNoCredit},
		{"openrouter", limited, llm.KeyValid},
		{"openrouter", "sk-or-v1-wrong00-0000000-00000", llm.KeyInvalid},
		{"openai-compatible", good, llm.KeyValid},
		{"openai-compatible", "sk-wrong", llm.KeyInvalid},
		{"openrouter", "", llm.KeyInvalid},
	}
	for _, tt := range tests {
		st, err := c.CheckKey(context.Background(), tt.provider, tt.key)
		if err != nil || st.State != tt.want {
			t.Errorf("%s %.12s: %+v %v, want %s", tt.provider, tt.key, st, err, tt.want)
		}
		if tt.key != "" && strings.Contains(st.Detail, tt.key) {
			t.Errorf("the detail repeats the key")
		}
	}
	down := llm.New(llm.Config{BaseURL: "http://127.0.0.1:1/v1"})
	if st, err := down.CheckKey(context.Background(), "openrouter", good); err != nil || st.State != llm.KeyUnchecked {
		t.Errorf("unreachable provider: %+v %v", st, err)
	}
}
