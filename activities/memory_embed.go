package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tzurot/tzurot/activities/embed"
	"github.com/tzurot/tzurot/store"
)

// EmbedderID names an embedder's vector space, recorded with every memory it embeds
// (memories.embedder): vectors of two different IDs are not comparable. "" for none.
// An embedder may name itself with an ID() method; embed.Local is embed.LocalModel and
// LLMEmbedder "openai:<model>".
func EmbedderID(e Embedder) string {
	switch v := e.(type) {
	case nil:
		return ""
	case embed.Local, *embed.Local:
		return embed.LocalModel
	case interface{ ID() string }:
		return v.ID()
	}
	return fmt.Sprintf("%T", e)
}

// ID names the LLM embedder's vector space: its model, asked for store.EmbeddingDim
// dimensions.
func (e LLMEmbedder) ID() string { return "openai:" + e.Model }

// embedMemory embeds text with the configured embedder and checks the dimension, so a
// misconfigured model never reaches the table. ErrEmptyText passes through unchanged.
func (a *Activities) embedMemory(ctx context.Context, text string) ([]float32, error) {
	if a.Embedder == nil {
		return nil, errNoEmbedder
	}
	vec, err := a.Embedder.Embed(ctx, text)
	if err != nil {
		return nil, err
	}
	if len(vec) != store.EmbeddingDim {
		return nil, NonRetryable(ErrTypeLLMBadRequest, fmt.Errorf("the embedder %s returned %d dimensions, the memories table holds %d",
			EmbedderID(a.Embedder), len(vec), store.EmbeddingDim))
	}
	return vec, nil
}

var errNoEmbedder = errors.New("no embedder is configured")

// inlineEmbedTimeout bounds an embedding made inside a turn (RecordTurn, RetrieveMemories):
// a provider that hangs must not hold the turn's own timeout hostage. Past it the turn
// goes on without (retrieval returns none; the memory is stored for the re-embed job).
const inlineEmbedTimeout = 5 * time.Second

// embedInline is embedMemory within inlineEmbedTimeout.
func (a *Activities) embedInline(ctx context.Context, text string) ([]float32, error) {
	ctx, cancel := context.WithTimeout(ctx, inlineEmbedTimeout)
	defer cancel()
	return a.embedMemory(ctx, text)
}
