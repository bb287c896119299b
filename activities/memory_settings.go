package activities

import (
	"context"
	"encoding/json"
	"math"

	"github.com/tzurot/tzurot/store"
)

// MemoryWeights are the weights of the hybrid retrieval score (MemoryScore). They need not
// sum to 1: the score divides by their sum, so it stays in [0, 1].
type MemoryWeights struct {
	Similarity float64 `json:"similarity"` // cosine similarity of the vectors
	Keyword    float64 `json:"keyword"`    // shared words (embed.KeywordOverlap)
	Links      float64 `json:"links"`      // link strength to the other candidates
	Recency    float64 `json:"recency"`    // half-life decay since last recalled (else written)
	Salience   float64 `json:"salience"`   // the memory's salience
}

// MemorySettings are the operator's memory tunables: the memory_settings row (JSON) over
// DefaultMemorySettings, key by key.
type MemorySettings struct {
	Weights MemoryWeights `json:"weights"`
	// RecencyHalfLifeDays: a memory untouched this long scores half on recency.
	RecencyHalfLifeDays float64 `json:"recency_half_life_days"`
	// ShareAcrossCharacters lets a character recall what a persona told other characters.
	ShareAcrossCharacters bool `json:"share_across_characters"`
	// OtherCharacterFactor scales the score of a memory another character holds (sharing).
	OtherCharacterFactor float64 `json:"other_character_factor"`
	// Candidates is how many nearest neighbours HNSW returns for the hybrid score to rank.
	Candidates int `json:"candidates"`
	// Quota is the most active memories one persona keeps with one character.
	Quota int `json:"quota"`
	// TurnSalience is a new turn memory's salience; RecallBoost what a recall adds; LinkStep
	// what recalling two memories together adds to their link.
	TurnSalience float64 `json:"turn_salience"`
	RecallBoost  float64 `json:"recall_boost"`
	LinkStep     float64 `json:"link_step"`
	// DecayPerDay is each sector's salience loss per day (0.02 = 2% a day).
	DecayPerDay map[string]float64 `json:"decay_per_day"`
	// ArchiveBelow: unlocked memories whose salience decays below this are archived.
	ArchiveBelow float64 `json:"archive_below"`
	// LinkDecayPerDay and LinkFloor: links weaken daily; weaker than the floor, they go.
	LinkDecayPerDay float64 `json:"link_decay_per_day"`
	LinkFloor       float64 `json:"link_floor"`
	// SummarizeAfterHours: turn memories older than this are summarized, in stretches of
	// SummarizeMinTurns to SummarizeMaxTurns turns.
	SummarizeAfterHours float64 `json:"summarize_after_hours"`
	SummarizeMinTurns   int     `json:"summarize_min_turns"`
	SummarizeMaxTurns   int     `json:"summarize_max_turns"`
	// SummaryModel is the cheap model that summarizes and dreams ("" = the bot's model; a
	// guest gets the free tier's first model if this one is not free).
	SummaryModel string `json:"summary_model"`
	// SummaryMaxChars: a longer summary is absurd and skipped (so is one longer than twice
	// its stretch).
	SummaryMaxChars int `json:"summary_max_chars"`
	// SkipRetryHours: a skipped stretch is tried again after this long.
	SkipRetryHours float64 `json:"skip_retry_hours"`
	// DreamDuplicate: memories this similar (cosine) are merged by a dream.
	DreamDuplicate float64 `json:"dream_duplicate"`
	// DreamContradiction: memories at least this similar, one negated and one not, are
	// noted as a possible contradiction.
	DreamContradiction float64 `json:"dream_contradiction"`
	// DreamMemories: how many of a scope's memories a dream looks at (most salient first).
	DreamMemories int `json:"dream_memories"`
	// DreamReflections: at most this many reflective memories per dream.
	DreamReflections int `json:"dream_reflections"`
}

// DefaultMemorySettings are the defaults; docs/MEMORY.md explains each choice.
func DefaultMemorySettings() MemorySettings {
	return MemorySettings{
		Weights:              MemoryWeights{Similarity: 0.55, Keyword: 0.15, Links: 0.10, Recency: 0.10, Salience: 0.10},
		RecencyHalfLifeDays:  30,
		OtherCharacterFactor: 0.8,
		Candidates:           40,
		Quota:                10_000,
		TurnSalience:         0.5,
		RecallBoost:          0.05,
		LinkStep:             0.1,
		DecayPerDay: map[string]float64{
			store.SectorEpisodic: 0.02, store.SectorEmotional: 0.01, store.SectorReflective: 0.01,
			store.SectorSemantic: 0.005, store.SectorProcedural: 0.003,
		},
		ArchiveBelow:        0.05,
		LinkDecayPerDay:     0.02,
		LinkFloor:           0.02,
		SummarizeAfterHours: 48,
		SummarizeMinTurns:   4,
		SummarizeMaxTurns:   30,
		SummaryMaxChars:     4000,
		SkipRetryHours:      24,
		DreamDuplicate:      0.95,
		DreamContradiction:  0.5,
		DreamMemories:       300,
		DreamReflections:    3,
	}
}

// ParseMemorySettings merges a settings row over the defaults; keys it does not set (or
// sets out of range) keep their default. A row that is not JSON is ignored entirely.
func ParseMemorySettings(raw []byte) MemorySettings {
	d := DefaultMemorySettings()
	s := DefaultMemorySettings()
	if len(raw) > 0 && json.Unmarshal(raw, &s) != nil {
		return d
	}
	unit := func(v *float64, def float64) {
		if math.IsNaN(*v) || *v < 0 || *v > 1 {
			*v = def
		}
	}
	positive := func(v *float64, def float64) {
		if math.IsNaN(*v) || *v <= 0 || math.IsInf(*v, 0) {
			*v = def
		}
	}
	atLeast := func(v *int, min, def int) {
		if *v < min {
			*v = def
		}
	}
	w := &s.Weights
	for _, f := range []*float64{&w.Similarity, &w.Keyword, &w.Links, &w.Recency, &w.Salience} {
		if math.IsNaN(*f) || *f < 0 || math.IsInf(*f, 0) {
			*f = 0
		}
	}
	if w.Similarity+w.Keyword+w.Links+w.Recency+w.Salience == 0 {
		s.Weights = d.Weights
	}
	positive(&s.RecencyHalfLifeDays, d.RecencyHalfLifeDays)
	unit(&s.OtherCharacterFactor, d.OtherCharacterFactor)
	atLeast(&s.Candidates, 1, d.Candidates)
	atLeast(&s.Quota, 1, d.Quota)
	unit(&s.TurnSalience, d.TurnSalience)
	unit(&s.RecallBoost, d.RecallBoost)
	unit(&s.LinkStep, d.LinkStep)
	for k, v := range s.DecayPerDay {
		if math.IsNaN(v) || v < 0 || v >= 1 {
			s.DecayPerDay[k] = d.DecayPerDay[k]
		}
	}
	unit(&s.ArchiveBelow, d.ArchiveBelow)
	unit(&s.LinkDecayPerDay, d.LinkDecayPerDay)
	unit(&s.LinkFloor, d.LinkFloor)
	positive(&s.SummarizeAfterHours, d.SummarizeAfterHours)
	atLeast(&s.SummarizeMinTurns, 2, d.SummarizeMinTurns)
	atLeast(&s.SummarizeMaxTurns, s.SummarizeMinTurns, max(d.SummarizeMaxTurns, s.SummarizeMinTurns))
	atLeast(&s.SummaryMaxChars, 100, d.SummaryMaxChars)
	positive(&s.SkipRetryHours, d.SkipRetryHours)
	unit(&s.DreamDuplicate, d.DreamDuplicate)
	unit(&s.DreamContradiction, d.DreamContradiction)
	atLeast(&s.DreamMemories, 2, d.DreamMemories)
	atLeast(&s.DreamReflections, 0, d.DreamReflections)
	return s
}

// memorySettings reads the operator's settings row; on a database error the defaults
// apply (memory tunables are no reason to fail a turn).
func (a *Activities) memorySettings(ctx context.Context) MemorySettings {
	raw, err := a.Store.Memories.Settings(ctx)
	if err != nil {
		a.log().Warn("memory settings unreadable; using the defaults", "err", err)
		return DefaultMemorySettings()
	}
	return ParseMemorySettings(raw)
}
