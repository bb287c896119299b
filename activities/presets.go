package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/tzurot/tzurot/activities/preset"
	"github.com/tzurot/tzurot/store"
)

// ErrTypeBadPreset marks a turn whose presets, merged, do not validate (a stored value
// outside a range that has since changed, or no model anywhere). No retry can fix it;
// the user can, with /preset edit.
const ErrTypeBadPreset = "BadPreset"

// PresetFallback is the bottom of the settings cascade: what the operator configured
// (the model and reply length). A value the table would reject is left out, so a
// misconfigured flag cannot fail every turn when a preset supplies the field anyway.
func PresetFallback(c Config) preset.Values {
	v := preset.Values{}
	if c.Model != "" {
		v["model"] = c.Model
	}
	if c.MaxReplyTokens > 0 {
		v["max_tokens"] = c.MaxReplyTokens
	}
	for k, x := range v {
		if preset.Validate(preset.Values{k: x}) != nil {
			delete(v, k)
		}
	}
	return v
}

// ResolveParameters is the settings cascade of one turn: fallback (PresetFallback), then
// the presets store.Presets.Layers returns for the user, the character and the key's
// guest flag, later layers winning field by field. The result is normalized and holds
// every required field; preset.Apply turns it into the request. A cascade that does not
// validate is a non-retryable ErrTypeBadPreset naming the field; database errors stay
// retryable.
func ResolveParameters(ctx context.Context, st *store.Store, userID, personalityID string, guest bool, fallback preset.Values) (preset.Values, error) {
	layers, err := st.Presets.Layers(ctx, userID, personalityID, guest)
	var fe *preset.FieldError
	if errors.As(err, &fe) {
		return nil, NonRetryable(ErrTypeBadPreset, fmt.Errorf("a stored preset is invalid: %w", err))
	}
	if err != nil {
		return nil, fmt.Errorf("load presets: %w", err)
	}
	merged, err := preset.Normalize(preset.Merge(append([]preset.Values{fallback}, layers...)...))
	if err != nil {
		return nil, NonRetryable(ErrTypeBadPreset, fmt.Errorf("merged presets: %w", err))
	}
	for _, f := range preset.Fields {
		if f.Required && merged[f.Name] == nil {
			return nil, NonRetryable(ErrTypeBadPreset, &preset.FieldError{Field: f.Name, Allowed: "set by a preset or the bot's configuration"})
		}
	}
	return merged, nil
}

// withBehaviour returns the turn's config: the operator's, with every behaviour setting
// a preset in the cascade sets explicitly (history length and age, images, references,
// memories, context window) taking its place.
func (a *Activities) withBehaviour(ctx context.Context, userID, personalityID string, guest bool) (Config, error) {
	cfg := a.Config
	if a.Store == nil || a.Store.Presets == nil {
		return cfg, nil
	}
	values, err := ResolveParameters(ctx, a.Store, userID, personalityID, guest, PresetFallback(a.Config))
	if err != nil {
		return cfg, err
	}
	return a.configFor(values), nil
}

// configFor applies the behaviour settings set in values to the operator's config.
func (a *Activities) configFor(values preset.Values) Config {
	cfg := a.Config
	b := preset.Behaviour(values)
	set := func(name string) bool { return values[name] != nil }
	if set("max_history_messages") {
		cfg.HistoryMessages = b.MaxHistoryMessages
	}
	if set("max_age_hours") {
		cfg.MaxAge = b.MaxAge
	}
	if set("max_images") {
		cfg.MaxImages = b.MaxImages
	}
	if set("max_referenced_messages") {
		cfg.MaxReferences = b.MaxReferencedMessages
	}
	if set("memory_limit") {
		cfg.MemoryLimit = b.MemoryLimit
	}
	if set("context_window_tokens") {
		// The chat log gets most of the window; references and memories their shares; the
		// rest is the card and the reply.
		cfg.ContextTokens = b.ContextWindowTokens * 6 / 10
		cfg.ReferenceTokens = b.ContextWindowTokens / 10
		cfg.MemoryTokens = b.ContextWindowTokens / 10
	}
	return cfg
}
