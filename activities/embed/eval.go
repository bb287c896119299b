package embed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Embedder is what Evaluate measures. activities.Embedder has the same method, so every
// embedder the bot can run (Local, activities.LLMEmbedder) fits without this package
// importing activities.
type Embedder interface {
	Embed(ctx context.Context, text string) ([]float32, error)
}

// BatchEmbedder is an Embedder that can embed many texts in one call; Evaluate uses
// EmbedBatch when it is there.
type BatchEmbedder interface {
	Embedder
	EmbedBatch(ctx context.Context, texts []string) ([][]float32, error)
}

// SetMemory is one stored memory of a retrieval set.
type SetMemory struct {
	ID      string `json:"id"`
	Persona string `json:"persona"`
	Text    string `json:"text"`
}

// SetQuery is one labelled query: what a user writes, and which memories of their persona
// a good retriever returns for it. Kind says what makes it hard (see docs/MEMORY.md):
// "keyword" shares words with its memories, "morph" shares stems in other forms, "typo"
// misspells them, "synonym" swaps the key words for synonyms, "paraphrase" says the same
// thing with (almost) no word in common.
type SetQuery struct {
	ID       string   `json:"id"`
	Persona  string   `json:"persona"`
	Kind     string   `json:"kind"`
	Text     string   `json:"text"`
	Relevant []string `json:"relevant"`
}

// Set is a retrieval-quality set. A query is searched among the memories of its own
// persona only, as store.Memories.Search is scoped to one persona and personality.
type Set struct {
	Memories []SetMemory `json:"memories"`
	Queries  []SetQuery  `json:"queries"`
}

// LoadSet reads memories.json and queries.json from dir and validates them.
func LoadSet(dir string) (*Set, error) {
	var s Set
	for name, v := range map[string]any{"memories.json": &s.Memories, "queries.json": &s.Queries} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("load retrieval set: %w", err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			return nil, fmt.Errorf("load retrieval set: %s: %w", name, err)
		}
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("load retrieval set %s: %w", dir, err)
	}
	return &s, nil
}

// Validate checks that ids are unique, texts are not blank, and every query has relevant
// memories that exist and belong to its persona.
func (s *Set) Validate() error {
	persona := make(map[string]string, len(s.Memories))
	for _, m := range s.Memories {
		if m.ID == "" || m.Persona == "" || blank(m.Text) {
			return fmt.Errorf("memory %q: id, persona and text are required", m.ID)
		}
		if _, dup := persona[m.ID]; dup {
			return fmt.Errorf("memory %q: duplicate id", m.ID)
		}
		persona[m.ID] = m.Persona
	}
	seen := make(map[string]bool, len(s.Queries))
	for _, q := range s.Queries {
		if q.ID == "" || blank(q.Text) || len(q.Relevant) == 0 {
			return fmt.Errorf("query %q: id, text and relevant memories are required", q.ID)
		}
		if seen[q.ID] {
			return fmt.Errorf("query %q: duplicate id", q.ID)
		}
		seen[q.ID] = true
		for _, id := range q.Relevant {
			p, ok := persona[id]
			if !ok {
				return fmt.Errorf("query %q: relevant memory %q does not exist", q.ID, id)
			}
			if q.Persona != "" && p != q.Persona {
				return fmt.Errorf("query %q: relevant memory %q belongs to %q, not %q", q.ID, id, p, q.Persona)
			}
		}
	}
	if len(s.Queries) == 0 {
		return errors.New("no queries")
	}
	return nil
}

// Report is the retrieval quality of one ranker over a set.
type Report struct {
	// RecallAt5 is the mean over queries of the share of relevant memories found in the
	// top 5, out of min(relevant, 5), so a query with seven relevant memories can reach 1.
	RecallAt5 float64
	// MRR is the mean reciprocal rank of the first relevant memory (0 when none is
	// ranked at all).
	MRR float64
	// N is the number of queries.
	N int
	// ByKind breaks the same numbers down by SetQuery.Kind (nil inside a breakdown).
	ByKind map[string]Report
	// Misses are the ids of queries with no relevant memory in the top 5.
	Misses []string
}

// String renders a report as one line.
func (r Report) String() string {
	return fmt.Sprintf("recall@5=%.3f MRR=%.3f n=%d", r.RecallAt5, r.MRR, r.N)
}

// Evaluate embeds every memory and query of s with e and ranks each query's candidates by
// exact cosine similarity. It measures the embedder alone, with no index in between.
func Evaluate(ctx context.Context, e Embedder, s *Set) (Report, error) {
	texts := make([]string, len(s.Memories))
	for i, m := range s.Memories {
		texts[i] = m.Text
	}
	mem, err := embedAll(ctx, e, texts)
	if err != nil {
		return Report{}, fmt.Errorf("embed memories: %w", err)
	}
	texts = texts[:0]
	for _, q := range s.Queries {
		texts = append(texts, q.Text)
	}
	qv, err := embedAll(ctx, e, texts)
	if err != nil {
		return Report{}, fmt.Errorf("embed queries: %w", err)
	}
	return score(s, func(qi, mi int) float64 { return cosine(qv[qi], mem[mi]) }), nil
}

// EvaluateScorer ranks each query's candidates by score(query text, memory text), for
// baselines that are not embeddings, such as KeywordOverlap.
func EvaluateScorer(s *Set, scoreFn func(query, memory string) float64) Report {
	return score(s, func(qi, mi int) float64 { return scoreFn(s.Queries[qi].Text, s.Memories[mi].Text) })
}

// KeywordOverlap is the trivial baseline: cosine similarity of the sets of lower-cased
// non-stopwords, as written (no stems, no character n-grams), so "hiking" and "hike" do
// not meet and neither do "guitar" and "gutiar".
func KeywordOverlap(query, memory string) float64 {
	q, m := keywordSet(query), keywordSet(memory)
	if len(q) == 0 || len(m) == 0 {
		return 0
	}
	shared := 0
	for w := range q {
		if m[w] {
			shared++
		}
	}
	return float64(shared) / math.Sqrt(float64(len(q)*len(m)))
}

func keywordSet(text string) map[string]bool {
	set := make(map[string]bool)
	for _, w := range words(text) {
		if !w.stop {
			set[w.surface] = true
		}
	}
	return set
}

func embedAll(ctx context.Context, e Embedder, texts []string) ([][]float32, error) {
	if b, ok := e.(BatchEmbedder); ok {
		return b.EmbedBatch(ctx, texts)
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v, err := e.Embed(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

// score ranks, for every query, the memories of its persona by sim and aggregates.
func score(s *Set, sim func(qi, mi int) float64) Report {
	type acc struct{ recall, rr float64 }
	total := acc{}
	byKind := map[string]*acc{}
	counts := map[string]int{}
	var misses []string
	for qi, q := range s.Queries {
		ranked := rank(s, q.Persona, func(mi int) float64 { return sim(qi, mi) })
		recall, rr := judge(ranked, q.Relevant, 5)
		if recall == 0 {
			misses = append(misses, q.ID)
		}
		total.recall += recall
		total.rr += rr
		k := byKind[q.Kind]
		if k == nil {
			k = &acc{}
			byKind[q.Kind] = k
		}
		k.recall += recall
		k.rr += rr
		counts[q.Kind]++
	}
	n := len(s.Queries)
	r := Report{N: n, ByKind: map[string]Report{}, Misses: misses}
	if n > 0 {
		r.RecallAt5, r.MRR = total.recall/float64(n), total.rr/float64(n)
	}
	for kind, a := range byKind {
		c := counts[kind]
		r.ByKind[kind] = Report{RecallAt5: a.recall / float64(c), MRR: a.rr / float64(c), N: c}
	}
	return r
}

// rank returns the ids of persona's memories, best first. Ties (common for the keyword
// baseline, where many memories score 0) are broken by a hash of the id: arbitrary but
// fixed, and blind to relevance, so no ranker gains from the order of the file.
func rank(s *Set, persona string, sim func(mi int) float64) []string {
	type cand struct {
		id    string
		score float64
		tie   uint64
	}
	var cands []cand
	for mi, m := range s.Memories {
		if persona != "" && m.Persona != persona {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(m.ID))
		cands = append(cands, cand{m.ID, sim(mi), h.Sum64()})
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		return cands[i].tie < cands[j].tie
	})
	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.id
	}
	return ids
}

// judge returns recall@k (out of min(|relevant|, k)) and the reciprocal rank of the first
// relevant id.
func judge(ranked, relevant []string, k int) (recall, rr float64) {
	hits := 0
	for i, id := range ranked {
		if !slices.Contains(relevant, id) {
			continue
		}
		if rr == 0 {
			rr = 1 / float64(i+1)
		}
		if i < k {
			hits++
		}
	}
	return float64(hits) / float64(min(len(relevant), k)), rr
}

func cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(-1)
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
	return dot / math.Sqrt(na*nb)
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }
