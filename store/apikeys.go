package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tzurot/tzurot/store/keyring"
)

// APIKeys is the repository of users' own LLM API keys (BYOK). Keys are sealed by the
// keyring with additional data naming the row's user and provider, so a ciphertext
// copied to another row does not open. Plaintext keys exist only inside Put, Reveal and
// List (which masks them); nothing here logs or wraps one into an error.
type APIKeys struct {
	pool *pgxpool.Pool
	kr   *keyring.Keyring
}

// NewAPIKeys builds the repository over pool; kr seals new keys and opens stored ones.
func NewAPIKeys(pool *pgxpool.Pool, kr *keyring.Keyring) *APIKeys {
	return &APIKeys{pool: pool, kr: kr}
}

// APIKeyInfo is what a user may see of a stored key.
type APIKeyInfo struct {
	Provider   string
	BaseURL    string
	Masked     string // e.g. "sk-or-…a1b2"; MaskUnreadable when the key no longer opens
	KeyVersion int
	LastUsedAt *time.Time
	CreatedAt  time.Time
}

// MaskUnreadable is the Masked value of a key no known master key opens: the user should
// store it again.
const MaskUnreadable = "[unreadable: set this key again]"

// Put stores (or replaces) a user's key for a provider, sealed under the current master
// key. The provider is trimmed and lower-cased; userID is a users.id UUID. Replacing a
// key resets its created_at and last_used_at: it is a new key.
func (r *APIKeys) Put(ctx context.Context, userID, provider, baseURL, plaintextKey string) error {
	uid, err := canonicalUUID(userID)
	if err != nil {
		return err
	}
	provider = normalizeProvider(provider)
	if provider == "" {
		return errors.New("put api key: provider is empty")
	}
	if strings.TrimSpace(plaintextKey) == "" {
		return errors.New("put api key: the key is empty")
	}
	s, err := r.kr.Seal([]byte(plaintextKey), keyring.AAD(uid, provider))
	if err != nil {
		return fmt.Errorf("put api key: %w", err)
	}
	_, err = r.pool.Exec(ctx, `
		INSERT INTO user_api_keys (user_id, provider, base_url, ciphertext, nonce, key_version)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (user_id, provider) DO UPDATE SET base_url = EXCLUDED.base_url,
			ciphertext = EXCLUDED.ciphertext, nonce = EXCLUDED.nonce,
			key_version = EXCLUDED.key_version, last_used_at = NULL, created_at = now()`,
		uid, provider, strings.TrimSpace(baseURL), s.Ciphertext, s.Nonce, s.Version)
	if err != nil {
		return fmt.Errorf("put api key for provider %q: %w", provider, err)
	}
	return nil
}

// Reveal opens a user's key for a provider and records that it was used (last_used_at,
// to the minute). It returns
// ErrNotFound when the user has no key for the provider. The key must go straight into
// the outgoing request: never into a log, an error or a workflow payload.
func (r *APIKeys) Reveal(ctx context.Context, userID, provider string) (key, baseURL string, version int, err error) {
	uid, err := canonicalUUID(userID)
	if err != nil {
		return "", "", 0, err
	}
	provider = normalizeProvider(provider)
	var id string
	var s keyring.Sealed
	err = r.pool.QueryRow(ctx, `SELECT id::text, base_url, ciphertext, nonce, key_version FROM user_api_keys
		WHERE user_id = $1 AND provider = $2`, uid, provider).Scan(&id, &baseURL, &s.Ciphertext, &s.Nonce, &s.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", 0, fmt.Errorf("api key for provider %q: %w", provider, ErrNotFound)
	}
	if err != nil {
		return "", "", 0, fmt.Errorf("reveal api key: %w", err)
	}
	pt, err := r.kr.Open(s, keyring.AAD(uid, provider))
	if err != nil {
		return "", "", 0, fmt.Errorf("api key for provider %q (row %s): %w", provider, id, err)
	}
	// At most one write a minute per key: Reveal runs before every LLM call, and a
	// read-only statement costs no WAL flush.
	if _, err := r.pool.Exec(ctx, `UPDATE user_api_keys SET last_used_at = now()
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, id); err != nil {
		return "", "", 0, fmt.Errorf("record api key use: %w", err)
	}
	return string(pt), baseURL, s.Version, nil
}

// List returns a user's keys, masked, ordered by provider. A key that no longer opens
// is listed with Masked = MaskUnreadable rather than failing the whole list.
func (r *APIKeys) List(ctx context.Context, userID string) ([]APIKeyInfo, error) {
	uid, err := canonicalUUID(userID)
	if err != nil {
		return nil, err
	}
	rows, err := r.pool.Query(ctx, `SELECT provider, base_url, ciphertext, nonce, key_version, last_used_at, created_at
		FROM user_api_keys WHERE user_id = $1 ORDER BY provider`, uid)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKeyInfo
	for rows.Next() {
		var k APIKeyInfo
		var s keyring.Sealed
		if err := rows.Scan(&k.Provider, &k.BaseURL, &s.Ciphertext, &s.Nonce, &s.Version, &k.LastUsedAt, &k.CreatedAt); err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		k.KeyVersion = s.Version
		k.Masked = MaskUnreadable
		if pt, err := r.kr.Open(s, keyring.AAD(uid, k.Provider)); err == nil {
			k.Masked = MaskAPIKey(string(pt))
			clear(pt)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return out, nil
}

// Delete removes a user's key for a provider and reports whether there was one.
func (r *APIKeys) Delete(ctx context.Context, userID, provider string) (bool, error) {
	uid, err := canonicalUUID(userID)
	if err != nil {
		return false, err
	}
	tag, err := r.pool.Exec(ctx, `DELETE FROM user_api_keys WHERE user_id = $1 AND provider = $2`, uid, normalizeProvider(provider))
	if err != nil {
		return false, fmt.Errorf("delete api key: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// MaskAPIKey shows enough of a key for its owner to recognise it: a vendor prefix made
// of letters ("sk-", "sk-or-", "sk-ant-") and the last 4 characters, e.g. "sk-or-…a1b2".
// Keys shorter than 16 characters show only "…".
func MaskAPIKey(key string) string {
	key = strings.TrimSpace(key)
	prefix := vendorPrefix(key)
	n := utf8.RuneCountInString(key)
	if n < 16 {
		return prefix + "…"
	}
	runes := []rune(key)
	return prefix + "…" + string(runes[n-4:])
}

// vendorPrefix is the leading run of letter-only segments, each ended by '-' (at most
// three segments and 12 characters): "sk-or-v1-abc" gives "sk-or-".
func vendorPrefix(key string) string {
	end, segs := 0, 0
	for i := 0; i < len(key) && segs < 3; {
		j := i
		for j < len(key) && (key[j] >= 'a' && key[j] <= 'z' || key[j] >= 'A' && key[j] <= 'Z') {
			j++
		}
		if j == i || j >= len(key) || key[j] != '-' || j+1 > 12 {
			break
		}
		end, segs, i = j+1, segs+1, j+1
	}
	// Never let the prefix eat into a short key's body.
	if len(key)-end < 16 {
		return ""
	}
	return key[:end]
}

func normalizeProvider(p string) string { return strings.ToLower(strings.TrimSpace(p)) }

// canonicalUUID writes a UUID the way PostgreSQL prints uuid::text, so the additional
// data sealed by Put matches what Reveal and Rotate rebuild from the row.
func canonicalUUID(s string) (string, error) {
	h := strings.ToLower(strings.Trim(strings.TrimSpace(s), "{}"))
	h = strings.ReplaceAll(h, "-", "")
	if len(h) != 32 || strings.IndexFunc(h, func(r rune) bool { return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') }) >= 0 {
		// Not echoed: a caller that swapped arguments may have passed the API key here.
		return "", fmt.Errorf("user id is not a UUID (%d characters)", len(s))
	}
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// RotateReport says what a Rotate run did.
type RotateReport struct {
	Version  int // the version rows were re-sealed under (the keyring's current one)
	Total    int // rows under another version when the run started
	Resealed int
	// Skipped rows changed between read and write (another Rotate got there first, or
	// the user replaced or deleted the key); nothing is left to do for them.
	Skipped int
	Failed  []RotateFailure
}

// RotateFailure is a row no key in the keyring opens. It stays as it is; the run goes on.
type RotateFailure struct {
	ID         string
	KeyVersion int
	Reason     string // the keyring's error: names versions, never key material
}

// Done is how many rows the run has dealt with.
func (r RotateReport) Done() int { return r.Resealed + r.Skipped + len(r.Failed) }

// Rotate re-seals, under kr's current key, every stored key sealed under another
// version, batch rows at a time (100 when batch <= 0), calling progress (if not nil)
// after each batch. kr must still hold the old keys (APP_MASTER_KEY_PREVIOUS) to open
// them.
//
// Each row is written with a compare-and-set on its id, old version and old nonce, so
// two runs at once never re-seal a row twice or overwrite a key a user replaced
// meanwhile, and a run that is interrupted (context cancelled, process killed) loses
// nothing: the next run re-seals what is left. A row no known key opens is reported in
// Failed and left alone; only database errors and cancellation end a run early.
func (r *APIKeys) Rotate(ctx context.Context, kr *keyring.Keyring, batch int, progress func(done, total int)) (RotateReport, error) {
	if batch <= 0 {
		batch = 100
	}
	rep := RotateReport{Version: kr.CurrentVersion()}
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM user_api_keys WHERE key_version <> $1`, rep.Version).Scan(&rep.Total); err != nil {
		return rep, fmt.Errorf("rotate api keys: count: %w", err)
	}
	after := "00000000-0000-0000-0000-000000000000"
	for {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("rotate api keys: stopped after %d of %d rows (run again to finish): %w", rep.Done(), rep.Total, err)
		}
		rows, err := r.staleBatch(ctx, rep.Version, after, batch)
		if err != nil {
			return rep, fmt.Errorf("rotate api keys: stopped after %d of %d rows (run again to finish): %w", rep.Done(), rep.Total, err)
		}
		if len(rows) == 0 {
			return rep, nil
		}
		if err := r.resealBatch(ctx, kr, rows, &rep); err != nil {
			return rep, fmt.Errorf("rotate api keys: stopped after %d of %d rows (run again to finish): %w", rep.Done(), rep.Total, err)
		}
		after = rows[len(rows)-1].id
		if progress != nil {
			progress(rep.Done(), rep.Total)
		}
	}
}

type sealedRow struct {
	id, userID, provider string
	sealed               keyring.Sealed
}

// staleBatch reads the next rows (by id, after the last one seen) not under version.
// Walking by id rather than re-querying from the start keeps a failed row from being
// read again in the same run.
func (r *APIKeys) staleBatch(ctx context.Context, version int, after string, limit int) ([]sealedRow, error) {
	rows, err := r.pool.Query(ctx, `SELECT id::text, user_id::text, provider, ciphertext, nonce, key_version
		FROM user_api_keys WHERE key_version <> $1 AND id > $2::uuid ORDER BY id LIMIT $3`, version, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (sealedRow, error) {
		var s sealedRow
		err := row.Scan(&s.id, &s.userID, &s.provider, &s.sealed.Ciphertext, &s.sealed.Nonce, &s.sealed.Version)
		return s, err
	})
}

// resealBatch writes one batch in one transaction (one commit, one round trip). The
// counts in rep change only once the transaction has committed.
func (r *APIKeys) resealBatch(ctx context.Context, kr *keyring.Keyring, rows []sealedRow, rep *RotateReport) error {
	var b pgx.Batch
	var failed []RotateFailure
	for _, row := range rows {
		aad := keyring.AAD(row.userID, row.provider)
		pt, err := kr.Open(row.sealed, aad)
		if err != nil {
			failed = append(failed, RotateFailure{ID: row.id, KeyVersion: row.sealed.Version, Reason: err.Error()})
			continue
		}
		s, err := kr.Seal(pt, aad)
		clear(pt)
		if err != nil {
			return err
		}
		// Compare-and-set: the row must still hold the very ciphertext we opened.
		b.Queue(`UPDATE user_api_keys SET ciphertext = $2, nonce = $3, key_version = $4
			WHERE id = $1 AND key_version = $5 AND nonce = $6`,
			row.id, s.Ciphertext, s.Nonce, s.Version, row.sealed.Version, row.sealed.Nonce)
	}
	resealed, skipped := 0, 0
	if b.Len() > 0 {
		tx, err := r.pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		br := tx.SendBatch(ctx, &b)
		for range b.Len() {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return err
			}
			if tag.RowsAffected() == 1 {
				resealed++
			} else {
				skipped++
			}
		}
		if err := br.Close(); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
	}
	rep.Resealed += resealed
	rep.Skipped += skipped
	rep.Failed = append(rep.Failed, failed...)
	return nil
}

// Providers returns the providers a user has a key for and each key's version, without
// decrypting anything (ResolveKey needs only to know which key to name).
func (r *APIKeys) Providers(ctx context.Context, userID string) (map[string]int, error) {
	rows, err := r.pool.Query(ctx, `SELECT provider, key_version FROM user_api_keys WHERE user_id = $1`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var p string
		var v int
		if err := rows.Scan(&p, &v); err != nil {
			return nil, err
		}
		out[p] = v
	}
	return out, rows.Err()
}
