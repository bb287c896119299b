package activities_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/activities/prompt"
	"github.com/tzurot/tzurot/discord"
	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/store/storetest"
)

// Activities run here against real PostgreSQL, the Discord simulator and the LLM stub,
// inside the SDK's activity test environment (no Temporal server needed).
const apiKey = "sk-or-v1-activit-test000-0000000-0000000-0000000-0000000-000000000"

var (
	db   *storetest.DB
	sim  *discordtest.Server
	stub *llmtest.Stub
	acts *activities.Activities
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	ctx := context.Background()
	var err error
	if db, err = storetest.New(ctx, "activities"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if sim, err = discordtest.New(discordtest.Options{BotToken: "tok"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stub = llmtest.New(llmtest.Options{APIKeys: []string{apiKey}})
	session, err := sim.NewSession("tok")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	session.MaxRestRetries = 0
	client := llm.New(llm.Config{BaseURL: stub.URL()})
	keys := activities.SystemKey{Provider: "openrouter", APIKey: apiKey}
	cfg := activities.DefaultConfig()
	cfg.Model = "stub-model"
	acts = &activities.Activities{
		Store: db.Store, Discord: discord.NewREST(session, sim.BotUser().ID, nil), LLM: client, Keys: keys,
		Embedder: activities.LLMEmbedder{Client: client, Keys: keys, Model: "text-embedding-3-small"},
		Config:   cfg,
	}
	code := m.Run()
	stub.Close()
	sim.Close()
	db.Close()
	os.Exit(code)
}

func env(t *testing.T) *testsuite.TestActivityEnvironment {
	t.Helper()
	if testing.Short() {
		t.Skip("integration: skipped with -short")
	}
	var ts testsuite.WorkflowTestSuite
	e := ts.NewTestActivityEnvironment()
	e.RegisterActivity(acts)
	return e
}

func personality(t *testing.T, slug string) activities.PersonalityRef {
	t.Helper()
	p, err := db.Store.Personalities.Upsert(context.Background(), store.Personality{Slug: slug, Name: slug, DisplayName: strings.ToUpper(slug[:1]) + slug[1:], IsPublic: true})
	if err != nil {
		t.Fatal(err)
	}
	return activities.PersonalityRef{ID: p.ID, Slug: p.Slug, DisplayName: p.DisplayName}
}

func world(t *testing.T) (*discordgo.Channel, *discordgo.User) {
	g := sim.AddGuild(t.Name())
	return sim.AddChannel(g.ID, "general"), sim.AddUser("alice", "Alice")
}

// A worker that died after Discord accepted a chunk but before the delivery was recorded
// must not post it again on the retry.
func TestDeliverReplyFindsAChunkPostedByAnEarlierAttempt(t *testing.T) {
	e := env(t)
	ctx := context.Background()
	ch, _ := world(t)
	p := personality(t, "echo")
	in := activities.DeliverReplyInput{WorkflowID: "msg-crash-1", Message: activities.MessageSnapshot{ID: "1", ChannelID: ch.ID, GuildID: ch.GuildID}, Personality: p, Text: "the only reply"}

	// The first attempt: reserved, posted, then the process died.
	if _, _, err := db.Store.Deliveries.Reserve(ctx, store.Delivery{WorkflowID: in.WorkflowID, PersonalityID: p.ID, ChunkIndex: 0, ChannelID: ch.ID, ContentHash: store.ContentHash(in.Text)}); err != nil {
		t.Fatal(err)
	}
	posted, err := acts.Discord.Post(ctx, activities.PostTarget{ChannelID: ch.ID, GuildID: ch.GuildID, Username: p.DisplayName}, in.Text)
	if err != nil {
		t.Fatal(err)
	}
	before := len(sim.WebhookPosts())

	v, err := e.ExecuteActivity(acts.DeliverReply, in)
	if err != nil {
		t.Fatal(err)
	}
	var res activities.DeliverReplyResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	if len(sim.WebhookPosts()) != before {
		t.Fatalf("the retry posted the chunk again")
	}
	if len(res.MessageIDs) != 1 || res.MessageIDs[0] != posted {
		t.Fatalf("result %v, want the earlier post %s", res.MessageIDs, posted)
	}
	// And once recorded, a further retry is a no-op too.
	if _, err := e.ExecuteActivity(acts.DeliverReply, in); err != nil {
		t.Fatal(err)
	}
	if len(sim.WebhookPosts()) != before {
		t.Fatalf("a recorded delivery was posted again")
	}
}

func TestDeliverReplyInAThreadUsesTheParentsWebhook(t *testing.T) {
	e := env(t)
	ch, _ := world(t)
	th := sim.AddThread(ch.ID, "thread")
	p := personality(t, "threader")
	in := activities.DeliverReplyInput{WorkflowID: "msg-thread-1", Personality: p, Text: "in the thread",
		Message: activities.MessageSnapshot{ID: "2", ChannelID: th.ID, ParentChannelID: ch.ID, GuildID: ch.GuildID}}
	if _, err := e.ExecuteActivity(acts.DeliverReply, in); err != nil {
		t.Fatal(err)
	}
	posts := sim.WebhookPosts()
	last := posts[len(posts)-1]
	if last.ThreadID != th.ID || last.ChannelID != ch.ID || last.Username != "Threader" {
		t.Fatalf("post = %+v, want the parent's webhook addressed to the thread", last)
	}
}

func TestFetchContextAttributesSpeakersAndKeepsTheBudget(t *testing.T) {
	e := env(t)
	ch, alice := world(t)
	p := personality(t, "ctx")
	bobUser := sim.AddUser("bob", "Bob")
	sim.Say(ch.ID, alice.ID, "first message from alice")
	sim.Say(ch.ID, bobUser.ID, strings.Repeat("very long rambling ", 400))
	sim.Say(ch.ID, alice.ID, "recent message")
	trigger := sim.Say(ch.ID, alice.ID, "@Ctx what now?")
	in := activities.FetchContextInput{WorkflowID: "msg-ctx-1", Personality: p,
		Message:      activities.MessageSnapshot{ID: trigger.ID, ChannelID: ch.ID, GuildID: ch.GuildID, Content: trigger.Content, CreatedAt: time.Now()},
		PriorReplies: []activities.PriorReply{{DisplayName: "Lilith", Text: "I spoke first"}}}
	v, err := e.ExecuteActivity(acts.FetchContext, in)
	if err != nil {
		t.Fatal(err)
	}
	var res activities.FetchContextResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	var tc activities.TurnContext
	if err := db.Store.TurnContexts.Get(context.Background(), in.WorkflowID, p.ID, &tc); err != nil {
		t.Fatal(err)
	}
	lines := tc.Lines
	if res.Tokens > acts.Config.ContextTokens {
		t.Errorf("context uses %d tokens, budget %d", res.Tokens, acts.Config.ContextTokens)
	}
	text := fmt.Sprint(lines)
	for _, want := range []string{"Alice", "recent message", "Lilith (character)", "I spoke first"} {
		if !strings.Contains(text, want) {
			t.Errorf("context lacks %q: %s", want, text)
		}
	}
	if strings.Contains(text, "what now?") {
		t.Error("the trigger message is in its own context")
	}
	if last := lines[len(lines)-1]; last.Content != "I spoke first" {
		t.Errorf("prior replies should come last, got %+v", last)
	}
}

func TestTrimToBudgetDropsOldestFirst(t *testing.T) {
	lines := []prompt.Line{{Content: "old"}, {Content: "middle"}, {Content: "new"}}
	count := func(s string) int { return len(s) }
	got, total := activities.TrimToBudget(lines, 4+3+4+6, count)
	if len(got) != 2 || got[0].Content != "middle" || total != 17 {
		t.Fatalf("got %+v (%d)", got, total)
	}
	if all, _ := activities.TrimToBudget(lines, 0, count); len(all) != 3 {
		t.Fatal("budget 0 must keep everything")
	}
}

func TestRetrieveMemoriesFindsTheNearest(t *testing.T) {
	e := env(t)
	ctx := context.Background()
	p := personality(t, "rememberer")
	u, err := db.Store.Users.Ensure(ctx, "mem-user", "m", "M")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"Alice adopted a cat named Miso", "Alice works as a nurse", "Alice is learning Japanese"}
	for _, txt := range texts {
		if _, err := db.Store.Memories.Insert(ctx, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Content: txt, Embedding: llmtest.Vector(txt, store.EmbeddingDim), Embedder: activities.EmbedderID(acts.Embedder)}); err != nil {
			t.Fatal(err)
		}
	}
	v, err := e.ExecuteActivity(acts.RetrieveMemories, activities.RetrieveMemoriesInput{Query: texts[1], PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Limit: 2, ScoreThreshold: new(0.0)})
	if err != nil {
		t.Fatal(err)
	}
	var res activities.RetrieveMemoriesResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	mems, err := db.Store.Memories.ByIDs(ctx, res.MemoryIDs)
	if err != nil || len(mems) != 2 || mems[0].Content != texts[1] {
		t.Fatalf("memories = %+v, %v; want %q first", mems, err, texts[1])
	}
}

func TestResolvePersonalities(t *testing.T) {
	e := env(t)
	ctx := context.Background()
	ch, alice := world(t)
	a := personality(t, "resolver-a")
	b := personality(t, "resolver-b")
	if _, _, err := db.Store.Deliveries.Reserve(ctx, store.Delivery{WorkflowID: "msg-r", PersonalityID: b.ID, ChunkIndex: 0, ChannelID: ch.ID, ContentHash: "h"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.Deliveries.MarkDelivered(ctx, store.Delivery{WorkflowID: "msg-r", PersonalityID: b.ID, ChunkIndex: 0, DiscordMessageID: "b-said"}); err != nil {
		t.Fatal(err)
	}
	run := func(content, replyTo string) []string {
		v, err := e.ExecuteActivity(acts.ResolvePersonalities, activities.ResolvePersonalitiesInput{Message: activities.MessageSnapshot{
			ID: "x", ChannelID: ch.ID, GuildID: ch.GuildID, AuthorID: alice.ID, AuthorUsername: "alice", Content: content, ReferencedMessageID: replyTo}})
		if err != nil {
			t.Fatal(err)
		}
		var res activities.ResolvePersonalitiesResult
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		var slugs []string
		for _, p := range res.Personalities {
			slugs = append(slugs, p.Slug)
		}
		if len(slugs) > 0 && (res.User.ID == "" || res.User.PersonaID == "") {
			t.Errorf("no user resolved for %q", content)
		}
		return slugs
	}
	if got := run("@resolver-a hi", ""); fmt.Sprint(got) != "[resolver-a]" {
		t.Errorf("mention: %v", got)
	}
	if got := run("@resolver-a too", "b-said"); fmt.Sprint(got) != "[resolver-b resolver-a]" {
		t.Errorf("reply target first: %v", got)
	}
	if got := run("@nobody-at-all", ""); len(got) != 0 {
		t.Errorf("unknown name: %v", got)
	}
	if err := db.Store.Channels.Activate(ctx, ch.ID, ch.GuildID, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := run("no mention at all", ""); fmt.Sprint(got) != "[resolver-a]" {
		t.Errorf("activated channel: %v", got)
	}
}

func TestVisionModelsGetImagePartsAndCapsApply(t *testing.T) {
	e := env(t)
	vision := *acts
	vision.Config.Vision, vision.Config.MaxImages = true, 1
	e.RegisterActivity(&vision)
	p := personality(t, "seer")
	if err := db.Store.TurnContexts.Put(context.Background(), "msg-vision", p.ID, activities.TurnContext{}); err != nil {
		t.Fatal(err)
	}
	before := len(stub.Requests())
	in := activities.CallLLMInput{WorkflowID: "msg-vision", Personality: p, User: activities.UserRef{DisplayName: "Ann"},
		Key: activities.KeyHandle{Provider: "openrouter", Guest: true},
		Message: activities.MessageSnapshot{ID: "v1", ChannelID: "c", GuildID: "g", Content: "@Seer what is this?", Attachments: []activities.Attachment{
			{URL: "https://cdn.discordapp.com/attachments/1/2/a.png", Filename: "a.png", ContentType: "image/png"},
			{URL: "https://cdn.discordapp.com/attachments/1/2/b.png", Filename: "b.png", ContentType: "image/png"},
		}}}
	if _, err := e.ExecuteActivity(vision.CallLLM, in); err != nil {
		t.Fatal(err)
	}
	reqs := stub.Requests()[before:]
	if len(reqs) != 1 {
		t.Fatalf("%d LLM calls, want 1 (no description call when the model sees)", len(reqs))
	}
	body := string(reqs[0].Body)
	if !strings.Contains(body, `"image_url"`) || !strings.Contains(body, "a.png") || strings.Contains(body, `b.png","detail`) {
		t.Fatalf("request body lacks the first image part or carries the second:\n%s", body)
	}
	if !strings.Contains(body, "not shown: at most 1 images") {
		t.Errorf("the capped image is not noted:\n%s", body)
	}
}

func TestNotOlderThan(t *testing.T) {
	now := time.Now()
	lines := []prompt.Line{{Content: "old", At: now.Add(-48 * time.Hour)}, {Content: "new", At: now}, {Content: "timeless"}}
	got := activities.NotOlderThan(lines, now.Add(-time.Hour))
	if len(got) != 2 || got[0].Content != "new" || got[1].Content != "timeless" {
		t.Fatalf("got %+v", got)
	}
}

// The free tier at its limits: a user's bucket empties after Burst turns; the global
// daily cap stops every guest once reached; a user with their own key is never limited.
func TestGuestTierAtItsQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	ctx := context.Background()
	u, err := db.Store.Users.Ensure(ctx, "guest-quota-user", "g", "G")
	if err != nil {
		t.Fatal(err)
	}
	keys := &activities.UserKeys{Usage: db.Store.Usage, Provider: "openrouter",
		System: activities.SystemKey{Provider: "openrouter", APIKey: apiKey},
		Guest:  activities.GuestPolicy{FreeModels: []string{"free-model"}, TurnsPerHour: 1, Burst: 2}}
	for i := 0; i < 2; i++ {
		h, err := keys.Resolve(ctx, u.ID, "p")
		if err != nil || !h.Guest {
			t.Fatalf("turn %d within the burst: %+v, %v", i+1, h, err)
		}
	}
	_, err = keys.Resolve(ctx, u.ID, "p")
	if err == nil || !strings.Contains(err.Error(), "/settings apikey set") {
		t.Fatalf("third turn: %v; want a GuestQuota error telling the user how to add a key", err)
	}
	// Another guest still has their own bucket.
	if _, err := keys.Resolve(ctx, "someone-else", "p"); err != nil {
		t.Fatalf("another guest: %v", err)
	}
	// The global daily cap: once guests together spent it, nobody gets the free tier.
	capped := &activities.UserKeys{Usage: db.Store.Usage, Provider: "openrouter",
		System: activities.SystemKey{Provider: "openrouter", APIKey: apiKey},
		Guest:  activities.GuestPolicy{TurnsPerHour: 1000, Burst: 1000, DailyTokenCap: 100}}
	if err := db.Store.Usage.Log(ctx, store.UsageLog{WorkflowID: "msg-cap", Provider: "openrouter", Model: "m", TokensIn: 90, TokensOut: 20, IsGuest: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := capped.Resolve(ctx, u.ID, "p"); err == nil || !strings.Contains(err.Error(), "used up for today") {
		t.Fatalf("past the daily cap: %v", err)
	}
	// A guest never reaches a paid model on the operator's key.
	if (activities.GuestPolicy{FreeModels: []string{"free-model"}}).Allows("paid/model") {
		t.Fatal("a paid model is allowed for guests")
	}
}
