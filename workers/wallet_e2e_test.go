package workers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/api/enums/v1"

	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/workflows"
)

func TestBringYourOwnKeyThroughTheModal(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	u := s.sim.AddUser("erin", "Erin")
	apikey := func(sub, provider string) *discordgo.InteractionResponse {
		return s.command(t, ch.ID, u.ID, discordgo.ApplicationCommandInteractionData{Name: "settings", Options: []*discordgo.ApplicationCommandInteractionDataOption{{
			Name: "apikey", Type: discordgo.ApplicationCommandOptionSubCommandGroup,
			Options: sub2(sub, str("provider", provider))}}})
	}
	submit := func(key string) string {
		i := s.sim.SubmitModal(ch.ID, u.ID, "apikey-set:openrouter", map[string]string{"key": key})
		s.awaitResponse(t, i)
		ctx, cancel := context.WithTimeout(ctx, 10e9)
		defer cancel()
		for ctx.Err() == nil {
			if msgs := s.sim.InteractionMessages(i.ID); len(msgs) > 0 && msgs[0].Content != "" {
				return msgs[0].Content
			}
		}
		t.Fatal("no answer after the deferred key check")
		return ""
	}

	r := apikey("set", "openrouter")
	if r.Type != discordgo.InteractionResponseModal {
		t.Fatalf("apikey set must open a modal, got %+v", r)
	}
	if got := submit("sk-or-v1-notaval-dkey000-0000000-0000000-000000"); !strings.Contains(got, "Not stored") || !strings.Contains(got, "rejected") {
		t.Fatalf("invalid key: %q", got)
	}
	s.stub.SetKeyLimit("sk-or-v1-broke00-0000000-0000000-0000000-00000", 1, 1)
	if got := submit("sk-or-v1-broke00-0000000-0000000-0000000-00000"); !strings.Contains(got, "Not stored") {
		t.Fatalf("out-of-credit key: %q", got)
	}
	got := submit(testUserKey)
	if !strings.Contains(got, "Saved") || strings.Contains(got, testUserKey) {
		t.Fatalf("valid key: %q", got)
	}
	if r := apikey("browse", "openrouter"); strings.Contains(content(r), testUserKey) || !strings.Contains(content(r), "openrouter") {
		t.Fatalf("browse shows %q", content(r))
	}

	msg := s.sim.Say(ch.ID, u.ID, "@Lilith the cellar door code is zanzibar-quill")
	s.waitConversation(t, msg.ID)
	posts := s.webhookPosts(ch.ID)
	if len(posts) != 1 || strings.Contains(posts[0].Content, "free model") {
		t.Fatalf("a user with a key got %+v", posts)
	}
	var guest bool
	if err := s.db.Store.Pool.QueryRow(ctx, `SELECT is_guest FROM usage_logs WHERE workflow_id = $1`, workflows.ConversationID(msg.ID)).Scan(&guest); err != nil || guest {
		t.Fatalf("usage is_guest = %v, %v; want the user's key to pay", guest, err)
	}

	// Neither the key nor what the user wrote is in Temporal's history in clear.
	iter := s.client.GetWorkflowHistory(ctx, workflows.ConversationID(msg.ID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var raw strings.Builder
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		raw.WriteString(ev.String())
	}
	for _, secret := range []string{testUserKey, testAPIKey, "cellar door", "zanzibar-quill", "I hear you"} {
		if strings.Contains(raw.String(), secret) {
			t.Errorf("workflow history contains %q in clear", secret)
		}
	}

	if r := apikey("remove", "openrouter"); !strings.Contains(content(r), "Deleted") {
		t.Fatalf("remove: %q", content(r))
	}
	msg = s.sim.Say(ch.ID, u.ID, "@Lilith and now?")
	s.waitConversation(t, msg.ID)
	if posts := s.webhookPosts(ch.ID); !strings.Contains(posts[len(posts)-1].Content, "free model") {
		t.Fatalf("after removing the key the reply should say the free tier answered: %q", posts[len(posts)-1].Content)
	}
}

func TestTimezoneReachesThePrompt(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	u := s.sim.AddUser("fay", "Fay")
	tz := func(sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
		return content(s.command(t, ch.ID, u.ID, discordgo.ApplicationCommandInteractionData{Name: "settings", Options: []*discordgo.ApplicationCommandInteractionDataOption{{
			Name: "timezone", Type: discordgo.ApplicationCommandOptionSubCommandGroup, Options: sub2(sub, opts...)}}}))
	}
	if got := tz("set", str("zone", "Mars/Olympus_Mons")); !strings.Contains(got, "not a time zone") {
		t.Fatalf("bad zone: %q", got)
	}
	if got := tz("set", str("zone", "Asia/Tokyo")); !strings.Contains(got, "Asia/Tokyo") {
		t.Fatalf("set zone: %q", got)
	}
	var prompt string
	s.stub.SetReply(func(r llmtest.ChatRequest) string { prompt = r.Messages[0].Content; return "ok" })
	defer s.stub.SetReply(nil)
	msg := s.sim.Say(ch.ID, u.ID, "@Lilith what time is it?")
	s.waitConversation(t, msg.ID)
	if !strings.Contains(prompt, "JST") {
		t.Fatalf("the prompt's date line is not in the user's zone:\n%s", prompt)
	}
	i := s.sim.Autocomplete(ch.ID, u.ID, discordgo.ApplicationCommandInteractionData{Name: "settings", Options: []*discordgo.ApplicationCommandInteractionDataOption{{
		Name: "timezone", Type: discordgo.ApplicationCommandOptionSubCommandGroup, Options: sub2("set",
			&discordgo.ApplicationCommandInteractionDataOption{Name: "zone", Type: discordgo.ApplicationCommandOptionString, Value: "berl", Focused: true})}}})
	if r := s.awaitResponse(t, i); len(r.Data.Choices) == 0 || r.Data.Choices[0].Value != "Europe/Berlin" {
		t.Fatalf("zone autocomplete: %+v", r.Data)
	}
}

func TestUsageCommands(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith count this")
	s.waitConversation(t, msg.ID)
	got := content(s.command(t, ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "usage"}))
	if !strings.Contains(got, "stub-model") || !strings.Contains(got, "Last 24 hours") {
		t.Fatalf("/usage: %q", got)
	}
	if got := content(s.command(t, ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "admin", Options: sub("usage")})); !strings.Contains(got, "owners") {
		t.Fatalf("/admin usage by a non-owner: %q", got)
	}
}

// sub2 is a subcommand inside a group.
func sub2(name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) []*discordgo.ApplicationCommandInteractionDataOption {
	return []*discordgo.ApplicationCommandInteractionDataOption{{Name: name, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}}
}
