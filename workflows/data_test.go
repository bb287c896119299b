package workflows

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/store/keyring"
	"github.com/tzurot/tzurot/workers/codec"
)

type dataSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestData(t *testing.T) { suite.Run(t, new(dataSuite)) }

func (s *dataSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(&activities.Activities{})
}

func (s *dataSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func (s *dataSuite) TestExportBuildsThenDeliversByID() {
	counts := map[string]int{"characters": 2, "history": 40}
	s.env.OnActivity(a.BuildDataExport, mock.Anything, activities.DataExportInput{DiscordUserID: "42"}).
		Return(activities.DataExportBuilt{ExportID: "exp-1", Bytes: 1234, Counts: counts}, nil).Once()
	s.env.OnActivity(a.DeliverDataExport, mock.Anything, activities.DeliverDataExportInput{DiscordUserID: "42", ExportID: "exp-1", Counts: counts}).
		Return(activities.DataExportDelivered{Parts: 1}, nil).Once()
	s.env.ExecuteWorkflow(DataExportWorkflow, DataExportInput{DiscordUserID: "42"})
	s.True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	var res DataExportResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(DataExportResult{ExportID: "exp-1", Bytes: 1234, Parts: 1, Counts: counts}, res)
}

func (s *dataSuite) TestExportNobodyCanReceiveFailsWithoutRetrying() {
	s.env.OnActivity(a.BuildDataExport, mock.Anything, mock.Anything).Return(activities.DataExportBuilt{ExportID: "exp-2"}, nil).Once()
	s.env.OnActivity(a.DeliverDataExport, mock.Anything, mock.Anything).
		Return(activities.DataExportDelivered{}, activities.NonRetryable(activities.ErrTypeDMClosed, errors.New("closed"))).Once()
	s.env.ExecuteWorkflow(DataExportWorkflow, DataExportInput{DiscordUserID: "42"})
	s.True(s.env.IsWorkflowCompleted())
	s.ErrorContains(s.env.GetWorkflowError(), "not delivered")
}

// erasing mocks every step: each removes as many rows as its position, and fail makes a
// step fail (retryably) the given number of times first.
func (s *dataSuite) erasing(heir string, fail map[string]int) *[]string {
	var order []string
	s.env.OnActivity(a.CancelConversations, mock.Anything, activities.CancelConversationsInput{DiscordUserID: "42", WorkflowType: ConversationWorkflowName}).
		Return(activities.CancelConversationsResult{Cancelled: 2}, nil).Once()
	s.env.OnActivity(a.EraseData, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.EraseDataInput) (activities.EraseDataResult, error) {
		order = append(order, in.Step)
		if in.DiscordUserID != "42" || in.HeirDiscordID != heir {
			return activities.EraseDataResult{}, temporal.NewNonRetryableApplicationError("wrong input", "test", nil)
		}
		if fail[in.Step] > 0 {
			fail[in.Step]--
			return activities.EraseDataResult{}, errors.New("database restarting")
		}
		for i, step := range activities.EraseSteps {
			if step == in.Step {
				return activities.EraseDataResult{Step: step, Rows: int64(i)}, nil
			}
		}
		return activities.EraseDataResult{}, errors.New("unknown step")
	})
	return &order
}

func (s *dataSuite) eraseResult() DataEraseResult {
	s.True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	var res DataEraseResult
	s.NoError(s.env.GetWorkflowResult(&res))
	return res
}

func (s *dataSuite) TestEraseRunsEveryStepInOrderThenSendsTheReceipt() {
	order := s.erasing("7", nil)
	s.env.OnActivity(a.SendEraseReceipt, mock.Anything, mock.MatchedBy(func(in activities.EraseReceiptInput) bool {
		return in.DiscordUserID == "42" && in.Cancelled == 2 && in.HeirDiscordID == "7" && len(in.Steps) == len(activities.EraseSteps)
	})).Return(activities.EraseReceiptResult{Sent: true}, nil).Once()
	s.env.ExecuteWorkflow(DataEraseWorkflow, DataEraseInput{DiscordUserID: "42", HeirDiscordID: "7"})
	res := s.eraseResult()
	s.Equal(activities.EraseSteps, *order)
	s.True(res.ReceiptSent)
	s.Equal(2, res.Cancelled)
	for i, st := range res.Steps {
		s.Equal(activities.EraseDataResult{Step: activities.EraseSteps[i], Rows: int64(i)}, st)
	}
	v, err := s.env.QueryWorkflow(QueryStatus)
	s.NoError(err)
	var st Status
	s.NoError(v.Get(&st))
	s.Equal("Done", st.Step)
	s.Equal(activities.EraseSteps, st.Done)
}

func (s *dataSuite) TestEraseRetriesAFailingStepAndResumes() {
	order := s.erasing("", map[string]int{"memories": 2})
	s.env.OnActivity(a.SendEraseReceipt, mock.Anything, mock.Anything).Return(activities.EraseReceiptResult{Sent: true}, nil).Once()
	s.env.ExecuteWorkflow(DataEraseWorkflow, DataEraseInput{DiscordUserID: "42"})
	res := s.eraseResult()
	s.Len(res.Steps, len(activities.EraseSteps))
	s.Equal([]string{"history", "memories", "memories", "memories", "characters"}, (*order)[:5], "the failing step is retried, the one before it is not")
}

func (s *dataSuite) TestEraseGoesOnWhenConversationsCannotBeCancelledOrTheReceiptNotSent() {
	s.env.OnActivity(a.CancelConversations, mock.Anything, mock.Anything).
		Return(activities.CancelConversationsResult{}, activities.NonRetryable("NoTemporalClient", errors.New("no client"))).Once()
	s.env.OnActivity(a.EraseData, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.EraseDataInput) (activities.EraseDataResult, error) {
		return activities.EraseDataResult{Step: in.Step, Rows: 1}, nil
	})
	s.env.OnActivity(a.SendEraseReceipt, mock.Anything, mock.Anything).
		Return(activities.EraseReceiptResult{}, activities.NonRetryable(activities.ErrTypeDMClosed, errors.New("closed"))).Once()
	s.env.ExecuteWorkflow(DataEraseWorkflow, DataEraseInput{DiscordUserID: "42"})
	res := s.eraseResult()
	s.Len(res.Steps, len(activities.EraseSteps))
	s.False(res.ReceiptSent)
}

func TestDataWorkflowIDs(t *testing.T) {
	at := time.Unix(1_700_000_123, 0)
	if got := DataExportID("42", at); got != "export-42-28333335" {
		t.Errorf("DataExportID = %q", got)
	}
	if got := DataEraseID("42"); got != "erase-42" {
		t.Errorf("DataEraseID = %q", got)
	}
}

// TestReplayDataHistories replays recorded export and erasure runs (workflows/testdata/
// data, recorded by workers/data_e2e_test.go with TZUROT_RECORD_DATA_HISTORY) against the
// current code: a change that would break a running export or erasure fails here and
// must go through workflow.GetVersion.
func TestReplayDataHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "data", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded data histories (%v)", err)
	}
	kr, err := keyring.FromEnv("7a7572f07465737420206d6173746572206b6579206e6f742061207365637265", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: codec.NewDataConverter(kr)})
			if err != nil {
				t.Fatal(err)
			}
			r.RegisterWorkflowWithOptions(DataExportWorkflow, workflow.RegisterOptions{Name: DataExportWorkflowName})
			r.RegisterWorkflowWithOptions(DataEraseWorkflow, workflow.RegisterOptions{Name: DataEraseWorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replaying %s: %v", f, err)
			}
		})
	}
}
