package preset

import (
	"time"

	"github.com/tzurot/tzurot/activities/llm"
)

// maxSafeInt is the largest integer a float64 holds exactly. Seeds are capped there so a
// JSONB round trip through float64 (or a JavaScript provider) cannot change them.
const maxSafeInt = 1<<53 - 1

// openRouterOnly marks the sampling extensions OpenRouter forwards to the providers that
// know them; a plain OpenAI-compatible endpoint would reject or ignore them.
var openRouterOnly = []string{ProviderOpenRouter}

// Fields is the table. Ranges and names of the LLM fields follow OpenRouter's parameter
// reference (openrouter.ai/docs/parameters); the order is the order of /preset view.
var Fields = []Field{
	{
		Name: "model", Kind: String, MaxLen: 200, Required: true,
		Help:  "Model id, as the provider names it (e.g. meta-llama/llama-3.3-70b-instruct)",
		apply: func(r *llm.Request, _ string, v any) { r.Model = v.(string) },
	},
	{
		Name: "temperature", Kind: Float, Min: 0, Max: 2,
		Help:  "Randomness: lower is more predictable, higher more varied",
		apply: float32Field(func(r *llm.Request) **float32 { return &r.Temperature }),
	},
	{
		Name: "top_p", Kind: Float, Min: 0, Max: 1,
		Help:  "Sample only from the most likely tokens whose probabilities add up to P",
		apply: float32Field(func(r *llm.Request) **float32 { return &r.TopP }),
	},
	{
		Name: "top_k", Kind: Int, Min: 0, Max: 1_000_000, Providers: openRouterOnly,
		Help:  "Sample only from the K most likely tokens (0 = off)",
		apply: extraField("top_k"),
	},
	{
		Name: "min_p", Kind: Float, Min: 0, Max: 1, Providers: openRouterOnly,
		Help:  "Drop tokens less likely than P times the most likely one",
		apply: extraField("min_p"),
	},
	{
		Name: "top_a", Kind: Float, Min: 0, Max: 1, Providers: openRouterOnly,
		Help:  "Drop tokens below A times the square of the top probability",
		apply: extraField("top_a"),
	},
	{
		Name: "frequency_penalty", Kind: Float, Min: -2, Max: 2,
		Help:  "Penalise tokens by how often they already appeared",
		apply: float32Field(func(r *llm.Request) **float32 { return &r.FrequencyPenalty }),
	},
	{
		Name: "presence_penalty", Kind: Float, Min: -2, Max: 2,
		Help:  "Penalise tokens that appeared at all",
		apply: float32Field(func(r *llm.Request) **float32 { return &r.PresencePenalty }),
	},
	{
		Name: "repetition_penalty", Kind: Float, Min: 0, Max: 2, Providers: openRouterOnly,
		Help:  "Penalise repeating the input's tokens (1 = off)",
		apply: extraField("repetition_penalty"),
	},
	{
		Name: "seed", Kind: Int, Min: -maxSafeInt, Max: maxSafeInt,
		Help: "Same seed and parameters ask for the same answer (not all models honour it)",
		apply: func(r *llm.Request, _ string, v any) {
			n := v.(int)
			r.Seed = &n
		},
	},
	{
		Name: "max_tokens", Kind: Int, Min: 1, Max: 200_000,
		Help:  "Longest reply, in tokens",
		apply: func(r *llm.Request, _ string, v any) { r.MaxTokens = v.(int) },
	},
	{
		Name: "stop", Kind: StringList, MaxItems: 4, MaxLen: 64,
		Help:  "Sequences that end the reply (comma-separated, or a JSON array)",
		apply: func(r *llm.Request, _ string, v any) { r.Stop = append([]string(nil), v.([]string)...) },
	},
	{
		Name: "reasoning_effort", Kind: Enum, Enum: []string{"none", "minimal", "low", "medium", "high"},
		Help:  "How hard a reasoning model thinks before answering",
		apply: reasoningEffort,
	},
	{
		Name: "context_window_tokens", Kind: Int, Min: 1024, Max: 2_000_000, Default: 8192, Behaviour: true,
		Help:    "Token budget of the prompt Tzurot builds",
		setting: func(s *Settings, v any) { s.ContextWindowTokens = v.(int) },
	},
	{
		Name: "max_history_messages", Kind: Int, Min: 1, Max: 100, Default: 50, Behaviour: true,
		Help:    "Channel messages read back as conversation history",
		setting: func(s *Settings, v any) { s.MaxHistoryMessages = v.(int) },
	},
	{
		Name: "max_age_hours", Kind: Int, Min: 0, Max: 8760, Default: 0, Behaviour: true,
		Help:    "Ignore history older than this many hours (0 = unlimited)",
		setting: func(s *Settings, v any) { s.MaxAge = time.Duration(v.(int)) * time.Hour },
	},
	{
		Name: "max_images", Kind: Int, Min: 0, Max: 10, Default: 2, Behaviour: true,
		Help:    "Images passed to the model per turn",
		setting: func(s *Settings, v any) { s.MaxImages = v.(int) },
	},
	{
		Name: "max_referenced_messages", Kind: Int, Min: 0, Max: 10, Default: 10, Behaviour: true,
		Help:    "Replied-to and linked messages included in the prompt",
		setting: func(s *Settings, v any) { s.MaxReferencedMessages = v.(int) },
	},
	{
		Name: "memory_score_threshold", Kind: Float, Min: 0, Max: 1, Default: 0.3, Behaviour: true,
		Help:    "Lowest relevance score for a long-term memory to be used",
		setting: func(s *Settings, v any) { s.MemoryScoreThreshold = v.(float64) },
	},
	{
		Name: "memory_limit", Kind: Int, Min: 0, Max: 50, Default: 8, Behaviour: true,
		Help:    "Long-term memories retrieved per turn",
		setting: func(s *Settings, v any) { s.MemoryLimit = v.(int) },
	},
}

// float32Field sets one of llm.Request's typed float pointers.
func float32Field(field func(*llm.Request) **float32) func(*llm.Request, string, any) {
	return func(r *llm.Request, _ string, v any) {
		f := float32(v.(float64))
		*field(r) = &f
	}
}

// extraField puts the value at the top level of the body under key.
func extraField(key string) func(*llm.Request, string, any) {
	return func(r *llm.Request, _ string, v any) { setExtra(r, key, v) }
}

// reasoningEffort speaks each provider's dialect: OpenRouter normalises reasoning across
// its upstreams under one "reasoning" object; OpenAI's own API (and the servers copying
// it) take a flat reasoning_effort.
func reasoningEffort(r *llm.Request, provider string, v any) {
	if canonicalProvider(provider) == ProviderOpenRouter {
		setExtra(r, "reasoning", map[string]any{"effort": v})
		return
	}
	setExtra(r, "reasoning_effort", v)
}

func setExtra(r *llm.Request, key string, v any) {
	if r.Extra == nil {
		r.Extra = make(map[string]any)
	}
	r.Extra[key] = v
}
