package discordtest

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestSayDispatchesMessageCreate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	dm := w.srv.AddDM(w.user.ID)
	first := w.srv.Say(w.channel.ID, w.user.ID, "first")
	sess := w.open(t)
	msgs := collect[*discordgo.MessageCreate](sess)
	bot := w.srv.BotUser()

	tests := []struct {
		name        string
		channel     string
		content     string
		opts        []MessageOption
		wantGuild   string
		wantMember  bool
		wantType    discordgo.MessageType
		wantMention []string
	}{
		{"guild channel", w.channel.ID, "hello", nil, w.guild.ID, true, discordgo.MessageTypeDefault, nil},
		{"thread", w.thread.ID, "in thread", nil, w.guild.ID, true, discordgo.MessageTypeDefault, nil},
		{"dm", dm.ID, "psst", nil, "", false, discordgo.MessageTypeDefault, nil},
		{"mention", w.channel.ID, "<@" + bot.ID + "> hi", nil, w.guild.ID, true, discordgo.MessageTypeDefault, []string{bot.ID}},
		{"reply pings the replied author", w.channel.ID, "re", []MessageOption{ReplyTo(first.ID)}, w.guild.ID, true, discordgo.MessageTypeReply, []string{w.user.ID}},
	}
	for _, tt := range tests { // sequential: they share one event stream
		stored := w.srv.Say(tt.channel, w.user.ID, tt.content, tt.opts...)
		got := recv(t, msgs)
		if got.ID != stored.ID || got.Content != tt.content || got.ChannelID != tt.channel || got.GuildID != tt.wantGuild {
			t.Errorf("%s: got %+v, stored %+v", tt.name, got.Message, stored)
		}
		if got.Author == nil || got.Author.ID != w.user.ID || got.Author.Username != "alice" {
			t.Errorf("%s: author = %+v", tt.name, got.Author)
		}
		if (got.Member != nil) != tt.wantMember || (got.Member != nil && got.Member.User != nil) {
			t.Errorf("%s: member = %+v, want partial member: %v", tt.name, got.Member, tt.wantMember)
		}
		if got.Type != tt.wantType {
			t.Errorf("%s: type = %d, want %d", tt.name, got.Type, tt.wantType)
		}
		var ids []string
		for _, u := range got.Mentions {
			ids = append(ids, u.ID)
		}
		if strings.Join(ids, ",") != strings.Join(tt.wantMention, ",") {
			t.Errorf("%s: mentions = %v, want %v", tt.name, ids, tt.wantMention)
		}
		if tt.wantType == discordgo.MessageTypeReply && (got.ReferencedMessage == nil || got.ReferencedMessage.ID != first.ID || got.MessageReference.MessageID != first.ID) {
			t.Errorf("%s: reference = %+v / %+v", tt.name, got.MessageReference, got.ReferencedMessage)
		}
		if got.Timestamp.IsZero() {
			t.Errorf("%s: no timestamp", tt.name)
		}
	}
}

func TestMessageContentIntent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess := w.session(t)
	sess.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages // no MESSAGE_CONTENT
	if err := sess.Open(); err != nil {
		t.Fatal(err)
	}
	msgs := collect[*discordgo.MessageCreate](sess)
	bot := w.srv.BotUser()
	tests := []struct{ content, want string }{
		{"not for you", ""},
		{"<@" + bot.ID + "> for you", "<@" + bot.ID + "> for you"},
	}
	for _, tt := range tests {
		w.srv.Say(w.channel.ID, w.user.ID, tt.content)
		if got := recv(t, msgs); got.Content != tt.want {
			t.Errorf("content %q arrived as %q, want %q", tt.content, got.Content, tt.want)
		}
	}
}

func TestRedeliverReachesEveryReplica(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b := w.open(t), w.open(t)
	ma, mb := collect[*discordgo.MessageCreate](a), collect[*discordgo.MessageCreate](b)

	m := w.srv.Say(w.channel.ID, w.user.ID, "once")
	w.srv.Redeliver(m)
	for _, ch := range []chan *discordgo.MessageCreate{ma, mb} {
		for i := 0; i < 2; i++ {
			if got := recv(t, ch); got.ID != m.ID || got.Content != "once" {
				t.Errorf("delivery %d = %s %q", i, got.ID, got.Content)
			}
		}
	}
	if n := len(w.srv.Messages(w.channel.ID)); n != 1 {
		t.Errorf("Messages = %d, want 1 (redelivery stores nothing)", n)
	}
}

func TestChannelMessagesHistory(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var ids []string
	for _, c := range []string{"m0", "m1", "m2", "m3", "m4"} {
		ids = append(ids, w.srv.Say(w.channel.ID, w.user.ID, c).ID)
	}
	sess := w.session(t)
	tests := []struct {
		name                  string
		limit                 int
		before, after, around string
		want                  []string
	}{
		{"latest page, newest first", 3, "", "", "", []string{"m4", "m3", "m2"}},
		{"default limit returns all", 0, "", "", "", []string{"m4", "m3", "m2", "m1", "m0"}},
		{"before is exclusive", 2, ids[3], "", "", []string{"m2", "m1"}},
		{"after returns the oldest page past it", 2, "", ids[1], "", []string{"m3", "m2"}},
		{"around includes the message", 3, "", "", ids[2], []string{"m3", "m2", "m1"}},
		{"before the first is empty", 10, ids[0], "", "", nil},
	}
	for _, tt := range tests {
		got, err := sess.ChannelMessages(w.channel.ID, tt.limit, tt.before, tt.after, tt.around)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var contents []string
		for _, m := range got {
			contents = append(contents, m.Content)
		}
		if strings.Join(contents, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: got %v, want %v", tt.name, contents, tt.want)
		}
	}
	_, err := sess.ChannelMessages(w.channel.ID, 101, "", "", "")
	restError(t, err, 400, 50035)
	_, err = sess.ChannelMessages("123", 10, "", "", "")
	restError(t, err, 404, 10003)

	one, err := sess.ChannelMessage(w.channel.ID, ids[1])
	if err != nil || one.Content != "m1" || one.Member != nil {
		t.Errorf("ChannelMessage = %+v, %v (REST messages carry no member)", one, err)
	}
}

func TestBotMessageSend(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess := w.open(t)
	msgs := collect[*discordgo.MessageCreate](sess)

	long := strings.Repeat("é", 2000) // 2000 code points, 4000 bytes: allowed
	tests := []struct {
		name    string
		content string
		status  int
		code    int
	}{
		{"exactly 2000 characters", long, 200, 0},
		{"2001 characters", long + "x", 400, 50035},
		{"empty", "   ", 400, 50006},
	}
	for _, tt := range tests {
		m, err := sess.ChannelMessageSend(w.channel.ID, tt.content)
		if tt.status != 200 {
			restError(t, err, tt.status, tt.code)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := recv(t, msgs) // the bot sees its own message, like on Discord
		if got.ID != m.ID || got.Author.ID != w.srv.BotUser().ID || !got.Author.Bot {
			t.Errorf("%s: MESSAGE_CREATE = %+v", tt.name, got.Message)
		}
	}
	_, err := sess.ChannelMessageSendReply(w.channel.ID, "reply", &discordgo.MessageReference{MessageID: "999"})
	restError(t, err, 400, 50035)

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if got, err := w.srv.WaitForMessages(ctx, w.channel.ID, 1); err != nil || got[0].Author.ID != w.srv.BotUser().ID {
		t.Errorf("WaitForMessages = %+v, %v", got, err)
	}

	if err := sess.ChannelTyping(w.thread.ID); err != nil {
		t.Fatal(err)
	}
	if n := w.srv.TypingCount(w.thread.ID); n != 1 {
		t.Errorf("TypingCount = %d, want 1", n)
	}
}

func TestAttachmentServedByCDN(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	m := w.srv.Say(w.channel.ID, w.user.ID, "look", WithAttachmentData("cat.png", "image/png", []byte("PNGDATA")),
		WithAttachment("remote.txt", "https://example.invalid/remote.txt", "text/plain"))
	if len(m.Attachments) != 2 || !strings.HasPrefix(m.Attachments[0].URL, "https://cdn.discordapp.com/attachments/") {
		t.Fatalf("attachments = %+v", m.Attachments)
	}
	fetch := func(url, want, wantType string) {
		t.Helper()
		resp, err := w.srv.HTTPClient().Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != want || resp.Header.Get("Content-Type") != wantType {
			t.Errorf("CDN answered %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}
	}
	fetch(m.Attachments[0].URL, "PNGDATA", "image/png")

	// A bot upload (multipart with payload_json) is hosted the same way.
	sess := w.session(t)
	sent, err := sess.ChannelMessageSendComplex(w.channel.ID, &discordgo.MessageSend{
		Content: "here",
		Files:   []*discordgo.File{{Name: "notes.txt", ContentType: "text/plain", Reader: strings.NewReader("hello file")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent.Attachments) != 1 || sent.Attachments[0].Filename != "notes.txt" || sent.Content != "here" {
		t.Fatalf("sent = %+v", sent)
	}
	fetch(sent.Attachments[0].URL, "hello file", "text/plain")
}

func TestHistoryAround(t *testing.T) {
	t.Parallel()
	var msgs []*discordgo.Message
	for i := 1; i <= 10; i++ {
		msgs = append(msgs, &discordgo.Message{ID: itoa(i * 10)})
	}
	tests := []struct {
		limit  int
		around uint64
		want   string
	}{
		{4, 50, "70,60,50,40"},
		{3, 55, "60,50,40"},    // around a missing id
		{4, 10, "40,30,20,10"}, // short on the old side
		{4, 100, "100,90,80,70"},
	}
	for _, tt := range tests {
		var got []string
		for _, m := range history(msgs, tt.limit, 0, 0, tt.around) {
			got = append(got, m.ID)
		}
		if strings.Join(got, ",") != tt.want {
			t.Errorf("around %d limit %d = %v, want %s", tt.around, tt.limit, got, tt.want)
		}
	}
}
