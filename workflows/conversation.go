package workflows

import (
	"errors"
	"strings"

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
	Replies   []ReplyOutcome
	Cancelled string // the operator's reason, when cancelled
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
	Attempt     int    // 1, or more after an operator's retry signal (activity retries show in the UI)
	Done        []string
}

// Versions of ConversationWorkflow's shape, for workflow.GetVersion.
const (
	// versionTriggerMemo adds the trigger-kind search attribute and the memo.
	versionTriggerMemo = "trigger-attribute-and-memo"
	// versionNotices posts ResolvePersonalities' notices (an NSFW character refused).
	versionNotices = "resolve-notices"
	// versionLocalDB runs the database-only steps as local activities.
	versionLocalDB = "local-db-steps"
)

// ConversationWorkflow runs one Discord message: resolve who answers, then for each
// personality in order fetch context, recall memories, generate, deliver and record. One
// failing personality delivers its error message and the others still answer. Operators
// can retry a stuck step or cancel the conversation with signals.
func ConversationWorkflow(ctx workflow.Context, in ConversationInput) (ConversationResult, error) {
	status := &Status{Step: "ResolvePersonalities", Attempt: 1}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return *status, nil }); err != nil {
		return ConversationResult{}, err
	}
	ctl := newControl(ctx, status)
	ctl.localDB = workflow.GetVersion(ctx, versionLocalDB, workflow.DefaultVersion, 1) >= 1
	var resolved activities.ResolvePersonalitiesResult
	err := ctl.exec(ctx, "ResolvePersonalities", "", dbOptions, a.ResolvePersonalities,
		activities.ResolvePersonalitiesInput{Message: in.Message}, &resolved)
	if errors.Is(err, errCancelled) {
		return ConversationResult{Cancelled: ctl.reason}, nil
	}
	if err != nil {
		return ConversationResult{}, err
	}
	if len(resolved.Notices) > 0 && workflow.GetVersion(ctx, versionNotices, workflow.DefaultVersion, 1) >= 1 {
		postNotices(ctx, in.Message, resolved.Notices)
	}
	if len(resolved.Personalities) == 0 {
		status.Step = "Done"
		return ConversationResult{}, nil
	}
	describe(ctx, in.Message, resolved.Personalities)

	var res ConversationResult
	var prior []activities.PriorReply
	for _, p := range resolved.Personalities {
		t := turn{msg: in.Message, p: p, user: resolved.User, prior: prior, ctl: ctl}
		out, text := t.run(ctx)
		res.Replies = append(res.Replies, out)
		if ctl.cancelled {
			res.Cancelled = ctl.reason
			break
		}
		if !out.Failed {
			prior = append(prior, activities.PriorReply{PersonalityID: p.ID, DisplayName: p.DisplayName, Text: text})
		}
		status.Done = append(status.Done, p.Slug)
	}
	status.Step, status.Personality = "Done", ""
	return res, nil
}

// postNotices tells the author why some character did not answer. A notice that cannot
// be posted is logged; it never stops the others from answering.
func postNotices(ctx workflow.Context, msg activities.MessageSnapshot, notices []string) {
	wfID := workflow.GetInfo(ctx).WorkflowExecution.ID
	for i, n := range notices {
		if err := workflow.ExecuteActivity(withOptions(ctx, deliverOptions), a.PostNotice, activities.PostNoticeInput{
			WorkflowID: wfID, Message: msg, Index: i, Text: n,
		}).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("notice not delivered", "err", err)
		}
	}
}

// describe sets what operators filter and read in the UI: the personalities, how they
// were called, and a memo (encrypted by the codec like every payload).
func describe(ctx workflow.Context, msg activities.MessageSnapshot, ps []activities.PersonalityRef) {
	slugs := make([]string, len(ps))
	triggers := make([]string, 0, len(ps))
	for i, p := range ps {
		slugs[i] = p.Slug
		if !contains(triggers, p.Reason) {
			triggers = append(triggers, p.Reason)
		}
	}
	updates := []temporal.SearchAttributeUpdate{AttrPersonality.ValueSet(slugs)}
	v := workflow.GetVersion(ctx, versionTriggerMemo, workflow.DefaultVersion, 1)
	if v >= 1 {
		updates = append(updates, AttrTrigger.ValueSet(triggers))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not set", "err", err)
	}
	if v >= 1 {
		memo := map[string]any{"characters": strings.Join(slugs, ", "), "channel": msg.ChannelName, "preview": preview(msg.Content)}
		if err := workflow.UpsertMemo(ctx, memo); err != nil {
			workflow.GetLogger(ctx).Warn("memo not set", "err", err)
		}
	}
}

// preview is the first words of a message, for the memo.
func preview(s string) string {
	const max = 80
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= max {
		return string(r)
	}
	return string(r[:max]) + "…"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// turn is one personality's answer to the message.
type turn struct {
	msg   activities.MessageSnapshot
	p     activities.PersonalityRef
	user  activities.UserRef
	prior []activities.PriorReply
	ctl   *control
}

// run returns the outcome and the reply text. A failure before delivery turns into the
// personality's error message; a delivery failure is reported and not retried further.
func (t turn) run(ctx workflow.Context) (ReplyOutcome, string) {
	out := ReplyOutcome{PersonalityID: t.p.ID, Slug: t.p.Slug}
	wfID := workflow.GetInfo(ctx).WorkflowExecution.ID

	reply, err := t.generate(ctx, wfID)
	if err != nil {
		out.Failed, out.Reason = true, errorReason(err)
		notice := userNotice(err)
		if errors.Is(err, errCancelled) {
			notice = t.p.DisplayName + "'s reply was stopped by an operator."
		}
		workflow.GetLogger(ctx).Warn("generation failed; sending the error message", "personality", t.p.Slug, "reason", out.Reason)
		t.ctl.status.Step = "DeliverError"
		var delivered activities.DeliverReplyResult
		// Not under t.ctl: the user is told even when the conversation was cancelled.
		derr := workflow.ExecuteActivity(withOptions(ctx, deliverOptions), a.DeliverReply, activities.DeliverReplyInput{
			WorkflowID: wfID, Message: t.msg, Personality: t.p, ErrorMessage: true, Notice: notice,
		}).Get(ctx, &delivered)
		if derr != nil {
			out.Reason += "; error message not delivered: " + errorReason(derr)
		}
		out.MessageIDs = delivered.MessageIDs
		return out, ""
	}

	var delivered activities.DeliverReplyResult
	if err := t.ctl.exec(ctx, "DeliverReply", t.p.Slug, deliverOptions, a.DeliverReply, activities.DeliverReplyInput{
		WorkflowID: wfID, Message: t.msg, Personality: t.p, Text: reply.Text, Footer: reply.Footer,
	}, &delivered); err != nil {
		out.Failed, out.Reason = true, "delivery: "+errorReason(err)
		return out, ""
	}
	out.MessageIDs = delivered.MessageIDs

	// The reply is out; recording it is not cancellable (the user saw it).
	t.ctl.status.Step = "RecordTurn"
	record := activities.RecordTurnInput{
		WorkflowID: wfID, Message: t.msg, Personality: t.p, User: t.user, Key: reply.key, Reply: reply.CallLLMResult,
		MessageIDs: delivered.MessageIDs,
	}
	var recorded workflow.Future
	if t.ctl.localDB {
		recorded = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localOptions(dbOptions)), a.RecordTurn, record)
	} else {
		recorded = workflow.ExecuteActivity(withOptions(ctx, dbOptions), a.RecordTurn, record)
	}
	if err := recorded.Get(ctx, nil); err != nil {
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
	slug := t.p.Slug
	if err := t.ctl.exec(ctx, "ResolveKey", slug, dbOptions, a.ResolveKey,
		activities.ResolveKeyInput{UserID: t.user.ID, PersonalityID: t.p.ID}, &g.key); err != nil {
		return g, err
	}
	if err := t.ctl.exec(ctx, "FetchContext", slug, discordReadOptions, a.FetchContext, activities.FetchContextInput{
		WorkflowID: wfID, Message: t.msg, Personality: t.p, User: t.user, PriorReplies: t.prior, Guest: g.key.Guest,
	}, nil); err != nil {
		return g, err
	}
	var mems activities.RetrieveMemoriesResult
	if err := t.ctl.exec(ctx, "RetrieveMemories", slug, memoryOptions, a.RetrieveMemories, activities.RetrieveMemoriesInput{
		Query: t.msg.Content, PersonaID: t.user.PersonaID, PersonalityID: t.p.ID, UserID: t.user.ID, Guest: g.key.Guest,
	}, &mems); err != nil {
		if errors.Is(err, errCancelled) {
			return g, err
		}
		// Memories enrich a reply; a reply without them beats no reply.
		workflow.GetLogger(ctx).Warn("memories unavailable", "personality", slug, "err", err)
	}
	err := t.ctl.exec(ctx, "CallLLM", slug, llmOptions, a.CallLLM, activities.CallLLMInput{
		WorkflowID: wfID, Message: t.msg, Personality: t.p, User: t.user, Key: g.key, MemoryIDs: mems.MemoryIDs,
	}, &g.CallLLMResult)
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
