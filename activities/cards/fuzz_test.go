package cards

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse feeds Parse arbitrary bytes, seeded with every fixture. Parse must never panic
// and must fail only with a *ParseError; whatever it accepts must export and read back
// as the same card, as JSON and as PNG. The zip seeds are 30 KB, and Go minimises each
// new input for up to a minute by default (the run shows 0 execs/sec meanwhile): pass
// -fuzzminimizetime=2s to keep exploring.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		if filepath.Base(name) == "large.png" {
			continue // 650 KB slows every fuzz iteration that mutates it; both.png covers PNG
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, filepath.Base(name))
	}
	f.Fuzz(func(t *testing.T, data []byte, filename string) {
		c, err := Parse(data, filename)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse returned a %T, not a *ParseError: %v", err, err)
			}
			return
		}
		want := withoutOrigin(c)
		js, err := ExportJSON(c)
		if err != nil {
			t.Fatalf("ExportJSON: %v", err)
		}
		pngOut, err := ExportPNG(c, nil)
		if err != nil {
			t.Fatalf("ExportPNG: %v", err)
		}
		for name, out := range map[string][]byte{"json": js, "png": pngOut} {
			back, err := Parse(out, "")
			if err != nil {
				t.Fatalf("%s: Parse(export) = %v", name, err)
			}
			if got := withoutOrigin(back); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s round trip differs:\n got %+v\nwant %+v", name, got, want)
			}
		}
	})
}
