package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/tzurot/tzurot/activities/embed"
	"github.com/tzurot/tzurot/activities/preset"
	"github.com/tzurot/tzurot/store"
)

// RetrieveMemories finds what a character remembers of the persona that is relevant to
// the message. It embeds the message with the configured embedder, asks pgvector (HNSW,
// iterative scan) for the nearest memories that embedder wrote in the persona × character
// scope (every character's, when the operator shares memories), ranks them with the
// hybrid score (similarity, keywords, links, recency, salience: ScoreMemories) and keeps
// those at or above the preset's memory_score_threshold, at most memory_limit. Recalling
// them refreshes their salience and last_recalled_at and strengthens their links.
//
// It returns none, without error, when the user asked for fresh turns (/memory fresh),
// when there is no embedder, for a message without words, and when the embeddings
// provider fails or answers with the wrong dimension: a reply without memories beats a
// late reply or none. Database errors are returned (the workflow goes on without).
func (a *Activities) RetrieveMemories(ctx context.Context, in RetrieveMemoriesInput) (RetrieveMemoriesResult, error) {
	if a.Embedder == nil {
		return RetrieveMemoriesResult{Skipped: "no embedder"}, nil
	}
	query := StripMentions(in.Query)
	if query == "" || in.PersonaID == "" {
		return RetrieveMemoriesResult{Skipped: "nothing to look for"}, nil
	}
	userID := in.UserID
	if userID == "" {
		p, err := a.Store.Personas.ByID(ctx, in.PersonaID)
		if errors.Is(err, store.ErrNotFound) {
			return RetrieveMemoriesResult{Skipped: "persona gone"}, nil
		}
		if err != nil {
			return RetrieveMemoriesResult{}, fmt.Errorf("persona owner: %w", err)
		}
		userID = p.OwnerID
	}
	modes, err := a.Store.Memories.Modes(ctx, userID)
	if err != nil {
		return RetrieveMemoriesResult{}, err
	}
	if modes.Fresh {
		return RetrieveMemoriesResult{Skipped: "fresh"}, nil
	}
	limit, threshold := a.memoryBehaviour(ctx, in, userID)
	if limit <= 0 {
		return RetrieveMemoriesResult{Skipped: "memory_limit is 0"}, nil
	}
	vec, err := a.embedInline(ctx, query)
	if errors.Is(err, embed.ErrEmptyText) {
		return RetrieveMemoriesResult{Skipped: "nothing to look for"}, nil
	}
	if err != nil {
		a.log().Warn("embedder unavailable; answering without memories", "embedder", EmbedderID(a.Embedder), "err", err)
		return RetrieveMemoriesResult{Skipped: "embedder unavailable: " + shortReason(err)}, nil
	}
	set := a.memorySettings(ctx)
	q := store.MemoryQuery{PersonaID: in.PersonaID, PersonalityID: in.PersonalityID, Embedder: EmbedderID(a.Embedder),
		Vector: vec, K: max(set.Candidates, limit)}
	if set.ShareAcrossCharacters {
		q.PersonalityID = ""
	}
	cands, err := a.Store.Memories.Nearest(ctx, q)
	if err != nil {
		return RetrieveMemoriesResult{}, err
	}
	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.ID
	}
	links, err := a.Store.Memories.LinksAmong(ctx, ids)
	if err != nil {
		return RetrieveMemoriesResult{}, err
	}
	now := a.now()
	chosen := SelectMemories(ScoreMemories(query, cands, links, in.PersonalityID, set, now), threshold, limit)
	res := RetrieveMemoriesResult{MemoryIDs: make([]string, 0, len(chosen))}
	for _, m := range chosen {
		res.MemoryIDs = append(res.MemoryIDs, m.ID)
	}
	if err := a.Store.Memories.Recalled(ctx, res.MemoryIDs, set.RecallBoost, set.LinkStep, now); err != nil {
		// The reply matters more than the bookkeeping of what it recalled.
		a.log().Warn("recall not recorded", "err", err)
	}
	return res, nil
}

// memoryBehaviour is the turn's memory_limit and memory_score_threshold: the input's when
// the workflow passed them, else the user's preset cascade's (the operator's limit and the
// field's default threshold when the presets are unreadable).
func (a *Activities) memoryBehaviour(ctx context.Context, in RetrieveMemoriesInput, userID string) (int, float64) {
	limit, threshold := in.Limit, 0.0
	if in.ScoreThreshold != nil {
		threshold = *in.ScoreThreshold
	}
	if in.Limit > 0 && in.ScoreThreshold != nil {
		return limit, threshold
	}
	b := preset.Behaviour(nil)
	if limit <= 0 {
		limit = a.Config.MemoryLimit
	}
	if a.Store.Presets != nil {
		values, err := ResolveParameters(ctx, a.Store, userID, in.PersonalityID, in.Guest, PresetFallback(a.Config))
		if err != nil {
			a.log().Warn("presets unreadable; default memory settings", "err", err)
		} else {
			b = preset.Behaviour(values)
			if in.Limit <= 0 && values["memory_limit"] != nil {
				limit = b.MemoryLimit
			}
		}
	}
	if in.ScoreThreshold == nil {
		threshold = b.MemoryScoreThreshold
	}
	return limit, threshold
}

// shortReason is an error's message, cut for a result field.
func shortReason(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
