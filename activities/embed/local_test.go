package embed

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string // surfaces
	}{
		{"Hello, World!", []string{"hello", "world"}},
		{"Maya's corgi", []string{"maya", "corgi"}},
		{"I don't know", []string{"i", "dont", "know"}},
		{"it’s fine", []string{"it", "fine"}},
		{"rock-climbing at 5pm", []string{"rock", "climbing", "at", "5pm"}},
		{"ÉCOLE Straße", []string{"école", "straße"}},
		{"🙂🙂", nil},
		{"trailing'", []string{"trailing"}},
		{"'quoted'", []string{"quoted"}},
		{"", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, w := range words(tt.in) {
			got = append(got, w.surface)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStemMergesInflections(t *testing.T) {
	groups := [][]string{
		{"hike", "hikes", "hiking", "hiked"},
		{"bake", "baked", "baking", "bakes"},
		{"run", "runs", "running"},
		{"puppy", "puppies"},
		{"study", "studies", "studied", "studying"},
		{"box", "boxes"},
		{"class", "classes"},
		{"marry", "married"},
		{"movie", "movies"},
		{"propose", "proposed"},
		{"final", "finally"},
		{"wish", "wishes"},
		{"happy", "happiness"},
	}
	for _, g := range groups {
		want := stem(g[0])
		for _, w := range g[1:] {
			if got := stem(w); got != want {
				t.Errorf("stem(%q) = %q, stem(%q) = %q: want them equal", w, got, g[0], want)
			}
		}
	}
	// Words the stemmer must leave apart or alone.
	keep := map[string]string{
		"family": "family", "string": "string", "speed": "speed", "glass": "glass",
		"anxious": "anxious", "thing": "thing", "bus": "bus", "école": "école", "tennis": "tennis",
	}
	for in, want := range keep {
		if got := stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLocalVectorShape(t *testing.T) {
	ctx := context.Background()
	texts := []string{
		"My corgi Biscuit has an ear infection",
		"a",
		"🙂",
		"?!",
		"the and of", // only stopwords: embedded from them rather than refused
		strings.Repeat("very long memory about climbing and dogs ", 500),
		"日本語を勉強しています",
	}
	for _, text := range texts {
		v, err := Local{}.Embed(ctx, text)
		if err != nil {
			t.Fatalf("Embed(%.20q): %v", text, err)
		}
		if len(v) != Dims {
			t.Fatalf("Embed(%.20q): %d dims, want %d", text, len(v), Dims)
		}
		var norm float64
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("Embed(%.20q): non-finite component", text)
			}
			norm += float64(x) * float64(x)
		}
		if math.Abs(norm-1) > 1e-5 {
			t.Errorf("Embed(%.20q): |v|² = %v, want 1", text, norm)
		}
	}
}

func TestLocalEmptyText(t *testing.T) {
	for _, text := range []string{"", " ", "\n\t  \r\n", "\u00a0\u2003"} {
		if _, err := (Local{}).Embed(context.Background(), text); !errors.Is(err, ErrEmptyText) {
			t.Errorf("Embed(%q) error = %v, want ErrEmptyText", text, err)
		}
	}
	_, err := Local{}.EmbedBatch(context.Background(), []string{"fine", "  "})
	if !errors.Is(err, ErrEmptyText) || !strings.Contains(err.Error(), "text 1") {
		t.Errorf("EmbedBatch with a blank text: %v, want ErrEmptyText naming index 1", err)
	}
}

func TestLocalCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Local{}).Embed(ctx, "hello"); !errors.Is(err, context.Canceled) {
		t.Errorf("Embed on a cancelled context: %v", err)
	}
	if _, err := (Local{}).EmbedBatch(ctx, []string{"hello"}); !errors.Is(err, context.Canceled) {
		t.Errorf("EmbedBatch on a cancelled context: %v", err)
	}
}

// TestLocalDeterministic pins a few components, so a change to tokenizing, stemming,
// hashing or weights (which would orphan every stored memory) cannot pass unnoticed: it
// must come with a new LocalModel.
func TestLocalDeterministic(t *testing.T) {
	ctx := context.Background()
	text := "Biscuit my corgi stole a whole rotisserie chicken off the counter today"
	a, _ := Local{}.Embed(ctx, text)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := Local{}.Embed(ctx, text)
			if !slices.Equal(a, b) {
				t.Error("the same text embedded differently")
			}
		}()
	}
	wg.Wait()
	batch, err := Local{}.EmbedBatch(ctx, []string{"other", text})
	if err != nil || !slices.Equal(batch[1], a) {
		t.Errorf("EmbedBatch differs from Embed: %v", err)
	}
	// Components pinned for LocalModel "tzurot-local-v1". Any change here orphans stored
	// memories: bump LocalModel, re-pin, and say in docs/MEMORY.md how to re-embed.
	if LocalModel != "tzurot-local-v1" {
		t.Fatalf("LocalModel is %q: re-pin the components below for it", LocalModel)
	}
	want := map[int]float32{2: 0.14479677, 13: -0.12539768, 15: 0.04826559, 19: -0.036199193}
	for i, x := range want {
		if a[i] != x {
			t.Errorf("component %d = %v, want %v: the embedding changed under the same LocalModel", i, a[i], x)
		}
	}
}

func TestLocalSimilarity(t *testing.T) {
	ctx := context.Background()
	sim := func(a, b string) float64 {
		va, _ := Local{}.Embed(ctx, a)
		vb, _ := Local{}.Embed(ctx, b)
		return cosine(va, vb)
	}
	tests := []struct {
		name        string
		query       string
		near, far   string
		description string
	}{
		{"shared words", "my dog Biscuit", "Biscuit the dog chewed my shoe", "I bought new climbing shoes", "words in common win"},
		{"inflection", "went hiking", "I love to hike", "I love to cook", "stems meet"},
		{"typo", "my restuarant job", "long restaurant shifts", "long office shifts", "character n-grams survive a typo in a long word"},
		{"dropped letter", "marathn training", "the marathon is in April", "the party is in April", "character n-grams survive a dropped letter"},
		{"stopwords", "where is the cat", "the cat sleeps all day", "where is the bus", "stopwords do not carry the match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, f := sim(tt.query, tt.near), sim(tt.query, tt.far)
			if n <= f {
				t.Errorf("%s: sim(near)=%.3f <= sim(far)=%.3f", tt.description, n, f)
			}
		})
	}
	if s := sim("Same text.", "same TEXT"); math.Abs(s-1) > 1e-6 {
		t.Errorf("case and punctuation changed the vector: cos = %v", s)
	}
}
