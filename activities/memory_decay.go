package activities

import (
	"context"
	"fmt"
)

// MemoryBatch pages a scheduled agent's work: one activity handles the rows after After,
// at most Limit of them, and says where the next one starts.
type MemoryBatch struct {
	After string
	Limit int
}

func (b MemoryBatch) limit(def int) int {
	if b.Limit <= 0 {
		return def
	}
	return b.Limit
}

// DecayMemoriesResult is one batch of the daily salience decay.
type DecayMemoriesResult struct {
	Last     string
	Scanned  int
	Archived int
	Done     bool
}

// DecayMemories lowers the salience of one batch of active memories, each by its
// sector's daily rate (MemorySettings.DecayPerDay) for the days since it last decayed;
// unlocked memories below MemorySettings.ArchiveBelow are archived (never deleted).
// Locked memories do not decay. A retried batch decays nothing twice.
func (a *Activities) DecayMemories(ctx context.Context, in MemoryBatch) (DecayMemoriesResult, error) {
	set := a.memorySettings(ctx)
	d, err := a.Store.Memories.DecayMemories(ctx, in.After, in.limit(1000), set.DecayPerDay, set.ArchiveBelow, a.now())
	if err != nil {
		return DecayMemoriesResult{}, fmt.Errorf("decay: %w", err)
	}
	return DecayMemoriesResult{Last: d.Last, Scanned: d.Scanned, Archived: d.Archived, Done: d.Done}, nil
}

// DecayLinksResult is one batch of the daily link decay.
type DecayLinksResult struct {
	Last   string
	Links  int
	Pruned int
	Done   bool
}

// DecayMemoryLinks weakens one batch of the memory graph's links by
// MemorySettings.LinkDecayPerDay and deletes those below MemorySettings.LinkFloor.
func (a *Activities) DecayMemoryLinks(ctx context.Context, in MemoryBatch) (DecayLinksResult, error) {
	set := a.memorySettings(ctx)
	d, err := a.Store.Memories.DecayLinks(ctx, in.After, in.limit(500), set.LinkDecayPerDay, set.LinkFloor, a.now())
	if err != nil {
		return DecayLinksResult{}, err
	}
	return DecayLinksResult{Last: d.Last, Links: d.Links, Pruned: d.Pruned, Done: d.Done}, nil
}
