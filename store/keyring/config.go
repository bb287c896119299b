package keyring

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Environment variables FromEnv's arguments come from; cmd binds its flags to them.
const (
	EnvCurrent  = "APP_MASTER_KEY"
	EnvPrevious = "APP_MASTER_KEY_PREVIOUS"
)

const generateHint = "generate one with `openssl rand -hex 32` and keep it safe: losing it makes every stored API key unreadable"

// ParseMasterKey reads a 32-byte master key written as 64 hex characters or as base64
// (standard or URL alphabet, with or without padding). Surrounding white space is
// ignored. Errors say why the key was refused and never repeat it.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("master key is empty")
	}
	if isHex(s) {
		if len(s)%2 == 0 {
			b, _ := hex.DecodeString(s) // cannot fail: even length, hex digits only
			if len(b) != KeySize {
				return nil, fmt.Errorf("master key has the wrong length: got %d bytes (%d hex characters), want %d bytes (%d hex characters)",
					len(b), len(s), KeySize, 2*KeySize)
			}
			return b, nil
		}
		// 43 characters of unpadded base64 may happen to be hex digits only.
		if b, err := decodeBase64(s); err == nil && len(b) == KeySize {
			return b, nil
		}
		return nil, fmt.Errorf("master key looks like hex but has an odd number of characters (%d): want %d hex characters (%d bytes)",
			len(s), 2*KeySize, KeySize)
	}
	b, err := decodeBase64(s)
	if len(s) == 2*KeySize && (err != nil || len(b) != KeySize) {
		// Most likely a hex key with a typo: say where, not what.
		why := fmt.Sprintf("master key has %d characters like a hex key, but character %d is not a hex digit", len(s), firstNonHex(s)+1)
		if err == nil {
			why += fmt.Sprintf(" (read as base64: wrong length, got %d bytes, want %d)", len(b), KeySize)
		}
		return nil, errors.New(why)
	}
	if err != nil {
		return nil, fmt.Errorf("master key is neither hex nor base64 (%d characters): want 64 hex characters or base64 of 32 bytes", len(s))
	}
	if len(b) != KeySize {
		return nil, fmt.Errorf("master key has the wrong length: got %d bytes (base64), want %d bytes", len(b), KeySize)
	}
	return b, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func firstNonHex(s string) int {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i : i+1]) {
			return i
		}
	}
	return -1
}

// decodeBase64 picks the alphabet from the characters used ('-' or '_' mean URL) and the
// padding from a trailing '='.
func decodeBase64(s string) ([]byte, error) {
	url := strings.ContainsAny(s, "-_")
	padded := strings.HasSuffix(s, "=")
	enc := base64.StdEncoding
	switch {
	case url && padded:
		enc = base64.URLEncoding
	case url:
		enc = base64.RawURLEncoding
	case !padded:
		enc = base64.RawStdEncoding
	}
	return enc.Strict().DecodeString(s)
}

// FromEnv builds the keyring from the values of APP_MASTER_KEY (current, required) and
// APP_MASTER_KEY_PREVIOUS (previous, optional: older keys separated by commas or white
// space, accepted only for opening). Errors name the variable and tell the operator how
// to generate a key; they never contain one.
func FromEnv(current, previous string) (*Keyring, error) {
	if strings.TrimSpace(current) == "" {
		return nil, fmt.Errorf("%s is not set: %s", EnvCurrent, generateHint)
	}
	secret, err := ParseMasterKey(current)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; %s", EnvCurrent, err, generateHint)
	}
	cur, _ := NewKey(secret) // ParseMasterKey guarantees the length
	var older []Key
	fields := strings.FieldsFunc(previous, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	for i, f := range fields {
		secret, err := ParseMasterKey(f)
		if err != nil {
			return nil, fmt.Errorf("%s (key %d of %d): %w", EnvPrevious, i+1, len(fields), err)
		}
		k, _ := NewKey(secret)
		older = append(older, k)
	}
	kr, err := New(cur, older...)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", EnvCurrent, EnvPrevious, err)
	}
	return kr, nil
}
