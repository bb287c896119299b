package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/prompt"
	"github.com/tzurot/tzurot/store"
)

// FetchContext gathers the chat log a personality sees: recent channel messages (read
// through Discord REST) or, when Discord has none, the stored history; plus what the
// personalities before it answered to this same message. It trims the oldest lines to the
// token budget and stores the result in turn_contexts for CallLLM.
func (a *Activities) FetchContext(ctx context.Context, in FetchContextInput) (FetchContextResult, error) {
	defer a.keepTyping(ctx, in.Message.ChannelID)()
	cfg, err := a.withBehaviour(ctx, in.User.ID, in.Personality.ID, in.Guest)
	if err != nil {
		return FetchContextResult{}, err
	}
	msgs, err := a.Discord.RecentMessages(ctx, in.Message.ChannelID, in.Message.ID, cfg.HistoryMessages)
	if err != nil {
		return FetchContextResult{}, fmt.Errorf("channel history: %w", err)
	}
	since, err := a.Store.History.Cutoff(ctx, in.User.ID, in.Personality.ID) // /history clear
	if err != nil {
		return FetchContextResult{}, err
	}
	turns, err := a.Store.History.RecentSince(ctx, in.Message.ChannelID, in.Personality.ID, cfg.HistoryMessages, since)
	if err != nil {
		return FetchContextResult{}, fmt.Errorf("stored history: %w", err)
	}
	lines := MergeHistory(storedLines(turns, msgs), channelLines(msgs, a.Discord.BotUserID(), in.Personality.DisplayName))
	if !since.IsZero() {
		lines = NotOlderThan(lines, since)
	}
	if cfg.MaxAge > 0 {
		lines = NotOlderThan(lines, a.now().Add(-cfg.MaxAge))
	}
	for _, r := range in.PriorReplies {
		lines = append(lines, prompt.Line{Speaker: r.DisplayName + " (character)", Role: "user", Content: r.Text, At: in.Message.CreatedAt})
	}
	count := func(s string) int { return llm.CountTokens(a.Config.Model, s) }
	lines, tokens := TrimToBudget(lines, cfg.ContextTokens, count)
	refs := FollowReferences(ctx, a.Discord, in.Message, cfg.MaxReferences)
	refs, refTokens := KeepWithinBudget(refs, cfg.ReferenceTokens, count)
	tc := TurnContext{Lines: lines, References: refs}
	if err := a.Store.TurnContexts.Put(ctx, in.WorkflowID, in.Personality.ID, tc); err != nil {
		return FetchContextResult{}, fmt.Errorf("store turn context: %w", err)
	}
	return FetchContextResult{Messages: len(lines), Tokens: tokens + refTokens, References: len(refs)}, nil
}

// TurnContext is what FetchContext gathered for CallLLM, kept in turn_contexts.
type TurnContext struct {
	Lines      []prompt.Line `json:"lines"`
	References []prompt.Line `json:"references"`
}

// KeepWithinBudget keeps lines from the first (the most relevant) while they fit budget,
// whole lines only: a reference or memory is never cut in the middle.
func KeepWithinBudget(lines []prompt.Line, budget int, count func(string) int) ([]prompt.Line, int) {
	total := 0
	for i, l := range lines {
		n := count(l.Speaker) + count(l.Content) + 4
		if budget > 0 && total+n > budget {
			return lines[:i], total
		}
		total += n
	}
	return lines, total
}

// channelLines turns Discord messages (newest first) into a chat log (oldest first):
// this personality's webhook posts are its own assistant turns, other characters speak as
// characters, humans by name.
func channelLines(msgs []ChannelMessage, botID, self string) []prompt.Line {
	lines := make([]prompt.Line, 0, len(msgs))
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Content == "" {
			continue
		}
		l := prompt.Line{Speaker: m.AuthorName, Role: "user", Content: m.Content, At: m.CreatedAt}
		switch {
		case (m.WebhookID != "" || m.AuthorID == botID) && m.AuthorName == self:
			l.Role = "assistant"
		case m.WebhookID != "" || m.IsBot:
			l.Speaker = m.AuthorName + " (character)"
		}
		lines = append(lines, l)
	}
	return lines
}

// storedLines turns stored history into lines, leaving out what the channel fetch
// already holds (the same Discord message) and the current message itself.
func storedLines(turns []store.Turn, fetched []ChannelMessage) []prompt.Line {
	seen := make(map[string]bool, len(fetched))
	for _, m := range fetched {
		seen[m.ID] = true
	}
	lines := make([]prompt.Line, 0, len(turns))
	for _, t := range turns {
		if seen[t.DiscordMessageID] {
			continue
		}
		lines = append(lines, prompt.Line{Speaker: t.SpeakerName, Role: t.Role, Content: t.Content, At: t.CreatedAt})
	}
	return lines
}

// MergeHistory interleaves stored turns (which reach further back, and survive deleted
// channel messages) with the channel's recent messages by time, oldest first. Stored
// turns newer than the oldest fetched message are already in the channel and dropped,
// unless the channel returned nothing.
func MergeHistory(stored, channel []prompt.Line) []prompt.Line {
	if len(channel) == 0 {
		return stored
	}
	oldest := channel[0].At
	out := make([]prompt.Line, 0, len(stored)+len(channel))
	for _, l := range stored {
		if l.At.Before(oldest) {
			out = append(out, l)
		}
	}
	return append(out, channel...)
}

// TrimToBudget keeps the newest lines whose tokens fit budget (oldest dropped first) and
// returns them with their token total. A budget of 0 keeps everything.
func TrimToBudget(lines []prompt.Line, budget int, count func(string) int) ([]prompt.Line, int) {
	total := 0
	start := len(lines)
	for i := len(lines) - 1; i >= 0; i-- {
		n := count(lines[i].Speaker) + count(lines[i].Content) + 4 // role and separators
		if budget > 0 && total+n > budget {
			break
		}
		total += n
		start = i
	}
	return lines[start:], total
}

// NotOlderThan drops lines from before cutoff (lines without a time are kept).
func NotOlderThan(lines []prompt.Line, cutoff time.Time) []prompt.Line {
	out := lines[:0:0]
	for _, l := range lines {
		if l.At.IsZero() || !l.At.Before(cutoff) {
			out = append(out, l)
		}
	}
	return out
}
