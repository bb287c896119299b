package discordtest

import (
	"sort"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Session bookkeeping limits: enough for any test and for a human session of
// several hours, small enough that a flapping client cannot exhaust memory.
const (
	maxBacklog         = 1000
	maxIdleSessions    = 32
	intentGuilds       = int64(discordgo.IntentsGuilds)
	intentGuildMsgs    = int64(discordgo.IntentsGuildMessages)
	intentDirectMsgs   = int64(discordgo.IntentsDirectMessages)
	intentMsgContent   = int64(discordgo.IntentsMessageContent)
	readyGuildsVersion = 9
)

// gwSession is a gateway session: what IDENTIFY created and RESUME can pick
// up again. It outlives its connection so that missed dispatches replay.
type gwSession struct {
	id       string
	intents  int64
	shard    *[2]int
	seq      int64
	backlog  []gwFrame // recent dispatches, oldest first, for RESUME
	conn     *gwConn   // nil while disconnected
	lastSeen time.Time
}

type gwFrame struct {
	seq  int64
	data []byte
}

// canReplayFrom reports whether every dispatch after seq is still held.
func (g *gwSession) canReplayFrom(seq int64) bool {
	if seq > g.seq || seq < 0 {
		return false
	}
	if seq == g.seq {
		return true
	}
	return len(g.backlog) > 0 && g.backlog[0].seq <= seq+1
}

// handlesGuild applies Discord's shard formula, (guild_id >> 22) % num_shards.
func (g *gwSession) handlesGuild(guildID string) bool {
	if g.shard == nil || g.shard[1] <= 1 {
		return true
	}
	if guildID == "" {
		return g.shard[0] == 0 // DMs go to shard 0
	}
	id, _ := strconv.ParseUint(guildID, 10, 64)
	return int((id>>22)%uint64(g.shard[1])) == g.shard[0]
}

// sendLocked gives a dispatch the session's next sequence number, keeps it
// for RESUME and queues it on the live connection if there is one.
func (s *Server) sendLocked(sess *gwSession, event string, data any) {
	sess.seq++
	frame := mustJSON(struct {
		Op   int    `json:"op"`
		Seq  int64  `json:"s"`
		Type string `json:"t"`
		Data any    `json:"d"`
	}{0, sess.seq, event, data})
	sess.backlog = append(sess.backlog, gwFrame{sess.seq, frame})
	if len(sess.backlog) > maxBacklog {
		sess.backlog = append([]gwFrame(nil), sess.backlog[len(sess.backlog)-maxBacklog:]...)
	}
	if sess.conn != nil {
		sess.conn.enqueue(frame)
	}
}

// dispatchLocked sends an event to every session the filter admits.
func (s *Server) dispatchLocked(event string, data any, admit func(*gwSession) bool) {
	if s.closed {
		return
	}
	for _, sess := range s.sessions {
		if admit == nil || admit(sess) {
			s.sendLocked(sess, event, data)
		}
	}
}

// guildEvent admits sessions that asked for GUILDS and own the guild's shard.
func guildEvent(guildID string) func(*gwSession) bool {
	return func(g *gwSession) bool { return g.intents&intentGuilds != 0 && g.handlesGuild(guildID) }
}

// dispatchMessageLocked sends MESSAGE_CREATE or MESSAGE_UPDATE with Discord's
// intent rules: guild messages need GUILD_MESSAGES, DMs DIRECT_MESSAGES, and
// without MESSAGE_CONTENT a guild message that neither comes from the bot nor
// mentions it arrives with empty content, embeds and attachments.
func (s *Server) dispatchMessageLocked(event string, m *discordgo.Message) {
	if s.closed {
		return
	}
	need := intentDirectMsgs
	if m.GuildID != "" {
		need = intentGuildMsgs
	}
	for _, sess := range s.sessions {
		if sess.intents&need == 0 || !sess.handlesGuild(m.GuildID) {
			continue
		}
		payload := m
		if m.GuildID != "" && sess.intents&intentMsgContent == 0 && !s.botSeesContent(m) {
			stripped := *m
			stripped.Content = ""
			stripped.Embeds = []*discordgo.MessageEmbed{}
			stripped.Attachments = []*discordgo.MessageAttachment{}
			payload = &stripped
		}
		s.sendLocked(sess, event, payload)
	}
}

func (s *Server) botSeesContent(m *discordgo.Message) bool {
	if m.Author != nil && m.Author.ID == s.bot.ID {
		return true
	}
	for _, u := range m.Mentions {
		if u.ID == s.bot.ID {
			return true
		}
	}
	return false
}

func (s *Server) dispatchMessageDeleteLocked(m *discordgo.Message) {
	data := map[string]string{"id": m.ID, "channel_id": m.ChannelID}
	if m.GuildID != "" {
		data["guild_id"] = m.GuildID
	}
	need := intentDirectMsgs
	if m.GuildID != "" {
		need = intentGuildMsgs
	}
	s.dispatchLocked("MESSAGE_DELETE", data, func(g *gwSession) bool {
		return g.intents&need != 0 && g.handlesGuild(m.GuildID)
	})
}

func (s *Server) dispatchGuildCreateLocked(gs *guildState) {
	s.dispatchLocked("GUILD_CREATE", s.guildPayloadLocked(gs), guildEvent(gs.guild.ID))
}

// readyPayloadLocked mirrors Discord's READY for a bot: guilds listed as
// unavailable (GUILD_CREATE follows for each), no private channels.
func (s *Server) readyPayloadLocked(sess *gwSession) any {
	type unavailable struct {
		ID          string `json:"id"`
		Unavailable bool   `json:"unavailable"`
	}
	guilds := []unavailable{}
	for _, gid := range s.guildOrder {
		if sess.handlesGuild(gid) {
			guilds = append(guilds, unavailable{gid, true})
		}
	}
	return map[string]any{
		"v":                   readyGuildsVersion,
		"user":                s.bot,
		"guilds":              guilds,
		"session_id":          sess.id,
		"session_type":        "normal",
		"resume_gateway_url":  s.GatewayURL(),
		"shard":               sess.shard,
		"application":         map[string]any{"id": s.opts.ApplicationID, "flags": 0},
		"private_channels":    []any{},
		"relationships":       []any{},
		"presences":           []any{},
		"guild_join_requests": []any{},
		"user_settings":       map[string]any{},
		"_trace":              []string{`["discordtest"]`},
	}
}

// pruneSessionsLocked forgets the oldest disconnected sessions beyond
// maxIdleSessions; a client returning for one of them must IDENTIFY again.
func (s *Server) pruneSessionsLocked() {
	var idle []*gwSession
	for _, sess := range s.sessions {
		if sess.conn == nil {
			idle = append(idle, sess)
		}
	}
	if len(idle) <= maxIdleSessions {
		return
	}
	sort.Slice(idle, func(i, j int) bool { return idle[i].lastSeen.Before(idle[j].lastSeen) })
	for _, sess := range idle[:len(idle)-maxIdleSessions] {
		delete(s.sessions, sess.id)
	}
}

// ConnectedSessions counts gateway sessions that have identified (or resumed)
// and are connected now; tests use it to wait for every bot replica.
func (s *Server) ConnectedSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sess := range s.sessions {
		if sess.conn != nil {
			n++
		}
	}
	return n
}

// RequestReconnect sends op 7 RECONNECT on every connection, as Discord does
// before a gateway restart; clients are expected to RESUME.
func (s *Server) RequestReconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.enqueue([]byte(`{"op":7,"s":null,"t":null,"d":null}`))
	}
}

// DropConnections cuts every gateway connection without a close frame, like a
// network failure. Sessions stay resumable and keep collecting dispatches.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := make([]*gwConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
}
