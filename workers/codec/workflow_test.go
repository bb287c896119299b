package codec_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/workers/codec"
)

// replyWorkflow stands in for a conversation turn: its input, the activity's input and
// result, and its own result all carry user text.
func replyWorkflow(ctx workflow.Context, in turn) (turn, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var out turn
	err := workflow.ExecuteActivity(ctx, replyActivity, in).Get(ctx, &out)
	return out, err
}

func replyActivity(_ context.Context, in turn) (turn, error) {
	return turn{Text: "Lilith heard: " + in.Text, Authors: append(in.Authors, "lilith"), Tokens: in.Tokens + 1}, nil
}

// recordingConverter is the codec's data converter with a window on what crosses the
// wire: every payload it produces and every payload it is handed back.
type recordingConverter struct {
	converter.DataConverter
	mu   sync.Mutex
	seen []*commonpb.Payload
}

func (r *recordingConverter) record(ps ...*commonpb.Payload) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, ps...)
}

func (r *recordingConverter) ToPayload(v any) (*commonpb.Payload, error) {
	p, err := r.DataConverter.ToPayload(v)
	if p != nil {
		r.record(p)
	}
	return p, err
}

func (r *recordingConverter) ToPayloads(vs ...any) (*commonpb.Payloads, error) {
	ps, err := r.DataConverter.ToPayloads(vs...)
	r.record(ps.GetPayloads()...)
	return ps, err
}

func (r *recordingConverter) FromPayload(p *commonpb.Payload, v any) error {
	if p != nil {
		r.record(p)
	}
	return r.DataConverter.FromPayload(p, v)
}

func (r *recordingConverter) FromPayloads(ps *commonpb.Payloads, vs ...any) error {
	r.record(ps.GetPayloads()...)
	return r.DataConverter.FromPayloads(ps, vs...)
}

// TestWorkflowRunsThroughTheCodec runs a workflow in the SDK's test environment with the
// codec's data converter: it completes with the right result, and every payload that
// crossed the converter was sealed.
func TestWorkflowRunsThroughTheCodec(t *testing.T) {
	kr, key := ring(t, 1)
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestWorkflowEnvironment()
	dc := &recordingConverter{DataConverter: codec.NewDataConverter(kr)}
	env.SetDataConverter(dc)
	env.RegisterActivity(replyActivity)

	env.ExecuteWorkflow(replyWorkflow, turn{Text: secretText, Authors: []string{"alice"}, Tokens: 1})
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var out turn
	if err := env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	if out.Text != "Lilith heard: "+secretText || out.Tokens != 2 || len(out.Authors) != 2 {
		t.Fatalf("result %+v", out)
	}

	dc.mu.Lock()
	defer dc.mu.Unlock()
	// Workflow input, activity input, activity result, workflow result: each at least
	// once produced and once consumed.
	if len(dc.seen) < 4 {
		t.Fatalf("only %d payloads crossed the converter", len(dc.seen))
	}
	for _, p := range dc.seen {
		assertSealed(t, p, key.Version, "hunter2")
		if bytes.Contains(p.GetData(), []byte("Lilith heard")) {
			t.Fatal("activity result in clear")
		}
	}
}
