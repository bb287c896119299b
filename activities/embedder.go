package activities

import (
	"context"
	"fmt"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/store"
)

// LLMEmbedder embeds text through an OpenAI-compatible embeddings endpoint, asking for the
// dimension the memories table was migrated with.
type LLMEmbedder struct {
	Client *llm.Client
	Keys   KeySource
	Model  string
}

// Embed implements Embedder. It uses the operator's key: embeddings are cheap and the
// memory index must not depend on which user's key is present.
func (e LLMEmbedder) Embed(ctx context.Context, text string) ([]float32, error) {
	key, _, err := e.Keys.Reveal(ctx, KeyHandle{Guest: true})
	if err != nil {
		return nil, err
	}
	vecs, _, err := e.Client.EmbedDims(ctx, key, e.Model, store.EmbeddingDim, []string{text})
	if err != nil {
		return nil, temporalLLMError(err)
	}
	if len(vecs) != 1 || len(vecs[0]) != store.EmbeddingDim {
		return nil, NonRetryable(ErrTypeLLMBadRequest, fmt.Errorf("embedding model %q returned %d dimensions, the memories table holds %d", e.Model, len(vecs[0]), store.EmbeddingDim))
	}
	return vecs[0], nil
}
