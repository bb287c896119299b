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
