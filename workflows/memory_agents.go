package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
)

// MemorySummarizeInput is where a summarize run starts (a continued run carries its place).
type MemorySummarizeInput struct {
	After  string // the last scope handled ("personality:persona")
	Totals MemorySummarizeResult
}

// MemorySummarizeResult counts what the run did.
type MemorySummarizeResult struct {
	Scopes     int
	Summarized int // stretches replaced by a summary
	Archived   int // turn memories archived behind summaries
	Skipped    int // stretches left as they were, with a recorded reason
	Failed     int // scopes whose activity failed after its retries (tried again next run)
}

// MemorySummarizeWorkflow is the hourly summarizer: for every scope holding turn memories
// older than the window, each stretch becomes one semantic memory that replaces its
// originals in retrieval (the originals are archived and point to it). One activity per
// stretch; a stretch the model answers badly for is skipped with its reason, losing
// nothing; a scope that keeps failing is left for the next run while the others go on.
func MemorySummarizeWorkflow(ctx workflow.Context, in MemorySummarizeInput) (MemorySummarizeResult, error) {
	status, err := agentStatus(ctx)
	if err != nil {
		return in.Totals, err
	}
	runID := workflow.GetInfo(ctx).WorkflowExecution.ID
	steps := 0
	for {
		status.Step = "FindSummaryScopes after " + short(in.After)
		var page activities.FindScopesResult
		if err := workflow.ExecuteActivity(withSummary(ctx, agentDBOptions, "find scopes to summarize"), a.FindSummaryScopes,
			activities.FindScopesInput{After: in.After, Limit: scopePage}).Get(ctx, &page); err != nil {
			return in.Totals, err
		}
		steps++
		for _, sc := range page.Scopes {
			if steps >= maxAgentSteps || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
				return in.Totals, workflow.NewContinueAsNewError(ctx, MemorySummarizeWorkflowName, in)
			}
			in.Totals.Scopes++
			for k := 0; k < maxStretchesPerRun; k++ {
				status.Step = fmt.Sprintf("SummarizeStretch (scope %d, %d summarized)", in.Totals.Scopes, in.Totals.Summarized)
				var r activities.SummarizeStretchResult
				err := workflow.ExecuteActivity(withSummary(ctx, agentLLMOptions, "summarize "+short(sc.PersonaID)+" with "+short(sc.PersonalityID)),
					a.SummarizeStretch, activities.SummarizeStretchInput{RunID: runID, Scope: sc}).Get(ctx, &r)
				steps++
				if err != nil {
					in.Totals.Failed++
					workflow.GetLogger(ctx).Warn("scope not summarized; next run tries again", "persona", sc.PersonaID,
						"personality", sc.PersonalityID, "err", err)
					break
				}
				switch r.Status {
				case activities.StretchSummarized:
					in.Totals.Summarized++
					in.Totals.Archived += r.Archived
				case activities.StretchSkipped:
					in.Totals.Skipped++
				}
				if r.Status == activities.StretchSkipped || !r.More {
					break
				}
			}
			in.After = sc.PersonalityID + ":" + sc.PersonaID
		}
		if page.Done {
			status.Step = "Done"
			return in.Totals, nil
		}
		in.After = page.Last
	}
}

// DreamWorkflowInput is where a dream run starts.
type DreamWorkflowInput struct {
	// Since: characters that talked since then dream (zero: the day before the run).
	Since  time.Time
	After  string
	Totals DreamWorkflowResult
}

// DreamWorkflowResult counts what the night's dreams did.
type DreamWorkflowResult struct {
	Scopes         int
	Dreams         int // dreams recorded
	Added          int
	Merged         int
	Contradictions int
	Failed         int
}

// DreamWorkflow is the nightly consolidation: every character that talked with a persona
// that day dreams over their memories (activities.Dream: merges near-duplicates, notes
// contradictions, writes a few reflections in the character's voice), one activity per
// character and persona, each recorded in the dreams table for /memory undo-dream.
func DreamWorkflow(ctx workflow.Context, in DreamWorkflowInput) (DreamWorkflowResult, error) {
	status, err := agentStatus(ctx)
	if err != nil {
		return in.Totals, err
	}
	if in.Since.IsZero() {
		in.Since = workflow.Now(ctx).Add(-24 * time.Hour)
	}
	runID := workflow.GetInfo(ctx).WorkflowExecution.ID
	steps := 0
	for {
		status.Step = "FindDreamScopes after " + short(in.After)
		var page activities.FindScopesResult
		if err := workflow.ExecuteActivity(withSummary(ctx, agentDBOptions, "find who dreams"), a.FindDreamScopes,
			activities.FindScopesInput{After: in.After, Limit: scopePage, Since: in.Since}).Get(ctx, &page); err != nil {
			return in.Totals, err
		}
		steps++
		for _, sc := range page.Scopes {
			if steps >= maxAgentSteps || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
				return in.Totals, workflow.NewContinueAsNewError(ctx, DreamWorkflowName, in)
			}
			in.Totals.Scopes++
			status.Step = fmt.Sprintf("Dream (scope %d, %d dreams)", in.Totals.Scopes, in.Totals.Dreams)
			var r activities.DreamResult
			err := workflow.ExecuteActivity(withSummary(ctx, agentLLMOptions, "dream of "+short(sc.PersonaID)+" as "+short(sc.PersonalityID)),
				a.Dream, activities.DreamInput{RunID: runID, Scope: sc}).Get(ctx, &r)
			steps++
			if err != nil {
				in.Totals.Failed++
				workflow.GetLogger(ctx).Warn("no dream tonight for this scope", "persona", sc.PersonaID, "personality", sc.PersonalityID, "err", err)
			} else if r.DreamID != "" {
				in.Totals.Dreams++
				in.Totals.Added += r.Added
				in.Totals.Merged += r.Merged
				in.Totals.Contradictions += r.Contradictions
			}
			in.After = sc.PersonalityID + ":" + sc.PersonaID
		}
		if page.Done {
			status.Step = "Done"
			return in.Totals, nil
		}
		in.After = page.Last
	}
}
