package discordtest

import (
	"context"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestWebhookCreateAndExecute(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess := w.open(t)
	msgs := collect[*discordgo.MessageCreate](sess)

	hook, err := sess.WebhookCreate(w.channel.ID, "Tzurot Relay", "")
	if err != nil {
		t.Fatal(err)
	}
	if hook.ID == "" || hook.Token == "" || hook.ChannelID != w.channel.ID || hook.GuildID != w.guild.ID {
		t.Fatalf("webhook = %+v", hook)
	}
	listed, err := sess.ChannelWebhooks(w.channel.ID)
	if err != nil || len(listed) != 1 || listed[0].Token != hook.Token {
		t.Fatalf("ChannelWebhooks = %+v, %v", listed, err)
	}

	params := &discordgo.WebhookParams{Content: "I am Lilith", Username: "Lilith", AvatarURL: "https://example.invalid/lilith.png"}
	m, err := sess.WebhookExecute(hook.ID, hook.Token, true, params)
	if err != nil {
		t.Fatal(err)
	}
	if m.WebhookID != hook.ID || m.Author.Username != "Lilith" || !m.Author.Bot || m.Content != "I am Lilith" {
		t.Errorf("returned message = %+v author %+v", m, m.Author)
	}
	inThread, err := sess.WebhookThreadExecute(hook.ID, hook.Token, true, w.thread.ID, &discordgo.WebhookParams{Content: "threaded", Username: "Lilith"})
	if err != nil {
		t.Fatal(err)
	}
	if noWait, err := sess.WebhookExecute(hook.ID, hook.Token, false, &discordgo.WebhookParams{Content: "fire and forget"}); err != nil || noWait != nil {
		t.Fatalf("wait=false = %+v, %v", noWait, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	posts, err := w.srv.WaitForWebhookPosts(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []WebhookPost{
		{ChannelID: w.channel.ID, WebhookID: hook.ID, MessageID: m.ID, Username: "Lilith", AvatarURL: params.AvatarURL, Content: "I am Lilith"},
		{ChannelID: w.channel.ID, ThreadID: w.thread.ID, WebhookID: hook.ID, MessageID: inThread.ID, Username: "Lilith", Content: "threaded"},
		{ChannelID: w.channel.ID, WebhookID: hook.ID, Username: "Tzurot Relay", Content: "fire and forget"},
	}
	for i, p := range posts {
		p.At = posts[i].At
		want[i].At = p.At
		if want[i].MessageID == "" {
			want[i].MessageID = p.MessageID
		}
		if p != want[i] || p.At.IsZero() {
			t.Errorf("post %d = %+v, want %+v", i, p, want[i])
		}
	}
	if got := w.srv.Messages(w.thread.ID); len(got) != 1 || got[0].ID != inThread.ID || got[0].ChannelID != w.thread.ID {
		t.Errorf("thread messages = %+v", got)
	}
	if got := w.srv.Messages(w.channel.ID); len(got) != 2 || got[0].WebhookID != hook.ID {
		t.Errorf("channel messages = %d", len(got))
	}
	// The bot sees its webhooks' posts on the gateway, as on Discord.
	for i := 0; i < 3; i++ {
		if got := recv(t, msgs); got.WebhookID != hook.ID || !got.Author.Bot {
			t.Errorf("MESSAGE_CREATE %d = %+v", i, got.Message)
		}
	}

	edited, err := sess.WebhookMessageEdit(hook.ID, hook.Token, m.ID, &discordgo.WebhookEdit{Content: ptr("edited")})
	if err != nil || edited.Content != "edited" || edited.EditedTimestamp == nil {
		t.Errorf("WebhookMessageEdit = %+v, %v", edited, err)
	}
	if err := sess.WebhookMessageDelete(hook.ID, hook.Token, m.ID); err != nil {
		t.Errorf("WebhookMessageDelete: %v", err)
	}
	if got := w.srv.Messages(w.channel.ID); len(got) != 1 {
		t.Errorf("after delete: %d messages", len(got))
	}
}

func ptr[T any](v T) *T { return &v }

func TestWebhookErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess := w.session(t)
	hook, err := sess.WebhookCreate(w.channel.ID, "relay", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		id, token      string
		thread         string
		params         discordgo.WebhookParams
		status, code   int
		wantErrorField string
	}{
		{"wrong token", hook.ID, "nope", "", discordgo.WebhookParams{Content: "x"}, 401, 50027, ""},
		{"unknown webhook", "123456789", hook.Token, "", discordgo.WebhookParams{Content: "x"}, 404, 10015, ""},
		{"content over 2000", hook.ID, hook.Token, "", discordgo.WebhookParams{Content: strings.Repeat("a", 2001)}, 400, 50035, "content"},
		{"empty message", hook.ID, hook.Token, "", discordgo.WebhookParams{Username: "x"}, 400, 50006, ""},
		{"username with discord", hook.ID, hook.Token, "", discordgo.WebhookParams{Content: "x", Username: "My Discord Pal"}, 400, 50035, "username"},
		{"username over 80", hook.ID, hook.Token, "", discordgo.WebhookParams{Content: "x", Username: strings.Repeat("n", 81)}, 400, 50035, "username"},
		{"thread of another channel", hook.ID, hook.Token, "424242", discordgo.WebhookParams{Content: "x"}, 404, 10003, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sess.WebhookThreadExecute(tt.id, tt.token, true, tt.thread, &tt.params)
			restError(t, err, tt.status, tt.code)
			if tt.wantErrorField != "" {
				re := err.(*discordgo.RESTError)
				if !strings.Contains(string(re.ResponseBody), `"errors":{"`+tt.wantErrorField+`":{"_errors":[`) {
					t.Errorf("body %s lacks errors.%s._errors", re.ResponseBody, tt.wantErrorField)
				}
			}
		})
	}
	if n := len(w.srv.WebhookPosts()); n != 0 {
		t.Errorf("%d posts recorded from failed executions", n)
	}

	_, err = sess.WebhookCreate(w.thread.ID, "relay", "")
	restError(t, err, 400, 50024) // threads use the parent's webhook
	_, err = sess.WebhookCreate(w.channel.ID, "discord relay", "")
	restError(t, err, 400, 50035)

	w.srv.DeleteWebhook(hook.ID)
	_, err = sess.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "x"})
	restError(t, err, 404, 10015)
}
