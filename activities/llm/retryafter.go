package llm

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps any server hint. A provider announcing a daily quota reset still
// gets a finite answer; the activity's retry policy decides what to do with it.
const MaxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After style value: delta seconds ("7", "1.5"), an HTTP
// date (relative to now), or a Go duration as some providers put in bodies ("7s",
// "1m30s", "250ms"). Dates in the past give 0. The result is capped at MaxRetryAfter.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 64 {
		return 0, false
	}
	if isDecimal(v) {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) || secs < 0 {
			return 0, false
		}
		return capRetry(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return capRetry(float64(t.Sub(now))), true
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return capRetry(float64(d)), true
	}
	return 0, false
}

// parseRetryAfterMillis reads OpenAI's retry-after-ms header.
func parseRetryAfterMillis(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if !isDecimal(v) || len(v) > 32 {
		return 0, false
	}
	ms, err := strconv.ParseFloat(v, 64)
	if err != nil || ms < 0 {
		return 0, false
	}
	return capRetry(ms * float64(time.Millisecond)), true
}

// parseResetEpoch reads an X-RateLimit-Reset value as OpenRouter sends it in error
// metadata: a Unix time in milliseconds (or seconds, for short values).
func parseResetEpoch(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 20 || strings.Trim(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	var t time.Time
	if n >= 1e12 { // milliseconds since the epoch
		t = time.UnixMilli(n)
	} else {
		t = time.Unix(n, 0)
	}
	return capRetry(float64(t.Sub(now))), true
}

// retryAfterFromHeader looks at the response headers a real API uses for backoff hints.
func retryAfterFromHeader(h http.Header, now time.Time) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	if d, ok := ParseRetryAfter(h.Get("Retry-After"), now); ok {
		return d, true
	}
	return parseRetryAfterMillis(h.Get("Retry-After-Ms"))
}

// isDecimal accepts digits with at most one dot: no signs, exponents, hex or underscores,
// which strconv.ParseFloat would otherwise let through.
func isDecimal(s string) bool {
	if s == "" || s == "." {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return true
}

func capRetry(ns float64) time.Duration {
	switch {
	case ns <= 0 || math.IsNaN(ns):
		return 0
	case ns >= float64(MaxRetryAfter):
		return MaxRetryAfter
	default:
		return time.Duration(ns)
	}
}
