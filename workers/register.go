// Package workers wires Tzurot together: it builds the activities with their
// dependencies, registers workflows and activities on the task queue, registers the
// search attributes operators filter by, and runs the roles (`dev`, `bot`, `worker`).
package workers

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/workflows"
)

// Registry is the part of a Temporal worker that registration needs (a worker.Worker or a
// replayer).
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
	RegisterActivity(a any)
}

// Register puts every workflow and activity on r. Activities are registered by struct, so
// their names are the method names workflows refer to.
func Register(r Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.ConversationWorkflow, workflow.RegisterOptions{Name: workflows.ConversationWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.DataExportWorkflow, workflow.RegisterOptions{Name: workflows.DataExportWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.DataEraseWorkflow, workflow.RegisterOptions{Name: workflows.DataEraseWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.MemoryDecayWorkflow, workflow.RegisterOptions{Name: workflows.MemoryDecayWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.MemorySummarizeWorkflow, workflow.RegisterOptions{Name: workflows.MemorySummarizeWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.DreamWorkflow, workflow.RegisterOptions{Name: workflows.DreamWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.ReembedWorkflow, workflow.RegisterOptions{Name: workflows.ReembedWorkflowName})
	if acts != nil {
		r.RegisterActivity(acts)
	}
}

// SearchAttributes are the custom attributes conversations carry, by type.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		workflows.AttrPersonality.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
		workflows.AttrUser.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		workflows.AttrGuild.GetName():       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		workflows.AttrChannel.GetName():     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		workflows.AttrTrigger.GetName():     enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
	}
}

// EnsureSearchAttributes registers the custom search attributes on a namespace if they
// are missing; it is safe to call on every start.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range SearchAttributes() {
		if _, ok := resp.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}
