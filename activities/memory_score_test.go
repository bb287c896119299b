package activities_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/embed"
	"github.com/tzurot/tzurot/store"
)

func TestTurnMemoryText(t *testing.T) {
	long := strings.Repeat("word ", 300)
	for _, tc := range []struct {
		name                   string
		user, said, char, text string
		want                   string
	}{
		{"both", "Alice", "my cat is  Biscuit\n", "Lilith", "What a name.", `Alice said: "my cat is Biscuit"; Lilith answered: "What a name."`},
		{"nothing said", "Alice", "  ", "Lilith", "Hello?", `Lilith said to Alice: "Hello?"`},
		{"no reply", "Alice", "hi", "Lilith", "", `Alice said: "hi"`},
		{"nothing", "Alice", "", "Lilith", " ", ""},
		{"no names", "", "hi", "", "hey", `The user said: "hi"; the character answered: "hey"`},
	} {
		if got := activities.TurnMemoryText(tc.user, tc.said, tc.char, tc.text); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	got := activities.TurnMemoryText("A", long, "B", long)
	if n := len([]rune(got)); n > 2*600+60 || !strings.Contains(got, "…") {
		t.Fatalf("long turn memory has %d characters: %q…", n, got[:80])
	}
}

func TestMemoryScoreIsAWeightedMean(t *testing.T) {
	w := activities.DefaultMemorySettings().Weights
	all := activities.ScoreParts{Similarity: 1, Keyword: 1, Links: 1, Recency: 1, Salience: 1}
	if got := activities.MemoryScore(all, w); math.Abs(got-1) > 1e-9 {
		t.Fatalf("all ones = %v, want 1", got)
	}
	if got := activities.MemoryScore(activities.ScoreParts{Similarity: 1}, w); math.Abs(got-0.55) > 1e-9 {
		t.Fatalf("similarity alone = %v, want its weight 0.55", got)
	}
	doubled := activities.MemoryWeights{Similarity: 1.1, Keyword: 0.3, Links: 0.2, Recency: 0.2, Salience: 0.2}
	p := activities.ScoreParts{Similarity: 0.4, Keyword: 0.2, Links: 0.1, Recency: 0.9, Salience: 0.5}
	if a, b := activities.MemoryScore(p, w), activities.MemoryScore(p, doubled); math.Abs(a-b) > 1e-9 {
		t.Fatalf("scaling the weights changed the score: %v vs %v", a, b)
	}
	if activities.MemoryScore(all, activities.MemoryWeights{}) != 0 {
		t.Fatal("zero weights must score 0")
	}
}

func TestScoreMemoriesRanksBySignalsAndThreshold(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	set := activities.DefaultMemorySettings()
	mem := func(id, content string, sim float64, sal float32, age time.Duration) store.Memory {
		return store.Memory{ID: id, PersonalityID: "lilith", Content: content, Similarity: sim, Salience: sal, CreatedAt: now.Add(-age)}
	}
	cands := []store.Memory{
		mem("fact", "Alice said: my cat is called Biscuit", 0.45, 0.5, 2*24*time.Hour),
		mem("old", "Alice said: my cat is called Biscuit, years ago", 0.45, 0.5, 365*24*time.Hour),
		mem("noise", "Alice said: the weather is grey", 0.05, 0.5, time.Hour),
		mem("linked", "Alice said: Biscuit sleeps on the radiator", 0.30, 0.5, 2*24*time.Hour),
		mem("unlinked", "Alice said: Biscuit sleeps on the radiator.", 0.30, 0.5, 2*24*time.Hour),
	}
	links := []store.MemoryLink{{From: "linked", To: "fact", Weight: 1}, {From: "fact", To: "linked", Weight: 1}}
	scored := activities.ScoreMemories("what is my cat called?", cands, links, "lilith", set, now)
	order := make([]string, len(scored))
	for i, s := range scored {
		order[i] = s.ID
	}
	pos := func(id string) int {
		for i, x := range order {
			if x == id {
				return i
			}
		}
		return -1
	}
	if order[0] != "fact" || pos("fact") > pos("old") || pos("linked") > pos("unlinked") || order[len(order)-1] != "noise" {
		t.Fatalf("order = %v (%+v)", order, scored)
	}
	if scored[0].Parts.Keyword == 0 || scored[pos("linked")].Parts.Links == 0 || scored[pos("unlinked")].Parts.Links != 0 {
		t.Fatalf("parts = %+v", scored)
	}
	chosen := activities.SelectMemories(scored, 0.3, 2)
	if len(chosen) != 2 || chosen[0].ID != "fact" {
		t.Fatalf("selected = %+v", chosen)
	}
	for _, c := range activities.SelectMemories(scored, 0.3, 10) {
		if c.ID == "noise" {
			t.Fatalf("an unrelated memory passed the default threshold with %.3f", c.Score)
		}
	}
	if got := activities.SelectMemories(scored, 2, 10); len(got) != 0 {
		t.Fatal("a threshold above 1 must keep nothing")
	}
	// Shared across characters, another character's memory is scaled down.
	other := cands[0]
	other.ID, other.PersonalityID = "elsewhere", "bob"
	shared := activities.ScoreMemories("what is my cat called?", []store.Memory{cands[0], other}, nil, "lilith", set, now)
	if shared[0].ID != "fact" || math.Abs(shared[1].Score-shared[0].Score*set.OtherCharacterFactor) > 1e-9 {
		t.Fatalf("shared scores = %+v", shared)
	}
}

func TestRecencyHalvesPerHalfLife(t *testing.T) {
	now := time.Now()
	m := store.Memory{CreatedAt: now.Add(-30 * 24 * time.Hour)}
	if got := activities.Recency(m, now, 30); math.Abs(got-0.5) > 1e-6 {
		t.Fatalf("one half-life = %v", got)
	}
	m.LastRecalledAt = now
	if got := activities.Recency(m, now, 30); got != 1 {
		t.Fatalf("just recalled = %v", got)
	}
}

func TestParseMemorySettingsMergesAndRejectsNonsense(t *testing.T) {
	d := activities.DefaultMemorySettings()
	s := activities.ParseMemorySettings([]byte(`{"weights": {"keyword": 0.4}, "quota": 50, "decay_per_day": {"episodic": 0.5, "semantic": 3},
		"archive_below": -1, "share_across_characters": true}`))
	if s.Weights.Keyword != 0.4 || s.Weights.Similarity != d.Weights.Similarity || s.Quota != 50 || !s.ShareAcrossCharacters {
		t.Fatalf("merged = %+v", s)
	}
	if s.DecayPerDay["episodic"] != 0.5 || s.DecayPerDay["semantic"] != d.DecayPerDay["semantic"] || s.DecayPerDay["emotional"] != d.DecayPerDay["emotional"] {
		t.Fatalf("decay rates = %v", s.DecayPerDay)
	}
	if s.ArchiveBelow != d.ArchiveBelow {
		t.Fatalf("a negative floor was accepted: %v", s.ArchiveBelow)
	}
	if bad := activities.ParseMemorySettings([]byte(`not json`)); bad.Quota != d.Quota {
		t.Fatal("a broken row must fall back to the defaults")
	}
	if z := activities.ParseMemorySettings([]byte(`{"weights": {"similarity": 0, "keyword": 0, "links": 0, "recency": 0, "salience": 0}}`)); z.Weights != d.Weights {
		t.Fatal("all-zero weights must fall back to the defaults")
	}
}

func TestSummaryVerdict(t *testing.T) {
	for _, tc := range []struct {
		summary      string
		stretch, max int
		ok           bool
	}{
		{"Alice has a cat called Biscuit.", 500, 4000, true},
		{"   ", 500, 4000, false},
		{strings.Repeat("x", 4001), 100000, 4000, false},
		{strings.Repeat("x", 1001), 500, 4000, false},
	} {
		if got := activities.SummaryVerdict(tc.summary, tc.stretch, tc.max); (got == "") != tc.ok {
			t.Errorf("verdict(%d chars, stretch %d) = %q, ok want %v", len(tc.summary), tc.stretch, got, tc.ok)
		}
	}
	if got := activities.CleanSummary("  Summary: Alice has a cat. "); got != "Alice has a cat." {
		t.Fatalf("clean = %q", got)
	}
}

func TestParseDream(t *testing.T) {
	text := "Here are my thoughts.\nREFLECTION: She loves her cat more than she admits.\n- reflection: I should ask about the cello.\n" +
		"CONTRADICTION: 2 5: one says she hates mornings, one that she runs at dawn\nCONTRADICTION: 3 3: same\nCONTRADICTION: 1 and 9: out of range\n" +
		"**REFLECTION:** third\nREFLECTION: fourth, beyond the limit"
	refl, pairs := activities.ParseDream(text, 6, 3)
	if len(refl) != 3 || refl[0] != "She loves her cat more than she admits." || refl[2] != "third" {
		t.Fatalf("reflections = %q", refl)
	}
	if len(pairs) != 1 || pairs[0].A != 2 || pairs[0].B != 5 || !strings.HasPrefix(pairs[0].Note, "one says") {
		t.Fatalf("contradictions = %+v", pairs)
	}
	if r, p := activities.ParseDream("(stub) I hear you: 1. a memory", 3, 3); len(r) != 0 || len(p) != 0 {
		t.Fatalf("an echo parsed as a dream: %q %+v", r, p)
	}
}

func TestNearDuplicatesKeepTheBestAndNeverDropLocked(t *testing.T) {
	ctx := t.Context()
	vec := func(s string) []float32 {
		v, err := embed.Local{}.Embed(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ms := []store.Memory{
		{ID: "a", Content: "Alice adopted a corgi named Waffles", Salience: 0.4, Embedding: vec("Alice adopted a corgi named Waffles")},
		{ID: "b", Content: "Alice adopted a corgi named Waffles!", Salience: 0.9, Embedding: vec("Alice adopted a corgi named Waffles!")},
		{ID: "c", Content: "alice adopted a corgi named waffles", Salience: 0.1, Locked: true, Embedding: vec("alice adopted a corgi named waffles")},
		{ID: "d", Content: "Alice is learning the cello", Salience: 0.5, Embedding: vec("Alice is learning the cello")},
	}
	got := activities.NearDuplicates(ms, 0.95)
	// c is locked: it is kept first and a and b merge into it.
	if len(got) != 2 || got[0].Kept != "c" || got[1].Kept != "c" {
		t.Fatalf("merges = %+v", got)
	}
	for _, m := range got {
		if m.Dropped == "c" || m.Dropped == "d" {
			t.Fatalf("dropped %s", m.Dropped)
		}
	}
	ms[2].Locked = false
	if got = activities.NearDuplicates(ms, 0.95); len(got) != 2 || got[0].Kept != "b" {
		t.Fatalf("without the lock, the most salient is kept: %+v", got)
	}
	contra := activities.LikelyContradictions([]store.Memory{
		{ID: "x", Content: "I love cilantro", Embedding: vec("I love cilantro")},
		{ID: "y", Content: "I can't stand cilantro, I hate it", Embedding: vec("I can't stand cilantro, I hate it")},
		{ID: "z", Content: "The train was late", Embedding: vec("The train was late")},
	}, 0.3, 0.95, 10)
	if len(contra) != 1 || contra[0].A != "x" || contra[0].B != "y" {
		t.Fatalf("contradictions = %+v", contra)
	}
}

func TestEmbedderIDNamesTheVectorSpace(t *testing.T) {
	if got := activities.EmbedderID(embed.Local{}); got != embed.LocalModel {
		t.Fatalf("local = %q", got)
	}
	if got := activities.EmbedderID(activities.LLMEmbedder{Model: "text-embedding-3-small"}); got != "openai:text-embedding-3-small" {
		t.Fatalf("openai = %q", got)
	}
	if got := activities.EmbedderID(nil); got != "" {
		t.Fatalf("none = %q", got)
	}
}

func TestStripMentions(t *testing.T) {
	for in, want := range map[string]string{
		"@Lilith my cat is Biscuit":             "my cat is Biscuit",
		"@bobby and @Lilith, hello both":        "and hello both",
		"thanks <@1234>, and <@!99> too (@sam)": "thanks and too ()",
		"mail me at a@b.c":                      "mail me at a@b.c",
		"  ":                                    "",
	} {
		if got := activities.StripMentions(in); got != want {
			t.Errorf("StripMentions(%q) = %q, want %q", in, got, want)
		}
	}
}
