// Package llmtest is an OpenAI-compatible stub server for tests and offline development.
// It answers like the real API where it matters to a client: bearer-key checks (401),
// JSON validation (400), OpenAI-shaped responses with tiktoken usage counts, injected
// failures shaped like real ones (429 with Retry-After, 5xx, OpenRouter's 402), latency
// that honours cancellation, and deterministic embeddings.
package llmtest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Options configure a Stub. The zero value accepts any non-empty key and answers at once.
type Options struct {
	// APIKeys are the accepted bearer keys; anything else gets a 401. Empty accepts any
	// non-empty key.
	APIKeys []string
	// Latency is added to every request; it ends early if the client goes away.
	Latency time.Duration
	// Reply produces the assistant's text. Default: "(stub) I hear you: <last user text>".
	Reply func(req ChatRequest) string
	// Models, when set, are the only model ids accepted (others get OpenAI's 404
	// model_not_found) and what GET /v1/models lists.
	Models []string
	// EchoAuth makes error bodies quote the Authorization header, as careless providers
	// do, so tests can prove a client scrubs keys from its errors.
	EchoAuth bool
}

// ChatMessage is one message of a received chat request, with content parts flattened.
type ChatMessage struct {
	Role      string
	Name      string
	Content   string   // text, text parts joined with newlines
	ImageURLs []string // image_url parts
}

// ChatRequest is a received chat request as a Reply function sees it.
type ChatRequest struct {
	Model    string
	Messages []ChatMessage
	Raw      map[string]any // the whole JSON body, numbers as float64
}

// Recorded is one request as the stub received it. The Authorization header is never
// recorded, so tests can print these freely.
type Recorded struct {
	Method string
	Path   string
	Body   []byte // raw request body
	Model  string // the body's "model", if any
	Status int    // status answered; 0 if the client left before the answer
}

// Stub is a running stub server. All methods are safe for concurrent use.
type Stub struct {
	srv *httptest.Server

	mu        sync.Mutex
	keys      []string
	latency   time.Duration
	reply     func(ChatRequest) string
	models    []string
	echoAuth  bool
	fail      failure
	requests  []Recorded
	nextID    int
	createdAt int64
	keyLimits map[string]keyLimit
}

// failure is the FailNext state.
type failure struct {
	left       int
	status     int
	retryAfter time.Duration
}

// maxRequestBody mirrors the real APIs' refusal of huge bodies (413).
const maxRequestBody = 16 << 20

// New starts a stub on 127.0.0.1. Close it when done.
func New(opts Options) *Stub {
	s := &Stub{
		keys:      append([]string(nil), opts.APIKeys...),
		latency:   opts.Latency,
		reply:     opts.Reply,
		models:    append([]string(nil), opts.Models...),
		echoAuth:  opts.EchoAuth,
		createdAt: time.Now().Unix(),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.withCommon(s.handleChat, true))
	mux.HandleFunc("POST /v1/embeddings", s.withCommon(s.handleEmbeddings, true))
	mux.HandleFunc("POST /v1/audio/transcriptions", s.withCommon(s.handleTranscription, true))
	mux.HandleFunc("GET /v1/models", s.withCommon(s.handleModels, false))
	mux.HandleFunc("GET /v1/key", s.withCommon(s.handleKey, false))
	mux.HandleFunc("/", s.withCommon(s.handleNotFound, false))
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the API root, ending in /v1, for use as llm.Config.BaseURL.
func (s *Stub) URL() string { return s.srv.URL + "/v1" }

// Close shuts the server down, waiting for running requests (latency ends early).
func (s *Stub) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// SetReply replaces the reply function; nil restores the default.
func (s *Stub) SetReply(f func(ChatRequest) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = f
}

// SetLatency changes the latency added to each request from now on.
func (s *Stub) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// FailNext makes the next n chat or embedding calls fail with status and a body shaped
// like the real API's for that status. For 429 and 503, a positive retryAfter is sent as
// a Retry-After header in whole seconds (rounded up). It replaces any earlier FailNext;
// n <= 0 cancels it. Failures are injected before the key is checked.
func (s *Stub) FailNext(n int, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = failure{left: max(n, 0), status: status, retryAfter: retryAfter}
}

// Requests returns a copy of every request received so far, in arrival order.
func (s *Stub) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Recorded, len(s.requests))
	for i, r := range s.requests {
		r.Body = append([]byte(nil), r.Body...)
		out[i] = r
	}
	return out
}

// Calls is the number of HTTP requests received on any route.
func (s *Stub) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// call is one request in flight: its record index and what the handler may need.
type call struct {
	idx  int
	body []byte
	auth string
}

type handler func(w http.ResponseWriter, r *http.Request, c *call)

// withCommon records the request, applies latency and (for API calls) injected
// failures, then runs h. Every answer goes through s.write so its status is recorded.
func (s *Stub) withCommon(h handler, injectable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
		c := &call{body: body, auth: r.Header.Get("Authorization")}
		s.mu.Lock()
		c.idx = len(s.requests)
		s.requests = append(s.requests, Recorded{
			Method: r.Method, Path: r.URL.Path, Body: append([]byte(nil), body...), Model: modelOf(body),
		})
		latency := s.latency
		s.mu.Unlock()

		if !sleep(r.Context(), latency) {
			return // the client gave up; nobody is listening
		}
		if readErr != nil {
			s.writeError(w, c, http.StatusRequestEntityTooLarge, apiError{
				Message: "Request body too large.", Type: "invalid_request_error",
			})
			return
		}
		if injectable {
			if f, ok := s.takeFailure(); ok {
				s.writeFailure(w, c, f)
				return
			}
		}
		h(w, r, c)
	}
}

// takeFailure consumes one injected failure, if any is pending.
func (s *Stub) takeFailure() (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail.left <= 0 {
		return failure{}, false
	}
	s.fail.left--
	return s.fail, true
}

// sleep waits d unless ctx ends first; it reports whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// authorize checks the bearer key and answers 401 itself when it is wrong. It returns
// the key when accepted.
func (s *Stub) authorize(w http.ResponseWriter, c *call) (string, bool) {
	key, ok := strings.CutPrefix(c.auth, "Bearer ")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		s.writeError(w, c, http.StatusUnauthorized, apiError{
			Message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
			Type:    "invalid_request_error", Code: "missing_api_key",
		})
		return "", false
	}
	s.mu.Lock()
	keys := s.keys
	s.mu.Unlock()
	if len(keys) == 0 {
		return key, true
	}
	for _, k := range keys {
		if subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1 {
			return key, true
		}
	}
	s.writeError(w, c, http.StatusUnauthorized, apiError{
		Message: "Incorrect API key provided", Type: "invalid_request_error", Code: "invalid_api_key",
	})
	return "", false
}

// write answers with a JSON value and records the status.
func (s *Stub) write(w http.ResponseWriter, c *call, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"message":"stub could not encode its answer","type":"server_error"}}`)
	}
	s.mu.Lock()
	s.requests[c.idx].Status = status
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req_stub")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newID returns a fresh sequence number for response ids.
func (s *Stub) newID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	return s.nextID
}

// modelOf pulls "model" out of a JSON body, ignoring anything malformed.
func modelOf(body []byte) string {
	var v struct {
		Model any `json:"model"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	m, _ := v.Model.(string)
	return m
}
