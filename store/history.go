package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Turn is one line of a conversation with a personality, as stored.
type Turn struct {
	ChannelID        string
	GuildID          string
	PersonalityID    string
	PersonaID        string
	UserID           string
	Role             string // "user" or "assistant"
	SpeakerName      string
	Content          string
	DiscordMessageID string
	WorkflowID       string
	Tokens           int
	Reasoning        string // the model's thinking behind an assistant turn
	CreatedAt        time.Time
}

// History is the repository of conversation_history.
type History struct{ pool *pgxpool.Pool }

// Append stores turns; a turn already stored (same Discord message, personality and role)
// is left alone, so a retried activity writes nothing twice.
func (r *History) Append(ctx context.Context, turns ...Turn) error {
	for _, t := range turns {
		created := t.CreatedAt
		if created.IsZero() {
			created = time.Now()
		}
		_, err := r.pool.Exec(ctx, `
			INSERT INTO conversation_history (channel_id, guild_id, personality_id, persona_id, user_id,
				role, speaker_name, content, discord_message_id, workflow_id, tokens, created_at, reasoning)
			VALUES ($1,$2,$3,NULLIF($4,'')::uuid,NULLIF($5,'')::uuid,$6,$7,$8,$9,$10,$11,$12,$13)
			ON CONFLICT (discord_message_id, personality_id, role) DO NOTHING`,
			t.ChannelID, t.GuildID, t.PersonalityID, t.PersonaID, t.UserID, t.Role, CleanText(t.SpeakerName),
			CleanText(t.Content), t.DiscordMessageID, t.WorkflowID, t.Tokens, created, CleanText(t.Reasoning))
		if err != nil {
			return fmt.Errorf("append history: %w", err)
		}
	}
	return nil
}

// Recent returns up to limit turns with a personality in a channel, oldest first.
func (r *History) Recent(ctx context.Context, channelID, personalityID string, limit int) ([]Turn, error) {
	return r.RecentSince(ctx, channelID, personalityID, limit, time.Time{})
}

// RecentSince is Recent without the turns from before since (a /history clear cutoff;
// the zero time keeps everything).
func (r *History) RecentSince(ctx context.Context, channelID, personalityID string, limit int, since time.Time) ([]Turn, error) {
	rows, err := r.pool.Query(ctx, `
		SELECT channel_id, guild_id, personality_id::text, COALESCE(persona_id::text,''), COALESCE(user_id::text,''),
			role, speaker_name, content, discord_message_id, workflow_id, tokens, created_at
		FROM (SELECT * FROM conversation_history WHERE channel_id = $1 AND personality_id = $2 AND created_at >= $4
			ORDER BY created_at DESC, id DESC LIMIT $3) t
		ORDER BY created_at, id`, channelID, personalityID, limit, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Turn
	for rows.Next() {
		var t Turn
		if err := rows.Scan(&t.ChannelID, &t.GuildID, &t.PersonalityID, &t.PersonaID, &t.UserID, &t.Role,
			&t.SpeakerName, &t.Content, &t.DiscordMessageID, &t.WorkflowID, &t.Tokens, &t.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// LastPersonality returns the personality that spoke last in a channel (a DM keeps
// talking to it until another is named); ErrNotFound if none ever did.
func (r *History) LastPersonality(ctx context.Context, channelID string) (string, error) {
	var id string
	err := r.pool.QueryRow(ctx, `SELECT personality_id::text FROM conversation_history
		WHERE channel_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1`, channelID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return id, err
}
