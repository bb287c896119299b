package store

import (
	"bytes"
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
	// jsonb refuses the NUL character even escaped; Discord messages can carry one.
	b = bytes.ReplaceAll(b, []byte(`\u0000`), []byte(`\ufffd`))
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

// SetReasoning keeps the reasoning a model produced for a turn (never posted).
func (r *TurnContexts) SetReasoning(ctx context.Context, workflowID, personalityID, reasoning string) error {
	_, err := r.pool.Exec(ctx, `UPDATE turn_contexts SET reasoning = $3 WHERE workflow_id = $1 AND personality_id = $2`,
		workflowID, personalityID, CleanText(reasoning))
	return err
}

// Reasoning returns what SetReasoning kept ("" when none).
func (r *TurnContexts) Reasoning(ctx context.Context, workflowID, personalityID string) (string, error) {
	var s string
	err := r.pool.QueryRow(ctx, `SELECT reasoning FROM turn_contexts WHERE workflow_id = $1 AND personality_id = $2`,
		workflowID, personalityID).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return s, err
}
