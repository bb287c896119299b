package llmtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const key = "sk-or-v1-stubkey-1234567-9abcdef-1234567-9abcdef"

// do sends a raw request and decodes the JSON answer.
func do(t *testing.T, ctx context.Context, method, url, auth, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("answer is not JSON: %q", raw)
	}
	return resp.StatusCode, resp.Header, v
}

func errorOf(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	e, ok := v["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %v", v)
	}
	if _, ok := e["message"].(string); !ok {
		t.Fatalf("error without message: %v", e)
	}
	return e
}

func TestChatValidation(t *testing.T) {
	s := New(Options{APIKeys: []string{key}})
	defer s.Close()
	url := s.URL() + "/chat/completions"
	tests := []struct {
		name, auth, body string
		status           int
		code             any
		param            any
	}{
		{"wrong key", "sk-nope", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, 401, "invalid_api_key", nil},
		{"no key", "", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, 401, "missing_api_key", nil},
		{"malformed", key, `{"model":"m",`, 400, nil, nil},
		{"not an object", key, `[1,2]`, 400, nil, nil},
		{"no model", key, `{"messages":[{"role":"user","content":"hi"}]}`, 400, nil, "model"},
		{"no messages", key, `{"model":"m"}`, 400, nil, "messages"},
		{"empty messages", key, `{"model":"m","messages":[]}`, 400, nil, "messages"},
		{"bad role", key, `{"model":"m","messages":[{"role":"wizard","content":"hi"}]}`, 400, nil, "messages[0].role"},
		{"no content", key, `{"model":"m","messages":[{"role":"user"}]}`, 400, nil, "messages[0].content"},
		{"bad name", key, `{"model":"m","messages":[{"role":"user","name":"Lilith 🌙","content":"hi"}]}`, 400, nil, "messages[0].name"},
		{"stream", key, `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, 400, nil, "stream"},
		{"hot temperature", key, `{"model":"m","temperature":3,"messages":[{"role":"user","content":"hi"}]}`, 400, nil, "temperature"},
		{"string top_p", key, `{"model":"m","top_p":"x","messages":[{"role":"user","content":"hi"}]}`, 400, nil, "top_p"},
		{"zero max_tokens", key, `{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}`, 400, nil, "max_tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, v := do(t, context.Background(), "POST", url, tt.auth, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, v)
			}
			e := errorOf(t, v)
			if e["type"] != "invalid_request_error" {
				t.Errorf("type = %v", e["type"])
			}
			if tt.code != nil && e["code"] != tt.code {
				t.Errorf("code = %v, want %v", e["code"], tt.code)
			}
			if tt.param != nil && e["param"] != tt.param {
				t.Errorf("param = %v, want %v", e["param"], tt.param)
			}
		})
	}
	if s.Calls() != len(tests) {
		t.Errorf("Calls = %d, want %d", s.Calls(), len(tests))
	}
	if msg := errorOf(t, func() map[string]any {
		_, _, v := do(t, context.Background(), "POST", url, "sk-nope", `{}`)
		return v
	}())["message"]; msg != "Incorrect API key provided" {
		t.Errorf("401 message = %q", msg)
	}
}

func TestChatSuccessShape(t *testing.T) {
	var got ChatRequest
	var mu sync.Mutex
	s := New(Options{Reply: func(r ChatRequest) string {
		mu.Lock()
		got = r
		mu.Unlock()
		return DefaultReply(r)
	}})
	defer s.Close()
	body := `{"model":"openai/gpt-4o-mini","temperature":0,"top_k":40,"messages":[
		{"role":"system","content":"be nice"},
		{"role":"user","name":"alice","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"https://x/cat.png"}}]}]}`
	status, _, v := do(t, context.Background(), "POST", s.URL()+"/chat/completions", "anything", body)
	if status != 200 {
		t.Fatalf("status %d: %v", status, v)
	}
	for _, k := range []string{"id", "object", "created", "model", "choices", "usage"} {
		if _, ok := v[k]; !ok {
			t.Errorf("response has no %q", k)
		}
	}
	if v["object"] != "chat.completion" || v["model"] != "openai/gpt-4o-mini" || !strings.HasPrefix(v["id"].(string), "chatcmpl-") {
		t.Errorf("header fields: %v", v)
	}
	choice := v["choices"].([]any)[0].(map[string]any)
	msg := choice["message"].(map[string]any)
	if msg["role"] != "assistant" || msg["content"] != "(stub) I hear you: look" || choice["finish_reason"] != "stop" {
		t.Errorf("choice = %v", choice)
	}
	usage := v["usage"].(map[string]any)
	p, c, total := usage["prompt_tokens"].(float64), usage["completion_tokens"].(float64), usage["total_tokens"].(float64)
	if p <= 0 || c <= 0 || total != p+c {
		t.Errorf("usage = %v", usage)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got.Messages) != 2 || got.Messages[1].Name != "alice" || got.Messages[1].ImageURLs[0] != "https://x/cat.png" {
		t.Errorf("Reply saw %+v", got)
	}
	if got.Raw["top_k"] != 40.0 || got.Raw["temperature"] != 0.0 {
		t.Errorf("Raw = %v", got.Raw)
	}
}

func TestChatLimits(t *testing.T) {
	s := New(Options{Reply: func(ChatRequest) string { return "one two three four five six seven eight nine ten" }})
	defer s.Close()
	url := s.URL() + "/chat/completions"
	status, _, v := do(t, context.Background(), "POST", url, key, `{"model":"gpt-4","max_tokens":3,"messages":[{"role":"user","content":"count"}]}`)
	choice := v["choices"].([]any)[0].(map[string]any)
	if status != 200 || choice["finish_reason"] != "length" || choice["message"].(map[string]any)["content"] != "one two three" {
		t.Errorf("max_tokens: %d %v", status, choice)
	}
	if c := v["usage"].(map[string]any)["completion_tokens"]; c != 3.0 {
		t.Errorf("completion_tokens = %v", c)
	}
	_, _, v = do(t, context.Background(), "POST", url, key, `{"model":"gpt-4","stop":[" four"],"messages":[{"role":"user","content":"count"}]}`)
	choice = v["choices"].([]any)[0].(map[string]any)
	if choice["finish_reason"] != "stop" || choice["message"].(map[string]any)["content"] != "one two three" {
		t.Errorf("stop: %v", choice)
	}
}

func TestFailNext(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	url := s.URL() + "/chat/completions"
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`

	s.FailNext(2, 429, 1500*time.Millisecond)
	for i := range 2 {
		status, h, v := do(t, context.Background(), "POST", url, key, body)
		if status != 429 || h.Get("Retry-After") != "2" || errorOf(t, v)["code"] != "rate_limit_exceeded" {
			t.Errorf("call %d: %d %v %v", i, status, h, v)
		}
	}
	if status, _, _ := do(t, context.Background(), "POST", url, key, body); status != 200 {
		t.Errorf("third call: %d", status)
	}

	for _, status := range []int{402, 500, 502, 503, 418} {
		s.FailNext(1, status, 0)
		got, h, v := do(t, context.Background(), "POST", s.URL()+"/embeddings", key, `{"model":"e","input":"x"}`)
		e := errorOf(t, v)
		if got != status || h.Get("Retry-After") != "" {
			t.Errorf("%d: got %d %v", status, got, v)
		}
		if status == 402 && !strings.Contains(e["message"].(string), "Insufficient credits") {
			t.Errorf("402 message = %v", e["message"])
		}
	}
	// Models and key info are not API calls: FailNext leaves them alone.
	s.FailNext(1, 500, 0)
	if status, _, _ := do(t, context.Background(), "GET", s.URL()+"/models", "", ""); status != 200 {
		t.Errorf("models failed: %d", status)
	}
	s.FailNext(0, 0, 0)
	if status, _, _ := do(t, context.Background(), "POST", url, key, body); status != 200 {
		t.Errorf("FailNext(0) did not cancel: %d", status)
	}
}

func TestEchoAuthAndRecords(t *testing.T) {
	s := New(Options{APIKeys: []string{"sk-right"}, EchoAuth: true})
	defer s.Close()
	_, _, v := do(t, context.Background(), "POST", s.URL()+"/chat/completions", key, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	if msg := errorOf(t, v)["message"].(string); !strings.Contains(msg, "Bearer "+key) {
		t.Errorf("EchoAuth did not echo: %q", msg)
	}
	recs := s.Requests()
	if len(recs) != 1 || recs[0].Model != "m" || recs[0].Status != 401 || recs[0].Path != "/v1/chat/completions" || recs[0].Method != "POST" {
		t.Errorf("records = %+v", recs)
	}
	if strings.Contains(fmt.Sprintf("%+v %s", recs, recs[0].Body), key) {
		t.Error("a record holds the key")
	}
	recs[0].Body[0] = 'X' // a copy: the stub's own record is untouched
	if s.Requests()[0].Body[0] != '{' {
		t.Error("Requests returned shared memory")
	}
}

func TestEmbeddings(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	url := s.URL() + "/embeddings"
	status, _, v := do(t, context.Background(), "POST", url, key, `{"model":"text-embedding-3-small","input":["a cat","a dog","a cat"],"dimensions":256}`)
	if status != 200 || v["object"] != "list" {
		t.Fatalf("%d %v", status, v)
	}
	data := v["data"].([]any)
	vec := func(i int) []float64 {
		raw := data[i].(map[string]any)["embedding"].([]any)
		out := make([]float64, len(raw))
		for j, x := range raw {
			out[j] = x.(float64)
		}
		return out
	}
	for i := range data {
		if data[i].(map[string]any)["index"] != float64(i) {
			t.Errorf("index %d = %v", i, data[i])
		}
		vv := vec(i)
		var n float64
		for _, x := range vv {
			n += x * x
		}
		if len(vv) != 256 || math.Abs(math.Sqrt(n)-1) > 1e-4 {
			t.Errorf("vector %d: len %d norm %v", i, len(vv), math.Sqrt(n))
		}
	}
	if fmt.Sprint(vec(0)) != fmt.Sprint(vec(2)) || fmt.Sprint(vec(0)) == fmt.Sprint(vec(1)) {
		t.Error("vectors are not a function of the text")
	}
	if u := v["usage"].(map[string]any); u["prompt_tokens"].(float64) <= 0 || u["total_tokens"] != u["prompt_tokens"] {
		t.Errorf("usage = %v", u)
	}

	_, _, v = do(t, context.Background(), "POST", url, key, `{"model":"e","input":"a cat"}`)
	if n := len(v["data"].([]any)[0].(map[string]any)["embedding"].([]any)); n != DefaultDimensions {
		t.Errorf("default dimensions = %d", n)
	}
	_, _, v = do(t, context.Background(), "POST", url, key, `{"model":"e","input":"a cat","dimensions":4,"encoding_format":"base64"}`)
	b, err := base64.StdEncoding.DecodeString(v["data"].([]any)[0].(map[string]any)["embedding"].(string))
	if err != nil || len(b) != 16 {
		t.Fatalf("base64: %v %d", err, len(b))
	}
	want := Vector("a cat", 4)
	for i := range 4 {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])); got != want[i] {
			t.Errorf("base64 component %d = %v, want %v", i, got, want[i])
		}
	}
	for _, bad := range []string{`{"model":"e","input":""}`, `{"model":"e","input":[]}`, `{"model":"e","input":[1]}`,
		`{"model":"e","input":"x","dimensions":0}`, `{"input":"x"}`, `nope`} {
		if status, _, v := do(t, context.Background(), "POST", url, key, bad); status != 400 {
			t.Errorf("%s: %d %v", bad, status, v)
		}
	}
}

func TestModelsKeyAndRoutes(t *testing.T) {
	s := New(Options{Models: []string{"stub/a", "stub/b"}})
	defer s.Close()
	status, _, v := do(t, context.Background(), "GET", s.URL()+"/models", "", "")
	if data := v["data"].([]any); status != 200 || len(data) != 2 || data[0].(map[string]any)["id"] != "stub/a" {
		t.Errorf("models: %d %v", status, v)
	}
	status, _, v = do(t, context.Background(), "GET", s.URL()+"/key", key, "")
	d := v["data"].(map[string]any)
	if status != 200 || d["limit"] != nil || d["usage"] != 0.0 || d["is_free_tier"] != false || strings.Contains(d["label"].(string), key) {
		t.Errorf("key: %d %v", status, v)
	}
	if status, _, _ := do(t, context.Background(), "GET", s.URL()+"/key", "", ""); status != 401 {
		t.Errorf("key without auth: %d", status)
	}
	status, _, v = do(t, context.Background(), "POST", s.URL()+"/chat/completions", key, `{"model":"stub/c","messages":[{"role":"user","content":"hi"}]}`)
	if status != 404 || errorOf(t, v)["code"] != "model_not_found" {
		t.Errorf("unknown model: %d %v", status, v)
	}
	for _, r := range [][2]string{{"GET", "/chat/completions"}, {"POST", "/nothing"}} {
		if status, _, _ := do(t, context.Background(), r[0], s.URL()+r[1], key, ""); status != 404 {
			t.Errorf("%s %s: %d", r[0], r[1], status)
		}
	}
}

// TestLatencyHonoursCancellation: a request waiting out the latency ends when its client
// gives up, and Close does not wait for the latency either.
func TestLatencyHonoursCancellation(t *testing.T) {
	s := New(Options{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", s.URL()+"/chat/completions",
		bytes.NewReader([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)))
	req.Header.Set("Authorization", "Bearer "+key)
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	done := make(chan struct{})
	go func() {
		// A second request still sleeping when Close is called.
		r2, _ := http.NewRequest("GET", s.URL()+"/models", nil)
		resp, err := http.DefaultClient.Do(r2)
		if err == nil {
			resp.Body.Close()
		}
		close(done)
	}()
	for s.Calls() < 2 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	<-done
	if recs := s.Requests(); recs[0].Status != 0 {
		t.Errorf("a request the client abandoned has status %d", recs[0].Status)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 4 {
			case 0:
				s.SetReply(func(r ChatRequest) string { return fmt.Sprint("r", i) })
			case 1:
				s.SetLatency(time.Duration(i) * time.Microsecond)
			case 2:
				s.FailNext(1, 503, time.Second)
			}
			body := fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"%d"}]}`, i)
			status, _, _ := do(t, context.Background(), "POST", s.URL()+"/chat/completions", key, body)
			if status != 200 && status != 503 {
				t.Errorf("status %d", status)
			}
			_ = s.Requests()
		}()
	}
	wg.Wait()
	if s.Calls() != 24 {
		t.Errorf("Calls = %d", s.Calls())
	}
}
