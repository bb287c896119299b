package activities

import "context"

// noticeWindow is how many recent messages PostNotice reads to find a notice an earlier
// attempt already posted.
const noticeWindow = 20

// PostNotice tells the author something as the bot itself (a character they may not call,
// say), exactly once: a retried attempt first looks for its own earlier post, a reply to
// the same message with the same text.
func (a *Activities) PostNotice(ctx context.Context, in PostNoticeInput) (PostNoticeResult, error) {
	msgs, err := a.Discord.RecentMessages(ctx, in.Message.ChannelID, "", noticeWindow)
	if err != nil {
		return PostNoticeResult{}, err
	}
	for _, m := range msgs {
		if m.AuthorID == a.Discord.BotUserID() && m.WebhookID == "" && m.ReferenceID == in.Message.ID && m.Content == in.Text {
			return PostNoticeResult{MessageID: m.ID}, nil
		}
	}
	id, err := a.Discord.Notice(ctx, in.Message.ChannelID, in.Message.GuildID, in.Message.ID, in.Text)
	return PostNoticeResult{MessageID: id}, err
}
