package llm

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var fixedNow = time.Date(2025, 3, 7, 12, 0, 0, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"Fri, 07 Mar 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Fri, 07 Mar 2025 11:00:00 GMT", 0, true}, // in the past
		{"7s", 7 * time.Second, true},
		{"1m30s", 90 * time.Second, true},
		{"250ms", 250 * time.Millisecond, true},
		{"99999999999", MaxRetryAfter, true},
		{"", 0, false},
		{"-3", 0, false},
		{"-3s", 0, false},
		{"1e3", 0, false},
		{"0x10", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"soon", 0, false},
		{"1_000", 0, false},
		{".", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, fixedNow)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"7", "1.5", "Fri, 07 Mar 2025 12:00:30 GMT", "Monday, 02-Jan-06 15:04:05 MST",
		"1m30s", "-1", "9999999999999999999999", "1e308", "0.000000001", "3h", "\x00", "7 ", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, fixedNow)
		if d < 0 || d > MaxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %v out of range", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v with ok=false", s, d)
		}
	})
}

func TestParseErrorBody(t *testing.T) {
	resetMs := fixedNow.Add(45 * time.Second).UnixMilli()
	tests := []struct {
		name  string
		body  string
		msg   string
		code  string
		retry time.Duration
	}{
		{"openai", `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			"Incorrect API key provided", "invalid_api_key", 0},
		{"openrouter reset header in ms",
			`{"error":{"message":"Rate limit exceeded: free-models-per-min.","code":429,"metadata":{"headers":{"X-RateLimit-Limit":"20","X-RateLimit-Remaining":"0","X-RateLimit-Reset":"` +
				itoa(resetMs) + `"}}}}`,
			"Rate limit exceeded: free-models-per-min.", "429", 45 * time.Second},
		{"metadata retry_after", `{"error":{"message":"busy","code":503,"metadata":{"retry_after":4}}}`, "busy", "503", 4 * time.Second},
		{"string error", `{"error":"model is loading"}`, "model is loading", "", 0},
		{"detail", `{"detail":"Not Found"}`, "Not Found", "", 0},
		{"top-level message", `{"message":"Unauthorized","code":401}`, "Unauthorized", "401", 0},
		{"list of messages", `{"error":{"message":["a is required","b is too long"]}}`, "a is required, b is too long", "", 0},
		{"google array", `[{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}]`, "Quota exceeded", "429", 0},
		{"azure text hint", `{"error":{"code":"429","message":"Please retry after 20 seconds."}}`, "Please retry after 20 seconds.", "429", 20 * time.Second},
		{"plain text", "upstream connect error", "upstream connect error", "", 0},
		{"html", "<html><body>502</body></html>", "", "", 0},
		{"broken json", `{"error": {`, `{"error": {`, "", 0},
		{"empty", "", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pe := parseErrorBody([]byte(tt.body), fixedNow)
			if pe.Message != tt.msg || pe.Code != tt.code || pe.RetryAfter != tt.retry {
				t.Errorf("got %+v, want message %q code %q retry %v", pe, tt.msg, tt.code, tt.retry)
			}
		})
	}
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func FuzzParseErrorBody(f *testing.F) {
	seeds := []string{
		`{"error":{"message":"Incorrect API key provided: sk-abc","type":"invalid_request_error","code":"invalid_api_key"}}`,
		`{"error":{"message":"Provider returned error","code":429,"metadata":{"raw":"{\"error\":{\"message\":\"x\",\"details\":[{\"retryDelay\":\"3s\"}]}}","provider_name":"G"}}}`,
		`{"error":{"message":"r","code":429,"metadata":{"headers":{"X-RateLimit-Reset":"1741305600000","Retry-After":"5"}}}}`,
		`[{"error":{"code":429}}]`, `{"detail":"x"}`, `{"error":"x"}`, `{"error":{"message":["a",1,null]}}`,
		`<html>`, `Please try again in 1m2.5s.`, `{"error":{"code":1e400}}`, "\xff\xfe",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pe := parseErrorBody(body, fixedNow)
		if pe.RetryAfter < 0 || pe.RetryAfter > MaxRetryAfter {
			t.Fatalf("retry %v out of range", pe.RetryAfter)
		}
		for _, status := range []int{200, 401, 429, 503} {
			e := classifyHTTP(status, nil, body, "sk-fuzzkey-0123456789", fixedNow)
			if e == nil || e.Kind == "" {
				t.Fatalf("no classification for %q", body)
			}
			if strings.Contains(e.Error(), "sk-fuzzkey-0123456789") {
				t.Fatalf("key leaked: %q", e.Error())
			}
			if !utf8.ValidString(e.Message) {
				t.Fatalf("invalid UTF-8 message %q", e.Message)
			}
		}
	})
}

func TestClassifyHTTP(t *testing.T) {
	h := http.Header{}
	h.Set("Retry-After", "7")
	tests := []struct {
		status int
		header http.Header
		body   string
		kind   Kind
		retry  time.Duration
	}{
		{401, nil, `{"error":{"message":"bad key"}}`, KindAuth, 0},
		{403, nil, `{"error":{"message":"forbidden"}}`, KindAuth, 0},
		{402, nil, `{"error":{"message":"Insufficient credits","code":402}}`, KindCredit, 0},
		{400, nil, `{"error":{"message":"bad"}}`, KindBadRequest, 0},
		{404, nil, `{"error":{"message":"No endpoints found"}}`, KindBadRequest, 0},
		{413, nil, ``, KindBadRequest, 0},
		{422, nil, ``, KindBadRequest, 0},
		{408, nil, ``, KindTimeout, 0},
		{429, h, ``, KindRateLimit, 7 * time.Second},
		{401, h, ``, KindAuth, 0}, // a hint on a hopeless error is dropped
		{500, nil, ``, KindServer, 0},
		{503, h, ``, KindServer, 7 * time.Second},
		{504, nil, `{"error":{"message":"The model gpt-9 does not exist"}}`, KindBadRequest, 0},
		{429, nil, `{"error":{"code":"insufficient_quota","message":"quota"}}`, KindCredit, 0},
	}
	for _, tt := range tests {
		e := classifyHTTP(tt.status, tt.header, []byte(tt.body), "k", fixedNow)
		if e.Kind != tt.kind || e.RetryAfter != tt.retry || e.Status != tt.status {
			t.Errorf("%d %s: got %#v, want %s retry %v", tt.status, tt.body, e, tt.kind, tt.retry)
		}
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		e    *Error
		want string
	}{
		{&Error{Kind: KindRateLimit, Status: 429, RetryAfter: 7 * time.Second, Message: "Rate limit exceeded"},
			"llm: rate limited (HTTP 429, retry after 7s): Rate limit exceeded"},
		{&Error{Kind: KindAuth, Status: 401, Message: "Incorrect API key provided"},
			"llm: API key rejected (HTTP 401): Incorrect API key provided"},
		{&Error{Kind: KindNetwork, Message: "connection refused"}, "llm: network error: connection refused"},
		{&Error{Kind: KindTimeout}, "llm: timed out"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestShorten(t *testing.T) {
	long := strings.Repeat("ab ", 500)
	if got := shorten(long); utf8.RuneCountInString(got) != maxMessageRunes+1 || !strings.HasSuffix(got, "…") {
		t.Errorf("shorten(long) has %d runes", utf8.RuneCountInString(got))
	}
	if got := shorten(" a\n\tb  "); got != "a b" {
		t.Errorf("shorten = %q", got)
	}
}
