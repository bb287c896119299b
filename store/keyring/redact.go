package keyring

import (
	"fmt"
	"io"
	"log/slog"
)

// String shows the version only.
func (k Key) String() string {
	return fmt.Sprintf("Key{Version: %d, Secret: [redacted]}", k.Version)
}

// GoString keeps %#v from printing the secret.
func (k Key) GoString() string { return k.String() }

// Format routes every verb (%v, %+v, %#v, %s, %x, %q...) to String.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// MarshalJSON keeps the secret out of JSON (a config dump, a debug endpoint).
func (k Key) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"Version":%d,"Secret":"[redacted]"}`, k.Version), nil
}

// LogValue keeps the secret out of slog.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("version", k.Version), slog.String("secret", "[redacted]"))
}

// String shows the sizes, not the bytes: a ciphertext is not secret, but it is noise.
func (s Sealed) String() string {
	return fmt.Sprintf("Sealed{Version: %d, Nonce: %d bytes, Ciphertext: %d bytes}", s.Version, len(s.Nonce), len(s.Ciphertext))
}

// GoString is String.
func (s Sealed) GoString() string { return s.String() }

// Format routes every verb to String.
func (s Sealed) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// String shows the versions the keyring holds, never a key. The formatting methods have
// value receivers so that a dereferenced Keyring prints safely too.
func (k Keyring) String() string {
	return fmt.Sprintf("Keyring{Current: %d, Versions: %v}", k.current, k.order)
}

// GoString keeps %#v from dumping the key maps.
func (k Keyring) GoString() string { return k.String() }

// Format routes every verb to String.
func (k Keyring) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue keeps the keys out of slog.
func (k Keyring) LogValue() slog.Value { return slog.StringValue(k.String()) }
