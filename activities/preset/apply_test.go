package preset

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
)

// wire is where each LLM field must arrive in the HTTP body, per provider: a dotted JSON
// path, or "" for "must not be sent". It is written out by hand from the providers' docs,
// not derived from the table, so the test checks the table instead of repeating it.
var wire = map[string]map[string]string{
	"model":              {ProviderOpenRouter: "model", ProviderOpenAICompatible: "model"},
	"temperature":        {ProviderOpenRouter: "temperature", ProviderOpenAICompatible: "temperature"},
	"top_p":              {ProviderOpenRouter: "top_p", ProviderOpenAICompatible: "top_p"},
	"top_k":              {ProviderOpenRouter: "top_k", ProviderOpenAICompatible: ""},
	"min_p":              {ProviderOpenRouter: "min_p", ProviderOpenAICompatible: ""},
	"top_a":              {ProviderOpenRouter: "top_a", ProviderOpenAICompatible: ""},
	"frequency_penalty":  {ProviderOpenRouter: "frequency_penalty", ProviderOpenAICompatible: "frequency_penalty"},
	"presence_penalty":   {ProviderOpenRouter: "presence_penalty", ProviderOpenAICompatible: "presence_penalty"},
	"repetition_penalty": {ProviderOpenRouter: "repetition_penalty", ProviderOpenAICompatible: ""},
	"seed":               {ProviderOpenRouter: "seed", ProviderOpenAICompatible: "seed"},
	"max_tokens":         {ProviderOpenRouter: "max_tokens", ProviderOpenAICompatible: "max_tokens"},
	"stop":               {ProviderOpenRouter: "stop", ProviderOpenAICompatible: "stop"},
	"reasoning_effort":   {ProviderOpenRouter: "reasoning.effort", ProviderOpenAICompatible: "reasoning_effort"},
}

// TestEveryFieldReachesTheBody is the design's invariant: every LLM field of a preset,
// applied and sent by the real llm.Client, arrives in the recorded HTTP body under its
// provider's JSON name with its value; behaviour fields never do.
func TestEveryFieldReachesTheBody(t *testing.T) {
	for _, f := range Fields {
		if _, ok := wire[f.Name]; !ok && !f.Behaviour {
			t.Errorf("%s has no expected place in the body: add it to wire", f.Name)
		}
	}
	for _, provider := range []string{ProviderOpenRouter, ProviderOpenAICompatible} {
		t.Run(provider, func(t *testing.T) {
			body := send(t, allTestValues(), provider)
			want := map[string]bool{"messages": true, "stream": true} // the client's own
			for _, f := range Fields {
				if f.Behaviour {
					if bytes.Contains(body.raw, []byte(`"`+f.Name+`"`)) {
						t.Errorf("behaviour field %s reached the body", f.Name)
					}
					continue
				}
				path := wire[f.Name][provider]
				if path == "" {
					continue
				}
				want[strings.Split(path, ".")[0]] = true
				got, ok := body.at(path)
				if !ok {
					t.Errorf("%s: nothing at %s", f.Name, path)
					continue
				}
				if exp := asJSON(t, testValues[f.Name]); !reflect.DeepEqual(got, exp) {
					t.Errorf("%s: %s = %#v, want %#v", f.Name, path, got, exp)
				}
			}
			var keys []string
			for k := range body.doc {
				keys = append(keys, k)
				if !want[k] {
					t.Errorf("unexpected body field %q = %v", k, body.doc[k])
				}
			}
			if len(keys) != len(want) {
				sort.Strings(keys)
				t.Errorf("body fields %v, want %v", keys, want)
			}
		})
	}
}

// TestDefaultsSendNothing: a preset with only a model leaves every other parameter to
// the provider, and the defaults of behaviour fields stay out of the body too.
func TestDefaultsSendNothing(t *testing.T) {
	for _, provider := range []string{ProviderOpenRouter, ProviderOpenAICompatible, "stub", ""} {
		req, err := Apply(Values{"model": "m"}, provider)
		if err != nil || !reflect.DeepEqual(req, llm.Request{Model: "m"}) {
			t.Errorf("%q: %+v, %v", provider, req, err)
		}
	}
	body := send(t, Values{"model": "stub/model-1"}, ProviderOpenRouter)
	if len(body.doc) != 3 || body.doc["stream"] != false {
		t.Errorf("body = %s", body.raw)
	}
}

func TestProviderFiltering(t *testing.T) {
	v := allTestValues()
	orOnly := []string{"top_k", "min_p", "top_a", "repetition_penalty"}
	tests := []struct {
		provider string
		ignored  []string
		extra    map[string]any
	}{
		{ProviderOpenRouter, nil, map[string]any{
			"top_k": 40, "min_p": 0.05, "top_a": 0.1, "repetition_penalty": 1.1,
			"reasoning": map[string]any{"effort": "low"},
		}},
		{"", nil, nil}, // "" is OpenRouter: checked against the row above
		{ProviderOpenAICompatible, orOnly, map[string]any{"reasoning_effort": "low"}},
		{"stub", orOnly, map[string]any{"reasoning_effort": "low"}},
	}
	for _, tc := range tests {
		if got := Ignored(v, tc.provider); !slices.Equal(got, tc.ignored) {
			t.Errorf("Ignored(%q) = %v, want %v", tc.provider, got, tc.ignored)
		}
		req, err := Apply(v, tc.provider)
		if err != nil {
			t.Fatalf("%q: %v", tc.provider, err)
		}
		want := tc.extra
		if tc.provider == "" {
			want = tests[0].extra
		}
		if !reflect.DeepEqual(req.Extra, want) {
			t.Errorf("%q: Extra = %v, want %v", tc.provider, req.Extra, want)
		}
		if req.Model != "stub/model-1" || *req.Temperature != 0.7 || *req.Seed != 42 || req.MaxTokens != 321 {
			t.Errorf("%q: typed fields %+v", tc.provider, req)
		}
	}
	if got := Ignored(Values{"top_k": nil, "max_images": 3}, ProviderOpenAICompatible); got != nil {
		t.Errorf("cleared and behaviour fields reported as ignored: %v", got)
	}
}

func TestApplyErrors(t *testing.T) {
	tests := map[string]struct {
		v    Values
		want string
	}{
		"no model":      {Values{"temperature": 1.0}, "model must be set"},
		"cleared model": {Values{"model": nil}, "model must be set"},
		"invalid":       {Values{"model": "m", "temperature": 9.0}, "temperature must be between 0 and 2 (got 9)"},
		"unknown":       {Values{"model": "m", "temprature": 1.0}, `unknown parameter "temprature" (did you mean temperature?)`},
	}
	for name, tc := range tests {
		_, err := Apply(tc.v, ProviderOpenRouter)
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

func TestBehaviour(t *testing.T) {
	defaults := Settings{
		ContextWindowTokens: 8192, MaxHistoryMessages: 50, MaxAge: 0, MaxImages: 2,
		MaxReferencedMessages: 10, MemoryScoreThreshold: 0.3, MemoryLimit: 8,
	}
	set := Settings{
		ContextWindowTokens: 16384, MaxHistoryMessages: 30, MaxAge: 48 * time.Hour, MaxImages: 4,
		MaxReferencedMessages: 3, MemoryScoreThreshold: 0.55, MemoryLimit: 12,
	}
	var fromJSON Values // as a plain json.Unmarshal of the JSONB column gives it: float64s
	if err := json.Unmarshal(asJSONBytes(t, testValues), &fromJSON); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		v    Values
		want Settings
	}{
		"nil":                {nil, defaults},
		"llm only":           {Values{"model": "m", "temperature": 1.0}, defaults},
		"all set":            {allTestValues(), set},
		"json decoded":       {fromJSON, set},
		"cleared":            {Values{"max_images": nil}, defaults},
		"zero is a set":      {Values{"max_images": 0, "max_age_hours": 0}, func() Settings { s := defaults; s.MaxImages = 0; return s }()},
		"invalid falls back": {Values{"max_images": 99, "memory_limit": "lots"}, defaults},
	}
	for name, tc := range tests {
		if got := Behaviour(tc.v); got != tc.want {
			t.Errorf("%s: %+v, want %+v", name, got, tc.want)
		}
	}
}

// body is one recorded request body.
type body struct {
	raw []byte
	doc map[string]any
}

// at follows a dotted path through nested objects.
func (b body) at(path string) (any, bool) {
	var cur any = b.doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// send applies v for provider, sends it with the real client to a stub and returns the
// body the stub received.
func send(t *testing.T, v Values, provider string) body {
	t.Helper()
	stub := llmtest.New(llmtest.Options{})
	t.Cleanup(stub.Close)
	req, err := Apply(v, provider)
	if err != nil {
		t.Fatal(err)
	}
	req.Messages = []llm.Message{{Role: llm.RoleUser, Content: "hi"}}
	client := llm.New(llm.Config{BaseURL: stub.URL()})
	if _, err := client.Complete(context.Background(), "sk-test", req); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	recs := stub.Requests()
	if len(recs) != 1 {
		t.Fatalf("%d requests recorded", len(recs))
	}
	b := body{raw: recs[0].Body}
	if err := json.Unmarshal(b.raw, &b.doc); err != nil {
		t.Fatal(err)
	}
	return b
}

// asJSON is v as it reads back from JSON (numbers as float64, lists as []any).
func asJSON(t *testing.T, v any) any {
	t.Helper()
	var out any
	if err := json.Unmarshal(asJSONBytes(t, v), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func asJSONBytes(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
