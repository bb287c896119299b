package discordtest

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"time"

	"github.com/bwmarrin/discordgo"
)

// MessageOption adds detail to a message sent with Say or Post.
type MessageOption func(*messageOptions)

type messageOptions struct {
	replyTo     string
	attachments []attachmentSpec
	mentions    []string
	embeds      []*discordgo.MessageEmbed
}

type attachmentSpec struct {
	filename, url, contentType string
	data                       []byte
	hosted                     bool
}

// ReplyTo makes the message a reply (type 19) to messageID in the same
// channel: message_reference and referenced_message are set, and the replied
// author is mentioned, as Discord's default reply ping does.
func ReplyTo(messageID string) MessageOption {
	return func(o *messageOptions) { o.replyTo = messageID }
}

// WithAttachment attaches a file by URL, for tests that serve the file
// themselves or only care about the metadata.
func WithAttachment(filename, url, contentType string) MessageOption {
	return func(o *messageOptions) {
		o.attachments = append(o.attachments, attachmentSpec{filename: filename, url: url, contentType: contentType})
	}
}

// WithAttachmentData attaches a file that the simulated CDN serves at a
// https://cdn.discordapp.com/attachments/... URL (reachable through
// HTTPClient), so attachment download code can run unchanged.
func WithAttachmentData(filename, contentType string, data []byte) MessageOption {
	return func(o *messageOptions) {
		o.attachments = append(o.attachments, attachmentSpec{filename: filename, contentType: contentType, data: data, hosted: true})
	}
}

// WithMentions adds users to the message's mentions beyond the <@id> tokens
// already found in its content.
func WithMentions(userIDs ...string) MessageOption {
	return func(o *messageOptions) { o.mentions = append(o.mentions, userIDs...) }
}

// WithEmbeds attaches embeds to the message.
func WithEmbeds(embeds ...*discordgo.MessageEmbed) MessageOption {
	return func(o *messageOptions) { o.embeds = append(o.embeds, embeds...) }
}

// Say stores a message from userID in channelID and dispatches MESSAGE_CREATE
// to every gateway session, returning the stored message (snowflake id,
// timestamp, guild id, author, and a partial member in guild channels). It
// panics on an unknown channel, user or reply target, because in a test that
// is a setup bug; code serving humans should call Post.
func (s *Server) Say(channelID, userID, content string, opts ...MessageOption) *discordgo.Message {
	m, err := s.Post(channelID, userID, content, opts...)
	if err != nil {
		panic(err.Error())
	}
	return m
}

// Post is Say with an error instead of a panic, for interactive use.
func (s *Server) Post(channelID, userID, content string, opts ...MessageOption) (*discordgo.Message, error) {
	var o messageOptions
	for _, opt := range opts {
		opt(&o)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.channels[channelID]
	if !ok {
		return nil, fmt.Errorf("discordtest: Post: unknown channel %s", channelID)
	}
	author, ok := s.users[userID]
	if !ok {
		return nil, fmt.Errorf("discordtest: Post: unknown user %s", userID)
	}
	var ref *discordgo.Message
	if o.replyTo != "" {
		if ref = findMessage(cs, o.replyTo); ref == nil {
			return nil, fmt.Errorf("discordtest: Post: no message %s in channel %s", o.replyTo, channelID)
		}
	}
	m := s.newMessageLocked(cs, clone(author), content, ref)
	if cs.ch.GuildID != "" {
		m.Member = s.messageMemberLocked(cs.ch.GuildID, userID)
	}
	if len(o.embeds) > 0 {
		m.Embeds = o.embeds
	}
	for _, a := range o.attachments {
		m.Attachments = append(m.Attachments, s.attachmentLocked(channelID, a))
	}
	s.addMentionsLocked(m, o.mentions)
	s.storeLocked(cs, m)
	s.dispatchMessageLocked("MESSAGE_CREATE", m)
	return clone(m), nil
}

// Redeliver dispatches MESSAGE_CREATE for an already stored message again, as
// happens when the gateway replays an event or a second bot replica sees it.
func (s *Server) Redeliver(m *discordgo.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs, ok := s.channels[m.ChannelID]; ok {
		if stored := findMessage(cs, m.ID); stored != nil {
			m = stored
		}
	}
	s.dispatchMessageLocked("MESSAGE_CREATE", m)
}

// Messages returns everything in a channel or thread, oldest first: users',
// the bot's and webhooks' messages, in their current (edited) form.
func (s *Server) Messages(channelID string) []*discordgo.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.channels[channelID]
	if !ok {
		return nil
	}
	out := make([]*discordgo.Message, len(cs.messages))
	for i, m := range cs.messages {
		out[i] = clone(m)
	}
	return out
}

// newMessageLocked builds a message with Discord's always-present fields
// filled (empty arrays rather than null), optionally replying to ref.
func (s *Server) newMessageLocked(cs *channelState, author *discordgo.User, content string, ref *discordgo.Message) *discordgo.Message {
	id, now := s.ids.next(time.Now())
	m := &discordgo.Message{
		ID:           id,
		ChannelID:    cs.ch.ID,
		GuildID:      cs.ch.GuildID,
		Content:      content,
		Timestamp:    now,
		Author:       author,
		Attachments:  []*discordgo.MessageAttachment{},
		Embeds:       []*discordgo.MessageEmbed{},
		Mentions:     []*discordgo.User{},
		MentionRoles: []string{},
		Reactions:    nil,
		Type:         discordgo.MessageTypeDefault,
	}
	if ref != nil {
		m.Type = discordgo.MessageTypeReply
		m.MessageReference = &discordgo.MessageReference{MessageID: ref.ID, ChannelID: ref.ChannelID, GuildID: ref.GuildID}
		r := clone(ref)
		r.ReferencedMessage = nil
		r.Member = nil
		m.ReferencedMessage = r
	}
	return m
}

// mentionRE finds user mentions in content, <@id> and the legacy <@!id>.
var mentionRE = regexp.MustCompile(`<@!?(\d+)>`)

// addMentionsLocked fills mentions from content, extra ids and the reply
// target's author (Discord pings the replied user by default; webhooks are
// not users and are never pinged).
func (s *Server) addMentionsLocked(m *discordgo.Message, extra []string) {
	seen := map[string]bool{}
	add := func(id string) {
		u, ok := s.users[id]
		if !ok || seen[id] {
			return
		}
		seen[id] = true
		m.Mentions = append(m.Mentions, clone(u))
	}
	for _, match := range mentionRE.FindAllStringSubmatch(m.Content, -1) {
		add(match[1])
	}
	for _, id := range extra {
		add(id)
	}
	if r := m.ReferencedMessage; r != nil && r.WebhookID == "" && r.Author != nil {
		add(r.Author.ID)
	}
}

func (s *Server) attachmentLocked(channelID string, a attachmentSpec) *discordgo.MessageAttachment {
	id, _ := s.ids.next(time.Now())
	out := &discordgo.MessageAttachment{ID: id, Filename: a.filename, URL: a.url, ProxyURL: a.url, ContentType: a.contentType, Size: len(a.data)}
	if a.hosted {
		path := "/attachments/" + channelID + "/" + id + "/" + url.PathEscape(a.filename)
		s.attachments[path] = attachmentData{contentType: a.contentType, data: append([]byte(nil), a.data...)}
		out.URL = "https://cdn.discordapp.com" + path
		out.ProxyURL = "https://media.discordapp.net" + path
	}
	return out
}

// storeLocked appends a message to its channel; ids only grow, so the slice
// stays sorted.
func (s *Server) storeLocked(cs *channelState, m *discordgo.Message) {
	cs.messages = append(cs.messages, m)
	cs.ch.LastMessageID = m.ID
	if isThread(cs.ch) {
		cs.ch.MessageCount++
	}
	s.notifyLocked()
}

func findMessage(cs *channelState, id string) *discordgo.Message {
	n, ok := parseSnowflake(id)
	if !ok {
		return nil
	}
	i := sort.Search(len(cs.messages), func(i int) bool {
		v, _ := parseSnowflake(cs.messages[i].ID)
		return v >= n
	})
	if i < len(cs.messages) && cs.messages[i].ID == id {
		return cs.messages[i]
	}
	return nil
}

func (s *Server) removeMessageLocked(cs *channelState, id string) {
	for i, m := range cs.messages {
		if m.ID == id {
			cs.messages = append(cs.messages[:i:i], cs.messages[i+1:]...)
			s.notifyLocked()
			return
		}
	}
}

// history answers GET /channels/{id}/messages the way Discord does: newest
// first; before/after/around are exclusive/exclusive/inclusive bounds that
// need not name an existing message; after returns the oldest page past the
// bound so that paging forward works.
func history(msgs []*discordgo.Message, limit int, before, after, around uint64) []*discordgo.Message {
	firstAtLeast := func(n uint64) int {
		return sort.Search(len(msgs), func(i int) bool {
			v, _ := parseSnowflake(msgs[i].ID)
			return v >= n
		})
	}
	var lo, hi int // the chosen window msgs[lo:hi], ascending
	switch {
	case around > 0:
		// Half the page at or before the id (the message itself included),
		// half after it; a short side lends its room to the other.
		mid := firstAtLeast(around + 1)
		lo = max(0, mid-(limit-limit/2))
		hi = min(len(msgs), lo+limit)
		lo = max(0, hi-limit)
	case after > 0:
		lo = firstAtLeast(after + 1)
		hi = min(len(msgs), lo+limit)
	default:
		hi = len(msgs)
		if before > 0 {
			hi = firstAtLeast(before)
		}
		lo = max(0, hi-limit)
	}
	out := make([]*discordgo.Message, 0, hi-lo)
	for i := hi - 1; i >= lo; i-- {
		out = append(out, msgs[i])
	}
	return out
}
