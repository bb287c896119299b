package workflows

import (
	"errors"

	"go.temporal.io/sdk/workflow"
)

// Signals operators send from the Temporal UI (or `temporal workflow signal`).
const (
	// SignalCancel stops a conversation politely: the running step is abandoned, the user
	// sees a short notice, and no later personality runs.
	SignalCancel = "cancel"
	// SignalRetry abandons the step that is running (a generation stuck on a slow
	// provider, say) and starts it again.
	SignalRetry = "retry"
)

// CancelSignal is the cancel signal's input.
type CancelSignal struct {
	Reason string // shown to operators in the result, not to users
}

// RetrySignal is the retry signal's input.
type RetrySignal struct{}

// errCancelled ends a conversation an operator cancelled.
var errCancelled = errors.New("cancelled by an operator")

// control runs steps under operators' signals and keeps the status query current.
type control struct {
	status    *Status
	cancelCh  workflow.ReceiveChannel
	retryCh   workflow.ReceiveChannel
	cancelled bool
	reason    string
	// localDB runs the database-only steps as local activities (versionLocalDB): no
	// matching round trip each, the biggest share of the pipeline's overhead.
	localDB bool
}

func newControl(ctx workflow.Context, status *Status) *control {
	return &control{
		status:   status,
		cancelCh: workflow.GetSignalChannel(ctx, SignalCancel),
		retryCh:  workflow.GetSignalChannel(ctx, SignalRetry),
	}
}

// exec runs one step's activity. A retry signal abandons the running attempt and starts
// the step again (Status.Attempt counts these); a cancel signal abandons it and returns
// errCancelled. Abandoned attempts may still finish in the background: every step is
// idempotent (delivery records its chunks), so that is harmless.
func (c *control) exec(ctx workflow.Context, step, slug string, opts workflow.ActivityOptions, activity, input, result any) error {
	for attempt := 1; ; attempt++ {
		if c.cancelled {
			return errCancelled
		}
		c.status.Step, c.status.Personality, c.status.Attempt = step, slug, attempt
		opts.Summary = step + " for " + slug
		actx, abandon := workflow.WithCancel(ctx)
		var future workflow.Future
		if c.localDB && opts.HeartbeatTimeout == 0 && isLocal(step) {
			future = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(actx, localOptions(opts)), activity, input)
		} else {
			future = workflow.ExecuteActivity(withOptions(actx, opts), activity, input)
		}
		var err error
		again := false
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(future, func(f workflow.Future) { err = f.Get(ctx, result) })
		sel.AddReceive(c.retryCh, func(ch workflow.ReceiveChannel, _ bool) {
			ch.Receive(ctx, nil)
			again = true
		})
		sel.AddReceive(c.cancelCh, func(ch workflow.ReceiveChannel, _ bool) {
			var s CancelSignal
			ch.Receive(ctx, &s)
			c.cancelled, c.reason = true, s.Reason
		})
		sel.Select(ctx)
		switch {
		case c.cancelled:
			abandon()
			return errCancelled
		case again:
			abandon()
			workflow.GetLogger(ctx).Info("an operator restarted the step", "step", step, "personality", slug, "attempt", attempt+1)
			continue
		}
		return err
	}
}

// isLocal names the steps that only touch PostgreSQL (and the local embedder): cheap,
// idempotent, no outside side effect. Steps that call Discord or the LLM stay durable
// activities, each attempt recorded in history.
func isLocal(step string) bool {
	switch step {
	case "ResolvePersonalities", "ResolveKey", "RetrieveMemories", "RecordTurn":
		return true
	}
	return false
}

// localOptions carries an activity's timeouts and retry policy over to a local activity.
func localOptions(o workflow.ActivityOptions) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout: o.StartToCloseTimeout, ScheduleToCloseTimeout: o.ScheduleToCloseTimeout,
		RetryPolicy: o.RetryPolicy, Summary: o.Summary,
	}
}
