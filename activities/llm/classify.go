package llm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// providerError is what could be read out of an error body. Providers disagree on the
// shape: OpenAI sends {"error":{"message","type","code"}}, OpenRouter adds a numeric code
// and "metadata" (provider name, raw upstream body, rate-limit headers), others send a
// bare string, {"detail": ...} or an HTML page from a proxy.
type providerError struct {
	Message    string
	Type       string
	Code       string
	Status     int // a numeric code in the body, as OpenRouter echoes the HTTP status
	RetryAfter time.Duration
	HasRetry   bool
}

// maxParsedBody bounds the work done on an error body; real ones are a few hundred bytes.
const maxParsedBody = 64 << 10

// parseErrorBody never fails: whatever it cannot understand becomes (part of) a message.
func parseErrorBody(body []byte, now time.Time) providerError {
	return parseErrorBodyDepth(body, now, 0)
}

// maxNesting bounds how deep metadata.raw bodies inside bodies are followed.
const maxNesting = 2

func parseErrorBodyDepth(body []byte, now time.Time, depth int) providerError {
	if len(body) > maxParsedBody {
		body = body[:maxParsedBody]
	}
	body = bytes.TrimSpace(body)
	var pe providerError
	switch {
	case len(body) == 0:
	case body[0] == '{' || body[0] == '[':
		var v any
		if err := decodeJSON(body, &v); err != nil {
			pe.Message = string(body)
			break
		}
		if list, ok := v.([]any); ok && len(list) > 0 { // Google sends [{"error":...}]
			v = list[0]
		}
		top, _ := v.(map[string]any)
		switch e := top["error"].(type) {
		case map[string]any:
			pe.fromObject(e, now, depth)
		case string:
			pe.Message = e
		default:
			if _, ok := top["message"]; ok {
				pe.fromObject(top, now, depth)
			} else if d, ok := top["detail"].(string); ok {
				pe.Message = d
			}
		}
	case body[0] == '<': // an HTML error page from a proxy says nothing useful
	default:
		pe.Message = string(body)
	}
	if !pe.HasRetry {
		pe.RetryAfter, pe.HasRetry = retryAfterFromText(pe.Message)
	}
	return pe
}

func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// fromObject reads one OpenAI/OpenRouter style error object.
func (pe *providerError) fromObject(obj map[string]any, now time.Time, depth int) {
	pe.Message = messageOf(obj["message"])
	pe.Type, _ = obj["type"].(string)
	switch c := obj["code"].(type) {
	case string:
		pe.Code = c
	case json.Number:
		pe.Code = c.String()
		if n, err := c.Int64(); err == nil && n >= 100 && n <= 599 {
			pe.Status = int(n)
		}
	}
	if d, ok := retryAfterValue(obj["retry_after"], now); ok {
		pe.RetryAfter, pe.HasRetry = d, true
	}
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		return
	}
	if !pe.HasRetry {
		pe.RetryAfter, pe.HasRetry = retryAfterFromMetadata(meta, now)
	}
	// OpenRouter wraps upstream failures as "Provider returned error" with the upstream
	// body in metadata.raw; that body is the part worth reading.
	raw := messageOf(meta["raw"])
	if raw == "" {
		return
	}
	if depth >= maxNesting {
		pe.Message = strings.TrimSpace(pe.Message + ": " + raw)
		return
	}
	if inner := parseErrorBodyDepth([]byte(raw), now, depth+1); inner.Message != "" {
		if !pe.HasRetry {
			pe.RetryAfter, pe.HasRetry = inner.RetryAfter, inner.HasRetry
		}
		if !pe.HasRetry {
			pe.RetryAfter, pe.HasRetry = retryAfterFromText(raw)
		}
		raw = inner.Message
	}
	if name, _ := meta["provider_name"].(string); name != "" {
		pe.Message = fmt.Sprintf("%s (%s)", pe.Message, name)
	}
	pe.Message = strings.TrimSpace(pe.Message + ": " + raw)
}

// messageOf accepts a string, a list of strings (OpenAI's schema errors) or any other
// JSON value, which is rendered compactly.
func messageOf(v any) string {
	switch m := v.(type) {
	case nil:
		return ""
	case string:
		return m
	case []any:
		parts := make([]string, 0, len(m))
		for _, p := range m {
			parts = append(parts, messageOf(p))
		}
		return strings.Join(parts, ", ")
	default:
		b, err := json.Marshal(m)
		if err != nil {
			return ""
		}
		return string(b)
	}
}

// retryAfterFromMetadata reads the hints OpenRouter puts in error metadata: explicit
// retry_after fields, or a copy of the upstream's rate-limit headers.
func retryAfterFromMetadata(meta map[string]any, now time.Time) (time.Duration, bool) {
	for _, k := range []string{"retry_after", "retry_after_seconds", "retryAfter"} {
		if d, ok := retryAfterValue(meta[k], now); ok {
			return d, true
		}
	}
	headers, _ := meta["headers"].(map[string]any)
	for k, v := range headers {
		s := messageOf(v)
		switch strings.ToLower(k) {
		case "retry-after":
			if d, ok := ParseRetryAfter(s, now); ok {
				return d, true
			}
		case "retry-after-ms":
			if d, ok := parseRetryAfterMillis(s); ok {
				return d, true
			}
		}
	}
	for k, v := range headers {
		if strings.EqualFold(k, "X-RateLimit-Reset") {
			if d, ok := parseResetEpoch(messageOf(v), now); ok {
				return d, true
			}
		}
	}
	return 0, false
}

// retryAfterValue reads a number of seconds or a Retry-After string.
func retryAfterValue(v any, now time.Time) (time.Duration, bool) {
	switch x := v.(type) {
	case json.Number:
		return ParseRetryAfter(x.String(), now)
	case string:
		return ParseRetryAfter(x, now)
	}
	return 0, false
}

var (
	// Google's upstream bodies: "retryDelay": "7s".
	retryDelayRe = regexp.MustCompile(`"retryDelay"\s*:\s*"([0-9]{1,9}(?:\.[0-9]{1,9})?s)"`)
	// OpenAI's messages: "Please try again in 20s." / "in 1m30.5s" / "in 250ms".
	tryAgainRe = regexp.MustCompile(`(?i)try again in ((?:[0-9]{1,9}(?:\.[0-9]{1,9})?(?:ms|h|m|s))+)\b`)
	// Azure's messages: "Please retry after 7 seconds."
	retryAfterSecondsRe = regexp.MustCompile(`(?i)retry after ([0-9]{1,9}) seconds?`)
)

// retryAfterFromText finds a backoff hint written into a message.
func retryAfterFromText(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	for _, re := range []*regexp.Regexp{retryDelayRe, tryAgainRe} {
		if m := re.FindStringSubmatch(s); m != nil {
			if d, err := time.ParseDuration(m[1]); err == nil && d >= 0 {
				return capRetry(float64(d)), true
			}
		}
	}
	if m := retryAfterSecondsRe.FindStringSubmatch(s); m != nil {
		return ParseRetryAfter(m[1], time.Time{})
	}
	return 0, false
}

// kindForStatus is the first guess from the status code alone.
func kindForStatus(status int) Kind {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return KindAuth
	case status == http.StatusPaymentRequired:
		return KindCredit
	case status == http.StatusRequestTimeout:
		return KindTimeout
	case status == http.StatusTooManyRequests:
		return KindRateLimit
	case status >= 400 && status < 500:
		return KindBadRequest
	default:
		return KindServer
	}
}

var modelNotFoundRe = regexp.MustCompile(`(?i)model_not_found|model not found|not a valid model|no such model|unknown model|invalid model|model\b.{0,100}\bdoes not exist`)

var moderationRe = regexp.MustCompile(`(?i)moderation|flagged`)

// classifyHTTP turns a failed HTTP exchange into an Error. The body decides where the
// status alone would mislead: OpenAI reports an empty wallet as 429 insufficient_quota,
// some providers report an unknown model as 5xx, OpenRouter answers 403 for moderation.
func classifyHTTP(status int, h http.Header, body []byte, apiKey string, now time.Time) *Error {
	pe := parseErrorBody(body, now)
	kind := kindForStatus(status)
	probe := pe.Code + " " + pe.Type + " " + pe.Message
	switch {
	case strings.Contains(probe, "insufficient_quota"):
		kind = KindCredit
	case kind != KindAuth && kind != KindCredit && kind != KindRateLimit && modelNotFoundRe.MatchString(probe):
		kind = KindBadRequest
	case status == http.StatusForbidden && moderationRe.MatchString(probe):
		kind = KindBadRequest
	}
	msg := pe.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	e := newError(kind, status, msg, apiKey)
	if e.Retryable() {
		if d, ok := retryAfterFromHeader(h, now); ok {
			e.RetryAfter = d
		} else if pe.HasRetry {
			e.RetryAfter = pe.RetryAfter
		}
	}
	return e
}
