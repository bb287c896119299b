package workers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/prompt"
	replyclean "github.com/tzurot/tzurot/activities/reply"
	"github.com/tzurot/tzurot/discord"
	"github.com/tzurot/tzurot/store"
)

// badMessages is the bad-input corpus for message text: curated cases, then mutations
// of each (wrapped in markdown, repeated, truncated mid-rune, prefixed with mentions).
func badMessages() []string {
	curated := []string{
		"", " ", "@", "@@@@", "@ Lilith", "@Lilith", "@lilith's", "@LILITH!!!", "@**Lilith**", "@Lilith\u200b",
		strings.Repeat("a", 4000), strings.Repeat("@Lilith ", 500), strings.Repeat("@Nobody ", 300),
		strings.Repeat("word ", 2000), strings.Repeat("😀", 3000), strings.Repeat("\n", 5000),
		"h̷̢̛̪e̵̡͙l̶̰̈́l̸̤̈o̴̭͝ @Lilith z̸̡̛̖a̷̞͌l̶̰͐g̵̣̈́o̷̬͂", "@Lilith \x00\x01\x02\x7f", "\xff\xfe\xfd @Lilith", "@Lil\xffith",
		"@Lilith \u202eevil rtl\u202c", "```", "```go\nunclosed", strings.Repeat("```\n", 200), "||spoiler|| @Lilith ||x||",
		"<@123456789012345678> <@&1> <#1> @everyone @here", "@Lilith https://discord.com/channels/1/2/3",
		"https://discord.com/channels/@me/2/3 " + strings.Repeat("https://discord.com/channels/1/2/3 ", 50),
		"<t:9999999999999:R>", "@Lilith \r\n\r\n\t\t", "@" + strings.Repeat("x", 10000), "@Lilith " + strings.Repeat("(", 5000),
		"<think>" + strings.Repeat("a", 3000), "Lilith: Lilith: Lilith:", "@Lilith {{char}} {{user}} <BOT>",
		"%s %d %v %!", "${jndi:ldap://x}", "'; DROP TABLE users; --", "@Lilith \\u0000", "\u0000\u0000",
		"@\u0301\u0301\u0301", strings.Repeat("\u0301", 2000), "@Lilith " + strings.Repeat("\ufffd", 100),
	}
	mutations := []func(string) string{
		func(s string) string { return "**" + s + "**" },
		func(s string) string { return s + " " + s },
		func(s string) string {
			if len(s) < 2 {
				return s
			}
			return s[:len(s)/2+1] // may cut a rune in half
		},
		func(s string) string { return "@Lilith @bobby " + s },
	}
	out := append([]string(nil), curated...)
	for _, m := range mutations {
		for _, c := range curated {
			out = append(out, m(c))
		}
	}
	return out
}

// Every message in the corpus goes through the gateway's snapshot, mention matching,
// prompt assembly, reply cleaning and chunking with a defined result: no panic, text
// made storable, chunks within Discord's limit and valid UTF-8.
func TestBadInputCorpusThroughThePipeline(t *testing.T) {
	corpus := badMessages()
	if len(corpus) < 200 {
		t.Fatalf("corpus has %d cases, want at least 200", len(corpus))
	}
	names := []store.NameEntry{{PersonalityID: "lilith", Name: "Lilith"}, {PersonalityID: "bob", Name: "bobby"}}
	gw := &discord.Gateway{}
	for i, text := range corpus {
		m := &discordgo.Message{ID: fmt.Sprint(i), ChannelID: "c", GuildID: "g", Content: text,
			Author: &discordgo.User{ID: "u", Username: "alice"}}
		snap, _ := gw.Snapshot(m, "bot")
		if !utf8.ValidString(snap.Content) || strings.ContainsRune(snap.Content, 0) {
			t.Errorf("case %d: the snapshot keeps text the database refuses", i)
		}
		mentions := activities.MatchMentions(snap.Content, names, "u")
		if triggers := activities.OrderTriggers("", mentions, "", 5); len(triggers) > 5 {
			t.Errorf("case %d: %d triggers, cap is 5", i, len(triggers))
		}
		msgs := prompt.Build(prompt.Input{Personality: store.Personality{DisplayName: "Lilith"}, Now: time.Now(),
			Message: prompt.Line{Speaker: "Alice", Role: "user", Content: snap.Content}})
		if len(msgs) < 2 {
			t.Errorf("case %d: no prompt", i)
		}
		cleaned := replyclean.Clean(text, "", "Lilith", snap.Content)
		_ = replyclean.Verdict(cleaned, snap.Content, "")
		for _, chunk := range discord.Chunk(store.CleanText(text), discord.MaxMessageLength) {
			if !utf8.ValidString(chunk) || len([]rune(chunk)) > discord.MaxMessageLength {
				t.Errorf("case %d: a chunk Discord would refuse", i)
			}
		}
	}
	t.Logf("%d bad messages, each with a defined outcome", len(corpus))
}

// A sample of the corpus through the real system: each message either starts nothing
// (it names nobody) or finishes with a reply or the character's error message.
func TestBadInputSampleEndToEnd(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	corpus := badMessages()
	for i := 0; i < len(corpus); i += 13 {
		text := corpus[i]
		if len(text) > 4000 {
			text = text[:4000] // Discord refuses longer messages before we see them
		}
		msg := s.sim.Say(ch.ID, s.user.ID, text)
		if !strings.Contains(text, "@") {
			continue // no trigger: the gateway starts nothing (checked in the e2e tests)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		res, err := s.st.WaitConversation(ctx, msg.ID)
		cancel()
		if err != nil && !strings.Contains(err.Error(), "never started") {
			t.Errorf("case %d: %v", i, err)
		}
		for _, r := range res.Replies {
			if len(r.MessageIDs) == 0 {
				t.Errorf("case %d: %s delivered nothing (%s)", i, r.Slug, r.Reason)
			}
		}
	}
}

// Malformed and unexpected interactions get an answer (or, for autocomplete, a list) and
// never take the bot down.
func TestMalformedInteractions(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	ask := func(i *discordgo.Interaction) *discordgo.InteractionResponse {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, err := s.sim.WaitForInteractionResponse(ctx, i.ID)
		if err != nil {
			t.Errorf("no answer to %+v", i.Data)
		}
		return r
	}
	cases := []*discordgo.Interaction{
		s.sim.Interact(ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "no-such-command"}),
		s.sim.Interact(ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "persona"}),
		s.sim.Interact(ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "persona", Options: sub("no-such-sub")}),
		s.sim.Interact(ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "persona", Options: sub("default", &discordgo.ApplicationCommandInteractionDataOption{Name: "persona", Type: discordgo.ApplicationCommandOptionInteger, Value: 42.0})}),
		s.sim.Interact(ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "channel", Options: sub("activate", str("character", strings.Repeat("x", 5000)))}),
		s.sim.Interact(ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "settings", Options: sub("apikey")}),
		s.sim.Interact(ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "preset", Options: sub("view", str("preset", "\xff\xfe"))}),
		s.sim.Interact(ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "character", Options: sub("view", str("character", "@@@"))}),
		s.sim.SubmitModal(ch.ID, s.user.ID, "no-such-form", map[string]string{"x": "y"}),
		s.sim.SubmitModal(ch.ID, s.user.ID, "persona-edit:not-a-uuid", map[string]string{"preferred_name": "x"}),
		s.sim.SubmitModal(ch.ID, s.user.ID, "persona-create", map[string]string{"name": strings.Repeat("n", 5000), "preferred_name": "\x00"}),
		s.sim.SubmitModal(ch.ID, s.user.ID, "apikey-set:nonsense", map[string]string{"key": "sk-x"}),
		s.sim.SubmitModal(ch.ID, s.user.ID, "apikey-set:openrouter", map[string]string{"key": "has spaces in it"}),
		s.sim.Click(ch.ID, s.user.ID, "no-such-button:1"),
		s.sim.Click(ch.ID, s.user.ID, ":"),
		s.sim.Click(ch.ID, s.user.ID, ""),
	}
	for i, in := range cases {
		r := ask(in)
		if r == nil {
			continue
		}
		if r.Type == discordgo.InteractionResponseChannelMessageWithSource && (r.Data == nil || r.Data.Content == "" && len(r.Data.Embeds) == 0) {
			t.Errorf("case %d: an empty answer", i)
		}
	}
	auto := s.sim.Autocomplete(ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "channel", Options: sub("activate",
		&discordgo.ApplicationCommandInteractionDataOption{Name: "character", Type: discordgo.ApplicationCommandOptionString, Value: "\xff%_'", Focused: true})})
	if r := ask(auto); r != nil && r.Type != discordgo.InteractionApplicationCommandAutocompleteResult {
		t.Errorf("autocomplete answered %v", r.Type)
	}
	// The bot is still alive and answering.
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith still fine?")
	if res := s.waitConversation(t, msg.ID); len(res.Replies) != 1 {
		t.Fatalf("after the malformed interactions: %+v", res)
	}
}
