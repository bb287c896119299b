package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities/embed"
	"github.com/tzurot/tzurot/store"
)

// ErrTypeEmbedderMismatch marks a re-embed batch run by a worker configured with another
// embedder than the job was started for (a deploy in progress): retrying cannot help.
const ErrTypeEmbedderMismatch = "EmbedderMismatch"

// ReembedInput is one batch of the re-embed job.
type ReembedInput struct {
	// Embedder is the embedder the job was started for ("" = whichever this worker has).
	Embedder string
	After    string
	Limit    int
}

// ReembedResult says how the batch went.
type ReembedResult struct {
	Embedder string // the embedder that wrote the new vectors
	Last     string
	Embedded int
	Skipped  int // texts the embedder refused (empty): left as they are
	Done     bool
	Note     string
}

// StaleMemoriesResult counts what the re-embed job has to do.
type StaleMemoriesResult struct {
	Embedder string
	Stale    int
}

// CountStaleMemories counts the memories this worker's embedder has not embedded: written
// by another embedder, or without a vector (imports, writes during a provider outage).
func (a *Activities) CountStaleMemories(ctx context.Context, _ ReembedInput) (StaleMemoriesResult, error) {
	id := EmbedderID(a.Embedder)
	if id == "" {
		return StaleMemoriesResult{}, nil
	}
	n, err := a.Store.Memories.StaleEmbeddings(ctx, id)
	return StaleMemoriesResult{Embedder: id, Stale: n}, err
}

// ReembedMemories embeds one batch of stale memories with this worker's embedder and
// stores each vector with the embedder's name as it goes, so a retry redoes only the rest.
// A provider outage is a retryable error (Temporal backs off; nothing is lost: the rows
// keep their old vector, or none, until a later batch); a wrong dimension or a rejected
// request is non-retryable and ends the job until its next run.
func (a *Activities) ReembedMemories(ctx context.Context, in ReembedInput) (ReembedResult, error) {
	id := EmbedderID(a.Embedder)
	if id == "" {
		return ReembedResult{Done: true, Note: "no embedder is configured"}, nil
	}
	if in.Embedder != "" && in.Embedder != id {
		return ReembedResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("this worker embeds with %s, the job was started for %s", id, in.Embedder), ErrTypeEmbedderMismatch, nil)
	}
	limit := max(in.Limit, 1)
	if in.Limit <= 0 {
		limit = 100
	}
	mems, err := a.Store.Memories.StaleBatch(ctx, id, in.After, limit)
	if err != nil {
		return ReembedResult{}, err
	}
	res := ReembedResult{Embedder: id, Last: in.After, Done: len(mems) < limit}
	vecs := a.embedBatch(ctx, mems)
	for i, m := range mems {
		vec := vecs[i]
		if vec == nil {
			v, err := a.embedMemory(ctx, m.Content)
			if errors.Is(err, embed.ErrEmptyText) {
				res.Skipped++
				res.Last = m.ID
				continue
			}
			if err != nil {
				return res, fmt.Errorf("embed memory %s: %w", m.ID, err)
			}
			vec = v
		}
		if err := a.Store.Memories.SetEmbedding(ctx, m.ID, vec, id); err != nil {
			return res, err
		}
		res.Embedded++
		res.Last = m.ID
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, res.Last)
		}
	}
	return res, nil
}

// batchEmbedder embeds many texts in one call (embed.Local, LLMEmbedder).
type batchEmbedder interface {
	EmbedBatch(ctx context.Context, texts []string) ([][]float32, error)
}

// embedBatch embeds all texts at once when the embedder can; a nil entry (or a failed
// batch) is embedded one by one by the caller, which then sees the real error.
func (a *Activities) embedBatch(ctx context.Context, mems []store.Memory) [][]float32 {
	out := make([][]float32, len(mems))
	b, ok := a.Embedder.(batchEmbedder)
	if !ok || len(mems) == 0 {
		return out
	}
	texts := make([]string, len(mems))
	for i, m := range mems {
		texts[i] = m.Content
	}
	vecs, err := b.EmbedBatch(ctx, texts)
	if err != nil || len(vecs) != len(mems) {
		return out
	}
	for i, v := range vecs {
		if len(v) == store.EmbeddingDim {
			out[i] = v
		}
	}
	return out
}

// EmbedBatch embeds texts in one request, in order.
func (e LLMEmbedder) EmbedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	key, _, err := e.Keys.Reveal(ctx, KeyHandle{Guest: true})
	if err != nil {
		return nil, err
	}
	vecs, _, err := e.Client.EmbedDims(ctx, key, e.Model, store.EmbeddingDim, texts)
	if err != nil {
		return nil, temporalLLMError(err)
	}
	return vecs, nil
}
