package llm

import (
	"strings"
	"sync"
	"testing"
)

func TestEncodingForModel(t *testing.T) {
	tests := map[string]string{
		"gpt-4o":                          encodingO200K,
		"openai/gpt-4o-mini":              encodingO200K,
		"openai/gpt-4.1":                  encodingO200K,
		"openai/gpt-5":                    encodingO200K,
		"openai/gpt-5.1-chat":             encodingO200K,
		"o3-mini":                         encodingO200K,
		"openai/o1":                       encodingO200K,
		"openai/gpt-oss-120b:free":        encodingO200K,
		"gpt-4":                           encodingCL100K,
		"gpt-4-turbo":                     encodingCL100K,
		"openai/gpt-3.5-turbo":            encodingCL100K,
		"anthropic/claude-3.5-sonnet":     encodingCL100K,
		"meta-llama/llama-3.1-8b:free":    encodingCL100K,
		"o1x-lookalike":                   encodingCL100K,
		"":                                encodingCL100K,
		"text-embedding-3-small":          encodingCL100K,
		"deepseek/deepseek-chat-v3-0324":  encodingCL100K,
		"x-ai/grok-4":                     encodingCL100K,
		"google/gemini-2.5-pro-preview":   encodingCL100K,
		"mistralai/mistral-7b-instruct:f": encodingCL100K,
	}
	for model, want := range tests {
		if got := EncodingForModel(model); got != want {
			t.Errorf("EncodingForModel(%q) = %s, want %s", model, got, want)
		}
	}
}

func TestCountTokens(t *testing.T) {
	tests := []struct {
		model, text string
		want        int
	}{
		{"gpt-4", "hello world", 2},
		{"gpt-4o", "hello world", 2},
		{"gpt-4", "", 0},
		{"unknown/model", "hello world", 2}, // cl100k fallback
		{"gpt-4", "<|endoftext|>", 7},       // special tokens count as text, no panic
		{"gpt-4", "tiktoken is great!", 6},
		{"gpt-4o", "tiktoken is great!", 6},
	}
	for _, tt := range tests {
		if got := CountTokens(tt.model, tt.text); got != tt.want {
			t.Errorf("CountTokens(%q, %q) = %d, want %d", tt.model, tt.text, got, tt.want)
		}
	}
	// CJK: at least one token per few characters, at most about two per character, and
	// o200k (built for multilingual text) no worse than cl100k.
	cjk := "こんにちは、世界。今日はいい天気ですね。你好，世界！"
	runes := len([]rune(cjk))
	cl, o := CountTokens("gpt-4", cjk), CountTokens("gpt-4o", cjk)
	for name, n := range map[string]int{"cl100k": cl, "o200k": o} {
		if n < runes/4 || n > 2*runes {
			t.Errorf("%s: %d tokens for %d CJK runes", name, n, runes)
		}
	}
	if o > cl {
		t.Errorf("o200k (%d) counts more CJK tokens than cl100k (%d)", o, cl)
	}
	long := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 200)
	if n := CountTokens("gpt-4", long); n < 1800 || n > 2200 {
		t.Errorf("long ASCII: %d tokens", n)
	}
}

func TestCountTokensConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			model := "gpt-4"
			if i%2 == 0 {
				model = "gpt-4o"
			}
			if n := CountTokens(model, "hello world"); n != 2 {
				t.Errorf("got %d", n)
			}
		}()
	}
	wg.Wait()
}

func TestEstimateTokens(t *testing.T) {
	if n := estimateTokens("hello world!"); n != 3 {
		t.Errorf("ascii estimate = %d", n)
	}
	if n := estimateTokens("你好世界"); n != 4 {
		t.Errorf("cjk estimate = %d", n)
	}
}

func TestCountMessageTokens(t *testing.T) {
	msgs := []Message{{Role: RoleSystem, Content: "hi"}, {Role: RoleUser, Name: "bob", Content: "hello world", ImageURLs: []string{"u"}}}
	want := 3 + (3 + 1 + 1) + (3 + 1 + 2 + 1 + 1 + 85)
	if got := CountMessageTokens("gpt-4", msgs); got != want {
		t.Errorf("CountMessageTokens = %d, want %d", got, want)
	}
}
