package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MemoryScope is one persona's memories with one character, and whose persona it is.
type MemoryScope struct {
	PersonaID     string
	PersonalityID string
	UserID        string // the persona's owner (whose key pays for the agents' calls)
}

// Key orders scopes for paging ("personality:persona").
func (s MemoryScope) Key() string { return s.PersonalityID + ":" + s.PersonaID }

func scanScopes(rows pgx.Rows, err error) ([]MemoryScope, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MemoryScope
	for rows.Next() {
		var s MemoryScope
		if err := rows.Scan(&s.PersonalityID, &s.PersonaID, &s.UserID); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// summarizable is the predicate of turn memories the summarize agent may replace: turn
// memories, unlocked, active, older than $olderThan, not in a stretch skipped recently.
const summarizable = `m.origin = 'turn' AND NOT m.archived AND NOT m.locked AND m.created_at < $1
	AND NOT EXISTS (SELECT 1 FROM memory_summaries s WHERE s.status = 'skipped' AND s.retry_after > $2
		AND s.personality_id = m.personality_id AND s.persona_id = m.persona_id AND m.id = ANY(s.source_ids))`

// SummaryScopes pages through the scopes (after the key after, up to limit) holding at
// least min turn memories older than olderThan that the summarize agent may replace.
func (r *Memories) SummaryScopes(ctx context.Context, olderThan, now time.Time, min int, after string, limit int) ([]MemoryScope, error) {
	rows, err := r.pool.Query(ctx, `
		SELECT m.personality_id::text, m.persona_id::text, pe.owner_id::text
		FROM memories m JOIN personas pe ON pe.id = m.persona_id
		WHERE `+summarizable+` AND (m.personality_id::text || ':' || m.persona_id::text) > $3
		GROUP BY m.personality_id, m.persona_id, pe.owner_id HAVING count(*) >= $4
		ORDER BY m.personality_id::text || ':' || m.persona_id::text LIMIT $5`, olderThan, now, after, min, limit)
	out, err := scanScopes(rows, err)
	if err != nil {
		return nil, fmt.Errorf("summary scopes: %w", err)
	}
	return out, nil
}

// Stretch returns the oldest (up to max) turn memories of a scope the summarize agent may
// replace, oldest first.
func (r *Memories) Stretch(ctx context.Context, s MemoryScope, olderThan, now time.Time, max int) ([]Memory, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+memoryCols+` FROM memories m
		WHERE `+summarizable+` AND m.personality_id = $3 AND m.persona_id = $4
		ORDER BY m.created_at, m.id LIMIT $5`, olderThan, now, s.PersonalityID, s.PersonaID, max)
	return collectMemories(rows, err, nil)
}

// Summary is what the summarize agent writes for one stretch.
type Summary struct {
	RunID     string
	Scope     MemoryScope
	SourceIDs []string // the turn memories summarized
	Memory    Memory   // the semantic memory replacing them
}

// ErrStretchChanged says a stretch's memories changed while it was being summarized
// (deleted, locked or archived by the user); nothing was written.
var ErrStretchChanged = errors.New("the stretch changed while it was summarized")

// ApplySummary writes a stretch's summary and archives its originals in one transaction:
// the summary takes their source messages; each original keeps its text and points to
// the summary (replaced_by) for audit. If an original is no longer replaceable, nothing
// is written (ErrStretchChanged).
func (r *Memories) ApplySummary(ctx context.Context, s Summary, now time.Time) (string, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(ctx)
	var n int
	var sources []string
	err = tx.QueryRow(ctx, `
		WITH o AS (SELECT id, source_message_ids FROM memories
			WHERE id = ANY($1::uuid[]) AND origin = 'turn' AND NOT archived AND NOT locked FOR UPDATE)
		SELECT (SELECT count(*) FROM o),
			ARRAY(SELECT DISTINCT x FROM o, unnest(o.source_message_ids) x ORDER BY 1)`, s.SourceIDs).Scan(&n, &sources)
	if err != nil {
		return "", fmt.Errorf("lock stretch: %w", err)
	}
	if n != len(s.SourceIDs) {
		return "", ErrStretchChanged
	}
	m := s.Memory
	m.PersonaID, m.PersonalityID, m.Origin, m.SourceMessageIDs = s.Scope.PersonaID, s.Scope.PersonalityID, OriginSummary, sources
	if m.Sector == "" {
		m.Sector = SectorSemantic
	}
	id, _, err := writeMemory(ctx, tx, m)
	if err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `UPDATE memories SET archived = true, archived_at = $2, archive_reason = 'summarized', replaced_by = $3
		WHERE id = ANY($1::uuid[]) AND id <> $3`, s.SourceIDs, now, id); err != nil {
		return "", fmt.Errorf("archive summarized memories: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO memory_summaries (run_id, personality_id, persona_id, source_ids, memory_id, status, created_at)
		VALUES ($1, $2, $3, $4, $5, 'summarized', $6)`, s.RunID, s.Scope.PersonalityID, s.Scope.PersonaID, s.SourceIDs, id, now); err != nil {
		return "", fmt.Errorf("record summary: %w", err)
	}
	return id, tx.Commit(ctx)
}

// SkipStretch records that a stretch was not summarized and why; its memories stay as
// they are, and the agent tries them again after retryAfter.
func (r *Memories) SkipStretch(ctx context.Context, runID string, s MemoryScope, sourceIDs []string, reason string, retryAfter, now time.Time) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO memory_summaries (run_id, personality_id, persona_id, source_ids, status, reason, retry_after, created_at)
		VALUES ($1, $2, $3, $4, 'skipped', $5, $6, $7)`, runID, s.PersonalityID, s.PersonaID, sourceIDs, CleanText(reason), retryAfter, now)
	if err != nil {
		return fmt.Errorf("record skipped stretch: %w", err)
	}
	return nil
}

// SummaryRecord is one row of memory_summaries.
type SummaryRecord struct {
	RunID     string
	SourceIDs []string
	MemoryID  string
	Status    string
	Reason    string
}

// Summaries lists what the summarize agent did in a scope, newest first.
func (r *Memories) Summaries(ctx context.Context, s MemoryScope) ([]SummaryRecord, error) {
	rows, err := r.pool.Query(ctx, `SELECT run_id, source_ids::text[], COALESCE(memory_id::text, ''), status, reason
		FROM memory_summaries WHERE personality_id = $1 AND persona_id = $2 ORDER BY created_at DESC, id DESC`, s.PersonalityID, s.PersonaID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SummaryRecord
	for rows.Next() {
		var x SummaryRecord
		if err := rows.Scan(&x.RunID, &x.SourceIDs, &x.MemoryID, &x.Status, &x.Reason); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
