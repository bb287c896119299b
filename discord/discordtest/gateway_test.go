package discordtest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

func TestOpenPopulatesState(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess := w.open(t)

	if got := sess.State.User; got == nil || got.ID != "100000000000000001" || got.Username != "Tzurot" || !got.Bot {
		t.Fatalf("State.User = %+v, want the bot", got)
	}
	g, err := sess.State.Guild(w.guild.ID)
	if err != nil {
		t.Fatalf("State.Guild: %v", err)
	}
	if g.Name != "Test Guild" || g.Unavailable || len(g.Channels) != 1 || len(g.Threads) != 1 {
		t.Errorf("guild = %q unavailable=%v channels=%d threads=%d", g.Name, g.Unavailable, len(g.Channels), len(g.Threads))
	}
	th, err := sess.State.Channel(w.thread.ID)
	if err != nil || th.ParentID != w.channel.ID || th.GuildID != w.guild.ID {
		t.Errorf("State.Channel(thread) = %+v, %v", th, err)
	}
	if _, err := sess.State.Member(w.guild.ID, w.user.ID); err != nil {
		t.Errorf("State.Member(alice): %v", err)
	}
	if sess.State.Application == nil || sess.State.Application.ID != w.srv.ApplicationID() || sess.State.SessionID == "" {
		t.Errorf("State.Ready application = %+v, session %q", sess.State.Application, sess.State.SessionID)
	}
	if n := w.srv.ConnectedSessions(); n != 1 {
		t.Errorf("ConnectedSessions = %d, want 1", n)
	}
}

func TestWrongTokenFailsOpenWith4004(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess, err := w.srv.NewSession("wrong")
	if err != nil {
		t.Fatal(err)
	}
	sess.LogLevel = -1
	err = sess.Open()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4004 {
		t.Fatalf("Open = %v, want close 4004", err)
	}
	_, err = sess.User("@me")
	restError(t, err, 401, 0)
}

func TestAddChannelAfterOpenIsDispatched(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess := w.open(t)
	created := collect[*discordgo.ChannelCreate](sess)
	guilds := collect[*discordgo.GuildCreate](sess)

	ch := w.srv.AddChannel(w.guild.ID, "later")
	if got := recv(t, created); got.ID != ch.ID || got.GuildID != w.guild.ID {
		t.Errorf("CHANNEL_CREATE = %+v", got.Channel)
	}
	g := w.srv.AddGuild("Second")
	if got := recv(t, guilds); got.ID != g.ID {
		t.Errorf("GUILD_CREATE id = %s, want %s", got.ID, g.ID)
	}
}

// rawGateway dials the gateway without discordgo and reads HELLO.
func rawGateway(t *testing.T, srv *Server) *websocket.Conn {
	t.Helper()
	c, _, err := srv.WebsocketDialer().Dial(srv.GatewayURL()+"/?v=9&encoding=json", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if op := readOp(t, c); op.Op != 10 {
		t.Fatalf("first op = %d, want HELLO", op.Op)
	}
	return c
}

type rawOp struct {
	Op   int             `json:"op"`
	Seq  int64           `json:"s"`
	Type string          `json:"t"`
	Data json.RawMessage `json:"d"`
}

// readOp reads one payload; a close frame yields Op = -close code.
func readOp(t *testing.T, c *websocket.Conn) rawOp {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	_, data, err := c.ReadMessage()
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return rawOp{Op: -ce.Code}
	}
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var op rawOp
	if err := json.Unmarshal(data, &op); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return op
}

func identifyFrame(token string) string {
	return `{"op":2,"d":{"token":"` + token + `","intents":` + itoa(int(BotIntents)) + `,"properties":{}}}`
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestGatewayProtocol(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tests := []struct {
		name   string
		frames []string
		want   []int // ops expected in order; negative = close code
	}{
		{"heartbeat before identify is acked", []string{`{"op":1,"d":null}`}, []int{11}},
		{"identify sends READY then GUILD_CREATE", []string{identifyFrame("Bot " + testToken)}, []int{0, 0}},
		{"identify without Bot prefix is accepted", []string{identifyFrame(testToken)}, []int{0, 0}},
		{"bad token closes 4004", []string{identifyFrame("nope")}, []int{-4004}},
		{"garbage closes 4002", []string{`{not json`}, []int{-4002}},
		{"unknown opcode closes 4001", []string{`{"op":99,"d":{}}`}, []int{-4001}},
		{"presence before identify closes 4003", []string{`{"op":3,"d":{}}`}, []int{-4003}},
		{"second identify closes 4005", []string{identifyFrame(testToken), identifyFrame(testToken)}, []int{0, 0, -4005}},
		{"resume of unknown session is invalid", []string{`{"op":6,"d":{"token":"` + testToken + `","session_id":"x","seq":3}}`}, []int{9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := rawGateway(t, w.srv)
			for _, f := range tt.frames {
				if err := c.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			for i, want := range tt.want {
				if got := readOp(t, c); got.Op != want {
					t.Fatalf("op %d = %d (%s %s), want %d", i, got.Op, got.Type, got.Data, want)
				}
			}
		})
	}
}

func TestGatewaySequenceAndResume(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := rawGateway(t, w.srv)
	_ = c.WriteMessage(websocket.TextMessage, []byte(identifyFrame(testToken)))
	ready := readOp(t, c)
	var r struct {
		SessionID string `json:"session_id"`
		Resume    string `json:"resume_gateway_url"`
	}
	_ = json.Unmarshal(ready.Data, &r)
	if ready.Type != "READY" || ready.Seq != 1 || r.SessionID == "" || !strings.HasPrefix(r.Resume, "ws://127.0.0.1:") {
		t.Fatalf("READY = %+v (%s)", ready, ready.Data)
	}
	if gc := readOp(t, c); gc.Type != "GUILD_CREATE" || gc.Seq != 2 {
		t.Fatalf("second dispatch = %s seq %d", gc.Type, gc.Seq)
	}
	_ = c.Close() // abrupt: the session stays resumable

	for w.srv.ConnectedSessions() != 0 {
		time.Sleep(time.Millisecond)
	}
	w.srv.Say(w.channel.ID, w.user.ID, "while you were away")

	c2 := rawGateway(t, w.srv)
	_ = c2.WriteMessage(websocket.TextMessage, []byte(`{"op":6,"d":{"token":"Bot `+testToken+`","session_id":"`+r.SessionID+`","seq":2}}`))
	if m := readOp(t, c2); m.Type != "MESSAGE_CREATE" || m.Seq != 3 {
		t.Fatalf("replayed = %s seq %d, want MESSAGE_CREATE 3", m.Type, m.Seq)
	}
	if m := readOp(t, c2); m.Type != "RESUMED" || m.Seq != 4 {
		t.Fatalf("after replay = %s seq %d, want RESUMED 4", m.Type, m.Seq)
	}
}

// discordgo must RESUME (not re-IDENTIFY) after a network drop or an op 7,
// and get what was dispatched meanwhile.
func TestSessionResumes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cause func(*Server)
	}{
		{"dropped connection", (*Server).DropConnections},
		{"op 7 reconnect", (*Server).RequestReconnect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			sess := w.open(t)
			resumed := collect[*discordgo.Resumed](sess)
			ready := collect[*discordgo.Ready](sess)
			msgs := collect[*discordgo.MessageCreate](sess)

			tt.cause(w.srv)
			m := w.srv.Say(w.channel.ID, w.user.ID, "while reconnecting")
			recv(t, resumed)
			if got := recv(t, msgs); got.ID != m.ID {
				t.Errorf("got message %s, want %s", got.ID, m.ID)
			}
			select {
			case <-ready:
				t.Error("session identified again instead of resuming")
			default:
			}
		})
	}
}
