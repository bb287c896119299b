package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/prompt"
	"github.com/tzurot/tzurot/store"
)

// CallLLM builds the prompt from the stored turn context, the card and the memories,
// reveals the key its handle names, and asks the model. Errors that no retry can fix
// (bad key, no credit, bad request) are non-retryable; rate limits carry the provider's
// Retry-After as the next retry delay. The key never leaves this function.
func (a *Activities) CallLLM(ctx context.Context, in CallLLMInput) (CallLLMResult, error) {
	card, err := a.Store.Personalities.ByID(ctx, in.Personality.ID)
	if errors.Is(err, store.ErrNotFound) {
		return CallLLMResult{}, NonRetryable(ErrTypeNoPersonality, fmt.Errorf("personality %s no longer exists", in.Personality.Slug))
	}
	if err != nil {
		return CallLLMResult{}, err
	}
	var history []prompt.Line
	if err := a.Store.TurnContexts.Get(ctx, in.WorkflowID, in.Personality.ID, &history); err != nil && !errors.Is(err, store.ErrNotFound) {
		return CallLLMResult{}, fmt.Errorf("load turn context: %w", err)
	}
	mems, err := a.Store.Memories.ByIDs(ctx, in.MemoryIDs)
	if err != nil {
		return CallLLMResult{}, fmt.Errorf("load memories: %w", err)
	}
	memTexts := make([]string, 0, len(mems))
	for _, m := range mems {
		memTexts = append(memTexts, m.Content)
	}
	location := "a Discord server"
	if in.Message.GuildID == "" {
		location = "a direct message"
	}
	msgs := prompt.Build(prompt.Input{
		Personality: card,
		UserName:    in.User.DisplayName,
		Location:    location,
		Now:         a.now(),
		History:     history,
		Memories:    memTexts,
		Message:     prompt.Line{Speaker: in.User.DisplayName, Role: "user", Content: in.Message.Content, At: in.Message.CreatedAt},
	})
	req := llm.Request{Model: a.Config.Model, MaxTokens: a.Config.MaxReplyTokens}
	for _, m := range msgs {
		req.Messages = append(req.Messages, llm.Message{Role: m.Role, Content: m.Content})
	}
	apiKey, baseURL, err := a.Keys.Reveal(ctx, in.Key)
	if err != nil {
		return CallLLMResult{}, err
	}
	defer a.keepTyping(ctx, in.Message.ChannelID)()
	resp, err := a.client(baseURL).Complete(ctx, apiKey, req)
	if err != nil {
		return CallLLMResult{}, temporalLLMError(err)
	}
	return CallLLMResult{
		Text: resp.Text, Provider: in.Key.Provider, Model: resp.Model,
		TokensIn: resp.PromptTokens, TokensOut: resp.CompletionTokens, FinishReason: resp.FinishReason,
	}, nil
}

var clients sync.Map // base URL -> *llm.Client, for keys with their own endpoint

// client returns the LLM client for a base URL ("" is the configured default).
func (a *Activities) client(baseURL string) *llm.Client {
	if baseURL == "" {
		return a.LLM
	}
	if c, ok := clients.Load(baseURL); ok {
		return c.(*llm.Client)
	}
	c, _ := clients.LoadOrStore(baseURL, llm.New(llm.Config{BaseURL: baseURL}))
	return c.(*llm.Client)
}

// temporalLLMError maps the client's typed errors onto Temporal's retry semantics.
func temporalLLMError(err error) error {
	var le *llm.Error
	if !errors.As(err, &le) {
		return err
	}
	switch le.Kind {
	case llm.KindAuth:
		return NonRetryable(ErrTypeLLMAuth, le)
	case llm.KindCredit:
		return NonRetryable(ErrTypeLLMCredit, le)
	case llm.KindBadRequest:
		return NonRetryable(ErrTypeLLMBadRequest, le)
	case llm.KindRateLimit:
		return temporal.NewApplicationErrorWithOptions(le.Error(), string(le.Kind), temporal.ApplicationErrorOptions{NextRetryDelay: le.RetryAfter})
	}
	return temporal.NewApplicationError(le.Error(), string(le.Kind))
}
