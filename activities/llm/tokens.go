package llm

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

// Encoding names, as tiktoken calls them.
const (
	encodingO200K  = "o200k_base"
	encodingCL100K = "cl100k_base"
)

// encoder is one lazily built tokenizer. The BPE ranks come from the offline loader's
// embedded files, so counting tokens never touches the network. The encoders are built
// here rather than through tiktoken.GetEncoding so that no package-global loader has to
// be swapped (tiktoken's default loader downloads from the internet).
type encoder struct {
	once sync.Once
	tk   *tiktoken.Tiktoken
}

var encoders = map[string]*encoder{
	encodingO200K:  {},
	encodingCL100K: {},
}

// Split patterns and special tokens copied from tiktoken-go v0.1.8's encoding.go, which
// copies them from OpenAI's tiktoken.
var encodingSpecs = map[string]struct {
	pattern string
	special map[string]int
}{
	encodingO200K: {
		pattern: strings.Join([]string{
			`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
			`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
			`\p{N}{1,3}`,
			` ?[^\s\p{L}\p{N}]+[\r\n/]*`,
			`\s*[\r\n]+`,
			`\s+(?!\S)`,
			`\s+`,
		}, "|"),
		special: map[string]int{tiktoken.ENDOFTEXT: 199999, tiktoken.ENDOFPROMPT: 200018},
	},
	encodingCL100K: {
		pattern: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		special: map[string]int{
			tiktoken.ENDOFTEXT:   100257,
			tiktoken.FIM_PREFIX:  100258,
			tiktoken.FIM_MIDDLE:  100259,
			tiktoken.FIM_SUFFIX:  100260,
			tiktoken.ENDOFPROMPT: 100276,
		},
	},
}

// get builds the encoder on first use; nil means it could not be built and callers
// estimate instead.
func (e *encoder) get(name string) *tiktoken.Tiktoken {
	e.once.Do(func() {
		spec := encodingSpecs[name]
		ranks, err := tiktokenloader.NewOfflineLoader().LoadTiktokenBpe(name + ".tiktoken")
		if err != nil {
			return
		}
		bpe, err := tiktoken.NewCoreBPE(ranks, spec.special, spec.pattern)
		if err != nil {
			return
		}
		set := make(map[string]any, len(spec.special))
		for k := range spec.special {
			set[k] = true
		}
		e.tk = tiktoken.NewTiktoken(bpe, &tiktoken.Encoding{
			Name:           name,
			PatStr:         spec.pattern,
			MergeableRanks: ranks,
			SpecialTokens:  spec.special,
		}, set)
	})
	return e.tk
}

// o200kPrefixes are the OpenAI model families tokenized with o200k_base.
var o200kPrefixes = []string{"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-oss", "chatgpt-4o", "o1", "o3", "o4"}

// EncodingForModel names the tiktoken encoding used to count tokens for a model id, with
// or without an OpenRouter vendor prefix ("openai/gpt-4o") or variant suffix (":free").
// OpenAI's newer families use o200k_base; everything else, including other vendors'
// models whose tokenizers are not public, is approximated with cl100k_base.
func EncodingForModel(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	if i := strings.IndexByte(m, ':'); i >= 0 {
		m = m[:i]
	}
	for _, p := range o200kPrefixes {
		if m == p || strings.HasPrefix(m, p+"-") || strings.HasPrefix(m, p+".") {
			return encodingO200K
		}
	}
	return encodingCL100K
}

// CountTokens counts the tokens of text as the model's tokenizer would, or as close as a
// public tokenizer gets. Special-token markers in user text are counted as plain text.
// It never fails: should an encoder be unavailable it falls back to an estimate.
func CountTokens(model, text string) int {
	if text == "" {
		return 0
	}
	name := EncodingForModel(model)
	if tk := encoders[name].get(name); tk != nil {
		return len(tk.EncodeOrdinary(text))
	}
	return estimateTokens(text)
}

// estimateTokens is the fallback: about four bytes per token for ASCII, one token per
// rune elsewhere (CJK text runs close to that).
func estimateTokens(text string) int {
	ascii, other := 0, 0
	for _, r := range text {
		if r < utf8.RuneSelf {
			ascii++
		} else {
			other++
		}
	}
	return (ascii+3)/4 + other
}

// Per-message overhead of the chat format, from OpenAI's token counting cookbook.
const (
	tokensPerMessage = 3
	tokensPerName    = 1
	tokensForReply   = 3
	tokensPerImage   = 85 // a low-detail image; high detail costs more, this is a floor
)

// CountMessageTokens estimates the prompt tokens of a chat request, including the chat
// format's per-message overhead, so prompt assembly can budget before calling.
func CountMessageTokens(model string, msgs []Message) int {
	n := tokensForReply
	for _, m := range msgs {
		n += tokensPerMessage + CountTokens(model, m.Role) + CountTokens(model, m.Content)
		if m.Name != "" {
			n += tokensPerName + CountTokens(model, m.Name)
		}
		n += tokensPerImage * len(m.ImageURLs)
	}
	return n
}
