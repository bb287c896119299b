package discordtest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Options configures a simulated Discord. Zero values get defaults so a test
// only names what it cares about.
type Options struct {
	// BotToken is the secret the bot must present: "Bot <token>" in the
	// Authorization header on REST, and the token (with or without the "Bot "
	// prefix) in IDENTIFY. A wrong token gets REST 401 and gateway close 4004,
	// which is how a misconfigured deployment fails against real Discord.
	BotToken string
	// BotUserID is the bot's user id; default "100000000000000001".
	BotUserID string
	// BotUsername is the bot's username; default "Tzurot".
	BotUsername string
	// ApplicationID is the application owning the slash commands and
	// interaction webhooks; default BotUserID, as for real bots.
	ApplicationID string
}

// maxRequestsKept bounds the request log so a long `tzurot dev` session does
// not grow without limit; tests never get near it.
const maxRequestsKept = 100000

// Server is one simulated Discord: its guilds, channels, users, messages,
// webhooks, commands and gateway sessions. All methods are safe for
// concurrent use.
type Server struct {
	opts Options
	ln   net.Listener
	http *http.Server
	api  *http.ServeMux
	// tokenRoutes are routes authorised by a token in the path; set once by
	// routes() before serving, read-only afterwards.
	tokenRoutes map[string]bool
	upgrader    websocket.Upgrader
	wg          sync.WaitGroup
	client      *http.Client

	mu     sync.Mutex
	closed bool
	ids    snowflakes
	bot    *discordgo.User

	users       map[string]*discordgo.User
	guilds      map[string]*guildState
	guildOrder  []string
	channels    map[string]*channelState
	webhooks    map[string]*webhookState
	attachments map[string]attachmentData

	posts     []WebhookPost
	changed   chan struct{} // closed and replaced whenever messages or posts change
	typing    map[string]int
	requests  []Request
	failRules []*failRule
	limiter   randomLimiter

	globalCommands    []*discordgo.ApplicationCommand
	guildCommands     map[string][]*discordgo.ApplicationCommand
	interactions      map[string]*interactionState // by id
	interactionTokens map[string]*interactionState // by token

	sessions map[string]*gwSession
	conns    map[*gwConn]struct{}
}

// guildState is a guild plus the ids of what lives in it, in creation order.
type guildState struct {
	guild    *discordgo.Guild
	channels []string // text channels and threads
	members  map[string]*discordgo.Member
	order    []string // member user ids
}

// channelState is a channel (or thread, or DM) and its history.
type channelState struct {
	ch       *discordgo.Channel
	messages []*discordgo.Message // ascending id
}

// attachmentData is a file served by the simulated CDN.
type attachmentData struct {
	contentType string
	data        []byte
}

// New starts a simulator on 127.0.0.1 with a kernel-chosen port. Close it
// when done.
func New(opts Options) (*Server, error) {
	if opts.BotUserID == "" {
		opts.BotUserID = "100000000000000001"
	}
	if opts.BotUsername == "" {
		opts.BotUsername = "Tzurot"
	}
	if opts.ApplicationID == "" {
		opts.ApplicationID = opts.BotUserID
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("discordtest: listen: %w", err)
	}
	s := &Server{
		opts:              opts,
		ln:                ln,
		upgrader:          websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		users:             map[string]*discordgo.User{},
		guilds:            map[string]*guildState{},
		channels:          map[string]*channelState{},
		webhooks:          map[string]*webhookState{},
		attachments:       map[string]attachmentData{},
		changed:           make(chan struct{}),
		typing:            map[string]int{},
		guildCommands:     map[string][]*discordgo.ApplicationCommand{},
		interactions:      map[string]*interactionState{},
		interactionTokens: map[string]*interactionState{},
		sessions:          map[string]*gwSession{},
		conns:             map[*gwConn]struct{}{},
		bot: &discordgo.User{
			ID:            opts.BotUserID,
			Username:      opts.BotUsername,
			Discriminator: "0",
			Bot:           true,
			Verified:      true,
		},
	}
	s.users[s.bot.ID] = s.bot
	s.api = s.routes()
	s.client = s.newHTTPClient()
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.http.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return s, nil
}

// URL is the simulator's base URL, http://127.0.0.1:PORT.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// GatewayURL is the websocket URL GET /gateway hands out.
func (s *Server) GatewayURL() string { return "ws://" + s.ln.Addr().String() + "/gateway" }

// BotUser returns the bot's own user, as READY and GET /users/@me show it.
func (s *Server) BotUser() *discordgo.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clone(s.bot)
}

// ApplicationID is the application the bot's commands and interactions
// belong to.
func (s *Server) ApplicationID() string { return s.opts.ApplicationID }

// Close drops every gateway connection and stops the server. Close the
// discordgo sessions first: a session that loses its server keeps trying to
// reconnect in the background, as it would against real Discord.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := make([]*gwConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
	_ = s.http.Close()
	s.wg.Wait()
}

// ServeHTTP routes by host and path: the gateway websocket, the CDN, and the
// REST API under /api/v9 (v10 and unversioned paths are accepted too).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	switch {
	case r.URL.Path == "/gateway" || r.URL.Path == "/gateway/":
		s.serveGateway(w, r)
	case cdnHosts[host] || strings.HasPrefix(r.URL.Path, "/attachments/"):
		s.serveCDN(w, r)
	case strings.HasPrefix(r.URL.Path, "/api/"):
		s.serveAPI(w, r)
	default:
		writeError(w, http.StatusNotFound, 0, "404: Not Found")
	}
}

// serveCDN answers GET /attachments/{channel}/{attachment}/{filename} with
// bytes stored by WithAttachmentData or a bot upload.
func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a, ok := s.attachments[r.URL.Path]
	s.mu.Unlock()
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.Error(w, "This content is no longer available.", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(a.data)))
	if r.Method == http.MethodGet {
		_, _ = w.Write(a.data)
	}
}

// clone deep-copies a discordgo value through JSON, so that callers and
// server goroutines never share mutable structs. Fields tagged json:"-"
// (message components, for one) are dropped, which is also what a real
// client would see.
func clone[T any](v *T) *T {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("discordtest: clone %T: %v", v, err)) // only our own structs reach here
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("discordtest: clone %T: %v", v, err))
	}
	return out
}

// randomToken returns n url-safe random characters, the alphabet Discord
// uses for webhook and interaction tokens.
func randomToken(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// randomHex returns n random hex digits (session ids).
func randomHex(n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = hex[b[i]%16]
	}
	return string(b)
}
