package llm

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Kind says what went wrong with an LLM call in terms the caller can act on: the activity
// layer maps it to a Temporal error type and decides between retrying and giving the user
// the personality's error message. Its string form is stable and safe to use as an error
// type name.
type Kind string

// The kinds of failure. Auth, Credit and BadRequest cannot succeed on retry.
const (
	KindAuth       Kind = "llm_auth"        // 401/403: the key is wrong, revoked or not allowed
	KindCredit     Kind = "llm_credit"      // 402 (or OpenAI's insufficient_quota): no money left
	KindBadRequest Kind = "llm_bad_request" // 400/404/413/422, unknown model, invalid request
	KindRateLimit  Kind = "llm_rate_limit"  // 429: slow down, see RetryAfter
	KindServer     Kind = "llm_server"      // 5xx or a garbled success response
	KindTimeout    Kind = "llm_timeout"     // context deadline, client timeout, 408
	KindNetwork    Kind = "llm_network"     // no HTTP answer at all: refused, reset, DNS
	KindEmpty      Kind = "llm_empty"       // 200 without a usable choice
)

// String returns the kind's stable name.
func (k Kind) String() string { return string(k) }

// describe is the human half of Error(): what a reader of a log line should understand.
func (k Kind) describe() string {
	switch k {
	case KindAuth:
		return "API key rejected"
	case KindCredit:
		return "out of credit"
	case KindBadRequest:
		return "request rejected"
	case KindRateLimit:
		return "rate limited"
	case KindServer:
		return "provider error"
	case KindTimeout:
		return "timed out"
	case KindNetwork:
		return "network error"
	case KindEmpty:
		return "empty reply"
	default:
		return "error"
	}
}

// Error is the only error type Complete and Embed return. Message has been scrubbed of
// anything that looks like an API key, so the whole value is safe to log, wrap and put in
// a Temporal failure.
type Error struct {
	Kind       Kind
	Status     int           // HTTP status; 0 when no response arrived
	RetryAfter time.Duration // the server's hint for rate limits and overload; 0 if none
	Message    string        // short, scrubbed provider message

	// cause is only ever context.Canceled or context.DeadlineExceeded, so errors.Is works
	// for them; provider errors are not wrapped because their text may hold the key.
	cause error
}

// Error renders a short human message such as
// "llm: rate limited (HTTP 429, retry after 7s): Rate limit exceeded".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("llm: ")
	b.WriteString(e.Kind.describe())
	switch {
	case e.Status != 0 && e.RetryAfter > 0:
		fmt.Fprintf(&b, " (HTTP %d, retry after %s)", e.Status, e.RetryAfter)
	case e.Status != 0:
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	case e.RetryAfter > 0:
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Retryable reports whether trying the same call again can succeed. A bad key, an empty
// wallet or a request the provider refuses will fail the same way every time.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindAuth, KindCredit, KindBadRequest:
		return false
	default:
		return true
	}
}

// Unwrap exposes context.Canceled / context.DeadlineExceeded when they caused the error.
func (e *Error) Unwrap() error { return e.cause }

// newError builds an Error whose message is scrubbed of the key and trimmed to one line.
func newError(kind Kind, status int, msg, apiKey string) *Error {
	return &Error{Kind: kind, Status: status, Message: shorten(redact(msg, apiKey))}
}

// contextError turns an ended context into a timeout error that unwraps to its cause.
func contextError(err error) *Error {
	e := &Error{Kind: KindTimeout, Message: "request did not finish before its deadline", cause: context.DeadlineExceeded}
	if err == context.Canceled {
		e.Message = "request canceled"
		e.cause = context.Canceled
	}
	return e
}

// maxMessageRunes keeps provider messages log-sized; some providers return whole HTML pages.
const maxMessageRunes = 300

// shorten collapses whitespace and caps the length of a provider message.
func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > maxMessageRunes {
		return string(r[:maxMessageRunes]) + "…"
	}
	return s
}
