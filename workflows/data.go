package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
)

// Names of the workflows that give users their data and take it away.
const (
	// DataExportWorkflowName builds the ZIP of everything a user has and sends it by DM.
	DataExportWorkflowName = "DataExportWorkflow"
	// DataExportIDPrefix + "<discord user id>-<unix minute>": one export a minute at most.
	DataExportIDPrefix = "export-"
	// DataEraseWorkflowName erases a user's data step by step and sends a receipt.
	DataEraseWorkflowName = "DataEraseWorkflow"
	// DataEraseIDPrefix + "<discord user id>": one erasure per user at a time.
	DataEraseIDPrefix = "erase-"
)

// DataExportID is the export workflow's id for a request made at t.
func DataExportID(discordUserID string, t time.Time) string {
	return fmt.Sprintf("%s%s-%d", DataExportIDPrefix, discordUserID, t.Unix()/60)
}

// DataEraseID is the erasure workflow's id for a user.
func DataEraseID(discordUserID string) string { return DataEraseIDPrefix + discordUserID }

var (
	// exportBuildOptions: reading every row of a user and zipping them can take minutes
	// for years of history; a few attempts, since a failure here is likely to repeat.
	exportBuildOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 5},
	}
	// dmOptions: a direct message; Discord outages are retried for an hour, a user who
	// takes no DMs is not. An export in several parts records each part it sent, so an
	// attempt cut short by the timeout resumes where it stopped.
	dmOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    5 * time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{activities.ErrTypeDMClosed, activities.ErrTypeDiscord}},
	}
	// eraseOptions: each step is idempotent and must happen; a database outage is ridden
	// out for a day. One step deletes all of a kind in one transaction: years of history
	// may take minutes.
	eraseOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    5 * time.Minute,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	}
)

// DataExportInput names whose data to export.
type DataExportInput struct {
	DiscordUserID string
}

// DataExportResult says what the export held and how it went out.
type DataExportResult struct {
	ExportID string // "" when the bot keeps nothing about the user
	Bytes    int
	Parts    int
	Counts   map[string]int
}

// DataExportWorkflow builds the ZIP of everything a user has (stored in data_exports, so
// the payloads carry only its id) and sends it to them by direct message.
func DataExportWorkflow(ctx workflow.Context, in DataExportInput) (DataExportResult, error) {
	var built activities.DataExportBuilt
	if err := workflow.ExecuteActivity(withOptions(ctx, exportBuildOptions), a.BuildDataExport,
		activities.DataExportInput{DiscordUserID: in.DiscordUserID}).Get(ctx, &built); err != nil {
		return DataExportResult{}, err
	}
	res := DataExportResult{ExportID: built.ExportID, Bytes: built.Bytes, Counts: built.Counts}
	var sent activities.DataExportDelivered
	if err := workflow.ExecuteActivity(withOptions(ctx, dmOptions), a.DeliverDataExport, activities.DeliverDataExportInput{
		DiscordUserID: in.DiscordUserID, ExportID: built.ExportID, Counts: built.Counts}).Get(ctx, &sent); err != nil {
		return res, fmt.Errorf("the export was built (%s) but not delivered: %w", built.ExportID, err)
	}
	res.Parts = sent.Parts
	return res, nil
}

// DataEraseInput names whose data to erase and what becomes of their characters.
type DataEraseInput struct {
	DiscordUserID string
	// HeirDiscordID, a superuser, receives the user's characters; "" deletes them.
	HeirDiscordID string
}

// DataEraseResult is the erasure's receipt.
type DataEraseResult struct {
	Cancelled   int // running conversations stopped
	Steps       []activities.EraseDataResult
	ReceiptSent bool
}

// DataEraseWorkflow erases a user's data everywhere: it stops their running
// conversations, then runs each erasure step as its own idempotent activity (history,
// memories, characters, aliases, overrides, presets, keys, usage, personas, exports, the
// account), and sends a receipt with the rows each step removed. A worker that dies
// halfway leaves the finished steps finished; the next worker resumes with the rest.
func DataEraseWorkflow(ctx workflow.Context, in DataEraseInput) (DataEraseResult, error) {
	status := &Status{Step: "CancelConversations", Attempt: 1}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return *status, nil }); err != nil {
		return DataEraseResult{}, err
	}
	var res DataEraseResult
	var cancelled activities.CancelConversationsResult
	opts := eraseOptions
	opts.Summary = "stop " + in.DiscordUserID + "'s conversations"
	err := workflow.ExecuteActivity(withOptions(ctx, opts), a.CancelConversations, activities.CancelConversationsInput{
		DiscordUserID: in.DiscordUserID, WorkflowType: ConversationWorkflowName}).Get(ctx, &cancelled)
	if err != nil {
		// Erasing matters more than stopping a reply in flight: go on.
		workflow.GetLogger(ctx).Warn("conversations not cancelled; erasing anyway", "err", err)
	}
	res.Cancelled = cancelled.Cancelled
	for _, step := range activities.EraseSteps {
		status.Step = "EraseData " + step
		opts.Summary = "erase " + step
		var done activities.EraseDataResult
		if err := workflow.ExecuteActivity(withOptions(ctx, opts), a.EraseData, activities.EraseDataInput{
			Step: step, DiscordUserID: in.DiscordUserID, HeirDiscordID: in.HeirDiscordID}).Get(ctx, &done); err != nil {
			return res, fmt.Errorf("erase %s: %w", step, err)
		}
		res.Steps = append(res.Steps, done)
		status.Done = append(status.Done, step)
	}
	status.Step = "SendEraseReceipt"
	var receipt activities.EraseReceiptResult
	if err := workflow.ExecuteActivity(withOptions(ctx, dmOptions), a.SendEraseReceipt, activities.EraseReceiptInput{
		DiscordUserID: in.DiscordUserID, Cancelled: res.Cancelled, Steps: res.Steps, HeirDiscordID: in.HeirDiscordID}).Get(ctx, &receipt); err != nil {
		workflow.GetLogger(ctx).Warn("erasure receipt not delivered", "err", err)
	}
	res.ReceiptSent = receipt.Sent
	status.Step = "Done"
	return res, nil
}
