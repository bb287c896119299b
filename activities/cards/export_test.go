package cards

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"reflect"
	"strings"
	"testing"
)

var goodFixtures = []string{"v1.json", "v2.json", "v3.json", "book.json", "both.png", "chara_only.png", "itxt.png", "card.charx", "large.png"}

// assertRoundTrip checks Parse(Export(card)) == card for both export forms, and that the
// V2 chunk alone also reads back to the same card.
func assertRoundTrip(t *testing.T, c *Card) {
	t.Helper()
	want := withoutOrigin(c)
	js, err := ExportJSON(c)
	if err != nil {
		t.Fatalf("ExportJSON: %v", err)
	}
	pngOut, err := ExportPNG(c, nil)
	if err != nil {
		t.Fatalf("ExportPNG: %v", err)
	}
	v2, err := encodeCard(c, SpecV2)
	if err != nil {
		t.Fatalf("V2: %v", err)
	}
	for name, data := range map[string][]byte{"json": js, "png": pngOut, "v2 json": v2} {
		got, err := Parse(data, "")
		if err != nil {
			t.Fatalf("%s: Parse(export) = %v\n%s", name, err, data)
		}
		if g := withoutOrigin(got); !reflect.DeepEqual(g, want) {
			t.Errorf("%s round trip differs:\n got %+v\nwant %+v", name, g, want)
		}
	}
}

func withoutOrigin(c *Card) Card {
	cp := *c
	cp.Origin = Origin{}
	return cp
}

func TestRoundTripFixtures(t *testing.T) {
	for _, f := range goodFixtures {
		t.Run(f, func(t *testing.T) {
			c, err := Parse(readFixture(t, f), f)
			if err != nil {
				t.Fatal(err)
			}
			assertRoundTrip(t, c)
		})
	}
}

func TestExportPNGIntoCardPNG(t *testing.T) {
	src := readFixture(t, "chara_only.png")
	c, err := Parse(readFixture(t, "v3.json"), "v3.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := ExportPNG(c, src)
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := readChunks(out, "PNG")
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, ch := range chunks {
		if tc, err := decodeText(ch); err == nil {
			count[tc.keyword]++
		}
	}
	want := map[string]int{"chara": 1, "ccv3": 1, "Title": 1, "Author": 1, "Description": 1, "Comment": 1}
	if !reflect.DeepEqual(count, want) {
		t.Errorf("text chunks = %v, want %v (old card replaced, others kept)", count, want)
	}
	if _, err := png.Decode(bytes.NewReader(out)); err != nil {
		t.Errorf("the exported PNG no longer decodes: %v", err)
	}
	got, err := Parse(out, "out.png")
	if err != nil || got.Name != "Lilith" || got.Origin.Chunk != "ccv3" {
		t.Fatalf("Parse(export) = %v, %v", got, err)
	}
}

func TestExportV2ChunkIsV2(t *testing.T) {
	c, err := Parse(readFixture(t, "v3.json"), "v3.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := ExportPNG(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	chunks, _ := readChunks(out, "PNG")
	for _, ch := range chunks {
		tc, err := decodeText(ch)
		if err != nil {
			continue
		}
		js, _ := base64.StdEncoding.DecodeString(string(tc.text))
		o, _ := decodeObject(js)
		switch tc.keyword {
		case "chara":
			if stringValue(o["spec"]) != SpecV2 || stringValue(o["spec_version"]) != "2.0" || stringValue(o["name"]) != "Lilith" {
				t.Errorf("chara chunk: spec %s, top-level name %s", o["spec"], o["name"])
			}
		case "ccv3":
			if stringValue(o["spec"]) != SpecV3 || o["name"] != nil {
				t.Errorf("ccv3 chunk: spec %s, top-level name %s", o["spec"], o["name"])
			}
		}
	}
	if !bytes.Contains(mustJSON(t, c), []byte("<START>")) {
		t.Error("export escapes < and > (\\u003c): cards should stay readable")
	}
}

func TestExportPNGAvatars(t *testing.T) {
	c := &Card{Name: "Avatar Test"}
	m := image.NewRGBA(image.Rect(0, 0, 20, 10))
	m.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, m, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		avatar []byte
		w, h   int
		err    string
	}{
		{"placeholder", nil, 256, 256, ""},
		{"png", testImage(t, 40, 30, 1), 40, 30, ""},
		{"jpeg converted", jpg.Bytes(), 20, 10, ""},
		{"not an image", []byte("hello"), 0, 0, "the avatar must be a PNG, JPEG or GIF image"},
		{"truncated png", testImage(t, 40, 30, 1)[:60], 0, 0, "the avatar PNG is truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ExportPNG(c, tt.avatar)
			if tt.err != "" {
				var pe *ParseError
				if !errors.As(err, &pe) || !strings.Contains(pe.Problem, tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(out))
			if err != nil || cfg.Width != tt.w || cfg.Height != tt.h {
				t.Fatalf("image %dx%d (%v), want %dx%d", cfg.Width, cfg.Height, err, tt.w, tt.h)
			}
			if got, err := Parse(out, "x.png"); err != nil || got.Name != c.Name {
				t.Fatalf("Parse = %v, %v", got, err)
			}
		})
	}
}

func TestPlaceholderDiffersByName(t *testing.T) {
	a, _ := placeholderPNG("Lilith")
	b, _ := placeholderPNG("Seraphina")
	a2, _ := placeholderPNG("Lilith")
	if bytes.Equal(a, b) || !bytes.Equal(a, a2) {
		t.Error("placeholders should be stable per name and differ between names")
	}
}

func TestExportRejectsInvalidRaw(t *testing.T) {
	c := &Card{Name: "x", Extensions: map[string]json.RawMessage{"bad": json.RawMessage("{not json")}}
	if _, err := ExportJSON(c); err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Fatalf("ExportJSON = %v, want an error naming the key", err)
	}
}

func mustJSON(t *testing.T, c *Card) []byte {
	t.Helper()
	b, err := ExportJSON(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
