package preset

import (
	"reflect"
	"regexp"
	"testing"
)

// testValues holds one valid, non-default value per field, in canonical types. Every
// field must have one: TestEveryFieldHasDefaultAndTestValue fails otherwise.
var testValues = Values{
	"model":                   "stub/model-1",
	"temperature":             0.7,
	"top_p":                   0.9,
	"top_k":                   40,
	"min_p":                   0.05,
	"top_a":                   0.1,
	"frequency_penalty":       0.3,
	"presence_penalty":        -0.4,
	"repetition_penalty":      1.1,
	"seed":                    42,
	"max_tokens":              321,
	"stop":                    []string{"\n\nUser:", "END"},
	"reasoning_effort":        "low",
	"context_window_tokens":   16384,
	"max_history_messages":    30,
	"max_age_hours":           48,
	"max_images":              4,
	"max_referenced_messages": 3,
	"memory_score_threshold":  0.55,
	"memory_limit":            12,
}

// allTestValues returns a fresh copy of testValues.
func allTestValues() Values { return Merge(testValues) }

var canonicalType = map[Kind]reflect.Type{
	Float: reflect.TypeFor[float64](), Int: reflect.TypeFor[int](), String: reflect.TypeFor[string](),
	StringList: reflect.TypeFor[[]string](), Enum: reflect.TypeFor[string](), Bool: reflect.TypeFor[bool](),
}

func TestEveryFieldHasDefaultAndTestValue(t *testing.T) {
	for _, f := range Fields {
		t.Run(f.Name, func(t *testing.T) {
			if f.Default != nil {
				if reflect.TypeOf(f.Default) != canonicalType[f.Kind] {
					t.Errorf("default %#v is not a %v", f.Default, canonicalType[f.Kind])
				}
				if err := Validate(Values{f.Name: f.Default}); err != nil {
					t.Errorf("default does not validate: %v", err)
				}
			}
			tv, ok := testValues[f.Name]
			if !ok {
				t.Fatal("no test value")
			}
			if reflect.TypeOf(tv) != canonicalType[f.Kind] {
				t.Errorf("test value %#v is not a %v", tv, canonicalType[f.Kind])
			}
			if err := Validate(Values{f.Name: tv}); err != nil {
				t.Errorf("test value does not validate: %v", err)
			}
			if reflect.DeepEqual(tv, f.Default) {
				t.Error("test value equals the default: it would prove nothing")
			}
		})
	}
	if len(testValues) != len(Fields) {
		t.Errorf("testValues has %d entries for %d fields", len(testValues), len(Fields))
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

func TestTableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields {
		if !snakeCase.MatchString(f.Name) || seen[f.Name] {
			t.Errorf("%q: not snake_case or duplicated", f.Name)
		}
		seen[f.Name] = true
		if f.Help == "" || f.Kind == 0 {
			t.Errorf("%s: no help or kind", f.Name)
		}
		if f.Behaviour != (f.setting != nil) || f.Behaviour == (f.apply != nil) {
			t.Errorf("%s: a behaviour field needs setting only, an LLM field apply only", f.Name)
		}
		if f.Behaviour && f.Default == nil {
			t.Errorf("%s: behaviour fields need a default so Settings is always filled", f.Name)
		}
		if (f.Kind == Float || f.Kind == Int) && !(f.Min < f.Max) {
			t.Errorf("%s: empty range [%v, %v]", f.Name, f.Min, f.Max)
		}
		if (f.Kind == String || f.Kind == StringList) && f.MaxLen <= 0 || f.Kind == StringList && f.MaxItems <= 0 {
			t.Errorf("%s: no length limit", f.Name)
		}
		if f.Kind == Enum && len(f.Enum) == 0 {
			t.Errorf("%s: no enum values", f.Name)
		}
		for _, p := range f.Providers {
			if p != ProviderOpenRouter && p != ProviderOpenAICompatible {
				t.Errorf("%s: unknown provider %q", f.Name, p)
			}
		}
		if got, ok := Lookup(f.Name); !ok || got.Name != f.Name {
			t.Errorf("Lookup(%q) = %v, %v", f.Name, got.Name, ok)
		}
	}
	if _, ok := Lookup("Temperature"); ok {
		t.Error("Lookup is not exact")
	}
}

// TestSpecRanges pins the documented ranges, defaults and providers, so a change to the
// table is a deliberate one.
func TestSpecRanges(t *testing.T) {
	type spec struct {
		min, max  float64
		def       any
		providers []string
	}
	or := []string{ProviderOpenRouter}
	want := map[string]spec{
		"temperature": {0, 2, nil, nil}, "top_p": {0, 1, nil, nil}, "top_k": {0, 1_000_000, nil, or},
		"min_p": {0, 1, nil, or}, "top_a": {0, 1, nil, or},
		"frequency_penalty": {-2, 2, nil, nil}, "presence_penalty": {-2, 2, nil, nil},
		"repetition_penalty": {0, 2, nil, or}, "seed": {-(1<<53 - 1), 1<<53 - 1, nil, nil},
		"max_tokens": {1, 200000, nil, nil}, "context_window_tokens": {1024, 2_000_000, 8192, nil},
		"max_history_messages": {1, 100, 50, nil}, "max_age_hours": {0, 8760, 0, nil},
		"max_images": {0, 10, 2, nil}, "max_referenced_messages": {0, 10, 10, nil},
		"memory_score_threshold": {0, 1, 0.3, nil}, "memory_limit": {0, 50, 8, nil},
	}
	for name, w := range want {
		f, ok := Lookup(name)
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if f.Min != w.min || f.Max != w.max || !reflect.DeepEqual(f.Default, w.def) || !reflect.DeepEqual(f.Providers, w.providers) {
			t.Errorf("%s = [%v, %v] default %v providers %v; want %+v", name, f.Min, f.Max, f.Default, f.Providers, w)
		}
	}
	stop, _ := Lookup("stop")
	effort, _ := Lookup("reasoning_effort")
	model, _ := Lookup("model")
	if stop.MaxItems != 4 || stop.MaxLen != 64 || !model.Required ||
		!reflect.DeepEqual(effort.Enum, []string{"none", "minimal", "low", "medium", "high"}) {
		t.Errorf("stop %d×%d, model required %v, effort %v", stop.MaxItems, stop.MaxLen, model.Required, effort.Enum)
	}
}
