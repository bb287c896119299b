package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DreamMerge is one near-duplicate pair a dream merged: Dropped was archived in favour of
// Kept, whose salience before the merge is kept so an undo can restore it.
type DreamMerge struct {
	Kept         string  `json:"kept"`
	Dropped      string  `json:"dropped"`
	KeptSalience float32 `json:"kept_salience"`
}

// Contradiction is a pair of memories a dream found at odds, noted and left alone.
type Contradiction struct {
	A    string `json:"a"`
	B    string `json:"b"`
	Note string `json:"note"`
}

// Dream is what one dream did in one scope.
type Dream struct {
	ID             string
	RunID          string
	Scope          MemoryScope
	Added          []string // reflective memories written
	Merged         []DreamMerge
	Archived       []string // memories archived (the dropped side of each merge)
	Contradictions []Contradiction
	Note           string
	CreatedAt      time.Time
	UndoneAt       time.Time // zero while in effect
}

// DreamPlan is what a dream means to do; ApplyDream checks it against the rows as they are.
type DreamPlan struct {
	RunID          string
	Scope          MemoryScope
	Merges         []DreamMerge // Kept and Dropped; KeptSalience is filled in by ApplyDream
	Reflections    []Memory
	Contradictions []Contradiction
	Note           string
}

// DreamScopes pages through the scopes (after the key after, up to limit) whose
// character talked with the persona since since: the characters active that day.
func (r *Memories) DreamScopes(ctx context.Context, since time.Time, after string, limit int) ([]MemoryScope, error) {
	rows, err := r.pool.Query(ctx, `
		SELECT DISTINCT h.personality_id::text, h.persona_id::text, pe.owner_id::text
		FROM conversation_history h JOIN personas pe ON pe.id = h.persona_id
		WHERE h.created_at >= $1 AND (h.personality_id::text || ':' || h.persona_id::text) > $2
		ORDER BY 1, 2 LIMIT $3`, since, after, limit)
	out, err := scanScopes(rows, err)
	if err != nil {
		return nil, fmt.Errorf("dream scopes: %w", err)
	}
	return out, nil
}

const dreamCols = `d.id::text, d.run_id, d.personality_id::text, d.persona_id::text, pe.owner_id::text, d.added::text[],
	d.merged, d.archived::text[], d.contradictions, d.note, d.created_at, COALESCE(d.undone_at, 'epoch'::timestamptz)`

func scanDream(row pgx.Row) (Dream, error) {
	var d Dream
	var merged, contra []byte
	err := row.Scan(&d.ID, &d.RunID, &d.Scope.PersonalityID, &d.Scope.PersonaID, &d.Scope.UserID, &d.Added, &merged,
		&d.Archived, &contra, &d.Note, &d.CreatedAt, &d.UndoneAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, err
	}
	if d.UndoneAt.Equal(time.Unix(0, 0)) {
		d.UndoneAt = time.Time{}
	}
	if err := json.Unmarshal(merged, &d.Merged); err != nil {
		return d, fmt.Errorf("dream merges: %w", err)
	}
	if err := json.Unmarshal(contra, &d.Contradictions); err != nil {
		return d, fmt.Errorf("dream contradictions: %w", err)
	}
	return d, nil
}

// ApplyDream carries out a plan in one transaction and records it in dreams. A merge
// happens only if both memories are still active in the scope and the dropped one is not
// locked; a reflection that already existed is not counted as added (an undo must not
// delete it). The same run in the same scope is applied once: a retry gets the record.
func (r *Memories) ApplyDream(ctx context.Context, p DreamPlan, now time.Time) (Dream, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return Dream{}, err
	}
	defer tx.Rollback(ctx)
	prior, err := scanDream(tx.QueryRow(ctx, `SELECT `+dreamCols+` FROM dreams d JOIN personas pe ON pe.id = d.persona_id
		WHERE d.run_id = $1 AND d.personality_id = $2 AND d.persona_id = $3`, p.RunID, p.Scope.PersonalityID, p.Scope.PersonaID))
	if err == nil {
		return prior, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Dream{}, err
	}
	d := Dream{RunID: p.RunID, Scope: p.Scope, Note: p.Note, Merged: []DreamMerge{}, Added: []string{}, Archived: []string{},
		Contradictions: append([]Contradiction{}, p.Contradictions...)}
	for _, mg := range p.Merges {
		done, err := mergeTx(ctx, tx, p.Scope, mg, now)
		if err != nil {
			return Dream{}, err
		}
		if done != nil {
			d.Merged = append(d.Merged, *done)
			d.Archived = append(d.Archived, done.Dropped)
		}
	}
	for _, m := range p.Reflections {
		m.PersonaID, m.PersonalityID, m.Origin = p.Scope.PersonaID, p.Scope.PersonalityID, OriginDream
		if m.Sector == "" {
			m.Sector = SectorReflective
		}
		id, created, err := writeMemory(ctx, tx, m)
		if err != nil {
			return Dream{}, err
		}
		if created {
			d.Added = append(d.Added, id)
		}
	}
	merged, _ := json.Marshal(d.Merged)
	contra, _ := json.Marshal(d.Contradictions)
	err = tx.QueryRow(ctx, `INSERT INTO dreams (run_id, personality_id, persona_id, added, merged, archived, contradictions, note, created_at)
		VALUES ($1, $2, $3, $4::uuid[], $5, $6::uuid[], $7, $8, $9) RETURNING id::text, created_at`,
		p.RunID, p.Scope.PersonalityID, p.Scope.PersonaID, d.Added, merged, d.Archived, contra, CleanText(p.Note), now).Scan(&d.ID, &d.CreatedAt)
	if err != nil {
		return Dream{}, fmt.Errorf("record dream: %w", err)
	}
	return d, tx.Commit(ctx)
}

// mergeTx archives mg.Dropped in favour of mg.Kept if both are active in the scope and
// Dropped is unlocked; nil when the rows no longer allow it.
func mergeTx(ctx context.Context, tx pgx.Tx, s MemoryScope, mg DreamMerge, now time.Time) (*DreamMerge, error) {
	rows, err := tx.Query(ctx, `SELECT id::text, salience, locked FROM memories
		WHERE id = ANY($1::uuid[]) AND persona_id = $2 AND personality_id = $3 AND NOT archived ORDER BY id FOR UPDATE`,
		[]string{mg.Kept, mg.Dropped}, s.PersonaID, s.PersonalityID)
	if err != nil {
		return nil, fmt.Errorf("lock merge: %w", err)
	}
	found := map[string]bool{}
	var keptSal, dropSal float32
	dropLocked := false
	for rows.Next() {
		var id string
		var sal float32
		var locked bool
		if err := rows.Scan(&id, &sal, &locked); err != nil {
			rows.Close()
			return nil, err
		}
		found[id] = true
		if id == mg.Kept {
			keptSal = sal
		} else {
			dropSal, dropLocked = sal, locked
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if mg.Kept == mg.Dropped || !found[mg.Kept] || !found[mg.Dropped] || dropLocked {
		return nil, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE memories k SET salience = GREATEST(k.salience, $2),
		source_message_ids = ARRAY(SELECT DISTINCT unnest(k.source_message_ids || d.source_message_ids) ORDER BY 1)
		FROM memories d WHERE k.id = $1 AND d.id = $3`, mg.Kept, dropSal, mg.Dropped); err != nil {
		return nil, fmt.Errorf("merge into kept memory: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE memories SET archived = true, archived_at = $2, archive_reason = 'dream-merge', replaced_by = $3
		WHERE id = $1`, mg.Dropped, now, mg.Kept); err != nil {
		return nil, fmt.Errorf("archive merged memory: %w", err)
	}
	return &DreamMerge{Kept: mg.Kept, Dropped: mg.Dropped, KeptSalience: keptSal}, nil
}

// UndoLastDream reverts the newest dream still in effect over any of the user's personas
// that changed something (a dream that only noted contradictions has nothing to undo):
// its reflections are deleted (unless the user locked them since), merged memories come
// back and the kept ones get their old salience. ErrNotFound when there is none.
func (r *Memories) UndoLastDream(ctx context.Context, userID string, now time.Time) (Dream, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return Dream{}, err
	}
	defer tx.Rollback(ctx)
	d, err := scanDream(tx.QueryRow(ctx, `SELECT `+dreamCols+` FROM dreams d JOIN personas pe ON pe.id = d.persona_id
		WHERE pe.owner_id = $1 AND d.undone_at IS NULL AND (cardinality(d.added) > 0 OR jsonb_array_length(d.merged) > 0)
		ORDER BY d.created_at DESC, d.id DESC LIMIT 1 FOR UPDATE OF d`, userID))
	if err != nil {
		return d, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM memories WHERE id = ANY($1::uuid[]) AND origin = 'dream' AND NOT locked`, d.Added); err != nil {
		return d, fmt.Errorf("remove dream reflections: %w", err)
	}
	for _, mg := range d.Merged {
		if _, err := tx.Exec(ctx, `UPDATE memories SET archived = false, archived_at = NULL, archive_reason = '', replaced_by = NULL
			WHERE id = $1 AND replaced_by = $2 AND archive_reason = 'dream-merge'`, mg.Dropped, mg.Kept); err != nil {
			return d, fmt.Errorf("restore merged memory: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE memories SET salience = $2 WHERE id = $1`, mg.Kept, mg.KeptSalience); err != nil {
			return d, fmt.Errorf("restore kept memory: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE dreams SET undone_at = $2 WHERE id = $1`, d.ID, now); err != nil {
		return d, err
	}
	d.UndoneAt = now
	return d, tx.Commit(ctx)
}

// Dreams lists the dreams of a scope, newest first.
func (r *Memories) Dreams(ctx context.Context, s MemoryScope) ([]Dream, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+dreamCols+` FROM dreams d JOIN personas pe ON pe.id = d.persona_id
		WHERE d.personality_id = $1 AND d.persona_id = $2 ORDER BY d.created_at DESC, d.id DESC`, s.PersonalityID, s.PersonaID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Dream
	for rows.Next() {
		d, err := scanDream(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
