package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tzurot/tzurot/activities/preset"
)

// Preset is one row of llm_configs: a named set of LLM and behaviour parameters, owned by
// a user or global (OwnerID ""). The model lives in its own column; Parameters never hold
// it and are stored normalized (preset.Normalize), explicit nulls included.
type Preset struct {
	ID              string
	Name            string
	OwnerID         string // "" for a global preset
	Provider        string // the provider the preset was written for ("openrouter" unless set)
	Model           string
	Parameters      preset.Values
	IsGlobalDefault bool
	IsFreeDefault   bool
}

// IsGlobal reports whether the preset belongs to no user.
func (p Preset) IsGlobal() bool { return p.OwnerID == "" }

// Values are the preset as one layer of the cascade: its parameters plus "model".
func (p Preset) Values() preset.Values {
	v := preset.Merge(p.Parameters)
	for k, x := range p.Parameters { // Merge drops nulls; a layer keeps them to clear fields
		if x == nil {
			v[k] = nil
		}
	}
	if p.Model != "" {
		v["model"] = p.Model
	}
	return v
}

// Presets is the repository of LLM presets and of who uses which: the global and free
// defaults, each character's default, each user's default and per-character overrides.
type Presets struct{ pool *pgxpool.Pool }

// Errors of the preset repository beyond ErrNotFound and ErrDuplicate.
var (
	// ErrPresetIsDefault refuses deleting the global or the free default: every user
	// depends on it. Another preset must take its place first.
	ErrPresetIsDefault = errors.New("preset is the global or free default")
	// ErrNotGlobal refuses making a user's own preset a default for everyone.
	ErrNotGlobal = errors.New("only a global preset can be a default for everyone")
)

// DefaultProvider is the provider of a preset created without one.
const DefaultProvider = "openrouter"

const presetCols = `c.id::text, c.name, COALESCE(c.owner_id::text, ''), c.provider, c.model, c.parameters,
	c.is_global_default, c.is_free_default`

func scanPreset(row pgx.Row) (Preset, error) {
	var p Preset
	var params []byte
	err := row.Scan(&p.ID, &p.Name, &p.OwnerID, &p.Provider, &p.Model, &params, &p.IsGlobalDefault, &p.IsFreeDefault)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, notFoundIfBadID(err)
	}
	if p.Parameters, err = preset.Decode(params); err != nil {
		return p, fmt.Errorf("preset %q: %w", p.Name, err)
	}
	return p, nil
}

func (r *Presets) query(ctx context.Context, sql string, args ...any) ([]Preset, error) {
	rows, err := r.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Preset
	for rows.Next() {
		p, err := scanPreset(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Create stores a new preset after checking its name and parameters (a *preset.FieldError
// names what is wrong); ErrDuplicate if its owner (or the global scope) already has a
// preset by that name, whatever the case.
func (r *Presets) Create(ctx context.Context, p Preset) (Preset, error) {
	p, params, err := prepare(p)
	if err != nil {
		return p, err
	}
	out, err := scanPreset(r.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO llm_configs (name, owner_id, provider, model, parameters)
			VALUES ($1, NULLIF($2, '')::uuid, $3, $4, $5::jsonb) RETURNING *)
		SELECT `+presetCols+` FROM ins c`, p.Name, p.OwnerID, p.Provider, p.Model, params))
	return out, duplicate(err, p.Name)
}

// Update replaces a preset's name, provider, model and parameters. The preset must belong
// to p.OwnerID ("" = a global preset), else ErrNotFound: who may edit is the caller's
// decision, whose preset it is the row's.
func (r *Presets) Update(ctx context.Context, p Preset) (Preset, error) {
	p, params, err := prepare(p)
	if err != nil {
		return p, err
	}
	if !isUUID(p.ID) {
		return p, ErrNotFound
	}
	out, err := scanPreset(r.pool.QueryRow(ctx, `
		WITH upd AS (
			UPDATE llm_configs SET name = $3, provider = $4, model = $5, parameters = $6::jsonb, updated_at = now()
			WHERE id = $1 AND owner_id IS NOT DISTINCT FROM NULLIF($2, '')::uuid RETURNING *)
		SELECT `+presetCols+` FROM upd c`, p.ID, p.OwnerID, p.Name, p.Provider, p.Model, params))
	return out, duplicate(err, p.Name)
}

// Get returns one preset by id.
func (r *Presets) Get(ctx context.Context, id string) (Preset, error) {
	if !isUUID(id) {
		return Preset{}, ErrNotFound
	}
	return scanPreset(r.pool.QueryRow(ctx, `SELECT `+presetCols+` FROM llm_configs c WHERE c.id = $1`, id))
}

// ByName finds a preset visible to ownerID by name, case-insensitively: theirs first,
// else a global one. An empty ownerID looks among global presets only.
func (r *Presets) ByName(ctx context.Context, ownerID, name string) (Preset, error) {
	return scanPreset(r.pool.QueryRow(ctx, `SELECT `+presetCols+` FROM llm_configs c
		WHERE lower(c.name) = lower($2) AND (c.owner_id IS NULL OR c.owner_id = NULLIF($1, '')::uuid)
		ORDER BY c.owner_id IS NULL LIMIT 1`, ownerID, strings.TrimSpace(name)))
}

// Resolve finds what a user picked or typed in a command: a preset id (what autocomplete
// sends) or a name, among the presets visible to userID.
func (r *Presets) Resolve(ctx context.Context, userID, ref string) (Preset, error) {
	ref = strings.TrimSpace(ref)
	if isUUID(ref) {
		p, err := r.Get(ctx, ref)
		if err == nil && (p.IsGlobal() || p.OwnerID == userID) {
			return p, nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return p, err
		}
	}
	return r.ByName(ctx, userID, ref)
}

// List returns the presets visible to userID: theirs, then the global ones, each by name.
func (r *Presets) List(ctx context.Context, userID string) ([]Preset, error) {
	return r.query(ctx, `SELECT `+presetCols+` FROM llm_configs c
		WHERE c.owner_id IS NULL OR c.owner_id = NULLIF($1, '')::uuid
		ORDER BY c.owner_id IS NULL, lower(c.name), c.id`, userID)
}

// Delete removes a preset that belongs to ownerID ("" = a global preset): ErrNotFound if
// there is no such preset in that scope, ErrPresetIsDefault if it is the global or free
// default. Users and characters that used it fall back to the next layer.
func (r *Presets) Delete(ctx context.Context, id, ownerID string) error {
	if !isUUID(id) {
		return ErrNotFound
	}
	var isDefault bool
	err := r.pool.QueryRow(ctx, `
		WITH target AS (
			SELECT id, is_global_default OR is_free_default AS is_default FROM llm_configs
			WHERE id = $1 AND owner_id IS NOT DISTINCT FROM NULLIF($2, '')::uuid),
		del AS (
			DELETE FROM llm_configs WHERE id IN (SELECT id FROM target WHERE NOT is_default) RETURNING id)
		SELECT is_default FROM target`, id, ownerID).Scan(&isDefault)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return notFoundIfBadID(err)
	case isDefault:
		return ErrPresetIsDefault
	}
	return nil
}

// SetUserDefault makes a preset the user's default for every character; it must be
// theirs or global (else ErrNotFound).
func (r *Presets) SetUserDefault(ctx context.Context, userID, presetID string) error {
	if !isUUID(userID) || !isUUID(presetID) {
		return ErrNotFound
	}
	tag, err := r.pool.Exec(ctx, `UPDATE users SET default_llm_config_id = $2, updated_at = now()
		WHERE id = $1 AND EXISTS (SELECT 1 FROM llm_configs WHERE id = $2 AND (owner_id IS NULL OR owner_id = $1))`,
		userID, presetID)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// ClearUserDefault removes the user's default; it reports whether there was one.
func (r *Presets) ClearUserDefault(ctx context.Context, userID string) (bool, error) {
	if !isUUID(userID) {
		return false, nil
	}
	tag, err := r.pool.Exec(ctx, `UPDATE users SET default_llm_config_id = NULL, updated_at = now()
		WHERE id = $1 AND default_llm_config_id IS NOT NULL`, userID)
	return err == nil && tag.RowsAffected() > 0, err
}

// UserDefault returns the user's default preset; ErrNotFound if they have none.
func (r *Presets) UserDefault(ctx context.Context, userID string) (Preset, error) {
	if !isUUID(userID) {
		return Preset{}, ErrNotFound
	}
	return scanPreset(r.pool.QueryRow(ctx, `SELECT `+presetCols+` FROM users u
		JOIN llm_configs c ON c.id = u.default_llm_config_id WHERE u.id = $1`, userID))
}

// SetOverride makes a preset the one the user talks to one character with, above their
// default. The preset must be theirs or global, the character must exist (ErrNotFound).
func (r *Presets) SetOverride(ctx context.Context, userID, personalityID, presetID string) error {
	if !isUUID(userID) || !isUUID(personalityID) || !isUUID(presetID) {
		return ErrNotFound
	}
	tag, err := r.pool.Exec(ctx, `
		INSERT INTO user_personality_configs (user_id, personality_id, llm_config_id)
		SELECT $1::uuid, $2::uuid, c.id FROM llm_configs c WHERE c.id = $3 AND (c.owner_id IS NULL OR c.owner_id = $1)
		ON CONFLICT (user_id, personality_id) DO UPDATE SET llm_config_id = EXCLUDED.llm_config_id`,
		userID, personalityID, presetID)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" { // no such user or character
		return ErrNotFound
	}
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// ClearOverride removes the user's preset for one character (their persona choice for it
// stays); it reports whether there was one.
func (r *Presets) ClearOverride(ctx context.Context, userID, personalityID string) (bool, error) {
	if !isUUID(userID) || !isUUID(personalityID) {
		return false, nil
	}
	tag, err := r.pool.Exec(ctx, `UPDATE user_personality_configs SET llm_config_id = NULL
		WHERE user_id = $1 AND personality_id = $2 AND llm_config_id IS NOT NULL`, userID, personalityID)
	return err == nil && tag.RowsAffected() > 0, err
}

// Override returns the user's preset for one character; ErrNotFound if there is none.
func (r *Presets) Override(ctx context.Context, userID, personalityID string) (Preset, error) {
	if !isUUID(userID) || !isUUID(personalityID) {
		return Preset{}, ErrNotFound
	}
	return scanPreset(r.pool.QueryRow(ctx, `SELECT `+presetCols+` FROM user_personality_configs o
		JOIN llm_configs c ON c.id = o.llm_config_id WHERE o.user_id = $1 AND o.personality_id = $2`,
		userID, personalityID))
}

// SetCharacterDefault makes a preset the character's own default (above the global
// default, below every user's choice); an empty presetID removes it.
func (r *Presets) SetCharacterDefault(ctx context.Context, personalityID, presetID string) error {
	if !isUUID(personalityID) || (presetID != "" && !isUUID(presetID)) {
		return ErrNotFound
	}
	tag, err := r.pool.Exec(ctx, `UPDATE personalities SET llm_config_id = NULLIF($2, '')::uuid, updated_at = now()
		WHERE id = $1`, personalityID, presetID)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return ErrNotFound
	}
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// SetGlobalDefault makes a global preset the lowest layer of everyone's cascade, in place
// of the previous one.
func (r *Presets) SetGlobalDefault(ctx context.Context, presetID string) error {
	return r.setDefault(ctx, "is_global_default", presetID)
}

// SetFreeDefault makes a global preset the one guests (users on the operator's key) get,
// in place of the previous one.
func (r *Presets) SetFreeDefault(ctx context.Context, presetID string) error {
	return r.setDefault(ctx, "is_free_default", presetID)
}

// setDefault moves a default flag (a trusted column name, never user input) to presetID.
// An advisory lock serialises concurrent moves, so the unique index never trips.
func (r *Presets) setDefault(ctx context.Context, column, presetID string) error {
	if !isUUID(presetID) {
		return ErrNotFound
	}
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('llm_configs.'||$1))`, column); err != nil {
		return err
	}
	var global bool
	err = tx.QueryRow(ctx, `SELECT owner_id IS NULL FROM llm_configs WHERE id = $1 FOR UPDATE`, presetID).Scan(&global)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if !global {
		return ErrNotGlobal
	}
	if _, err := tx.Exec(ctx, `UPDATE llm_configs SET `+column+` = false, updated_at = now()
		WHERE `+column+` AND id <> $1`, presetID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE llm_configs SET `+column+` = true, updated_at = now() WHERE id = $1`, presetID); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Layers returns the presets that apply to userID talking to personalityID, lowest
// priority first, for preset.Merge: the global default, the character's default, the
// user's default and the user's override for the character. A guest (on the operator's
// key) gets the free default alone. Missing layers are left out; each layer holds
// "model" and its parameters, nulls included (they clear lower layers).
func (r *Presets) Layers(ctx context.Context, userID, personalityID string, guest bool) ([]preset.Values, error) {
	var list []Preset
	var err error
	if guest {
		list, err = r.query(ctx, `SELECT `+presetCols+` FROM llm_configs c WHERE c.is_free_default`)
	} else {
		list, err = r.query(ctx, `
			SELECT `+presetCols+` FROM (
				SELECT 1 AS layer, c.* FROM llm_configs c WHERE c.is_global_default
				UNION ALL SELECT 2, c.* FROM personalities p JOIN llm_configs c ON c.id = p.llm_config_id
					WHERE p.id = $2
				UNION ALL SELECT 3, c.* FROM users u JOIN llm_configs c ON c.id = u.default_llm_config_id
					WHERE u.id = $1
				UNION ALL SELECT 4, c.* FROM user_personality_configs o JOIN llm_configs c ON c.id = o.llm_config_id
					WHERE o.user_id = $1 AND o.personality_id = $2
			) c ORDER BY c.layer`, uuidOrNil(userID), uuidOrNil(personalityID))
	}
	if err != nil {
		return nil, fmt.Errorf("preset layers: %w", err)
	}
	out := make([]preset.Values, 0, len(list))
	for _, p := range list {
		out = append(out, p.Values())
	}
	return out, nil
}

// prepare checks and normalizes a preset for storing and returns its parameters as JSON.
// A "model" among the parameters moves to the column when the column is empty.
func prepare(p Preset) (Preset, string, error) {
	p.Name = strings.TrimSpace(p.Name)
	if err := checkPresetName(p.Name); err != nil {
		return p, "", err
	}
	p.Provider = strings.ToLower(strings.TrimSpace(p.Provider))
	if p.Provider == "" {
		p.Provider = DefaultProvider
	}
	params, err := preset.Normalize(p.Parameters)
	if err != nil {
		return p, "", err
	}
	if m, ok := params["model"]; ok {
		if s, isString := m.(string); isString && p.Model == "" {
			p.Model = s
		}
		delete(params, "model")
	}
	model, err := preset.Parse("model", p.Model)
	if err != nil {
		return p, "", err
	}
	p.Model, p.Parameters = model.(string), params
	b, err := json.Marshal(params)
	if err != nil {
		return p, "", fmt.Errorf("preset %q parameters: %w", p.Name, err)
	}
	return p, CleanText(string(b)), nil
}

// checkPresetName allows what fits a command option's choice: 1 to preset.MaxNameLen
// characters on one line.
func checkPresetName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > preset.MaxNameLen || !utf8.ValidString(name) ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 {
		shown := name
		if utf8.RuneCountInString(shown) > 60 {
			shown = string([]rune(shown)[:60]) + "…"
		}
		return &preset.FieldError{Field: "name", Value: strconv.Quote(shown),
			Allowed: fmt.Sprintf("1 to %d characters on one line", preset.MaxNameLen)}
	}
	return nil
}

func duplicate(err error, name string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("preset %q: %w", name, ErrDuplicate)
	}
	return err
}

// notFoundIfBadID turns PostgreSQL's "invalid input syntax for type uuid" into
// ErrNotFound: an id that cannot exist names nothing.
func notFoundIfBadID(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22P02" {
		return ErrNotFound
	}
	return err
}

// isUUID reports whether s reads as a UUID (hex with or without dashes, as PostgreSQL
// accepts it); ids from custom ids and options are checked before they reach SQL.
func isUUID(s string) bool {
	h := strings.ReplaceAll(strings.TrimSpace(s), "-", "")
	if len(h) != 32 {
		return false
	}
	for _, r := range h {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return false
		}
	}
	return true
}

// uuidOrNil passes "" (no such user or character) as SQL NULL.
func uuidOrNil(s string) any {
	if !isUUID(s) {
		return nil
	}
	return s
}
