package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
)

// Names of the memory agents: the workflows the schedules start, and the schedules.
const (
	// MemoryDecayWorkflowName lowers salience daily and prunes weak links.
	MemoryDecayWorkflowName = "MemoryDecayWorkflow"
	// MemorySummarizeWorkflowName condenses old turns into semantic memories, hourly.
	MemorySummarizeWorkflowName = "MemorySummarizeWorkflow"
	// DreamWorkflowName consolidates each active character's memories, nightly.
	DreamWorkflowName = "DreamWorkflow"
	// ReembedWorkflowName embeds memories the configured embedder has not embedded.
	ReembedWorkflowName = "ReembedWorkflow"

	// Schedule ids; the runs a schedule starts are "<id>-<time>".
	ScheduleMemoryDecay     = "memory-decay"
	ScheduleMemorySummarize = "memory-summarize"
	ScheduleDream           = "memory-dream"
	ScheduleReembed         = "memory-reembed"

	// ReembedIDPrefix + the embedder's name is the re-embed job a worker starts when it
	// finds memories of another embedder: one job per embedder, however many workers start.
	ReembedIDPrefix = "reembed-"
)

// ReembedID is the id of the job that re-embeds memories for embedder.
func ReembedID(embedder string) string { return ReembedIDPrefix + embedder }

// Pacing of the agents. Each batch is one activity (resumable where it stopped); after
// maxAgentSteps activities a run continues as new, so its history stays small.
const (
	maxAgentSteps      = 200
	batchPause         = time.Second // between database batches, so turns keep the database
	scopePage          = 50
	maxStretchesPerRun = 20 // per scope and run: a scope with years of turns is finished by later runs
)

var (
	// agentDBOptions: a batch of database work; a database restart is ridden out.
	agentDBOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 30 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	}
	// agentLLMOptions: one LLM call and its writes. Refusals (no key, no credit, free tier
	// used up) are skips inside the activity; what reaches here is transient and retried.
	agentLLMOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    3 * time.Minute,
		ScheduleToCloseTimeout: 20 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 2 * time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeLLMAuth, activities.ErrTypeLLMCredit, activities.ErrTypeLLMBadRequest}},
	}
	// reembedOptions: a batch of embeddings; the provider may be down for a while.
	reembedOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    5 * time.Minute,
		HeartbeatTimeout:       time.Minute,
		ScheduleToCloseTimeout: 30 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 2 * time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeEmbedderMismatch, activities.ErrTypeLLMAuth,
				activities.ErrTypeLLMCredit, activities.ErrTypeLLMBadRequest}},
	}
)

// agentStatus registers the status query of an agent run.
func agentStatus(ctx workflow.Context) (*Status, error) {
	status := &Status{Step: "Starting", Attempt: 1}
	return status, workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return *status, nil })
}

// MemoryDecayInput is where a decay run starts (a continued run carries its position).
type MemoryDecayInput struct {
	Links     bool   // memories are done; decaying links
	After     string // the last id handled
	BatchSize int    // 0: the activity's default
	Totals    MemoryDecayResult
}

// MemoryDecayResult counts what the run did.
type MemoryDecayResult struct {
	Batches     int
	Scanned     int
	Archived    int
	Links       int
	PrunedLinks int
}

// MemoryDecayWorkflow is the daily decay: every active memory loses salience at its
// sector's rate (archived, never deleted, below the floor; locked ones keep theirs), then
// every link weakens and those below the floor are pruned. Each batch is an activity; a
// long run continues as new where it stopped.
func MemoryDecayWorkflow(ctx workflow.Context, in MemoryDecayInput) (MemoryDecayResult, error) {
	status, err := agentStatus(ctx)
	if err != nil {
		return in.Totals, err
	}
	for steps := 0; ; steps++ {
		if steps >= maxAgentSteps || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return in.Totals, workflow.NewContinueAsNewError(ctx, MemoryDecayWorkflowName, in)
		}
		if steps > 0 {
			if err := workflow.Sleep(ctx, batchPause); err != nil {
				return in.Totals, err
			}
		}
		batch := activities.MemoryBatch{After: in.After, Limit: in.BatchSize}
		in.Totals.Batches++
		if !in.Links {
			status.Step = fmt.Sprintf("DecayMemories (batch %d, %d scanned)", in.Totals.Batches, in.Totals.Scanned)
			var r activities.DecayMemoriesResult
			if err := workflow.ExecuteActivity(withSummary(ctx, agentDBOptions, "decay memories after "+short(in.After)),
				a.DecayMemories, batch).Get(ctx, &r); err != nil {
				return in.Totals, err
			}
			in.Totals.Scanned += r.Scanned
			in.Totals.Archived += r.Archived
			in.After = r.Last
			if r.Done {
				in.Links, in.After = true, ""
			}
			continue
		}
		status.Step = fmt.Sprintf("DecayMemoryLinks (batch %d)", in.Totals.Batches)
		var r activities.DecayLinksResult
		if err := workflow.ExecuteActivity(withSummary(ctx, agentDBOptions, "decay links after "+short(in.After)),
			a.DecayMemoryLinks, batch).Get(ctx, &r); err != nil {
			return in.Totals, err
		}
		in.Totals.Links += r.Links
		in.Totals.PrunedLinks += r.Pruned
		in.After = r.Last
		if r.Done {
			status.Step = "Done"
			return in.Totals, nil
		}
	}
}

// ReembedWorkflowInput is where a re-embed job starts.
type ReembedWorkflowInput struct {
	Embedder  string // "" = whichever embedder the worker has (the schedule's runs)
	After     string
	BatchSize int
	Totals    ReembedWorkflowResult
}

// ReembedWorkflowResult counts what the job did.
type ReembedWorkflowResult struct {
	Embedder string
	Batches  int
	Embedded int
	Skipped  int
	Note     string
}

// ReembedWorkflow embeds, batch by batch, every memory the configured embedder has not
// embedded: memories of a previous embedder (they are invisible to retrieval until then)
// and memories written while the provider was down. A worker starts it when it finds such
// rows; a schedule runs it hourly to pick up writes that failed since. A provider outage
// retries each batch for half an hour, then the job ends failed and the next run resumes.
func ReembedWorkflow(ctx workflow.Context, in ReembedWorkflowInput) (ReembedWorkflowResult, error) {
	status, err := agentStatus(ctx)
	if err != nil {
		return in.Totals, err
	}
	for steps := 0; ; steps++ {
		if steps >= maxAgentSteps || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return in.Totals, workflow.NewContinueAsNewError(ctx, ReembedWorkflowName, in)
		}
		status.Step = fmt.Sprintf("ReembedMemories (batch %d, %d embedded)", in.Totals.Batches+1, in.Totals.Embedded)
		var r activities.ReembedResult
		if err := workflow.ExecuteActivity(withSummary(ctx, reembedOptions, "re-embed after "+short(in.After)), a.ReembedMemories,
			activities.ReembedInput{Embedder: in.Embedder, After: in.After, Limit: in.BatchSize}).Get(ctx, &r); err != nil {
			return in.Totals, err
		}
		in.Totals.Batches++
		in.Totals.Embedded += r.Embedded
		in.Totals.Skipped += r.Skipped
		in.Totals.Embedder, in.Totals.Note = r.Embedder, r.Note
		if in.Embedder == "" {
			in.Embedder = r.Embedder // the rest of the job keeps to the embedder it began with
		}
		in.After = r.Last
		if r.Done {
			status.Step = "Done"
			return in.Totals, nil
		}
	}
}

func withSummary(ctx workflow.Context, o workflow.ActivityOptions, summary string) workflow.Context {
	o.Summary = summary
	return workflow.WithActivityOptions(ctx, o)
}

// short is the first characters of an id, for activity summaries.
func short(id string) string {
	if id == "" {
		return "the start"
	}
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
