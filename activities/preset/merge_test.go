package preset

import (
	"reflect"
	"testing"
)

func TestMerge(t *testing.T) {
	global := Values{"model": "global/m", "temperature": 0.5, "stop": []string{"x"}, "max_images": 2}
	character := Values{"temperature": 0.9, "top_p": 0.8, "max_images": 4}
	userDefault := Values{"max_tokens": 100, "max_images": nil}
	override := Values{"temperature": nil, "model": "user/m"}

	tests := map[string]struct {
		layers []Values
		want   Values
	}{
		"none": {nil, Values{}},
		"one":  {[]Values{global}, global},
		"later wins": {[]Values{global, character}, Values{
			"model": "global/m", "temperature": 0.9, "top_p": 0.8, "stop": []string{"x"}, "max_images": 4}},
		"full cascade, nulls clear": {[]Values{global, character, userDefault, override}, Values{
			"model": "user/m", "top_p": 0.8, "stop": []string{"x"}, "max_tokens": 100}},
		"order matters": {[]Values{override, userDefault, character, global}, Values{
			"model": "global/m", "temperature": 0.5, "top_p": 0.8, "stop": []string{"x"}, "max_tokens": 100, "max_images": 2}},
		"null first is a no-op": {[]Values{{"temperature": nil}, {"top_p": 0.1}}, Values{"top_p": 0.1}},
		"null then set":         {[]Values{{"temperature": 1.0}, {"temperature": nil}, {"temperature": 0.2}}, Values{"temperature": 0.2}},
		"nil layers skipped":    {[]Values{nil, character, nil}, character},
	}
	for name, tc := range tests {
		if got := Merge(tc.layers...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}

// TestMergeThenApply: the cascade decides what reaches the request, and a cleared field
// falls back to its default (the provider's, for LLM fields; the table's for behaviour).
func TestMergeThenApply(t *testing.T) {
	merged := Merge(
		Values{"model": "g", "temperature": 0.5, "max_history_messages": 20},
		Values{"temperature": nil, "max_history_messages": nil, "top_k": 5},
	)
	req, err := Apply(merged, ProviderOpenRouter)
	if err != nil || req.Model != "g" || req.Temperature != nil || req.Extra["top_k"] != 5 {
		t.Errorf("Apply = %+v, %v", req, err)
	}
	if s := Behaviour(merged); s.MaxHistoryMessages != 50 {
		t.Errorf("cleared max_history_messages = %d, want the default 50", s.MaxHistoryMessages)
	}
}

func TestMergeDoesNotAlias(t *testing.T) {
	layer := Values{"stop": []string{"a", "b"}, "temperature": 1.0}
	got := Merge(layer)
	got["stop"].([]string)[0] = "changed"
	got["temperature"] = 2.0
	if layer["stop"].([]string)[0] != "a" || layer["temperature"] != 1.0 {
		t.Errorf("Merge shares memory with its layers: %v", layer)
	}
	req, err := Apply(Values{"model": "m", "stop": []string{"a"}}, ProviderOpenRouter)
	if err != nil {
		t.Fatal(err)
	}
	req.Stop[0] = "changed"
	if testValues["stop"].([]string)[0] != "\n\nUser:" {
		t.Error("Apply shares memory with the values")
	}
}

func TestDisplay(t *testing.T) {
	lines := Display(Values{"temperature": 0.7, "stop": []string{"a", "b"}, "max_images": 0.0, "top_p": nil, "model": "m/x"})
	if len(lines) != len(Fields) {
		t.Fatalf("%d lines for %d fields", len(lines), len(Fields))
	}
	for i, l := range lines {
		if l.Name != Fields[i].Name || l.Help != Fields[i].Help || l.Allowed != Fields[i].Allowed() {
			t.Errorf("line %d = %+v, want field %s in table order", i, l, Fields[i].Name)
		}
	}
	byName := map[string]Line{}
	for _, l := range lines {
		byName[l.Name] = l
	}
	want := map[string]struct {
		value string
		def   bool
	}{
		"model":                  {"m/x", false},
		"temperature":            {"0.7", false},
		"top_p":                  {"", true}, // cleared: provider default
		"top_k":                  {"", true},
		"stop":                   {"a, b", false},
		"max_images":             {"0", false}, // set to zero is set, not default
		"max_history_messages":   {"50", true},
		"memory_score_threshold": {"0.3", true},
		"max_age_hours":          {"0", true},
	}
	for name, w := range want {
		if l := byName[name]; l.Value != w.value || l.Default != w.def {
			t.Errorf("%s: %+v, want value %q default %v", name, l, w.value, w.def)
		}
	}
	if l := byName["temperature"]; l.Allowed != "a number between 0 and 2" {
		t.Errorf("temperature allowed = %q", l.Allowed)
	}
}
