package store

import (
	"context"
	"fmt"
	"time"

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

// GuestTokensSince sums the tokens guests spent on the operator's key since t, for the
// global daily cap.
func (r *Usage) GuestTokensSince(ctx context.Context, t time.Time) (int, error) {
	var n int
	err := r.pool.QueryRow(ctx, `SELECT COALESCE(sum(tokens_in + tokens_out), 0) FROM usage_logs WHERE is_guest AND created_at >= $1`, t).Scan(&n)
	return n, err
}

// UsageRow is one model's totals over a period.
type UsageRow struct {
	Model     string
	Calls     int
	TokensIn  int
	TokensOut int
}

// Totals sums usage by model since t, for one user ("" = the whole bot).
func (r *Usage) Totals(ctx context.Context, userID string, since time.Time) ([]UsageRow, error) {
	rows, err := r.pool.Query(ctx, `SELECT model, count(*), COALESCE(sum(tokens_in),0), COALESCE(sum(tokens_out),0)
		FROM usage_logs WHERE created_at >= $2 AND ($1 = '' OR user_id = NULLIF($1,'')::uuid)
		GROUP BY model ORDER BY sum(tokens_in + tokens_out) DESC`, userID, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UsageRow
	for rows.Next() {
		var u UsageRow
		if err := rows.Scan(&u.Model, &u.Calls, &u.TokensIn, &u.TokensOut); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
