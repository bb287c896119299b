package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/jackc/pgx/v5/pgxpool"
)

// User is a Discord user known to Tzurot, with the persona they speak as by default.
type User struct {
	ID               string
	DiscordID        string
	Username         string
	Timezone         string
	DefaultPersonaID string
}

// Users is the repository of users and their personas.
type Users struct{ pool *pgxpool.Pool }

// Ensure returns the user for a Discord id, creating it and a default persona named
// after displayName on first contact. It is idempotent and safe under concurrency.
func (r *Users) Ensure(ctx context.Context, discordID, username, displayName string) (User, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return User{}, err
	}
	defer tx.Rollback(ctx)
	var u User
	err = tx.QueryRow(ctx, `
		INSERT INTO users (discord_id, username) VALUES ($1, $2)
		ON CONFLICT (discord_id) DO UPDATE SET username = EXCLUDED.username, updated_at = now()
		RETURNING id::text, discord_id, username, timezone, COALESCE(default_persona_id::text, '')`,
		discordID, username).Scan(&u.ID, &u.DiscordID, &u.Username, &u.Timezone, &u.DefaultPersonaID)
	if err != nil {
		return User{}, fmt.Errorf("ensure user: %w", err)
	}
	if u.DefaultPersonaID == "" {
		if displayName == "" {
			displayName = username
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO personas (owner_id, name, preferred_name) VALUES ($1, 'default', $2)
			ON CONFLICT (owner_id, name) DO UPDATE SET updated_at = now()
			RETURNING id::text`, u.ID, displayName).Scan(&u.DefaultPersonaID)
		if err != nil {
			return User{}, fmt.Errorf("ensure persona: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET default_persona_id = $2 WHERE id = $1`, u.ID, u.DefaultPersonaID); err != nil {
			return User{}, err
		}
	}
	return u, tx.Commit(ctx)
}

// ByDiscordID returns a known user; ErrNotFound for someone who never talked to a character.
func (r *Users) ByDiscordID(ctx context.Context, discordID string) (User, error) {
	var u User
	err := r.pool.QueryRow(ctx, `SELECT id::text, discord_id, username, timezone, COALESCE(default_persona_id::text, '')
		FROM users WHERE discord_id = $1`, discordID).Scan(&u.ID, &u.DiscordID, &u.Username, &u.Timezone, &u.DefaultPersonaID)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// SetTimezone stores a user's IANA time zone (validated by the caller).
func (r *Users) SetTimezone(ctx context.Context, userID, tz string) error {
	_, err := r.pool.Exec(ctx, `UPDATE users SET timezone = $2, updated_at = now() WHERE id = $1`, userID, tz)
	return err
}
