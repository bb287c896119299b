package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/store"
)

func user(t *testing.T, discordID string) store.User {
	t.Helper()
	u, err := db.Store.Users.Ensure(context.Background(), discordID, "u"+discordID, "User "+discordID)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Store.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCharacterCreateTakesAFreeSlugAndBringsEverything(t *testing.T) {
	ctx := context.Background()
	u := user(t, "7100001")
	at := time.Date(2024, 7, 26, 5, 21, 56, 0, time.UTC)
	n := store.NewCharacter{
		Personality: store.Personality{Slug: "mira", Name: "Mira", OwnerID: u.ID, CharacterInfo: "A cartographer.", Aliases: []string{"mira-alias"}},
		Extensions:  []byte(`{"tags":["Fantasy","maps"],"creator":"someone"}`),
		PersonaID:   u.DefaultPersonaID,
		Memories:    []store.ImportedMemory{{Content: "Likes tea.", CreatedAt: at}, {Content: "Likes tea."}, {Content: "Fears the sea."}, {Content: "  "}},
		Avatar:      &store.Avatar{ContentType: "image/png", Data: []byte("\x89PNG fake")},
	}
	first, err := db.Store.Characters.Create(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	p := first.Personality
	if p.Slug != "mira" || p.OwnerID != u.ID || p.IsPublic || first.Memories != 2 || len(first.AliasesTaken) != 0 {
		t.Fatalf("first create: %+v", first)
	}
	if got := count(t, `SELECT count(*) FROM memories WHERE personality_id = $1 AND persona_id = $2 AND embedding IS NULL`, p.ID, u.DefaultPersonaID); got != 2 {
		t.Fatalf("%d memories without embedding, want 2", got)
	}
	var stamped time.Time
	if err := db.Store.Pool.QueryRow(ctx, `SELECT created_at FROM memories WHERE personality_id = $1 AND content = 'Likes tea.'`, p.ID).Scan(&stamped); err != nil || !stamped.Equal(at) {
		t.Fatalf("memory date = %v, %v; want %v", stamped, err, at)
	}
	if found, err := db.Store.Memories.Search(ctx, u.DefaultPersonaID, p.ID, make([]float32, store.EmbeddingDim), 5); err != nil || len(found) != 0 {
		t.Fatalf("search found unembedded memories: %v, %v", found, err)
	}
	second, err := db.Store.Characters.Create(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if second.Personality.Slug != "mira-2" || len(second.AliasesTaken) != 1 || second.AliasesTaken[0] != "mira-alias" {
		t.Fatalf("second create: %+v", second)
	}
	card, ext, err := db.Store.Characters.Card(ctx, p.ID)
	if err != nil || card.CharacterInfo != "A cartographer." || len(card.Aliases) != 1 || !strings.Contains(string(ext), `"creator"`) {
		t.Fatalf("card = %+v %s %v", card, ext, err)
	}
	if a, err := db.Store.Characters.Avatar(ctx, p.ID); err != nil || a.ContentType != "image/png" {
		t.Fatalf("avatar = %+v, %v", a, err)
	}
	if ok, err := db.Store.Memories.InsertWithoutEmbedding(ctx, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Content: "Fears the sea."}); err != nil || ok {
		t.Fatalf("a duplicate memory was inserted again: %v, %v", ok, err)
	}
}

func TestCharacterCreateIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	u := user(t, "7100002")
	_, err := db.Store.Characters.Create(ctx, store.NewCharacter{
		Personality: store.Personality{Slug: "halfway", Name: "Halfway", OwnerID: u.ID},
		PersonaID:   "not-a-uuid", // the memories fail after the character was inserted
		Memories:    []store.ImportedMemory{{Content: "x"}},
	})
	if err == nil {
		t.Fatal("a broken memory was accepted")
	}
	if _, err := db.Store.Personalities.BySlug(ctx, "halfway"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a half-created character remains: %v", err)
	}
	_, err = db.Store.Characters.Create(ctx, store.NewCharacter{Personality: store.Personality{Name: "Bad Birthday", Birthday: "13-45", OwnerID: u.ID}})
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "birthday") {
		t.Fatalf("invalid card: %v", err)
	}
}

func TestCharacterVisibilityFindSearchBrowse(t *testing.T) {
	ctx := context.Background()
	a, b := user(t, "7100003"), user(t, "7100004")
	mk := func(slug, owner string, public bool, tags string) store.Personality {
		c, err := db.Store.Characters.Create(ctx, store.NewCharacter{Personality: store.Personality{Slug: slug, Name: "Browse " + slug, OwnerID: owner, IsPublic: public},
			Extensions: []byte(`{"tags":` + tags + `}`)})
		if err != nil {
			t.Fatal(err)
		}
		return c.Personality
	}
	secret := mk("vis-secret", a.ID, false, `["noir"]`)
	open := mk("vis-open", a.ID, true, `["Noir","comedy"]`)
	mk("vis-other", b.ID, true, `"not a list"`)
	if _, err := db.Store.Characters.Find(ctx, "vis-secret", b.ID, false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("b found a's private character: %v", err)
	}
	if got, err := db.Store.Characters.Find(ctx, "Browse vis-secret", a.ID, false); err != nil || got.ID != secret.ID {
		t.Fatalf("owner by name: %+v, %v", got, err)
	}
	if _, err := db.Store.Characters.Find(ctx, "vis-secret", b.ID, true); err != nil {
		t.Fatalf("a superuser sees private characters: %v", err)
	}
	if err := db.Store.Characters.AddAlias(ctx, open.ID, "Opie", b.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Store.Characters.Find(ctx, "opie", b.ID, false); err != nil || got.ID != open.ID {
		t.Fatalf("personal alias: %+v, %v", got, err)
	}
	if _, err := db.Store.Characters.Find(ctx, "opie", a.ID, false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("someone else's personal alias resolved: %v", err)
	}
	if err := db.Store.Characters.AddAlias(ctx, open.ID, "OPIE", b.ID); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("duplicate alias: %v", err)
	}
	owned, err := db.Store.Characters.Search(ctx, "browse vis", a.ID, true, false, 25)
	if err != nil || len(owned) != 2 {
		t.Fatalf("a's own: %v, %v", owned, err)
	}
	seen, err := db.Store.Characters.Search(ctx, "browse vis", b.ID, false, false, 25)
	if err != nil || len(seen) != 2 || seen[0].Slug != "vis-other" {
		t.Fatalf("b sees (own first): %v, %v", seen, err)
	}
	page, total, err := db.Store.Characters.Browse(ctx, store.BrowseQuery{ViewerUserID: b.ID, Tag: "noir"})
	if err != nil || total != 1 || page[0].ID != open.ID || page[0].OwnerDiscordID != "7100003" || len(page[0].Tags) != 2 {
		t.Fatalf("tag noir for b: %+v %d %v", page, total, err)
	}
	page, total, err = db.Store.Characters.Browse(ctx, store.BrowseQuery{ViewerUserID: a.ID, OwnerUserID: a.ID, Limit: 1, Offset: 1})
	if err != nil || total != 2 || len(page) != 1 || page[0].Slug != "vis-secret" {
		t.Fatalf("a's second page: %+v %d %v", page, total, err)
	}
}

func TestCharacterEditFlagsAvatarAliasesDelete(t *testing.T) {
	ctx := context.Background()
	u := user(t, "7100005")
	c, err := db.Store.Characters.Create(ctx, store.NewCharacter{Personality: store.Personality{Slug: "edit-me", Name: "Edit Me", OwnerID: u.ID}})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Personality
	p.Tone, p.Birthday, p.Name = "Dry.", "03-07", "Edited"
	if p, err = db.Store.Characters.Update(ctx, p); err != nil || p.Tone != "Dry." || p.Name != "Edited" || p.Slug != "edit-me" {
		t.Fatalf("update: %+v, %v", p, err)
	}
	p.Birthday = "yesterday"
	if _, err := db.Store.Characters.Update(ctx, p); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad birthday saved: %v", err)
	}
	if err := db.Store.Characters.SetPublic(ctx, p.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.Characters.SetNSFW(ctx, p.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.Characters.SetAvatar(ctx, p.ID, "https://cdn.example/a.png", store.Avatar{ContentType: "image/png", Data: []byte{1, 2}}); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Store.Personalities.ByID(ctx, p.ID)
	if !got.IsPublic || !got.IsNSFW || got.AvatarURL != "https://cdn.example/a.png" {
		t.Fatalf("flags and avatar: %+v", got)
	}
	if had, err := db.Store.Characters.ClearAvatar(ctx, p.ID); err != nil || !had {
		t.Fatalf("clear: %v %v", had, err)
	}
	if had, err := db.Store.Characters.ClearAvatar(ctx, p.ID); err != nil || had {
		t.Fatalf("clear twice: %v %v", had, err)
	}
	if err := db.Store.Characters.AddAlias(ctx, p.ID, "Eddie", ""); err != nil {
		t.Fatal(err)
	}
	if gone, err := db.Store.Characters.RemoveAlias(ctx, p.ID, "eddie", u.ID); err != nil || gone {
		t.Fatalf("a personal removal took a global alias: %v %v", gone, err)
	}
	if gone, err := db.Store.Characters.RemoveAlias(ctx, p.ID, "eddie", ""); err != nil || !gone {
		t.Fatalf("global removal: %v %v", gone, err)
	}
	if err := db.Store.History.Append(ctx, store.Turn{ChannelID: "c-edit", PersonalityID: p.ID, UserID: u.ID, Role: "user", Content: "hi", DiscordMessageID: "m-edit"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.Memories.InsertWithoutEmbedding(ctx, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Content: "said hi"}); err != nil {
		t.Fatal(err)
	}
	d, err := db.Store.Characters.Delete(ctx, p.ID)
	if err != nil || d.History != 1 || d.Memories != 1 {
		t.Fatalf("delete: %+v %v", d, err)
	}
	if n := count(t, `SELECT count(*) FROM memories WHERE personality_id = $1`, p.ID) + count(t, `SELECT count(*) FROM conversation_history WHERE personality_id = $1`, p.ID); n != 0 {
		t.Fatalf("%d rows outlived their character", n)
	}
	if _, err := db.Store.Characters.Delete(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestDataExportsKeepAndExpire(t *testing.T) {
	ctx := context.Background()
	u := user(t, "7100006")
	now := time.Now()
	id, err := db.Store.DataExports.Put(ctx, u.ID, "run-1", []byte("zip1"), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.Store.DataExports.Put(ctx, u.ID, "run-1", []byte("zip2"), now.Add(time.Hour))
	if err != nil || again != id {
		t.Fatalf("a retried build made a second export: %s vs %s, %v", again, id, err)
	}
	if err := db.Store.DataExports.MarkDelivered(ctx, id, 2); err != nil {
		t.Fatal(err)
	}
	e, err := db.Store.DataExports.Get(ctx, id)
	if err != nil || string(e.Bytes) != "zip2" || e.DeliveredParts != 2 {
		t.Fatalf("export = %+v, %v", e, err)
	}
	if n, err := db.Store.DataExports.DeleteExpired(ctx, now.Add(2*time.Hour)); err != nil || n < 1 {
		t.Fatalf("expired: %d, %v", n, err)
	}
	if _, err := db.Store.DataExports.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired export still there: %v", err)
	}
}

func TestEraseStepsAreIdempotentAndComplete(t *testing.T) {
	ctx := context.Background()
	u, heir, other := user(t, "7100007"), "7100008", user(t, "7100009")
	mine, err := db.Store.Characters.Create(ctx, store.NewCharacter{Personality: store.Personality{Slug: "erase-mine", Name: "Mine", OwnerID: u.ID}})
	if err != nil {
		t.Fatal(err)
	}
	theirs := lilith(t, "erase-theirs")
	for i, p := range []string{mine.Personality.ID, theirs.ID} {
		if err := db.Store.History.Append(ctx,
			store.Turn{ChannelID: "c-erase", PersonalityID: p, UserID: u.ID, PersonaID: u.DefaultPersonaID, Role: "user", Content: "mine", DiscordMessageID: "erase-u" + string(rune('a'+i)), WorkflowID: "msg-erase"},
			store.Turn{ChannelID: "c-erase", PersonalityID: p, UserID: other.ID, Role: "user", Content: "theirs", DiscordMessageID: "erase-o" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Store.Memories.InsertWithoutEmbedding(ctx, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p, Content: "about u"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Store.TurnContexts.Put(ctx, "msg-erase", theirs.ID, []string{"context"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.Characters.AddAlias(ctx, theirs.ID, "my-lili-7100007", u.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.Usage.Log(ctx, store.UsageLog{WorkflowID: "msg-erase", PersonalityID: theirs.ID, UserID: u.ID, Provider: "p", Model: "m"}); err != nil {
		t.Fatal(err)
	}
	req := store.EraseRequest{RunID: "erase-run-1", DiscordID: u.DiscordID, HeirDiscordID: heir}
	want := map[string]int64{store.EraseHistory: 2, store.EraseMemories: 2, store.EraseCharacters: 1, store.EraseAliases: 1,
		store.EraseUsage: 1, store.ErasePersonas: 1, store.EraseAccount: 1}
	for _, step := range store.EraseSteps {
		n, err := db.Store.Accounts.Erase(ctx, step, req)
		if err != nil || n != want[step] {
			t.Fatalf("step %s removed %d (%v), want %d", step, n, err, want[step])
		}
		if again, err := db.Store.Accounts.Erase(ctx, step, req); err != nil || again != n {
			t.Fatalf("step %s again reported %d (%v), want the recorded %d", step, again, err, n)
		}
	}
	if _, err := db.Store.Users.ByDiscordID(ctx, u.DiscordID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the user remains: %v", err)
	}
	kept, err := db.Store.Personalities.ByID(ctx, mine.Personality.ID)
	h, _ := db.Store.Users.ByDiscordID(ctx, heir)
	if err != nil || kept.OwnerID != h.ID {
		t.Fatalf("the character was not handed to the heir: %+v, %v", kept, err)
	}
	if n := count(t, `SELECT count(*) FROM conversation_history WHERE content = 'mine'`); n != 0 {
		t.Fatalf("%d lines of the erased user remain", n)
	}
	if n := count(t, `SELECT count(*) FROM conversation_history WHERE content = 'theirs'`); n != 2 {
		t.Fatalf("the other user's lines: %d, want 2", n)
	}
	if n := count(t, `SELECT count(*) FROM turn_contexts WHERE workflow_id = 'msg-erase'`); n != 0 {
		t.Fatal("the turn context of an erased conversation remains")
	}
	if _, err := db.Store.Accounts.Erase(ctx, "everything", req); err == nil {
		t.Fatal("an unknown step was accepted")
	}
}
