package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/activities"
)

// WebhookName is the name of the webhook Tzurot creates in each channel it speaks in.
const webhookName = "Tzurot"

// REST is the Discord REST client activities use (it implements activities.Discord). It
// keeps one webhook per channel, found or created once and then cached, the way
// PluralKit's webhook cache does; a webhook deleted by a moderator is recreated.
type REST struct {
	s      *discordgo.Session
	botID  string
	logger *slog.Logger

	mu       sync.Mutex
	webhooks map[string]*discordgo.Webhook // channel id -> our webhook there
	creating map[string]*sync.Mutex        // one creation per channel at a time
}

var _ activities.Discord = (*REST)(nil)

// NewREST wraps a session. botID is the bot's user id (its own messages are ours).
func NewREST(s *discordgo.Session, botID string, logger *slog.Logger) *REST {
	if logger == nil {
		logger = slog.Default()
	}
	return &REST{s: s, botID: botID, logger: logger, webhooks: map[string]*discordgo.Webhook{}, creating: map[string]*sync.Mutex{}}
}

// BotUserID implements activities.Discord.
func (r *REST) BotUserID() string { return r.botID }

// Chunk implements activities.Discord with Discord's message limit.
func (r *REST) Chunk(text string) []string { return Chunk(text, MaxMessageLength) }

// RecentMessages implements activities.Discord.
func (r *REST) RecentMessages(ctx context.Context, channelID, beforeID string, limit int) ([]activities.ChannelMessage, error) {
	if limit <= 0 {
		return nil, nil
	}
	limit = min(limit, 100) // Discord's page size
	msgs, err := r.s.ChannelMessages(channelID, limit, beforeID, "", "", discordgo.WithContext(ctx))
	if err != nil {
		return nil, classify("read channel", err)
	}
	out := make([]activities.ChannelMessage, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, channelMessage(m))
	}
	return out, nil
}

// Message implements activities.Discord.
func (r *REST) Message(ctx context.Context, channelID, messageID string) (activities.ChannelMessage, error) {
	m, err := r.s.ChannelMessage(channelID, messageID, discordgo.WithContext(ctx))
	if err != nil {
		return activities.ChannelMessage{}, classify("read message", err)
	}
	return channelMessage(m), nil
}

func channelMessage(m *discordgo.Message) activities.ChannelMessage {
	cm := activities.ChannelMessage{ID: m.ID, Content: m.Content, CreatedAt: m.Timestamp, WebhookID: m.WebhookID}
	if m.Author != nil {
		cm.AuthorID, cm.IsBot, cm.AuthorName = m.Author.ID, m.Author.Bot, m.Author.Username
		if m.Author.GlobalName != "" {
			cm.AuthorName = m.Author.GlobalName
		}
	}
	if m.Member != nil && m.Member.Nick != "" {
		cm.AuthorName = m.Member.Nick
	}
	if m.MessageReference != nil {
		cm.ReferenceID, cm.ReferenceChannelID = m.MessageReference.MessageID, m.MessageReference.ChannelID
		if cm.ReferenceChannelID == "" {
			cm.ReferenceChannelID = m.ChannelID
		}
	}
	for _, a := range m.Attachments {
		if a != nil {
			cm.Attachments = append(cm.Attachments, activities.Attachment{URL: a.URL, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size})
		}
	}
	return cm
}

// SendTyping implements activities.Discord.
func (r *REST) SendTyping(ctx context.Context, channelID string) error {
	return classify("typing", r.s.ChannelTyping(channelID, discordgo.WithContext(ctx)))
}

// Post implements activities.Discord: a webhook message in guild channels and threads, a
// plain bot message (with the character's name in bold) in DMs, where webhooks do not exist.
func (r *REST) Post(ctx context.Context, t activities.PostTarget, content string) (string, error) {
	noPings := &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}}
	if t.GuildID == "" {
		if named := "**" + t.Username + ":** " + content; length(named) <= MaxMessageLength {
			content = named
		}
		m, err := r.s.ChannelMessageSendComplex(t.ChannelID, &discordgo.MessageSend{Content: content, AllowedMentions: noPings}, discordgo.WithContext(ctx))
		if err != nil {
			return "", classify("send DM", err)
		}
		return m.ID, nil
	}
	hookChannel, threadID := t.ChannelID, ""
	if t.ParentChannelID != "" {
		hookChannel, threadID = t.ParentChannelID, t.ChannelID
	}
	params := &discordgo.WebhookParams{Content: content, Username: WebhookName(t.Username), AvatarURL: t.AvatarURL, AllowedMentions: noPings}
	for attempt := 0; ; attempt++ {
		hook, err := r.webhook(ctx, hookChannel)
		if err != nil {
			return "", err
		}
		m, err := r.s.WebhookThreadExecute(hook.ID, hook.Token, true, threadID, params, discordgo.WithContext(ctx))
		if err == nil {
			return m.ID, nil
		}
		if gone := status(err) == http.StatusNotFound || status(err) == http.StatusUnauthorized; gone && attempt == 0 {
			// Unknown Webhook (10015): a moderator deleted it or reset its token. Make a new
			// one and send once more; a second failure goes back to Temporal's retries.
			r.logger.Warn("webhook gone; recreating", "channel_id", hookChannel, "webhook_id", hook.ID)
			r.forget(hookChannel)
			continue
		}
		return "", classify("execute webhook", err)
	}
}

// webhook returns our webhook in a channel: cached, else an existing one the bot owns,
// else a new one.
func (r *REST) webhook(ctx context.Context, channelID string) (*discordgo.Webhook, error) {
	r.mu.Lock()
	if h, ok := r.webhooks[channelID]; ok {
		r.mu.Unlock()
		return h, nil
	}
	lock, ok := r.creating[channelID]
	if !ok {
		lock = &sync.Mutex{}
		r.creating[channelID] = lock
	}
	r.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()
	r.mu.Lock()
	h, ok := r.webhooks[channelID]
	r.mu.Unlock()
	if ok {
		return h, nil
	}
	hooks, err := r.s.ChannelWebhooks(channelID, discordgo.WithContext(ctx))
	if err != nil {
		return nil, classify("list webhooks", err)
	}
	for _, candidate := range hooks {
		if candidate.Token != "" && candidate.User != nil && candidate.User.ID == r.botID {
			h = candidate
			break
		}
	}
	if h == nil {
		if h, err = r.s.WebhookCreate(channelID, webhookName, "", discordgo.WithContext(ctx)); err != nil {
			return nil, classify("create webhook", err)
		}
		r.logger.Info("created webhook", "channel_id", channelID, "webhook_id", h.ID)
	}
	r.mu.Lock()
	r.webhooks[channelID] = h
	r.mu.Unlock()
	return h, nil
}

func (r *REST) forget(channelID string) {
	r.mu.Lock()
	delete(r.webhooks, channelID)
	r.mu.Unlock()
}

func status(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

// classify turns a Discord error into a Temporal-aware one: 4xx other than 429 cannot
// succeed on retry (missing permission, unknown channel, invalid body), so they are
// non-retryable; everything else is retried by Temporal. The error text never carries a
// webhook token (discordgo's RESTError prints the URL; we do not).
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		code := re.Response.StatusCode
		msg := fmt.Sprintf("discord %s: HTTP %d", op, code)
		if re.Message != nil && re.Message.Message != "" {
			msg += ": " + re.Message.Message
		}
		if code >= 400 && code < 500 && code != http.StatusTooManyRequests && code != http.StatusRequestTimeout {
			return activities.NonRetryable(activities.ErrTypeDiscord, errors.New(msg))
		}
		return errors.New(msg)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("discord %s: %w", op, err)
	}
	return fmt.Errorf("discord %s: %s", op, redactURL(err.Error()))
}
