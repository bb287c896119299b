package discordtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// call makes a raw REST call through the simulator's client.
func call(t *testing.T, srv *Server, method, url, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if resp.Header.Get("X-RateLimit-Bucket") == "" {
		t.Errorf("%s %s: no rate-limit headers", method, url)
	}
	return resp.StatusCode, out
}

func TestRESTErrorsLikeDiscord(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	bot := "Bot " + testToken
	api := "https://discord.com/api/v9"
	tests := []struct {
		name, method, url, auth, body string
		status                        int
		code                          float64
		message                       string
	}{
		{"unknown route", "GET", api + "/nope/nope", bot, "", 404, 0, "404: Not Found"},
		{"wrong method", "PUT", api + "/channels/" + w.channel.ID + "/messages", bot, "", 405, 0, "405: Method Not Allowed"},
		{"no auth", "GET", api + "/users/@me", "", "", 401, 0, "401: Unauthorized"},
		{"wrong auth", "GET", api + "/users/@me", "Bot nope", "", 401, 0, "401: Unauthorized"},
		{"bearer instead of bot", "GET", api + "/users/@me", "Bearer " + testToken, "", 401, 0, "401: Unauthorized"},
		{"invalid json", "POST", api + "/channels/" + w.channel.ID + "/messages", bot, "{", 400, 50109, "The request body contains invalid JSON."},
		{"unknown channel", "GET", api + "/channels/1", bot, "", 404, 10003, "Unknown Channel"},
		{"unknown message", "GET", api + "/channels/" + w.channel.ID + "/messages/1", bot, "", 404, 10008, "Unknown Message"},
		{"unknown user", "GET", api + "/users/1", bot, "", 404, 10013, "Unknown User"},
		{"gateway needs no auth", "GET", api + "/gateway", "", "", 200, 0, ""},
		{"v10 works too", "GET", "https://discord.com/api/v10/users/@me", bot, "", 200, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, w.srv, tt.method, tt.url, tt.auth, tt.body)
			if status != tt.status {
				t.Fatalf("status = %d, want %d (%v)", status, tt.status, body)
			}
			if tt.status >= 400 && (body["code"] != tt.code || body["message"] != tt.message) {
				t.Errorf("body = %v, want code %v message %q", body, tt.code, tt.message)
			}
		})
	}
	_, gw := call(t, w.srv, "GET", api+"/gateway/bot", bot, "")
	if u, _ := gw["url"].(string); u != w.srv.GatewayURL() || !strings.HasPrefix(u, "ws://127.0.0.1:") {
		t.Errorf("gateway url = %v", gw["url"])
	}
}

func TestRequestsNeverHoldSecrets(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess := w.open(t)
	hook, err := sess.WebhookCreate(w.channel.ID, "relay", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.WebhookExecute(hook.ID, hook.Token, true, webhookText("hi")); err != nil {
		t.Fatal(err)
	}
	bad, _ := w.srv.NewSession("wrong-secret-token")
	bad.LogLevel = -1
	_, _ = bad.User("@me")

	reqs := w.srv.Requests()
	if len(reqs) < 4 {
		t.Fatalf("only %d requests recorded", len(reqs))
	}
	dump := fmt.Sprintf("%+v", reqs)
	for _, secret := range []string{testToken, hook.Token, "wrong-secret-token"} {
		if strings.Contains(dump, secret) {
			t.Errorf("Requests contain a secret %q: %s", secret, dump)
		}
	}
	if !strings.Contains(dump, "/api/v9/webhooks/"+hook.ID+"/REDACTED") {
		t.Errorf("webhook path not recorded in redacted form: %s", dump)
	}
}

func TestHTTPClientStaysOnLoopback(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	client := w.srv.HTTPClient()
	for _, url := range []string{
		"https://example.com/",
		"http://192.0.2.1/",
		"http://127.0.0.1:1/", // loopback, but not the simulator
		"https://gateway.discord.gg.evil.example/",
	} {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET %s succeeded; the client must refuse it", url)
		} else if !strings.Contains(err.Error(), "discordtest: refusing") {
			t.Errorf("GET %s: %v, want a refusal before dialing", url, err)
		}
	}
	for _, addr := range []string{"8.8.8.8:53", "[::1]:80", "localhost:443"} {
		if c, err := w.srv.dialLoopback(context.Background(), "tcp", addr); err == nil {
			c.Close()
			t.Errorf("dialLoopback(%s) connected", addr)
		}
	}
	if _, _, err := w.srv.WebsocketDialer().Dial("ws://192.0.2.1/gateway", nil); err == nil {
		t.Error("websocket dialer reached outside the simulator")
	}
	resp, err := client.Get("https://discord.com/api/v9/gateway")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("discord.com via the client = %d", resp.StatusCode)
	}
}

func TestSnowflakesIncrease(t *testing.T) {
	t.Parallel()
	var g snowflakes
	prev := uint64(0)
	now := snowflakeTime(1 << 40) // a fixed clock: ids must still grow
	for i := 0; i < 1000; i++ {
		id, ts := g.next(now)
		v, ok := parseSnowflake(id)
		if !ok || v <= prev {
			t.Fatalf("id %d = %s after %d", i, id, prev)
		}
		if i == 0 && !ts.Equal(now) {
			t.Fatalf("first timestamp %v, want %v", ts, now)
		}
		prev = v
	}
}
