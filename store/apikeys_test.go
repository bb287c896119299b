package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/store/keyring"
)

// These tests use the package's shared database (db, from store_test.go). The rotation
// tests re-seal the whole user_api_keys table, so they empty it first and run serially.

func testKeyring(t testing.TB, fill byte, older ...keyring.Key) (*keyring.Keyring, keyring.Key) {
	t.Helper()
	raw := bytes.Repeat([]byte{fill}, keyring.KeySize)
	k, err := keyring.NewKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New(k, older...)
	if err != nil {
		t.Fatal(err)
	}
	return kr, k
}

// keyUsers creates n users (ids only) named after prefix.
func keyUsers(t *testing.T, prefix string, n int) []string {
	t.Helper()
	rows, err := db.Store.Pool.Query(context.Background(),
		`INSERT INTO users (discord_id) SELECT $1 || g FROM generate_series(1, $2) g RETURNING id::text`, prefix, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

func emptyAPIKeys(t *testing.T) {
	t.Helper()
	if _, err := db.Store.Pool.Exec(context.Background(), `DELETE FROM user_api_keys`); err != nil {
		t.Fatal(err)
	}
}

func TestAPIKeysPutRevealListDelete(t *testing.T) {
	ctx := context.Background()
	kr, key := testKeyring(t, 1)
	keys := store.NewAPIKeys(db.Store.Pool, kr)
	user := keyUsers(t, "apikeys-crud-", 1)[0]
	const orKey = "sk-or-v1-4f9c2d0-8b7a6c5-4e3f2a1-0c9d8e7-6a5b4c3-2e1f0a9-8c7d6e5-4a3ba1b2"
	const oaKey = "sk-proj-Zq3x9LmN0pQ7rS2tUvW8yX1zA4bC6dE5fG"

	if err := keys.Put(ctx, user, "OpenRouter ", "", orKey); err != nil {
		t.Fatal(err)
	}
	// An upper-case, braced UUID names the same user.
	if err := keys.Put(ctx, "{"+strings.ToUpper(user)+"}", "openai", "https://api.openai.com/v1", oaKey); err != nil {
		t.Fatal(err)
	}

	got, baseURL, version, err := keys.Reveal(ctx, user, "openrouter")
	if err != nil {
		t.Fatal(err)
	}
	if got != orKey || baseURL != "" || version != key.Version {
		t.Fatalf("Reveal = (%d chars, %q, %d), want the stored key, no base URL, version %d", len(got), baseURL, version, key.Version)
	}
	if got, baseURL, _, err := keys.Reveal(ctx, user, "OPENAI"); err != nil || got != oaKey || baseURL != "https://api.openai.com/v1" {
		t.Fatalf("Reveal openai = (%d chars, %q, %v)", len(got), baseURL, err)
	}

	// The database holds no trace of the plaintext.
	var stored []byte
	if err := db.Store.Pool.QueryRow(ctx, `SELECT ciphertext || nonce FROM user_api_keys WHERE user_id = $1 AND provider = 'openrouter'`, user).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, []byte(orKey[len(orKey)-16:])) || bytes.Contains(stored, []byte("sk-or")) {
		t.Fatal("stored ciphertext contains the key")
	}

	list, err := keys.List(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ provider, masked string }{{"openai", "sk-proj-…E5fG"}, {"openrouter", "sk-or-…a1b2"}}
	if len(list) != len(want) {
		t.Fatalf("List = %+v, want %d keys", list, len(want))
	}
	for i, w := range want {
		k := list[i]
		if k.Provider != w.provider || k.Masked != w.masked || k.KeyVersion != key.Version || k.CreatedAt.IsZero() {
			t.Errorf("List[%d] = %+v, want provider %s masked %q version %d", i, k, w.provider, w.masked, key.Version)
		}
		if k.LastUsedAt == nil {
			t.Errorf("List[%d]: last_used_at not set by Reveal", i)
		}
	}

	// Replacing a key: the new one reveals, and it has not been used yet.
	const newKey = "sk-or-v1-fffffff-fffffff-fffffff-fffffff-fffffff-fffffff-fffffff-ffff9z9z"
	if err := keys.Put(ctx, user, "openrouter", "https://proxy.example/v1", newKey); err != nil {
		t.Fatal(err)
	}
	if got, baseURL, _, err := keys.Reveal(ctx, user, "openrouter"); err != nil || got != newKey || baseURL != "https://proxy.example/v1" {
		t.Fatalf("after replace: (%d chars, %q, %v)", len(got), baseURL, err)
	}

	tests := []struct {
		provider string
		want     bool
	}{{"openrouter", true}, {"openrouter", false}, {"never-stored", false}}
	for _, tt := range tests {
		ok, err := keys.Delete(ctx, user, tt.provider)
		if err != nil || ok != tt.want {
			t.Fatalf("Delete(%s) = %v, %v; want %v", tt.provider, ok, err, tt.want)
		}
	}
	if _, _, _, err := keys.Reveal(ctx, user, "openrouter"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Reveal after Delete: %v, want ErrNotFound", err)
	}
	if list, err := keys.List(ctx, user); err != nil || len(list) != 1 || list[0].Provider != "openai" {
		t.Fatalf("List after Delete = %+v, %v", list, err)
	}
}

func TestAPIKeysRefuseBadInput(t *testing.T) {
	ctx := context.Background()
	kr, _ := testKeyring(t, 1)
	keys := store.NewAPIKeys(db.Store.Pool, kr)
	user := keyUsers(t, "apikeys-bad-", 1)[0]
	tests := []struct {
		name                   string
		user, provider, apiKey string
		want                   string
	}{
		{"not a uuid", "alice", "openrouter", "sk-x", "is not a UUID"},
		{"key passed as the user id", "sk-or-v1-swapped-arguments-0000", "openrouter", "sk-x", "is not a UUID (31 characters)"},
		{"empty provider", user, "  ", "sk-x", "provider is empty"},
		{"empty key", user, "openrouter", " ", "the key is empty"},
		{"unknown user", "00000000-0000-0000-0000-00000000beef", "openrouter", "sk-x", "foreign key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := keys.Put(ctx, tt.user, tt.provider, "", tt.apiKey)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Put = %v, want an error containing %q", err, tt.want)
			}
			for _, secret := range []string{tt.apiKey, tt.user} {
				if strings.HasPrefix(secret, "sk-") && strings.Contains(err.Error(), secret) {
					t.Fatalf("error reveals a key: %v", err)
				}
			}
		})
	}
}

// TestAPIKeysCiphertextIsBoundToItsRow moves a sealed key onto another user's row, as
// someone with write access to the table might: it does not open there.
func TestAPIKeysCiphertextIsBoundToItsRow(t *testing.T) {
	ctx := context.Background()
	kr, _ := testKeyring(t, 1)
	keys := store.NewAPIKeys(db.Store.Pool, kr)
	users := keyUsers(t, "apikeys-bound-", 2)
	if err := keys.Put(ctx, users[0], "openrouter", "", "sk-or-v1-victim-key-0000000000001234"); err != nil {
		t.Fatal(err)
	}
	if err := keys.Put(ctx, users[1], "openrouter", "", "sk-or-v1-attacker-key-000000000005678"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.Pool.Exec(ctx, `UPDATE user_api_keys AS b SET ciphertext = a.ciphertext, nonce = a.nonce
		FROM user_api_keys AS a WHERE a.user_id = $1 AND b.user_id = $2 AND a.provider = b.provider`, users[0], users[1]); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := keys.Reveal(ctx, users[1], "openrouter")
	if !errors.Is(err, keyring.ErrDecrypt) {
		t.Fatalf("Reveal of a moved ciphertext = %v, want keyring.ErrDecrypt", err)
	}
	if strings.Contains(err.Error(), "victim") {
		t.Fatalf("error reveals the key: %v", err)
	}
	list, err := keys.List(ctx, users[1])
	if err != nil || len(list) != 1 || list[0].Masked != store.MaskUnreadable {
		t.Fatalf("List = %+v, %v; want one key masked %q", list, err, store.MaskUnreadable)
	}
}

func TestMaskAPIKey(t *testing.T) {
	tests := []struct{ key, want string }{
		{"sk-or-v1-4f9c2d0-8b7a6c5-4e3f2a1-0c9d8e7-6a5b4c3-2e1f0a9-8c7d6e5-4a3ba1b2", "sk-or-…a1b2"},
		{"sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "sk-ant-…6789"},
		{"sk-proj-Zq3x9LmN0pQ7rS2tUvW8yX1zA4bC6dE5fG", "sk-proj-…E5fG"},
		{"sk-0123456789abcdefWXYZ", "sk-…WXYZ"},
		{"AIzaSyA1B2C3D4E5F6G7H8I9J0", "…I9J0"},                      // no dash: no prefix
		{"sk-0123456789ab", "…"},                                     // 15 chars: too short to show its end
		{"sk-abc-0123456789abcd", "…abcd"},                           // prefix would leave fewer than 16
		{"short", "…"},                                               // never the whole key
		{"", "…"},                                                    // nothing stored
		{"  sk-or-v1-0000000-0000000-0000000-9f8e  ", "sk-or-…9f8e"}, // pasted with spaces
		{"ключ-ключ-ключ-ключ-ключ-ключ", "…ключ"},                   // runes, not bytes
	}
	for _, tt := range tests {
		got := store.MaskAPIKey(tt.key)
		if got != tt.want {
			t.Errorf("MaskAPIKey(%q) = %q, want %q", tt.key, got, tt.want)
		}
		if k := []rune(strings.TrimSpace(tt.key)); len(k) >= 8 && strings.Contains(got, string(k[len(k)-5:])) {
			t.Errorf("MaskAPIKey(%q) = %q shows more than the last 4 characters", tt.key, got)
		}
	}
}

// rotationFixture stores n keys (spread over users and providers) under the keyring
// made of fill, and returns the keyring, its key and every key stored by (user, provider).
func rotationFixture(t *testing.T, n int) (*keyring.Keyring, keyring.Key, map[[2]string]string) {
	t.Helper()
	emptyAPIKeys(t)
	ctx := context.Background()
	kr, key := testKeyring(t, 1)
	keys := store.NewAPIKeys(db.Store.Pool, kr)
	providers := []string{"openrouter", "openai", "anthropic", "groq", "local"}
	users := keyUsers(t, fmt.Sprintf("%s-", t.Name()), (n+len(providers)-1)/len(providers))
	want := map[[2]string]string{}
	for i := range n {
		u, p := users[i/len(providers)], providers[i%len(providers)]
		k := fmt.Sprintf("sk-%s-%04d-%s", p, i, strings.Repeat("x", 40))
		if err := keys.Put(ctx, u, p, "", k); err != nil {
			t.Fatal(err)
		}
		want[[2]string{u, p}] = k
	}
	return kr, key, want
}

// versionCounts is how many rows each key version seals.
func versionCounts(t *testing.T) map[int]int {
	t.Helper()
	rows, err := db.Store.Pool.Query(context.Background(), `SELECT key_version, count(*) FROM user_api_keys GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]int{}
	for rows.Next() {
		var v, n int
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		out[v] = n
	}
	return out
}

func revealAll(t *testing.T, keys *store.APIKeys, want map[[2]string]string, wantVersion int) {
	t.Helper()
	for up, k := range want {
		got, _, v, err := keys.Reveal(context.Background(), up[0], up[1])
		if err != nil {
			t.Fatalf("Reveal(%s, %s): %v", up[0], up[1], err)
		}
		if got != k || v != wantVersion {
			t.Fatalf("Reveal(%s, %s) = (%d chars, version %d), want the stored key under version %d", up[0], up[1], len(got), v, wantVersion)
		}
	}
}

// TestAPIKeysRotateInterruptedThenResumed stops a rotation of 500 keys after two batches
// (as a killed `tzurot keys rotate` would stop), shows that the half-rotated table still
// serves every key, and that a second run finishes the job.
func TestAPIKeysRotateInterruptedThenResumed(t *testing.T) {
	const rows, batch = 500, 50
	oldRing, oldKey, want := rotationFixture(t, rows)
	newRing, newKey := testKeyring(t, 2, oldKey)
	keys := store.NewAPIKeys(db.Store.Pool, newRing)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls [][2]int
	rep, err := keys.Rotate(ctx, newRing, batch, func(done, total int) {
		calls = append(calls, [2]int{done, total})
		if len(calls) == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Rotate = %+v, %v; want context.Canceled", rep, err)
	}
	if rep.Total != rows || rep.Resealed != 2*batch || rep.Skipped != 0 || len(rep.Failed) != 0 {
		t.Fatalf("first run report %+v, want %d of %d re-sealed", rep, 2*batch, rows)
	}
	if fmt.Sprint(calls) != fmt.Sprint([][2]int{{50, 500}, {100, 500}}) {
		t.Fatalf("progress calls %v", calls)
	}
	if got := versionCounts(t); got[newKey.Version] != 2*batch || got[oldKey.Version] != rows-2*batch {
		t.Fatalf("after interruption: rows per version %v", got)
	}

	// Half rotated, every key still reveals (with the version it is under).
	half := 0
	for up, k := range want {
		got, _, v, err := keys.Reveal(context.Background(), up[0], up[1])
		if err != nil || got != k {
			t.Fatalf("Reveal mid-rotation (%s, %s): %v", up[0], up[1], err)
		}
		if v == newKey.Version {
			half++
		}
	}
	if half != 2*batch {
		t.Fatalf("%d keys report the new version mid-rotation, want %d", half, 2*batch)
	}

	rep, err = keys.Rotate(context.Background(), newRing, batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != rows-2*batch || rep.Resealed != rows-2*batch || rep.Skipped != 0 || len(rep.Failed) != 0 || rep.Version != newKey.Version {
		t.Fatalf("second run report %+v, want the remaining %d re-sealed", rep, rows-2*batch)
	}
	if got := versionCounts(t); len(got) != 1 || got[newKey.Version] != rows {
		t.Fatalf("after the second run: rows per version %v, want all %d under %d", got, rows, newKey.Version)
	}
	revealAll(t, keys, want, newKey.Version)

	// The old key is no longer needed: a keyring without it reveals everything.
	onlyNew, _ := testKeyring(t, 2)
	revealAll(t, store.NewAPIKeys(db.Store.Pool, onlyNew), want, newKey.Version)
	// And the pre-rotation keyring cannot: the table really was re-sealed.
	for up := range want {
		if _, _, _, err := store.NewAPIKeys(db.Store.Pool, oldRing).Reveal(context.Background(), up[0], up[1]); !errors.Is(err, keyring.ErrUnknownVersion) {
			t.Fatalf("old keyring revealing a re-sealed key: %v, want ErrUnknownVersion", err)
		}
		break
	}

	// A third run has nothing to do.
	if rep, err := keys.Rotate(context.Background(), newRing, batch, nil); err != nil || rep.Total != 0 || rep.Done() != 0 {
		t.Fatalf("third run: %+v, %v; want nothing to do", rep, err)
	}
}

// TestAPIKeysRotateTwoRunsAtOnce: every row is re-sealed exactly once between them.
func TestAPIKeysRotateTwoRunsAtOnce(t *testing.T) {
	const rows = 300
	_, oldKey, want := rotationFixture(t, rows)
	newRing, newKey := testKeyring(t, 3, oldKey)
	keys := store.NewAPIKeys(db.Store.Pool, newRing)

	var wg sync.WaitGroup
	reports := make([]store.RotateReport, 2)
	errs := make([]error, 2)
	for i := range reports {
		wg.Go(func() { reports[i], errs[i] = keys.Rotate(context.Background(), newRing, 20, nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if len(reports[i].Failed) != 0 {
			t.Fatalf("run %d failed rows: %+v", i, reports[i].Failed)
		}
	}
	t.Logf("reports: %+v", reports)
	if got := reports[0].Resealed + reports[1].Resealed; got != rows {
		t.Fatalf("re-sealed %d + %d = %d rows, want exactly %d (reports %+v)", reports[0].Resealed, reports[1].Resealed, got, rows, reports)
	}
	if got := versionCounts(t); got[newKey.Version] != rows {
		t.Fatalf("rows per version %v", got)
	}
	revealAll(t, keys, want, newKey.Version)
}

// TestAPIKeysRotateReportsRowsNoKeyOpens: an orphaned or damaged row is reported by id
// and left alone; the others are re-sealed; a rerun reports it again.
func TestAPIKeysRotateReportsRowsNoKeyOpens(t *testing.T) {
	ctx := context.Background()
	_, oldKey, want := rotationFixture(t, 20)
	users := keyUsers(t, "apikeys-orphan-", 1)
	lost, lostKey := testKeyring(t, 9) // a master key nobody kept
	if err := store.NewAPIKeys(db.Store.Pool, lost).Put(ctx, users[0], "openrouter", "", "sk-or-v1-orphan-000000000000000000"); err != nil {
		t.Fatal(err)
	}
	var damaged, orphan string
	if err := db.Store.Pool.QueryRow(ctx, `UPDATE user_api_keys SET ciphertext = set_byte(ciphertext, 0, get_byte(ciphertext, 0) # 1)
		WHERE id = (SELECT id FROM user_api_keys WHERE key_version = $1 ORDER BY id LIMIT 1) RETURNING id::text`, oldKey.Version).Scan(&damaged); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.Pool.QueryRow(ctx, `SELECT id::text FROM user_api_keys WHERE user_id = $1`, users[0]).Scan(&orphan); err != nil {
		t.Fatal(err)
	}

	newRing, newKey := testKeyring(t, 4, oldKey)
	keys := store.NewAPIKeys(db.Store.Pool, newRing)
	for run := 1; run <= 2; run++ {
		rep, err := keys.Rotate(ctx, newRing, 7, nil)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		wantResealed := 19
		if run == 2 {
			wantResealed = 0
		}
		if rep.Resealed != wantResealed || len(rep.Failed) != 2 {
			t.Fatalf("run %d: %+v, want %d re-sealed and 2 failed", run, rep, wantResealed)
		}
		failed := map[string]store.RotateFailure{}
		for _, f := range rep.Failed {
			failed[f.ID] = f
		}
		if f := failed[damaged]; f.KeyVersion != oldKey.Version || !strings.Contains(f.Reason, "does not authenticate") {
			t.Errorf("run %d: damaged row reported as %+v", run, f)
		}
		if f := failed[orphan]; f.KeyVersion != lostKey.Version || !strings.Contains(f.Reason, "unknown key version") {
			t.Errorf("run %d: orphaned row reported as %+v", run, f)
		}
	}
	if got := versionCounts(t); got[newKey.Version] != 19 || got[oldKey.Version] != 1 || got[lostKey.Version] != 1 {
		t.Fatalf("rows per version %v", got)
	}
	n := 0
	for up, k := range want {
		if got, _, _, err := keys.Reveal(ctx, up[0], up[1]); err == nil {
			if got != k {
				t.Fatalf("Reveal(%v) returned another key", up)
			}
			n++
		}
	}
	if n != 19 {
		t.Fatalf("%d keys reveal, want the 19 undamaged ones", n)
	}
}
