package discordtest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Gateway limits. The heartbeat interval is Discord's usual one; the others
// bound what a stuck or vanished client can make the simulator hold.
const (
	heartbeatIntervalMS = 41250
	maxClientPayload    = 64 << 10
	maxQueuedFrames     = 10000
	writeTimeout        = 10 * time.Second
	closeGrace          = 2 * time.Second
)

// Gateway close codes the simulator uses (Discord's own numbers).
const (
	closeUnknownOpcode     = 4001
	closeDecodeError       = 4002
	closeNotAuthenticated  = 4003
	closeAuthFailed        = 4004
	closeAlreadyAuthed     = 4005
	closeInvalidShard      = 4010
	closeInvalidAPIVersion = 4012
)

// gwConn is one websocket connection. Frames are queued under the Server
// mutex (so every session sees dispatches in one global order) and written by
// a dedicated goroutine, so a slow client never blocks the simulator.
type gwConn struct {
	ws *websocket.Conn

	mu         sync.Mutex
	queue      [][]byte
	closeFrame []byte // set once a close is requested; later frames are dropped
	dead       bool
	wake       chan struct{}
	done       chan struct{}

	sess *gwSession // guarded by Server.mu; nil until IDENTIFY or RESUME
}

// serveGateway upgrades to a websocket, says HELLO and runs the read loop.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "simulator closed", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1) // under the lock: Close cannot be waiting yet
	s.mu.Unlock()
	defer s.wg.Done()

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader already answered with an HTTP error
	}
	c := &gwConn{ws: ws, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.writeLoop()
	}()

	c.enqueue(mustJSON(map[string]any{"op": 10, "s": nil, "t": nil, "d": map[string]any{"heartbeat_interval": heartbeatIntervalMS}}))
	q := r.URL.Query()
	switch {
	case q.Get("v") != "" && q.Get("v") != "9" && q.Get("v") != "10":
		c.closeWith(closeInvalidAPIVersion, "Invalid API version.")
	case q.Get("encoding") != "" && q.Get("encoding") != "json":
		c.closeWith(closeDecodeError, "Error while decoding payload.")
	}
	s.readLoop(c)
}

// readLoop handles client frames until the connection ends, then detaches
// the session so that it can be resumed (or forgets it after a clean close).
func (s *Server) readLoop(c *gwConn) {
	code := websocket.CloseAbnormalClosure
	defer func() {
		c.kill()
		s.connGone(c, code)
	}()
	c.ws.SetReadLimit(maxClientPayload)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				code = ce.Code
			}
			return
		}
		s.handleFrame(c, data)
	}
}

func (s *Server) handleFrame(c *gwConn, data []byte) {
	var p struct {
		Op *int            `json:"op"`
		D  json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(data, &p); err != nil || p.Op == nil {
		c.closeWith(closeDecodeError, "Error while decoding payload.")
		return
	}
	switch *p.Op {
	case 1: // heartbeat
		c.enqueue([]byte(`{"op":11,"s":null,"t":null,"d":null}`))
	case 2:
		s.identify(c, p.D)
	case 6:
		s.resume(c, p.D)
	case 3, 4, 8: // presence, voice state, request guild members: accepted, ignored
		s.mu.Lock()
		authed := c.sess != nil
		s.mu.Unlock()
		if !authed {
			c.closeWith(closeNotAuthenticated, "Not authenticated.")
		}
	default:
		c.closeWith(closeUnknownOpcode, "Unknown opcode.")
	}
}

// tokenOK accepts the bot token with or without the "Bot " prefix, as the
// gateway does.
func (s *Server) tokenOK(tok string) bool {
	return strings.TrimPrefix(tok, "Bot ") == s.opts.BotToken
}

func (s *Server) identify(c *gwConn, raw json.RawMessage) {
	var d struct {
		Token   string  `json:"token"`
		Intents *int64  `json:"intents"`
		Shard   *[2]int `json:"shard"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		c.closeWith(closeDecodeError, "Error while decoding payload.")
		return
	}
	if !s.tokenOK(d.Token) {
		c.closeWith(closeAuthFailed, "Authentication failed.")
		return
	}
	if d.Shard != nil && (d.Shard[1] < 1 || d.Shard[0] < 0 || d.Shard[0] >= d.Shard[1]) {
		c.closeWith(closeInvalidShard, "Invalid shard.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.sess != nil {
		c.closeWith(closeAlreadyAuthed, "Already authenticated.")
		return
	}
	sess := &gwSession{id: randomHex(32), conn: c, shard: d.Shard}
	if d.Intents != nil {
		sess.intents = *d.Intents
	}
	s.sessions[sess.id] = sess
	c.sess = sess
	s.pruneSessionsLocked()
	s.sendLocked(sess, "READY", s.readyPayloadLocked(sess))
	if sess.intents&intentGuilds != 0 {
		for _, gid := range s.guildOrder {
			if sess.handlesGuild(gid) {
				s.sendLocked(sess, "GUILD_CREATE", s.guildPayloadLocked(s.guilds[gid]))
			}
		}
	}
}

func (s *Server) resume(c *gwConn, raw json.RawMessage) {
	var d struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		c.closeWith(closeDecodeError, "Error while decoding payload.")
		return
	}
	if !s.tokenOK(d.Token) {
		c.closeWith(closeAuthFailed, "Authentication failed.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.sess != nil {
		c.closeWith(closeAlreadyAuthed, "Already authenticated.")
		return
	}
	sess, ok := s.sessions[d.SessionID]
	if !ok || !sess.canReplayFrom(d.Seq) {
		// Not resumable: the client must IDENTIFY again (discordgo does so on
		// this same connection).
		c.enqueue([]byte(`{"op":9,"s":null,"t":null,"d":false}`))
		return
	}
	if old := sess.conn; old != nil && old != c {
		old.sess = nil
		old.kill()
	}
	sess.conn = c
	c.sess = sess
	for _, f := range sess.backlog {
		if f.seq > d.Seq {
			c.enqueue(f.data)
		}
	}
	s.sendLocked(sess, "RESUMED", map[string]any{"_trace": []string{`["discordtest"]`}})
}

// connGone forgets a finished connection. A session closed with 1000 or 1001
// is invalidated, as Discord does; any other ending leaves it resumable.
func (s *Server) connGone(c *gwConn, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	sess := c.sess
	if sess == nil || sess.conn != c {
		return
	}
	sess.conn = nil
	sess.lastSeen = time.Now()
	if code == websocket.CloseNormalClosure || code == websocket.CloseGoingAway {
		delete(s.sessions, sess.id)
	}
}

// enqueue queues a text frame; it drops frames once a close was requested and
// kills a connection whose client stopped reading.
func (c *gwConn) enqueue(frame []byte) {
	c.mu.Lock()
	if c.dead || c.closeFrame != nil {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= maxQueuedFrames {
		c.mu.Unlock()
		c.kill()
		return
	}
	c.queue = append(c.queue, frame)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// closeWith sends a close frame after everything already queued.
func (c *gwConn) closeWith(code int, text string) {
	c.mu.Lock()
	if c.closeFrame == nil && !c.dead {
		c.closeFrame = websocket.FormatCloseMessage(code, text)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// kill drops the connection at once, like a network failure.
func (c *gwConn) kill() {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead = true
	close(c.done)
	c.mu.Unlock()
	_ = c.ws.Close()
}

func (c *gwConn) writeLoop() {
	for {
		c.mu.Lock()
		q, cf, dead := c.queue, c.closeFrame, c.dead
		c.queue = nil
		c.mu.Unlock()
		if dead {
			return
		}
		for _, frame := range q {
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := c.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
				c.kill()
				return
			}
		}
		if cf != nil {
			_ = c.ws.WriteControl(websocket.CloseMessage, cf, time.Now().Add(writeTimeout))
			// Let the client read the close frame and hang up; the read loop
			// ends on its hang-up or on this deadline.
			_ = c.ws.SetReadDeadline(time.Now().Add(closeGrace))
			return
		}
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("discordtest: marshal: " + err.Error()) // only our own payloads reach here
	}
	return b
}
