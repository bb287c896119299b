// Package keyring seals users' LLM API keys (and derives keys for other subsystems, such
// as the Temporal payload codec) under the operator's master key.
//
// # Envelope
//
// Every value is sealed with AES-256-GCM under the current master key, with a fresh
// random 12-byte nonce and additional data that binds the ciphertext to where it is
// stored (AAD(userID, provider) for user_api_keys): a ciphertext copied onto another
// user's row does not open. A Sealed value names the key version that sealed it, so
// Open picks the right key after a rotation.
//
// # Key versions
//
// A key's version is derived from the key itself, so replicas agree on it without any
// bookkeeping and an operator never numbers keys by hand: the first 4 bytes of
// SHA-256(raw 32-byte key), read big-endian, with the top bit cleared (a positive int32,
// which fits user_api_keys.key_version). Version 0 is reserved for "no user key" (the
// operator's system key in activities.KeyHandle), so a key that would hash to 0 gets 1.
// To see a hex key's version from a shell:
//
//	echo $(( 0x$(printf %s "$APP_MASTER_KEY" | xxd -r -p | sha256sum | cut -c1-8) & 0x7fffffff ))
//
// Two different keys with the same version (a 1 in 2^31 chance) are refused by New.
//
// # Configuration and rotation
//
// APP_MASTER_KEY holds the current key: 32 random bytes as 64 hex characters (the form
// `openssl rand -hex 32` prints) or as base64 (standard or URL alphabet, padded or not).
// APP_MASTER_KEY_PREVIOUS optionally holds older keys (comma- or space-separated), used
// only to open what they sealed. To rotate: move the current key to
// APP_MASTER_KEY_PREVIOUS, set a new APP_MASTER_KEY, restart, and re-seal stored keys
// (store.APIKeys.Rotate); once that reports nothing left and no Temporal history sealed
// under the old key is still needed, drop the old key.
//
// No error, String, GoString, %v, JSON or slog rendering of any type here reveals a secret.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/hkdf"
)

// KeySize is the length of a master key and of every derived key: AES-256.
const KeySize = 32

// NonceSize is the GCM nonce length; every Seal draws a fresh random one.
const NonceSize = 12

// Errors Open returns, for errors.Is.
var (
	// ErrUnknownVersion: the ciphertext names a key version this keyring does not hold.
	ErrUnknownVersion = errors.New("unknown key version")
	// ErrDecrypt: the ciphertext does not authenticate (tampered, truncated, or sealed
	// with other additional data, e.g. for another row).
	ErrDecrypt = errors.New("ciphertext does not authenticate")
)

// Key is one master key and the version derived from it. Its formatting never shows
// the secret (fmt cannot call Format through an unexported struct field, so keep Keys
// in a Keyring rather than in private fields of other structs).
type Key struct {
	Version int
	Secret  []byte
}

// NewKey checks a raw 32-byte secret and derives its version (see the package doc).
func NewKey(secret []byte) (Key, error) {
	if len(secret) != KeySize {
		return Key{}, fmt.Errorf("keyring: master key has the wrong length: got %d bytes, want %d", len(secret), KeySize)
	}
	return Key{Version: VersionOf(secret), Secret: slices.Clone(secret)}, nil
}

// VersionOf derives the version of a raw key: the first 4 bytes of its SHA-256,
// big-endian, top bit cleared; 0 (reserved for "no user key") becomes 1.
func VersionOf(secret []byte) int {
	sum := sha256.Sum256(secret)
	v := int(binary.BigEndian.Uint32(sum[:4]) & 0x7fffffff)
	if v == 0 {
		v = 1
	}
	return v
}

// Sealed is a ciphertext and what Open needs besides the additional data: the nonce and
// the version of the key that sealed it.
type Sealed struct {
	Version    int
	Nonce      []byte
	Ciphertext []byte
}

// Keyring holds the current master key, which seals, and older ones, which only open.
// It is safe for concurrent use.
type Keyring struct {
	current int
	order   []int                  // current first, then older keys in the order given
	secrets map[int]*[KeySize]byte // pointers: fmt prints an address, never the bytes
	aeads   map[int]cipher.AEAD
}

// New builds a keyring that seals under current and opens what current or any older key
// sealed. The secrets are copied. A Version of 0 is filled in from the secret; a
// non-zero Version must match the one derived from the secret. The same key given twice
// is accepted once; two different keys sharing a version are refused.
func New(current Key, older ...Key) (*Keyring, error) {
	kr := &Keyring{secrets: map[int]*[KeySize]byte{}, aeads: map[int]cipher.AEAD{}}
	for i, k := range append([]Key{current}, older...) {
		what := "current key"
		if i > 0 {
			what = fmt.Sprintf("older key %d", i)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("keyring: %s has the wrong length: got %d bytes, want %d", what, len(k.Secret), KeySize)
		}
		v := VersionOf(k.Secret)
		if k.Version != 0 && k.Version != v {
			return nil, fmt.Errorf("keyring: %s says version %d but its secret derives version %d", what, k.Version, v)
		}
		if have, ok := kr.secrets[v]; ok {
			if string(have[:]) == string(k.Secret) {
				continue // the same key twice, e.g. APP_MASTER_KEY repeated in _PREVIOUS
			}
			return nil, fmt.Errorf("keyring: %s and an earlier key share version %d; generate a new key", what, v)
		}
		secret := new([KeySize]byte)
		copy(secret[:], k.Secret)
		aead, err := newAEAD(secret[:])
		if err != nil {
			return nil, fmt.Errorf("keyring: %s: %w", what, err)
		}
		kr.secrets[v] = secret
		kr.aeads[v] = aead
		kr.order = append(kr.order, v)
		if i == 0 {
			kr.current = v
		}
	}
	return kr, nil
}

func newAEAD(secret []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// CurrentVersion is the version Seal uses.
func (k *Keyring) CurrentVersion() int { return k.current }

// Versions lists every version the keyring opens, current first.
func (k *Keyring) Versions() []int { return slices.Clone(k.order) }

// Seal encrypts plaintext under the current key with a fresh random nonce; aad must be
// given again, byte for byte, to Open.
func (k *Keyring) Seal(plaintext, aad []byte) (Sealed, error) {
	nonce := make([]byte, NonceSize)
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return Sealed{}, fmt.Errorf("keyring: read random nonce: %w", err)
	}
	ct := k.aeads[k.current].Seal(nil, nonce, plaintext, aad)
	return Sealed{Version: k.current, Nonce: nonce, Ciphertext: ct}, nil
}

// Open decrypts s with the key version it names. Errors wrap ErrUnknownVersion or
// ErrDecrypt and never carry key material or plaintext.
func (k *Keyring) Open(s Sealed, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[s.Version]
	if !ok {
		return nil, fmt.Errorf("keyring: %w %d (this keyring holds %s): was the key that sealed it dropped from APP_MASTER_KEY_PREVIOUS?",
			ErrUnknownVersion, s.Version, versionList(k.order))
	}
	if len(s.Nonce) != NonceSize {
		return nil, fmt.Errorf("keyring: %w: nonce is %d bytes, want %d", ErrDecrypt, len(s.Nonce), NonceSize)
	}
	pt, err := aead.Open(nil, s.Nonce, s.Ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w under key version %d (tampered, or sealed for another row)", ErrDecrypt, s.Version)
	}
	return pt, nil
}

// DeriveKey gives another subsystem a KeySize key of its own, bound to info (e.g.
// "temporal-payload-codec/v1"), by HKDF-SHA256 from the current master key. Different
// info strings give independent keys; the master key itself never leaves the keyring.
func (k *Keyring) DeriveKey(info string) []byte {
	out, _ := k.DeriveKeyFor(k.current, info) // the current version is always present
	return out
}

// DeriveKeyFor is DeriveKey from the master key of the given version, so a subsystem can
// still read what it sealed under a key that has since been rotated out of "current".
func (k *Keyring) DeriveKeyFor(version int, info string) ([]byte, error) {
	secret, ok := k.secrets[version]
	if !ok {
		return nil, fmt.Errorf("keyring: %w %d (this keyring holds %s)", ErrUnknownVersion, version, versionList(k.order))
	}
	out := make([]byte, KeySize)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret[:], nil, []byte(info)), out); err != nil {
		return nil, fmt.Errorf("keyring: derive key: %w", err)
	}
	return out, nil
}

// AAD is the additional data that binds a user's API key ciphertext to its row, so a
// ciphertext moved to another user or provider fails to open. Fields are length-prefixed
// so no two (userID, provider) pairs produce the same bytes.
func AAD(userID, provider string) []byte {
	const label = "tzurot/user_api_keys/v1"
	b := make([]byte, 0, len(label)+len(userID)+len(provider)+2*binary.MaxVarintLen64)
	b = append(b, label...)
	b = binary.AppendUvarint(b, uint64(len(userID)))
	b = append(b, userID...)
	b = binary.AppendUvarint(b, uint64(len(provider)))
	b = append(b, provider...)
	return b
}

func versionList(vs []int) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.Itoa(v)
	}
	return "versions " + strings.Join(parts, ", ")
}
