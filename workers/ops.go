package workers

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/workflows"
)

// StuckRun is a conversation that has been running longer than it should.
type StuckRun struct {
	WorkflowID  string
	Started     time.Time
	Step        string // from the status query ("" if the query failed)
	Personality string
	Attempt     int
	Pending     []PendingStep
}

// PendingStep is an activity Temporal is waiting on, with its retry state.
type PendingStep struct {
	Activity    string
	Attempt     int32
	State       string
	LastFailure string
}

// Stuck lists running conversations started more than olderThan ago, oldest first, with
// the step each reports and the activities Temporal is retrying: the first thing an
// operator runs when "Lilith never answered".
func Stuck(ctx context.Context, c client.Client, olderThan time.Duration, limit int) ([]StuckRun, error) {
	cutoff := time.Now().Add(-olderThan).UTC().Format(time.RFC3339)
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query:    fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running' AND StartTime < '%s'", workflows.ConversationWorkflowName, cutoff),
		PageSize: int32(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("list running conversations: %w", err)
	}
	var out []StuckRun
	for _, e := range resp.Executions {
		r := StuckRun{WorkflowID: e.Execution.WorkflowId, Started: e.StartTime.AsTime()}
		if v, err := c.QueryWorkflow(ctx, r.WorkflowID, "", workflows.QueryStatus); err == nil {
			var st workflows.Status
			if v.Get(&st) == nil {
				r.Step, r.Personality, r.Attempt = st.Step, st.Personality, st.Attempt
			}
		}
		if d, err := c.DescribeWorkflowExecution(ctx, r.WorkflowID, ""); err == nil {
			for _, p := range d.PendingActivities {
				ps := PendingStep{Activity: p.ActivityType.GetName(), Attempt: p.Attempt, State: p.State.String()}
				if f := p.LastFailure; f != nil {
					ps.LastFailure = f.Message
				}
				r.Pending = append(r.Pending, ps)
			}
		}
		out = append(out, r)
	}
	for i := 0; i < len(out); i++ { // oldest first; pages come newest first
		for j := i + 1; j < len(out); j++ {
			if out[j].Started.Before(out[i].Started) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out, nil
}
