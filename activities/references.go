package activities

import (
	"context"
	"regexp"

	"github.com/tzurot/tzurot/activities/prompt"
)

// messageLink matches a Discord message link; group 1 is the guild ("@me" for DMs).
var messageLink = regexp.MustCompile(`https?://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/channels/(\d+|@me)/(\d+)/(\d+)`)

// MessageRef names a message to follow.
type MessageRef struct{ ChannelID, MessageID string }

// LinkedMessages returns the message links in text that point into guildID (links into
// other servers are not followed: their content must not leak into this one).
func LinkedMessages(text, guildID string) []MessageRef {
	var out []MessageRef
	for _, m := range messageLink.FindAllStringSubmatch(text, 20) {
		g := m[1]
		if (guildID == "" && g != "@me") || (guildID != "" && g != guildID) {
			continue
		}
		out = append(out, MessageRef{ChannelID: m[2], MessageID: m[3]})
	}
	return out
}

// FollowReferences reads the messages a message refers to (its reply target and its
// message links), then theirs, breadth-first, at most max messages, each once. A message
// that cannot be read (deleted, no access) is skipped: references enrich, never block.
func FollowReferences(ctx context.Context, d Discord, msg MessageSnapshot, max int) []prompt.Line {
	var queue []MessageRef
	if msg.ReferencedMessageID != "" {
		queue = append(queue, MessageRef{ChannelID: msg.ChannelID, MessageID: msg.ReferencedMessageID})
	}
	queue = append(queue, LinkedMessages(msg.Content, msg.GuildID)...)
	seen := map[string]bool{msg.ID: true}
	var out []prompt.Line
	for len(queue) > 0 && len(out) < max && ctx.Err() == nil {
		ref := queue[0]
		queue = queue[1:]
		if seen[ref.MessageID] {
			continue
		}
		seen[ref.MessageID] = true
		m, err := d.Message(ctx, ref.ChannelID, ref.MessageID)
		if err != nil {
			continue
		}
		out = append(out, prompt.Line{Speaker: m.AuthorName, Role: "user", Content: m.Content, At: m.CreatedAt})
		if m.ReferenceID != "" {
			queue = append(queue, MessageRef{ChannelID: m.ReferenceChannelID, MessageID: m.ReferenceID})
		}
		queue = append(queue, LinkedMessages(m.Content, msg.GuildID)...)
	}
	return out
}
