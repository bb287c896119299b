package preset

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse: whatever a user types, Parse answers with a value or a *FieldError and
// never panics; an accepted value validates, prints back to itself, survives
// Export/Import exactly, and applies for every provider.
func FuzzParse(f *testing.F) {
	for name, v := range testValues {
		f.Add(name, Format(name, v))
	}
	for _, seed := range [][2]string{
		{"temperature", "3.5"}, {"temperature", "NaN"}, {"temperature", "-0"}, {"temperature", "0x1p-2"},
		{"seed", "9007199254740992"}, {"seed", "-9007199254740991"}, {"top_k", "1e3"},
		{"stop", `["a", " b,c "]`}, {"stop", `\n, \\, \t`}, {"stop", ",,,"}, {"stop", `[`},
		{"model", "a\u00a0b"}, {"reasoning_effort", "MEDIUM"}, {"temprature", "1"}, {"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, name, text string) {
		v, err := Parse(name, text)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || err.Error() == "" {
				t.Fatalf("Parse(%q, %q): error %v is not a FieldError", name, text, err)
			}
			if _, known := Lookup(name); known == fe.Unknown || !fe.Unknown && !strings.HasPrefix(err.Error(), name+" must be ") {
				t.Fatalf("Parse(%q, %q): %v", name, text, err)
			}
			return
		}
		if err := Validate(Values{name: v}); err != nil {
			t.Fatalf("Parse(%q, %q) = %#v, which Validate rejects: %v", name, text, v, err)
		}
		formatted := Format(name, v)
		back, err := Parse(name, formatted)
		if err != nil || !reflect.DeepEqual(back, v) {
			t.Fatalf("Parse(%q, %q) = %#v; Format gives %q, which parses to %#v, %v", name, text, v, formatted, back, err)
		}
		b, err := Export("fuzz", Values{name: v})
		if err != nil {
			t.Fatalf("Export(%#v): %v", v, err)
		}
		if _, got, err := Import(b); err != nil || !reflect.DeepEqual(got, Values{name: v}) {
			t.Fatalf("round trip of %#v: %#v, %v\n%s", v, got, err, b)
		}
		for _, p := range []string{ProviderOpenRouter, ProviderOpenAICompatible} {
			if _, err := Apply(Merge(Values{"model": "m"}, Values{name: v}), p); err != nil {
				t.Fatalf("Apply %s=%#v for %s: %v", name, v, p, err)
			}
		}
	})
}
