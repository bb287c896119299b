package embed_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/embed"
	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
)

// Local is an activities.Embedder: the worker can use it where it uses LLMEmbedder.
var _ activities.Embedder = embed.Local{}

const retrievalSet = "testdata/retrieval"

func loadSet(t testing.TB) *embed.Set {
	t.Helper()
	s, err := embed.LoadSet(retrievalSet)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reports evaluates every embedder this package compares on the shipped set.
func reports(t testing.TB) map[string]embed.Report {
	t.Helper()
	ctx := context.Background()
	s := loadSet(t)
	out := map[string]embed.Report{}
	r, err := embed.Evaluate(ctx, embed.Local{}, s)
	if err != nil {
		t.Fatal(err)
	}
	out["local"] = r
	out["keyword"] = embed.EvaluateScorer(s, embed.KeywordOverlap)

	// The OpenAI-compatible path, end to end over HTTP, against the stub: its vectors are
	// hashes of the whole text, so this measures plumbing, not meaning (chance level).
	stub := llmtest.New(llmtest.Options{APIKeys: []string{"sk-test"}})
	defer stub.Close()
	keys := activities.SystemKey{Provider: "openai-compatible", APIKey: "sk-test"}
	e := activities.LLMEmbedder{Client: llm.New(llm.Config{BaseURL: stub.URL()}), Keys: keys, Model: "text-embedding-3-small"}
	if r, err = embed.Evaluate(ctx, e, s); err != nil {
		t.Fatal(err)
	}
	out["openai-stub"] = r
	return out
}

// TestRetrievalQuality is the quality floor: on the shipped set the local embedder must
// do at least as well as plain keyword overlap, overall and on every kind of query where
// lexical matching can help at all, and clearly better than chance (the stub's hash
// vectors). Paraphrase and synonym queries are reported, not asserted: a lexical
// embedder is not expected to solve them.
func TestRetrievalQuality(t *testing.T) {
	r := reports(t)
	local, kw, stub := r["local"], r["keyword"], r["openai-stub"]
	for _, name := range []string{"local", "keyword", "openai-stub"} {
		t.Logf("%-12s %s", name, r[name])
		kinds := make([]string, 0, len(r[name].ByKind))
		for k := range r[name].ByKind {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			t.Logf("  %-11s %s", k, r[name].ByKind[k])
		}
	}
	t.Logf("local misses: %s", strings.Join(local.Misses, " "))
	tests := []struct {
		what      string
		got, want float64
	}{
		{"local recall@5 >= keyword", local.RecallAt5, kw.RecallAt5},
		{"local MRR >= keyword", local.MRR, kw.MRR},
		{"local recall@5 > 2x the stub's (chance)", local.RecallAt5, 2 * stub.RecallAt5},
		{"local keyword-query MRR >= 0.9", local.ByKind["keyword"].MRR, 0.9},
	}
	for _, kind := range []string{"keyword", "morph", "typo"} {
		tests = append(tests, struct {
			what      string
			got, want float64
		}{fmt.Sprintf("local %s-query MRR >= keyword's", kind), local.ByKind[kind].MRR, kw.ByKind[kind].MRR})
	}
	for _, tt := range tests {
		if tt.got < tt.want {
			t.Errorf("%s: %.3f < %.3f", tt.what, tt.got, tt.want)
		}
	}
	if local.N != 68 || kw.N != local.N || stub.N != local.N {
		t.Errorf("N = %d/%d/%d, want every query counted", local.N, kw.N, stub.N)
	}
}

func TestShippedSetShape(t *testing.T) {
	s := loadSet(t)
	if len(s.Memories) < 300 || len(s.Queries) < 50 {
		t.Errorf("set has %d memories and %d queries, want >= 300 and >= 50", len(s.Memories), len(s.Queries))
	}
	kinds := map[string]int{}
	for _, q := range s.Queries {
		kinds[q.Kind]++
	}
	for _, k := range []string{"keyword", "morph", "typo", "synonym", "paraphrase"} {
		if kinds[k] < 5 {
			t.Errorf("only %d %q queries", kinds[k], k)
		}
	}
}
