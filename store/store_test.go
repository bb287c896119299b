package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/store/storetest"
)

var db *storetest.DB

func TestMain(m *testing.M) {
	ctx := context.Background()
	var err error
	db, err = storetest.New(ctx, "store")
	if err != nil {
		fmt.Fprintln(os.Stderr, "store tests need PostgreSQL with pgvector:", err)
		os.Exit(1)
	}
	code := m.Run()
	db.Close()
	os.Exit(code)
}

func lilith(t *testing.T, slug string) store.Personality {
	t.Helper()
	p, err := db.Store.Personalities.Upsert(context.Background(), store.Personality{
		Slug: slug, Name: "Lilith", DisplayName: "Lilith", CharacterInfo: "A demon of the night.",
		ErrorMessage: "Lilith is lost in thought.", IsPublic: true, Aliases: []string{slug + "-alias"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMigrateIsIdempotentAndRecorded(t *testing.T) {
	ctx := context.Background()
	applied, err := store.Migrate(ctx, db.Store)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Fatalf("second migrate applied %v, want nothing", applied)
	}
	m, err := store.NewMigrator(db.Store.Pool)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) == 0 {
		t.Fatal("no migrations reported")
	}
	for _, s := range st {
		if !s.Applied || s.At == "" {
			t.Errorf("migration %s not recorded as applied: %+v", s.Name, s)
		}
	}
	var ext string
	if err := db.Store.Pool.QueryRow(ctx, `SELECT extversion FROM pg_extension WHERE extname = 'vector'`).Scan(&ext); err != nil {
		t.Fatalf("vector extension missing: %v", err)
	}
}

func TestPersonalityUpsertAndNames(t *testing.T) {
	ctx := context.Background()
	p := lilith(t, "lilith-names")
	again, err := db.Store.Personalities.Upsert(ctx, store.Personality{Slug: "lilith-names", Name: "Lilith", DisplayName: "Lady Lilith", IsPublic: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != p.ID || again.DisplayName != "Lady Lilith" {
		t.Fatalf("upsert by slug changed id or kept old card: %+v", again)
	}
	names, err := db.Store.Personalities.Names(ctx, "123")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"Lilith": false, "Lady Lilith": false, "lilith-names": false, "lilith-names-alias": false}
	for _, n := range names {
		if n.PersonalityID == p.ID {
			if _, ok := want[n.Name]; ok {
				want[n.Name] = true
			}
		}
	}
	for n, seen := range want {
		if !seen {
			t.Errorf("name %q not listed", n)
		}
	}
	if _, err := db.Store.Personalities.BySlug(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("BySlug(nobody) = %v, want ErrNotFound", err)
	}
}

func TestInvalidSlugRejected(t *testing.T) {
	_, err := db.Store.Personalities.Upsert(context.Background(), store.Personality{Slug: "Bad Slug!", Name: "x"})
	if err == nil {
		t.Fatal("a slug with spaces was accepted")
	}
}

func TestUsersEnsureCreatesDefaultPersonaOnce(t *testing.T) {
	ctx := context.Background()
	a, err := db.Store.Users.Ensure(ctx, "42", "alice", "Alice")
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.Store.Users.Ensure(ctx, "42", "alice2", "Alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.DefaultPersonaID == "" || a.DefaultPersonaID != b.DefaultPersonaID {
		t.Fatalf("Ensure not idempotent: %+v vs %+v", a, b)
	}
}

func TestHistoryAppendIsIdempotent(t *testing.T) {
	ctx := context.Background()
	p := lilith(t, "lilith-history")
	turns := []store.Turn{
		{ChannelID: "c1", PersonalityID: p.ID, Role: "user", SpeakerName: "Alice", Content: "hello", DiscordMessageID: "m1"},
		{ChannelID: "c1", PersonalityID: p.ID, Role: "assistant", SpeakerName: "Lilith", Content: "hi", DiscordMessageID: "m2"},
	}
	for i := 0; i < 2; i++ {
		if err := db.Store.History.Append(ctx, turns...); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Store.History.Recent(ctx, "c1", p.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Content != "hello" || got[1].Role != "assistant" {
		t.Fatalf("history = %+v", got)
	}
}

func TestUsageLoggedOncePerWorkflow(t *testing.T) {
	ctx := context.Background()
	p := lilith(t, "lilith-usage")
	u := store.UsageLog{WorkflowID: "msg-1", PersonalityID: p.ID, Provider: "openrouter", Model: "m", TokensIn: 10, TokensOut: 5}
	for i := 0; i < 3; i++ {
		if err := db.Store.Usage.Log(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.Store.Usage.CountForWorkflow(ctx, "msg-1")
	if err != nil || n != 1 {
		t.Fatalf("usage rows = %d, %v; want 1", n, err)
	}
}

func TestDeliveriesReserveThenDeliver(t *testing.T) {
	ctx := context.Background()
	p := lilith(t, "lilith-deliver")
	d := store.Delivery{WorkflowID: "msg-2", PersonalityID: p.ID, ChunkIndex: 0, ChannelID: "c", ContentHash: "h"}
	got, fresh, err := db.Store.Deliveries.Reserve(ctx, d)
	if err != nil || got.DiscordMessageID != "" || !fresh {
		t.Fatalf("fresh reservation = %+v, %v", got, err)
	}
	got.DiscordMessageID = "999"
	if err := db.Store.Deliveries.MarkDelivered(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, fresh, err := db.Store.Deliveries.Reserve(ctx, d)
	if err != nil || again.DiscordMessageID != "999" || fresh {
		t.Fatalf("second reservation did not see the delivery: %+v, %v", again, err)
	}
	who, err := db.Store.Deliveries.PersonalityForMessage(ctx, "999")
	if err != nil || who != p.ID {
		t.Fatalf("PersonalityForMessage = %q, %v", who, err)
	}
	if _, err := db.Store.Deliveries.PersonalityForMessage(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown message: %v", err)
	}
}

// unit returns a normalized vector pointing mostly along axis i.
func unit(i int, noise float32) []float32 {
	v := make([]float32, store.EmbeddingDim)
	v[i%store.EmbeddingDim] = 1
	v[(i+1)%store.EmbeddingDim] = noise
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	for j := range v {
		v[j] /= float32(math.Sqrt(n))
	}
	return v
}

func TestMemorySearchUsesScopeAndSimilarity(t *testing.T) {
	ctx := context.Background()
	p := lilith(t, "lilith-memory")
	other := lilith(t, "lilith-memory-other")
	u, err := db.Store.Users.Ensure(ctx, "77", "bob", "Bob")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := db.Store.Memories.Insert(ctx, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID,
			Content: fmt.Sprintf("memory %d", i), Embedding: unit(i, 0.1)}); err != nil {
			t.Fatal(err)
		}
	}
	// Same direction but another personality: must never be returned.
	if _, err := db.Store.Memories.Insert(ctx, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: other.ID,
		Content: "someone else's", Embedding: unit(5, 0)}); err != nil {
		t.Fatal(err)
	}
	// Duplicate content is stored once.
	id1, _ := db.Store.Memories.Insert(ctx, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Content: "memory 3", Embedding: unit(3, 0.1)})
	got, err := db.Store.Memories.Search(ctx, u.DefaultPersonaID, p.ID, unit(5, 0), 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d memories, want 3", len(got))
	}
	if got[0].Content != "memory 5" || got[0].Similarity < 0.9 {
		t.Fatalf("nearest = %+v, want memory 5", got[0])
	}
	for _, m := range got {
		if m.PersonalityID != p.ID || strings.Contains(m.Content, "else") {
			t.Fatalf("memory from another scope leaked: %+v", m)
		}
	}
	byID, err := db.Store.Memories.ByIDs(ctx, []string{got[1].ID, id1})
	if err != nil || len(byID) != 2 || byID[0].ID != got[1].ID || byID[1].Content != "memory 3" {
		t.Fatalf("ByIDs = %+v, %v", byID, err)
	}
	if _, err := db.Store.Memories.Insert(ctx, store.Memory{PersonalityID: p.ID, Content: "x", Embedding: []float32{1}}); err == nil {
		t.Fatal("wrong dimension accepted")
	}
}

func TestTurnContextRoundTrip(t *testing.T) {
	ctx := context.Background()
	p := lilith(t, "lilith-ctx")
	type msg struct{ Who, Text string }
	in := []msg{{"a", "hi"}, {"b", "yo"}}
	if err := db.Store.TurnContexts.Put(ctx, "msg-9", p.ID, in); err != nil {
		t.Fatal(err)
	}
	var out []msg
	if err := db.Store.TurnContexts.Get(ctx, "msg-9", p.ID, &out); err != nil || len(out) != 2 || out[1].Text != "yo" {
		t.Fatalf("round trip = %+v, %v", out, err)
	}
	if err := db.Store.TurnContexts.Get(ctx, "msg-none", p.ID, &out); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing context: %v", err)
	}
}

func TestOpenExplainsUnreachableDatabase(t *testing.T) {
	_, err := store.Open(context.Background(), "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	if err == nil || !strings.Contains(err.Error(), "cannot reach PostgreSQL") {
		t.Fatalf("err = %v", err)
	}
	_, err = store.Open(context.Background(), "postgres://postgres:hunter2@127.0.0.1:5432/tzurot_missing_db?sslmode=disable")
	if err == nil || !strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

func TestPrivatePersonalitiesAreInvisibleToOthers(t *testing.T) {
	ctx := context.Background()
	owner, err := db.Store.Users.Ensure(ctx, "owner-1", "owner", "Owner")
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.Store.Personalities.Upsert(ctx, store.Personality{Slug: "secretive", Name: "Secretive", OwnerID: owner.ID, IsPublic: false})
	if err != nil {
		t.Fatal(err)
	}
	has := func(discordID string) bool {
		names, err := db.Store.Personalities.Names(ctx, discordID)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if n.PersonalityID == p.ID {
				return true
			}
		}
		return false
	}
	if !has("owner-1") {
		t.Error("the owner cannot call their private character")
	}
	if has("someone-else") {
		t.Error("a stranger can call a private character")
	}
}
