package activities

import (
	"context"
	"strings"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/store"
)

// RecordTurn stores both sides of a finished turn in conversation_history, one usage_logs
// row and, unless the user is incognito, one episodic memory of the turn (rememberTurn).
// Every write is idempotent (the memory is deduplicated by its content hash), so a retry
// stores nothing twice.
func (a *Activities) RecordTurn(ctx context.Context, in RecordTurnInput) (RecordTurnResult, error) {
	replyID := in.Message.ID + "-reply"
	if len(in.MessageIDs) > 0 {
		replyID = in.MessageIDs[0]
	}
	reasoning, err := a.Store.TurnContexts.Reasoning(ctx, in.WorkflowID, in.Personality.ID)
	if err != nil {
		return RecordTurnResult{}, err
	}
	said := in.Message.Content
	if in.Reply.Transcript != "" {
		said = strings.TrimSpace(said + "\n[Voice message] " + in.Reply.Transcript)
	}
	err = a.Store.History.Append(ctx,
		store.Turn{
			ChannelID: in.Message.ChannelID, GuildID: in.Message.GuildID, PersonalityID: in.Personality.ID,
			PersonaID: in.User.PersonaID, UserID: in.User.ID, Role: "user", SpeakerName: in.User.DisplayName,
			Content: said, DiscordMessageID: in.Message.ID, WorkflowID: in.WorkflowID,
			Tokens: llm.CountTokens(in.Reply.Model, in.Message.Content), CreatedAt: in.Message.CreatedAt,
		},
		store.Turn{
			ChannelID: in.Message.ChannelID, GuildID: in.Message.GuildID, PersonalityID: in.Personality.ID,
			PersonaID: in.User.PersonaID, UserID: in.User.ID, Role: "assistant", SpeakerName: in.Personality.DisplayName,
			Content: in.Reply.Text, DiscordMessageID: replyID, WorkflowID: in.WorkflowID, Tokens: in.Reply.TokensOut,
			Reasoning: reasoning,
			CreatedAt: a.now(),
		})
	if err != nil {
		return RecordTurnResult{}, err
	}
	if a.Meter != nil {
		a.Meter.Tokens("in", in.Key.Guest, in.Reply.TokensIn)
		a.Meter.Tokens("out", in.Key.Guest, in.Reply.TokensOut)
	}
	if err := a.Store.Usage.Log(ctx, store.UsageLog{
		WorkflowID: in.WorkflowID, PersonalityID: in.Personality.ID, UserID: in.User.ID,
		Provider: in.Reply.Provider, Model: in.Reply.Model, TokensIn: in.Reply.TokensIn, TokensOut: in.Reply.TokensOut,
		IsGuest: in.Key.Guest,
	}); err != nil {
		return RecordTurnResult{}, err
	}
	return a.rememberTurn(ctx, in, said)
}
