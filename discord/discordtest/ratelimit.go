package discordtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// failRule is a pending injected failure.
type failRule struct {
	method, path string // path is a route pattern or a concrete path
	left         int
	status       int
	retryAfter   time.Duration
}

// randomLimiter answers a fraction of calls with 429, from a seeded PRNG so a
// failing test replays the same sequence.
type randomLimiter struct {
	ratio      float64
	retryAfter time.Duration
	rng        *rand.Rand
}

// FailNext makes the next n REST calls matching route fail with status.
// route is "METHOD pattern" as Requests shows it (e.g. "POST
// /webhooks/{id}/{token}"; wildcard names do not matter) or a concrete path
// such as "POST /channels/123/messages"; a missing method, or "*", matches
// any. A 429 carries Discord's rate-limit body and headers with retryAfter;
// other statuses carry {"message": "<status>: <text>", "code": 0}. Rules
// queue up and are consumed in the order they were added.
func (s *Server) FailNext(route string, n int, status int, retryAfter time.Duration) {
	method, path := "*", route
	if i := strings.IndexByte(route, ' '); i >= 0 {
		method, path = route[:i], strings.TrimSpace(route[i+1:])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failRules = append(s.failRules, &failRule{method: method, path: normalisePattern(path), left: n, status: status, retryAfter: retryAfter})
}

// SetRateLimitRatio answers fraction p (0..1) of all later REST calls with a
// 429 lasting retryAfter, chosen by a PRNG seeded with seed. p = 0 turns it
// off. discordgo retries 429s without limit, so p = 1 stalls it forever.
func (s *Server) SetRateLimitRatio(p float64, retryAfter time.Duration, seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limiter = randomLimiter{ratio: p, retryAfter: retryAfter, rng: rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))}
}

// normalisePattern replaces wildcard names so "{id}" and "{wid}" compare
// equal.
func normalisePattern(p string) string {
	parts := strings.Split(p, "/")
	for i, seg := range parts {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			parts[i] = "{}"
		}
	}
	return strings.Join(parts, "/")
}

func (r *failRule) matches(method, route, path string) bool {
	if r.method != "*" && r.method != method {
		return false
	}
	_, pattern, _ := strings.Cut(route, " ")
	return r.path == normalisePattern(pattern) || r.path == path
}

// injectFailure answers the request if a FailNext rule or the random limiter
// claims it.
func (s *Server) injectFailure(w http.ResponseWriter, method, route, path string) bool {
	s.mu.Lock()
	var status int
	var retry time.Duration
	for i, rule := range s.failRules {
		if rule.matches(method, route, path) {
			status, retry = rule.status, rule.retryAfter
			if rule.left--; rule.left <= 0 {
				s.failRules = append(s.failRules[:i:i], s.failRules[i+1:]...)
			}
			break
		}
	}
	if status == 0 && s.limiter.rng != nil && s.limiter.ratio > 0 && s.limiter.rng.Float64() < s.limiter.ratio {
		status, retry = http.StatusTooManyRequests, s.limiter.retryAfter
	}
	s.mu.Unlock()
	switch {
	case status == 0:
		return false
	case status == http.StatusTooManyRequests:
		writeRateLimited(w, route, retry)
	default:
		writeError(w, status, 0, fmt.Sprintf("%d: %s", status, http.StatusText(status)))
	}
	return true
}

// writeRateLimited answers 429 exactly as Discord does for a per-route limit:
// body retry_after in (fractional) seconds, Retry-After header in whole
// seconds rounded up, bucket headers with nothing remaining.
func writeRateLimited(w http.ResponseWriter, route string, retry time.Duration) {
	secs := retry.Seconds()
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
	h.Set("X-RateLimit-Limit", "50")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", formatSeconds(float64(time.Now().Add(retry).UnixMilli())/1000))
	h.Set("X-RateLimit-Reset-After", formatSeconds(secs))
	h.Set("X-RateLimit-Bucket", bucketOf(route))
	h.Set("X-RateLimit-Scope", "user")
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"message":     "You are being rate limited.",
		"retry_after": secs,
		"global":      false,
	})
}

// setRateLimitHeaders adds the generous per-route limits every successful
// answer carries, so discordgo's bucket logic runs as in production.
func setRateLimitHeaders(h http.Header, route string) {
	h.Set("X-RateLimit-Limit", "50")
	h.Set("X-RateLimit-Remaining", "49")
	h.Set("X-RateLimit-Reset", formatSeconds(float64(time.Now().Add(time.Second).UnixMilli())/1000))
	h.Set("X-RateLimit-Reset-After", "1.000")
	h.Set("X-RateLimit-Bucket", bucketOf(route))
}

func formatSeconds(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

// bucketOf derives a stable opaque bucket id from a route, like Discord's
// 32-hex-digit hashes.
func bucketOf(route string) string {
	sum := sha256.Sum256([]byte(route))
	return hex.EncodeToString(sum[:16])
}
