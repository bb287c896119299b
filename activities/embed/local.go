// Package embed holds Tzurot's built-in text embedder, Local, which needs no network and no
// model file so a fresh install remembers out of the box, and the tools that measure any
// embedder's retrieval quality (Evaluate over a labelled Set).
//
// Local is lexical: it matches shared words, shared word stems, shared word pairs and
// shared character n-grams (so typos and inflections still meet). It knows no synonyms:
// "pup" and "dog" are strangers to it. docs/MEMORY.md has the numbers.
package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/tzurot/tzurot/store"
)

// Dims is the size of every vector Local returns: the dimension the memories table was
// migrated with.
const Dims = store.EmbeddingDim

// LocalModel names Local's feature set. Vectors of different embedders (or of different
// versions of this one) are not comparable: a memory embedded by one and searched with
// another is as good as lost, so a change of model means re-embedding stored memories.
const LocalModel = "tzurot-local-v1"

// ErrEmptyText is returned for text that is empty or only whitespace. Such text has no
// direction: a zero vector would make cosine distance undefined (pgvector answers NaN),
// so Local refuses it rather than store something that matches nothing or everything.
var ErrEmptyText = errors.New("embed: text is empty or only whitespace")

// Feature weights. In a dot product with itself a word's stem counts 1 and its character
// n-grams together count charWeight² (so a misspelt word keeps most of its match); a pair
// of consecutive content words adds bigramWeight² (word order, a little); a common word
// counts weakWeight² of a topical one. Round values from a coarse grid over the shipped
// set, on which any choice near these scored within a few points (docs/MEMORY.md).
const (
	unigramWeight = 1.0
	bigramWeight  = 0.5
	charWeight    = 1.0
	weakWeight    = 0.5
)

const (
	minGram = 3
	maxGram = 5
)

// Feature kinds, hashed in so a unigram "cat" and a character gram "cat" land apart.
const (
	kindUnigram = 'u'
	kindBigram  = 'b'
	kindChar    = 'c'
	kindWhole   = 'w'
)

// Local is the built-in embedder: signed feature hashing of lower-cased word stems, word
// bigrams and character 3-5-grams, with sublinear term frequency, into Dims dimensions,
// L2-normalized. It is deterministic (the same text gives the same vector bit for bit on
// every machine and in every version with the same LocalModel), safe for concurrent use,
// and its zero value is ready. It satisfies activities.Embedder.
type Local struct{}

// Embed returns the unit vector of text, or ErrEmptyText for empty or whitespace text.
// Text with no letters or digits (only emoji or punctuation) is embedded from its
// characters, so it still has a defined, deterministic vector.
func (Local) Embed(ctx context.Context, text string) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(text) == "" {
		return nil, ErrEmptyText
	}
	return vectorOf(text), nil
}

// EmbedBatch embeds texts in order. One empty text fails the whole batch with an error
// that wraps ErrEmptyText and names its index, so a caller never stores a half batch.
func (l Local) EmbedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			return nil, fmt.Errorf("text %d: %w", i, ErrEmptyText)
		}
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out[i] = vectorOf(t)
	}
	return out, nil
}

// vectorOf embeds non-blank text. Features are added in the order they first occur in
// the text, so float rounding, and with it the vector, never depends on map order.
func vectorOf(text string) []float32 {
	var acc [Dims]float64
	ws := words(text)
	content := ws[:0:0]
	for _, w := range ws {
		if !w.stop {
			content = append(content, w)
		}
	}
	if len(content) == 0 {
		content = ws // "who are you?" still means something
	}
	if len(content) == 0 {
		addCharGrams(&acc, strings.Join(strings.Fields(text), " "), charWeight)
	}

	var stems, surfaces, pairs counter
	for i, w := range content {
		stems.add(w.stem, w.weight)
		surfaces.add(w.surface, w.weight)
		if i > 0 {
			prev := content[i-1]
			pairs.add(prev.stem+"\x00"+w.stem, min(prev.weight, w.weight))
		}
	}
	for i, s := range stems.keys {
		addFeature(&acc, hash(kindUnigram, s), unigramWeight*stems.weight(i))
	}
	for i, s := range pairs.keys {
		addFeature(&acc, hash(kindBigram, s), bigramWeight*pairs.weight(i))
	}
	for i, s := range surfaces.keys {
		addCharGrams(&acc, s, charWeight*surfaces.weight(i))
	}
	return normalize(&acc, text)
}

// addCharGrams adds the 3-5-grams of "<s>" (boundary marks make prefixes and suffixes
// distinct features), each weighted so that together they count weight².
func addCharGrams(acc *[Dims]float64, s string, weight float64) {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '<')
	b = append(b, s...)
	b = append(b, '>')
	// Rune start offsets, so a gram never splits a multi-byte character.
	starts := make([]int, 0, len(b)+1)
	for i := 0; i < len(b); {
		starts = append(starts, i)
		_, size := utf8.DecodeRune(b[i:])
		i += size
	}
	starts = append(starts, len(b))
	runes := len(starts) - 1
	grams := 0
	for n := minGram; n <= maxGram; n++ {
		grams += max(0, runes-n+1)
	}
	if grams == 0 {
		addFeature(acc, hashBytes(kindChar, b), weight)
		return
	}
	w := weight / math.Sqrt(float64(grams))
	for n := minGram; n <= maxGram; n++ {
		for i := 0; i+n <= runes; i++ {
			addFeature(acc, hashBytes(kindChar, b[starts[i]:starts[i+n]]), w)
		}
	}
}

// addFeature adds a hashed feature: the hash picks the dimension and the sign, and the
// sign keeps colliding features from adding up into a bias (they cancel on average).
func addFeature(acc *[Dims]float64, h uint64, w float64) {
	if h>>63 == 1 {
		w = -w
	}
	acc[h%Dims] += w
}

// normalize scales acc to unit length. Signed features can, very rarely, cancel to zero;
// then the whole text picks one dimension, so the vector is still a unit vector.
func normalize(acc *[Dims]float64, text string) []float32 {
	var sum float64
	for _, v := range acc {
		sum += v * v
	}
	out := make([]float32, Dims)
	if sum == 0 {
		out[hash(kindWhole, text)%Dims] = 1
		return out
	}
	inv := 1 / math.Sqrt(sum)
	for i, v := range acc {
		out[i] = float32(v * inv)
	}
	return out
}

// counter counts features in first-occurrence order, with the word weight of each.
type counter struct {
	keys    []string
	counts  []int
	weights []float64
	index   map[string]int
}

func (c *counter) add(s string, weight float64) {
	if c.index == nil {
		c.index = make(map[string]int)
	}
	if i, ok := c.index[s]; ok {
		c.counts[i]++
		c.weights[i] = max(c.weights[i], weight)
		return
	}
	c.index[s] = len(c.keys)
	c.keys = append(c.keys, s)
	c.counts = append(c.counts, 1)
	c.weights = append(c.weights, weight)
}

// weight is feature i's word weight times its sublinear term frequency: a word said five
// times is not five times the topic.
func (c *counter) weight(i int) float64 {
	return c.weights[i] * (1 + math.Log(float64(c.counts[i])))
}

// FNV-1a, finished with murmur3's fmix64 so that every output bit, including the sign
// bit and the low bits taken modulo Dims, depends on every input byte. Fixed constants:
// the vectors must not change between processes or machines.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hash(kind byte, s string) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(kind)) * fnvPrime
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return fmix64(h)
}

func hashBytes(kind byte, b []byte) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(kind)) * fnvPrime
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return fmix64(h)
}

func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
