package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/embed"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/store/storetest"
)

// memActs is the shared activities with another embedder.
func memActs(t *testing.T, e activities.Embedder) *activities.Activities {
	t.Helper()
	if testing.Short() {
		t.Skip("integration: skipped with -short")
	}
	a := *acts
	a.Embedder = e
	return &a
}

// brokenEmbedder fails like a provider that is down; it claims Local's vector space.
type brokenEmbedder struct{}

func (brokenEmbedder) Embed(context.Context, string) ([]float32, error) {
	return nil, temporal.NewApplicationError("the embeddings provider answered 503", "llm_server")
}
func (brokenEmbedder) ID() string { return embed.LocalModel }

// hangingEmbedder never answers (a provider that accepts the connection and stalls).
type hangingEmbedder struct{}

func (hangingEmbedder) Embed(ctx context.Context, _ string) ([]float32, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (hangingEmbedder) ID() string { return embed.LocalModel }

// shortEmbedder answers with the wrong dimension.
type shortEmbedder struct{}

func (shortEmbedder) Embed(context.Context, string) ([]float32, error) {
	return []float32{1, 0, 0}, nil
}
func (shortEmbedder) ID() string { return embed.LocalModel }

// refusingKeys is a key source whose free tier is used up.
type refusingKeys struct{}

func (refusingKeys) Resolve(context.Context, string, string) (activities.KeyHandle, error) {
	return activities.KeyHandle{}, activities.NonRetryable(activities.ErrTypeGuestQuota, errors.New("the free tier is used up for today"))
}
func (refusingKeys) Reveal(context.Context, activities.KeyHandle) (string, string, error) {
	return "", "", errors.New("unreachable")
}

func memUser(t *testing.T, name string) (store.User, activities.UserRef) {
	t.Helper()
	u, err := db.Store.Users.Ensure(context.Background(), "mem-"+name, name, "Alice")
	if err != nil {
		t.Fatal(err)
	}
	return u, activities.UserRef{ID: u.ID, PersonaID: u.DefaultPersonaID, DisplayName: "Alice"}
}

func turnInput(id string, p activities.PersonalityRef, u activities.UserRef, said, reply string) activities.RecordTurnInput {
	return activities.RecordTurnInput{
		WorkflowID: "msg-" + id, Personality: p, User: u, Key: activities.KeyHandle{Provider: "openrouter", Guest: true},
		Message: activities.MessageSnapshot{ID: id, ChannelID: "mem-channel", Content: said, CreatedAt: time.Now()},
		Reply:   activities.CallLLMResult{Text: reply, Model: "stub-model"}, MessageIDs: []string{id + "-r"},
	}
}

func activeMemories(t *testing.T, u store.User, personalityID string) []store.Memory {
	t.Helper()
	p, err := db.Store.Memories.Browse(context.Background(), u.ID, personalityID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return p.Memories
}

func TestRecordTurnRemembersUnlessIncognito(t *testing.T) {
	a := memActs(t, embed.Local{})
	ctx := context.Background()
	p := personality(t, "memwriter")
	u, ref := memUser(t, "writer")

	in := turnInput("mw-1", p, ref, "my cat is called Biscuit", "Biscuit is a fine name.")
	res, err := a.RecordTurn(ctx, in)
	if err != nil || res.MemoryID == "" || res.MemorySkipped != "" {
		t.Fatalf("record: %+v, %v", res, err)
	}
	again, err := a.RecordTurn(ctx, in) // a retried activity
	if err != nil || again.MemoryID != res.MemoryID {
		t.Fatalf("retry wrote another memory: %+v, %v", again, err)
	}
	ms := activeMemories(t, u, p.ID)
	if len(ms) != 1 || ms[0].Embedder != embed.LocalModel || !strings.Contains(ms[0].Content, `Alice said: "my cat is called Biscuit"; Memwriter answered`) ||
		len(ms[0].SourceMessageIDs) != 2 {
		t.Fatalf("memories = %+v", ms)
	}

	if err := db.Store.Memories.SetModes(ctx, u.ID, store.MemoryModes{Incognito: true}); err != nil {
		t.Fatal(err)
	}
	res, err = a.RecordTurn(ctx, turnInput("mw-2", p, ref, "a secret", "I will forget it."))
	if err != nil || res.MemorySkipped != "incognito" || len(activeMemories(t, u, p.ID)) != 1 {
		t.Fatalf("incognito: %+v, %v", res, err)
	}
	if err := db.Store.Memories.SetModes(ctx, u.ID, store.MemoryModes{}); err != nil {
		t.Fatal(err)
	}

	// The provider is down: the memory is kept without a vector for the re-embed job.
	broken := memActs(t, brokenEmbedder{})
	res, err = broken.RecordTurn(ctx, turnInput("mw-3", p, ref, "I start a new job on Monday", "Good luck!"))
	if err != nil || res.MemorySkipped != "pending" {
		t.Fatalf("provider down: %+v, %v", res, err)
	}
	if m, _ := db.Store.Memories.ByIDs(ctx, []string{res.MemoryID}); len(m) != 1 || m[0].Embedder != "" {
		t.Fatalf("pending memory = %+v", m)
	}

	// The provider hangs: the turn is recorded within its own timeout all the same.
	started := time.Now()
	res, err = memActs(t, hangingEmbedder{}).RecordTurn(ctx, turnInput("mw-hang", p, ref, "I like long walks", "Me too."))
	if err != nil || res.MemorySkipped != "pending" || time.Since(started) > 10*time.Second {
		t.Fatalf("hanging provider: %+v, %v after %v", res, err, time.Since(started))
	}

	// Past the quota the lowest-value memories are archived.
	if err := db.Store.Memories.PutSettings(ctx, json.RawMessage(`{"quota": 2}`)); err != nil {
		t.Fatal(err)
	}
	defer db.Store.Memories.PutSettings(ctx, json.RawMessage(`{}`))
	if _, err := a.RecordTurn(ctx, turnInput("mw-4", p, ref, "one more", "noted")); err != nil {
		t.Fatal(err)
	}
	if n := len(activeMemories(t, u, p.ID)); n != 2 {
		t.Fatalf("%d active memories over a quota of 2", n)
	}
}

func TestRetrieveMemoriesRecallsAndSurvivesABrokenEmbedder(t *testing.T) {
	a := memActs(t, embed.Local{})
	ctx := context.Background()
	p := personality(t, "memreader")
	u, ref := memUser(t, "reader")
	for i, said := range []string{"my cat is called Biscuit", "Biscuit sleeps on the radiator all day", "I work night shifts at the hospital"} {
		if _, err := a.RecordTurn(ctx, turnInput("mr-"+string(rune('a'+i)), p, ref, said, "I see.")); err != nil {
			t.Fatal(err)
		}
	}
	in := activities.RetrieveMemoriesInput{Query: "what is my cat called?", PersonaID: ref.PersonaID, PersonalityID: p.ID}
	res, err := a.RetrieveMemories(ctx, in)
	if err != nil || len(res.MemoryIDs) == 0 {
		t.Fatalf("retrieve: %+v, %v", res, err)
	}
	first, _ := db.Store.Memories.ByIDs(ctx, res.MemoryIDs[:1])
	if !strings.Contains(first[0].Content, "my cat is called Biscuit") || first[0].LastRecalledAt.IsZero() || first[0].Salience <= 0.5 {
		t.Fatalf("recalled = %+v (of %d)", first[0], len(res.MemoryIDs))
	}
	for _, m := range activeMemories(t, u, p.ID) {
		if strings.Contains(m.Content, "night shifts") && contains(res.MemoryIDs, m.ID) {
			t.Fatalf("an unrelated memory passed the threshold: %q", m.Content)
		}
	}
	if len(res.MemoryIDs) >= 2 {
		if links, _ := db.Store.Memories.LinksAmong(ctx, res.MemoryIDs); len(links) == 0 {
			t.Fatal("memories recalled together were not linked")
		}
	}

	// Nothing passes a threshold of 1; a memory_limit of 1 returns one.
	one := 1.0
	if r, _ := a.RetrieveMemories(ctx, activities.RetrieveMemoriesInput{Query: in.Query, PersonaID: ref.PersonaID, PersonalityID: p.ID, ScoreThreshold: &one}); len(r.MemoryIDs) != 0 {
		t.Fatalf("threshold 1 kept %v", r.MemoryIDs)
	}
	zero := 0.0
	if r, _ := a.RetrieveMemories(ctx, activities.RetrieveMemoriesInput{Query: in.Query, PersonaID: ref.PersonaID, PersonalityID: p.ID, Limit: 1, ScoreThreshold: &zero}); len(r.MemoryIDs) != 1 {
		t.Fatalf("limit 1 gave %v", r.MemoryIDs)
	}

	// /memory fresh: nothing is recalled.
	if err := db.Store.Memories.SetModes(ctx, u.ID, store.MemoryModes{Fresh: true}); err != nil {
		t.Fatal(err)
	}
	if r, err := a.RetrieveMemories(ctx, in); err != nil || len(r.MemoryIDs) != 0 || r.Skipped != "fresh" {
		t.Fatalf("fresh: %+v, %v", r, err)
	}
	if err := db.Store.Memories.SetModes(ctx, u.ID, store.MemoryModes{}); err != nil {
		t.Fatal(err)
	}

	// A provider that is down, or a model of the wrong dimension: no memories, no error.
	for name, e := range map[string]activities.Embedder{"down": brokenEmbedder{}, "wrong dimension": shortEmbedder{}} {
		r, err := memActs(t, e).RetrieveMemories(ctx, in)
		if err != nil || len(r.MemoryIDs) != 0 || !strings.HasPrefix(r.Skipped, "embedder unavailable") {
			t.Fatalf("%s: %+v, %v", name, r, err)
		}
	}
	// Memories of another embedder are not searched with this one.
	other := memActs(t, activities.LLMEmbedder{Client: acts.LLM, Keys: acts.Keys, Model: "text-embedding-3-small"})
	if r, err := other.RetrieveMemories(ctx, in); err != nil || len(r.MemoryIDs) != 0 {
		t.Fatalf("another embedder found %v, %v", r.MemoryIDs, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// oldTurns writes n turn memories three days old in a scope, with Local vectors.
func oldTurns(t *testing.T, scope activities.MemoryScope, texts ...string) []string {
	t.Helper()
	var ids []string
	for i, c := range texts {
		vec, _ := embed.Local{}.Embed(context.Background(), c)
		id, _, err := db.Store.Memories.Write(context.Background(), store.Memory{PersonaID: scope.PersonaID, PersonalityID: scope.PersonalityID,
			Content: c, Embedding: vec, Embedder: embed.LocalModel, Origin: store.OriginTurn, Salience: 0.5,
			CreatedAt: time.Now().Add(-72*time.Hour + time.Duration(i)*time.Minute), SourceMessageIDs: []string{"src-" + strconv.Itoa(i)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestSummarizeStretchSkipsBadAnswersAndReplacesOnAGoodOne(t *testing.T) {
	a := memActs(t, embed.Local{})
	t.Cleanup(func() { stub.SetReply(nil) })
	ctx := context.Background()
	p := personality(t, "memsummary")
	u, ref := memUser(t, "summary")
	scope := activities.MemoryScope{PersonaID: ref.PersonaID, PersonalityID: p.ID, UserID: u.ID}
	ids := oldTurns(t, scope, `Alice said: "my cat is called Biscuit"`, `Alice said: "I work nights"`,
		`Alice said: "Biscuit hates the vet"`, `Alice said: "I am learning the cello"`)
	in := activities.SummarizeStretchInput{RunID: "summarize-test", Scope: scope}
	later := func(h int) func() time.Time {
		return func() time.Time { return time.Now().Add(time.Duration(h) * time.Hour) }
	}

	for i, tc := range []struct{ reply, reason string }{
		{"", "the summary is empty"},
		{strings.Repeat("blah ", 1000), "longer than twice its stretch"},
	} {
		stub.SetReply(func(llmtest.ChatRequest) string { return tc.reply })
		a.Now = later(25 * i) // past the previous skip's retry time
		res, err := a.SummarizeStretch(ctx, in)
		if err != nil || res.Status != activities.StretchSkipped || !strings.Contains(res.Reason, tc.reason) {
			t.Fatalf("reply %q: %+v, %v", tc.reply[:min(10, len(tc.reply))], res, err)
		}
		if ms, _ := db.Store.Memories.ByIDs(ctx, ids); len(ms) != 4 || ms[0].Archived {
			t.Fatal("a skipped stretch lost its memories")
		}
	}
	// A skipped stretch waits: the next hour finds nothing to do.
	if res, err := a.SummarizeStretch(ctx, in); err != nil || res.Status != activities.StretchNothing {
		t.Fatalf("right after a skip: %+v, %v", res, err)
	}
	// The free tier is used up: skipped with the reason, nothing called.
	refused := memActs(t, embed.Local{})
	refused.Keys, refused.Now = refusingKeys{}, later(60)
	if res, err := refused.SummarizeStretch(ctx, in); err != nil || res.Status != activities.StretchSkipped || !strings.Contains(res.Reason, "free tier") {
		t.Fatalf("refused: %+v, %v", res, err)
	}

	stub.SetReply(func(llmtest.ChatRequest) string {
		return "Summary: Alice works nights, is learning the cello and has a cat, Biscuit, who hates the vet."
	})
	a.Now = later(90)
	res, err := a.SummarizeStretch(ctx, in)
	if err != nil || res.Status != activities.StretchSummarized || res.Archived != 4 || res.More {
		t.Fatalf("summarize: %+v, %v", res, err)
	}
	sum, _ := db.Store.Memories.ByIDs(ctx, []string{res.MemoryID})
	if len(sum) != 1 || sum[0].Origin != store.OriginSummary || !strings.HasPrefix(sum[0].Content, "Alice works nights") || len(sum[0].SourceMessageIDs) != 4 {
		t.Fatalf("summary memory = %+v", sum)
	}
	for _, m := range activeMemories(t, u, p.ID) {
		if m.Origin == store.OriginTurn {
			t.Fatalf("an original is still active: %+v", m)
		}
	}
	var kind string
	if err := db.Store.Pool.QueryRow(ctx, `SELECT kind FROM usage_logs WHERE workflow_id = $1`, "summarize-test:"+ids[0]).Scan(&kind); err != nil || kind != "summarize" {
		t.Fatalf("usage kind = %q, %v", kind, err)
	}
}

func TestDreamMergesReflectsAndRecords(t *testing.T) {
	a := memActs(t, embed.Local{})
	t.Cleanup(func() { stub.SetReply(nil) })
	ctx := context.Background()
	p := personality(t, "memdream")
	u, ref := memUser(t, "dream")
	scope := activities.MemoryScope{PersonaID: ref.PersonaID, PersonalityID: p.ID, UserID: u.ID}
	oldTurns(t, scope, "Alice adopted a corgi named Waffles", "Alice adopted a corgi named Waffles!", "Alice is learning the cello",
		"Alice loves rainy mornings")
	if err := db.Store.History.Append(ctx, store.Turn{ChannelID: "dream-ch", PersonalityID: p.ID, PersonaID: ref.PersonaID, UserID: u.ID,
		Role: "user", Content: "hi", DiscordMessageID: "dream-msg"}); err != nil {
		t.Fatal(err)
	}
	page, err := a.FindDreamScopes(ctx, activities.FindScopesInput{Since: time.Now().Add(-time.Hour), Limit: 1000})
	if err != nil || !scopeIn(page.Scopes, scope) {
		t.Fatalf("dream scopes = %+v, %v", page, err)
	}
	var prompt string
	stub.SetReply(func(r llmtest.ChatRequest) string {
		prompt = r.Messages[0].Content
		return "REFLECTION: Alice fills her days with music and a small loud dog.\nCONTRADICTION: 3 4: nothing really"
	})
	in := activities.DreamInput{RunID: "dream-test", Scope: scope}
	res, err := a.Dream(ctx, in)
	if err != nil || res.DreamID == "" || res.Merged != 1 || res.Added != 1 || res.Contradictions < 1 {
		t.Fatalf("dream: %+v, %v", res, err)
	}
	if !strings.Contains(prompt, "You are Memdream") {
		t.Fatalf("the dream was not asked in the character's voice: %q", prompt)
	}
	again, err := a.Dream(ctx, in) // a retried activity
	if err != nil || again.DreamID != res.DreamID {
		t.Fatalf("retry: %+v, %v", again, err)
	}
	dreams, err := db.Store.Memories.Dreams(ctx, scope.Store())
	if err != nil || len(dreams) != 1 {
		t.Fatalf("dreams = %+v, %v", dreams, err)
	}
	var n int
	if err := db.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM usage_logs WHERE kind = 'dream' AND user_id = $1`, u.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("dream usage rows = %d, %v", n, err)
	}
	// A model that answers nonsense still merges nothing twice and records no empty dream.
	stub.SetReply(nil)
	res, err = a.Dream(ctx, activities.DreamInput{RunID: "dream-test-2", Scope: scope})
	if err != nil || res.Added != 0 || res.Merged != 0 {
		t.Fatalf("second night: %+v, %v", res, err)
	}
}

func scopeIn(list []activities.MemoryScope, s activities.MemoryScope) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestReembedMemoriesRewritesOtherEmbeddersAndPending(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: skipped with -short")
	}
	ctx := context.Background()
	own, err := storetest.New(ctx, "reembed") // its own database: re-embedding touches every row
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	a := *acts
	a.Store, a.Embedder = own.Store, embed.Local{}
	p, err := own.Store.Personalities.Upsert(ctx, store.Personality{Slug: "re", Name: "Re", DisplayName: "Re", IsPublic: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := own.Store.Users.Ensure(ctx, "re-user", "re", "Re")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []string{"one", "two", "three", "four", "five"} {
		m := store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Content: c}
		if i%2 == 0 {
			m.Embedding, m.Embedder = llmtest.Vector(c, store.EmbeddingDim), "openai:old-model"
		}
		if _, _, err := own.Store.Memories.Write(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := a.CountStaleMemories(ctx, activities.ReembedInput{}); err != nil || st.Stale != 5 || st.Embedder != embed.LocalModel {
		t.Fatalf("stale = %+v, %v", st, err)
	}
	// The provider is down: a retryable error, nothing changed.
	down := a
	down.Embedder = brokenEmbedder{}
	if _, err := down.ReembedMemories(ctx, activities.ReembedInput{Limit: 2}); err == nil {
		t.Fatal("a provider outage was not an error")
	}
	// A model of the wrong dimension: non-retryable.
	short := a
	short.Embedder = shortEmbedder{}
	_, err = short.ReembedMemories(ctx, activities.ReembedInput{Limit: 2})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() {
		t.Fatalf("wrong dimension: %v", err)
	}
	if _, err := a.ReembedMemories(ctx, activities.ReembedInput{Embedder: "openai:other"}); err == nil {
		t.Fatal("a job for another embedder ran")
	}
	total := 0
	for in := (activities.ReembedInput{Limit: 2}); ; {
		r, err := a.ReembedMemories(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		total += r.Embedded
		if r.Done {
			break
		}
		in.After = r.Last
	}
	if st, _ := a.CountStaleMemories(ctx, activities.ReembedInput{}); total != 5 || st.Stale != 0 {
		t.Fatalf("re-embedded %d, %d still stale", total, st.Stale)
	}
}
