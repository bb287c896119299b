package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Personality is a character card plus its ownership and presentation.
type Personality struct {
	ID                     string `json:"id,omitempty" yaml:"id,omitempty"`
	Slug                   string `json:"slug" yaml:"slug"`
	Name                   string `json:"name" yaml:"name"`
	DisplayName            string `json:"display_name" yaml:"display_name"`
	AvatarURL              string `json:"avatar_url,omitempty" yaml:"avatar_url,omitempty"`
	CharacterInfo          string `json:"character_info,omitempty" yaml:"character_info,omitempty"`
	Traits                 string `json:"personality_traits,omitempty" yaml:"personality_traits,omitempty"`
	Tone                   string `json:"personality_tone,omitempty" yaml:"personality_tone,omitempty"`
	Age                    string `json:"personality_age,omitempty" yaml:"personality_age,omitempty"`
	Appearance             string `json:"personality_appearance,omitempty" yaml:"personality_appearance,omitempty"`
	Likes                  string `json:"personality_likes,omitempty" yaml:"personality_likes,omitempty"`
	Dislikes               string `json:"personality_dislikes,omitempty" yaml:"personality_dislikes,omitempty"`
	ConversationalGoals    string `json:"conversational_goals,omitempty" yaml:"conversational_goals,omitempty"`
	ConversationalExamples string `json:"conversational_examples,omitempty" yaml:"conversational_examples,omitempty"`
	SystemPrompt           string `json:"system_prompt,omitempty" yaml:"system_prompt,omitempty"`
	ErrorMessage           string `json:"error_message,omitempty" yaml:"error_message,omitempty"`
	Birthday               string `json:"birthday,omitempty" yaml:"birthday,omitempty"`
	OwnerID                string `json:"owner_id,omitempty" yaml:"owner_id,omitempty"`
	IsPublic               bool   `json:"is_public" yaml:"is_public"`
	IsNSFW                 bool   `json:"is_nsfw,omitempty" yaml:"is_nsfw,omitempty"`
	ShowModelFooter        bool   `json:"show_model_footer,omitempty" yaml:"show_model_footer,omitempty"`
	// Aliases are global aliases; Upsert adds them (it never removes any).
	Aliases []string `json:"aliases,omitempty" yaml:"aliases,omitempty"`
}

// NameEntry is one way to call a personality: its name, display name, slug or an alias.
// UserID is set for a personal alias (it only counts for that user).
type NameEntry struct {
	PersonalityID string
	Name          string
	UserID        string
}

// Personalities is the repository of character cards.
type Personalities struct{ pool *pgxpool.Pool }

const personalityCols = `p.id::text, p.slug, p.name, p.display_name, p.avatar_url, p.character_info,
	p.personality_traits, p.personality_tone, p.personality_age, p.personality_appearance,
	p.personality_likes, p.personality_dislikes, p.conversational_goals, p.conversational_examples,
	p.system_prompt, p.error_message, p.birthday, COALESCE(p.owner_id::text, ''), p.is_public, p.is_nsfw,
	p.show_model_footer`

func scanPersonality(row pgx.Row) (Personality, error) {
	var p Personality
	err := row.Scan(&p.ID, &p.Slug, &p.Name, &p.DisplayName, &p.AvatarURL, &p.CharacterInfo,
		&p.Traits, &p.Tone, &p.Age, &p.Appearance, &p.Likes, &p.Dislikes, &p.ConversationalGoals,
		&p.ConversationalExamples, &p.SystemPrompt, &p.ErrorMessage, &p.Birthday, &p.OwnerID,
		&p.IsPublic, &p.IsNSFW, &p.ShowModelFooter)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// Upsert creates the personality or updates the card with the same slug, and adds its
// global aliases. It returns the stored row.
func (r *Personalities) Upsert(ctx context.Context, p Personality) (Personality, error) {
	if p.DisplayName == "" {
		p.DisplayName = p.Name
	}
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return p, err
	}
	defer tx.Rollback(ctx)
	row := tx.QueryRow(ctx, `
		INSERT INTO personalities (slug, name, display_name, avatar_url, character_info,
			personality_traits, personality_tone, personality_age, personality_appearance,
			personality_likes, personality_dislikes, conversational_goals, conversational_examples,
			system_prompt, error_message, birthday, owner_id, is_public, is_nsfw, show_model_footer)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,NULLIF($17,'')::uuid,$18,$19,$20)
		ON CONFLICT (slug) DO UPDATE SET name=$2, display_name=$3, avatar_url=$4, character_info=$5,
			personality_traits=$6, personality_tone=$7, personality_age=$8, personality_appearance=$9,
			personality_likes=$10, personality_dislikes=$11, conversational_goals=$12,
			conversational_examples=$13, system_prompt=$14, error_message=$15, birthday=$16,
			owner_id=COALESCE(NULLIF($17,'')::uuid, personalities.owner_id), is_public=$18, is_nsfw=$19, show_model_footer=$20,
			updated_at=now()
		RETURNING `+strings.ReplaceAll(personalityCols, "p.", ""),
		p.Slug, p.Name, p.DisplayName, p.AvatarURL, p.CharacterInfo, p.Traits, p.Tone, p.Age,
		p.Appearance, p.Likes, p.Dislikes, p.ConversationalGoals, p.ConversationalExamples,
		p.SystemPrompt, p.ErrorMessage, p.Birthday, p.OwnerID, p.IsPublic, p.IsNSFW, p.ShowModelFooter)
	stored, err := scanPersonality(row)
	if err != nil {
		return p, fmt.Errorf("upsert personality %q: %w", p.Slug, err)
	}
	for _, a := range p.Aliases {
		if _, err := tx.Exec(ctx, `INSERT INTO personality_aliases (personality_id, alias) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, stored.ID, a); err != nil {
			return p, fmt.Errorf("alias %q: %w", a, err)
		}
	}
	stored.Aliases = p.Aliases
	return stored, tx.Commit(ctx)
}

// ByID returns one personality.
func (r *Personalities) ByID(ctx context.Context, id string) (Personality, error) {
	return scanPersonality(r.pool.QueryRow(ctx, `SELECT `+personalityCols+` FROM personalities p WHERE id = $1`, id))
}

// BySlug returns one personality by its slug.
func (r *Personalities) BySlug(ctx context.Context, slug string) (Personality, error) {
	return scanPersonality(r.pool.QueryRow(ctx, `SELECT `+personalityCols+` FROM personalities p WHERE slug = $1`, slug))
}

// List returns every personality ordered by slug.
func (r *Personalities) List(ctx context.Context) ([]Personality, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+personalityCols+` FROM personalities p ORDER BY slug`)
	return collectPersonalities(rows, err)
}

// Names lists every way to call a personality that applies to the Discord user
// discordUserID: names, display names, slugs, global aliases and that user's own aliases,
// of public personalities and the user's own private ones (a private character is
// invisible to everyone else).
func (r *Personalities) Names(ctx context.Context, discordUserID string) ([]NameEntry, error) {
	rows, err := r.pool.Query(ctx, `
		WITH visible AS (
			SELECT p.* FROM personalities p
			WHERE p.is_public OR p.owner_id = (SELECT id FROM users WHERE discord_id = $1))
		SELECT id::text, name, '' FROM visible
		UNION ALL SELECT id::text, display_name, '' FROM visible
		UNION ALL SELECT id::text, slug, '' FROM visible
		UNION ALL SELECT a.personality_id::text, a.alias, COALESCE(u.discord_id, '')
			FROM personality_aliases a JOIN visible v ON v.id = a.personality_id LEFT JOIN users u ON u.id = a.user_id
			WHERE a.user_id IS NULL OR u.discord_id = $1`, discordUserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []NameEntry
	for rows.Next() {
		var e NameEntry
		if err := rows.Scan(&e.PersonalityID, &e.Name, &e.UserID); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Search returns up to limit personalities whose name, display name, slug or global alias
// contains text (case-insensitive), best matches (prefix) first: for autocomplete.
func (r *Personalities) Search(ctx context.Context, text string, limit int) ([]Personality, error) {
	rows, err := r.pool.Query(ctx, `
		SELECT `+personalityCols+` FROM personalities p
		WHERE $1 = '' OR p.name ILIKE '%' || $1 || '%' OR p.display_name ILIKE '%' || $1 || '%' OR p.slug ILIKE '%' || $1 || '%'
			OR EXISTS (SELECT 1 FROM personality_aliases a WHERE a.personality_id = p.id AND a.user_id IS NULL AND a.alias ILIKE '%' || $1 || '%')
		ORDER BY (p.display_name ILIKE $1 || '%' OR p.slug ILIKE $1 || '%') DESC, p.display_name
		LIMIT $2`, strings.ReplaceAll(strings.ReplaceAll(text, `%`, `\%`), `_`, `\_`), limit)
	return collectPersonalities(rows, err)
}

// Resolve finds a personality by slug, else by exact name, display name or global alias
// (case-insensitive): what a user types in a command.
func (r *Personalities) Resolve(ctx context.Context, text string) (Personality, error) {
	text = strings.TrimSpace(text)
	return scanPersonality(r.pool.QueryRow(ctx, `
		SELECT `+personalityCols+` FROM personalities p
		WHERE p.slug = lower($1) OR lower(p.name) = lower($1) OR lower(p.display_name) = lower($1)
			OR EXISTS (SELECT 1 FROM personality_aliases a WHERE a.personality_id = p.id AND a.user_id IS NULL AND lower(a.alias) = lower($1))
		ORDER BY (p.slug = lower($1)) DESC LIMIT 1`, text))
}

// collectPersonalities reads every row of a personalities query.
func collectPersonalities(rows pgx.Rows, err error) ([]Personality, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Personality
	for rows.Next() {
		p, err := scanPersonality(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
