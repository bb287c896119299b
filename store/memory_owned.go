package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// What /memory shows and changes: the memories of a user's personas (all of them), with
// one character or with all. Other people's memories are never reachable from here.

// ownedScope is the predicate of a user's memories ($1 user id, $2 personality id or ”).
const ownedScope = `m.persona_id IN (SELECT id FROM personas WHERE owner_id = $1)
	AND ($2 = '' OR m.personality_id = NULLIF($2,'')::uuid)`

// MemoryPage is one page of a user's memories.
type MemoryPage struct {
	Memories []Memory
	Total    int
}

// Browse returns a page of a user's active memories (with personalityID, or all when ""),
// newest first.
func (r *Memories) Browse(ctx context.Context, userID, personalityID string, offset, limit int) (MemoryPage, error) {
	var p MemoryPage
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM memories m WHERE `+ownedScope+` AND NOT m.archived`,
		userID, personalityID).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("count memories: %w", err)
	}
	rows, err := r.pool.Query(ctx, `SELECT `+memoryCols+` FROM memories m WHERE `+ownedScope+` AND NOT m.archived
		ORDER BY m.created_at DESC, m.id OFFSET $3 LIMIT $4`, userID, personalityID, offset, limit)
	if p.Memories, err = collectMemories(rows, err, nil); err != nil {
		return p, fmt.Errorf("browse memories: %w", err)
	}
	return p, nil
}

// FindText returns up to limit of a user's active memories matching text: full-text
// (any of its words, stemmed as English) or, failing that, a substring; best first.
func (r *Memories) FindText(ctx context.Context, userID, personalityID, text string, limit int) ([]Memory, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	words := strings.Fields(strings.Map(func(c rune) rune {
		if c == '\'' || c == ':' || c == '&' || c == '|' || c == '!' || c == '(' || c == ')' || c == '<' || c == '>' || c == '*' || c == '\\' {
			return ' '
		}
		return c
	}, text))
	for i, w := range words {
		words[i] = "'" + w + "'" // a quoted lexeme: no tsquery operator inside can break the query
	}
	query := strings.Join(words, " | ")
	rows, err := r.pool.Query(ctx, `SELECT `+memoryCols+` FROM memories m,
			LATERAL (SELECT CASE WHEN $3 = '' THEN NULL ELSE to_tsquery('english', $3) END AS q) t
		WHERE `+ownedScope+` AND NOT m.archived
			AND ((t.q IS NOT NULL AND to_tsvector('english', m.content) @@ t.q) OR m.content ILIKE '%' || $4 || '%')
		ORDER BY (m.content ILIKE '%' || $4 || '%') DESC,
			COALESCE(ts_rank(to_tsvector('english', m.content), t.q), 0) DESC, m.created_at DESC
		LIMIT $5`, userID, personalityID, query, escapeLike(text), limit)
	out, err := collectMemories(rows, err, nil)
	if err != nil {
		return nil, fmt.Errorf("search memories: %w", err)
	}
	return out, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// MemoryStats sums up a user's memories.
type MemoryStats struct {
	Active, Archived, Locked, Pending int // pending: no vector yet
	BySector                          map[string]int
	ByOrigin                          map[string]int
	Links                             int
	Oldest, Newest                    time.Time
	Dreams                            int
}

// Stats counts a user's memories (with personalityID, or all when "").
func (r *Memories) Stats(ctx context.Context, userID, personalityID string) (MemoryStats, error) {
	s := MemoryStats{BySector: map[string]int{}, ByOrigin: map[string]int{}}
	var oldest, newest *time.Time
	err := r.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT m.archived), count(*) FILTER (WHERE m.archived),
			count(*) FILTER (WHERE m.locked AND NOT m.archived), count(*) FILTER (WHERE m.embedding IS NULL AND NOT m.archived),
			min(m.created_at) FILTER (WHERE NOT m.archived), max(m.created_at) FILTER (WHERE NOT m.archived)
		FROM memories m WHERE `+ownedScope, userID, personalityID).Scan(&s.Active, &s.Archived, &s.Locked, &s.Pending, &oldest, &newest)
	if err != nil {
		return s, fmt.Errorf("memory stats: %w", err)
	}
	if oldest != nil {
		s.Oldest, s.Newest = *oldest, *newest
	}
	rows, err := r.pool.Query(ctx, `SELECT 's', m.sector, count(*) FROM memories m WHERE `+ownedScope+` AND NOT m.archived GROUP BY m.sector
		UNION ALL SELECT 'o', m.origin, count(*) FROM memories m WHERE `+ownedScope+` AND NOT m.archived GROUP BY m.origin`, userID, personalityID)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, name string
		var n int
		if err := rows.Scan(&kind, &name, &n); err != nil {
			return s, err
		}
		if kind == "s" {
			s.BySector[name] = n
		} else {
			s.ByOrigin[name] = n
		}
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	err = r.pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM memory_links l JOIN memories m ON m.id = l.from_id WHERE `+ownedScope+`),
			(SELECT count(*) FROM dreams d WHERE d.persona_id IN (SELECT id FROM personas WHERE owner_id = $1)
				AND ($2 = '' OR d.personality_id = NULLIF($2,'')::uuid))`, userID, personalityID).Scan(&s.Links, &s.Dreams)
	return s, err
}

// Resolve turns what a user typed (full ids, or id prefixes of at least 6 characters, as
// /memory browse shows them) into ids of their own memories. Unknown or ambiguous
// references come back in unknown.
func (r *Memories) Resolve(ctx context.Context, userID string, refs []string) (ids, unknown []string, err error) {
	seen := map[string]bool{}
	for _, ref := range refs {
		ref = strings.ToLower(strings.TrimSpace(ref))
		if ref == "" {
			continue
		}
		if len(ref) < 6 || strings.Trim(ref, "0123456789abcdef-") != "" {
			unknown = append(unknown, ref)
			continue
		}
		var found []string
		rows, err := r.pool.Query(ctx, `SELECT m.id::text FROM memories m WHERE `+ownedScope+` AND m.id::text LIKE $3 || '%' LIMIT 2`,
			userID, "", ref)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, nil, err
			}
			found = append(found, id)
		}
		rows.Close()
		if len(found) != 1 {
			unknown = append(unknown, ref)
			continue
		}
		if !seen[found[0]] {
			seen[found[0]] = true
			ids = append(ids, found[0])
		}
	}
	return ids, unknown, nil
}

// DeleteOwned deletes the given memories of the user's, skipping locked ones; it returns
// how many went and how many were locked.
func (r *Memories) DeleteOwned(ctx context.Context, userID string, ids []string) (deleted, locked int, err error) {
	err = r.pool.QueryRow(ctx, `WITH gone AS (
			DELETE FROM memories m WHERE `+ownedScope+` AND m.id = ANY($3::uuid[]) AND NOT m.locked RETURNING 1)
		SELECT (SELECT count(*) FROM gone),
			(SELECT count(*) FROM memories m WHERE `+ownedScope+` AND m.id = ANY($3::uuid[]) AND m.locked)`,
		userID, "", ids).Scan(&deleted, &locked)
	if err != nil {
		return 0, 0, fmt.Errorf("delete memories: %w", err)
	}
	return deleted, locked, nil
}

// SetLocked locks (or unlocks) the given memories of the user's. A locked memory is never
// deleted by /memory delete or purge, archived by the quota, decay or summaries, or
// merged away by a dream. It returns how many changed.
func (r *Memories) SetLocked(ctx context.Context, userID string, ids []string, locked bool) (int, error) {
	tag, err := r.pool.Exec(ctx, `UPDATE memories m SET locked = $4 WHERE `+ownedScope+` AND m.id = ANY($3::uuid[]) AND m.locked <> $4`,
		userID, "", ids, locked)
	if err != nil {
		return 0, fmt.Errorf("lock memories: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Purge deletes every unlocked memory of the user's (with personalityID, or all when ""),
// archived ones included; it returns how many went and how many locked ones stayed.
func (r *Memories) Purge(ctx context.Context, userID, personalityID string) (deleted, kept int, err error) {
	err = r.pool.QueryRow(ctx, `WITH gone AS (DELETE FROM memories m WHERE `+ownedScope+` AND NOT m.locked RETURNING 1)
		SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM memories m WHERE `+ownedScope+` AND m.locked)`,
		userID, personalityID).Scan(&deleted, &kept)
	if err != nil {
		return 0, 0, fmt.Errorf("purge memories: %w", err)
	}
	return deleted, kept, nil
}

// MemoryModes are a user's memory switches.
type MemoryModes struct {
	Incognito bool // turns write no memory
	Fresh     bool // turns recall no memory
}

// Modes returns a user's memory switches (both off for a user who never set them).
func (r *Memories) Modes(ctx context.Context, userID string) (MemoryModes, error) {
	var m MemoryModes
	if userID == "" {
		return m, nil
	}
	err := r.pool.QueryRow(ctx, `SELECT COALESCE(bool_or(incognito), false), COALESCE(bool_or(fresh), false)
		FROM memory_modes WHERE user_id = $1`, userID).Scan(&m.Incognito, &m.Fresh)
	if err != nil {
		return m, fmt.Errorf("memory modes: %w", err)
	}
	return m, nil
}

// SetModes stores a user's memory switches.
func (r *Memories) SetModes(ctx context.Context, userID string, m MemoryModes) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO memory_modes (user_id, incognito, fresh, updated_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (user_id) DO UPDATE SET incognito = $2, fresh = $3, updated_at = now()`, userID, m.Incognito, m.Fresh)
	if err != nil {
		return fmt.Errorf("set memory modes: %w", err)
	}
	return nil
}

// Settings returns the operator's memory settings row as JSON ("{}" when there is none);
// the activities merge it over their defaults.
func (r *Memories) Settings(ctx context.Context) (json.RawMessage, error) {
	var raw []byte
	err := r.pool.QueryRow(ctx, `SELECT COALESCE((SELECT settings FROM memory_settings WHERE id), '{}'::jsonb)`).Scan(&raw)
	if err != nil {
		return nil, fmt.Errorf("memory settings: %w", err)
	}
	return raw, nil
}

// PutSettings replaces the operator's memory settings row.
func (r *Memories) PutSettings(ctx context.Context, settings json.RawMessage) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO memory_settings (id, settings, updated_at) VALUES (true, $1, now())
		ON CONFLICT (id) DO UPDATE SET settings = $1, updated_at = now()`, []byte(settings))
	if err != nil {
		return fmt.Errorf("put memory settings: %w", err)
	}
	return nil
}
