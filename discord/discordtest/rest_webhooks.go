package discordtest

import (
	"net/http"
	"time"

	"github.com/bwmarrin/discordgo"
)

// maxWebhooksPerChannel is Discord's per-channel webhook cap.
const maxWebhooksPerChannel = 15

// webhookState is a channel webhook; hook.Token is its secret.
type webhookState struct {
	hook *discordgo.Webhook
}

// WebhookPost is one successful webhook execution, in the words a test
// asserts on: where it went, under which name and avatar, with what text.
type WebhookPost struct {
	ChannelID string // the webhook's channel (a thread's parent)
	ThreadID  string // the thread posted into, "" for the channel itself
	WebhookID string
	MessageID string
	Username  string // the name shown: the override, else the webhook's name
	AvatarURL string // the avatar_url override, "" if none
	Content   string
	At        time.Time
}

// webhookBody is an execute request. Components stay raw on purpose.
type webhookBody struct {
	messageBody
	Username  string `json:"username"`
	AvatarURL string `json:"avatar_url"`
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name   string `json:"name"`
		Avatar string `json:"avatar"`
	}
	if _, ok := decodeBody(w, r, &body); !ok || !validateUsername(w, "name", body.Name) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.pathChannelLocked(w, r)
	if !ok {
		return
	}
	switch cs.ch.Type {
	case discordgo.ChannelTypeGuildText, discordgo.ChannelTypeGuildNews, discordgo.ChannelTypeGuildForum:
	default: // threads use their parent's webhook with ?thread_id=
		writeError(w, http.StatusBadRequest, 50024, "Cannot execute action on this channel type")
		return
	}
	n := 0
	for _, wh := range s.webhooks {
		if wh.hook.ChannelID == cs.ch.ID {
			n++
		}
	}
	if n >= maxWebhooksPerChannel {
		writeError(w, http.StatusBadRequest, 30007, "Maximum number of webhooks reached (15)")
		return
	}
	id, _ := s.ids.next(time.Now())
	hook := &discordgo.Webhook{
		ID:            id,
		Type:          discordgo.WebhookTypeIncoming,
		GuildID:       cs.ch.GuildID,
		ChannelID:     cs.ch.ID,
		User:          clone(s.bot),
		Name:          body.Name,
		Avatar:        avatarHash(body.Avatar),
		Token:         randomToken(68),
		ApplicationID: s.opts.ApplicationID,
	}
	s.webhooks[id] = &webhookState{hook: hook}
	writeJSON(w, http.StatusOK, hook)
}

func (s *Server) getChannelWebhooks(w http.ResponseWriter, r *http.Request) {
	s.listWebhooks(w, r, "Channel", func(h *discordgo.Webhook) bool { return h.ChannelID == r.PathValue("id") })
}

func (s *Server) getGuildWebhooks(w http.ResponseWriter, r *http.Request) {
	s.listWebhooks(w, r, "Guild", func(h *discordgo.Webhook) bool { return h.GuildID == r.PathValue("id") })
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, kind string, keep func(*discordgo.Webhook) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind == "Channel" {
		if _, ok := s.channels[r.PathValue("id")]; !ok {
			notFound(w, "Channel")
			return
		}
	} else if _, ok := s.guilds[r.PathValue("id")]; !ok {
		notFound(w, "Guild")
		return
	}
	out := []*discordgo.Webhook{}
	for _, wh := range s.webhooks {
		if keep(wh.hook) {
			out = append(out, wh.hook)
		}
	}
	sortByID(out, func(h *discordgo.Webhook) string { return h.ID })
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wh, ok := s.webhooks[r.PathValue("id")]
	if !ok {
		notFound(w, "Webhook")
		return
	}
	writeJSON(w, http.StatusOK, wh.hook)
}

func (s *Server) editWebhook(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name      *string `json:"name"`
		Avatar    *string `json:"avatar"`
		ChannelID string  `json:"channel_id"`
	}
	if _, ok := decodeBody(w, r, &body); !ok {
		return
	}
	if body.Name != nil && !validateUsername(w, "name", *body.Name) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wh, ok := s.webhooks[r.PathValue("id")]
	if !ok {
		notFound(w, "Webhook")
		return
	}
	if body.ChannelID != "" {
		cs, ok := s.channels[body.ChannelID]
		if !ok || cs.ch.GuildID != wh.hook.GuildID || isThread(cs.ch) {
			writeFormError(w, "channel_id", "CHANNEL_INVALID", "Invalid channel")
			return
		}
		wh.hook.ChannelID = body.ChannelID
	}
	if body.Name != nil {
		wh.hook.Name = *body.Name
	}
	if body.Avatar != nil {
		wh.hook.Avatar = avatarHash(*body.Avatar)
	}
	writeJSON(w, http.StatusOK, wh.hook)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.webhooks[r.PathValue("id")]; !ok {
		notFound(w, "Webhook")
		return
	}
	delete(s.webhooks, r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
}

// DeleteWebhook removes a webhook as a moderator would, so tests can check
// that the bot notices (404 Unknown Webhook) and creates a new one.
func (s *Server) DeleteWebhook(webhookID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.webhooks, webhookID)
}

// webhookForTokenLocked authorises a token route, answering 404 or 401
// (Discord's 50027 "Invalid Webhook Token") when it fails.
func (s *Server) webhookForTokenLocked(w http.ResponseWriter, r *http.Request) *webhookState {
	wh, ok := s.webhooks[r.PathValue("id")]
	if !ok {
		notFound(w, "Webhook")
		return nil
	}
	if wh.hook.Token != r.PathValue("token") {
		writeError(w, http.StatusUnauthorized, 50027, "Invalid Webhook Token")
		return nil
	}
	return wh
}

func (s *Server) getWebhookWithToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if wh := s.webhookForTokenLocked(w, r); wh != nil {
		out := *wh.hook
		out.User = nil // token access shows no creator, as on Discord
		writeJSON(w, http.StatusOK, &out)
	}
}

func (s *Server) deleteWebhookWithToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if wh := s.webhookForTokenLocked(w, r); wh != nil {
		delete(s.webhooks, wh.hook.ID)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) executeWebhook(w http.ResponseWriter, r *http.Request) {
	var body webhookBody
	files, ok := decodeBody(w, r, &body)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wait, ok := parseWait(w, r)
	if !ok {
		return
	}
	if st := s.interactionForTokenLocked(r.PathValue("id"), r.PathValue("token")); st != nil {
		if validateMessage(w, body.content(), body.embeds(), len(files)) {
			s.followupLocked(w, st, &body.messageBody, files, wait)
		}
		return
	}
	// Authorisation first, then the body, in Discord's order.
	wh := s.webhookForTokenLocked(w, r)
	if wh == nil {
		return
	}
	cs := s.webhookTargetLocked(w, r, wh)
	if cs == nil {
		return
	}
	if body.Username != "" && !validateUsername(w, "username", body.Username) {
		return
	}
	if !validateMessage(w, body.content(), body.embeds(), len(files)) {
		return
	}
	name := body.Username
	if name == "" {
		name = wh.hook.Name
	}
	author := &discordgo.User{ID: wh.hook.ID, Username: name, Discriminator: "0000", Bot: true, Avatar: wh.hook.Avatar}
	if body.AvatarURL != "" {
		author.Avatar = avatarHash(body.AvatarURL)
	}
	m := s.newMessageLocked(cs, author, body.content(), nil)
	m.WebhookID = wh.hook.ID
	m.Flags = body.Flags & discordgo.MessageFlagsSuppressEmbeds
	m.TTS = body.TTS
	if e := body.embeds(); e != nil {
		m.Embeds = e
	}
	for _, f := range files {
		m.Attachments = append(m.Attachments, s.attachmentLocked(cs.ch.ID, attachmentSpec{filename: f.filename, contentType: f.contentType, data: f.data, hosted: true}))
	}
	s.addMentionsLocked(m, nil)
	s.storeLocked(cs, m)
	s.dispatchMessageLocked("MESSAGE_CREATE", m)

	post := WebhookPost{ChannelID: wh.hook.ChannelID, WebhookID: wh.hook.ID, MessageID: m.ID,
		Username: name, AvatarURL: body.AvatarURL, Content: m.Content, At: m.Timestamp}
	if cs.ch.ID != wh.hook.ChannelID {
		post.ThreadID = cs.ch.ID
	}
	s.posts = append(s.posts, post)
	s.notifyLocked()

	if wait {
		writeJSON(w, http.StatusOK, restMessage(m))
	} else {
		w.WriteHeader(http.StatusNoContent)
	}
}

// webhookTargetLocked resolves ?thread_id= against the webhook's channel.
func (s *Server) webhookTargetLocked(w http.ResponseWriter, r *http.Request, wh *webhookState) *channelState {
	cid := wh.hook.ChannelID
	if t := r.URL.Query().Get("thread_id"); t != "" {
		ts, ok := s.channels[t]
		if !ok || !isThread(ts.ch) || ts.ch.ParentID != cid {
			notFound(w, "Channel")
			return nil
		}
		cid = t
	}
	cs, ok := s.channels[cid]
	if !ok {
		notFound(w, "Channel")
		return nil
	}
	return cs
}

func (s *Server) getWebhookMessage(w http.ResponseWriter, r *http.Request) {
	s.webhookMessage(w, r, func(cs *channelState, m *discordgo.Message) {
		writeJSON(w, http.StatusOK, restMessage(m))
	})
}

func (s *Server) editWebhookMessage(w http.ResponseWriter, r *http.Request) {
	var body messageBody
	if _, ok := decodeBody(w, r, &body); !ok {
		return
	}
	s.webhookMessage(w, r, func(cs *channelState, m *discordgo.Message) {
		flags := m.Flags
		m.Flags &^= discordgo.MessageFlagsLoading // a deferred reply gets its content
		if !s.applyEditLocked(w, m, &body) {
			m.Flags = flags
		}
	})
}

func (s *Server) deleteWebhookMessage(w http.ResponseWriter, r *http.Request) {
	s.webhookMessage(w, r, func(cs *channelState, m *discordgo.Message) {
		if cs != nil {
			s.removeMessageLocked(cs, m.ID)
			s.dispatchMessageDeleteLocked(m)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// webhookMessage finds a message a webhook (or an interaction's token) may
// act on and runs fn on it under the lock. cs is nil for ephemeral
// interaction messages, which live in no channel.
func (s *Server) webhookMessage(w http.ResponseWriter, r *http.Request, fn func(cs *channelState, m *discordgo.Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mid := r.PathValue("mid")
	if st := s.interactionForTokenLocked(r.PathValue("id"), r.PathValue("token")); st != nil {
		m := st.message(mid)
		if m == nil {
			notFound(w, "Message")
			return
		}
		var cs *channelState
		if m.Flags&discordgo.MessageFlagsEphemeral == 0 {
			cs = s.channels[m.ChannelID]
		}
		fn(cs, m)
		return
	}
	wh := s.webhookForTokenLocked(w, r)
	if wh == nil {
		return
	}
	cs := s.webhookTargetLocked(w, r, wh)
	if cs == nil {
		return
	}
	m := findMessage(cs, mid)
	if m == nil || m.WebhookID != wh.hook.ID {
		notFound(w, "Message")
		return
	}
	fn(cs, m)
}
