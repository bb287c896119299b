package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// MemoryDecay is one batch of the daily salience decay.
type MemoryDecay struct {
	Last     string // the last id of the batch: the next batch starts after it
	Scanned  int
	Archived int // fell below the floor
	Done     bool
}

// DecayMemories lowers the salience of up to limit active memories (by id, after after):
// each by its sector's rate per day (rates, e.g. {"episodic": 0.02}) for the days since
// it last decayed (else since it was written); unlocked ones that fall below floor are
// archived. The decay clock moves to now, so a retried batch does not decay twice.
// Locked memories keep their salience.
func (r *Memories) DecayMemories(ctx context.Context, after string, limit int, rates map[string]float64, floor float64, now time.Time) (MemoryDecay, error) {
	if after == "" {
		after = zeroUUID
	}
	ratesJSON, err := json.Marshal(rates)
	if err != nil {
		return MemoryDecay{}, err
	}
	rows, err := r.pool.Query(ctx, `
		WITH batch AS (
			SELECT id FROM memories WHERE NOT archived AND id > $1::uuid ORDER BY id LIMIT $2
		), next AS (
			SELECT m.id, CASE WHEN m.locked THEN m.salience ELSE (m.salience * power(
				1 - LEAST(GREATEST(COALESCE(($3::jsonb ->> m.sector)::float8, 0), 0), 1),
				GREATEST(extract(epoch FROM $4::timestamptz - COALESCE(m.decayed_at, m.created_at)) / 86400, 0)))::real END AS s,
				NOT m.locked AS mortal
			FROM memories m JOIN batch b ON b.id = m.id
		)
		UPDATE memories m SET salience = n.s, decayed_at = $4,
			archived = n.mortal AND n.s < $5,
			archived_at = CASE WHEN n.mortal AND n.s < $5 THEN $4 END,
			archive_reason = CASE WHEN n.mortal AND n.s < $5 THEN 'decay' ELSE m.archive_reason END
		FROM next n WHERE m.id = n.id
		RETURNING m.id::text, m.archived`, after, limit, string(ratesJSON), now, floor)
	if err != nil {
		return MemoryDecay{}, fmt.Errorf("decay memories: %w", err)
	}
	defer rows.Close()
	res := MemoryDecay{Last: after}
	for rows.Next() {
		var id string
		var archived bool
		if err := rows.Scan(&id, &archived); err != nil {
			return res, err
		}
		res.Scanned++
		if archived {
			res.Archived++
		}
		if id > res.Last {
			res.Last = id
		}
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("decay memories: %w", err)
	}
	res.Done = res.Scanned < limit
	return res, nil
}

// StaleEmbeddings counts the memories whose vector another embedder wrote, or that have
// none yet: what the re-embed job has to do for embedder.
func (r *Memories) StaleEmbeddings(ctx context.Context, embedder string) (int, error) {
	var n int
	err := r.pool.QueryRow(ctx, `SELECT count(*) FROM memories WHERE embedding IS NULL OR embedder <> $1`, embedder).Scan(&n)
	return n, err
}

// StaleBatch returns up to limit memories (by id, after after) that embedder has not
// embedded, archived ones included (they may come back).
func (r *Memories) StaleBatch(ctx context.Context, embedder, after string, limit int) ([]Memory, error) {
	if after == "" {
		after = zeroUUID
	}
	rows, err := r.pool.Query(ctx, `SELECT `+memoryCols+` FROM memories m
		WHERE (m.embedding IS NULL OR m.embedder <> $1) AND m.id > $2::uuid ORDER BY m.id LIMIT $3`, embedder, after, limit)
	return collectMemories(rows, err, nil)
}

// SetEmbedding stores a memory's new vector and the embedder that wrote it.
func (r *Memories) SetEmbedding(ctx context.Context, id string, vec []float32, embedder string) error {
	if len(vec) != EmbeddingDim {
		return fmt.Errorf("memory embedding has %d dimensions, want %d", len(vec), EmbeddingDim)
	}
	_, err := r.pool.Exec(ctx, `UPDATE memories SET embedding = $2, embedder = $3 WHERE id = $1`, id, vectorArg(vec), embedder)
	if err != nil {
		return fmt.Errorf("set memory embedding: %w", err)
	}
	return nil
}
