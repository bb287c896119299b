package workers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
)

// recordHistory writes a finished workflow's history to workflows/testdata when
// TZUROT_RECORD_HISTORY names a file there, so the replay test covers what real runs
// produced. Run: TZUROT_RECORD_HISTORY=conversation_v1.json go test ./workers -run TestMentionGivesExactlyOneReply
func recordHistory(t *testing.T, workflowID string) {
	name := os.Getenv("TZUROT_RECORD_HISTORY")
	if name == "" {
		return
	}
	ctx := context.Background()
	iter := sys.client.GetWorkflowHistory(ctx, workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "workflows", "testdata", filepath.Base(name)), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
