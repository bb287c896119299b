package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
)

// TestCompleteErrors covers each failure class: its kind, retryability, retry hint, that
// exactly one HTTP request was made (no hidden retries), and that the key is never in
// the error, even when the provider echoes the Authorization header back.
func TestCompleteErrors(t *testing.T) {
	hot := float32(5)
	tests := []struct {
		name      string
		key       string
		req       func() llm.Request
		setup     func(*llmtest.Stub)
		ctx       func() (context.Context, context.CancelFunc)
		kind      llm.Kind
		status    int
		retryable bool
		retry     time.Duration
		requests  int
	}{
		{name: "wrong key", key: badKey, kind: llm.KindAuth, status: 401},
		{name: "malformed parameter", req: func() llm.Request { r := hello(); r.Temperature = &hot; return r },
			kind: llm.KindBadRequest, status: 400},
		{name: "injected 400", setup: func(s *llmtest.Stub) { s.FailNext(1, 400, 0) }, kind: llm.KindBadRequest, status: 400},
		{name: "unknown model", req: func() llm.Request { r := hello(); r.Model = "nope/nothing"; return r },
			kind: llm.KindBadRequest, status: 404},
		{name: "rate limited", setup: func(s *llmtest.Stub) { s.FailNext(1, 429, 7*time.Second) },
			kind: llm.KindRateLimit, status: 429, retryable: true, retry: 7 * time.Second},
		{name: "rate limited, no hint", setup: func(s *llmtest.Stub) { s.FailNext(1, 429, 0) },
			kind: llm.KindRateLimit, status: 429, retryable: true},
		{name: "server error", setup: func(s *llmtest.Stub) { s.FailNext(1, 500, 0) }, kind: llm.KindServer, status: 500, retryable: true},
		{name: "bad gateway", setup: func(s *llmtest.Stub) { s.FailNext(1, 502, 0) }, kind: llm.KindServer, status: 502, retryable: true},
		{name: "overloaded", setup: func(s *llmtest.Stub) { s.FailNext(1, 503, 2*time.Second) },
			kind: llm.KindServer, status: 503, retryable: true, retry: 2 * time.Second},
		{name: "no credit", setup: func(s *llmtest.Stub) { s.FailNext(1, 402, 0) }, kind: llm.KindCredit, status: 402},
		{name: "forbidden", setup: func(s *llmtest.Stub) { s.FailNext(1, 403, 0) }, kind: llm.KindAuth, status: 403},
		{name: "empty reply", setup: func(s *llmtest.Stub) { s.SetReply(func(llmtest.ChatRequest) string { return " \n" }) },
			kind: llm.KindEmpty, status: 200, retryable: true},
		{name: "deadline", setup: func(s *llmtest.Stub) { s.SetLatency(time.Hour) },
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			},
			kind: llm.KindTimeout, retryable: true},
		{name: "no key", key: " ", kind: llm.KindAuth, requests: -1},
		{name: "no messages", req: func() llm.Request { r := hello(); r.Messages = nil; return r },
			kind: llm.KindBadRequest, requests: -1},
		{name: "reserved extra", req: func() llm.Request { r := hello(); r.Extra = map[string]any{"model": "x"}; return r },
			kind: llm.KindBadRequest, requests: -1},
		{name: "image on assistant", req: func() llm.Request {
			r := hello()
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleAssistant, Content: "see", ImageURLs: []string{"https://x/y.png"}})
			return r
		}, kind: llm.KindBadRequest, requests: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub, c := newStub(t, llmtest.Options{EchoAuth: true, Models: []string{model}})
			if tt.setup != nil {
				tt.setup(stub)
			}
			key := goodKey
			if tt.key != "" {
				key = tt.key
			}
			req := hello()
			if tt.req != nil {
				req = tt.req()
			}
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()

			_, err := c.Complete(ctx, key, req)
			e := asError(t, err)
			if e.Kind != tt.kind || e.Status != tt.status {
				t.Errorf("Kind, Status = %s, %d, want %s, %d (%v)", e.Kind, e.Status, tt.kind, tt.status, e)
			}
			if e.Retryable() != tt.retryable {
				t.Errorf("Retryable() = %v, want %v", e.Retryable(), tt.retryable)
			}
			if e.RetryAfter != tt.retry {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retry)
			}
			wantRequests := 1
			if tt.requests < 0 {
				wantRequests = 0
			}
			if n := stub.Calls(); n != wantRequests {
				t.Errorf("%d HTTP requests, want %d", n, wantRequests)
			}
			assertNoSecret(t, err, key)
		})
	}
}

// assertNoSecret checks every rendering of err for the key and bearer tokens.
func assertNoSecret(t *testing.T, err error, key string) {
	t.Helper()
	if len(key) < 20 {
		return // nothing secret to leak
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, key) || strings.Contains(s, key[len(key)-20:]) || strings.Contains(s, "Bearer sk") {
			t.Errorf("error leaks the key: %s", s)
		}
	}
}

func TestContextErrorsUnwrap(t *testing.T) {
	stub, c := newStub(t, llmtest.Options{})
	stub.SetLatency(time.Hour)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Complete(ctx, goodKey, hello())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v does not unwrap to DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = c.Complete(ctx, goodKey, hello())
	if e := asError(t, err); e.Kind != llm.KindTimeout || !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: got %v, want a timeout unwrapping to Canceled", err)
	}
}

func TestHTTPClientTimeout(t *testing.T) {
	stub := llmtest.New(llmtest.Options{Latency: time.Hour})
	defer stub.Close()
	c := llm.New(llm.Config{BaseURL: stub.URL(), HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	_, err := c.Complete(context.Background(), goodKey, hello())
	if e := asError(t, err); e.Kind != llm.KindTimeout || !e.Retryable() {
		t.Errorf("got %v, want a retryable timeout", err)
	}
}

func TestNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := llm.New(llm.Config{BaseURL: url + "/v1"})
	_, err := c.Complete(context.Background(), goodKey, hello())
	e := asError(t, err)
	if e.Kind != llm.KindNetwork || !e.Retryable() || e.Status != 0 {
		t.Errorf("got %#v, want a retryable network error", e)
	}
	if strings.Contains(e.Message, url) {
		t.Errorf("message repeats the URL: %q", e.Message)
	}
}

// TestKeyNeverInErrors sends several key shapes to a stub that echoes the Authorization
// header in every error body.
func TestKeyNeverInErrors(t *testing.T) {
	keys := []string{
		badKey,
		"sk-proj-Abc123Def456Ghi789Jkl012Mno345Pqr678Stu901Vwx234",
		"gsk_8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f",
		"AIzaFAKEtestkey0000000000000000000000000",
	}
	statuses := []int{401, 402, 429, 500, 502}
	for _, key := range keys {
		for _, status := range statuses {
			t.Run(fmt.Sprintf("%s/%d", key[:6], status), func(t *testing.T) {
				stub, c := newStub(t, llmtest.Options{EchoAuth: true, APIKeys: []string{"sk-other"}})
				if status != 401 {
					stub.FailNext(1, status, time.Second)
				}
				_, err := c.Complete(context.Background(), key, hello())
				if err == nil {
					t.Fatal("want an error")
				}
				if !strings.Contains(err.Error(), "[REDACTED]") {
					t.Errorf("expected the echoed header to be redacted, got %q", err.Error())
				}
				assertNoSecret(t, err, key)
				if _, _, err := c.Embed(context.Background(), key, "text-embedding-3-small", []string{"x"}); err != nil {
					assertNoSecret(t, err, key)
				}
			})
		}
	}
}

// TestRetryAfterIsPerCall runs concurrent calls that each get a different Retry-After,
// proving the captured headers never cross between calls.
func TestRetryAfterIsPerCall(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Model string `json:"model"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Retry-After", strings.TrimPrefix(body.Model, "m"))
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error":{"message":"slow down","type":"rate_limit"}}`))
	}))
	defer srv.Close()
	c := llm.New(llm.Config{BaseURL: srv.URL})
	var wg sync.WaitGroup
	for i := 1; i <= 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := hello()
			req.Model = fmt.Sprintf("m%d", i)
			_, err := c.Complete(context.Background(), goodKey, req)
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.KindRateLimit || e.RetryAfter != time.Duration(i)*time.Second {
				t.Errorf("call %d: got %v", i, err)
			}
		}()
	}
	wg.Wait()
}

// TestProviderQuirks covers bodies that real providers send, served raw.
func TestProviderQuirks(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		kind   llm.Kind
		retry  time.Duration
		msg    string
	}{
		{name: "openrouter provider error with retryDelay", status: 429,
			body: `{"error":{"message":"Provider returned error","code":429,"metadata":{"raw":"{\"error\":{\"code\":429,\"message\":\"Resource exhausted\",\"details\":[{\"retryDelay\":\"12s\"}]}}","provider_name":"Google AI Studio"}}}`,
			kind: llm.KindRateLimit, retry: 12 * time.Second, msg: "Provider returned error (Google AI Studio): Resource exhausted"},
		{name: "openai insufficient quota is credit", status: 429,
			body: `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`,
			kind: llm.KindCredit},
		{name: "openai try again in", status: 429,
			body: `{"error":{"message":"Rate limit reached for gpt-4o. Please try again in 1m30s.","type":"requests","code":"rate_limit_exceeded"}}`,
			kind: llm.KindRateLimit, retry: 90 * time.Second},
		{name: "retry-after-ms header", status: 429, header: map[string]string{"Retry-After-Ms": "1500"},
			body: `{"error":{"message":"slow"}}`, kind: llm.KindRateLimit, retry: 1500 * time.Millisecond},
		{name: "model not found as 400", status: 400,
			body: `{"error":{"message":"foo/bar is not a valid model ID","code":400}}`, kind: llm.KindBadRequest},
		{name: "model not found as 500", status: 500,
			body: `{"error":{"message":"model not found: foo","type":"server_error"}}`, kind: llm.KindBadRequest},
		{name: "moderation 403", status: 403,
			body: `{"error":{"message":"openai/gpt-4o requires moderation on OpenInference. Your input was flagged for \"harassment\".","code":403}}`,
			kind: llm.KindBadRequest},
		{name: "html from a proxy", status: 502, body: `<html><body>Bad gateway</body></html>`, kind: llm.KindServer, msg: "Bad Gateway"},
		{name: "200 with an error body", status: 200,
			body: `{"error":{"message":"Provider returned error","code":502}}`, kind: llm.KindServer},
		{name: "200 without choices", status: 200, body: `{"id":"x","choices":[]}`, kind: llm.KindEmpty},
		{name: "200 with garbage", status: 200, body: `{"choices": [`, kind: llm.KindServer},
		{name: "request timeout", status: 408, body: ``, kind: llm.KindTimeout},
		{name: "payload too large", status: 413, body: `{"error":{"message":"too big"}}`, kind: llm.KindBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			_, err := llm.New(llm.Config{BaseURL: srv.URL}).Complete(context.Background(), goodKey, hello())
			e := asError(t, err)
			if e.Kind != tt.kind || e.RetryAfter != tt.retry {
				t.Errorf("Kind, RetryAfter = %s, %v, want %s, %v (%v)", e.Kind, e.RetryAfter, tt.kind, tt.retry, e)
			}
			if tt.msg != "" && e.Message != tt.msg {
				t.Errorf("Message = %q, want %q", e.Message, tt.msg)
			}
		})
	}
}
