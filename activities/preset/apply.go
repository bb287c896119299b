package preset

import (
	"time"

	"github.com/tzurot/tzurot/activities/llm"
)

// Merge is the settings cascade: layers in order of rising precedence (the caller orders
// them: global default, character default, user default, user override for the
// character), later layers winning field by field. A nil value (JSON null) in a layer
// clears whatever earlier layers set, so the field's default applies again. The result
// holds no nils and shares no slices with the layers.
func Merge(layers ...Values) Values {
	out := Values{}
	for _, l := range layers {
		for k, v := range l {
			if v == nil {
				delete(out, k)
				continue
			}
			if items, ok := v.([]string); ok {
				v = append([]string{}, items...)
			} else if items, ok := v.([]any); ok {
				v = append([]any{}, items...)
			}
			out[k] = v
		}
	}
	return out
}

// Apply builds the parameters of a request (everything but the messages) for provider
// from merged values: each LLM field's value, or its default, through the field's own
// mapping. Fields the provider does not accept are left out (Ignored names them), as are
// behaviour fields. It fails with a *FieldError if a value is invalid or a required field
// (the model) is missing.
func Apply(v Values, provider string) (llm.Request, error) {
	var req llm.Request
	n, err := Normalize(v)
	if err != nil {
		return req, err
	}
	for _, f := range Fields {
		val := valueOrDefault(f, n)
		if val == nil {
			if f.Required {
				return llm.Request{}, &FieldError{Field: f.Name, Allowed: "set"}
			}
			continue
		}
		if f.Behaviour || !f.Accepts(provider) {
			continue
		}
		f.apply(&req, provider, val)
	}
	return req, nil
}

// Ignored names the fields set in v that provider does not accept, in table order, so
// /preset view can say "top_k: ignored by openai-compatible".
func Ignored(v Values, provider string) []string {
	var out []string
	for _, f := range Fields {
		if val, ok := v[f.Name]; ok && val != nil && !f.Behaviour && !f.Accepts(provider) {
			out = append(out, f.Name)
		}
	}
	return out
}

// Settings are the behaviour fields, typed, for the activities that fetch context and
// memories. Behaviour fills every one.
type Settings struct {
	ContextWindowTokens   int           // token budget of the prompt
	MaxHistoryMessages    int           // channel messages read back
	MaxAge                time.Duration // history older than this is ignored; 0 = unlimited
	MaxImages             int           // images passed to the model per turn
	MaxReferencedMessages int           // replied-to and linked messages included
	MemoryScoreThreshold  float64       // lowest relevance score of a memory used
	MemoryLimit           int           // memories retrieved per turn
}

// Behaviour returns the behaviour settings of merged values, with defaults for what is
// unset. A value that does not validate counts as unset: Validate is where it is
// reported, and a turn should not fail over it.
func Behaviour(v Values) Settings {
	var s Settings
	for _, f := range Fields {
		if !f.Behaviour {
			continue
		}
		val := f.Default
		if raw, ok := v[f.Name]; ok && raw != nil {
			if c, err := f.coerce(raw); err == nil {
				val = c
			}
		}
		f.setting(&s, val)
	}
	return s
}

// valueOrDefault is the canonical value of f in normalized values, or its default.
func valueOrDefault(f Field, n Values) any {
	if val, ok := n[f.Name]; ok && val != nil {
		return val
	}
	return f.Default
}
