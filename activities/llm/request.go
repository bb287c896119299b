package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// buildChatRequest turns a Request into go-openai's struct plus the body fields written
// on top of it. Only model and messages travel in the struct: every optional parameter
// goes through the merge map, because go-openai drops zero floats (omitempty), has no
// place for provider extensions, and rejects some parameters for model names it thinks
// it knows (o1, gpt-5) although the provider may accept them.
func buildChatRequest(req Request) (openai.ChatCompletionRequest, map[string]json.RawMessage, error) {
	var creq openai.ChatCompletionRequest
	if strings.TrimSpace(req.Model) == "" {
		return creq, nil, errors.New("no model")
	}
	msgs, err := convertMessages(req.Messages)
	if err != nil {
		return creq, nil, err
	}
	merge, err := mergeFields(req)
	if err != nil {
		return creq, nil, err
	}
	creq.Model = req.Model
	creq.Messages = msgs
	return creq, merge, nil
}

// mergeFields collects Extra and then the typed fields, so the typed ones win.
func mergeFields(req Request) (map[string]json.RawMessage, error) {
	fields := make(map[string]any, len(req.Extra)+8)
	keys := make([]string, 0, len(req.Extra))
	for k := range req.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if reservedExtra[k] {
			return nil, fmt.Errorf("extra field %q is set by the client itself", k)
		}
		if k == "" {
			return nil, errors.New("extra field with an empty name")
		}
		fields[k] = req.Extra[k]
	}
	for name, p := range map[string]*float32{
		"temperature":       req.Temperature,
		"top_p":             req.TopP,
		"frequency_penalty": req.FrequencyPenalty,
		"presence_penalty":  req.PresencePenalty,
	} {
		if p == nil {
			continue
		}
		if math.IsNaN(float64(*p)) || math.IsInf(float64(*p), 0) {
			return nil, fmt.Errorf("%s is not a number", name)
		}
		fields[name] = *p
	}
	if req.MaxTokens < 0 {
		return nil, errors.New("max_tokens is negative")
	}
	if req.MaxTokens > 0 {
		fields["max_tokens"] = req.MaxTokens
	}
	if len(req.Stop) > 0 {
		fields["stop"] = req.Stop
	}
	if req.Seed != nil {
		fields["seed"] = *req.Seed
	}
	merge := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("field %q cannot be sent as JSON: %w", k, err)
		}
		merge[k] = b
	}
	return merge, nil
}

// convertMessages maps messages to go-openai's, dropping those with neither text nor
// images: go-openai omits an empty content field and the API then rejects the whole
// request, while an empty message carries nothing the model could use.
func convertMessages(in []Message) ([]openai.ChatCompletionMessage, error) {
	out := make([]openai.ChatCompletionMessage, 0, len(in))
	for i, m := range in {
		switch m.Role {
		case RoleSystem, RoleUser, RoleAssistant:
		default:
			return nil, fmt.Errorf("message %d has role %q, want system, user or assistant", i, m.Role)
		}
		if len(m.ImageURLs) > 0 && m.Role != RoleUser {
			return nil, fmt.Errorf("message %d: images are only allowed in user messages", i)
		}
		if m.Content == "" && len(m.ImageURLs) == 0 {
			continue
		}
		msg := openai.ChatCompletionMessage{Role: m.Role, Name: sanitizeName(m.Name)}
		if len(m.ImageURLs) == 0 {
			msg.Content = m.Content
		} else {
			if m.Content != "" {
				msg.MultiContent = append(msg.MultiContent, openai.ChatMessagePart{
					Type: openai.ChatMessagePartTypeText, Text: m.Content,
				})
			}
			for _, u := range m.ImageURLs {
				if u == "" {
					return nil, fmt.Errorf("message %d has an empty image URL", i)
				}
				msg.MultiContent = append(msg.MultiContent, openai.ChatMessagePart{
					Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: u},
				})
			}
		}
		out = append(out, msg)
	}
	if len(out) == 0 {
		return nil, errors.New("no message has any content")
	}
	return out, nil
}

// maxNameLen and the character set are OpenAI's rule for the name field
// (^[a-zA-Z0-9_-]{1,64}$); a Discord display name like "Lilith 🌙" would otherwise turn
// the whole request into a 400.
const maxNameLen = 64

// sanitizeName keeps ASCII letters, digits, '_' and '-', turns runs of anything else into
// a single '_', and trims the result to 64 characters. An unusable name is dropped.
func sanitizeName(name string) string {
	var b strings.Builder
	pendingSep := false
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
		if !ok {
			pendingSep = b.Len() > 0
			continue
		}
		if pendingSep {
			b.WriteByte('_')
			pendingSep = false
		}
		b.WriteRune(r)
	}
	s := b.String()
	if len(s) > maxNameLen {
		s = strings.TrimRight(s[:maxNameLen], "_")
	}
	return s
}
