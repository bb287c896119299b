package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/tzurot/tzurot/activities/llm"
)

// handleChat is POST /v1/chat/completions.
func (s *Stub) handleChat(w http.ResponseWriter, _ *http.Request, c *call) {
	if _, ok := s.authorize(w, c); !ok {
		return
	}
	req, param, msg := parseChat(c.body)
	if msg != "" {
		s.badRequest(w, c, param, msg)
		return
	}
	if !s.knownModel(req.Model) {
		s.writeError(w, c, http.StatusNotFound, apiError{
			Message: fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", req.Model),
			Type:    "invalid_request_error", Code: "model_not_found",
		})
		return
	}
	s.mu.Lock()
	reply := s.reply
	s.mu.Unlock()
	if reply == nil {
		reply = DefaultReply
	}
	text := reply(req)
	text, finish := applyLimits(req, text)
	prompt := promptTokens(req)
	completion := llm.CountTokens(req.Model, text)
	s.write(w, c, http.StatusOK, map[string]any{
		"id":                 fmt.Sprintf("chatcmpl-stub%06d", s.newID()),
		"object":             "chat.completion",
		"created":            time.Now().Unix(),
		"model":              req.Model,
		"system_fingerprint": "fp_stub",
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": text, "refusal": nil},
			"logprobs":      nil,
			"finish_reason": finish,
		}},
		"usage": map[string]any{
			"prompt_tokens":     prompt,
			"completion_tokens": completion,
			"total_tokens":      prompt + completion,
		},
	})
}

// DefaultReply answers "(stub) I hear you: <text of the last user message>".
func DefaultReply(req ChatRequest) string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			return "(stub) I hear you: " + req.Messages[i].Content
		}
	}
	return "(stub) I hear you: "
}

func (s *Stub) knownModel(model string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.models) == 0 || slices.Contains(s.models, model)
}

// parseChat validates a chat body the way OpenAI does, returning the offending parameter
// and message on failure.
func parseChat(body []byte) (req ChatRequest, param, msg string) {
	if err := json.Unmarshal(body, &req.Raw); err != nil || req.Raw == nil {
		return req, "", "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
	}
	raw := req.Raw
	model, ok := raw["model"].(string)
	if !ok || model == "" {
		return req, "model", "you must provide a model parameter"
	}
	req.Model = model
	if stream, _ := raw["stream"].(bool); stream {
		return req, "stream", "streaming not supported by stub"
	}
	list, ok := raw["messages"].([]any)
	if !ok {
		return req, "messages", "Missing required parameter: 'messages'."
	}
	if len(list) == 0 {
		return req, "messages", "[] is too short - 'messages'"
	}
	for i, m := range list {
		cm, p, errMsg := parseMessage(m, i)
		if errMsg != "" {
			return req, p, errMsg
		}
		req.Messages = append(req.Messages, cm)
	}
	if p, errMsg := checkSampling(raw); errMsg != "" {
		return req, p, errMsg
	}
	return req, "", ""
}

var roles = []string{"system", "developer", "user", "assistant", "tool"}

func parseMessage(v any, i int) (ChatMessage, string, string) {
	var cm ChatMessage
	m, ok := v.(map[string]any)
	if !ok {
		return cm, fmt.Sprintf("messages[%d]", i), fmt.Sprintf("Invalid type for 'messages[%d]': expected an object.", i)
	}
	cm.Role, _ = m["role"].(string)
	if !slices.Contains(roles, cm.Role) {
		return cm, fmt.Sprintf("messages[%d].role", i), fmt.Sprintf("Invalid value for 'messages[%d].role': %q is not one of %v.", i, cm.Role, roles)
	}
	if name, ok := m["name"]; ok {
		s, _ := name.(string)
		if !validName(s) {
			return cm, fmt.Sprintf("messages[%d].name", i), fmt.Sprintf("Invalid 'messages[%d].name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", i)
		}
		cm.Name = s
	}
	content, present := m["content"]
	switch c := content.(type) {
	case string:
		cm.Content = c
	case []any:
		var texts []string
		for _, part := range c {
			p, _ := part.(map[string]any)
			switch p["type"] {
			case "text":
				t, _ := p["text"].(string)
				texts = append(texts, t)
			case "image_url":
				img, _ := p["image_url"].(map[string]any)
				u, _ := img["url"].(string)
				if u == "" {
					return cm, fmt.Sprintf("messages[%d].content", i), "Missing required parameter: 'image_url.url'."
				}
				cm.ImageURLs = append(cm.ImageURLs, u)
			default:
				return cm, fmt.Sprintf("messages[%d].content", i), fmt.Sprintf("Invalid content part type in 'messages[%d].content': %v.", i, p["type"])
			}
		}
		cm.Content = strings.Join(texts, "\n")
	case nil:
		if !present || cm.Role != "assistant" {
			return cm, fmt.Sprintf("messages[%d].content", i), fmt.Sprintf("Missing required parameter: 'messages[%d].content'.", i)
		}
	default:
		return cm, fmt.Sprintf("messages[%d].content", i), fmt.Sprintf("Invalid type for 'messages[%d].content': expected a string or an array.", i)
	}
	return cm, "", ""
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// checkSampling enforces the documented types and ranges of the common parameters.
func checkSampling(raw map[string]any) (string, string) {
	ranges := []struct {
		name     string
		min, max float64
	}{
		{"temperature", 0, 2}, {"top_p", 0, 1}, {"frequency_penalty", -2, 2}, {"presence_penalty", -2, 2},
	}
	for _, r := range ranges {
		v, ok := raw[r.name]
		if !ok || v == nil {
			continue
		}
		f, isNum := v.(float64)
		if !isNum {
			return r.name, fmt.Sprintf("Invalid type for '%s': expected a decimal, but got %T instead.", r.name, v)
		}
		if f < r.min || f > r.max {
			return r.name, fmt.Sprintf("Invalid '%s': decimal above maximum value or below minimum value. Expected a value between %g and %g, but got %g instead.", r.name, r.min, r.max, f)
		}
	}
	for _, name := range []string{"max_tokens", "max_completion_tokens"} {
		v, ok := raw[name]
		if !ok || v == nil {
			continue
		}
		f, isNum := v.(float64)
		if !isNum || f != float64(int64(f)) || f < 1 {
			return name, fmt.Sprintf("Invalid '%s': expected an integer of at least 1.", name)
		}
	}
	return "", ""
}

// applyLimits cuts the reply at the first stop sequence, then at max_tokens, and names
// the finish reason as the API would.
func applyLimits(req ChatRequest, text string) (string, string) {
	for _, stop := range stopSequences(req.Raw["stop"]) {
		if i := strings.Index(text, stop); i >= 0 {
			text = text[:i]
		}
	}
	limit := 0
	for _, name := range []string{"max_completion_tokens", "max_tokens"} {
		if f, ok := req.Raw[name].(float64); ok && limit == 0 {
			limit = int(f)
		}
	}
	if limit > 0 {
		if cut, ok := truncateTokens(req.Model, text, limit); ok {
			return cut, "length"
		}
	}
	return text, "stop"
}

func stopSequences(v any) []string {
	switch s := v.(type) {
	case string:
		if s != "" {
			return []string{s}
		}
	case []any:
		var out []string
		for _, x := range s {
			if str, ok := x.(string); ok && str != "" {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

// Chat format overhead, from OpenAI's token counting cookbook.
const (
	tokensPerMessage = 3
	tokensPerName    = 1
	tokensForReply   = 3
	tokensPerImage   = 85
)

// promptTokens counts the prompt the way OpenAI bills it.
func promptTokens(req ChatRequest) int {
	n := tokensForReply
	for _, m := range req.Messages {
		n += tokensPerMessage + llm.CountTokens(req.Model, m.Role) + llm.CountTokens(req.Model, m.Content)
		if m.Name != "" {
			n += tokensPerName + llm.CountTokens(req.Model, m.Name)
		}
		n += tokensPerImage * len(m.ImageURLs)
	}
	return n
}

// truncateTokens cuts text to at most limit tokens, preferring to end before a space
// as a real tokenizer's boundary would (" three" is one token); ok is false when the text
// already fits.
func truncateTokens(model, text string, limit int) (string, bool) {
	if llm.CountTokens(model, text) <= limit {
		return text, false
	}
	fits := func(end int) bool { return llm.CountTokens(model, text[:end]) <= limit }
	var words, runes []int // candidate end offsets, ascending
	for i, r := range text {
		runes = append(runes, i)
		if unicode.IsSpace(r) && i > 0 {
			words = append(words, i)
		}
	}
	if end, ok := longestFitting(words, fits); ok {
		return text[:end], true
	}
	end, _ := longestFitting(runes, fits)
	return text[:end], true
}

// longestFitting binary-searches the largest candidate offset that fits.
func longestFitting(ends []int, fits func(int) bool) (int, bool) {
	n := sort.Search(len(ends), func(i int) bool { return !fits(ends[i]) })
	if n == 0 {
		return 0, false
	}
	return ends[n-1], true
}
