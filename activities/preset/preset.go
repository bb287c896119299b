// Package preset is the one table of every LLM and behaviour parameter a preset can hold,
// and everything that walks it: parsing what a user typed, validation with errors a user
// can read, the settings cascade, the outgoing llm.Request, the typed behaviour settings,
// /preset view lines and JSON export/import. Adding a parameter means adding one row to
// Fields; the tests fail until it also reaches the HTTP body (or Settings).
//
// Everything here is pure: no I/O, no clock.
package preset

import (
	"slices"

	"github.com/tzurot/tzurot/activities/llm"
)

// Providers a Field can be limited to. Any provider name other than ProviderOpenRouter
// (such as "stub" in dev mode) is an OpenAI-compatible endpoint; "" is OpenRouter, the
// default of both llm.Client and activities.DefaultConfig.
const (
	ProviderOpenRouter       = "openrouter"
	ProviderOpenAICompatible = "openai-compatible"
)

// Kind is the type of a Field's value. Each kind has one canonical Go type, which Parse,
// Normalize, Import and Decode produce and Apply expects.
type Kind int

// Field kinds and their canonical Go types.
const (
	Float      Kind = iota + 1 // float64
	Int                        // int
	String                     // string: one token without spaces (a model id)
	StringList                 // []string
	Enum                       // string, one of Field.Enum
	Bool                       // bool
)

// String names the kind for messages.
func (k Kind) String() string {
	switch k {
	case Float:
		return "float"
	case Int:
		return "int"
	case String:
		return "string"
	case StringList:
		return "string list"
	case Enum:
		return "enum"
	case Bool:
		return "bool"
	}
	return "unknown"
}

// Field is one parameter: its key, type, accepted range, default, the providers that
// accept it and how it reaches the request. Name is the key in a preset's JSONB and in
// slash commands.
type Field struct {
	Name     string
	Kind     Kind
	Min, Max float64 // Float and Int: inclusive range
	MaxLen   int     // String, and each StringList item: most characters
	MaxItems int     // StringList: most items
	Enum     []string
	// Default is the value used when no layer sets the field; nil leaves it out of the
	// request so the provider's own default applies.
	Default any
	// Required fields must be set once all layers are merged (Apply checks); a single
	// layer such as a user override may leave them out.
	Required bool
	// Providers that accept the field; empty means all. Apply drops the field for the
	// others and Ignored names it.
	Providers []string
	// Behaviour fields are read by Tzurot itself (Behaviour) and never sent to the LLM.
	Behaviour bool
	// Help is one line for /preset view and error messages.
	Help string

	apply   func(r *llm.Request, provider string, v any) // LLM fields
	setting func(s *Settings, v any)                     // behaviour fields
}

// Accepts reports whether provider takes this field.
func (f Field) Accepts(provider string) bool {
	return len(f.Providers) == 0 || slices.Contains(f.Providers, canonicalProvider(provider))
}

// canonicalProvider maps a key's provider name onto the names Fields use.
func canonicalProvider(p string) string {
	if p == "" || p == ProviderOpenRouter {
		return ProviderOpenRouter
	}
	return ProviderOpenAICompatible
}

// Values are a preset's parameters by field name, as its JSONB column holds them. A key
// mapped to nil is an explicit JSON null: in a layer given to Merge it clears the field.
type Values map[string]any

// Lookup returns the field called name (exactly: names are snake_case).
func Lookup(name string) (Field, bool) {
	i, ok := fieldIndex[name]
	if !ok {
		return Field{}, false
	}
	return Fields[i], true
}

// Names lists every field name in table order, for command choices and autocomplete.
func Names() []string {
	out := make([]string, len(Fields))
	for i, f := range Fields {
		out[i] = f.Name
	}
	return out
}

var fieldIndex = func() map[string]int {
	m := make(map[string]int, len(Fields))
	for i, f := range Fields {
		m[f.Name] = i
	}
	return m
}()
