package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/store"
)

// agentCall is one LLM call of a scheduled memory agent (summarize, dream), paid like a
// conversation turn of the scope's owner: their own key if they have one, else the free
// tier under its policy (only free models, its buckets and daily cap).
type agentCall struct {
	Scope   store.MemoryScope
	Kind    string // usage_logs.kind: "summarize" or "dream"
	UsageID string // usage_logs.workflow_id: one row per call, whatever retries it
	System  string
	User    string
	// MaxTokens bounds the answer (a summary or a few reflections).
	MaxTokens int
}

// errAgentRefused marks a call the owner's key situation refuses (no key and no free
// tier, the free tier used up, a revoked key, no credit, a rejected request): the agent
// skips the work with the reason instead of retrying.
type errAgentRefused struct{ reason string }

func (e *errAgentRefused) Error() string { return e.reason }

// callAgentLLM makes the call and logs its usage. An empty answer is "" without error
// (the caller decides what an empty answer means). Refusals are *errAgentRefused; 5xx,
// timeouts and rate limits are retryable activity errors.
func (a *Activities) callAgentLLM(ctx context.Context, c agentCall, set MemorySettings) (string, error) {
	h, err := a.Keys.Resolve(ctx, c.Scope.UserID, c.Scope.PersonalityID)
	if err != nil {
		return "", refusalOr(err)
	}
	key, baseURL, err := a.Keys.Reveal(ctx, h)
	if err != nil {
		return "", refusalOr(err)
	}
	model := set.SummaryModel
	if model == "" {
		model = a.Config.Model
	}
	if h.Guest && !a.Guest.Allows(model) && len(a.Guest.FreeModels) > 0 {
		model = a.Guest.FreeModels[0]
	}
	req := llm.Request{Model: model, MaxTokens: c.MaxTokens, Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: c.System}, {Role: llm.RoleUser, Content: c.User}}}
	resp, err := a.client(baseURL).Complete(ctx, key, req)
	var le *llm.Error
	if errors.As(err, &le) && le.Kind == llm.KindEmpty {
		return "", nil
	}
	if err != nil {
		return "", refusalOr(temporalLLMError(err))
	}
	if err := a.Store.Usage.Log(ctx, store.UsageLog{
		WorkflowID: c.UsageID, PersonalityID: c.Scope.PersonalityID, UserID: c.Scope.UserID, Provider: h.Provider,
		Model: resp.Model, TokensIn: resp.PromptTokens, TokensOut: resp.CompletionTokens, IsGuest: h.Guest, Kind: c.Kind,
	}); err != nil {
		return "", err
	}
	if a.Meter != nil {
		a.Meter.Tokens("in", h.Guest, resp.PromptTokens)
		a.Meter.Tokens("out", h.Guest, resp.CompletionTokens)
	}
	return resp.Text, nil
}

// refusalOr turns the non-retryable errors of key resolution and the LLM call into an
// *errAgentRefused; anything else (retryable) passes through for Temporal to retry.
func refusalOr(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() {
		return &errAgentRefused{reason: fmt.Sprintf("%s: %s", app.Type(), app.Message())}
	}
	return err
}
