package preset

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// rangeCases are, per field, values on the edges that must pass and values just past
// them (or of the wrong type) that must fail. Every field needs a wrong-type case, and
// numeric ones a below-min and an above-max case.
var rangeCases = map[string]struct {
	good []any
	bad  []any
}{
	"model":                   {[]any{"a", "openai/gpt-4o:online", strings.Repeat("m", 200)}, []any{"", "has space", "tab\there", strings.Repeat("m", 201), 42, nil}},
	"temperature":             {[]any{0.0, 2.0, 1}, []any{-0.01, 2.01, "hot", true, math.NaN(), math.Inf(1)}},
	"top_p":                   {[]any{0.0, 1.0}, []any{-0.01, 1.01, "0.5"}},
	"top_k":                   {[]any{0, 1_000_000, 40.0}, []any{-1, 1_000_001, 1.5, "40"}},
	"min_p":                   {[]any{0.0, 1.0}, []any{-0.1, 1.1, []string{"x"}}},
	"top_a":                   {[]any{0.0, 1.0}, []any{-0.1, 1.1, "x"}},
	"frequency_penalty":       {[]any{-2.0, 2.0}, []any{-2.01, 2.01, "x"}},
	"presence_penalty":        {[]any{-2.0, 2.0}, []any{-2.01, 2.01, "x"}},
	"repetition_penalty":      {[]any{0.0, 2.0}, []any{-0.1, 2.1, "x"}},
	"seed":                    {[]any{0, -1, 1<<53 - 1, -(1<<53 - 1)}, []any{1 << 53, -(1 << 53), 1.5, "42", math.MaxInt64}},
	"max_tokens":              {[]any{1, 200_000}, []any{0, 200_001, 10.5, "100"}},
	"stop":                    {[]any{[]string{"a"}, []string{"a", "b", "c", strings.Repeat("é", 64)}, []any{"x"}}, []any{[]string{}, []string{"1", "2", "3", "4", "5"}, []string{strings.Repeat("x", 65)}, []string{""}, []any{1}, "END", []string{"a\x00"}}},
	"reasoning_effort":        {[]any{"none", "minimal", "low", "medium", "high"}, []any{"extreme", "HIGH", "", 1}},
	"context_window_tokens":   {[]any{1024, 2_000_000}, []any{1023, 2_000_001, "8k"}},
	"max_history_messages":    {[]any{1, 100}, []any{0, 101, 50.5}},
	"max_age_hours":           {[]any{0, 8760}, []any{-1, 8761, "1d"}},
	"max_images":              {[]any{0, 10}, []any{-1, 11, false}},
	"max_referenced_messages": {[]any{0, 10}, []any{-1, 11, "x"}},
	"memory_score_threshold":  {[]any{0.0, 1.0}, []any{-0.1, 1.1, "x"}},
	"memory_limit":            {[]any{0, 50}, []any{-1, 51, "x"}},
}

func TestValidateEveryField(t *testing.T) {
	for _, f := range Fields {
		t.Run(f.Name, func(t *testing.T) {
			cases, ok := rangeCases[f.Name]
			if !ok || len(cases.bad) < 2 {
				t.Fatal("no range cases")
			}
			for _, v := range cases.good {
				if err := Validate(Values{f.Name: v}); err != nil {
					t.Errorf("%#v rejected: %v", v, err)
				}
			}
			for _, v := range cases.bad {
				if v == nil {
					continue // nil is a clear, valid in Validate; Apply checks required
				}
				err := Validate(Values{f.Name: v})
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != f.Name || fe.Unknown {
					t.Errorf("%#v: err = %v", v, err)
					continue
				}
				if !strings.HasPrefix(err.Error(), f.Name+" must be ") {
					t.Errorf("%#v: message %q", v, err)
				}
			}
		})
	}
}

func TestFieldErrorMessages(t *testing.T) {
	tests := []struct {
		v    Values
		want string
	}{
		{Values{"temperature": 3.5}, "temperature must be between 0 and 2 (got 3.5)"},
		{Values{"temperature": "hot"}, `temperature must be a number between 0 and 2 (got "hot")`},
		{Values{"max_tokens": 0}, "max_tokens must be between 1 and 200000 (got 0)"},
		{Values{"max_tokens": 1.5}, "max_tokens must be a whole number between 1 and 200000 (got 1.5)"},
		{Values{"reasoning_effort": "extreme"}, `reasoning_effort must be one of none, minimal, low, medium, high (got "extreme")`},
		{Values{"stop": []string{"1", "2", "3", "4", "5"}}, "stop must be 1 to 4 texts of at most 64 characters each (got 5 texts)"},
		{Values{"model": "a b"}, `model must be a name without spaces of at most 200 characters (got "a b")`},
		{Values{"memory_score_threshold": json.Number("1.5")}, "memory_score_threshold must be between 0 and 1 (got 1.5)"},
		{Values{"model": strings.Repeat("x", 300)}, `model must be a name without spaces of at most 200 characters (got "` + strings.Repeat("x", 60) + `…")`},
		// Unknown names come first, and in name order, whatever else is wrong.
		{Values{"zzz": 1, "temprature": 1.0, "temperature": 9.0}, `unknown parameter "temprature" (did you mean temperature?); valid parameters: model, temperature, top_p,`},
	}
	for _, tc := range tests {
		err := Validate(tc.v)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Validate(%v) = %v\nwant %s", tc.v, err, tc.want)
		}
	}
	if err := Validate(Values{"temperature": nil, "model": nil}); err != nil {
		t.Errorf("nulls rejected: %v", err)
	}
	if err := Validate(nil); err != nil {
		t.Errorf("nil rejected: %v", err)
	}
}

func TestUnknownNames(t *testing.T) {
	tests := map[string]string{
		"temprature":        "temperature",
		"temp":              "temperature",
		"top-p":             "top_p",
		"TopK":              "top_k",
		"maxtokens":         "max_tokens",
		"max tokens":        "max_tokens",
		"memory_limt":       "memory_limit",
		"history":           "",
		"banana":            "",
		"":                  "",
		"reasoning":         "reasoning_effort",
		"repetiton_penalty": "repetition_penalty",
	}
	for name, want := range tests {
		_, err := Parse(name, "1")
		var fe *FieldError
		if !errors.As(err, &fe) || !fe.Unknown || fe.Suggestion != want || fe.Field != name {
			t.Errorf("%q: %#v, want suggestion %q", name, err, want)
			continue
		}
		for _, n := range Names() {
			if !strings.Contains(fe.Allowed, n) || !strings.Contains(err.Error(), n) {
				t.Errorf("%q: valid names do not list %s", name, n)
			}
		}
		if hint := "did you mean " + want + "?"; (want != "") != strings.Contains(err.Error(), hint) {
			t.Errorf("%q: %v", name, err)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, text string
		want       any
	}{
		{"temperature", "0.7", 0.7},
		{"temperature", " 1 ", 1.0},
		{"temperature", "2", 2.0},
		{"presence_penalty", "-1.5", -1.5},
		{"top_k", "40", 40},
		{"seed", "-9007199254740991", -(1<<53 - 1)},
		{"max_age_hours", "0", 0},
		{"model", "  openai/gpt-4o  ", "openai/gpt-4o"},
		{"stop", "a, b", []string{"a", "b"}},
		{"stop", `\n\nUser:, END,`, []string{"\n\nUser:", "END"}},
		{"stop", `a\\n, \tb`, []string{`a\n`, "\tb"}},
		{"stop", `[" a,b ", "c"]`, []string{" a,b ", "c"}},
		{"reasoning_effort", " HIGH ", "high"},
		{"memory_score_threshold", ".25", 0.25},
	}
	for _, tc := range tests {
		got, err := Parse(tc.name, tc.text)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%s, %q) = %#v, %v; want %#v", tc.name, tc.text, got, err, tc.want)
		}
		if back, err := Parse(tc.name, Format(tc.name, got)); err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("Format(%#v) = %q reads back as %#v, %v", got, Format(tc.name, got), back, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"temperature", "3.5", "temperature must be between 0 and 2 (got 3.5)"},
		{"temperature", "hot", `temperature must be a number between 0 and 2 (got "hot")`},
		{"temperature", "  ", "temperature must be a number between 0 and 2"},
		{"temperature", "NaN", `temperature must be a number between 0 and 2 (got NaN)`},
		{"temperature", "1e400", `temperature must be a number between 0 and 2 (got "1e400")`},
		{"seed", "1.5", `seed must be a whole number between -9007199254740991 and 9007199254740991 (got "1.5")`},
		{"seed", "99999999999999999999", `seed must be a whole number between`},
		{"max_images", "11", "max_images must be between 0 and 10 (got 11)"},
		{"stop", "a,b,c,d,e", "stop must be 1 to 4 texts of at most 64 characters each (got 5 texts)"},
		{"stop", ",,", "stop must be 1 to 4 texts of at most 64 characters each (got 0 texts)"},
		{"stop", `["a", 1]`, `stop must be 1 to 4 texts`},
		{"reasoning_effort", "max", `reasoning_effort must be one of none, minimal, low, medium, high (got "max")`},
		{"model", "gpt 4", `model must be a name without spaces`},
		{"temprature", "1", `unknown parameter "temprature" (did you mean temperature?)`},
	}
	for _, tc := range tests {
		_, err := Parse(tc.name, tc.text)
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%s, %q) = %v\nwant %s", tc.name, tc.text, err, tc.want)
		}
		if tc.want == "temperature must be a number between 0 and 2" && err.Error() != tc.want {
			t.Errorf("empty input: %q", err)
		}
	}
}

// TestBoolKind covers the kind no field uses yet, through a field of its own.
func TestBoolKind(t *testing.T) {
	f := Field{Name: "flag", Kind: Bool}
	for text, want := range map[string]bool{"true": true, "Yes": true, "on": true, "1": true, "false": false, "NO": false, "off": false, "0": false} {
		if got, err := f.parse(text); err != nil || got != want {
			t.Errorf("%q: %v, %v", text, got, err)
		}
	}
	if _, err := f.parse("maybe"); err == nil || err.Error() != `flag must be true or false (got "maybe")` {
		t.Errorf("maybe: %v", err)
	}
	if _, err := f.coerce("true"); err == nil {
		t.Error("a string accepted as a bool")
	}
}

func TestNormalize(t *testing.T) {
	var decoded Values
	if err := json.Unmarshal([]byte(`{"top_k":40,"seed":7,"stop":["a"],"temperature":1,"top_p":null}`), &decoded); err != nil {
		t.Fatal(err)
	}
	got, err := Normalize(decoded)
	want := Values{"top_k": 40, "seed": 7, "stop": []string{"a"}, "temperature": 1.0, "top_p": nil}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Normalize = %#v, %v", got, err)
	}
	if got, _ := Normalize(Values{"temperature": float32(0.7)}); got["temperature"] != 0.7 {
		t.Errorf("float32 0.7 became %v", got["temperature"])
	}
}
