package discordtest

import (
	"context"
	"sort"

	"github.com/bwmarrin/discordgo"
)

// WebhookPosts returns every successful webhook execution, in order.
func (s *Server) WebhookPosts() []WebhookPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]WebhookPost(nil), s.posts...)
}

// WaitForWebhookPosts blocks until at least n webhook posts exist, then
// returns all of them; it returns what exists so far with ctx's error if ctx
// ends first. Tests use it instead of sleeping while the bot works.
func (s *Server) WaitForWebhookPosts(ctx context.Context, n int) ([]WebhookPost, error) {
	for {
		s.mu.Lock()
		posts := append([]WebhookPost(nil), s.posts...)
		changed := s.changed
		s.mu.Unlock()
		if len(posts) >= n {
			return posts, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return posts, ctx.Err()
		}
	}
}

// WaitForMessages blocks until channelID holds at least n messages (users',
// the bot's and webhooks' alike), then returns them oldest first; on ctx's
// end it returns what exists with ctx's error. Tests wait for a plain bot
// reply with it; a dev console uses it to show replies as they land.
func (s *Server) WaitForMessages(ctx context.Context, channelID string, n int) ([]*discordgo.Message, error) {
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		msgs := s.Messages(channelID)
		if len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return msgs, ctx.Err()
		}
	}
}

// notifyLocked wakes every waiter; they re-check their condition.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// TypingCount is how many times the bot triggered the typing indicator in a
// channel.
func (s *Server) TypingCount(channelID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.typing[channelID]
}

// Requests returns every REST call so far (the most recent 100000 at most),
// oldest first. No Authorization header and no webhook or interaction token
// is recorded.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// sortByID orders objects by snowflake, i.e. by creation.
func sortByID[T any](xs []T, id func(T) string) {
	sort.Slice(xs, func(i, j int) bool {
		a, _ := parseSnowflake(id(xs[i]))
		b, _ := parseSnowflake(id(xs[j]))
		return a < b
	})
}
