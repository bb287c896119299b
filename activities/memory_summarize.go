package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tzurot/tzurot/store"
)

// MemoryScope is one persona's memories with one character, and the persona's owner.
type MemoryScope struct {
	PersonaID     string
	PersonalityID string
	UserID        string
}

// Store is the scope as the store names it.
func (s MemoryScope) Store() store.MemoryScope {
	return store.MemoryScope{PersonaID: s.PersonaID, PersonalityID: s.PersonalityID, UserID: s.UserID}
}

// FindScopesInput pages through the scopes an agent has work in.
type FindScopesInput struct {
	After string // the last scope key of the previous page ("" = from the start)
	Limit int
	// Since bounds DreamScopes: characters that talked since then.
	Since time.Time
}

// FindScopesResult is one page of scopes; Last is the key to page on from.
type FindScopesResult struct {
	Scopes []MemoryScope
	Last   string
	Done   bool
}

func scopePage(ss []store.MemoryScope, limit int) FindScopesResult {
	res := FindScopesResult{Done: len(ss) < limit}
	for _, s := range ss {
		res.Scopes = append(res.Scopes, MemoryScope{PersonaID: s.PersonaID, PersonalityID: s.PersonalityID, UserID: s.UserID})
		res.Last = s.Key()
	}
	return res
}

// FindSummaryScopes lists the scopes holding enough turn memories older than the
// summarize window (MemorySettings.SummarizeAfterHours) to make a stretch.
func (a *Activities) FindSummaryScopes(ctx context.Context, in FindScopesInput) (FindScopesResult, error) {
	set := a.memorySettings(ctx)
	now := a.now()
	limit := max(in.Limit, 1)
	ss, err := a.Store.Memories.SummaryScopes(ctx, now.Add(-hours(set.SummarizeAfterHours)), now, set.SummarizeMinTurns, in.After, limit)
	if err != nil {
		return FindScopesResult{}, err
	}
	return scopePage(ss, limit), nil
}

// Outcomes of SummarizeStretch.
const (
	StretchSummarized = "summarized"
	StretchSkipped    = "skipped" // recorded with its reason; the originals stay, tried again later
	StretchNothing    = "nothing" // no stretch to summarize (any more)
)

// SummarizeStretchInput names the scope whose oldest stretch to summarize, and the run
// (usage rows and the summaries table carry it).
type SummarizeStretchInput struct {
	RunID string
	Scope MemoryScope
}

// SummarizeStretchResult says what became of the stretch.
type SummarizeStretchResult struct {
	Status   string
	Reason   string // why it was skipped
	MemoryID string // the summary
	Archived int    // originals replaced by it
	More     bool   // the scope has another stretch ready
}

// SummarizeStretch condenses the oldest stretch of a scope's turn memories older than
// the window into one semantic memory, written by a cheap model (MemorySettings.
// SummaryModel) on the owner's key or the free tier, logged as usage kind "summarize".
// The summary replaces its originals in retrieval: they are archived, pointing to it.
// An empty or absurdly long summary, a refused call or an unavailable embedder skips the
// stretch with the reason recorded (memory_summaries) and logged: nothing is lost, and the
// stretch is tried again after MemorySettings.SkipRetryHours.
func (a *Activities) SummarizeStretch(ctx context.Context, in SummarizeStretchInput) (SummarizeStretchResult, error) {
	if a.Embedder == nil {
		return SummarizeStretchResult{Status: StretchNothing, Reason: "no embedder"}, nil
	}
	set := a.memorySettings(ctx)
	now := a.now()
	olderThan := now.Add(-hours(set.SummarizeAfterHours))
	mems, err := a.Store.Memories.Stretch(ctx, in.Scope.Store(), olderThan, now, set.SummarizeMaxTurns)
	if err != nil {
		return SummarizeStretchResult{}, err
	}
	if len(mems) < set.SummarizeMinTurns {
		return SummarizeStretchResult{Status: StretchNothing}, nil
	}
	ids, lines := make([]string, len(mems)), make([]string, len(mems))
	salience := float32(set.TurnSalience)
	for i, m := range mems {
		ids[i], lines[i] = m.ID, "- "+m.CreatedAt.UTC().Format("2006-01-02")+": "+m.Content
		salience = max(salience, m.Salience)
	}
	source := strings.Join(lines, "\n")
	skip := func(reason string) (SummarizeStretchResult, error) {
		a.log().Warn("stretch not summarized; its memories stay as they are", "run", in.RunID, "persona", in.Scope.PersonaID,
			"personality", in.Scope.PersonalityID, "memories", len(ids), "reason", reason)
		err := a.Store.Memories.SkipStretch(ctx, in.RunID, in.Scope.Store(), ids, reason, now.Add(hours(set.SkipRetryHours)), now)
		return SummarizeStretchResult{Status: StretchSkipped, Reason: reason}, err
	}
	text, err := a.callAgentLLM(ctx, agentCall{Scope: in.Scope.Store(), Kind: "summarize", UsageID: in.RunID + ":" + ids[0],
		System: summarizeSystem, User: source, MaxTokens: 400}, set)
	var refused *errAgentRefused
	if errors.As(err, &refused) {
		return skip("the model was not called: " + refused.reason)
	}
	if err != nil {
		return SummarizeStretchResult{}, err
	}
	text = CleanSummary(text)
	if why := SummaryVerdict(text, utf8.RuneCountInString(source), set.SummaryMaxChars); why != "" {
		return skip(why)
	}
	vec, err := a.embedMemory(ctx, text)
	if err != nil {
		return skip("the summary could not be embedded: " + shortReason(err))
	}
	id, err := a.Store.Memories.ApplySummary(ctx, store.Summary{RunID: in.RunID, Scope: in.Scope.Store(), SourceIDs: ids,
		Memory: store.Memory{Content: text, Embedding: vec, Embedder: EmbedderID(a.Embedder), Salience: salience,
			CreatedAt: mems[len(mems)-1].CreatedAt}}, now)
	if errors.Is(err, store.ErrStretchChanged) {
		return SummarizeStretchResult{Status: StretchNothing, Reason: err.Error(), More: true}, nil
	}
	if err != nil {
		return SummarizeStretchResult{}, err
	}
	next, err := a.Store.Memories.Stretch(ctx, in.Scope.Store(), olderThan, now, set.SummarizeMinTurns)
	if err != nil {
		return SummarizeStretchResult{}, err
	}
	return SummarizeStretchResult{Status: StretchSummarized, MemoryID: id, Archived: len(ids),
		More: len(next) >= set.SummarizeMinTurns}, nil
}

const summarizeSystem = `You keep a character's long-term memory of one user. Below are turns of their
conversations, oldest first, one per line. Condense them into the facts and feelings worth
remembering for weeks: who the user is, what they said about their life, plans, likes and
dislikes, and what the two agreed on. Write plain third-person sentences with names, no list,
no preamble, at most 120 words. Answer with the summary only.`

// CleanSummary trims a model's summary and drops a "Summary:" label it may start with.
func CleanSummary(s string) string {
	s = strings.TrimSpace(s)
	for _, label := range []string{"summary:", "**summary:**", "**summary**:"} {
		if len(s) >= len(label) && strings.EqualFold(s[:len(label)], label) {
			s = strings.TrimSpace(s[len(label):])
		}
	}
	return s
}

// SummaryVerdict says why a summary cannot replace its stretch ("" when it can): it is
// empty, longer than maxChars, or longer than twice the stretch it summarizes (a model
// that rambled or echoed its prompt).
func SummaryVerdict(summary string, stretchChars, maxChars int) string {
	n := utf8.RuneCountInString(strings.TrimSpace(summary))
	switch {
	case n == 0:
		return "the summary is empty"
	case n > maxChars:
		return fmt.Sprintf("the summary has %d characters, more than the limit of %d", n, maxChars)
	case n > 2*stretchChars:
		return fmt.Sprintf("the summary (%d characters) is longer than twice its stretch (%d)", n, stretchChars)
	}
	return ""
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }
