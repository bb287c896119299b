package discordtest

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// discordgo retries 429s itself (sleeping retry_after), so an injected rate
// limit must delay the call, not fail it.
func TestFailNext429IsRetriedByDiscordgo(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess := w.session(t)
	limited := collect[*discordgo.RateLimit](sess)
	hook, err := sess.WebhookCreate(w.channel.ID, "relay", "")
	if err != nil {
		t.Fatal(err)
	}
	w.srv.FailNext("POST /webhooks/{id}/{token}", 2, http.StatusTooManyRequests, 20*time.Millisecond)

	m, err := sess.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "eventually"})
	if err != nil {
		t.Fatalf("WebhookExecute: %v", err)
	}
	if posts := w.srv.WebhookPosts(); len(posts) != 1 || posts[0].MessageID != m.ID {
		t.Errorf("posts = %+v, want exactly one", posts)
	}
	var statuses []int
	for _, r := range w.srv.Requests() {
		if r.Route == "POST /webhooks/{id}/{token}" {
			statuses = append(statuses, r.Status)
		}
	}
	if !reflect.DeepEqual(statuses, []int{429, 429, 200}) {
		t.Errorf("statuses = %v, want [429 429 200]", statuses)
	}
	if rl := recv(t, limited); rl.RetryAfter != 20*time.Millisecond {
		t.Errorf("RateLimit event retry_after = %v", rl.RetryAfter)
	}
}

func TestRateLimitResponseShape(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.FailNext("GET /users/@me", 1, http.StatusTooManyRequests, 50*time.Millisecond)
	req, _ := http.NewRequest("GET", "https://discord.com/api/v9/users/@me", nil)
	req.Header.Set("Authorization", "Bot "+testToken)
	resp, err := w.srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 429 || body["message"] != "You are being rate limited." || body["retry_after"] != 0.05 || body["global"] != false {
		t.Errorf("429 = %d %v", resp.StatusCode, body)
	}
	for h, want := range map[string]string{"Retry-After": "1", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "0.050"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if resp.Header.Get("X-RateLimit-Bucket") == "" {
		t.Error("no X-RateLimit-Bucket")
	}
}

func TestFailNextOtherStatuses(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess := w.session(t)
	tests := []struct {
		route  string
		status int
	}{
		{"POST /channels/{channel}/messages", 500},
		{"POST /channels/" + w.channel.ID + "/messages", 403},
		{"* /channels/{id}/messages", 503},
	}
	for _, tt := range tests {
		w.srv.FailNext(tt.route, 1, tt.status, 0)
		_, err := sess.ChannelMessageSend(w.channel.ID, "hi")
		restError(t, err, tt.status, 0)
	}
	if _, err := sess.ChannelMessageSend(w.channel.ID, "hi"); err != nil {
		t.Errorf("after the injected failures: %v", err)
	}
	w.srv.FailNext("POST /channels/{id}/messages", 1, http.StatusBadGateway, 0)
	if _, err := sess.ChannelMessageSend(w.channel.ID, "discordgo retries a 502"); err != nil {
		t.Errorf("502 then success: %v", err)
	}
}

// The random limiter is seeded: the same seed yields the same 429s.
func TestSetRateLimitRatioIsDeterministic(t *testing.T) {
	t.Parallel()
	run := func() []int {
		w := newWorld(t)
		w.srv.SetRateLimitRatio(0.5, time.Millisecond, 42)
		var statuses []int
		for i := 0; i < 20; i++ {
			req, _ := http.NewRequest("GET", "https://discord.com/api/v9/gateway", nil)
			resp, err := w.srv.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses = append(statuses, resp.StatusCode)
		}
		return statuses
	}
	a, b := run(), run()
	n429 := 0
	for _, s := range a {
		if s == 429 {
			n429++
		}
	}
	if !reflect.DeepEqual(a, b) || n429 == 0 || n429 == len(a) {
		t.Errorf("runs differ or degenerate:\n%v\n%v", a, b)
	}

	// And discordgo still gets through.
	w := newWorld(t)
	w.srv.SetRateLimitRatio(0.3, time.Millisecond, 7)
	sess := w.session(t)
	for i := 0; i < 10; i++ {
		if _, err := sess.ChannelMessageSend(w.channel.ID, "through the storm"); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if n := len(w.srv.Messages(w.channel.ID)); n != 10 {
		t.Errorf("stored %d messages, want 10", n)
	}
}
