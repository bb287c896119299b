package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TurnContexts keeps what FetchContext gathered for a turn, keyed by workflow and
// personality, so the fetched channel history never travels through Temporal.
type TurnContexts struct{ pool *pgxpool.Pool }

// Put stores (or replaces) a turn's context; v is JSON-encoded.
func (r *TurnContexts) Put(ctx context.Context, workflowID, personalityID string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode turn context: %w", err)
	}
	_, err = r.pool.Exec(ctx, `INSERT INTO turn_contexts (workflow_id, personality_id, messages) VALUES ($1, $2, $3)
		ON CONFLICT (workflow_id, personality_id) DO UPDATE SET messages = EXCLUDED.messages, created_at = now()`,
		workflowID, personalityID, b)
	return err
}

// Get decodes a turn's context into v; ErrNotFound when it was never stored.
func (r *TurnContexts) Get(ctx context.Context, workflowID, personalityID string, v any) error {
	var b []byte
	err := r.pool.QueryRow(ctx, `SELECT messages FROM turn_contexts WHERE workflow_id = $1 AND personality_id = $2`,
		workflowID, personalityID).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
