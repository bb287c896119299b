package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DataExports keeps the ZIP of a data export between the activity that builds it and the
// one that sends it, so no workflow payload carries it.
type DataExports struct{ pool *pgxpool.Pool }

// DataExport is one stored export.
type DataExport struct {
	ID             string
	UserID         string
	Bytes          []byte
	DeliveredParts int
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// Put stores the export a workflow run built. A retried build replaces the bytes and
// keeps the id (and the parts already delivered).
func (r *DataExports) Put(ctx context.Context, userID, runID string, data []byte, expires time.Time) (string, error) {
	var id string
	err := r.pool.QueryRow(ctx, `INSERT INTO data_exports (user_id, run_id, bytes, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (run_id) DO UPDATE SET bytes = EXCLUDED.bytes, expires_at = EXCLUDED.expires_at
		RETURNING id::text`, userID, runID, data, expires).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("store data export: %w", err)
	}
	return id, nil
}

// Get returns a stored export; ErrNotFound once it expired and was removed.
func (r *DataExports) Get(ctx context.Context, id string) (DataExport, error) {
	var e DataExport
	err := r.pool.QueryRow(ctx, `SELECT id::text, user_id::text, bytes, delivered_parts, created_at, expires_at
		FROM data_exports WHERE id = $1`, id).Scan(&e.ID, &e.UserID, &e.Bytes, &e.DeliveredParts, &e.CreatedAt, &e.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, ErrNotFound
	}
	return e, err
}

// MarkDelivered records that the first parts parts reached the user.
func (r *DataExports) MarkDelivered(ctx context.Context, id string, parts int) error {
	_, err := r.pool.Exec(ctx, `UPDATE data_exports SET delivered_parts = GREATEST(delivered_parts, $2) WHERE id = $1`, id, parts)
	return err
}

// DeleteExpired removes exports past their expiry and says how many.
func (r *DataExports) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	tag, err := r.pool.Exec(ctx, `DELETE FROM data_exports WHERE expires_at < $1`, now)
	return tag.RowsAffected(), err
}

// Accounts reads everything one user has, for /settings data export, and erases it, for
// /settings data delete. Users are named by their users.id.
type Accounts struct{ pool *pgxpool.Pool }

// AccountSettings are a user's own settings.
type AccountSettings struct {
	DiscordID      string    `json:"discord_id"`
	Username       string    `json:"username"`
	Timezone       string    `json:"timezone"`
	DefaultPersona string    `json:"default_persona,omitempty"`
	DefaultPreset  string    `json:"default_preset,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// Settings returns a user's settings.
func (r *Accounts) Settings(ctx context.Context, userID string) (AccountSettings, error) {
	var s AccountSettings
	err := r.pool.QueryRow(ctx, `SELECT u.discord_id, u.username, u.timezone, COALESCE(p.name, ''), COALESCE(c.name, ''), u.created_at
		FROM users u LEFT JOIN personas p ON p.id = u.default_persona_id LEFT JOIN llm_configs c ON c.id = u.default_llm_config_id
		WHERE u.id = $1`, userID).Scan(&s.DiscordID, &s.Username, &s.Timezone, &s.DefaultPersona, &s.DefaultPreset, &s.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

// OwnedCharacters returns the ids of the characters a user owns.
func (r *Accounts) OwnedCharacters(ctx context.Context, userID string) ([]string, error) {
	rows, err := r.pool.Query(ctx, `SELECT id::text FROM personalities WHERE owner_id = $1 ORDER BY slug`, userID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Record kinds the export writes, one JSON object per row.
type (
	// PresetRecord is a preset (llm_configs row) the user owns.
	PresetRecord struct {
		Name       string          `json:"name"`
		Provider   string          `json:"provider"`
		Model      string          `json:"model"`
		Parameters json.RawMessage `json:"parameters"`
		CreatedAt  time.Time       `json:"created_at"`
	}
	// AliasRecord is a personal alias of the user, or a global alias of their character.
	AliasRecord struct {
		Character string `json:"character"`
		Alias     string `json:"alias"`
		Personal  bool   `json:"personal"`
	}
	// MemoryRecord is one memory a character has of one of the user's personas.
	MemoryRecord struct {
		Persona   string    `json:"persona"`
		Character string    `json:"character"`
		Content   string    `json:"content"`
		Sector    string    `json:"sector"`
		Salience  float32   `json:"salience"`
		Archived  bool      `json:"archived"`
		CreatedAt time.Time `json:"created_at"`
	}
	// HistoryRecord is one line of the user's conversations.
	HistoryRecord struct {
		Character string    `json:"character"`
		ChannelID string    `json:"channel_id"`
		GuildID   string    `json:"guild_id,omitempty"`
		Role      string    `json:"role"`
		Speaker   string    `json:"speaker"`
		Content   string    `json:"content"`
		MessageID string    `json:"discord_message_id"`
		CreatedAt time.Time `json:"created_at"`
	}
	// UsageRecord is one LLM call charged to the user.
	UsageRecord struct {
		Character string    `json:"character,omitempty"`
		Provider  string    `json:"provider"`
		Model     string    `json:"model"`
		TokensIn  int       `json:"tokens_in"`
		TokensOut int       `json:"tokens_out"`
		Guest     bool      `json:"guest"`
		Kind      string    `json:"kind"`
		CreatedAt time.Time `json:"created_at"`
	}
	// OverrideRecord is the user's preset or persona for one character.
	OverrideRecord struct {
		Character string `json:"character"`
		Preset    string `json:"preset,omitempty"`
		Persona   string `json:"persona,omitempty"`
	}
	// KeyRecord is an API key without its secret (the caller masks it if it can).
	KeyRecord struct {
		Provider   string     `json:"provider"`
		BaseURL    string     `json:"base_url,omitempty"`
		Masked     string     `json:"masked,omitempty"`
		CreatedAt  time.Time  `json:"created_at"`
		LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	}
)

// each runs a query and hands every row, scanned into a T, to fn: exports stream rows
// instead of holding a user's whole history in a slice.
func each[T any](ctx context.Context, pool *pgxpool.Pool, fn func(T) error, scan func(pgx.Rows, *T) error, sql string, args ...any) error {
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Presets hands fn each preset the user owns.
func (r *Accounts) Presets(ctx context.Context, userID string, fn func(PresetRecord) error) error {
	return each(ctx, r.pool, fn, func(rows pgx.Rows, p *PresetRecord) error {
		return rows.Scan(&p.Name, &p.Provider, &p.Model, &p.Parameters, &p.CreatedAt)
	}, `SELECT name, provider, model, parameters, created_at FROM llm_configs WHERE owner_id = $1 ORDER BY lower(name)`, userID)
}

// Aliases hands fn the user's personal aliases and the global aliases of their characters.
func (r *Accounts) Aliases(ctx context.Context, userID string, fn func(AliasRecord) error) error {
	return each(ctx, r.pool, fn, func(rows pgx.Rows, a *AliasRecord) error {
		return rows.Scan(&a.Character, &a.Alias, &a.Personal)
	}, `SELECT p.slug, a.alias, a.user_id IS NOT NULL FROM personality_aliases a JOIN personalities p ON p.id = a.personality_id
		WHERE a.user_id = $1 OR (a.user_id IS NULL AND p.owner_id = $1) ORDER BY p.slug, lower(a.alias)`, userID)
}

// Memories hands fn every memory of the user's personas (without the vectors).
func (r *Accounts) Memories(ctx context.Context, userID string, fn func(MemoryRecord) error) error {
	return each(ctx, r.pool, fn, func(rows pgx.Rows, m *MemoryRecord) error {
		return rows.Scan(&m.Persona, &m.Character, &m.Content, &m.Sector, &m.Salience, &m.Archived, &m.CreatedAt)
	}, `SELECT pe.name, p.slug, m.content, m.sector, m.salience, m.archived, m.created_at
		FROM memories m JOIN personas pe ON pe.id = m.persona_id JOIN personalities p ON p.id = m.personality_id
		WHERE pe.owner_id = $1 ORDER BY m.created_at, m.id`, userID)
}

// History hands fn every line of the user's conversations, oldest first.
func (r *Accounts) History(ctx context.Context, userID string, fn func(HistoryRecord) error) error {
	return each(ctx, r.pool, fn, func(rows pgx.Rows, h *HistoryRecord) error {
		return rows.Scan(&h.Character, &h.ChannelID, &h.GuildID, &h.Role, &h.Speaker, &h.Content, &h.MessageID, &h.CreatedAt)
	}, `SELECT p.slug, h.channel_id, h.guild_id, h.role, h.speaker_name, h.content, h.discord_message_id, h.created_at
		FROM conversation_history h JOIN personalities p ON p.id = h.personality_id
		WHERE h.user_id = $1 ORDER BY h.created_at, h.id`, userID)
}

// Usage hands fn every LLM call charged to the user.
func (r *Accounts) Usage(ctx context.Context, userID string, fn func(UsageRecord) error) error {
	return each(ctx, r.pool, fn, func(rows pgx.Rows, u *UsageRecord) error {
		return rows.Scan(&u.Character, &u.Provider, &u.Model, &u.TokensIn, &u.TokensOut, &u.Guest, &u.Kind, &u.CreatedAt)
	}, `SELECT COALESCE(p.slug, ''), u.provider, u.model, u.tokens_in, u.tokens_out, u.is_guest, u.kind, u.created_at
		FROM usage_logs u LEFT JOIN personalities p ON p.id = u.personality_id WHERE u.user_id = $1 ORDER BY u.created_at, u.id`, userID)
}

// Overrides hands fn the user's per-character preset and persona choices.
func (r *Accounts) Overrides(ctx context.Context, userID string, fn func(OverrideRecord) error) error {
	return each(ctx, r.pool, fn, func(rows pgx.Rows, o *OverrideRecord) error {
		return rows.Scan(&o.Character, &o.Preset, &o.Persona)
	}, `SELECT p.slug, COALESCE(c.name, ''), COALESCE(pe.name, '') FROM user_personality_configs o
		JOIN personalities p ON p.id = o.personality_id LEFT JOIN llm_configs c ON c.id = o.llm_config_id
		LEFT JOIN personas pe ON pe.id = o.persona_id WHERE o.user_id = $1 ORDER BY p.slug`, userID)
}

// Keys hands fn the user's API keys: provider and dates, never the secret.
func (r *Accounts) Keys(ctx context.Context, userID string, fn func(KeyRecord) error) error {
	return each(ctx, r.pool, fn, func(rows pgx.Rows, k *KeyRecord) error {
		return rows.Scan(&k.Provider, &k.BaseURL, &k.CreatedAt, &k.LastUsedAt)
	}, `SELECT provider, base_url, created_at, last_used_at FROM user_api_keys WHERE user_id = $1 ORDER BY provider`, userID)
}

// Erasure steps, in the order DataEraseWorkflow runs them. Each removes one kind of the
// user's data; EraseAccount sweeps whatever arrived meanwhile and removes the user.
const (
	EraseHistory    = "history"    // conversation lines (and the turn contexts built from them)
	EraseMemories   = "memories"   // memories of the user's personas, vectors included
	EraseCharacters = "characters" // characters they own: deleted, or handed to an heir
	EraseAliases    = "aliases"    // personal aliases
	EraseOverrides  = "overrides"  // per-character preset and persona choices
	ErasePresets    = "presets"    // presets they own
	EraseAPIKeys    = "api_keys"
	EraseUsage      = "usage"
	ErasePersonas   = "personas"
	EraseExports    = "exports" // data exports not yet expired
	EraseAccount    = "account" // the user row and settings
)

// EraseSteps lists the steps in order.
var EraseSteps = []string{EraseHistory, EraseMemories, EraseCharacters, EraseAliases, EraseOverrides,
	ErasePresets, EraseAPIKeys, EraseUsage, ErasePersonas, EraseExports, EraseAccount}

// eraseSQL is what each step runs, $1 being the user's id (the characters step is built
// in eraseStep). Foreign keys clear what points at removed rows (a default persona, who
// activated a channel).
var eraseSQL = map[string][]string{
	EraseHistory: {`WITH contexts AS (DELETE FROM turn_contexts WHERE workflow_id IN
			(SELECT workflow_id FROM conversation_history WHERE user_id = $1 AND workflow_id <> ''))
		DELETE FROM conversation_history WHERE user_id = $1 OR persona_id IN (SELECT id FROM personas WHERE owner_id = $1)`},
	EraseMemories:  {`DELETE FROM memories WHERE persona_id IN (SELECT id FROM personas WHERE owner_id = $1)`},
	EraseAliases:   {`DELETE FROM personality_aliases WHERE user_id = $1`},
	EraseOverrides: {`DELETE FROM user_personality_configs WHERE user_id = $1`},
	ErasePresets:   {`DELETE FROM llm_configs WHERE owner_id = $1`},
	EraseAPIKeys:   {`DELETE FROM user_api_keys WHERE user_id = $1`},
	EraseUsage:     {`DELETE FROM usage_logs WHERE user_id = $1`},
	ErasePersonas:  {`DELETE FROM personas WHERE owner_id = $1`},
	EraseExports:   {`DELETE FROM data_exports WHERE user_id = $1`},
	EraseAccount: {
		`DELETE FROM conversation_history WHERE user_id = $1 OR persona_id IN (SELECT id FROM personas WHERE owner_id = $1)`,
		`DELETE FROM memories WHERE persona_id IN (SELECT id FROM personas WHERE owner_id = $1)`,
		`DELETE FROM usage_logs WHERE user_id = $1`,
		`DELETE FROM users WHERE id = $1`,
	},
}

// EraseRequest names whose data a step erases.
type EraseRequest struct {
	// RunID is the erasure's workflow run: a step records its count under it, so running
	// it again reports that count and removes only what arrived since.
	RunID     string
	DiscordID string
	// HeirDiscordID, when set, receives the user's characters instead of their deletion.
	HeirDiscordID string
}

// Erase runs one step and returns how many rows it removed (or characters it handed on).
// A step already done in this run returns its recorded count. A user who does not exist
// (never used the bot, or already erased) has nothing to remove.
func (r *Accounts) Erase(ctx context.Context, step string, req EraseRequest) (int64, error) {
	stmts, ok := eraseSQL[step]
	if !ok && step != EraseCharacters {
		return 0, fmt.Errorf("unknown erase step %q", step)
	}
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	var n int64
	err = tx.QueryRow(ctx, `SELECT rows FROM data_erasure_steps WHERE run_id = $1 AND step = $2`, req.RunID, step).Scan(&n)
	if err == nil {
		return n, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, err
	}
	var userID string
	err = tx.QueryRow(ctx, `SELECT id::text FROM users WHERE discord_id = $1 FOR UPDATE`, req.DiscordID).Scan(&userID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return 0, err
	default:
		if n, err = eraseStep(ctx, tx, step, stmts, userID, req.HeirDiscordID); err != nil {
			return 0, fmt.Errorf("erase %s: %w", step, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO data_erasure_steps (run_id, step, rows) VALUES ($1, $2, $3)`, req.RunID, step, n); err != nil {
		return 0, err
	}
	return n, tx.Commit(ctx)
}

func eraseStep(ctx context.Context, tx pgx.Tx, step string, stmts []string, userID, heirDiscordID string) (int64, error) {
	if step == EraseCharacters {
		if heirDiscordID == "" {
			stmts = []string{`DELETE FROM personalities WHERE owner_id = $1`}
		} else {
			var heir string
			if err := tx.QueryRow(ctx, `INSERT INTO users (discord_id) VALUES ($1)
				ON CONFLICT (discord_id) DO UPDATE SET updated_at = now() RETURNING id::text`, heirDiscordID).Scan(&heir); err != nil {
				return 0, err
			}
			tag, err := tx.Exec(ctx, `UPDATE personalities SET owner_id = $2, updated_at = now() WHERE owner_id = $1`, userID, heir)
			return tag.RowsAffected(), err
		}
	}
	var n int64
	for _, sql := range stmts {
		tag, err := tx.Exec(ctx, sql, userID)
		if err != nil {
			return 0, err
		}
		if tag.Delete() {
			n += tag.RowsAffected()
		}
	}
	return n, nil
}
