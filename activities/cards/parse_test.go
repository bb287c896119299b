package cards

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file                    string
		format, spec, chunk     string
		name, nickname          string
		descriptionPrefix       string
		greetings, bookEntries  int
		avatarExt               string
		unknown, unknownTop     []string
		creatorNotes, extension string
	}{
		{file: "v2.json", format: "json", spec: SpecV2, name: "Seraphina", descriptionPrefix: "{{char}} is a guardian",
			greetings: 2, unknownTop: []string{"avatar", "chat", "create_date", "creatorcomment", "fav", "tags", "talkativeness"},
			creatorNotes: "Works best with a gentle", extension: "depth_prompt"},
		{file: "v3.json", format: "json", spec: SpecV3, name: "Lilith", nickname: "Lili", descriptionPrefix: "{{char}} is a night-owl",
			greetings: 1, bookEntries: 2, unknown: []string{"x_future_field"}, unknownTop: []string{"x_top_level_note"},
			creatorNotes: "English notes.", extension: "risuai"},
		{file: "v1.json", format: "json", spec: SpecV1, name: "Aqua", descriptionPrefix: "Aqua is a goddess",
			unknownTop:   []string{"avatar", "chat", "create_date", "creatorcomment", "fav", "talkativeness"},
			creatorNotes: "An old V1 card from 2023."},
		{file: "book.json", format: "json", spec: SpecV2, name: "Captain Vex", descriptionPrefix: "{{char}} captains",
			bookEntries: 3, extension: "world"},
		{file: "both.png", format: "png", spec: SpecV3, chunk: "ccv3", name: "Lilith", nickname: "Lili",
			descriptionPrefix: "{{char}} is a night-owl", greetings: 1, bookEntries: 2, avatarExt: "png",
			unknown: []string{"x_future_field"}, unknownTop: []string{"x_top_level_note"}, creatorNotes: "English notes.", extension: "risuai"},
		{file: "chara_only.png", format: "png", spec: SpecV2, chunk: "chara", name: "Seraphina", descriptionPrefix: "{{char}} is a guardian",
			greetings: 2, avatarExt: "png", unknownTop: []string{"avatar", "chat", "create_date", "creatorcomment", "fav", "tags", "talkativeness"},
			creatorNotes: "Works best with a gentle", extension: "depth_prompt"},
		{file: "itxt.png", format: "png", spec: SpecV3, chunk: "ccv3", name: "Captain Vex", descriptionPrefix: "{{char}} captains",
			bookEntries: 3, avatarExt: "png", extension: "world"},
		{file: "card.charx", format: "charx", spec: SpecV3, name: "Lilith", nickname: "Lili", descriptionPrefix: "{{char}} is a night-owl",
			greetings: 1, bookEntries: 2, avatarExt: "png", unknown: []string{"x_future_field"}, unknownTop: []string{"x_top_level_note"},
			creatorNotes: "English notes.", extension: "risuai"},
		{file: "large.png", format: "png", spec: SpecV3, chunk: "ccv3", name: "Captain Vex", descriptionPrefix: "Captain Vex grew up",
			bookEntries: 18, avatarExt: "png", extension: "world"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := Parse(readFixture(t, tt.file), tt.file)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			o := c.Origin
			if o.Format != tt.format || o.Spec != tt.spec || o.Chunk != tt.chunk || o.AvatarExt != tt.avatarExt {
				t.Errorf("origin = %s/%s/%s/%s, want %s/%s/%s/%s", o.Format, o.Spec, o.Chunk, o.AvatarExt, tt.format, tt.spec, tt.chunk, tt.avatarExt)
			}
			if (len(o.Avatar) > 0) != (tt.avatarExt != "") {
				t.Errorf("avatar bytes = %d, want some: %v", len(o.Avatar), tt.avatarExt != "")
			}
			if c.Name != tt.name || c.Nickname != tt.nickname {
				t.Errorf("name = %q/%q, want %q/%q", c.Name, c.Nickname, tt.name, tt.nickname)
			}
			if !strings.HasPrefix(c.Description, tt.descriptionPrefix) {
				t.Errorf("description = %.40q, want prefix %q", c.Description, tt.descriptionPrefix)
			}
			if len(c.AlternateGreetings) != tt.greetings {
				t.Errorf("greetings = %d, want %d", len(c.AlternateGreetings), tt.greetings)
			}
			entries := 0
			if c.CharacterBook != nil {
				entries = len(c.CharacterBook.Entries)
			}
			if entries != tt.bookEntries {
				t.Errorf("book entries = %d, want %d", entries, tt.bookEntries)
			}
			if got := sortedKeys(c.Unknown); strings.Join(got, ",") != strings.Join(tt.unknown, ",") {
				t.Errorf("unknown = %v, want %v", got, tt.unknown)
			}
			if got := sortedKeys(c.UnknownTop); strings.Join(got, ",") != strings.Join(tt.unknownTop, ",") {
				t.Errorf("unknown top = %v, want %v", got, tt.unknownTop)
			}
			if !strings.HasPrefix(c.CreatorNotes, tt.creatorNotes) {
				t.Errorf("creator notes = %q, want prefix %q", c.CreatorNotes, tt.creatorNotes)
			}
			if _, ok := c.Extensions[tt.extension]; tt.extension != "" && !ok {
				t.Errorf("extensions %v lack %q", sortedKeys(c.Extensions), tt.extension)
			}
		})
	}
}

func TestParseV3Details(t *testing.T) {
	c, err := Parse(readFixture(t, "v3.json"), "v3.json")
	if err != nil {
		t.Fatal(err)
	}
	if c.CreationDate != "1717171717" || c.ModificationDate != "1727272727" {
		t.Errorf("dates = %q %q", c.CreationDate, c.ModificationDate)
	}
	if c.CreatorNotesMultilingual["ja"] != "日本語のメモ" || len(c.Source) != 2 || len(c.GroupOnlyGreetings) != 1 {
		t.Errorf("V3 fields: %v %v %v", c.CreatorNotesMultilingual, c.Source, c.GroupOnlyGreetings)
	}
	if len(c.Assets) != 3 || c.Assets[2].Name != "happy" || string(c.Assets[2].Unknown["x_risu_scale"]) != "1.5" {
		t.Errorf("assets = %+v", c.Assets)
	}
	e := c.CharacterBook.Entries[1]
	if e.IsEnabled() || e.UseRegex == nil || !*e.UseRegex || e.Position != "before_char" || e.InsertionOrder != "5" {
		t.Errorf("entry 2 = %+v", e)
	}
	if string(c.CharacterBook.Entries[0].ID) != `"entry-1"` || c.CharacterBook.ScanDepth != "8" {
		t.Errorf("book = %+v", c.CharacterBook)
	}
	if string(c.Extensions["risuai"]) != `{"utilityBot":false,"sdData":[["always","solo, 1girl"]]}` {
		t.Errorf("risuai extension not kept verbatim (compacted): %s", c.Extensions["risuai"])
	}
}

func TestParsePrefersV3Chunk(t *testing.T) {
	c, err := Parse(readFixture(t, "both.png"), "both.png")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Description, "OLD V2 TEXT") || c.Origin.Chunk != "ccv3" {
		t.Fatalf("the chara chunk won: %q (%s)", c.Description, c.Origin.Chunk)
	}
}

func TestParseDataWinsOverV1Leftovers(t *testing.T) {
	c, err := Parse(readFixture(t, "v2.json"), "v2.json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Description, "outdated") {
		t.Errorf("top-level description won over data: %q", c.Description)
	}
	// The top-level copy is dropped, the real V1 leftovers are kept.
	if _, ok := c.UnknownTop["description"]; ok {
		t.Error("the V1 duplicate of description is kept beside data")
	}
	if v, ok := c.Talkativeness(); !ok || v != 0.5 {
		t.Errorf("talkativeness = %v %v, want 0.5 from the string \"0.5\"", v, ok)
	}
	// A V2 card that lacks a field in data takes it from the top level.
	c, err = Parse([]byte(`{"spec":"chara_card_v2","name":"Top","description":"from the top","data":{"name":"Data"}}`), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Data" || c.Description != "from the top" {
		t.Errorf("got %q / %q", c.Name, c.Description)
	}
}

func TestParseV1(t *testing.T) {
	c, err := Parse(readFixture(t, "v1.json"), "v1.json")
	if err != nil {
		t.Fatal(err)
	}
	if c.FirstMes != "Hello! I am Aqua, the goddess you have been praying for!" || !strings.Contains(c.MesExample, "<BOT>") {
		t.Errorf("V1 fields: %q %q", c.FirstMes, c.MesExample)
	}
	if v, ok := c.Talkativeness(); !ok || v != 0.7 {
		t.Errorf("talkativeness = %v %v", v, ok)
	}
}

func TestParseBookEntryExtensions(t *testing.T) {
	c, err := Parse(readFixture(t, "book.json"), "book.json")
	if err != nil {
		t.Fatal(err)
	}
	b := c.CharacterBook
	if b.Extensions != nil || b.Name != "Shattered Sky" {
		t.Errorf("book = %q, extensions %v", b.Name, b.Extensions)
	}
	e := b.Entries[0]
	if len(e.Extensions) < 20 || string(e.Extensions["selectiveLogic"]) != "0" || string(e.Extensions["scan_depth"]) != "null" {
		t.Errorf("entry extensions = %d keys: %v", len(e.Extensions), sortedKeys(e.Extensions))
	}
	if string(b.Entries[1].Unknown["probability"]) != "80" {
		t.Errorf("entry-level unknown key lost: %v", b.Entries[1].Unknown)
	}
	if !b.Entries[2].IsEnabled() || b.Entries[2].Enabled != nil {
		t.Error("an entry that does not say is enabled, and stays silent on export")
	}
	out, err := ExportJSON(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"match_persona_description":false`, `"probability":80`, `"position":"before_char"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("export lacks %s", want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	bigField := `{"spec":"chara_card_v2","data":{"name":"Long","description":"` + strings.Repeat("x", 100_000) + `"}}`
	bigGreeting := `{"name":"G","alternate_greetings":["hi","` + strings.Repeat("y", 70_000) + `"]}`
	tests := []struct {
		name, file string
		data       []byte
		want       string
		filename   string // "upload.json" unless set
	}{
		{name: "truncated png", file: "truncated.png", want: "the PNG is truncated"},
		{name: "bad base64", file: "bad_base64.png", want: "the card's ccv3 chunk is not valid base64"},
		{name: "bad json in chunk", file: "bad_json.png", want: "the card's chara chunk: the card is not valid JSON"},
		{name: "plain png", file: "plain.png", want: "this PNG has no character card in it"},
		{name: "zip bomb", file: "bomb.charx", want: "unpacks to more than 20.0 MB"},
		{name: "lying zip", file: "liar.charx", want: "card.json could not be unpacked"},
		{name: "50 MB", data: make([]byte, 50<<20), want: "the file is 50.0 MB; a character card can be at most 20.0 MB"},
		{name: "100k field", data: []byte(bigField), want: "the card's description is 100000 bytes long"},
		{name: "long greeting", data: []byte(bigGreeting), want: "alternate_greetings #2 is 70000 bytes"},
		{name: "empty", data: []byte("  \n"), want: "the file is empty"},
		{name: "not json", data: []byte("hello there"), want: "not a character card"},
		{name: "list", data: []byte(`[{"name":"a"}]`), want: "is a list"},
		{name: "broken json", data: []byte(`{"name": "x",`), want: "the card is not valid JSON"},
		{name: "no name", data: []byte(`{"spec":"chara_card_v2","data":{"description":"x"}}`), want: "the card has no name"},
		{name: "lorebook", data: []byte(`{"spec":"lorebook_v3","data":{"entries":[]}}`), want: "this is a lorebook"},
		{name: "data not object", data: []byte(`{"name":"x","data":"nope"}`), want: "data is not a JSON object"},
		{name: "jpeg", data: []byte("\xff\xd8\xff\xe0rest"), want: "this is a JPEG image"},
		{name: "png by name only", data: []byte("GIF89a"), want: "x.png is not a PNG image", filename: "x.png"},
		{name: "zip without card", data: zipOf(t, map[string][]byte{"readme.txt": []byte("hi")}), want: "no card.json"},
		{name: "too many zip entries", data: manyEntries(t), want: "holds 1001 files"},
		{name: "damaged chunk", data: damagedCRC(t), want: "checksum does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data
			if tt.file != "" {
				data = readFixture(t, tt.file)
			}
			filename := tt.filename
			if filename == "" {
				filename = "upload.json"
			}
			c, err := Parse(data, filename)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, %v; want a *ParseError", c, err)
			}
			if !strings.Contains(pe.Problem, tt.want) {
				t.Errorf("problem = %q, want it to contain %q", pe.Problem, tt.want)
			}
		})
	}
}

func TestParseFallsBackToChara(t *testing.T) {
	img := testImage(t, 8, 8, 1)
	v2 := readFixture(t, "v2.json")
	data := pngWith(t, img, text("ccv3", "not base64 !!"), text("chara", b64(v2)))
	c, err := Parse(data, "x.png")
	if err != nil {
		t.Fatal(err)
	}
	if c.Origin.Chunk != "chara" || len(c.Origin.Warnings) != 1 || !strings.Contains(c.Origin.Warnings[0], "ccv3 chunk is not valid base64") {
		t.Errorf("chunk %s, warnings %q", c.Origin.Chunk, c.Origin.Warnings)
	}
}

func TestParseTolerance(t *testing.T) {
	tests := []struct {
		name, json string
		check      func(*Card) bool
	}{
		{"tags as one string stays raw", `{"name":"a","tags":"x, y"}`, func(c *Card) bool {
			return c.Tags == nil && string(c.UnknownTop["tags"]) == `"x, y"`
		}},
		{"null is absent", `{"spec":"chara_card_v2","data":{"name":"a","description":null,"tags":null}}`, func(c *Card) bool {
			return c.Description == "" && c.Tags == nil && c.Unknown == nil
		}},
		{"newer spec warns", `{"spec":"chara_card_v3","spec_version":"3.5","data":{"name":"a"}}`, func(c *Card) bool {
			return len(c.Origin.Warnings) == 1 && strings.Contains(c.Origin.Warnings[0], "newer card format (3.5)")
		}},
		{"BOM", "\xef\xbb\xbf" + `{"name":"a"}`, func(c *Card) bool { return c.Name == "a" }},
		{"creation date as string", `{"spec":"chara_card_v3","data":{"name":"a","creation_date":"1700000000"}}`, func(c *Card) bool {
			return c.CreationDate == "1700000000"
		}},
		{"number where text belongs", `{"spec":"chara_card_v3","data":{"name":"a","personality":42}}`, func(c *Card) bool {
			return c.Personality == "" && string(c.Unknown["personality"]) == "42"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.json), "x.json")
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected card: %+v", c)
			}
			assertRoundTrip(t, c)
		})
	}
}

func manyEntries(t *testing.T) []byte {
	files := map[string][]byte{"card.json": []byte(`{"name":"x"}`)}
	for i := 0; i < MaxZipEntries; i++ {
		files["f"+strings.Repeat("0", 4-len(itoa(i)))+itoa(i)] = nil
	}
	return zipOf(t, files)
}

func damagedCRC(t *testing.T) []byte {
	data := pngWith(t, testImage(t, 8, 8, 1), text("chara", b64([]byte(`{"name":"x"}`))))
	i := bytes.Index(data, []byte("chara"))
	data[i+7] ^= 0xff // flip a byte inside the base64, leave the CRC as it was
	return data
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

var _ = zip.Deflate

func TestCompactRaw(t *testing.T) {
	tests := map[string]string{
		`{ "a" : [1, 2] }`:                  `{"a":[1,2]}`,
		`"\u003cSTART\u003e \u0026 \u2028"`: "\"<START> & \u2028\"",
		`"\\u003c stays escaped-backslash"`: `"\\u003c stays escaped-backslash"`,
		`"\u00e9 \n \" \u003C"`:             `"\u00e9 \n \" <"`,
		`not json`:                          `not json`,
	}
	for in, want := range tests {
		if got := string(compactRaw(json.RawMessage(in))); got != want {
			t.Errorf("compactRaw(%s) = %s, want %s", in, got, want)
		}
	}
}
