package discordtest

import (
	"errors"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

const testToken = "test-bot-token-ABCDEF123456"

// waitLimit only guards against a hung test; no test asserts on timing.
const waitLimit = 15 * time.Second

// world is a simulator with one guild, one channel, one thread and a user.
type world struct {
	srv     *Server
	guild   *discordgo.Guild
	channel *discordgo.Channel
	thread  *discordgo.Channel
	user    *discordgo.User
}

func newWorld(t *testing.T) *world {
	t.Helper()
	srv, err := New(Options{BotToken: testToken})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(srv.Close)
	w := &world{srv: srv}
	w.user = srv.AddUser("alice", "Alice")
	w.guild = srv.AddGuild("Test Guild")
	w.channel = srv.AddChannel(w.guild.ID, "general")
	w.thread = srv.AddThread(w.channel.ID, "a thread")
	return w
}

// session returns an unopened session; it is closed at cleanup (before the
// server, since cleanups run last-in first-out).
func (w *world) session(t *testing.T) *discordgo.Session {
	t.Helper()
	sess, err := w.srv.NewSession(testToken)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	sess.LogLevel = discordgo.LogError
	t.Cleanup(func() { _ = sess.Close() })
	return sess
}

// open returns an opened session whose GUILD_CREATEs have all arrived.
func (w *world) open(t *testing.T) *discordgo.Session {
	t.Helper()
	sess := w.session(t)
	guilds := make(chan *discordgo.GuildCreate, 8)
	remove := sess.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildCreate) { guilds <- g })
	if err := sess.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	recv(t, guilds)
	remove()
	return sess
}

// collect registers a handler that forwards events of type T.
func collect[T any](sess *discordgo.Session) chan T {
	ch := make(chan T, 64)
	sess.AddHandler(func(_ *discordgo.Session, ev T) { ch <- ev })
	return ch
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		var zero T
		t.Fatalf("timed out waiting for %T", zero)
		return zero
	}
}

// restError asserts err is a Discord REST error with the given status and
// JSON code.
func restError(t *testing.T, err error, status, code int) {
	t.Helper()
	var re *discordgo.RESTError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v (%T), want *discordgo.RESTError", err, err)
	}
	if re.Response.StatusCode != status {
		t.Errorf("status = %d, want %d (body %s)", re.Response.StatusCode, status, re.ResponseBody)
	}
	if re.Message == nil || re.Message.Code != code {
		t.Errorf("body = %s, want code %d", re.ResponseBody, code)
	}
}

func webhookText(content string) *discordgo.WebhookParams {
	return &discordgo.WebhookParams{Content: content}
}
