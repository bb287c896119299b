package keyring_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/store/keyring"
)

func TestParseMasterKey(t *testing.T) {
	raw := secret(0xf0) // bytes that make base64 use '+' '/' (std) or '-' '_' (url)
	hexKey := hex.EncodeToString(raw)
	tests := []struct {
		name    string
		in      string
		wantErr string // empty: want raw back
	}{
		{"hex", hexKey, ""},
		{"upper-case hex", strings.ToUpper(hexKey), ""},
		{"hex with a trailing newline", hexKey + "\n", ""},
		{"hex with spaces around", "  " + hexKey + "\t", ""},
		{"std base64", base64.StdEncoding.EncodeToString(raw), ""},
		{"std base64 without padding", base64.RawStdEncoding.EncodeToString(raw), ""},
		{"url base64", base64.URLEncoding.EncodeToString(raw), ""},
		{"url base64 without padding", base64.RawURLEncoding.EncodeToString(raw), ""},

		{"empty", "", "master key is empty"},
		{"blank", " \n", "master key is empty"},
		{"16 bytes of hex", hexKey[:32], "wrong length: got 16 bytes (32 hex characters)"},
		{"33 bytes of hex", hexKey + "00", "wrong length: got 33 bytes (66 hex characters)"},
		{"hex missing one digit", hexKey[:63], "odd number of characters (63)"},
		{"16 bytes of base64", base64.StdEncoding.EncodeToString(raw[:16]), "wrong length: got 16 bytes (base64)"},
		{"48 bytes of base64", base64.StdEncoding.EncodeToString(append(raw, raw[:16]...)), "wrong length, got 48 bytes"},
		{"a passphrase", "correct horse battery staple", "neither hex nor base64"},
		{"mixed alphabets", base64.StdEncoding.EncodeToString(raw)[:20] + "-_" + base64.StdEncoding.EncodeToString(raw)[22:], "neither hex nor base64"},
		{"hex with a stray letter", hexKey[:62] + "zz", "character 63 is not a hex digit"},
		{"64 characters of punctuation", strings.Repeat("!", 64), "character 1 is not a hex digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keyring.ParseMasterKey(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, raw) {
					t.Fatalf("parsed %x, want %x", got, raw)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %q as %x", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q, want it to contain %q", err, tt.wantErr)
			}
			if in := strings.TrimSpace(tt.in); len(in) >= 8 && strings.Contains(err.Error(), in) {
				t.Fatalf("error echoes the key: %q", err)
			}
		})
	}
}

func FuzzParseMasterKey(f *testing.F) {
	raw := secret(0xf0)
	for _, s := range []string{
		hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw),
		"", "  ", "zz", hex.EncodeToString(raw)[:63], strings.Repeat("a", 43), strings.Repeat("A", 44), "====",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := keyring.ParseMasterKey(s)
		if err != nil {
			if got != nil {
				t.Fatalf("error %v with a key", err)
			}
			// A key has no spaces; 16 space-free characters cannot match the prose of a
			// message by chance, so finding them there means the input was echoed.
			if in := strings.TrimSpace(s); len(in) >= 16 && !strings.ContainsAny(in, " \t\n\r") && strings.Contains(err.Error(), in) {
				t.Fatalf("error echoes the input: %q", err)
			}
			return
		}
		if len(got) != keyring.KeySize {
			t.Fatalf("accepted a %d-byte key", len(got))
		}
		// Whatever was accepted is the same key as its canonical hex form.
		again, err := keyring.ParseMasterKey(hex.EncodeToString(got))
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("hex round trip: %x, %v", again, err)
		}
	})
}

func TestFromEnv(t *testing.T) {
	k1, k2, k3 := secret(1), secret(2), secret(3)
	h := hex.EncodeToString
	tests := []struct {
		name         string
		current      string
		previous     string
		wantErr      []string
		wantVersions []int
	}{
		{"current only", h(k1), "", nil, []int{keyring.VersionOf(k1)}},
		{"with previous keys", h(k1), h(k2) + ", " + base64.StdEncoding.EncodeToString(k3), nil,
			[]int{keyring.VersionOf(k1), keyring.VersionOf(k2), keyring.VersionOf(k3)}},
		{"previous repeats current", h(k1), h(k1), nil, []int{keyring.VersionOf(k1)}},
		{"missing", "", h(k2), []string{"APP_MASTER_KEY is not set", "openssl rand -hex 32"}, nil},
		{"malformed", "not-a-key", "", []string{"APP_MASTER_KEY:", "neither hex nor base64", "openssl rand -hex 32"}, nil},
		{"too short", h(k1[:20]), "", []string{"APP_MASTER_KEY:", "got 20 bytes", "openssl rand -hex 32"}, nil},
		{"malformed previous", h(k1), h(k2) + "," + h(k3[:8]), []string{"APP_MASTER_KEY_PREVIOUS (key 2 of 2)", "got 8 bytes"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := keyring.FromEnv(tt.current, tt.previous)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("accepted")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q, want it to contain %q", err, w)
					}
				}
				for _, k := range [][]byte{k1, k2, k3} {
					if strings.Contains(err.Error(), h(k)[:16]) {
						t.Errorf("error reveals a key: %q", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := kr.Versions(); fmt.Sprint(got) != fmt.Sprint(tt.wantVersions) {
				t.Fatalf("versions %v, want %v", got, tt.wantVersions)
			}
		})
	}
}

// TestFormattingNeverRevealsASecret renders every type every way a secret could leak.
func TestFormattingNeverRevealsASecret(t *testing.T) {
	raw := secret(0xa0)
	key, _ := keyring.NewKey(raw)
	kr := mustRing(t, key, mustKey(t, 1))
	sealed, _ := kr.Seal([]byte("plaintext"), nil)
	type holder struct {
		K  keyring.Key
		kr keyring.Keyring // unexported: fmt prints it by reflection, without Format
	}
	values := map[string]any{
		"Key": key, "*Key": &key, "[]Key": []keyring.Key{key}, "*Keyring": kr, "Keyring": *kr,
		"Sealed": sealed, "struct holding them": holder{key, *kr}, "map": map[string]keyring.Key{"k": key},
	}
	forbidden := []string{
		hex.EncodeToString(raw)[:16], strings.ToUpper(hex.EncodeToString(raw)[:16]),
		base64.StdEncoding.EncodeToString(raw)[:16], base64.RawURLEncoding.EncodeToString(raw)[:16],
		fmt.Sprint(raw[:6])[1:], // "160 161 162..." as []byte prints
		string(raw[:8]),
	}
	for name, v := range values {
		var out []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		if j, err := json.Marshal(v); err == nil {
			out = append(out, string(j))
		}
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "v", v)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "v", v)
		out = append(out, buf.String())
		for _, o := range out {
			for _, f := range forbidden {
				if strings.Contains(o, f) {
					t.Errorf("%s renders the secret: %s", name, o)
				}
			}
		}
	}
	if got, want := fmt.Sprintf("%v", key), fmt.Sprintf("Key{Version: %d, Secret: [redacted]}", key.Version); got != want {
		t.Errorf("Key prints %q, want %q", got, want)
	}
}
