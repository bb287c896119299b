package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
)

// The memory agents run under the SDK's test environment: timers (the pause between
// batches) and retry backoffs are skipped, so hours of a schedule's run take milliseconds.
type memorySuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env   *testsuite.TestWorkflowEnvironment
	start time.Time
}

func TestMemoryAgents(t *testing.T) { suite.Run(t, new(memorySuite)) }

func (s *memorySuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(&activities.Activities{})
	s.start = time.Date(2026, 3, 14, 3, 17, 0, 0, time.UTC)
	s.env.SetStartTime(s.start)
}

func (s *memorySuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func (s *memorySuite) TestDecayPagesThroughMemoriesThenLinks() {
	s.env.OnActivity(a.DecayMemories, mock.Anything, activities.MemoryBatch{}).
		Return(activities.DecayMemoriesResult{Last: "m-500", Scanned: 500, Archived: 3}, nil).Once()
	s.env.OnActivity(a.DecayMemories, mock.Anything, activities.MemoryBatch{After: "m-500"}).
		Return(activities.DecayMemoriesResult{Last: "m-700", Scanned: 200, Archived: 1, Done: true}, nil).Once()
	s.env.OnActivity(a.DecayMemoryLinks, mock.Anything, activities.MemoryBatch{}).
		Return(activities.DecayLinksResult{Last: "l-1", Links: 40, Pruned: 5, Done: true}, nil).Once()
	s.env.ExecuteWorkflow(MemoryDecayWorkflow, MemoryDecayInput{})
	s.True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	var res MemoryDecayResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(MemoryDecayResult{Batches: 3, Scanned: 700, Archived: 4, Links: 40, PrunedLinks: 5}, res)
	// Two pauses between the three batches passed on the workflow's clock, not the test's.
	s.GreaterOrEqual(s.env.Now().Sub(s.start), 2*batchPause)
}

func (s *memorySuite) TestDecayContinuesAsNewWhereItStopped() {
	n := 0
	s.env.OnActivity(a.DecayMemories, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.MemoryBatch) (activities.DecayMemoriesResult, error) {
			n++
			return activities.DecayMemoriesResult{Last: in.After + "x", Scanned: 1}, nil
		})
	s.env.ExecuteWorkflow(MemoryDecayWorkflow, MemoryDecayInput{})
	s.True(s.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &can), "want continue-as-new, got %v", s.env.GetWorkflowError())
	s.Equal(MemoryDecayWorkflowName, can.WorkflowType.Name)
	s.Equal(maxAgentSteps, n)
	var next MemoryDecayInput
	s.NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.Equal(maxAgentSteps, len(next.After), "the next run starts after the last batch")
	s.Equal(maxAgentSteps, next.Totals.Scanned)
}

func (s *memorySuite) TestDecayFailsWhenABatchKeepsFailing() {
	s.env.OnActivity(a.DecayMemories, mock.Anything, mock.Anything).
		Return(activities.DecayMemoriesResult{}, errors.New("database is down"))
	s.env.ExecuteWorkflow(MemoryDecayWorkflow, MemoryDecayInput{})
	s.True(s.env.IsWorkflowCompleted())
	s.Error(s.env.GetWorkflowError())
	// Retried with backoff, minutes of it, all on the skipped clock.
	s.GreaterOrEqual(s.env.Now().Sub(s.start), time.Minute)
}

var (
	scopeA = activities.MemoryScope{PersonaID: "persona-a", PersonalityID: "lilith", UserID: "user-a"}
	scopeB = activities.MemoryScope{PersonaID: "persona-b", PersonalityID: "lilith", UserID: "user-b"}
	scopeC = activities.MemoryScope{PersonaID: "persona-c", PersonalityID: "sage", UserID: "user-c"}
)

func (s *memorySuite) TestSummarizeRetriesSkipsAndGoesOn() {
	s.env.OnActivity(a.FindSummaryScopes, mock.Anything, activities.FindScopesInput{Limit: scopePage}).
		Return(activities.FindScopesResult{Scopes: []activities.MemoryScope{scopeA, scopeB, scopeC}, Last: "sage:persona-c", Done: true}, nil).Once()
	// Scope A: the provider fails twice (retried after backoff), then two stretches go.
	attempts := 0
	s.env.OnActivity(a.SummarizeStretch, mock.Anything, mock.MatchedBy(func(in activities.SummarizeStretchInput) bool { return in.Scope == scopeA })).Return(
		func(_ context.Context, in activities.SummarizeStretchInput) (activities.SummarizeStretchResult, error) {
			attempts++
			switch {
			case attempts <= 2:
				return activities.SummarizeStretchResult{}, temporal.NewApplicationError("503 from the provider", "llm_server")
			case attempts == 3:
				return activities.SummarizeStretchResult{Status: activities.StretchSummarized, Archived: 30, More: true}, nil
			}
			return activities.SummarizeStretchResult{Status: activities.StretchSummarized, Archived: 5}, nil
		})
	// Scope B: the model answered nonsense; skipped with its reason, not retried here.
	s.env.OnActivity(a.SummarizeStretch, mock.Anything, mock.MatchedBy(func(in activities.SummarizeStretchInput) bool { return in.Scope == scopeB })).
		Return(activities.SummarizeStretchResult{Status: activities.StretchSkipped, Reason: "the summary is empty", More: true}, nil).Once()
	// Scope C: fails for good; the run goes on and counts it.
	s.env.OnActivity(a.SummarizeStretch, mock.Anything, mock.MatchedBy(func(in activities.SummarizeStretchInput) bool { return in.Scope == scopeC })).
		Return(activities.SummarizeStretchResult{}, temporal.NewNonRetryableApplicationError("bad request", activities.ErrTypeLLMBadRequest, nil)).Once()
	s.env.ExecuteWorkflow(MemorySummarizeWorkflow, MemorySummarizeInput{})
	s.True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	var res MemorySummarizeResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(MemorySummarizeResult{Scopes: 3, Summarized: 2, Archived: 35, Skipped: 1, Failed: 1}, res)
	s.Equal(4, attempts)
}

func (s *memorySuite) TestSummarizePagesThroughScopes() {
	s.env.OnActivity(a.FindSummaryScopes, mock.Anything, activities.FindScopesInput{Limit: scopePage}).
		Return(activities.FindScopesResult{Scopes: []activities.MemoryScope{scopeA}, Last: "lilith:persona-a"}, nil).Once()
	s.env.OnActivity(a.FindSummaryScopes, mock.Anything, activities.FindScopesInput{After: "lilith:persona-a", Limit: scopePage}).
		Return(activities.FindScopesResult{Done: true}, nil).Once()
	s.env.OnActivity(a.SummarizeStretch, mock.Anything, mock.Anything).
		Return(activities.SummarizeStretchResult{Status: activities.StretchNothing}, nil).Once()
	s.env.ExecuteWorkflow(MemorySummarizeWorkflow, MemorySummarizeInput{})
	s.NoError(s.env.GetWorkflowError())
}

func (s *memorySuite) TestDreamRunsPerActiveScopeSinceTheDayBefore() {
	since := s.start.Add(-24 * time.Hour)
	s.env.OnActivity(a.FindDreamScopes, mock.Anything, mock.MatchedBy(func(in activities.FindScopesInput) bool {
		return in.Since.Equal(since) && in.After == ""
	})).Return(activities.FindScopesResult{Scopes: []activities.MemoryScope{scopeA, scopeB}, Last: "lilith:persona-b", Done: true}, nil).Once()
	var runIDs []string
	s.env.OnActivity(a.Dream, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DreamInput) (activities.DreamResult, error) {
		runIDs = append(runIDs, in.RunID)
		if in.Scope == scopeB {
			return activities.DreamResult{Note: "nothing to consolidate"}, nil
		}
		return activities.DreamResult{DreamID: "d1", Added: 2, Merged: 1, Archived: 1, Contradictions: 1}, nil
	}).Times(2)
	s.env.ExecuteWorkflow(DreamWorkflow, DreamWorkflowInput{})
	s.NoError(s.env.GetWorkflowError())
	var res DreamWorkflowResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(DreamWorkflowResult{Scopes: 2, Dreams: 1, Added: 2, Merged: 1, Contradictions: 1}, res)
	s.Len(runIDs, 2)
	s.Equal(runIDs[0], runIDs[1], "one night, one run id: a retried dream is applied once")
}

func (s *memorySuite) TestReembedKeepsToTheEmbedderItBeganWith() {
	s.env.OnActivity(a.ReembedMemories, mock.Anything, activities.ReembedInput{}).
		Return(activities.ReembedResult{Embedder: "tzurot-local-v1", Last: "m-100", Embedded: 100}, nil).Once()
	s.env.OnActivity(a.ReembedMemories, mock.Anything, activities.ReembedInput{Embedder: "tzurot-local-v1", After: "m-100"}).
		Return(activities.ReembedResult{Embedder: "tzurot-local-v1", Last: "m-150", Embedded: 49, Skipped: 1, Done: true}, nil).Once()
	s.env.ExecuteWorkflow(ReembedWorkflow, ReembedWorkflowInput{})
	s.NoError(s.env.GetWorkflowError())
	var res ReembedWorkflowResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(ReembedWorkflowResult{Embedder: "tzurot-local-v1", Batches: 2, Embedded: 149, Skipped: 1}, res)
}

func (s *memorySuite) TestReembedStopsOnAWrongDimension() {
	s.env.OnActivity(a.ReembedMemories, mock.Anything, mock.Anything).
		Return(activities.ReembedResult{}, temporal.NewNonRetryableApplicationError("384 wanted", activities.ErrTypeLLMBadRequest, nil)).Once()
	s.env.ExecuteWorkflow(ReembedWorkflow, ReembedWorkflowInput{Embedder: "openai:wrong"})
	s.Error(s.env.GetWorkflowError())
}

func (s *memorySuite) TestStatusQueryNamesTheStep() {
	s.env.OnActivity(a.ReembedMemories, mock.Anything, mock.Anything).
		Return(activities.ReembedResult{Done: true}, nil).Once()
	s.env.ExecuteWorkflow(ReembedWorkflow, ReembedWorkflowInput{})
	v, err := s.env.QueryWorkflow(QueryStatus)
	s.Require().NoError(err)
	var st Status
	s.NoError(v.Get(&st))
	s.Equal("Done", st.Step)
}
