package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Channels is the repository of per-channel settings (activation, allow/deny).
type Channels struct{ pool *pgxpool.Pool }

// Activated returns the personality activated in a channel, or ErrNotFound.
func (r *Channels) Activated(ctx context.Context, channelID string) (string, error) {
	var id *string
	err := r.pool.QueryRow(ctx, `SELECT activated_personality_id::text FROM channel_settings WHERE channel_id = $1`, channelID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && id == nil) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	return *id, nil
}

// Activate makes a personality answer every human message in a channel.
func (r *Channels) Activate(ctx context.Context, channelID, guildID, personalityID string) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO channel_settings (channel_id, guild_id, activated_personality_id)
		VALUES ($1, $2, $3) ON CONFLICT (channel_id) DO UPDATE SET activated_personality_id = $3, updated_at = now()`,
		channelID, guildID, personalityID)
	return err
}

// ActivatedChannels returns the set of channels with an activated personality.
func (r *Channels) ActivatedChannels(ctx context.Context) (map[string]bool, error) {
	rows, err := r.pool.Query(ctx, `SELECT channel_id FROM channel_settings WHERE activated_personality_id IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// Deactivate stops the activated personality of a channel; false if none was active.
func (r *Channels) Deactivate(ctx context.Context, channelID string) (bool, error) {
	tag, err := r.pool.Exec(ctx, `UPDATE channel_settings SET activated_personality_id = NULL, updated_at = now()
		WHERE channel_id = $1 AND activated_personality_id IS NOT NULL`, channelID)
	return tag.RowsAffected() > 0, err
}
