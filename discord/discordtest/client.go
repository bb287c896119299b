package discordtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// apiHosts are the hosts whose requests are answered by the REST API.
var apiHosts = map[string]bool{
	"discord.com":        true,
	"discordapp.com":     true,
	"www.discord.com":    true,
	"canary.discord.com": true,
	"ptb.discord.com":    true,
}

// cdnHosts are the hosts whose requests are answered by the simulated CDN.
var cdnHosts = map[string]bool{
	"cdn.discordapp.com":   true,
	"media.discordapp.net": true,
}

// HTTPClient returns a client that sends every request for Discord's API and
// CDN hosts to this simulator and refuses all other hosts, so a test can
// never reach the internet by accident. discordgo sessions use it through
// Session.Client; code that downloads attachments should use it too.
func (s *Server) HTTPClient() *http.Client { return s.client }

func (s *Server) newHTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:               nil, // never honour HTTP_PROXY: it could point outside
		DialContext:         s.dialLoopback,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport: &rewriteTransport{self: s.ln.Addr().String(), next: tr},
		Timeout:   20 * time.Second,
	}
}

// dialLoopback is the only dialer the simulator's clients use: it connects to
// this simulator's listener and nothing else.
func (s *Server) dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	if addr != s.ln.Addr().String() {
		return nil, fmt.Errorf("discordtest: refusing to dial %s %s: only the simulator at %s is reachable", network, addr, s.ln.Addr())
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// rewriteTransport points Discord URLs at the simulator. The original host is
// kept in the Host header so the server can tell API from CDN requests.
type rewriteTransport struct {
	self string // 127.0.0.1:PORT
	next http.RoundTripper
}

// RoundTrip rewrites Discord hosts onto the simulator and rejects any other
// destination before a connection is attempted.
func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := strings.ToLower(req.URL.Hostname())
	switch {
	case req.URL.Host == t.self:
		return t.next.RoundTrip(req)
	case apiHosts[host] || cdnHosts[host]:
		out := req.Clone(req.Context())
		out.URL.Scheme = "http"
		out.URL.Host = t.self
		out.Host = host
		return t.next.RoundTrip(out)
	default:
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("discordtest: refusing request to %s: only Discord hosts are simulated", req.URL.Host)
	}
}

// WebsocketDialer returns a gorilla dialer that can only reach this
// simulator; NewSession installs it as Session.Dialer.
func (s *Server) WebsocketDialer() *websocket.Dialer {
	return &websocket.Dialer{
		Proxy:            nil,
		NetDialContext:   s.dialLoopback,
		HandshakeTimeout: 10 * time.Second,
	}
}

// BotIntents are the gateway intents the bot needs and NewSession requests:
// guilds, guild and direct messages, and the privileged message content.
const BotIntents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages |
	discordgo.IntentsDirectMessages | discordgo.IntentsMessageContent

// NewSession returns a discordgo session wired to this simulator (HTTP
// client, loopback-only websocket dialer, BotIntents), ready to Open. Pass
// the bare token; the "Bot " prefix is added as production code does.
func (s *Server) NewSession(token string) (*discordgo.Session, error) {
	sess, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("discordtest: new session: %w", err)
	}
	sess.Client = s.HTTPClient()
	sess.Dialer = s.WebsocketDialer()
	sess.Identify.Intents = BotIntents
	return sess, nil
}

// ClientFor is HTTPClient for a simulator running in another process (at addr,
// "127.0.0.1:PORT"): fault tests run workers as child processes that must reach the
// same simulator. It dials only addr.
func ClientFor(addr string) *http.Client {
	dial := func(ctx context.Context, network, a string) (net.Conn, error) {
		if a != addr {
			return nil, fmt.Errorf("discordtest: refusing to dial %s %s: only the simulator at %s is reachable", network, a, addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", a)
	}
	tr := &http.Transport{Proxy: nil, DialContext: dial, MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}
	return &http.Client{Transport: &rewriteTransport{self: addr, next: tr}, Timeout: 20 * time.Second}
}

// Addr is the simulator's host:port, for ClientFor in another process.
func (s *Server) Addr() string { return s.ln.Addr().String() }
