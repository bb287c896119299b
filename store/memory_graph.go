package store

import (
	"context"
	"fmt"
	"time"
)

// MemoryLink is one edge of the waypoint graph: two memories recalled together. Links are
// stored in both directions with the same weight, in [0, 1].
type MemoryLink struct {
	From, To string
	Weight   float64
}

// LinksAmong returns the links whose both ends are among ids.
func (r *Memories) LinksAmong(ctx context.Context, ids []string) ([]MemoryLink, error) {
	if len(ids) < 2 {
		return nil, nil
	}
	rows, err := r.pool.Query(ctx, `SELECT from_id::text, to_id::text, weight FROM memory_links
		WHERE from_id = ANY($1::uuid[]) AND to_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("memory links: %w", err)
	}
	defer rows.Close()
	var out []MemoryLink
	for rows.Next() {
		var l MemoryLink
		if err := rows.Scan(&l.From, &l.To, &l.Weight); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Recalled marks memories as recalled together at now: each one's salience rises by boost
// (at most 1) and its last_recalled_at is set; every pair's link is strengthened by step
// (a new link starts at step), in both directions, at most 1.
func (r *Memories) Recalled(ctx context.Context, ids []string, boost, step float64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE memories SET salience = LEAST(1, salience + $2::float8)::real, last_recalled_at = $3
		WHERE id = ANY($1::uuid[])`, ids, boost, now); err != nil {
		return fmt.Errorf("refresh recalled memories: %w", err)
	}
	if len(ids) > 1 && step > 0 {
		// Ordered pairs of distinct ids; sorted so concurrent recalls lock rows in one order.
		if _, err := tx.Exec(ctx, `
			INSERT INTO memory_links (from_id, to_id, weight, updated_at)
			SELECT a, b, LEAST(1, $2::float8)::real, $3 FROM unnest($1::uuid[]) a, unnest($1::uuid[]) b WHERE a <> b
			ORDER BY a, b
			ON CONFLICT (from_id, to_id) DO UPDATE SET weight = LEAST(1, memory_links.weight + $2::float8)::real, updated_at = $3`,
			ids, step, now); err != nil {
			return fmt.Errorf("strengthen memory links: %w", err)
		}
	}
	return tx.Commit(ctx)
}

// LinkDecay is one batch of the daily link decay.
type LinkDecay struct {
	Last   string // the last from_id of the batch: the next batch starts after it
	Links  int    // links decayed
	Pruned int    // links below the floor, deleted
	Done   bool
}

// DecayLinks weakens the links of up to limit memories (by from_id, after after) by
// rate per day since each link was last touched, and deletes those below floor. Touching
// moves the clock, so a retried batch does not decay twice.
func (r *Memories) DecayLinks(ctx context.Context, after string, limit int, rate, floor float64, now time.Time) (LinkDecay, error) {
	if after == "" {
		after = zeroUUID
	}
	var res LinkDecay
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback(ctx)
	var last *string
	err = tx.QueryRow(ctx, `
		WITH batch AS (SELECT DISTINCT from_id FROM memory_links WHERE from_id > $1::uuid ORDER BY from_id LIMIT $2),
		upd AS (
			UPDATE memory_links l SET
				weight = (l.weight * power(1 - $3::float8, GREATEST(extract(epoch FROM $4::timestamptz - l.updated_at) / 86400, 0)))::real,
				updated_at = $4
			FROM batch b WHERE l.from_id = b.from_id RETURNING l.from_id)
		SELECT (SELECT max(from_id::text) FROM batch), (SELECT count(*) FROM upd)`,
		after, limit, rate, now).Scan(&last, &res.Links)
	if err != nil {
		return res, fmt.Errorf("decay memory links: %w", err)
	}
	if last == nil {
		res.Done = true
		return res, tx.Commit(ctx)
	}
	res.Last = *last
	tag, err := tx.Exec(ctx, `DELETE FROM memory_links WHERE from_id > $1::uuid AND from_id <= $2::uuid AND weight < $3`,
		after, res.Last, floor)
	if err != nil {
		return res, fmt.Errorf("prune memory links: %w", err)
	}
	res.Pruned = int(tag.RowsAffected())
	var more bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM memory_links WHERE from_id > $1::uuid)`, res.Last).Scan(&more); err != nil {
		return res, err
	}
	res.Done = !more
	return res, tx.Commit(ctx)
}

const zeroUUID = "00000000-0000-0000-0000-000000000000"
