package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// UsageLog is one LLM call's token count, charged to the user who triggered it.
type UsageLog struct {
	WorkflowID    string
	PersonalityID string
	UserID        string
	Provider      string
	Model         string
	TokensIn      int
	TokensOut     int
	IsGuest       bool
	Kind          string // "conversation" unless a background agent
}

// Usage is the repository of usage_logs.
type Usage struct{ pool *pgxpool.Pool }

// Log records a call once: a retried RecordTurn does not count tokens twice.
func (r *Usage) Log(ctx context.Context, u UsageLog) error {
	if u.Kind == "" {
		u.Kind = "conversation"
	}
	_, err := r.pool.Exec(ctx, `
		INSERT INTO usage_logs (workflow_id, personality_id, user_id, provider, model, tokens_in, tokens_out, is_guest, kind)
		VALUES ($1, NULLIF($2,'')::uuid, NULLIF($3,'')::uuid, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (workflow_id, personality_id, kind) DO NOTHING`,
		u.WorkflowID, u.PersonalityID, u.UserID, u.Provider, u.Model, u.TokensIn, u.TokensOut, u.IsGuest, u.Kind)
	if err != nil {
		return fmt.Errorf("log usage: %w", err)
	}
	return nil
}

// CountForWorkflow returns how many usage rows a workflow wrote (tests and admin views).
func (r *Usage) CountForWorkflow(ctx context.Context, workflowID string) (int, error) {
	var n int
	err := r.pool.QueryRow(ctx, `SELECT count(*) FROM usage_logs WHERE workflow_id = $1`, workflowID).Scan(&n)
	return n, err
}
