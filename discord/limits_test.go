package discord

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestChunkKeepsEverythingAndRespectsLimit(t *testing.T) {
	long := strings.Repeat("word ", 1000) // 5000 characters
	code := "Here:\n```go\n" + strings.Repeat("fmt.Println(\"hello, world\")\n", 120) + "```\nDone."
	emoji := strings.Repeat("😀", 1500)
	tests := []struct {
		name  string
		text  string
		limit int
		min   int // minimum number of chunks
	}{
		{"short", "hello", 2000, 1},
		{"5000 chars", long, 2000, 3},
		{"code block", code, 2000, 2},
		{"one huge word", strings.Repeat("x", 4500), 2000, 3},
		{"emoji count twice", emoji, 2000, 2},
		{"tiny limit", "a b c d e f g", 3, 4},
		{"many newlines", strings.Repeat("line\n", 900), 2000, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := Chunk(tt.text, tt.limit)
			if len(chunks) < tt.min {
				t.Fatalf("%d chunks, want at least %d", len(chunks), tt.min)
			}
			for i, c := range chunks {
				if length(c) > tt.limit {
					t.Errorf("chunk %d has %d characters > %d", i, length(c), tt.limit)
				}
				if !utf8.ValidString(c) {
					t.Errorf("chunk %d is not valid UTF-8", i)
				}
				if strings.Count(c, "```")%2 != 0 {
					t.Errorf("chunk %d leaves a code block open:\n%s", i, c)
				}
			}
			if got, want := squash(strings.Join(chunks, " ")), squash(tt.text); got != want && !strings.Contains(tt.text, "```") {
				t.Errorf("text changed by chunking")
			}
		})
	}
}

func TestChunkReopensCodeBlockWithLanguage(t *testing.T) {
	code := "```python\n" + strings.Repeat("print('x')\n", 300) + "```"
	chunks := Chunk(code, 2000)
	if len(chunks) < 2 {
		t.Fatalf("want several chunks, got %d", len(chunks))
	}
	for i, c := range chunks {
		if !strings.HasPrefix(c, "```python") {
			t.Errorf("chunk %d does not reopen the block: %.30q", i, c)
		}
		if !strings.HasSuffix(c, "```") {
			t.Errorf("chunk %d does not close the block", i)
		}
	}
}

func TestChunkEmpty(t *testing.T) {
	if got := Chunk("  \n ", 2000); got != nil {
		t.Fatalf("got %q", got)
	}
}

func squash(s string) string { return strings.Join(strings.Fields(s), "") }

func TestWebhookName(t *testing.T) {
	for in, check := range map[string]func(string) bool{
		"Lilith":                 func(s string) bool { return s == "Lilith" },
		"":                       func(s string) bool { return s == "Tzurot" },
		"Discord Bot":            func(s string) bool { return !strings.Contains(strings.ToLower(s), "discord") },
		"clyde":                  func(s string) bool { return !strings.Contains(strings.ToLower(s), "clyde") },
		strings.Repeat("n", 200): func(s string) bool { return length(s) == 80 },
		strings.Repeat("😀", 100): func(s string) bool { return length(s) <= 80 && utf8.ValidString(s) },
		"bad\xffutf8":            func(s string) bool { return utf8.ValidString(s) },
	} {
		if got := WebhookName(in); !check(got) {
			t.Errorf("WebhookName(%.20q) = %q", in, got)
		}
	}
}

func FuzzChunk(f *testing.F) {
	for _, s := range []string{"hello", "```go\nx\n```", strings.Repeat("a", 2100), "```\n" + strings.Repeat("b ", 1500), "\xff\xfe", "😀😀😀"} {
		f.Add(s, 2000)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 12 || limit > 4000 {
			return
		}
		for _, c := range Chunk(s, limit) {
			if length(c) > limit {
				t.Fatalf("chunk of %d > %d", length(c), limit)
			}
		}
	})
}

func TestChunkPrefersSentenceEnds(t *testing.T) {
	sentence := "This is one complete sentence that goes on a little. "
	text := strings.Repeat(sentence, 60) // ~3200 characters, one paragraph
	chunks := Chunk(text, 2000)
	if len(chunks) != 2 {
		t.Fatalf("%d chunks", len(chunks))
	}
	if !strings.HasSuffix(chunks[0], "little.") {
		t.Errorf("first chunk ends mid-sentence: ...%q", chunks[0][len(chunks[0])-30:])
	}
	if !strings.HasPrefix(chunks[1], "This is") {
		t.Errorf("second chunk starts mid-sentence: %.30q", chunks[1])
	}
}

// BenchmarkChunk splits a 5,000-character reply with a code block.
func BenchmarkChunk(b *testing.B) {
	text := strings.Repeat("A sentence of the reply, reasonably long. ", 60) + "\n```go\n" + strings.Repeat("fmt.Println(x)\n", 100) + "```\n" + strings.Repeat("More words follow. ", 50)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if len(Chunk(text, MaxMessageLength)) < 3 {
			b.Fatal("too few chunks")
		}
	}
}
