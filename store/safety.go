package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Safety is the repository of community-safety rules: the operators' denylist, each
// server's channel restriction and users' NSFW verification. The gateway reads the first
// two through a cache on every message; commands change them.
type Safety struct{ pool *pgxpool.Pool }

// DenyKind says what a denylist entry names.
type DenyKind string

// The kinds of denylist entries (the denylist table's CHECK).
const (
	DenyUser  DenyKind = "user"
	DenyGuild DenyKind = "guild"
)

// DenyEntry is one denied user or server.
type DenyEntry struct {
	Kind      DenyKind
	DiscordID string
	Reason    string
	CreatedAt time.Time
}

// Denylist is every denied Discord id by kind, as the gateway's cache holds it.
type Denylist struct {
	Users  map[string]bool
	Guilds map[string]bool
}

// Deny adds a user or server to the denylist, or updates its reason; added is false when
// it was already there.
func (r *Safety) Deny(ctx context.Context, kind DenyKind, discordID, reason string) (added bool, err error) {
	if err := kind.check(); err != nil {
		return false, err
	}
	// xmax = 0 only for a freshly inserted row: tells an insert from an update in one trip.
	err = r.pool.QueryRow(ctx, `INSERT INTO denylist (kind, discord_id, reason) VALUES ($1, $2, $3)
		ON CONFLICT (kind, discord_id) DO UPDATE SET reason = EXCLUDED.reason
		RETURNING xmax = 0`, string(kind), discordID, CleanText(reason)).Scan(&added)
	if err != nil {
		return false, fmt.Errorf("deny %s %s: %w", kind, discordID, err)
	}
	return added, nil
}

// Undeny removes a denylist entry; false when there was none.
func (r *Safety) Undeny(ctx context.Context, kind DenyKind, discordID string) (bool, error) {
	tag, err := r.pool.Exec(ctx, `DELETE FROM denylist WHERE kind = $1 AND discord_id = $2`, string(kind), discordID)
	if err != nil {
		return false, fmt.Errorf("undeny %s %s: %w", kind, discordID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// DenyEntries lists the entries of one kind, newest first, at most limit (0: all).
func (r *Safety) DenyEntries(ctx context.Context, kind DenyKind, limit int) ([]DenyEntry, error) {
	q := `SELECT kind, discord_id, reason, created_at FROM denylist WHERE kind = $1 ORDER BY created_at DESC, discord_id`
	args := []any{string(kind)}
	if limit > 0 {
		q += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := r.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (DenyEntry, error) {
		var e DenyEntry
		var kind string
		err := row.Scan(&kind, &e.DiscordID, &e.Reason, &e.CreatedAt)
		e.Kind = DenyKind(kind)
		return e, err
	})
}

// Denylist loads every denied id, for the gateway's cache.
func (r *Safety) Denylist(ctx context.Context) (Denylist, error) {
	out := Denylist{Users: map[string]bool{}, Guilds: map[string]bool{}}
	rows, err := r.pool.Query(ctx, `SELECT kind, discord_id FROM denylist`)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, id string
		if err := rows.Scan(&kind, &id); err != nil {
			return out, err
		}
		switch DenyKind(kind) {
		case DenyUser:
			out.Users[id] = true
		case DenyGuild:
			out.Guilds[id] = true
		}
	}
	return out, rows.Err()
}

func (k DenyKind) check() error {
	if k != DenyUser && k != DenyGuild {
		return fmt.Errorf("unknown denylist kind %q", string(k))
	}
	return nil
}

// RestrictMode is how a server's channel list is read.
type RestrictMode string

// Restriction modes: off (characters answer everywhere), allow (only in the listed
// channels), deny (everywhere but the listed channels).
const (
	RestrictOff   RestrictMode = "off"
	RestrictAllow RestrictMode = "allow"
	RestrictDeny  RestrictMode = "deny"
)

// ErrBadMode refuses a restriction mode other than off, allow or deny.
var ErrBadMode = errors.New("restriction mode must be off, allow or deny")

// Restriction is one server's channel rule. Channels are kept when the mode is off.
type Restriction struct {
	GuildID  string
	Mode     RestrictMode
	Channels []string // in the order they were added
}

// SetRestrictMode sets a server's restriction mode; RestrictOff lifts it (keeping the list).
func (r *Safety) SetRestrictMode(ctx context.Context, guildID string, mode RestrictMode) error {
	var err error
	switch mode {
	case RestrictOff:
		_, err = r.pool.Exec(ctx, `DELETE FROM guild_restrictions WHERE guild_id = $1`, guildID)
	case RestrictAllow, RestrictDeny:
		_, err = r.pool.Exec(ctx, `INSERT INTO guild_restrictions (guild_id, mode) VALUES ($1, $2)
			ON CONFLICT (guild_id) DO UPDATE SET mode = EXCLUDED.mode, updated_at = now()`, guildID, string(mode))
	default:
		return ErrBadMode
	}
	if err != nil {
		return fmt.Errorf("restrict mode of %s: %w", guildID, err)
	}
	return nil
}

// AddRestrictedChannel puts a channel on a server's list; false when it was there already.
func (r *Safety) AddRestrictedChannel(ctx context.Context, guildID, channelID string) (bool, error) {
	tag, err := r.pool.Exec(ctx, `INSERT INTO guild_restricted_channels (guild_id, channel_id) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, guildID, channelID)
	if err != nil {
		return false, fmt.Errorf("restrict channel %s: %w", channelID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// RemoveRestrictedChannel takes a channel off a server's list; false when it was not on it.
func (r *Safety) RemoveRestrictedChannel(ctx context.Context, guildID, channelID string) (bool, error) {
	tag, err := r.pool.Exec(ctx, `DELETE FROM guild_restricted_channels WHERE guild_id = $1 AND channel_id = $2`, guildID, channelID)
	if err != nil {
		return false, fmt.Errorf("unrestrict channel %s: %w", channelID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// Restriction returns one server's rule (mode off and no channels when it has none).
func (r *Safety) Restriction(ctx context.Context, guildID string) (Restriction, error) {
	all, err := r.restrictions(ctx, guildID)
	if err != nil {
		return Restriction{}, err
	}
	if res, ok := all[guildID]; ok {
		return res, nil
	}
	return Restriction{GuildID: guildID, Mode: RestrictOff}, nil
}

// Restrictions returns the rule of every server whose restriction is on, for the
// gateway's cache.
func (r *Safety) Restrictions(ctx context.Context) (map[string]Restriction, error) {
	all, err := r.restrictions(ctx, "")
	if err != nil {
		return nil, err
	}
	for id, res := range all {
		if res.Mode == RestrictOff {
			delete(all, id)
		}
	}
	return all, nil
}

// restrictions loads rules and lists of one server, or of all when guildID is "".
func (r *Safety) restrictions(ctx context.Context, guildID string) (map[string]Restriction, error) {
	rows, err := r.pool.Query(ctx, `
		SELECT COALESCE(g.guild_id, c.guild_id), COALESCE(g.mode, 'off'), COALESCE(c.channel_id, '')
		FROM guild_restrictions g
		FULL JOIN guild_restricted_channels c ON c.guild_id = g.guild_id
		WHERE $1 = '' OR COALESCE(g.guild_id, c.guild_id) = $1
		ORDER BY 1, c.created_at, c.channel_id`, guildID)
	if err != nil {
		return nil, fmt.Errorf("load channel restrictions: %w", err)
	}
	defer rows.Close()
	out := map[string]Restriction{}
	for rows.Next() {
		var gid, mode, ch string
		if err := rows.Scan(&gid, &mode, &ch); err != nil {
			return nil, err
		}
		res := out[gid]
		res.GuildID, res.Mode = gid, RestrictMode(mode)
		if ch != "" {
			res.Channels = append(res.Channels, ch)
		}
		out[gid] = res
	}
	return out, rows.Err()
}

// VerifyNSFW records that a user used the bot in an age-restricted channel. The first
// time counts; later calls change nothing.
func (r *Safety) VerifyNSFW(ctx context.Context, userID string) error {
	_, err := r.pool.Exec(ctx, `UPDATE users SET nsfw_verified_at = now() WHERE id = $1 AND nsfw_verified_at IS NULL`, userID)
	if err != nil {
		return fmt.Errorf("verify nsfw: %w", err)
	}
	return nil
}

// NSFWVerified reports whether a Discord user is verified for NSFW characters (false for
// someone unknown).
func (r *Safety) NSFWVerified(ctx context.Context, discordID string) (bool, error) {
	var ok bool
	err := r.pool.QueryRow(ctx, `SELECT nsfw_verified_at IS NOT NULL FROM users WHERE discord_id = $1`, discordID).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("nsfw verification: %w", err)
	}
	return ok, nil
}
