package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tzurot/tzurot/store"
)

// memScope makes a character and a user with a persona, for one test.
func memScope(t *testing.T, name string) (store.Personality, store.User) {
	t.Helper()
	p := lilith(t, "mem-"+name)
	u, err := db.Store.Users.Ensure(context.Background(), "discord-"+name, name, name)
	if err != nil {
		t.Fatal(err)
	}
	return p, u
}

// axis is a unit vector mostly along dimension i, tilted by tilt toward dimension i+1.
func axis(i int, tilt float64) []float32 {
	v := make([]float32, store.EmbeddingDim)
	v[i%store.EmbeddingDim] = float32(math.Cos(tilt))
	v[(i+1)%store.EmbeddingDim] = float32(math.Sin(tilt))
	return v
}

func write(t *testing.T, m store.Memory) string {
	t.Helper()
	id, _, err := db.Store.Memories.Write(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func loadMemory(t *testing.T, id string) store.Memory {
	t.Helper()
	ms, err := db.Store.Memories.ByIDs(context.Background(), []string{id})
	if err != nil || len(ms) != 1 {
		t.Fatalf("memory %s: %v %v", id, ms, err)
	}
	return ms[0]
}

func TestMemoryWriteDeduplicatesAndFillsPendingVectors(t *testing.T) {
	ctx := context.Background()
	p, u := memScope(t, "write")
	m := store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Content: "  Alice said: my cat is Biscuit ",
		Salience: 0.4, SourceMessageIDs: []string{"m1"}, Embedder: "ignored-without-vector"}
	id, created, err := db.Store.Memories.Write(ctx, m)
	if err != nil || !created {
		t.Fatalf("first write: %v created=%v", err, created)
	}
	got := loadMemory(t, id)
	if got.Embedder != "" || got.Origin != store.OriginTurn || got.Content != "Alice said: my cat is Biscuit" {
		t.Fatalf("pending memory = %+v", got)
	}
	stale, err := db.Store.Memories.StaleEmbeddings(ctx, "e1")
	if err != nil || stale < 1 {
		t.Fatalf("stale = %d, %v", stale, err)
	}
	m.Embedding, m.Embedder, m.Salience, m.SourceMessageIDs = axis(0, 0), "e1", 0.7, []string{"m2"}
	again, created, err := db.Store.Memories.Write(ctx, m)
	if err != nil || created || again != id {
		t.Fatalf("second write: id %s vs %s, created=%v, %v", again, id, created, err)
	}
	got = loadMemory(t, id)
	if got.Embedder != "e1" || math.Abs(float64(got.Salience)-0.7) > 1e-6 || !slices.Equal(got.SourceMessageIDs, []string{"m1", "m2"}) {
		t.Fatalf("merged memory = %+v", got)
	}
	if _, _, err := db.Store.Memories.Write(ctx, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Content: "x", Embedding: []float32{1}}); err == nil {
		t.Fatal("a wrong dimension was stored")
	}
}

func TestMemoryNearestKeepsToScopeAndEmbedder(t *testing.T) {
	ctx := context.Background()
	p, u := memScope(t, "nearest")
	other := lilith(t, "mem-nearest-other")
	stranger, _ := db.Store.Users.Ensure(ctx, "discord-nearest-stranger", "s", "s")
	base := store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Embedder: "e1", Salience: 0.5}
	mk := func(content string, v []float32, f func(*store.Memory)) string {
		m := base
		m.Content, m.Embedding = content, v
		if f != nil {
			f(&m)
		}
		return write(t, m)
	}
	near := mk("near", axis(10, 0.1), nil)
	far := mk("far", axis(10, 1.2), nil)
	otherEmbedder := mk("other embedder", axis(10, 0), func(m *store.Memory) { m.Embedder = "e2" })
	otherChar := mk("other character", axis(10, 0.05), func(m *store.Memory) { m.PersonalityID = other.ID })
	mk("stranger", axis(10, 0), func(m *store.Memory) { m.PersonaID = stranger.DefaultPersonaID })
	archived := mk("archived", axis(10, 0), nil)
	if _, err := db.Store.Pool.Exec(ctx, `UPDATE memories SET archived = true WHERE id = $1`, archived); err != nil {
		t.Fatal(err)
	}
	ids := func(ms []store.Memory) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	got, err := db.Store.Memories.Nearest(ctx, store.MemoryQuery{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Embedder: "e1", Vector: axis(10, 0), K: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), []string{near, far}) || got[0].Similarity < 0.99 {
		t.Fatalf("scoped search = %v (%+v), want near then far", ids(got), got)
	}
	shared, err := db.Store.Memories.Nearest(ctx, store.MemoryQuery{PersonaID: u.DefaultPersonaID, Embedder: "e1", Vector: axis(10, 0), K: 10})
	if err != nil || !slices.Equal(ids(shared), []string{otherChar, near, far}) {
		t.Fatalf("shared across characters = %v, %v", ids(shared), err)
	}
	e2, err := db.Store.Memories.Nearest(ctx, store.MemoryQuery{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Embedder: "e2", Vector: axis(10, 0), K: 10})
	if err != nil || !slices.Equal(ids(e2), []string{otherEmbedder}) {
		t.Fatalf("other embedder = %v, %v", ids(e2), err)
	}
}

func TestMemoryRecallStrengthensLinksAndDecayPrunesThem(t *testing.T) {
	ctx := context.Background()
	p, u := memScope(t, "links")
	base := store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Embedder: "e1", Salience: 0.5}
	var ids []string
	for i, c := range []string{"one", "two", "three"} {
		m := base
		m.Content, m.Embedding = c, axis(20+i, 0)
		ids = append(ids, write(t, m))
	}
	now := time.Now().UTC().Truncate(time.Second)
	if err := db.Store.Memories.Recalled(ctx, ids[:2], 0.1, 0.3, now); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.Memories.Recalled(ctx, ids[:2], 0.1, 0.3, now); err != nil {
		t.Fatal(err)
	}
	m := loadMemory(t, ids[0])
	if math.Abs(float64(m.Salience)-0.7) > 1e-5 || !m.LastRecalledAt.Equal(now) {
		t.Fatalf("recalled memory = %+v", m)
	}
	links, err := db.Store.Memories.LinksAmong(ctx, ids)
	if err != nil || len(links) != 2 {
		t.Fatalf("links = %+v, %v", links, err)
	}
	for _, l := range links {
		if math.Abs(l.Weight-0.6) > 1e-5 {
			t.Fatalf("link weight %v, want 0.6 after two recalls", l.Weight)
		}
	}
	// Thirty days later at 5% a day the links fall to 0.6·0.95^30 ≈ 0.13: kept with a
	// floor of 0.1, pruned with a floor of 0.2.
	later := now.Add(30 * 24 * time.Hour)
	decay := func(limit int, floor float64) {
		for after := ""; ; {
			res, err := db.Store.Memories.DecayLinks(ctx, after, limit, 0.05, floor, later)
			if err != nil {
				t.Fatal(err)
			}
			if res.Done {
				return
			}
			after = res.Last
		}
	}
	decay(1, 0.1)
	links, _ = db.Store.Memories.LinksAmong(ctx, ids)
	if len(links) != 2 || math.Abs(links[0].Weight-0.6*math.Pow(0.95, 30)) > 1e-3 {
		t.Fatalf("decayed links = %+v", links)
	}
	// The clock moved: decaying again at the same time changes nothing but the floor.
	decay(100, 0.2)
	if links, _ = db.Store.Memories.LinksAmong(ctx, ids); len(links) != 0 {
		t.Fatalf("links below the floor survived: %+v", links)
	}
}

func TestMemoryQuotaArchivesLowestValueFirst(t *testing.T) {
	ctx := context.Background()
	p, u := memScope(t, "quota")
	base := store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID}
	sal := map[string]float32{"a": 0.9, "b": 0.2, "c": 0.5, "d": 0.3, "locked": 0.1}
	id := map[string]string{}
	for c, s := range sal {
		m := base
		m.Content, m.Salience = c, s
		id[c] = write(t, m)
	}
	if _, err := db.Store.Memories.SetLocked(ctx, u.ID, []string{id["locked"]}, true); err != nil {
		t.Fatal(err)
	}
	n, err := db.Store.Memories.EnforceQuota(ctx, u.DefaultPersonaID, p.ID, 3, time.Now())
	if err != nil || n != 2 {
		t.Fatalf("archived %d, %v; want 2", n, err)
	}
	for c, wantArchived := range map[string]bool{"a": false, "b": true, "c": false, "d": true, "locked": false} {
		if got := loadMemory(t, id[c]).Archived; got != wantArchived {
			t.Errorf("%s archived = %v, want %v", c, got, wantArchived)
		}
	}
}

func TestMemoryDecayPerSectorArchivesBelowTheFloor(t *testing.T) {
	ctx := context.Background()
	p, u := memScope(t, "decay")
	created := time.Now().Add(-10 * 24 * time.Hour)
	base := store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, CreatedAt: created}
	mk := func(content, sector string, sal float32) string {
		m := base
		m.Content, m.Sector, m.Salience = content, sector, sal
		return write(t, m)
	}
	episodic := mk("episodic", store.SectorEpisodic, 0.5)
	semantic := mk("semantic", store.SectorSemantic, 0.5)
	weak := mk("weak", store.SectorEpisodic, 0.06)
	locked := mk("locked", store.SectorEpisodic, 0.06)
	if _, err := db.Store.Memories.SetLocked(ctx, u.ID, []string{locked}, true); err != nil {
		t.Fatal(err)
	}
	rates := map[string]float64{"episodic": 0.1, "semantic": 0.01}
	now := time.Now()
	run := func() {
		for after := ""; ; {
			res, err := db.Store.Memories.DecayMemories(ctx, after, 3, rates, 0.05, now)
			if err != nil {
				t.Fatal(err)
			}
			if res.Done {
				return
			}
			after = res.Last
		}
	}
	run()
	want := func(id string, sal float64, archived bool) {
		t.Helper()
		m := loadMemory(t, id)
		if math.Abs(float64(m.Salience)-sal) > 2e-3 || m.Archived != archived {
			t.Errorf("%s: salience %.4f archived %v, want %.4f %v", m.Content, m.Salience, m.Archived, sal, archived)
		}
	}
	want(episodic, 0.5*math.Pow(0.9, 10), false)
	want(semantic, 0.5*math.Pow(0.99, 10), false)
	want(weak, 0.06*math.Pow(0.9, 10), true)
	want(locked, 0.06, false)
	run() // the same day again: nothing decays twice
	want(episodic, 0.5*math.Pow(0.9, 10), false)
}

func TestSummaryReplacesItsStretchAndSkipsWait(t *testing.T) {
	ctx := context.Background()
	p, u := memScope(t, "summary")
	scope := store.MemoryScope{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, UserID: u.ID}
	old := time.Now().Add(-72 * time.Hour)
	var ids []string
	for i, c := range []string{"t1", "t2", "t3"} {
		ids = append(ids, write(t, store.Memory{PersonaID: scope.PersonaID, PersonalityID: p.ID, Content: c,
			CreatedAt: old.Add(time.Duration(i) * time.Minute), SourceMessageIDs: []string{"msg-" + c}}))
	}
	write(t, store.Memory{PersonaID: scope.PersonaID, PersonalityID: p.ID, Content: "recent"})
	now := time.Now()
	cut := now.Add(-48 * time.Hour)
	scopes, err := db.Store.Memories.SummaryScopes(ctx, cut, now, 3, "", 100)
	if err != nil || !slices.Contains(scopes, scope) {
		t.Fatalf("summary scopes = %+v, %v", scopes, err)
	}
	stretch, err := db.Store.Memories.Stretch(ctx, scope, cut, now, 10)
	if err != nil || len(stretch) != 3 || stretch[0].Content != "t1" {
		t.Fatalf("stretch = %+v, %v", stretch, err)
	}
	// A skipped stretch waits for its retry time.
	if err := db.Store.Memories.SkipStretch(ctx, "run-1", scope, ids, "the summary is empty", now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Store.Memories.Stretch(ctx, scope, cut, now, 10); len(s) != 0 {
		t.Fatalf("a skipped stretch came back at once: %+v", s)
	}
	later := now.Add(2 * time.Hour)
	if s, _ := db.Store.Memories.Stretch(ctx, scope, cut, later, 10); len(s) != 3 {
		t.Fatalf("a skipped stretch did not come back after its retry time: %+v", s)
	}
	// A stretch that changed under the summarizer is not applied.
	if _, err := db.Store.Memories.SetLocked(ctx, u.ID, ids[:1], true); err != nil {
		t.Fatal(err)
	}
	_, err = db.Store.Memories.ApplySummary(ctx, store.Summary{RunID: "run-2", Scope: scope, SourceIDs: ids,
		Memory: store.Memory{Content: "summary", Embedding: axis(30, 0), Embedder: "e1"}}, later)
	if !errors.Is(err, store.ErrStretchChanged) {
		t.Fatalf("apply over a locked original: %v", err)
	}
	if _, err := db.Store.Memories.SetLocked(ctx, u.ID, ids[:1], false); err != nil {
		t.Fatal(err)
	}
	sum, err := db.Store.Memories.ApplySummary(ctx, store.Summary{RunID: "run-2", Scope: scope, SourceIDs: ids,
		Memory: store.Memory{Content: "Alice has a cat.", Embedding: axis(30, 0), Embedder: "e1", Salience: 0.6}}, later)
	if err != nil {
		t.Fatal(err)
	}
	got := loadMemory(t, sum)
	if got.Origin != store.OriginSummary || got.Sector != store.SectorSemantic || len(got.SourceMessageIDs) != 3 {
		t.Fatalf("summary = %+v", got)
	}
	var replaced int
	if err := db.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM memories WHERE replaced_by = $1 AND archived AND archive_reason = 'summarized'`, sum).Scan(&replaced); err != nil || replaced != 3 {
		t.Fatalf("originals archived behind the summary: %d, %v", replaced, err)
	}
	recs, err := db.Store.Memories.Summaries(ctx, scope)
	if err != nil || len(recs) != 2 || recs[0].Status != "summarized" || recs[1].Reason != "the summary is empty" {
		t.Fatalf("summary records = %+v, %v", recs, err)
	}
}

func TestDreamIsRecordedOnceAndUndone(t *testing.T) {
	ctx := context.Background()
	p, u := memScope(t, "dream")
	scope := store.MemoryScope{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, UserID: u.ID}
	mk := func(c string, sal float32) string {
		return write(t, store.Memory{PersonaID: scope.PersonaID, PersonalityID: p.ID, Content: c, Salience: sal, Embedding: axis(40, 0), Embedder: "e1"})
	}
	keep, dup, lockedDup := mk("I love tea", 0.4), mk("I love tea!", 0.8), mk("I really love tea", 0.3)
	if _, err := db.Store.Memories.SetLocked(ctx, u.ID, []string{lockedDup}, true); err != nil {
		t.Fatal(err)
	}
	plan := store.DreamPlan{RunID: "night-1", Scope: scope,
		Merges:         []store.DreamMerge{{Kept: keep, Dropped: dup}, {Kept: keep, Dropped: lockedDup}},
		Reflections:    []store.Memory{{Content: "They find comfort in tea.", Embedding: axis(41, 0), Embedder: "e1"}},
		Contradictions: []store.Contradiction{{A: keep, B: dup, Note: "test"}}}
	d, err := db.Store.Memories.ApplyDream(ctx, plan, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Merged) != 1 || len(d.Added) != 1 || len(d.Archived) != 1 || d.Merged[0].KeptSalience != 0.4 {
		t.Fatalf("dream = %+v", d)
	}
	if k := loadMemory(t, keep); math.Abs(float64(k.Salience)-0.8) > 1e-6 {
		t.Fatalf("kept memory salience %v, want the merged 0.8", k.Salience)
	}
	if !loadMemory(t, dup).Archived || loadMemory(t, lockedDup).Archived {
		t.Fatal("the merge archived the wrong memory")
	}
	again, err := db.Store.Memories.ApplyDream(ctx, plan, time.Now())
	if err != nil || again.ID != d.ID {
		t.Fatalf("a retried dream applied twice: %+v, %v", again, err)
	}
	undone, err := db.Store.Memories.UndoLastDream(ctx, u.ID, time.Now())
	if err != nil || undone.ID != d.ID {
		t.Fatalf("undo: %+v, %v", undone, err)
	}
	if loadMemory(t, dup).Archived || math.Abs(float64(loadMemory(t, keep).Salience)-0.4) > 1e-6 {
		t.Fatal("undo did not restore the merge")
	}
	if ms, _ := db.Store.Memories.ByIDs(ctx, d.Added); len(ms) != 0 {
		t.Fatal("undo left the reflection")
	}
	if _, err := db.Store.Memories.UndoLastDream(ctx, u.ID, time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second undo: %v", err)
	}
	dreams, err := db.Store.Memories.Dreams(ctx, scope)
	if err != nil || len(dreams) != 1 || dreams[0].UndoneAt.IsZero() || len(dreams[0].Contradictions) != 1 {
		t.Fatalf("dreams = %+v, %v", dreams, err)
	}
}

func TestOwnedMemoriesStayTheirOwners(t *testing.T) {
	ctx := context.Background()
	p, u := memScope(t, "owned")
	_, other := memScope(t, "owned-other")
	mine := []string{
		write(t, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Content: "Alice adopted a corgi named Waffles"}),
		write(t, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Content: "Alice is learning the cello"}),
		write(t, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Content: "Alice hates 50% of mornings"}),
	}
	theirs := write(t, store.Memory{PersonaID: other.DefaultPersonaID, PersonalityID: p.ID, Content: "Bob adopted a corgi too"})

	page, err := db.Store.Memories.Browse(ctx, u.ID, "", 0, 2)
	if err != nil || page.Total != 3 || len(page.Memories) != 2 {
		t.Fatalf("browse = %+v, %v", page, err)
	}
	found, err := db.Store.Memories.FindText(ctx, u.ID, p.ID, "corgis", 10)
	if err != nil || len(found) != 1 || found[0].ID != mine[0] {
		t.Fatalf("full-text search = %+v, %v", found, err)
	}
	if found, _ = db.Store.Memories.FindText(ctx, u.ID, "", "50%", 10); len(found) != 1 || found[0].ID != mine[2] {
		t.Fatalf("substring search = %+v", found)
	}
	ids, unknown, err := db.Store.Memories.Resolve(ctx, u.ID, []string{mine[0][:8], mine[1], theirs[:8], "zz"})
	if err != nil || !slices.Equal(ids, mine[:2]) || len(unknown) != 2 {
		t.Fatalf("resolve = %v unknown %v, %v", ids, unknown, err)
	}
	if n, err := db.Store.Memories.SetLocked(ctx, u.ID, []string{mine[0], theirs}, true); err != nil || n != 1 {
		t.Fatalf("lock = %d, %v", n, err)
	}
	deleted, locked, err := db.Store.Memories.DeleteOwned(ctx, u.ID, []string{mine[0], mine[1], theirs})
	if err != nil || deleted != 1 || locked != 1 {
		t.Fatalf("delete = %d deleted, %d locked, %v", deleted, locked, err)
	}
	st, err := db.Store.Memories.Stats(ctx, u.ID, "")
	if err != nil || st.Active != 2 || st.Locked != 1 || st.BySector["episodic"] != 2 {
		t.Fatalf("stats = %+v, %v", st, err)
	}
	deleted, kept, err := db.Store.Memories.Purge(ctx, u.ID, p.ID)
	if err != nil || deleted != 1 || kept != 1 {
		t.Fatalf("purge = %d deleted, %d kept, %v", deleted, kept, err)
	}
	if ms, _ := db.Store.Memories.ByIDs(ctx, []string{theirs}); len(ms) != 1 || ms[0].Locked {
		t.Fatal("another user's memory was touched")
	}
}

func TestMemoryModesAndSettings(t *testing.T) {
	ctx := context.Background()
	_, u := memScope(t, "modes")
	m, err := db.Store.Memories.Modes(ctx, u.ID)
	if err != nil || m.Incognito || m.Fresh {
		t.Fatalf("default modes = %+v, %v", m, err)
	}
	if err := db.Store.Memories.SetModes(ctx, u.ID, store.MemoryModes{Incognito: true}); err != nil {
		t.Fatal(err)
	}
	if m, _ = db.Store.Memories.Modes(ctx, u.ID); !m.Incognito || m.Fresh {
		t.Fatalf("modes = %+v", m)
	}
	raw, err := db.Store.Memories.Settings(ctx)
	if err != nil || string(raw) != "{}" {
		t.Fatalf("settings without a row = %s, %v", raw, err)
	}
	if err := db.Store.Memories.PutSettings(ctx, json.RawMessage(`{"quota": 5}`)); err != nil {
		t.Fatal(err)
	}
	defer db.Store.Memories.PutSettings(ctx, json.RawMessage(`{}`))
	if raw, _ = db.Store.Memories.Settings(ctx); string(raw) != `{"quota": 5}` {
		t.Fatalf("settings = %s", raw)
	}
}

func TestHistoryCutoffHidesTheOlderConversation(t *testing.T) {
	ctx := context.Background()
	p, u := memScope(t, "cutoff")
	t0 := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	for i, c := range []string{"before", "after"} {
		if err := db.Store.History.Append(ctx, store.Turn{ChannelID: "cut-ch", PersonalityID: p.ID, PersonaID: u.DefaultPersonaID,
			UserID: u.ID, Role: "user", Content: c, DiscordMessageID: "cut-" + c, CreatedAt: t0.Add(time.Duration(i) * 30 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if at, err := db.Store.History.Cutoff(ctx, u.ID, p.ID); err != nil || !at.IsZero() {
		t.Fatalf("cutoff before any clear = %v, %v", at, err)
	}
	cut := t0.Add(15 * time.Minute)
	if err := db.Store.History.SetCutoff(ctx, u.ID, p.ID, cut); err != nil {
		t.Fatal(err)
	}
	at, err := db.Store.History.Cutoff(ctx, u.ID, p.ID)
	if err != nil || !at.Equal(cut) {
		t.Fatalf("cutoff = %v, %v", at, err)
	}
	turns, err := db.Store.History.RecentSince(ctx, "cut-ch", p.ID, 10, at)
	if err != nil || len(turns) != 1 || turns[0].Content != "after" {
		t.Fatalf("history since the cutoff = %+v, %v", turns, err)
	}
	restored, ok, err := db.Store.History.UndoCutoff(ctx, u.ID, p.ID)
	if err != nil || !ok || !restored.IsZero() {
		t.Fatalf("undo = %v %v %v", restored, ok, err)
	}
	if _, ok, _ := db.Store.History.UndoCutoff(ctx, u.ID, p.ID); ok {
		t.Fatal("a second undo found something to undo")
	}
	if all, _ := db.Store.History.Recent(ctx, "cut-ch", p.ID, 10); len(all) != 2 {
		t.Fatalf("after undo: %+v", all)
	}
}
