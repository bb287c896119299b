package llmtest

import (
	"net/http"
)

// defaultModels is what GET /v1/models lists when Options.Models is empty.
var defaultModels = []string{
	"stub/echo",
	"openai/gpt-4o-mini",
	"anthropic/claude-3.5-sonnet",
	"meta-llama/llama-3.1-8b-instruct:free",
	"text-embedding-3-small",
}

// handleModels is GET /v1/models. Like OpenRouter's, it needs no key.
func (s *Stub) handleModels(w http.ResponseWriter, _ *http.Request, c *call) {
	// OpenRouter lists models without a key; OpenAI-style providers check one when sent,
	// which is how a key is validated there.
	if c.auth != "" {
		if _, ok := s.authorize(w, c); !ok {
			return
		}
	}
	s.mu.Lock()
	ids := s.models
	s.mu.Unlock()
	if len(ids) == 0 {
		ids = defaultModels
	}
	data := make([]any, len(ids))
	for i, id := range ids {
		data[i] = map[string]any{"id": id, "object": "model", "created": s.createdAt, "owned_by": "stub"}
	}
	s.write(w, c, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// handleKey is OpenRouter's GET /v1/key: what the key is and what it may spend.
func (s *Stub) handleKey(w http.ResponseWriter, _ *http.Request, c *call) {
	key, ok := s.authorize(w, c)
	if !ok {
		return
	}
	info := map[string]any{"label": maskKey(key), "limit": nil, "limit_remaining": nil, "usage": 0, "is_free_tier": false}
	s.mu.Lock()
	if l, ok := s.keyLimits[key]; ok {
		info["limit"], info["usage"], info["limit_remaining"] = l.limit, l.usage, l.limit-l.usage
	}
	s.mu.Unlock()
	s.write(w, c, http.StatusOK, map[string]any{"data": info})
}

type keyLimit struct{ limit, usage float64 }

// SetKeyLimit gives a key a spending limit and usage in GET /v1/key answers (by default
// every key is unlimited), to test credit checks.
func (s *Stub) SetKeyLimit(key string, limit, usage float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keyLimits == nil {
		s.keyLimits = map[string]keyLimit{}
	}
	s.keyLimits[key] = keyLimit{limit, usage}
}

// maskKey labels a key the way OpenRouter does ("sk-or-v1-0e6...1c9"), without
// repeating it.
func maskKey(key string) string {
	if len(key) <= 12 {
		return "key-..." + key[len(key)-min(len(key), 2):]
	}
	return key[:min(9, len(key)/3)] + "..." + key[len(key)-3:]
}
