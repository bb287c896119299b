package prompt

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

func render(msgs []Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("=== " + m.Role + "\n" + m.Content + "\n")
	}
	return b.String()
}

func TestBuildGolden(t *testing.T) {
	now := time.Date(2026, 3, 14, 18, 30, 0, 0, time.UTC)
	lilith := store.Personality{
		DisplayName: "Lilith", CharacterInfo: "An ancient demon who collects secrets.",
		Traits: "curious, sardonic", Tone: "velvet and teasing", Likes: "moonlight", Dislikes: "bells",
		Age: "older than the first cities", Appearance: "tall, dark-eyed, a silver ring on every finger",
		ConversationalGoals:    "learn one secret from everyone she meets",
		ConversationalExamples: "User: hi\nLilith: Well, well.", Birthday: "03-14",
		SystemPrompt: "Never break the fourth wall.",
	}
	tests := []struct {
		name string
		in   Input
	}{
		{"minimal", Input{Personality: store.Personality{DisplayName: "Bob"}, Location: "a direct message", Now: now,
			Message: Line{Speaker: "Alice", Role: "user", Content: "hello", At: now}}},
		{"full", Input{Personality: lilith, UserName: "Alice", Location: Where("Night Court", "general", "", false), Now: now,
			Participants: []Participant{{Name: "Alice", Pronouns: "she/her", About: "An astronomer who hates bells."}},
			References:   []Line{{Speaker: "Bob", Content: "Lilith said she was born\non a moonless night.", At: now.Add(-26 * time.Hour)}},
			History: []Line{
				{Speaker: "Alice", Role: "user", Content: "are you there?", At: now.Add(-2 * time.Hour)},
				{Speaker: "Lilith", Role: "assistant", Content: "Always.", At: now.Add(-2 * time.Hour)},
				{Speaker: "Bob (character)", Role: "user", Content: "I am here too.", At: now.Add(-3 * time.Minute)},
			},
			Memories: []string{"Alice loves astronomy.", "  Alice fears bells. "},
			Message:  Line{Speaker: "Alice", Role: "user", Content: "@Lilith what do you think?", At: now}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(Build(tt.in))
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("prompt differs from %s:\n%s", path, got)
			}
		})
	}
}

func TestAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second: "just now", time.Minute: "1 minute ago", 5 * time.Minute: "5 minutes ago",
		3 * time.Hour: "3 hours ago", 49 * time.Hour: "2 days ago",
	} {
		if got := Ago(d); got != want {
			t.Errorf("Ago(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestBirthday(t *testing.T) {
	now := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	for b, want := range map[string]bool{"03-14": true, "1990-03-14": true, "03-15": false, "": false, "x": false} {
		if got := isBirthday(b, now); got != want {
			t.Errorf("isBirthday(%q) = %v", b, got)
		}
	}
}

func TestWhere(t *testing.T) {
	for _, tt := range []struct {
		guild, channel, parent string
		dm                     bool
		want                   string
	}{
		{"", "", "", true, "a direct message"},
		{"Night Court", "general", "", false, `#general of the Discord server "Night Court"`},
		{"Night Court", "plans", "general", false, `the thread "plans" in #general of the Discord server "Night Court"`},
		{"", "", "", false, "a Discord server"},
	} {
		if got := Where(tt.guild, tt.channel, tt.parent, tt.dm); got != tt.want {
			t.Errorf("Where = %q, want %q", got, tt.want)
		}
	}
}

// BenchmarkBuild assembles a prompt with a 50-line chat log and 8 memories.
func BenchmarkBuild(b *testing.B) {
	now := time.Now()
	in := Input{Personality: store.Personality{DisplayName: "Lilith", CharacterInfo: strings.Repeat("lore ", 200)}, UserName: "Alice",
		Location: Where("Guild", "general", "", false), Now: now, Message: Line{Speaker: "Alice", Content: "hi", At: now}}
	for i := 0; i < 50; i++ {
		in.History = append(in.History, Line{Speaker: "Bob", Role: "user", Content: strings.Repeat("chat ", 30), At: now.Add(-time.Duration(i) * time.Minute)})
	}
	for i := 0; i < 8; i++ {
		in.Memories = append(in.Memories, "Alice once said something memorable about the stars.")
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = Build(in)
	}
}
