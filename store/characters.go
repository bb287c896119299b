package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Characters is the repository behind /character: personalities as their users own them,
// with what a card carries beyond our columns (personalities.extensions), uploaded
// avatars, aliases, and imports that bring memories along. Who may change what is the
// caller's decision; the rows only say whose a character is.
type Characters struct{ pool *pgxpool.Pool }

// ErrInvalid wraps a card that fails Personality.Validate; the message says which field.
var ErrInvalid = errors.New("invalid character")

// NewCharacter is a character to create, with everything it brings, in one transaction:
// either all of it is stored or none of it.
type NewCharacter struct {
	// Personality is the card. OwnerID should be set; Slug is a wish: if another
	// character has it, "-2", "-3"... is appended. Aliases are global aliases; ones another
	// character already has are skipped and reported.
	Personality Personality
	// Extensions is stored in personalities.extensions (nil: {}).
	Extensions json.RawMessage
	// Memories are stored for PersonaID without embeddings (an embedder fills them later).
	Memories  []ImportedMemory
	PersonaID string
	// Avatar, when set, is kept as the character's uploaded picture.
	Avatar *Avatar
}

// ImportedMemory is a memory brought by an import.
type ImportedMemory struct {
	Content   string
	CreatedAt time.Time // zero: now
}

// Avatar is an uploaded picture.
type Avatar struct {
	ContentType string
	Data        []byte
}

// Created says what Create stored.
type Created struct {
	Personality Personality
	// Memories is how many memories were stored (duplicates in the import count once).
	Memories int
	// AliasesTaken are the aliases another character already had; they were not added.
	AliasesTaken []string
}

// Listing is one character in a browse page.
type Listing struct {
	Personality
	OwnerDiscordID string
	Tags           []string
}

// BrowseQuery selects a page of characters.
type BrowseQuery struct {
	ViewerUserID string // sees public characters and their own private ones
	All          bool   // a superuser: private characters of everyone too
	OwnerUserID  string // only this owner's ("" = anyone's)
	Tag          string // only characters whose card has this tag (any case)
	Offset       int
	Limit        int
}

// Alias is one alias of a character as a viewer sees it.
type Alias struct {
	Alias    string
	Personal bool // the viewer's own; false for a global alias
}

// Deleted says what went with a deleted character.
type Deleted struct {
	Memories int64
	History  int64
}

// withExtra scans columns after a personality's into extra destinations, so one
// scanPersonality serves every query that adds a column or two.
type withExtra struct {
	row   pgx.Row
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

// cleanJSON makes JSON storable in jsonb, which refuses NUL even escaped.
func cleanJSON(b []byte) []byte {
	if len(bytes.TrimSpace(b)) == 0 {
		return []byte("{}")
	}
	return bytes.ReplaceAll(b, []byte(`\u0000`), []byte(`\ufffd`))
}

// Create stores a new character, its global aliases, memories and avatar in one
// transaction, under the first free slug of Slug, Slug-2, Slug-3...
func (r *Characters) Create(ctx context.Context, n NewCharacter) (Created, error) {
	p := n.Personality
	if err := p.Validate(); err != nil {
		return Created{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return Created{}, err
	}
	defer tx.Rollback(ctx)
	var out Created
	base := strings.TrimRight(Truncated(p.Slug, 60), "-_")
	for i := 1; ; i++ {
		slug := base
		if i > 1 {
			slug = fmt.Sprintf("%s-%d", base, i)
		}
		stored, err := scanPersonality(tx.QueryRow(ctx, `
			INSERT INTO personalities (slug, name, display_name, avatar_url, character_info,
				personality_traits, personality_tone, personality_age, personality_appearance,
				personality_likes, personality_dislikes, conversational_goals, conversational_examples,
				system_prompt, error_message, birthday, owner_id, is_public, is_nsfw, show_model_footer, extensions)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,NULLIF($17,'')::uuid,$18,$19,$20,$21::jsonb)
			ON CONFLICT (slug) DO NOTHING
			RETURNING `+strings.ReplaceAll(personalityCols, "p.", ""),
			slug, p.Name, p.DisplayName, p.AvatarURL, CleanText(p.CharacterInfo), CleanText(p.Traits), CleanText(p.Tone),
			CleanText(p.Age), CleanText(p.Appearance), CleanText(p.Likes), CleanText(p.Dislikes), CleanText(p.ConversationalGoals),
			CleanText(p.ConversationalExamples), CleanText(p.SystemPrompt), CleanText(p.ErrorMessage), p.Birthday,
			p.OwnerID, p.IsPublic, p.IsNSFW, p.ShowModelFooter, cleanJSON(n.Extensions)))
		if errors.Is(err, ErrNotFound) && i < 1000 {
			continue // the slug is taken
		}
		if err != nil {
			return Created{}, fmt.Errorf("create character %q: %w", p.Slug, err)
		}
		out.Personality = stored
		break
	}
	id := out.Personality.ID
	for _, a := range p.Aliases {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		tag, err := tx.Exec(ctx, `INSERT INTO personality_aliases (personality_id, alias) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, a)
		if err != nil {
			return Created{}, fmt.Errorf("alias %q: %w", a, err)
		}
		if tag.RowsAffected() == 0 {
			out.AliasesTaken = append(out.AliasesTaken, a)
		} else {
			out.Personality.Aliases = append(out.Personality.Aliases, a)
		}
	}
	if out.Memories, err = insertMemories(ctx, tx, id, n.PersonaID, n.Memories); err != nil {
		return Created{}, err
	}
	if n.Avatar != nil {
		if _, err := tx.Exec(ctx, `INSERT INTO personality_avatars (personality_id, content_type, data) VALUES ($1, $2, $3)`,
			id, n.Avatar.ContentType, n.Avatar.Data); err != nil {
			return Created{}, fmt.Errorf("avatar: %w", err)
		}
	}
	return out, tx.Commit(ctx)
}

// Truncated cuts s to at most n bytes without splitting a UTF-8 sequence.
func Truncated(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

const insertUnembedded = `
	INSERT INTO memories (persona_id, personality_id, content, content_hash, sector, salience, created_at)
	VALUES (NULLIF($1,'')::uuid, $2, $3, $4, 'episodic', 0.5, COALESCE($5::timestamptz, now()))
	ON CONFLICT (personality_id, COALESCE(persona_id, '00000000-0000-0000-0000-000000000000'::uuid), content_hash) DO NOTHING`

// insertMemories stores memories without embeddings in one batch and counts the new ones.
func insertMemories(ctx context.Context, tx pgx.Tx, personalityID, personaID string, ms []ImportedMemory) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	b := &pgx.Batch{}
	for _, m := range ms {
		content := CleanText(strings.TrimSpace(m.Content))
		if content == "" {
			continue
		}
		var at *time.Time
		if !m.CreatedAt.IsZero() {
			at = &m.CreatedAt
		}
		b.Queue(insertUnembedded, personaID, personalityID, content, ContentHash(content), at)
	}
	br := tx.SendBatch(ctx, b)
	n := 0
	for range b.Len() {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return 0, fmt.Errorf("insert memory: %w", err)
		}
		n += int(tag.RowsAffected())
	}
	return n, br.Close()
}

// InsertWithoutEmbedding stores a memory whose vector is not known yet (an import): the
// embedding stays NULL, so Search skips it until an embedder fills it in. The same
// content in the same scope is stored once; ok is false when it already was.
func (r *Memories) InsertWithoutEmbedding(ctx context.Context, m Memory) (ok bool, err error) {
	var at *time.Time
	if !m.CreatedAt.IsZero() {
		at = &m.CreatedAt
	}
	content := CleanText(strings.TrimSpace(m.Content))
	tag, err := r.pool.Exec(ctx, insertUnembedded, m.PersonaID, m.PersonalityID, content, ContentHash(content), at)
	if err != nil {
		return false, fmt.Errorf("insert memory: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Card returns a character with its global aliases and its stored extensions.
func (r *Characters) Card(ctx context.Context, id string) (Personality, json.RawMessage, error) {
	var ext []byte
	p, err := scanPersonality(withExtra{r.pool.QueryRow(ctx, `SELECT `+personalityCols+`, p.extensions
		FROM personalities p WHERE p.id = $1`, id), []any{&ext}})
	if err != nil {
		return p, nil, err
	}
	rows, err := r.pool.Query(ctx, `SELECT alias FROM personality_aliases WHERE personality_id = $1 AND user_id IS NULL
		ORDER BY created_at, alias`, id)
	if err != nil {
		return p, nil, err
	}
	p.Aliases, err = pgx.CollectRows(rows, pgx.RowTo[string])
	return p, ext, err
}

// Find resolves what a viewer typed or picked in a command: a slug, else a name, display
// name, global alias or the viewer's own alias, among the characters the viewer may see
// (all of them when all is set). The viewer's own character wins a tie.
func (r *Characters) Find(ctx context.Context, text, viewerUserID string, all bool) (Personality, error) {
	text = strings.TrimSpace(text)
	return scanPersonality(r.pool.QueryRow(ctx, `
		SELECT `+personalityCols+` FROM personalities p
		WHERE ($2 OR p.is_public OR p.owner_id = NULLIF($3,'')::uuid)
			AND (p.slug = lower($1) OR lower(p.name) = lower($1) OR lower(p.display_name) = lower($1)
				OR EXISTS (SELECT 1 FROM personality_aliases a WHERE a.personality_id = p.id AND lower(a.alias) = lower($1)
					AND (a.user_id IS NULL OR a.user_id = NULLIF($3,'')::uuid)))
		ORDER BY (p.slug = lower($1)) DESC, (p.owner_id = NULLIF($3,'')::uuid) IS TRUE DESC, p.slug
		LIMIT 1`, text, all, viewerUserID))
}

// Search returns up to limit characters for autocomplete whose name, display name, slug
// or alias contains text: those the viewer may see, or only those they own when owned is
// set (all: every character, for a superuser). The viewer's own and prefix matches first.
func (r *Characters) Search(ctx context.Context, text, viewerUserID string, owned, all bool, limit int) ([]Personality, error) {
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.TrimSpace(text))
	rows, err := r.pool.Query(ctx, `
		SELECT `+personalityCols+` FROM personalities p
		WHERE ($3 OR p.owner_id = NULLIF($2,'')::uuid OR (NOT $4 AND p.is_public))
			AND ($1 = '' OR p.name ILIKE '%' || $1 || '%' OR p.display_name ILIKE '%' || $1 || '%' OR p.slug ILIKE '%' || $1 || '%'
				OR EXISTS (SELECT 1 FROM personality_aliases a WHERE a.personality_id = p.id AND a.alias ILIKE '%' || $1 || '%'
					AND (a.user_id IS NULL OR a.user_id = NULLIF($2,'')::uuid)))
		ORDER BY (p.owner_id = NULLIF($2,'')::uuid) IS TRUE DESC, (p.display_name ILIKE $1 || '%' OR p.slug ILIKE $1 || '%') DESC,
			lower(p.display_name), p.slug
		LIMIT $5`, like, viewerUserID, all, owned, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Personality, error) { return scanPersonality(row) })
}

// Browse returns one page of characters and how many match in all.
func (r *Characters) Browse(ctx context.Context, q BrowseQuery) ([]Listing, int, error) {
	if q.Limit <= 0 {
		q.Limit = 10
	}
	rows, err := r.pool.Query(ctx, `
		WITH tagged AS (
			SELECT p.*, CASE WHEN jsonb_typeof(p.extensions->'tags') = 'array' THEN p.extensions->'tags' ELSE '[]'::jsonb END AS tags
			FROM personalities p)
		SELECT `+personalityCols+`, COALESCE(u.discord_id, ''), p.tags, count(*) OVER ()
		FROM tagged p LEFT JOIN users u ON u.id = p.owner_id
		WHERE ($1 OR p.is_public OR p.owner_id = NULLIF($2,'')::uuid)
			AND ($3 = '' OR p.owner_id = NULLIF($3,'')::uuid)
			AND ($4 = '' OR EXISTS (SELECT 1 FROM jsonb_array_elements(p.tags) t WHERE lower(t #>> '{}') = lower($4)))
		ORDER BY lower(p.display_name), p.slug
		OFFSET $5 LIMIT $6`, q.All, q.ViewerUserID, q.OwnerUserID, strings.TrimSpace(q.Tag), q.Offset, q.Limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Listing
	total := 0
	for rows.Next() {
		var l Listing
		var tags []byte
		if l.Personality, err = scanPersonality(withExtra{rows, []any{&l.OwnerDiscordID, &tags, &total}}); err != nil {
			return nil, 0, err
		}
		var raw []any
		_ = json.Unmarshal(tags, &raw) // tags that are not text are left out
		for _, t := range raw {
			if s, ok := t.(string); ok {
				l.Tags = append(l.Tags, s)
			}
		}
		out = append(out, l)
	}
	return out, total, rows.Err()
}

// Update replaces a character's card fields (not its slug, owner, flags or avatar).
func (r *Characters) Update(ctx context.Context, p Personality) (Personality, error) {
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return scanPersonality(r.pool.QueryRow(ctx, `
		UPDATE personalities p SET name=$2, display_name=$3, character_info=$4, personality_traits=$5,
			personality_tone=$6, personality_age=$7, personality_appearance=$8, personality_likes=$9,
			personality_dislikes=$10, conversational_goals=$11, conversational_examples=$12, system_prompt=$13,
			error_message=$14, birthday=$15, updated_at=now()
		WHERE p.id = $1 RETURNING `+personalityCols,
		p.ID, p.Name, p.DisplayName, CleanText(p.CharacterInfo), CleanText(p.Traits), CleanText(p.Tone), CleanText(p.Age),
		CleanText(p.Appearance), CleanText(p.Likes), CleanText(p.Dislikes), CleanText(p.ConversationalGoals),
		CleanText(p.ConversationalExamples), CleanText(p.SystemPrompt), CleanText(p.ErrorMessage), p.Birthday))
}

// SetPublic makes a character visible to everyone, or to its owner only.
func (r *Characters) SetPublic(ctx context.Context, id string, public bool) error {
	return r.set(ctx, `UPDATE personalities SET is_public = $2, updated_at = now() WHERE id = $1`, id, public)
}

// SetNSFW marks a character as meant for adults, or not.
func (r *Characters) SetNSFW(ctx context.Context, id string, nsfw bool) error {
	return r.set(ctx, `UPDATE personalities SET is_nsfw = $2, updated_at = now() WHERE id = $1`, id, nsfw)
}

func (r *Characters) set(ctx context.Context, sql string, args ...any) error {
	tag, err := r.pool.Exec(ctx, sql, args...)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// SetAvatar points the character's avatar at url and keeps the picture itself.
func (r *Characters) SetAvatar(ctx context.Context, id, url string, a Avatar) error {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE personalities SET avatar_url = $2, updated_at = now() WHERE id = $1`, id, url)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	if _, err := tx.Exec(ctx, `INSERT INTO personality_avatars (personality_id, content_type, data) VALUES ($1, $2, $3)
		ON CONFLICT (personality_id) DO UPDATE SET content_type = $2, data = $3, updated_at = now()`, id, a.ContentType, a.Data); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// ClearAvatar removes a character's avatar; false if it had none.
func (r *Characters) ClearAvatar(ctx context.Context, id string) (bool, error) {
	var had bool
	err := r.pool.QueryRow(ctx, `
		WITH gone AS (DELETE FROM personality_avatars WHERE personality_id = $1 RETURNING 1),
		old AS (SELECT avatar_url FROM personalities WHERE id = $1),
		upd AS (UPDATE personalities SET avatar_url = '', updated_at = now() WHERE id = $1 AND avatar_url <> '' RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM gone) OR EXISTS (SELECT 1 FROM old WHERE avatar_url <> '')`, id).Scan(&had)
	return had, err
}

// OwnerDiscordID returns the Discord id of a character's owner ("" for none).
func (r *Characters) OwnerDiscordID(ctx context.Context, id string) (string, error) {
	var owner string
	err := r.pool.QueryRow(ctx, `SELECT COALESCE(u.discord_id, '') FROM personalities p LEFT JOIN users u ON u.id = p.owner_id
		WHERE p.id = $1`, id).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return owner, err
}

// Avatar returns the picture uploaded for a character; ErrNotFound if none was.
func (r *Characters) Avatar(ctx context.Context, id string) (Avatar, error) {
	var a Avatar
	err := r.pool.QueryRow(ctx, `SELECT content_type, data FROM personality_avatars WHERE personality_id = $1`, id).Scan(&a.ContentType, &a.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// Delete removes a character and, through the schema's cascades, its memories, history,
// aliases, deliveries and overrides. It reports how many memories and history lines went.
func (r *Characters) Delete(ctx context.Context, id string) (Deleted, error) {
	var d Deleted
	var gone bool
	err := r.pool.QueryRow(ctx, `
		WITH m AS (SELECT count(*) AS n FROM memories WHERE personality_id = $1),
		h AS (SELECT count(*) AS n FROM conversation_history WHERE personality_id = $1),
		del AS (DELETE FROM personalities WHERE id = $1 RETURNING 1)
		SELECT m.n, h.n, EXISTS (SELECT 1 FROM del) FROM m, h`, id).Scan(&d.Memories, &d.History, &gone)
	if err == nil && !gone {
		return d, ErrNotFound
	}
	return d, err
}

// AddAlias gives a character an alias: global when userID is "", else personal to that
// user. ErrDuplicate when the alias is already taken in that scope.
func (r *Characters) AddAlias(ctx context.Context, personalityID, alias, userID string) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO personality_aliases (personality_id, alias, user_id) VALUES ($1, $2, NULLIF($3,'')::uuid)`,
		personalityID, strings.TrimSpace(alias), userID)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("alias %q: %w", alias, ErrDuplicate)
	}
	return err
}

// RemoveAlias removes a global (userID "") or personal alias; false if there was none.
func (r *Characters) RemoveAlias(ctx context.Context, personalityID, alias, userID string) (bool, error) {
	tag, err := r.pool.Exec(ctx, `DELETE FROM personality_aliases WHERE personality_id = $1 AND lower(alias) = lower($2)
		AND user_id IS NOT DISTINCT FROM NULLIF($3,'')::uuid`, personalityID, strings.TrimSpace(alias), userID)
	return tag.RowsAffected() > 0, err
}

// Aliases lists a character's global aliases and the viewer's personal ones.
func (r *Characters) Aliases(ctx context.Context, personalityID, viewerUserID string) ([]Alias, error) {
	rows, err := r.pool.Query(ctx, `SELECT alias, user_id IS NOT NULL FROM personality_aliases
		WHERE personality_id = $1 AND (user_id IS NULL OR user_id = NULLIF($2,'')::uuid)
		ORDER BY user_id IS NOT NULL, lower(alias)`, personalityID, viewerUserID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Alias, error) {
		var a Alias
		return a, row.Scan(&a.Alias, &a.Personal)
	})
}
