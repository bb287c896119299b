package embed_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/activities/embed"
)

// BenchmarkLocalEmbed measures Local on texts of chat sizes: a short query, a typical
// memory, and a long (about 2,000-character) message.
func BenchmarkLocalEmbed(b *testing.B) {
	ctx := context.Background()
	texts := map[string]string{
		"query-6w":   "what's my gecko called again?",
		"memory-20w": "Biscuit my corgi stole a whole rotisserie chicken off the counter today, he's so proud of himself",
		"long-2kc":   strings.Repeat("We played Mahler's Second Symphony tonight and I cried during the finale. ", 27),
	}
	for _, name := range []string{"query-6w", "memory-20w", "long-2kc"} {
		text := texts[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (embed.Local{}).Embed(ctx, text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLocalEmbedBatch embeds the whole shipped set (320 memories) per iteration.
func BenchmarkLocalEmbedBatch(b *testing.B) {
	s := loadSet(b)
	texts := make([]string, len(s.Memories))
	for i, m := range s.Memories {
		texts[i] = m.Text
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (embed.Local{}).EmbedBatch(context.Background(), texts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRetrievalQuality reports recall@5 and MRR of each embedder on the shipped set
// as benchmark metrics (the time per op is the whole evaluation, embedding included).
func BenchmarkRetrievalQuality(b *testing.B) {
	var r map[string]embed.Report
	for b.Loop() {
		r = reports(b)
	}
	for _, name := range []string{"local", "keyword", "openai-stub"} {
		b.ReportMetric(r[name].RecallAt5, name+"-recall@5")
		b.ReportMetric(r[name].MRR, name+"-MRR")
	}
}
