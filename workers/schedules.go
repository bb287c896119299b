package workers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/embed"
	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/workflows"
)

// Embedder kinds for --embedder / EMBEDDER.
const (
	EmbedderLocal  = "local"  // embed.Local: built in, no network (the default)
	EmbedderOpenAI = "openai" // activities.LLMEmbedder: an OpenAI-compatible /v1/embeddings model
	EmbedderNone   = "none"   // no long-term memory retrieval (turns are still remembered)
)

// DefaultEmbeddingsModel is the OpenAI-compatible model asked for 384 dimensions.
const DefaultEmbeddingsModel = "text-embedding-3-small"

// NewEmbedder builds the embedder a kind names. openai embeds through c with the
// operator's key (keys' free-tier side) and model; none returns a nil Embedder.
func NewEmbedder(kind, model string, c *llm.Client, keys activities.KeySource) (activities.Embedder, error) {
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "", EmbedderLocal:
		return embed.Local{}, nil
	case EmbedderOpenAI:
		if strings.TrimSpace(model) == "" {
			model = DefaultEmbeddingsModel
		}
		return activities.LLMEmbedder{Client: c, Keys: keys, Model: model}, nil
	case EmbedderNone, "off":
		return nil, nil
	}
	return nil, fmt.Errorf("unknown embedder %q: use local, openai or none (--embedder / EMBEDDER)", kind)
}

// MemorySchedules are the memory agents' Temporal Schedules. Each skips a firing while
// its previous run is still going (overlap SKIP) and shows in the UI's Schedules page.
func MemorySchedules() []client.ScheduleOptions {
	schedule := func(id, cron, workflow, note string, input any) client.ScheduleOptions {
		return client.ScheduleOptions{
			ID:      id,
			Spec:    client.ScheduleSpec{CronExpressions: []string{cron}},
			Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
			Note:    note,
			Action: &client.ScheduleWorkflowAction{
				ID: id, Workflow: workflow, Args: []any{input}, TaskQueue: workflows.TaskQueue,
			},
		}
	}
	return []client.ScheduleOptions{
		schedule(workflows.ScheduleMemoryDecay, "17 3 * * *", workflows.MemoryDecayWorkflowName,
			"Daily: salience decays per sector, weak memories are archived, weak links pruned.", workflows.MemoryDecayInput{}),
		schedule(workflows.ScheduleMemorySummarize, "7 * * * *", workflows.MemorySummarizeWorkflowName,
			"Hourly: old conversation turns become summaries that replace them in retrieval.", workflows.MemorySummarizeInput{}),
		schedule(workflows.ScheduleDream, "43 4 * * *", workflows.DreamWorkflowName,
			"Nightly: each character active that day dreams: merges, contradictions, reflections.", workflows.DreamWorkflowInput{}),
		schedule(workflows.ScheduleReembed, "37 * * * *", workflows.ReembedWorkflowName,
			"Hourly: memories without a vector of the configured embedder get one.", workflows.ReembedWorkflowInput{}),
	}
}

// EnsureSchedules creates the memory agents' schedules that do not exist yet; existing
// ones are left as they are (an operator may have paused or retimed them). It returns the
// ids it created. Safe on every worker start, by any number of workers.
func EnsureSchedules(ctx context.Context, c client.Client) ([]string, error) {
	var created []string
	var errs []error
	for _, o := range MemorySchedules() {
		_, err := c.ScheduleClient().Create(ctx, o)
		var exists *serviceerror.AlreadyExists
		switch {
		case err == nil:
			created = append(created, o.ID)
		case errors.Is(err, temporal.ErrScheduleAlreadyRunning), errors.As(err, &exists):
		default:
			errs = append(errs, fmt.Errorf("schedule %s: %w", o.ID, err))
		}
	}
	return created, errors.Join(errs...)
}

// StartReembedIfNeeded starts the re-embed job for the services' embedder when memories
// of another embedder (or without a vector) exist. The job's id names the embedder and a
// running job is reused, so any number of workers starting together start one job.
func StartReembedIfNeeded(ctx context.Context, s Services) (started bool, err error) {
	id := activities.EmbedderID(s.Embedder)
	if id == "" {
		return false, nil
	}
	n, err := s.Store.Memories.StaleEmbeddings(ctx, id)
	if err != nil || n == 0 {
		return false, err
	}
	_, err = s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.ReembedID(id), TaskQueue: workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.ReembedWorkflowName, workflows.ReembedWorkflowInput{Embedder: id})
	if err != nil {
		return false, fmt.Errorf("start re-embed job: %w", err)
	}
	s.Logger.Info("re-embedding memories for the configured embedder", "embedder", id, "memories", n, "workflow", workflows.ReembedID(id))
	return true, nil
}

// StartMemoryAgents is what a worker does at start for memory: create the agents'
// schedules and start the re-embed job if the embedder changed. Failures are returned for
// the caller to log; they never keep a worker from answering.
func StartMemoryAgents(ctx context.Context, s Services) error {
	created, err := EnsureSchedules(ctx, s.Temporal)
	if len(created) > 0 {
		s.Logger.Info("memory schedules created", "schedules", strings.Join(created, ", "))
	}
	_, rerr := StartReembedIfNeeded(ctx, s)
	return errors.Join(err, rerr)
}
