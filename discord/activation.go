package discord

import (
	"context"
	"sync"
	"time"

	"github.com/tzurot/tzurot/store"
)

// ActivationCache answers "is a character activated in this channel?" from memory for
// the gateway's cheap filter, reloading from the database at most every ttl. The bot
// invalidates it when /channel changes something, so activation takes effect at once on
// this replica (other replicas within ttl).
type ActivationCache struct {
	store *store.Store
	ttl   time.Duration

	mu       sync.Mutex
	loadedAt time.Time
	channels map[string]bool
}

// NewActivationCache builds an empty cache over the store.
func NewActivationCache(st *store.Store, ttl time.Duration) *ActivationCache {
	return &ActivationCache{store: st, ttl: ttl}
}

// IsActivated implements ActivatedChannels.
func (c *ActivationCache) IsActivated(channelID string) bool {
	if channelID == "" || c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.loadedAt) > c.ttl {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ids, err := c.store.Channels.ActivatedChannels(ctx)
		cancel()
		if err == nil {
			c.channels = ids
		}
		c.loadedAt = time.Now() // on error keep the old set and retry after ttl
	}
	return c.channels[channelID]
}

// Invalidate forces the next lookup to reload.
func (c *ActivationCache) Invalidate() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.loadedAt = time.Time{}
	c.mu.Unlock()
}
