package activities

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/tzurot/tzurot/store"
)

// FindDreamScopes lists the scopes whose character talked with the persona since
// in.Since: who dreams tonight.
func (a *Activities) FindDreamScopes(ctx context.Context, in FindScopesInput) (FindScopesResult, error) {
	limit := max(in.Limit, 1)
	ss, err := a.Store.Memories.DreamScopes(ctx, in.Since, in.After, limit)
	if err != nil {
		return FindScopesResult{}, err
	}
	return scopePage(ss, limit), nil
}

// DreamInput names the run and the scope to dream over.
type DreamInput struct {
	RunID string
	Scope MemoryScope
}

// DreamResult says what the dream did (all of it is in the dreams table).
type DreamResult struct {
	DreamID        string // "" when the dream changed and noted nothing (nothing is recorded)
	Added          int
	Merged         int
	Archived       int
	Contradictions int
	Note           string
}

// Dream consolidates one persona's memories with one character while nobody talks:
// near-duplicates (cosine ≥ MemorySettings.DreamDuplicate) are merged into the most
// salient (the other archived, never a locked one); likely contradictions are noted; and
// the character, in its own voice, writes a few reflective memories about the persona
// (an LLM call on the owner's key or the free tier, usage kind "dream"). Everything it
// added, merged and archived is recorded in dreams, so /memory undo-dream can revert it.
// A refused call or an answer without reflections still merges and records; a retried
// activity applies the dream once.
func (a *Activities) Dream(ctx context.Context, in DreamInput) (DreamResult, error) {
	if a.Embedder == nil {
		return DreamResult{Note: "no embedder"}, nil
	}
	set := a.memorySettings(ctx)
	embedder := EmbedderID(a.Embedder)
	mems, err := a.Store.Memories.WithEmbeddings(ctx, in.Scope.PersonaID, in.Scope.PersonalityID, embedder, set.DreamMemories)
	if err != nil {
		return DreamResult{}, err
	}
	plan := store.DreamPlan{RunID: in.RunID, Scope: in.Scope.Store(), Merges: NearDuplicates(mems, set.DreamDuplicate),
		Contradictions: LikelyContradictions(mems, set.DreamContradiction, set.DreamDuplicate, 10)}
	var notes []string
	if len(mems) >= 3 && set.DreamReflections > 0 {
		refl, contra, note, err := a.reflect(ctx, in, mems, set)
		if err != nil {
			return DreamResult{}, err
		}
		plan.Contradictions = append(plan.Contradictions, contra...)
		if note != "" {
			notes = append(notes, note)
		}
		for _, r := range refl {
			vec, err := a.embedMemory(ctx, r)
			if err != nil {
				notes = append(notes, "a reflection was not embedded: "+shortReason(err))
				continue
			}
			plan.Reflections = append(plan.Reflections, store.Memory{Content: r, Embedding: vec, Embedder: embedder,
				Sector: store.SectorReflective, Salience: float32(set.TurnSalience), CreatedAt: a.now()})
		}
	}
	plan.Note = strings.Join(notes, "; ")
	if len(plan.Merges) == 0 && len(plan.Reflections) == 0 && len(plan.Contradictions) == 0 {
		return DreamResult{Note: firstNonEmpty(plan.Note, "nothing to consolidate")}, nil
	}
	d, err := a.Store.Memories.ApplyDream(ctx, plan, a.now())
	if err != nil {
		return DreamResult{}, err
	}
	if _, err := a.Store.Memories.EnforceQuota(ctx, in.Scope.PersonaID, in.Scope.PersonalityID, set.Quota, a.now()); err != nil {
		return DreamResult{}, err
	}
	return DreamResult{DreamID: d.ID, Added: len(d.Added), Merged: len(d.Merged), Archived: len(d.Archived),
		Contradictions: len(d.Contradictions), Note: d.Note}, nil
}

// reflect asks the character for reflections on the persona's most salient memories.
// A refused call is a note, not an error; transient failures are errors (retried).
func (a *Activities) reflect(ctx context.Context, in DreamInput, mems []store.Memory, set MemorySettings) ([]string, []store.Contradiction, string, error) {
	card, err := a.Store.Personalities.ByID(ctx, in.Scope.PersonalityID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, "the character is gone", nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	shown := mems[:min(len(mems), 40)]
	var list strings.Builder
	for i, m := range shown {
		fmt.Fprintf(&list, "%d. %s\n", i+1, m.Content)
	}
	text, err := a.callAgentLLM(ctx, agentCall{Scope: in.Scope.Store(), Kind: "dream", UsageID: in.RunID + ":" + in.Scope.PersonaID,
		System: dreamSystem(card, set.DreamReflections), User: list.String(), MaxTokens: 600}, set)
	var refused *errAgentRefused
	if errors.As(err, &refused) {
		return nil, nil, "no reflections: " + refused.reason, nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	refl, pairs := ParseDream(text, len(shown), set.DreamReflections)
	var contra []store.Contradiction
	for _, p := range pairs {
		contra = append(contra, store.Contradiction{A: shown[p.A-1].ID, B: shown[p.B-1].ID, Note: p.Note})
	}
	note := ""
	if len(refl) == 0 {
		note = "the model's answer held no reflections"
	}
	return refl, contra, note, nil
}

func dreamSystem(card store.Personality, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "You are %s.", card.DisplayName)
	for _, s := range []string{card.CharacterInfo, card.Traits, card.Tone} {
		if s = strings.TrimSpace(s); s != "" {
			b.WriteString(" " + s)
		}
	}
	fmt.Fprintf(&b, `

It is night and you are dreaming over what you remember of someone you talk with. The numbered
lines are those memories. Write at most %d short reflections about them, in your own voice and
in the first person: patterns you notice, how you feel about them, what you want to remember.
If two memories contradict each other, say so. Answer only with lines of these forms:
REFLECTION: <one or two sentences>
CONTRADICTION: <number> <number>: <what disagrees>`, n)
	return b.String()
}

// DreamPair is a contradiction a model named by the memories' numbers (1-based).
type DreamPair struct {
	A, B int
	Note string
}

// ParseDream reads a dream answer: "REFLECTION: …" lines (at most max, each cut to 400
// characters) and "CONTRADICTION: 3 7: …" lines naming two different memories among n.
// Anything else is ignored, so a model that rambles yields fewer reflections, not errors.
func ParseDream(text string, n, max int) ([]string, []DreamPair) {
	var refl []string
	var pairs []DreamPair
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "-*• "))
		label, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		rest = strings.TrimSpace(strings.TrimLeft(rest, "* "))
		switch strings.ToUpper(strings.Trim(strings.TrimSpace(label), "*")) {
		case "REFLECTION":
			if rest != "" && len(refl) < max {
				refl = append(refl, squeeze(rest, 400))
			}
		case "CONTRADICTION":
			if p, ok := parsePair(rest, n); ok {
				pairs = append(pairs, p)
			}
		}
	}
	return refl, pairs
}

// pairPattern reads "3 7: note", "3 and 7 - note", "#3, #7: note".
var pairPattern = regexp.MustCompile(`^\D*?(\d{1,6})\D+?(\d{1,6})\s*[:\-–—]?\s*(.*)$`)

func parsePair(s string, n int) (DreamPair, bool) {
	m := pairPattern.FindStringSubmatch(s)
	if m == nil {
		return DreamPair{}, false
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	if a == b || a < 1 || b < 1 || a > n || b > n {
		return DreamPair{}, false
	}
	return DreamPair{A: a, B: b, Note: squeeze(m[3], 300)}, true
}

// NearDuplicates pairs memories whose vectors are at least threshold similar: the better
// one (locked first, then the more salient, then the older) is kept and the other
// dropped. A locked memory is never dropped; a dropped one keeps nothing.
func NearDuplicates(mems []store.Memory, threshold float64) []store.DreamMerge {
	order := rankForKeeping(mems)
	dropped := make([]bool, len(mems))
	var out []store.DreamMerge
	for x, i := range order {
		if dropped[i] {
			continue
		}
		for _, j := range order[x+1:] {
			if dropped[j] || mems[j].Locked || cosine(mems[i].Embedding, mems[j].Embedding) < threshold {
				continue
			}
			dropped[j] = true
			out = append(out, store.DreamMerge{Kept: mems[i].ID, Dropped: mems[j].ID})
		}
	}
	return out
}

func rankForKeeping(mems []store.Memory) []int {
	order := make([]int, len(mems))
	for i := range order {
		order[i] = i
	}
	better := func(a, b store.Memory) bool {
		switch {
		case a.Locked != b.Locked:
			return a.Locked
		case a.Salience != b.Salience:
			return a.Salience > b.Salience
		case !a.CreatedAt.Equal(b.CreatedAt):
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	}
	for i := 1; i < len(order); i++ { // insertion sort: stable, and n is a few hundred
		for j := i; j > 0 && better(mems[order[j]], mems[order[j-1]]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	return order
}

// LikelyContradictions notes pairs that talk about the same thing (similarity in
// [low, high)) where one is negative and the other is not ("I love cilantro" / "I can't
// stand cilantro"), at most max of them. It only notes; nothing is changed.
func LikelyContradictions(mems []store.Memory, low, high float64, max int) []store.Contradiction {
	neg := make([]bool, len(mems))
	for i, m := range mems {
		neg[i] = negative(m.Content)
	}
	var out []store.Contradiction
	for i := range mems {
		for j := i + 1; j < len(mems) && len(out) < max; j++ {
			if neg[i] == neg[j] {
				continue
			}
			if s := cosine(mems[i].Embedding, mems[j].Embedding); s >= low && s < high {
				out = append(out, store.Contradiction{A: mems[i].ID, B: mems[j].ID,
					Note: "they talk about the same thing, one saying no where the other says yes"})
			}
		}
	}
	return out
}

var negations = map[string]bool{"not": true, "no": true, "never": true, "dont": true, "doesnt": true, "didnt": true,
	"cant": true, "cannot": true, "wont": true, "isnt": true, "arent": true, "wasnt": true, "hate": true, "hates": true,
	"dislike": true, "dislikes": true, "stopped": true, "quit": true}

func negative(s string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(strings.ReplaceAll(s, "'", "")), func(r rune) bool {
		return !(r >= 'a' && r <= 'z')
	}) {
		if negations[w] {
			return true
		}
	}
	return false
}

func cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / (math.Sqrt(na) * math.Sqrt(nb))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
