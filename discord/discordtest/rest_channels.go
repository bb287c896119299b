package discordtest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

func (s *Server) getGateway(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"url": s.GatewayURL()})
}

func (s *Server) getGatewayBot(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"url":    s.GatewayURL(),
		"shards": 1,
		"session_start_limit": map[string]int{
			"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1,
		},
	})
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.BotUser())
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	u, ok := s.users[r.PathValue("id")]
	u = clone(u)
	s.mu.Unlock()
	if !ok {
		notFound(w, "User")
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) createDM(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RecipientID string `json:"recipient_id"`
	}
	if _, ok := decodeBody(w, r, &body); !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[body.RecipientID]
	if !ok || u.ID == s.bot.ID {
		writeError(w, http.StatusBadRequest, 50033, "Invalid Recipient(s)")
		return
	}
	writeJSON(w, http.StatusOK, s.dmLocked(u).ch)
}

func (s *Server) getGuild(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, ok := s.guilds[r.PathValue("id")]
	if !ok {
		notFound(w, "Guild")
		return
	}
	g := *gs.guild // REST guilds carry no channels, members or threads
	writeJSON(w, http.StatusOK, &g)
}

func (s *Server) getGuildChannels(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, ok := s.guilds[r.PathValue("id")]
	if !ok {
		notFound(w, "Guild")
		return
	}
	out := []*discordgo.Channel{}
	for _, id := range gs.channels {
		if ch := s.channels[id].ch; !isThread(ch) {
			out = append(out, ch)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getMember(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, ok := s.guilds[r.PathValue("id")]
	if !ok {
		notFound(w, "Guild")
		return
	}
	m, ok := gs.members[r.PathValue("user")]
	if !ok {
		notFound(w, "Member")
		return
	}
	out := *m
	out.GuildID = ""
	writeJSON(w, http.StatusOK, &out)
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.pathChannelLocked(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, cs.ch)
}

func (s *Server) getMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			writeFormError(w, "limit", "NUMBER_TYPE_COERCE", "Value \""+v+"\" is not int.")
			return
		case n < 1:
			writeFormError(w, "limit", "NUMBER_TYPE_MIN", "int value should be greater than or equal to 1.")
			return
		case n > 100:
			writeFormError(w, "limit", "NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")
			return
		}
		limit = n
	}
	bounds := map[string]uint64{}
	for _, k := range []string{"before", "after", "around"} {
		if v := q.Get(k); v != "" {
			id, ok := parseSnowflake(v)
			if !ok {
				writeFormError(w, k, "NUMBER_TYPE_COERCE", "Value \""+v+"\" is not snowflake.")
				return
			}
			bounds[k] = id
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.pathChannelLocked(w, r)
	if !ok {
		return
	}
	page := history(cs.messages, limit, bounds["before"], bounds["after"], bounds["around"])
	out := make([]*discordgo.Message, len(page))
	for i, m := range page {
		out[i] = restMessage(m)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m, ok := s.pathMessageLocked(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, restMessage(m))
}

// messageBody is what the bot sends to create or edit a message. Components
// stay raw: discordgo's interface-typed slice cannot be decoded.
type messageBody struct {
	Content          *string                        `json:"content"`
	Embeds           *[]*discordgo.MessageEmbed     `json:"embeds"`
	MessageReference *discordgo.MessageReference    `json:"message_reference"`
	StickerIDs       []string                       `json:"sticker_ids"`
	Flags            discordgo.MessageFlags         `json:"flags"`
	TTS              bool                           `json:"tts"`
	Attachments      []*discordgo.MessageAttachment `json:"attachments"`
}

func (b *messageBody) content() string {
	if b.Content == nil {
		return ""
	}
	return *b.Content
}

func (b *messageBody) embeds() []*discordgo.MessageEmbed {
	if b.Embeds == nil {
		return nil
	}
	return *b.Embeds
}

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	var body messageBody
	files, ok := decodeBody(w, r, &body)
	if !ok || !validateMessage(w, body.content(), body.embeds(), len(files)+len(body.StickerIDs)) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.pathChannelLocked(w, r)
	if !ok {
		return
	}
	var ref *discordgo.Message
	if mr := body.MessageReference; mr != nil && mr.MessageID != "" {
		refCh := cs
		if mr.ChannelID != "" && mr.ChannelID != cs.ch.ID {
			refCh = s.channels[mr.ChannelID]
		}
		if refCh != nil {
			ref = findMessage(refCh, mr.MessageID)
		}
		if ref == nil && (mr.FailIfNotExists == nil || *mr.FailIfNotExists) {
			writeFormError(w, "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
			return
		}
	}
	m := s.newMessageLocked(cs, clone(s.bot), body.content(), ref)
	if cs.ch.GuildID != "" {
		m.Member = s.messageMemberLocked(cs.ch.GuildID, s.bot.ID)
	}
	m.TTS = body.TTS
	m.Flags = body.Flags
	if e := body.embeds(); e != nil {
		m.Embeds = e
	}
	for _, f := range files {
		m.Attachments = append(m.Attachments, s.attachmentLocked(cs.ch.ID, attachmentSpec{filename: f.filename, contentType: f.contentType, data: f.data, hosted: true}))
	}
	s.addMentionsLocked(m, nil)
	s.storeLocked(cs, m)
	s.dispatchMessageLocked("MESSAGE_CREATE", m)
	writeJSON(w, http.StatusOK, restMessage(m))
}

func (s *Server) editMessage(w http.ResponseWriter, r *http.Request) {
	var body messageBody
	if _, ok := decodeBody(w, r, &body); !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m, ok := s.pathMessageLocked(w, r)
	if !ok {
		return
	}
	if m.Author == nil || m.Author.ID != s.bot.ID || m.WebhookID != "" {
		writeError(w, http.StatusForbidden, 50005, "Cannot edit a message authored by another user")
		return
	}
	s.applyEditLocked(w, m, &body)
}

// applyEditLocked validates and applies an edit, dispatches MESSAGE_UPDATE
// (unless the message is ephemeral) and answers with the edited message. It
// reports whether the edit was valid.
func (s *Server) applyEditLocked(w http.ResponseWriter, m *discordgo.Message, body *messageBody) bool {
	content, embeds := m.Content, m.Embeds
	if body.Content != nil {
		content = *body.Content
	}
	if body.Embeds != nil {
		embeds = *body.Embeds
	}
	if !validateMessage(w, content, embeds, len(m.Attachments)) {
		return false
	}
	m.Content, m.Embeds = content, embeds
	if m.Embeds == nil {
		m.Embeds = []*discordgo.MessageEmbed{}
	}
	now := time.Now().UTC()
	m.EditedTimestamp = &now
	m.Mentions = []*discordgo.User{}
	s.addMentionsLocked(m, nil)
	if m.Flags&discordgo.MessageFlagsEphemeral == 0 {
		s.dispatchMessageLocked("MESSAGE_UPDATE", m)
	}
	s.notifyLocked()
	writeJSON(w, http.StatusOK, restMessage(m))
	return true
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, m, ok := s.pathMessageLocked(w, r)
	if !ok {
		return
	}
	s.removeMessageLocked(cs, m.ID)
	s.dispatchMessageDeleteLocked(m)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) typingStart(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	if _, ok := s.channels[id]; !ok {
		notFound(w, "Channel")
		return
	}
	s.typing[id]++
	w.WriteHeader(http.StatusNoContent)
}

// restMessage is a message as REST returns it: without the partial member
// that only gateway events carry.
func restMessage(m *discordgo.Message) *discordgo.Message {
	out := *m
	out.Member = nil
	return &out
}

// pathChannelLocked is the channel named by the route's {id}, answering 404 when there
// is none. The caller holds s.mu.
func (s *Server) pathChannelLocked(w http.ResponseWriter, r *http.Request) (*channelState, bool) {
	cs, ok := s.channels[r.PathValue("id")]
	if !ok {
		notFound(w, "Channel")
	}
	return cs, ok
}

// pathMessageLocked is the channel and message named by {id} and {mid}, answering 404
// for either. The caller holds s.mu.
func (s *Server) pathMessageLocked(w http.ResponseWriter, r *http.Request) (*channelState, *discordgo.Message, bool) {
	cs, ok := s.pathChannelLocked(w, r)
	if !ok {
		return nil, nil, false
	}
	m := findMessage(cs, r.PathValue("mid"))
	if m == nil {
		notFound(w, "Message")
		return nil, nil, false
	}
	return cs, m, true
}
