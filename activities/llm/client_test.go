package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
)

const (
	goodKey = "sk-or-v1-FAKEtes-key0000-0000000-0000000-0000000-0000000-0000000-0good"
	badKey  = "sk-or-v1-FAKEtes-key0000-0000000-0000000-0000000-0000000-0000000-rong"
	model   = "openai/gpt-4o-mini"
)

func hello() llm.Request {
	return llm.Request{Model: model, Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: "You are Lilith."},
		{Role: llm.RoleUser, Name: "alice", Content: "what do you think?"},
	}}
}

func newStub(t *testing.T, opts llmtest.Options) (*llmtest.Stub, *llm.Client) {
	t.Helper()
	if opts.APIKeys == nil {
		opts.APIKeys = []string{goodKey}
	}
	stub := llmtest.New(opts)
	t.Cleanup(stub.Close)
	return stub, llm.New(llm.Config{BaseURL: stub.URL(), AppName: "Tzurot", AppURL: "https://example.org/tzurot"})
}

func asError(t *testing.T, err error) *llm.Error {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	return e
}

func TestCompleteSuccess(t *testing.T) {
	stub, c := newStub(t, llmtest.Options{})
	resp, err := c.Complete(context.Background(), goodKey, hello())
	if err != nil {
		t.Fatal(err)
	}
	if want := "(stub) I hear you: what do you think?"; resp.Text != want {
		t.Errorf("Text = %q, want %q", resp.Text, want)
	}
	if resp.Model != model || resp.FinishReason != "stop" {
		t.Errorf("Model, FinishReason = %q, %q", resp.Model, resp.FinishReason)
	}
	if want := llm.CountTokens(model, resp.Text); resp.CompletionTokens != want {
		t.Errorf("CompletionTokens = %d, want %d", resp.CompletionTokens, want)
	}
	if want := llm.CountMessageTokens(model, hello().Messages); resp.PromptTokens != want {
		t.Errorf("PromptTokens = %d, want %d", resp.PromptTokens, want)
	}
	if n := stub.Calls(); n != 1 {
		t.Errorf("%d HTTP requests, want 1", n)
	}
}

// TestEveryFieldReachesTheBody proves that typed fields (including explicit zeros, which
// go-openai would drop) and Extra fields all arrive in the JSON body.
func TestEveryFieldReachesTheBody(t *testing.T) {
	stub, c := newStub(t, llmtest.Options{})
	f := func(v float32) *float32 { return &v }
	seed := 42
	req := hello()
	req.Messages[1].ImageURLs = []string{"https://cdn.example/cat.png"}
	req.Temperature = f(0)
	req.TopP = f(0.9)
	req.FrequencyPenalty = f(0.25)
	req.PresencePenalty = f(-0.5)
	req.MaxTokens = 300
	req.Stop = []string{"\nUser:", "###"}
	req.Seed = &seed
	req.Extra = map[string]any{
		"top_k":              40,
		"min_p":              0.05,
		"repetition_penalty": 1.1,
		"reasoning":          map[string]any{"effort": "high", "exclude": true},
		"provider":           map[string]any{"order": []string{"DeepInfra"}},
		"temperature":        1.5, // loses to the typed field
	}
	if _, err := c.Complete(context.Background(), goodKey, req); err != nil {
		t.Fatal(err)
	}
	recs := stub.Requests()
	if len(recs) != 1 || recs[0].Path != "/v1/chat/completions" {
		t.Fatalf("requests = %+v", recs)
	}
	var body map[string]any
	if err := json.Unmarshal(recs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"model":              model,
		"temperature":        0.0,
		"top_p":              0.9,
		"frequency_penalty":  0.25,
		"presence_penalty":   -0.5,
		"max_tokens":         300.0,
		"stop":               []any{"\nUser:", "###"},
		"seed":               42.0,
		"top_k":              40.0,
		"min_p":              0.05,
		"repetition_penalty": 1.1,
		"reasoning":          map[string]any{"effort": "high", "exclude": true},
		"provider":           map[string]any{"order": []any{"DeepInfra"}},
	}
	for k, v := range want {
		got, ok := body[k]
		if !ok {
			t.Errorf("body has no %q", k)
			continue
		}
		if g, isNum := got.(float64); isNum {
			if w := v.(float64); math.Abs(g-w) > 1e-6 {
				t.Errorf("%s = %v, want %v", k, got, v)
			}
			continue
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	msgs := body["messages"].([]any)
	user := msgs[1].(map[string]any)
	if user["name"] != "alice" {
		t.Errorf("name = %v", user["name"])
	}
	parts, _ := user["content"].([]any)
	if len(parts) != 2 || parts[1].(map[string]any)["image_url"].(map[string]any)["url"] != "https://cdn.example/cat.png" {
		t.Errorf("user content = %#v", user["content"])
	}
	if _, ok := body["stream"]; ok && body["stream"] != false {
		t.Errorf("stream = %v", body["stream"])
	}
}

// TestUnsetFieldsStayOut checks that nothing is sent for unset parameters, so the
// provider's defaults apply.
func TestUnsetFieldsStayOut(t *testing.T) {
	stub, c := newStub(t, llmtest.Options{})
	if _, err := c.Complete(context.Background(), goodKey, hello()); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(stub.Requests()[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"temperature", "top_p", "frequency_penalty", "presence_penalty", "max_tokens", "stop", "seed"} {
		if _, ok := body[k]; ok {
			t.Errorf("body has %q although it was not set", k)
		}
	}
}

func TestAppHeadersAndNoRetry(t *testing.T) {
	var mu sync.Mutex
	var hits int
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		got = r.Header.Clone()
		mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := llm.New(llm.Config{BaseURL: srv.URL, AppName: "Tzurot", AppURL: "https://example.org/tzurot"})
	_, err := c.Complete(context.Background(), goodKey, hello())
	if e := asError(t, err); e.Kind != llm.KindServer || e.Message != "Service Unavailable" {
		t.Errorf("got %#v", e)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 1 {
		t.Errorf("%d requests, want 1", hits)
	}
	if got.Get("X-Title") != "Tzurot" || got.Get("HTTP-Referer") != "https://example.org/tzurot" {
		t.Errorf("headers = %v", got)
	}
	if got.Get("Authorization") != "Bearer "+goodKey {
		t.Errorf("Authorization header not sent")
	}
}

func TestEmbed(t *testing.T) {
	stub, c := newStub(t, llmtest.Options{})
	inputs := []string{"Lilith likes tea", "日本語のテキスト", "Lilith likes tea"}
	vecs, tokens, err := c.Embed(context.Background(), goodKey, "text-embedding-3-small", inputs)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 3 || tokens <= 0 {
		t.Fatalf("got %d vectors, %d tokens", len(vecs), tokens)
	}
	for i, v := range vecs {
		if len(v) != llmtest.DefaultDimensions {
			t.Errorf("vector %d has %d dimensions", i, len(v))
		}
		var norm float64
		for _, x := range v {
			norm += float64(x) * float64(x)
		}
		if math.Abs(math.Sqrt(norm)-1) > 1e-4 {
			t.Errorf("vector %d has norm %v", i, math.Sqrt(norm))
		}
	}
	if !reflect.DeepEqual(vecs[0], vecs[2]) {
		t.Error("equal inputs gave different vectors")
	}
	if reflect.DeepEqual(vecs[0], vecs[1]) {
		t.Error("different inputs gave equal vectors")
	}
	again, _, err := c.Embed(context.Background(), goodKey, "text-embedding-3-small", inputs[:1])
	if err != nil || !reflect.DeepEqual(again[0], vecs[0]) {
		t.Errorf("embedding is not deterministic across calls (err %v)", err)
	}
	if n := stub.Calls(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}

	stub.FailNext(1, 429, 3*time.Second)
	_, _, err = c.Embed(context.Background(), goodKey, "text-embedding-3-small", inputs)
	if e := asError(t, err); e.Kind != llm.KindRateLimit || e.RetryAfter != 3*time.Second {
		t.Errorf("got %v", err)
	}
	_, _, err = c.Embed(context.Background(), badKey, "text-embedding-3-small", inputs)
	if e := asError(t, err); e.Kind != llm.KindAuth {
		t.Errorf("got %v", err)
	}
	if n := stub.Calls(); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	if vecs, tokens, err := c.Embed(context.Background(), goodKey, "m", nil); vecs != nil || tokens != 0 || err != nil {
		t.Errorf("empty input: %v %v %v", vecs, tokens, err)
	}
}

func TestConcurrentCompletes(t *testing.T) {
	stub, c := newStub(t, llmtest.Options{APIKeys: []string{goodKey, badKey + "x"}})
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := hello()
			req.Messages[1].Content = fmt.Sprintf("message %d", i)
			key := goodKey
			if i%4 == 0 {
				key = badKey
			}
			resp, err := c.Complete(context.Background(), key, req)
			switch {
			case i%4 == 0:
				if e := asError(t, err); e.Kind != llm.KindAuth {
					t.Errorf("call %d: %v", i, err)
				}
			case err != nil:
				t.Errorf("call %d: %v", i, err)
			case !strings.HasSuffix(resp.Text, req.Messages[1].Content):
				t.Errorf("call %d got %q", i, resp.Text)
			}
		}()
	}
	wg.Wait()
	if n := stub.Calls(); n != 32 {
		t.Errorf("%d requests, want 32", n)
	}
}
