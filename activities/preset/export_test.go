package preset

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestExportImportRoundTrip(t *testing.T) {
	var fromJSONB Values // what a plain json.Unmarshal of the column gives: float64s, []any
	if err := json.Unmarshal(asJSONBytes(t, testValues), &fromJSONB); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		name string
		v    Values
		want Values
	}{
		"every field":    {"Lilith's preset", allTestValues(), testValues},
		"from JSONB":     {"x", fromJSONB, testValues},
		"empty":          {"empty", Values{}, Values{}},
		"nil":            {"nil", nil, Values{}},
		"override nulls": {"o", Values{"temperature": nil, "top_k": 3}, Values{"temperature": nil, "top_k": 3}},
		"exact numbers": {"n", Values{"seed": 1<<53 - 1, "temperature": 0.1 + 0.2, "min_p": 1e-7},
			Values{"seed": 1<<53 - 1, "temperature": 0.1 + 0.2, "min_p": 1e-7}},
		"unicode stop": {"🌙 name", Values{"stop": []string{"\n\n«Lilith»:", "\t"}}, Values{"stop": []string{"\n\n«Lilith»:", "\t"}}},
	}
	for label, tc := range tests {
		b, err := Export(tc.name, tc.v)
		if err != nil {
			t.Fatalf("%s: Export: %v", label, err)
		}
		name, got, err := Import(b)
		if err != nil || name != tc.name || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Import = %q, %#v, %v\nfrom %s", label, name, got, err, b)
		}
		again, err := Export(name, got)
		if err != nil || !bytes.Equal(again, b) {
			t.Errorf("%s: re-export differs:\n%s\n%s", label, b, again)
		}
	}
}

func TestExportFormat(t *testing.T) {
	b, err := Export("p", Values{"temperature": 0.7, "model": "m", "stop": []string{"END"}, "top_p": nil})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "name": "p",
  "parameters": {
    "model": "m",
    "stop": [
      "END"
    ],
    "temperature": 0.7,
    "top_p": null
  }
}
`
	if string(b) != want {
		t.Errorf("Export =\n%s\nwant\n%s", b, want)
	}
}

func TestExportRejects(t *testing.T) {
	tests := map[string]struct {
		name string
		v    Values
		want string
	}{
		"invalid value": {"p", Values{"temperature": 3.5}, "temperature must be between 0 and 2 (got 3.5)"},
		"unknown field": {"p", Values{"temp": 1.0}, `unknown parameter "temp"`},
		"empty name":    {"", nil, "name must be 1 to 100 characters"},
		"padded name":   {" p ", nil, "name must be"},
		"long name":     {strings.Repeat("n", 101), nil, "name must be"},
		"newline name":  {"a\nb", nil, "name must be"},
	}
	for label, tc := range tests {
		_, err := Export(tc.name, tc.v)
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", label, err, tc.want)
		}
	}
}

func TestImportRejects(t *testing.T) {
	tests := map[string]struct {
		data      string
		want      string
		userError bool // a *FieldError, shown as is
	}{
		"not json":       {`temperature=1`, "not a preset file", false},
		"array":          {`[]`, "not a preset file", false},
		"no name":        {`{"parameters":{}}`, "not a preset file: no name", false},
		"extra key":      {`{"name":"p","parameters":{},"version":2}`, "not a preset file", false},
		"trailing":       {`{"name":"p","parameters":{}} {}`, "text after the JSON object", false},
		"params array":   {`{"name":"p","parameters":[1]}`, "parameters are not a JSON object", false},
		"bad value":      {`{"name":"p","parameters":{"temperature":3.5}}`, "temperature must be between 0 and 2 (got 3.5)", true},
		"bad type":       {`{"name":"p","parameters":{"max_tokens":"100"}}`, `max_tokens must be a whole number between 1 and 200000 (got "100")`, true},
		"fraction int":   {`{"name":"p","parameters":{"top_k":1.5}}`, "top_k must be a whole number", true},
		"huge seed":      {`{"name":"p","parameters":{"seed":9007199254740992}}`, "seed must be between", true},
		"bad enum":       {`{"name":"p","parameters":{"reasoning_effort":"xhigh"}}`, "reasoning_effort must be one of", true},
		"unknown":        {`{"name":"p","parameters":{"top-k":1}}`, `unknown parameter "top-k" (did you mean top_k?)`, true},
		"empty name":     {`{"name":"","parameters":{}}`, "name must be", true},
		"too big":        {`{"name":"p","parameters":{"model":"` + strings.Repeat("m", MaxExportSize) + `"}}`, "a preset file is at most 64 KiB", false},
		"stop not texts": {`{"name":"p","parameters":{"stop":[1]}}`, "stop must be", true},
	}
	for label, tc := range tests {
		_, _, err := Import([]byte(tc.data))
		var fe *FieldError
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.As(err, &fe) != tc.userError {
			t.Errorf("%s: %v, want %q (FieldError %v)", label, err, tc.want, tc.userError)
		}
	}
	if _, v, err := Import([]byte(`{"name":"p"}`)); err != nil || len(v) != 0 {
		t.Errorf("missing parameters: %v, %v", v, err)
	}
}

func TestDecode(t *testing.T) {
	for in, want := range map[string]Values{
		``:                                {},
		`null`:                            {},
		`{}`:                              {},
		`{"top_k": 40, "stop": ["a"]}`:    {"top_k": 40, "stop": []string{"a"}},
		`{"seed": 9007199254740991}`:      {"seed": 1<<53 - 1},
		`{"temperature": 1, "seed": 1e3}`: {"temperature": 1.0, "seed": 1000},
	} {
		got, err := Decode([]byte(in))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Decode(%s) = %#v, %v", in, got, err)
		}
	}
	for _, in := range []string{`[]`, `{"a":1}`, `{} {}`, `{"temperature":"x"}`} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%s) accepted", in)
		}
	}
}
