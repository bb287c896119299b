package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
)

// a refers to activity methods by reference; it is never dereferenced.
var a *activities.Activities

// ConversationInput is the message that may trigger personalities.
type ConversationInput struct {
	Message activities.MessageSnapshot
}

// ConversationResult says what each personality did, in delivery order.
type ConversationResult struct {
	Replies []ReplyOutcome
}

// ReplyOutcome is one personality's part of a conversation.
type ReplyOutcome struct {
	PersonalityID string
	Slug          string
	MessageIDs    []string
	Failed        bool   // the personality's error message was delivered instead
	Reason        string // why it failed, for operators
}

// Status is the answer to the "status" query: where the workflow is now.
type Status struct {
	Step        string // e.g. "CallLLM"
	Personality string // slug of the personality being served
	Done        []string
}

// ConversationWorkflow runs one Discord message: resolve who answers, then for each
// personality in order fetch context, recall memories, generate, deliver and record. One
// failing personality delivers its error message and the others still answer.
func ConversationWorkflow(ctx workflow.Context, in ConversationInput) (ConversationResult, error) {
	status := &Status{Step: "ResolvePersonalities"}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return *status, nil }); err != nil {
		return ConversationResult{}, err
	}
	var resolved activities.ResolvePersonalitiesResult
	if err := workflow.ExecuteActivity(withOptions(ctx, dbOptions), a.ResolvePersonalities,
		activities.ResolvePersonalitiesInput{Message: in.Message}).Get(ctx, &resolved); err != nil {
		return ConversationResult{}, err
	}
	if len(resolved.Personalities) == 0 {
		status.Step = "Done"
		return ConversationResult{}, nil
	}
	slugs := make([]string, len(resolved.Personalities))
	for i, p := range resolved.Personalities {
		slugs[i] = p.Slug
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, AttrPersonality.ValueSet(slugs)); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not set", "err", err)
	}

	var res ConversationResult
	var prior []activities.PriorReply
	for _, p := range resolved.Personalities {
		t := turn{msg: in.Message, p: p, user: resolved.User, prior: prior, status: status}
		out, text := t.run(ctx)
		res.Replies = append(res.Replies, out)
		if !out.Failed {
			prior = append(prior, activities.PriorReply{PersonalityID: p.ID, DisplayName: p.DisplayName, Text: text})
		}
		status.Done = append(status.Done, p.Slug)
	}
	status.Step, status.Personality = "Done", ""
	return res, nil
}

// turn is one personality's answer to the message.
type turn struct {
	msg    activities.MessageSnapshot
	p      activities.PersonalityRef
	user   activities.UserRef
	prior  []activities.PriorReply
	status *Status
}

func (t turn) step(name string) { t.status.Step, t.status.Personality = name, t.p.Slug }

// run returns the outcome and the reply text. A failure before delivery turns into the
// personality's error message; a delivery failure is reported and not retried further.
func (t turn) run(ctx workflow.Context) (ReplyOutcome, string) {
	out := ReplyOutcome{PersonalityID: t.p.ID, Slug: t.p.Slug}
	wfID := workflow.GetInfo(ctx).WorkflowExecution.ID

	reply, err := t.generate(ctx, wfID)
	if err != nil {
		out.Failed, out.Reason = true, errorReason(err)
		workflow.GetLogger(ctx).Warn("generation failed; sending the error message", "personality", t.p.Slug, "reason", out.Reason)
		t.step("DeliverError")
		var delivered activities.DeliverReplyResult
		derr := workflow.ExecuteActivity(withOptions(ctx, deliverOptions), a.DeliverReply, activities.DeliverReplyInput{
			WorkflowID: wfID, Message: t.msg, Personality: t.p, ErrorMessage: true, Notice: userNotice(err),
		}).Get(ctx, &delivered)
		if derr != nil {
			out.Reason += "; error message not delivered: " + errorReason(derr)
		}
		out.MessageIDs = delivered.MessageIDs
		return out, ""
	}

	t.step("DeliverReply")
	var delivered activities.DeliverReplyResult
	if err := workflow.ExecuteActivity(withOptions(ctx, deliverOptions), a.DeliverReply, activities.DeliverReplyInput{
		WorkflowID: wfID, Message: t.msg, Personality: t.p, Text: reply.Text, Footer: reply.Footer,
	}).Get(ctx, &delivered); err != nil {
		out.Failed, out.Reason = true, "delivery: "+errorReason(err)
		return out, ""
	}
	out.MessageIDs = delivered.MessageIDs

	t.step("RecordTurn")
	if err := workflow.ExecuteActivity(withOptions(ctx, dbOptions), a.RecordTurn, activities.RecordTurnInput{
		WorkflowID: wfID, Message: t.msg, Personality: t.p, User: t.user, Key: reply.key, Reply: reply.CallLLMResult,
		MessageIDs: delivered.MessageIDs,
	}).Get(ctx, nil); err != nil {
		// The user has the reply; losing its record is logged, not shown.
		workflow.GetLogger(ctx).Error("turn not recorded", "personality", t.p.Slug, "err", err)
	}
	return out, reply.Text
}

type generated struct {
	activities.CallLLMResult
	key activities.KeyHandle
}

func (t turn) generate(ctx workflow.Context, wfID string) (generated, error) {
	var g generated
	t.step("ResolveKey")
	if err := workflow.ExecuteActivity(withOptions(ctx, dbOptions), a.ResolveKey,
		activities.ResolveKeyInput{UserID: t.user.ID, PersonalityID: t.p.ID}).Get(ctx, &g.key); err != nil {
		return g, err
	}
	t.step("FetchContext")
	if err := workflow.ExecuteActivity(withOptions(ctx, discordReadOptions), a.FetchContext, activities.FetchContextInput{
		WorkflowID: wfID, Message: t.msg, Personality: t.p, User: t.user, PriorReplies: t.prior,
	}).Get(ctx, nil); err != nil {
		return g, err
	}
	t.step("RetrieveMemories")
	var mems activities.RetrieveMemoriesResult
	if err := workflow.ExecuteActivity(withOptions(ctx, memoryOptions), a.RetrieveMemories, activities.RetrieveMemoriesInput{
		Query: t.msg.Content, PersonaID: t.user.PersonaID, PersonalityID: t.p.ID,
	}).Get(ctx, &mems); err != nil {
		// Memories enrich a reply; a reply without them beats no reply.
		workflow.GetLogger(ctx).Warn("memories unavailable", "personality", t.p.Slug, "err", err)
	}
	t.step("CallLLM")
	err := workflow.ExecuteActivity(withOptions(ctx, llmOptions), a.CallLLM, activities.CallLLMInput{
		WorkflowID: wfID, Message: t.msg, Personality: t.p, User: t.user, Key: g.key, MemoryIDs: mems.MemoryIDs,
	}).Get(ctx, &g.CallLLMResult)
	return g, err
}

// userNotice is the explanation a user gets instead of the character's error message
// when they can act on the failure (the free tier's limits); "" otherwise.
func userNotice(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == activities.ErrTypeGuestQuota {
		return app.Message()
	}
	return ""
}

// errorReason extracts the readable cause of an activity failure (the activity's own
// message, not the wrapping), for logs and the result.
func errorReason(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		if app.Type() != "" {
			return app.Type() + ": " + app.Message()
		}
		return app.Message()
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		return "timed out (" + timeout.TimeoutType().String() + ")"
	}
	return err.Error()
}

func withOptions(ctx workflow.Context, o workflow.ActivityOptions) workflow.Context {
	return workflow.WithActivityOptions(ctx, o)
}

// Activity options, each chosen for what the activity touches.
var (
	// dbOptions: PostgreSQL reads and idempotent writes; quick, retried for a few minutes
	// so a database restart is ridden out.
	dbOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    15 * time.Second,
		ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 15 * time.Second},
	}
	// discordReadOptions: Discord REST reads; rate limits are waited out inside discordgo.
	discordReadOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 3 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 20 * time.Second},
	}
	// memoryOptions: optional enrichment, so few attempts.
	memoryOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 20 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3},
	}
	// llmOptions: a generation may take a minute; 5xx, timeouts and 429s retry with
	// backoff (429 after the provider's Retry-After) until the overall deadline; errors
	// that cannot succeed stop at once.
	llmOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeLLMAuth, activities.ErrTypeLLMCredit,
				activities.ErrTypeLLMBadRequest, activities.ErrTypeNoPersonality},
		},
	}
	// deliverOptions: the reply must arrive; Discord outages are retried for up to an
	// hour. Delivery is idempotent per chunk, so retries never double a message.
	deliverOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		HeartbeatTimeout:       30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{activities.ErrTypeDiscord},
		},
	}
)
