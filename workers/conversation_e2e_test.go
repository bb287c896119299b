package workers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/store"
)

// command runs a slash command (or submits a modal when data is nil) and returns the
// bot's first response.
func (s *system) command(t *testing.T, channelID, userID string, data discordgo.ApplicationCommandInteractionData) *discordgo.InteractionResponse {
	t.Helper()
	i := s.sim.Interact(channelID, userID, data)
	return s.awaitResponse(t, i)
}

func (s *system) awaitResponse(t *testing.T, i *discordgo.Interaction) *discordgo.InteractionResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := s.sim.WaitForInteractionResponse(ctx, i.ID)
	if err != nil {
		t.Fatalf("no answer to the interaction: %v", err)
	}
	return r
}

func sub(name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) []*discordgo.ApplicationCommandInteractionDataOption {
	return []*discordgo.ApplicationCommandInteractionDataOption{{Name: name, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}}
}

func str(name, value string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: value}
}

func content(r *discordgo.InteractionResponse) string {
	if r == nil || r.Data == nil {
		return ""
	}
	out := r.Data.Content
	for _, e := range r.Data.Embeds {
		out += " " + e.Title + " " + e.Description
		for _, f := range e.Fields {
			out += " " + f.Name + " " + f.Value
		}
	}
	return out
}

func TestChannelActivationAnswersEveryMessageAndThreads(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	mod := s.sim.AddUser("mod", "Moderator")

	r := s.command(t, ch.ID, mod.ID, discordgo.ApplicationCommandInteractionData{Name: "channel", Options: sub("activate", str("character", "lilith"))})
	if !strings.Contains(content(r), "Manage Messages") {
		t.Fatalf("activation without permission: %q", content(r))
	}
	s.sim.SetPermissions(s.guild.ID, mod.ID, discordgo.PermissionManageMessages)
	r = s.command(t, ch.ID, mod.ID, discordgo.ApplicationCommandInteractionData{Name: "channel", Options: sub("activate", str("character", "lilith"))})
	if !strings.Contains(content(r), "Lilith") || r.Data.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Fatalf("activation answer: %+v", r.Data)
	}

	plain := s.sim.Say(ch.ID, s.user.ID, "what a lovely evening")
	if res := s.waitConversation(t, plain.ID); len(res.Replies) != 1 || res.Replies[0].Slug != "lilith" {
		t.Fatalf("activated channel: %+v", res.Replies)
	}
	thread := s.sim.AddThread(ch.ID, "side talk")
	inThread := s.sim.Say(thread.ID, s.user.ID, "and in here?")
	if res := s.waitConversation(t, inThread.ID); len(res.Replies) != 1 {
		t.Fatalf("a thread did not inherit activation: %+v", res.Replies)
	}
	posts := s.webhookPosts(thread.ID)
	if len(posts) != 1 || posts[0].ThreadID != thread.ID || posts[0].ChannelID != ch.ID {
		t.Fatalf("thread reply: %+v", posts)
	}
	// A mention of someone else takes precedence over the activated character.
	other := s.sim.Say(ch.ID, s.user.ID, "@bobby your turn")
	if res := s.waitConversation(t, other.ID); len(res.Replies) != 1 || res.Replies[0].Slug != "bob" {
		t.Fatalf("mention in an activated channel: %+v", res.Replies)
	}

	r = s.command(t, ch.ID, mod.ID, discordgo.ApplicationCommandInteractionData{Name: "channel", Options: sub("deactivate")})
	if !strings.Contains(content(r), "Done") {
		t.Fatalf("deactivate: %q", content(r))
	}
	before := len(s.webhookPosts(ch.ID))
	after := s.sim.Say(ch.ID, s.user.ID, "anyone?")
	marker := s.sim.Say(ch.ID, s.user.ID, "@Lilith now you")
	s.waitConversation(t, marker.ID)
	if _, err := s.client.DescribeWorkflowExecution(context.Background(), "msg-"+after.ID, ""); err == nil {
		t.Error("a plain message after deactivation still started a workflow")
	}
	if got := len(s.webhookPosts(ch.ID)) - before; got != 1 {
		t.Fatalf("%d replies after deactivation, want only the mention's", got)
	}
}

func TestCharacterAutocomplete(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	i := s.sim.Autocomplete(ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "channel", Options: sub("activate",
		&discordgo.ApplicationCommandInteractionDataOption{Name: "character", Type: discordgo.ApplicationCommandOptionString, Value: "lil", Focused: true})})
	r := s.awaitResponse(t, i)
	if r.Type != discordgo.InteractionApplicationCommandAutocompleteResult || len(r.Data.Choices) == 0 || r.Data.Choices[0].Value != "lilith" {
		t.Fatalf("autocomplete = %+v", r.Data)
	}
}

func TestPersonaIntroducesTheUser(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	u := s.sim.AddUser("carol", "Carol")
	r := s.command(t, ch.ID, u.ID, discordgo.ApplicationCommandInteractionData{Name: "persona", Options: sub("create")})
	if r.Type != discordgo.InteractionResponseModal || r.Data.CustomID != "persona-create" {
		t.Fatalf("persona create did not open a modal: %+v", r)
	}
	r = s.awaitResponse(t, s.sim.SubmitModal(ch.ID, u.ID, "persona-create", map[string]string{
		"name": "stargazer", "preferred_name": "Captain Carol", "pronouns": "she/her", "description": "Sails by the stars."}))
	if !strings.Contains(content(r), "Created persona") {
		t.Fatalf("modal submit: %q", content(r))
	}
	r = s.command(t, ch.ID, u.ID, discordgo.ApplicationCommandInteractionData{Name: "persona", Options: sub("default", str("persona", "stargazer"))})
	if !strings.Contains(content(r), "Captain Carol") {
		t.Fatalf("persona default: %q", content(r))
	}
	r = s.command(t, ch.ID, u.ID, discordgo.ApplicationCommandInteractionData{Name: "persona", Options: sub("view")})
	if !strings.Contains(content(r), "stargazer (default)") {
		t.Fatalf("persona view: %q", content(r))
	}
	// Duplicate names and over-long fields get a clear answer, nothing stored.
	r = s.awaitResponse(t, s.sim.SubmitModal(ch.ID, u.ID, "persona-create", map[string]string{"name": "stargazer", "preferred_name": "x"}))
	if !strings.Contains(content(r), "already have") {
		t.Fatalf("duplicate persona: %q", content(r))
	}

	var prompt string
	s.stub.SetReply(func(req llmtest.ChatRequest) string { prompt = req.Messages[0].Content; return "Ahoy." })
	defer s.stub.SetReply(nil)
	msg := s.sim.Say(ch.ID, u.ID, "@Lilith do you know me?")
	s.waitConversation(t, msg.ID)
	if !strings.Contains(prompt, "Captain Carol (she/her): Sails by the stars.") || !strings.Contains(prompt, `#`+ch.Name) {
		t.Fatalf("the prompt does not introduce the persona and place:\n%s", prompt)
	}
}

func TestDirectMessagesKeepTheLastCharacter(t *testing.T) {
	s := requireSystem(t)
	u := s.sim.AddUser("dave", "Dave")
	dm := s.sim.AddDM(u.ID)
	say := func(text string) string {
		m := s.sim.Say(dm.ID, u.ID, text)
		res := s.waitConversation(t, m.ID)
		if len(res.Replies) != 1 {
			t.Fatalf("%q: replies %+v", text, res.Replies)
		}
		return res.Replies[0].Slug
	}
	if m := s.sim.Say(dm.ID, u.ID, "nobody named yet"); len(s.waitConversation(t, m.ID).Replies) != 0 {
		t.Fatal("a first DM naming nobody was answered")
	}
	if got := say("@Lilith hello"); got != "lilith" {
		t.Fatalf("named Lilith, got %s", got)
	}
	if got := say("how are you?"); got != "lilith" {
		t.Fatalf("the DM did not stay with Lilith: %s", got)
	}
	if got := say("@bobby hi"); got != "bob" {
		t.Fatalf("named Bob, got %s", got)
	}
	if got := say("and you?"); got != "bob" {
		t.Fatalf("the DM did not move to Bob: %s", got)
	}
	var botPosts []string
	for _, m := range s.sim.Messages(dm.ID) {
		if m.Author != nil && m.Author.ID == s.services.BotUserID {
			botPosts = append(botPosts, m.Content)
		}
	}
	if len(botPosts) < 4 || !strings.HasPrefix(botPosts[len(botPosts)-1], "**Bob the Builder:**") {
		t.Fatalf("DM replies should carry the character's name: %q", botPosts)
	}
}

func TestReferencesReachThePrompt(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	first := s.sim.Say(ch.ID, s.user.ID, "The treasure is under the old oak.")
	second := s.sim.Say(ch.ID, s.user.ID, "Remember this one too", discordtest.ReplyTo(first.ID))
	link := "https://discord.com/channels/" + s.guild.ID + "/" + ch.ID + "/" + second.ID
	foreign := "https://discord.com/channels/999/888/777"
	var prompt string
	s.stub.SetReply(func(req llmtest.ChatRequest) string { prompt = req.Messages[0].Content; return "Noted." })
	defer s.stub.SetReply(nil)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith what do you make of "+link+" and "+foreign)
	s.waitConversation(t, msg.ID)
	if !strings.Contains(prompt, "refers to") || !strings.Contains(prompt, "Remember this one too") || !strings.Contains(prompt, "old oak") {
		t.Fatalf("linked message and its reply chain are missing from the prompt:\n%s", prompt)
	}
}

func TestDeletedWebhookIsRecreated(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	first := s.sim.Say(ch.ID, s.user.ID, "@Lilith one")
	s.waitConversation(t, first.ID)
	s.sim.DeleteWebhook(s.webhookPosts(ch.ID)[0].WebhookID)
	second := s.sim.Say(ch.ID, s.user.ID, "@Lilith two")
	res := s.waitConversation(t, second.ID)
	posts := s.webhookPosts(ch.ID)
	if len(posts) != 2 || res.Replies[0].Failed || posts[1].WebhookID == posts[0].WebhookID {
		t.Fatalf("after the webhook was deleted: %+v", posts)
	}
}

func TestBadRepliesAreGeneratedAgain(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	calls := 0
	s.stub.SetReply(func(req llmtest.ChatRequest) string {
		calls++
		switch calls {
		case 1:
			return "<think>I should greet them.</think>"
		case 2:
			return "Lilith: again please"
		}
		return "Lilith: <think>fine</think>A proper answer."
	})
	defer s.stub.SetReply(nil)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith again please")
	s.waitConversation(t, msg.ID)
	posts := s.webhookPosts(ch.ID)
	if calls != 3 || len(posts) != 1 || reply(posts[0]) != "A proper answer." {
		t.Fatalf("calls=%d posts=%+v; want the third, cleaned generation only", calls, posts)
	}
	var reasoning string
	if err := s.db.Store.Pool.QueryRow(context.Background(), `SELECT reasoning FROM conversation_history WHERE discord_message_id = $1`, posts[0].MessageID).Scan(&reasoning); err != nil || reasoning != "fine" {
		t.Fatalf("reasoning kept = %q, %v", reasoning, err)
	}

	s.stub.SetReply(func(req llmtest.ChatRequest) string { return "" })
	msg = s.sim.Say(ch.ID, s.user.ID, "@Lilith say nothing")
	res := s.waitConversation(t, msg.ID)
	posts = s.webhookPosts(ch.ID)
	if !res.Replies[0].Failed || len(posts) != 2 || !strings.Contains(posts[1].Content, "candle gutters out") {
		t.Fatalf("after three empty generations: %+v / %+v", res.Replies, posts)
	}
}

func TestModelFooter(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	if _, err := s.db.Store.Personalities.Upsert(context.Background(), store.Personality{Slug: "footed", Name: "Footed", ShowModelFooter: true, IsPublic: true}); err != nil {
		t.Fatal(err)
	}
	msg := s.sim.Say(ch.ID, s.user.ID, "@Footed hi")
	s.waitConversation(t, msg.ID)
	if posts := s.webhookPosts(ch.ID); len(posts) != 1 || !strings.HasSuffix(posts[0].Content, "\n-# stub-model") {
		t.Fatalf("posts = %+v", posts)
	}
}

func TestConversationBadInput(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	ctx := context.Background()
	gone, err := s.db.Store.Personalities.Upsert(ctx, store.Personality{Slug: "ghost", Name: "Ghost", IsPublic: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Store.Pool.Exec(ctx, `DELETE FROM personalities WHERE id = $1`, gone.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		content string
		replies []string
	}{
		{"4000 characters", "@Lilith " + strings.Repeat("long text ", 399), []string{"lilith"}},
		{"100 mentions capped at 5", strings.Repeat("@Lilith @bobby @Nobody ", 34), []string{"lilith", "bob"}},
		{"zalgo", "@Lilith h̷̢̛̪e̵̡͙l̶̰̈́l̸̤̈o̴̭͝", []string{"lilith"}},
		{"deleted character", "@Ghost are you there?", nil},
		{"control characters", "@Lilith \x00\x07\x1b[31m hi", []string{"lilith"}},
		{"only an at sign", "@", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := s.sim.Say(ch.ID, s.user.ID, tt.content)
			res := s.waitConversation(t, msg.ID)
			var got []string
			for _, r := range res.Replies {
				if r.Failed {
					t.Errorf("%s failed: %s", r.Slug, r.Reason)
				}
				got = append(got, r.Slug)
			}
			if strings.Join(got, ",") != strings.Join(tt.replies, ",") {
				t.Errorf("replies %v, want %v", got, tt.replies)
			}
		})
	}
}
