package activities

import (
	"math"
	"sort"
	"time"

	"github.com/tzurot/tzurot/activities/embed"
	"github.com/tzurot/tzurot/store"
)

// ScoreParts are the signals of the hybrid score, each in [0, 1].
type ScoreParts struct {
	Similarity float64 // cosine similarity, negatives as 0
	Keyword    float64 // embed.KeywordOverlap of query and memory
	Links      float64 // strongest link to another candidate, times that candidate's similarity
	Recency    float64 // 0.5^(days since last recalled, else written / half-life)
	Salience   float64
}

// ScoredMemory is a candidate with its hybrid score.
type ScoredMemory struct {
	store.Memory
	Score float64
	Parts ScoreParts
}

// MemoryScore combines the parts with the weights:
//
//	score = (wS·similarity + wK·keyword + wL·links + wR·recency + wA·salience) / (wS+wK+wL+wR+wA)
//
// so it stays in [0, 1] whatever the weights' scale.
func MemoryScore(p ScoreParts, w MemoryWeights) float64 {
	sum := w.Similarity + w.Keyword + w.Links + w.Recency + w.Salience
	if sum <= 0 {
		return 0
	}
	return (w.Similarity*p.Similarity + w.Keyword*p.Keyword + w.Links*p.Links + w.Recency*p.Recency + w.Salience*p.Salience) / sum
}

// ScoreMemories scores nearest-neighbour candidates for a query and sorts them best
// first (ties: higher similarity, then id, so the order is stable). links are the memory
// graph's edges among the candidates. A memory another character holds (when memories
// are shared) has its score scaled by s.OtherCharacterFactor.
func ScoreMemories(query string, cands []store.Memory, links []store.MemoryLink, personalityID string, s MemorySettings, now time.Time) []ScoredMemory {
	sim := make(map[string]float64, len(cands))
	for _, c := range cands {
		sim[c.ID] = clamp01(c.Similarity)
	}
	linkScore := map[string]float64{}
	for _, l := range links {
		if l.From == l.To {
			continue
		}
		if other, ok := sim[l.To]; ok {
			linkScore[l.From] = math.Max(linkScore[l.From], clamp01(l.Weight)*other)
		}
	}
	out := make([]ScoredMemory, 0, len(cands))
	for _, c := range cands {
		p := ScoreParts{
			Similarity: sim[c.ID],
			Keyword:    clamp01(embed.KeywordOverlap(query, c.Content)),
			Links:      linkScore[c.ID],
			Recency:    Recency(c, now, s.RecencyHalfLifeDays),
			Salience:   clamp01(float64(c.Salience)),
		}
		score := MemoryScore(p, s.Weights)
		if personalityID != "" && c.PersonalityID != personalityID {
			score *= s.OtherCharacterFactor
		}
		out = append(out, ScoredMemory{Memory: c, Score: score, Parts: p})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		if out[i].Parts.Similarity != out[j].Parts.Similarity {
			return out[i].Parts.Similarity > out[j].Parts.Similarity
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Recency is 1 for a memory recalled (else written) now, half after halfLifeDays.
func Recency(m store.Memory, now time.Time, halfLifeDays float64) float64 {
	at := m.CreatedAt
	if m.LastRecalledAt.After(at) {
		at = m.LastRecalledAt
	}
	if at.IsZero() || halfLifeDays <= 0 {
		return 0
	}
	days := now.Sub(at).Hours() / 24
	if days <= 0 {
		return 1
	}
	return math.Pow(0.5, days/halfLifeDays)
}

// SelectMemories keeps the best-scored memories at or above threshold, at most limit.
func SelectMemories(scored []ScoredMemory, threshold float64, limit int) []ScoredMemory {
	out := make([]ScoredMemory, 0, min(limit, len(scored)))
	for _, m := range scored {
		if len(out) >= limit {
			break
		}
		if m.Score >= threshold {
			out = append(out, m)
		}
	}
	return out
}

func clamp01(x float64) float64 {
	switch {
	case math.IsNaN(x) || x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}
