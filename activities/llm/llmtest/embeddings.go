package llmtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"

	"github.com/tzurot/tzurot/activities/llm"
)

// DefaultDimensions is the vector size when a request names none (text-embedding-3-small).
const DefaultDimensions = 1536

// maxDimensions bounds "dimensions" as text-embedding-3-large does.
const maxDimensions = 3072

// handleEmbeddings is POST /v1/embeddings.
func (s *Stub) handleEmbeddings(w http.ResponseWriter, _ *http.Request, c *call) {
	if _, ok := s.authorize(w, c); !ok {
		return
	}
	var raw map[string]any
	if err := json.Unmarshal(c.body, &raw); err != nil || raw == nil {
		s.badRequest(w, c, "", "We could not parse the JSON body of your request.")
		return
	}
	model, _ := raw["model"].(string)
	if model == "" {
		s.badRequest(w, c, "model", "you must provide a model parameter")
		return
	}
	inputs, ok := embeddingInputs(raw["input"])
	if !ok {
		s.badRequest(w, c, "input", "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
		return
	}
	dims := DefaultDimensions
	if v, present := raw["dimensions"]; present && v != nil {
		f, isNum := v.(float64)
		if !isNum || f != math.Trunc(f) || f < 1 || f > maxDimensions {
			s.badRequest(w, c, "dimensions", "Invalid 'dimensions': expected an integer between 1 and 3072.")
			return
		}
		dims = int(f)
	}
	base64Out := raw["encoding_format"] == "base64"
	data := make([]any, len(inputs))
	tokens := 0
	for i, in := range inputs {
		vec := Vector(in, dims)
		var emb any = vec
		if base64Out {
			emb = encodeBase64(vec)
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": emb}
		tokens += llm.CountTokens(model, in)
	}
	s.write(w, c, http.StatusOK, map[string]any{
		"object": "list",
		"data":   data,
		"model":  model,
		"usage":  map[string]any{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}

// embeddingInputs accepts a string or a non-empty list of non-empty strings.
func embeddingInputs(v any) ([]string, bool) {
	switch x := v.(type) {
	case string:
		return []string{x}, x != ""
	case []any:
		if len(x) == 0 || len(x) > 2048 {
			return nil, false
		}
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// Vector is the stub's embedding of text: a unit vector drawn from a generator seeded with
// the text's SHA-256, so equal texts embed equally and different texts point apart.
func Vector(text string, dims int) []float32 {
	sum := sha256.Sum256([]byte(text))
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
	vec := make([]float32, dims)
	var norm float64
	for i := range vec {
		f := rng.NormFloat64()
		vec[i] = float32(f)
		norm += f * f
	}
	norm = math.Sqrt(norm)
	if norm == 0 {
		vec[0], norm = 1, 1
	}
	for i := range vec {
		vec[i] = float32(float64(vec[i]) / norm)
	}
	return vec
}

// encodeBase64 is OpenAI's base64 embedding format: little-endian float32s.
func encodeBase64(vec []float32) string {
	b := make([]byte, 4*len(vec))
	for i, f := range vec {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return base64.StdEncoding.EncodeToString(b)
}
