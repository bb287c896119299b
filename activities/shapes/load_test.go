package shapes

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestLoadLayouts(t *testing.T) {
	tests := []struct {
		name, dir, layout             string
		zip                           bool
		slug, displayName, model      string
		memories, knowledge, chat     int
		training                      int
		personalization, memoriesOnly bool
		warnings                      []string
	}{
		{name: "folder", dir: "folder", layout: "folder", slug: "lilith-tzel-shani", displayName: "Lilith", model: "openai/gpt-oss-120b",
			memories: 3, knowledge: 4, chat: 3, training: 1, personalization: true,
			warnings: []string{"1 deleted memory was skipped", "1 memory had no text and was skipped", "1 memory has no date it could read",
				`knowledge type "lore" is not one we know`, "1 knowledge entry was empty or a placeholder and was skipped"}},
		{name: "folder itself", dir: "folder/lilith-tzel-shani", layout: "folder", slug: "lilith-tzel-shani", displayName: "Lilith",
			model: "openai/gpt-oss-120b", memories: 3, knowledge: 4, chat: 3, training: 1, personalization: true},
		{name: "old zip", dir: "oldzip", zip: true, layout: "zip", slug: "cold-kerach-batuach", displayName: "COLD", model: "openai/gpt-4o",
			memories: 3, chat: 2, warnings: []string{"personality_age is not text", "1 memory entry was not an object and was skipped"}},
		{name: "old zip as a folder", dir: "oldzip", layout: "zip", slug: "cold-kerach-batuach", displayName: "COLD", model: "openai/gpt-4o", memories: 3, chat: 2},
		{name: "envelope", dir: "envelope", layout: "envelope", slug: "cold-kerach-batuach", displayName: "COLD", model: "openai/gpt-4o",
			memories: 1, knowledge: 1, warnings: []string{"the export says it holds 2 memories but has 1"}},
		{name: "memories only", dir: "memories", layout: "memories", slug: "mybot", displayName: "MyBot", memories: 3, memoriesOnly: true,
			warnings: []string{"this export holds memories only", "1 memory has no date it could read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b *Backup
			var err error
			if tt.zip {
				b, err = LoadZip(zipDir(t, filepath.Join("testdata", tt.dir)))
			} else {
				b, err = Load(os.DirFS(filepath.Join("testdata", tt.dir)))
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			p := b.Personality
			if b.Layout != tt.layout || p.Slug != tt.slug || p.DisplayName != tt.displayName || b.MemoriesOnly != tt.memoriesOnly {
				t.Errorf("layout %q slug %q name %q memories-only %v", b.Layout, p.Slug, p.DisplayName, b.MemoriesOnly)
			}
			if got := b.Model.Params["model"]; tt.model != "" && got != tt.model {
				t.Errorf("model = %v, want %s", got, tt.model)
			}
			if len(b.Memories) != tt.memories || len(b.Knowledge) != tt.knowledge || len(b.ChatHistory) != tt.chat || len(b.Training) != tt.training {
				t.Errorf("memories %d knowledge %d chat %d training %d", len(b.Memories), len(b.Knowledge), len(b.ChatHistory), len(b.Training))
			}
			if (b.UserPersonalization != nil) != tt.personalization {
				t.Errorf("personalization = %+v", b.UserPersonalization)
			}
			for _, want := range tt.warnings {
				if !hasWarning(b.Warnings, want) {
					t.Errorf("no warning %q in %q", want, b.Warnings)
				}
			}
		})
	}
}

func TestLoadFolderMapping(t *testing.T) {
	b, err := Load(os.DirFS("testdata/folder"))
	if err != nil {
		t.Fatal(err)
	}
	p := b.Personality
	checks := map[string][2]string{
		"SystemPrompt":  {p.SystemPrompt, "{{char}} writes in lowercase. {{char}} never breaks character, even when {{user}} asks."},
		"CharacterInfo": {p.CharacterInfo, "{{char}} is a night-owl librarian who keeps an archive of forbidden books for {{user}}.\n\nHistory: Lilith inherited the archive from her grandmother."},
		"Traits":        {p.Traits, "sardonic, curious, fiercely loyal"},
		"Tone":          {p.Tone, "dry, teasing"},
		"Age":           {p.Age, "27"},
		"Appearance":    {p.Appearance, "silver-rimmed glasses, ink on her fingers"},
		"Likes":         {p.Likes, "old paper, rain, {{user}}'s questions"},
		"Goals":         {p.ConversationalGoals, "make {{user}} find the book themselves"},
		"Examples":      {p.ConversationalExamples, "{{user}}: is it real?\n{{char}}: real enough to bite.\n\nCatchphrases: Shelve it."},
		"ErrorMessage":  {p.ErrorMessage, "the lamps went out. ask me again, {{user}}."},
		"Birthday":      {p.Birthday, "03-07"},
		"AvatarURL":     {p.AvatarURL, "https://files.shapes.inc/api/files/avatar_5283ca24.png"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if p.IsPublic || p.IsNSFW || p.OwnerID != "" || len(p.Aliases) != 0 {
		t.Errorf("personality should be private, SFW, ownerless, alias-free: %+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("the mapped personality does not validate: %v", err)
	}
	if want := []string{"librarian", "archive"}; !reflect.DeepEqual(b.Aliases, want) {
		t.Errorf("aliases = %q, want %q", b.Aliases, want)
	}
	wantParams := map[string]any{"model": "openai/gpt-oss-120b", "temperature": 0.8, "top_p": 1.0, "top_k": 40,
		"frequency_penalty": 0.1, "presence_penalty": 0.0, "min_p": 0.05, "top_a": 0.0}
	if !reflect.DeepEqual(b.Model.Params, wantParams) {
		t.Errorf("params = %v, want %v", b.Model.Params, wantParams)
	}
	m := b.Model
	if m.FallbackModel != "microsoft/phi-4" || m.ContextMessages != 15 || m.MemoryLimit != 3 || *m.MemoryThreshold != 0.4 || !*m.LongTermMemory {
		t.Errorf("model settings = %+v", m)
	}
	v := b.Voice
	if v.Model != "eleven_multilingual_v2" || v.ID != "" || v.SampleURL != "https://files.shapes.inc/06e74447.wav" || *v.Stability != 0.53 || *v.Frequency != 0.4 {
		t.Errorf("voice = %+v", v)
	}
	for k, want := range map[string]any{"initial_message": "*looks up* we're closed, {{user}}. unless...", "wack_message": "where was i?",
		"timezone": "Europe/Prague", "shapes_id": "5283ca24-cc72-42c1-84aa-10d67cbe2303", "shapes_username": "lilith-tzel-shani",
		"personality_history": "Lilith inherited the archive from her grandmother.", "shapes_created_at": "2024-05-26T05:31:40.061039Z", "source": "shapes.inc"} {
		if got := b.Extensions[k]; got != want {
			t.Errorf("extensions[%s] = %v, want %v", k, got, want)
		}
	}
	up := b.UserPersonalization
	if up.PreferredName != "Ana" || up.Pronouns != "she/her" || up.Params["temperature"] != 0.9 || up.Params["top_k"] != 20 {
		t.Errorf("personalization = %+v", up)
	}
}

func TestLoadMemories(t *testing.T) {
	b, err := Load(os.DirFS("testdata/folder"))
	if err != nil {
		t.Fatal(err)
	}
	m := b.Memories[0]
	want := Memory{
		ID: "a1b2/c3d4", Content: "Ana asked about the clock in the reading room; Lilith hinted it hides the door.",
		CreatedAt: time.Unix(1721971316, 572563000).UTC(), Senders: []string{"07862745-759e-4da4-b83a-1e8a69469f80"},
		ChannelID: "1187411234567890123", GuildID: "1187400000000000000", Type: "automatic", MessageIDs: []string{"m1", "m2"},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("memory 1:\n got %+v\nwant %+v", m, want)
	}
	older := b.Memories[1]
	if !older.CreatedAt.Equal(time.Unix(1700000000, 500000000)) || older.ChannelID != "" || !reflect.DeepEqual(older.Senders, []string{"u3"}) {
		t.Errorf("older-format memory = %+v", older)
	}
	if !b.Memories[2].CreatedAt.IsZero() || b.Memories[2].Type != "manual" {
		t.Errorf("undated memory = %+v", b.Memories[2])
	}
	k := b.Knowledge
	if k[0].Title != "The archive" || k[1].Type != "relationship" || k[2].Type != "" || k[2].OriginURL == "" || k[3].Type != "lore" {
		t.Errorf("knowledge = %+v", k)
	}
	c := b.ChatHistory
	if c[0].Message != "is the clock broken?" || c[1].Reply != "it was never working." || c[1].VoiceReplyURL == "" || c[2].AttachmentType != "image/png" {
		t.Errorf("chat = %+v", c)
	}
}

func TestLoadTimestamps(t *testing.T) {
	b, err := LoadZip(zipDir(t, "testdata/oldzip"))
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{
		time.Unix(1747735200, 250000000).UTC(), // "1747735200.25" as text
		time.UnixMilli(1747735200250).UTC(),    // milliseconds
		time.Date(2025, 5, 20, 10, 0, 0, 0, time.UTC),
	}
	for i, w := range want {
		if !b.Memories[i].CreatedAt.Equal(w) {
			t.Errorf("memory %d at %v, want %v", i, b.Memories[i].CreatedAt, w)
		}
	}
	if b.Model.Params["temperature"] != 0.7 || b.Personality.Birthday != "" || b.UserPersonalization != nil {
		t.Errorf("temperature as text %v, birthday %q, personalization %+v", b.Model.Params["temperature"], b.Personality.Birthday, b.UserPersonalization)
	}
	mo, err := Load(os.DirFS("testdata/memories"))
	if err != nil {
		t.Fatal(err)
	}
	if !mo.Memories[0].CreatedAt.Equal(time.Date(2026, 2, 14, 0, 0, 0, 0, time.UTC)) || !mo.Memories[1].CreatedAt.Equal(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("MM/DD/YYYY dates: %v %v", mo.Memories[0].CreatedAt, mo.Memories[1].CreatedAt)
	}
}

func TestParseTime(t *testing.T) {
	tests := map[string]time.Time{
		"1721971316.572563":           time.Unix(1721971316, 572563000),
		"1721971316":                  time.Unix(1721971316, 0),
		"1721971316572":               time.UnixMilli(1721971316572),
		"1.7e9":                       time.Unix(1700000000, 0),
		"2025-05-20T10:00:00Z":        time.Date(2025, 5, 20, 10, 0, 0, 0, time.UTC),
		"2025-05-20T10:00:00.5+02:00": time.Date(2025, 5, 20, 8, 0, 0, 500000000, time.UTC),
		"02/14/2026":                  time.Date(2026, 2, 14, 0, 0, 0, 0, time.UTC),
		"2026-02-14":                  time.Date(2026, 2, 14, 0, 0, 0, 0, time.UTC),
	}
	for in, want := range tests {
		got, ok := parseTime(in)
		if !ok || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "14/02/2026", "-5"} {
		if got, ok := parseTime(bad); ok {
			t.Errorf("parseTime(%q) = %v, want no time", bad, got)
		}
	}
}

func TestBirthday(t *testing.T) {
	tests := []struct{ in, want, warn string }{
		{`"03-07"`, "03-07", ""}, {`"3-7"`, "03-07", ""}, {`"1990-12-31"`, "1990-12-31", ""}, {`"02-29"`, "02-29", ""},
		{`null`, "", ""}, {`""`, "", ""},
		{`"March 7"`, "", "is not MM-DD"}, {`"13-01"`, "", "is not MM-DD"}, {`"04-31"`, "", "is not MM-DD"},
	}
	for _, tt := range tests {
		b, w := newBackup("folder")
		got := birthday(object{"birthday": []byte(tt.in)}, w, b)
		if got != tt.want || (tt.warn != "") != hasWarning(w.list, tt.warn) {
			t.Errorf("birthday(%s) = %q, warnings %q", tt.in, got, w.list)
		}
		if tt.warn != "" && b.Extensions["birthday_raw"] == nil {
			t.Errorf("birthday(%s): the raw value was not kept", tt.in)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		fsys fs.FS
		want string
	}{
		{"missing config", os.DirFS("testdata/missing-config"), `no lilith.json, which holds the character's settings`},
		{"empty", fstest.MapFS{}, "no shapes.inc backup found"},
		{"several shapes", fstest.MapFS{"a/a.json": {}, "b/b.json": {}}, "several shapes (a, b)"},
		{"not a config", fstest.MapFS{"x.json": {Data: []byte(`{"hello":"world"}`)}}, "not a shapes.inc backup"},
		{"broken config", fstest.MapFS{"x/x.json": {Data: []byte(`{"name":`)}, "x/x_memories.json": {Data: []byte(`[]`)}}, "x.json is not a shapes.inc config"},
		{"old zip without profile", fstest.MapFS{"c/memories.json": {Data: []byte(`[]`)}, "c/chat_history.json": {Data: []byte(`[]`)}}, "cannot tell which file"},
		{"envelope without config", fstest.MapFS{"s-export.json": {Data: []byte(`{"sourceSlug":"s","config":{},"memories":[]}`)}}, "has no usable config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Load(tt.fsys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %+v, %v; want an error containing %q", b, err, tt.want)
			}
		})
	}
}

func TestLoadTolerance(t *testing.T) {
	fsys := fstest.MapFS{
		"s/s.json":                      {Data: []byte(`{"name":"S","username":"s","jailbreak":"x","engine_temperature":"hot","keywords":"solo"}`)},
		"s/s_memories.json":             {Data: []byte(`{"items":[{"result":"wrapped in items","metadata":{"created_at":1}}]}`)},
		"s/s_knowledge.json":            {Data: []byte(`{"not":"a list"}`)},
		"s/s_user_personalization.json": {Data: []byte(`[1,2]`)},
		"s/s_chat_history.json":         {Data: []byte(`not json`)},
	}
	b, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Memories) != 1 || b.Memories[0].Content != "wrapped in items" || !reflect.DeepEqual(b.Aliases, []string{"solo"}) {
		t.Errorf("memories %+v aliases %q", b.Memories, b.Aliases)
	}
	for _, want := range []string{"engine_temperature is not a number", "s_knowledge.json is not a list", "s_user_personalization.json is not a JSON object", "s_chat_history.json is not a list"} {
		if !hasWarning(b.Warnings, want) {
			t.Errorf("no warning %q in %q", want, b.Warnings)
		}
	}
}

func TestLoadZipLimits(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("s/s.json")
	w.Write([]byte(`{"name":"S","jailbreak":"x"}`))
	// Declared, not written: the check must refuse before inflating anything.
	w, _ = zw.CreateRaw(&zip.FileHeader{Name: "s/s_chat_history.json", Method: zip.Store, UncompressedSize64: MaxZipUnpacked + 1, CompressedSize64: 2})
	w.Write([]byte("[]"))
	zw.Close()
	if _, err := LoadZip(buf.Bytes()); err == nil || !strings.Contains(err.Error(), "unpacks to more than 512 MiB") {
		t.Fatalf("LoadZip(bomb) = %v", err)
	}
	if _, err := LoadZip([]byte("not a zip")); err == nil || !strings.Contains(err.Error(), "not a readable zip") {
		t.Fatalf("LoadZip(junk) = %v", err)
	}
}

func TestPlaceholders(t *testing.T) {
	tests := map[string]string{
		"{shape} greets {user}":         "{{char}} greets {{user}}",
		"already {{user}} and {{char}}": "already {{user}} and {{char}}",
		"{{shape}}":                     "{{char}}",
		"{shapes} {User}":               "{shapes} {User}",
	}
	for in, want := range tests {
		if got := placeholders.Replace(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

// zipDir zips a testdata folder the way the old backup tool did: one folder per shape.
func zipDir(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func hasWarning(list []string, want string) bool {
	for _, w := range list {
		if strings.Contains(w, want) {
			return true
		}
	}
	return false
}
