package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// History cutoffs: /history clear makes a character's context of a user start afresh
// (the rows stay; FetchContext reads only what is newer), /history undo takes it back.

// Cutoff returns where a user's context with a personality starts (zero: no cutoff).
func (r *History) Cutoff(ctx context.Context, userID, personalityID string) (time.Time, error) {
	if userID == "" || personalityID == "" {
		return time.Time{}, nil
	}
	var at *time.Time
	err := r.pool.QueryRow(ctx, `SELECT cutoff FROM history_cutoffs WHERE user_id = $1 AND personality_id = $2`,
		userID, personalityID).Scan(&at)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("history cutoff: %w", err)
	case at == nil:
		return time.Time{}, nil
	}
	return *at, nil
}

// SetCutoff starts a user's context with a personality at at; the cutoff it replaces is
// kept for UndoCutoff.
func (r *History) SetCutoff(ctx context.Context, userID, personalityID string, at time.Time) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO history_cutoffs (user_id, personality_id, cutoff, previous, updated_at)
		VALUES ($1, $2, $3, NULL, now())
		ON CONFLICT (user_id, personality_id) DO UPDATE SET previous = history_cutoffs.cutoff, cutoff = $3, updated_at = now()`,
		userID, personalityID, at)
	if err != nil {
		return fmt.Errorf("set history cutoff: %w", err)
	}
	return nil
}

// UndoCutoff restores the cutoff before the last SetCutoff (zero: none). ok is false when
// there is nothing to undo.
func (r *History) UndoCutoff(ctx context.Context, userID, personalityID string) (restored time.Time, ok bool, err error) {
	var at *time.Time
	err = r.pool.QueryRow(ctx, `UPDATE history_cutoffs SET cutoff = previous, previous = NULL, updated_at = now()
		WHERE user_id = $1 AND personality_id = $2 AND cutoff IS NOT NULL RETURNING cutoff`, userID, personalityID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("undo history cutoff: %w", err)
	}
	if at != nil {
		restored = *at
	}
	return restored, true, nil
}
