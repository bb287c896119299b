package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Delivery is one chunk of a reply and, once posted, the Discord message that carries it.
type Delivery struct {
	WorkflowID       string
	PersonalityID    string
	ChunkIndex       int
	ChannelID        string
	ContentHash      string
	DiscordMessageID string // empty while only reserved
}

// Deliveries is the repository that makes webhook delivery idempotent.
type Deliveries struct{ pool *pgxpool.Pool }

// Reserve records the intent to post a chunk and returns the row as it now stands, and
// whether this call created it. A row that existed before belongs to an earlier attempt:
// its DiscordMessageID is set if that attempt finished, and empty if it stopped between
// posting and recording (the caller then checks the channel before posting again).
func (r *Deliveries) Reserve(ctx context.Context, d Delivery) (Delivery, bool, error) {
	tag, err := r.pool.Exec(ctx, `
		INSERT INTO deliveries (workflow_id, personality_id, chunk_index, channel_id, content_hash)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		d.WorkflowID, d.PersonalityID, d.ChunkIndex, d.ChannelID, d.ContentHash)
	if err != nil {
		return d, false, fmt.Errorf("reserve delivery: %w", err)
	}
	fresh := tag.RowsAffected() == 1
	err = r.pool.QueryRow(ctx, `SELECT channel_id, content_hash, discord_message_id FROM deliveries
		WHERE workflow_id = $1 AND personality_id = $2 AND chunk_index = $3`,
		d.WorkflowID, d.PersonalityID, d.ChunkIndex).Scan(&d.ChannelID, &d.ContentHash, &d.DiscordMessageID)
	return d, fresh, err
}

// Known reports whether a Discord message id is already recorded as a delivered chunk.
func (r *Deliveries) Known(ctx context.Context, discordMessageID string) (bool, error) {
	var ok bool
	err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE discord_message_id = $1)`, discordMessageID).Scan(&ok)
	return ok, err
}

// MarkDelivered stores the Discord message id of a posted chunk.
func (r *Deliveries) MarkDelivered(ctx context.Context, d Delivery) error {
	_, err := r.pool.Exec(ctx, `UPDATE deliveries SET discord_message_id = $4, delivered_at = now()
		WHERE workflow_id = $1 AND personality_id = $2 AND chunk_index = $3`,
		d.WorkflowID, d.PersonalityID, d.ChunkIndex, d.DiscordMessageID)
	if err != nil {
		return fmt.Errorf("mark delivered: %w", err)
	}
	return nil
}

// ForWorkflow returns every chunk of a personality's reply in a workflow, in order.
func (r *Deliveries) ForWorkflow(ctx context.Context, workflowID, personalityID string) ([]Delivery, error) {
	rows, err := r.pool.Query(ctx, `SELECT workflow_id, personality_id::text, chunk_index, channel_id, content_hash, discord_message_id
		FROM deliveries WHERE workflow_id = $1 AND personality_id = $2 ORDER BY chunk_index`, workflowID, personalityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(&d.WorkflowID, &d.PersonalityID, &d.ChunkIndex, &d.ChannelID, &d.ContentHash, &d.DiscordMessageID); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// PersonalityForMessage says which personality posted a Discord message, so a reply to
// it triggers that personality. ErrNotFound when the message is not one of ours.
func (r *Deliveries) PersonalityForMessage(ctx context.Context, discordMessageID string) (string, error) {
	var id string
	err := r.pool.QueryRow(ctx, `SELECT personality_id::text FROM deliveries WHERE discord_message_id = $1 LIMIT 1`,
		discordMessageID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return id, err
}
