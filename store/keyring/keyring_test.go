package keyring_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"sync"
	"testing"

	"github.com/tzurot/tzurot/store/keyring"
)

// secret returns a deterministic 32-byte key: fill, fill+1, ...
func secret(fill byte) []byte {
	b := make([]byte, keyring.KeySize)
	for i := range b {
		b[i] = fill + byte(i)
	}
	return b
}

func mustKey(t testing.TB, fill byte) keyring.Key {
	t.Helper()
	k, err := keyring.NewKey(secret(fill))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRing(t testing.TB, current keyring.Key, older ...keyring.Key) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.New(current, older...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// TestVersionOfIsPinned guards the derivation: changing it would orphan every stored key.
func TestVersionOfIsPinned(t *testing.T) {
	tests := []struct {
		hex  string
		want int
	}{
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1661848873}, // sha256 prefix 630dcd29
		{"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 798364534},  // af961376, top bit cleared
	}
	for _, tt := range tests {
		raw, _ := hex.DecodeString(tt.hex)
		if got := keyring.VersionOf(raw); got != tt.want {
			t.Errorf("VersionOf(%s...) = %d, want %d", tt.hex[:8], got, tt.want)
		}
		k, err := keyring.NewKey(raw)
		if err != nil || k.Version != tt.want {
			t.Errorf("NewKey: version %d, err %v; want %d", k.Version, err, tt.want)
		}
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	kr := mustRing(t, mustKey(t, 1))
	aad := keyring.AAD("user-1", "openrouter")
	tests := []struct {
		name      string
		plaintext []byte
	}{
		{"api key", []byte("sk-or-v1-0123456-89abcde-0123456-89abcde-0123456-89abcde-01234567")},
		{"empty", []byte{}},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe}},
		{"large", bytes.Repeat([]byte("x"), 1<<16)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := kr.Seal(tt.plaintext, aad)
			if err != nil {
				t.Fatal(err)
			}
			if s.Version != kr.CurrentVersion() || len(s.Nonce) != keyring.NonceSize {
				t.Fatalf("sealed %v, want version %d and a %d-byte nonce", s, kr.CurrentVersion(), keyring.NonceSize)
			}
			if len(tt.plaintext) >= 8 && bytes.Contains(s.Ciphertext, tt.plaintext[:8]) {
				t.Fatal("ciphertext contains the plaintext")
			}
			got, err := kr.Open(s, aad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Fatalf("opened %d bytes, want the %d sealed", len(got), len(tt.plaintext))
			}
		})
	}
}

func TestSealUsesAFreshNonce(t *testing.T) {
	kr := mustRing(t, mustKey(t, 1))
	seen := map[string]bool{}
	for range 100 {
		s, err := kr.Seal([]byte("same"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(s.Nonce)] {
			t.Fatal("a nonce repeated")
		}
		seen[string(s.Nonce)] = true
	}
}

func TestOpenRefuses(t *testing.T) {
	kr := mustRing(t, mustKey(t, 1))
	aad := keyring.AAD("user-1", "openrouter")
	good, err := kr.Seal([]byte("sk-secret-value"), aad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 1; return c }
	tests := []struct {
		name string
		s    keyring.Sealed
		aad  []byte
		want error
	}{
		{"ciphertext bit flipped", keyring.Sealed{Version: good.Version, Nonce: good.Nonce, Ciphertext: flip(good.Ciphertext, 0)}, aad, keyring.ErrDecrypt},
		{"tag bit flipped", keyring.Sealed{Version: good.Version, Nonce: good.Nonce, Ciphertext: flip(good.Ciphertext, len(good.Ciphertext)-1)}, aad, keyring.ErrDecrypt},
		{"nonce bit flipped", keyring.Sealed{Version: good.Version, Nonce: flip(good.Nonce, 3), Ciphertext: good.Ciphertext}, aad, keyring.ErrDecrypt},
		{"truncated", keyring.Sealed{Version: good.Version, Nonce: good.Nonce, Ciphertext: good.Ciphertext[:5]}, aad, keyring.ErrDecrypt},
		{"short nonce", keyring.Sealed{Version: good.Version, Nonce: good.Nonce[:8], Ciphertext: good.Ciphertext}, aad, keyring.ErrDecrypt},
		{"another user's row", good, keyring.AAD("user-2", "openrouter"), keyring.ErrDecrypt},
		{"another provider", good, keyring.AAD("user-1", "openai"), keyring.ErrDecrypt},
		{"no aad", good, nil, keyring.ErrDecrypt},
		{"unknown version", keyring.Sealed{Version: good.Version + 1, Nonce: good.Nonce, Ciphertext: good.Ciphertext}, aad, keyring.ErrUnknownVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := kr.Open(tt.s, tt.aad)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %q, %v; want %v", pt, err, tt.want)
			}
			if bytes.Contains([]byte(err.Error()), []byte("sk-secret")) {
				t.Fatalf("error reveals the plaintext: %v", err)
			}
		})
	}
}

func TestAADSeparatesFields(t *testing.T) {
	pairs := [][2]string{{"ab", "c"}, {"a", "bc"}, {"abc", ""}, {"", "abc"}}
	seen := map[string][2]string{}
	for _, p := range pairs {
		a := string(keyring.AAD(p[0], p[1]))
		if other, dup := seen[a]; dup {
			t.Fatalf("AAD%v == AAD%v", p, other)
		}
		seen[a] = p
	}
	if !bytes.Equal(keyring.AAD("u", "p"), keyring.AAD("u", "p")) {
		t.Fatal("AAD is not deterministic")
	}
}

func TestRotationOpensOldAndSealsNew(t *testing.T) {
	oldKey, newKey := mustKey(t, 1), mustKey(t, 100)
	before := mustRing(t, oldKey)
	after := mustRing(t, newKey, oldKey)
	aad := keyring.AAD("u", "p")

	old, err := before.Seal([]byte("sealed before rotation"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := after.Open(old, aad); err != nil || string(got) != "sealed before rotation" {
		t.Fatalf("rotated keyring cannot open an old ciphertext: %q, %v", got, err)
	}
	fresh, err := after.Seal([]byte("sealed after"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Version != newKey.Version || after.CurrentVersion() != newKey.Version {
		t.Fatalf("sealed under %d, current %d; want the new key's %d", fresh.Version, after.CurrentVersion(), newKey.Version)
	}
	if _, err := before.Open(fresh, aad); !errors.Is(err, keyring.ErrUnknownVersion) {
		t.Fatalf("old keyring opening a new ciphertext: %v, want ErrUnknownVersion", err)
	}
	if got := after.Versions(); len(got) != 2 || got[0] != newKey.Version || got[1] != oldKey.Version {
		t.Fatalf("Versions() = %v, want [%d %d]", got, newKey.Version, oldKey.Version)
	}
}

func TestNew(t *testing.T) {
	k1, k2 := mustKey(t, 1), mustKey(t, 2)
	tests := []struct {
		name     string
		current  keyring.Key
		older    []keyring.Key
		wantErr  string
		versions int
	}{
		{"one key", k1, nil, "", 1},
		{"version filled from the secret", keyring.Key{Secret: secret(1)}, nil, "", 1},
		{"same key twice counts once", k1, []keyring.Key{k1, k2}, "", 2},
		{"short secret", keyring.Key{Secret: []byte("short")}, nil, "current key has the wrong length: got 5 bytes", 0},
		{"short older secret", k1, []keyring.Key{{Secret: make([]byte, 16)}}, "older key 1 has the wrong length: got 16 bytes", 0},
		{"wrong version", keyring.Key{Version: 7, Secret: secret(1)}, nil, "says version 7", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := keyring.New(tt.current, tt.older...)
			if tt.wantErr != "" {
				if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.wantErr)) {
					t.Fatalf("New error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(kr.Versions()); n != tt.versions {
				t.Fatalf("%d versions, want %d", n, tt.versions)
			}
			if kr.CurrentVersion() != k1.Version {
				t.Fatalf("current %d, want %d", kr.CurrentVersion(), k1.Version)
			}
		})
	}
}

func TestNewCopiesSecrets(t *testing.T) {
	raw := secret(1)
	kr := mustRing(t, keyring.Key{Secret: raw})
	s, err := kr.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	clear(raw) // the caller wipes its copy
	if _, err := kr.Open(s, nil); err != nil {
		t.Fatalf("keyring depended on the caller's slice: %v", err)
	}
}

func TestDeriveKey(t *testing.T) {
	oldKey, newKey := mustKey(t, 1), mustKey(t, 100)
	before, after := mustRing(t, oldKey), mustRing(t, newKey, oldKey)
	codec := before.DeriveKey("temporal-payload-codec/v1")
	if len(codec) != keyring.KeySize {
		t.Fatalf("derived %d bytes, want %d", len(codec), keyring.KeySize)
	}
	if !bytes.Equal(codec, mustRing(t, oldKey).DeriveKey("temporal-payload-codec/v1")) {
		t.Fatal("DeriveKey is not deterministic")
	}
	if bytes.Equal(codec, before.DeriveKey("other/v1")) {
		t.Fatal("different info gave the same key")
	}
	if bytes.Equal(codec, secret(1)) {
		t.Fatal("derived key is the master key")
	}
	if bytes.Equal(codec, after.DeriveKey("temporal-payload-codec/v1")) {
		t.Fatal("rotation did not change the derived key")
	}
	old, err := after.DeriveKeyFor(oldKey.Version, "temporal-payload-codec/v1")
	if err != nil || !bytes.Equal(old, codec) {
		t.Fatalf("DeriveKeyFor(old) = %v; want the key derived before rotation", err)
	}
	if _, err := after.DeriveKeyFor(12345, "x"); !errors.Is(err, keyring.ErrUnknownVersion) {
		t.Fatalf("DeriveKeyFor(unknown) = %v, want ErrUnknownVersion", err)
	}
}

func TestConcurrentSealOpen(t *testing.T) {
	kr := mustRing(t, mustKey(t, 1), mustKey(t, 2))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			aad := keyring.AAD("u", string(rune('a'+g)))
			for range 200 {
				s, err := kr.Seal([]byte("k"), aad)
				if err == nil {
					_, err = kr.Open(s, aad)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

var benchKey = []byte("sk-or-v1-0123456-89abcde-0123456-89abcde-0123456-89abcde-0123456") // 64 bytes

func BenchmarkSeal(b *testing.B) {
	kr := mustRing(b, mustKey(b, 1))
	aad := keyring.AAD("00000000-0000-0000-0000-000000000001", "openrouter")
	b.SetBytes(int64(len(benchKey)))
	for b.Loop() {
		if _, err := kr.Seal(benchKey, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	kr := mustRing(b, mustKey(b, 1))
	aad := keyring.AAD("00000000-0000-0000-0000-000000000001", "openrouter")
	s, err := kr.Seal(benchKey, aad)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchKey)))
	for b.Loop() {
		if _, err := kr.Open(s, aad); err != nil {
			b.Fatal(err)
		}
	}
}
