package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/store/keyring"
	"github.com/tzurot/tzurot/workers/codec"
)

// TestReplayRecordedHistories replays histories recorded from real runs against the
// current workflow code: a change that would break a running workflow fails here and must
// go through workflow.GetVersion. Record a new one with TZUROT_RECORD_HISTORY (see
// workers/record_test.go) whenever the workflow changes shape.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata/")
	}
	// Histories recorded after payloads were encrypted need the codec (with the test
	// system's fixed, fake master key: workers/systemtest.MasterKey).
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
			r.RegisterWorkflowWithOptions(ConversationWorkflow, workflow.RegisterOptions{Name: ConversationWorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replaying %s: %v", f, err)
			}
		})
	}
}
