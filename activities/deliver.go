package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/tzurot/tzurot/store"
)

// reconcileWindow is how many recent channel messages DeliverReply reads to find a chunk
// an earlier attempt may have posted without recording it.
const reconcileWindow = 50

// DeliverReply posts a reply as the personality, chunk by chunk, exactly once: every
// chunk is reserved in `deliveries` before it is posted and recorded after. A retried
// attempt skips recorded chunks; for a chunk reserved but not recorded (the worker died
// between the POST and the UPDATE) it looks for the message in the channel before
// posting again, so a crash never doubles a reply.
func (a *Activities) DeliverReply(ctx context.Context, in DeliverReplyInput) (DeliverReplyResult, error) {
	target := PostTarget{
		ChannelID: in.Message.ChannelID, GuildID: in.Message.GuildID, ParentChannelID: in.Message.ParentChannelID,
		Username: in.Personality.DisplayName, AvatarURL: in.Personality.AvatarURL,
	}
	text := in.Text
	if in.ErrorMessage {
		var err error
		if text, err = a.errorMessage(ctx, in); err != nil {
			return DeliverReplyResult{}, err
		}
	}
	if in.Footer != "" {
		text += "\n" + in.Footer
	}
	chunks := a.Discord.Chunk(text)
	var res DeliverReplyResult
	for i, chunk := range chunks {
		d, fresh, err := a.Store.Deliveries.Reserve(ctx, store.Delivery{
			WorkflowID: in.WorkflowID, PersonalityID: in.Personality.ID, ChunkIndex: i,
			ChannelID: in.Message.ChannelID, ContentHash: store.ContentHash(chunk),
		})
		if err != nil {
			return res, err
		}
		if d.DiscordMessageID == "" && !fresh {
			if d.DiscordMessageID, err = a.findPosted(ctx, in.Message.ChannelID, target.Username, chunk); err != nil {
				return res, err
			}
		}
		if d.DiscordMessageID == "" {
			if d.DiscordMessageID, err = a.Discord.Post(ctx, target, chunk); err != nil {
				return res, fmt.Errorf("post chunk %d/%d: %w", i+1, len(chunks), err)
			}
		}
		if err := a.Store.Deliveries.MarkDelivered(ctx, d); err != nil {
			return res, err
		}
		res.MessageIDs = append(res.MessageIDs, d.DiscordMessageID)
		heartbeat(ctx, i)
	}
	return res, nil
}

// DefaultErrorMessage is said when a personality has no error message of its own.
const DefaultErrorMessage = "*%s could not answer right now. Please try again in a moment.*"

// errorMessage is the personality's error message with a reference an operator can find
// (the workflow id, searchable in the Temporal UI).
func (a *Activities) errorMessage(ctx context.Context, in DeliverReplyInput) (string, error) {
	if in.Notice != "" {
		return "*" + in.Notice + "*", nil
	}
	msg := fmt.Sprintf(DefaultErrorMessage, in.Personality.DisplayName)
	card, err := a.Store.Personalities.ByID(ctx, in.Personality.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if strings.TrimSpace(card.ErrorMessage) != "" {
		msg = card.ErrorMessage
	}
	return msg + "\n-# ref " + in.WorkflowID, nil
}

// findPosted looks for a chunk an earlier attempt posted but did not record.
func (a *Activities) findPosted(ctx context.Context, channelID, username, chunk string) (string, error) {
	msgs, err := a.Discord.RecentMessages(ctx, channelID, "", reconcileWindow)
	if err != nil {
		return "", fmt.Errorf("check channel for an earlier post: %w", err)
	}
	for _, m := range msgs {
		if m.AuthorName != username && m.AuthorID != a.Discord.BotUserID() || !strings.Contains(m.Content, chunk) {
			continue
		}
		known, err := a.Store.Deliveries.Known(ctx, m.ID)
		if err != nil {
			return "", err
		}
		if !known {
			a.log().Info("found a chunk posted by an earlier attempt", "discord_message_id", m.ID)
			return m.ID, nil
		}
	}
	return "", nil
}

// typingInterval refreshes Discord's typing indicator (it fades after ten seconds) and is
// the heartbeat of the activities it runs in: well inside their 10 s heartbeat timeout.
const typingInterval = 4 * time.Second

// keepTyping shows the typing indicator in a channel until the returned stop is called.
// Failures are logged, never fatal: typing is a courtesy. It runs inside the activities
// that take time (context, generation) rather than as an activity of its own, so it adds
// nothing to workflow history.
func (a *Activities) keepTyping(ctx context.Context, channelID string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for first := true; ; first = false {
			// The loop doubles as the activity's heartbeat: a dead worker is noticed within
			// the heartbeat timeout, and cancellation reaches the activity.
			heartbeat(ctx)
			sendCtx := ctx
			if first {
				// The first indicator is sent even when the work finishes before it: users
				// should see that the character noticed them.
				var stopFirst context.CancelFunc
				sendCtx, stopFirst = context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
				defer stopFirst()
			}
			if err := a.Discord.SendTyping(sendCtx, channelID); err != nil && sendCtx.Err() == nil {
				a.log().Warn("typing indicator failed", "channel_id", channelID, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(typingInterval):
			}
		}
	}()
	return func() { cancel(); <-done }
}

// heartbeat records progress when running as a Temporal activity; the same code also runs
// outside Temporal (the benchmark's in-process baseline), where there is no one to tell.
func heartbeat(ctx context.Context, details ...any) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, details...)
	}
}
