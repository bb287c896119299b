package discord

import (
	"context"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/activities"
)

// Dispatch replaces starting a workflow (the benchmark's baseline depends on it; a
// refactor once dropped it silently and the baseline measured the durable path).
func TestGatewayDispatchReplacesTheWorkflowStart(t *testing.T) {
	var got []activities.MessageSnapshot
	g := &Gateway{Dispatch: func(_ context.Context, snap activities.MessageSnapshot) { got = append(got, snap) }}
	s := &discordgo.Session{State: discordgo.NewState()}
	s.State.User = &discordgo.User{ID: "bot"}
	for _, m := range []*discordgo.Message{
		{ID: "1", ChannelID: "c", GuildID: "g", Content: "@Lilith hi", Author: &discordgo.User{ID: "u"}},
		{ID: "2", ChannelID: "c", GuildID: "g", Content: "no trigger here", Author: &discordgo.User{ID: "u"}},
		{ID: "3", ChannelID: "c", GuildID: "g", Content: "@Lilith from a bot", Author: &discordgo.User{ID: "b", Bot: true}},
	} {
		g.onMessage(context.Background(), s, &discordgo.MessageCreate{Message: m})
	}
	if len(got) != 1 || got[0].ID != "1" {
		t.Fatalf("dispatched %+v; want only the mention from a person", got)
	}
}
