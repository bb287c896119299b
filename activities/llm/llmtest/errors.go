package llmtest

import (
	"math"
	"net/http"
	"strconv"
)

// apiError is the OpenAI error object; Code is a string or, OpenRouter style, a number.
type apiError struct {
	Message  string         `json:"message"`
	Type     string         `json:"type,omitempty"`
	Param    *string        `json:"param"`
	Code     any            `json:"code"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// writeError answers {"error": e}, quoting the Authorization header when EchoAuth is on.
func (s *Stub) writeError(w http.ResponseWriter, c *call, status int, e apiError) {
	s.mu.Lock()
	echo := s.echoAuth
	s.mu.Unlock()
	if echo && c.auth != "" {
		e.Message += " (received Authorization: " + c.auth + ")"
	}
	s.write(w, c, status, map[string]any{"error": e})
}

// badRequest answers 400 invalid_request_error naming the offending parameter.
func (s *Stub) badRequest(w http.ResponseWriter, c *call, param, msg string) {
	e := apiError{Message: msg, Type: "invalid_request_error"}
	if param != "" {
		e.Param = &param
	}
	s.writeError(w, c, http.StatusBadRequest, e)
}

// writeFailure answers an injected failure the way the real APIs do for that status.
func (s *Stub) writeFailure(w http.ResponseWriter, c *call, f failure) {
	if f.retryAfter > 0 && (f.status == http.StatusTooManyRequests || f.status == http.StatusServiceUnavailable) {
		secs := int64(math.Ceil(f.retryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	var e apiError
	switch f.status {
	case http.StatusTooManyRequests:
		w.Header().Set("X-Ratelimit-Remaining-Requests", "0")
		e = apiError{Message: "Rate limit reached for requests. Please slow down.", Type: "requests", Code: "rate_limit_exceeded"}
	case http.StatusPaymentRequired:
		e = apiError{Message: "Insufficient credits. Add more using https://openrouter.ai/settings/credits", Code: 402}
	case http.StatusUnauthorized:
		e = apiError{Message: "Incorrect API key provided", Type: "invalid_request_error", Code: "invalid_api_key"}
	case http.StatusForbidden:
		e = apiError{Message: "This key is not allowed to use this model.", Type: "invalid_request_error", Code: 403}
	case http.StatusNotFound:
		e = apiError{Message: "The model does not exist or you do not have access to it.", Type: "invalid_request_error", Code: "model_not_found"}
	case http.StatusInternalServerError:
		e = apiError{Message: "The server had an error while processing your request. Sorry about that!", Type: "server_error", Code: 500}
	case http.StatusBadGateway:
		e = apiError{Message: "Provider returned error", Code: 502, Metadata: map[string]any{
			"provider_name": "Stub", "raw": "upstream connection reset",
		}}
	case http.StatusServiceUnavailable:
		e = apiError{Message: "The server is overloaded or not ready yet.", Type: "server_error", Code: 503}
	default:
		msg := http.StatusText(f.status)
		if msg == "" {
			msg = "injected failure"
		}
		typ := "invalid_request_error"
		if f.status >= 500 {
			typ = "server_error"
		}
		e = apiError{Message: msg, Type: typ, Code: f.status}
	}
	s.writeError(w, c, f.status, e)
}

// handleNotFound answers unknown routes like the real API.
func (s *Stub) handleNotFound(w http.ResponseWriter, r *http.Request, c *call) {
	s.writeError(w, c, http.StatusNotFound, apiError{
		Message: "Invalid URL (" + r.Method + " " + r.URL.Path + ")", Type: "invalid_request_error",
	})
}
