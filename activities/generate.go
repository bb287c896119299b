package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/preset"
	"github.com/tzurot/tzurot/activities/prompt"
	"github.com/tzurot/tzurot/activities/reply"
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
	var tc TurnContext
	if err := a.Store.TurnContexts.Get(ctx, in.WorkflowID, in.Personality.ID, &tc); err != nil && !errors.Is(err, store.ErrNotFound) {
		return CallLLMResult{}, fmt.Errorf("load turn context: %w", err)
	}
	history := tc.Lines
	mems, err := a.Store.Memories.ByIDs(ctx, in.MemoryIDs)
	if err != nil {
		return CallLLMResult{}, fmt.Errorf("load memories: %w", err)
	}
	apiKey, baseURL, err := a.Keys.Reveal(ctx, in.Key)
	if err != nil {
		return CallLLMResult{}, err
	}
	client := a.client(baseURL)
	values, err := ResolveParameters(ctx, a.Store, in.User.ID, in.Personality.ID, in.Key.Guest, PresetFallback(a.Config))
	if err != nil {
		return CallLLMResult{}, err
	}
	cfg := a.configFor(values)
	pin := a.promptInput(cfg, in, card, tc, mems)
	notes, transcript, images, attIn, attOut := a.readAttachments(ctx, cfg, client, apiKey, in.Message.Attachments)
	if transcript != "" {
		pin.Message.Content = strings.TrimSpace(pin.Message.Content + "\n[Voice message] " + transcript)
	}
	if len(notes) > 0 {
		pin.Message.Content = strings.TrimSpace(pin.Message.Content + "\n" + strings.Join(notes, "\n"))
	}
	msgs := prompt.Build(pin)
	req, err := preset.Apply(values, in.Key.Provider)
	if err != nil {
		return CallLLMResult{}, NonRetryable(ErrTypeBadPreset, err)
	}
	if in.Key.Guest && !a.Guest.Allows(req.Model) {
		// A guest never reaches a paid model on the operator's key, whatever they chose.
		req.Model = a.Guest.FreeModels[0]
	}
	for _, m := range msgs {
		req.Messages = append(req.Messages, llm.Message{Role: m.Role, Content: m.Content})
	}
	req.Messages[len(req.Messages)-1].ImageURLs = images
	defer a.keepTyping(ctx, in.Message.ChannelID)()
	res, err := a.generate(ctx, client, apiKey, req, card.DisplayName, pin.Message.Content, lastOwnReply(history))
	if err != nil {
		return CallLLMResult{}, err
	}
	res.TokensIn, res.TokensOut = res.TokensIn+attIn, res.TokensOut+attOut
	res.Transcript = transcript
	res.Provider = in.Key.Provider
	var footer []string
	if in.Key.Guest && len(a.Guest.FreeModels) > 0 {
		footer = append(footer, GuestFooter)
	}
	if card.ShowModelFooter {
		footer = append(footer, "-# "+res.Model)
	}
	res.Footer = strings.Join(footer, "\n")
	if res.reasoning != "" {
		if err := a.Store.TurnContexts.SetReasoning(ctx, in.WorkflowID, in.Personality.ID, res.reasoning); err != nil {
			return CallLLMResult{}, fmt.Errorf("keep reasoning: %w", err)
		}
	}
	return res.CallLLMResult, nil
}

// promptInput gathers what the prompt is built from: the card, where and when (in the
// user's time zone), who is talking, the chat log, memories within their token share
// (whole memories only) and referenced messages.
func (a *Activities) promptInput(cfg Config, in CallLLMInput, card store.Personality, tc TurnContext, mems []store.Memory) prompt.Input {
	count := func(s string) int { return llm.CountTokens(a.Config.Model, s) }
	var memTexts []string
	used := 0
	for _, m := range mems {
		n := count(m.Content) + 2
		if cfg.MemoryTokens > 0 && used+n > cfg.MemoryTokens {
			break
		}
		used += n
		memTexts = append(memTexts, m.Content)
	}
	now := a.now()
	if loc, err := time.LoadLocation(in.User.Timezone); err == nil && in.User.Timezone != "" {
		now = now.In(loc)
	}
	msg := in.Message
	channel, parent := msg.ChannelName, ""
	if msg.ParentChannelID != "" {
		parent = msg.ParentChannelName
	}
	return prompt.Input{
		Personality:  card,
		UserName:     in.User.DisplayName,
		Participants: []prompt.Participant{{Name: in.User.DisplayName, Pronouns: in.User.Pronouns, About: in.User.About}},
		Location:     prompt.Where(msg.GuildName, channel, parent, msg.GuildID == ""),
		Now:          now,
		History:      tc.Lines,
		Memories:     memTexts,
		References:   tc.References,
		Message:      prompt.Line{Speaker: in.User.DisplayName, Role: "user", Content: msg.Content, At: msg.CreatedAt},
	}
}

// maxGenerations bounds how often an empty, echoing or repeated reply is generated again.
const maxGenerations = 3

type generation struct {
	CallLLMResult
	reasoning string
}

// generate asks the model and cleans the answer; an empty, echo-only or duplicate reply
// is generated again with a higher temperature, at most maxGenerations times in all.
// Tokens of every attempt count. After the last bad attempt the reply is given up on
// (non-retryable), and the workflow posts the character's error message.
func (a *Activities) generate(ctx context.Context, c *llm.Client, apiKey string, req llm.Request, name, userMessage, previous string) (generation, error) {
	var g generation
	base := float32(0.8)
	if req.Temperature != nil {
		base = *req.Temperature
	}
	var why string
	for attempt := 0; attempt < maxGenerations; attempt++ {
		if attempt > 0 {
			t := min(base+0.2*float32(attempt), 2)
			req.Temperature = &t
		}
		resp, err := c.Complete(ctx, apiKey, req)
		var le *llm.Error
		if errors.As(err, &le) && le.Kind == llm.KindEmpty {
			why = "empty"
			continue
		}
		if err != nil {
			if a.Meter != nil && errors.As(err, &le) {
				a.Meter.StepError("CallLLM", string(le.Kind))
			}
			return g, temporalLLMError(err)
		}
		g.TokensIn += resp.PromptTokens
		g.TokensOut += resp.CompletionTokens
		g.Model, g.FinishReason = resp.Model, resp.FinishReason
		cleaned := reply.Clean(resp.Text, resp.Reasoning, name, userMessage)
		if why = reply.Verdict(cleaned, userMessage, previous); why == "" {
			g.Text, g.reasoning, g.Attempts = cleaned.Text, cleaned.Reasoning, attempt+1
			return g, nil
		}
		a.log().Warn("regenerating a reply", "attempt", attempt+1, "reason", why)
	}
	return g, NonRetryable(ErrTypeLLMEmpty, fmt.Errorf("no usable reply after %d attempts (last: %s)", maxGenerations, why))
}

// lastOwnReply is the character's previous message in the context (to catch a model
// repeating itself word for word).
func lastOwnReply(lines []prompt.Line) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].Role == "assistant" {
			return lines[i].Content
		}
	}
	return ""
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
