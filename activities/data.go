package activities

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"

	"github.com/tzurot/tzurot/activities/cards"
	"github.com/tzurot/tzurot/store"
)

// Users' data: characters brought in from cards and shapes.inc backups, the export of
// everything a user has (DataExportWorkflow) and its erasure (DataEraseWorkflow).

// DirectMessenger sends a user a direct message with files; discord.REST implements it.
// The data export and the erasure receipt arrive this way.
type DirectMessenger interface {
	DirectMessage(ctx context.Context, discordUserID, content string, files ...File) (messageID string, err error)
}

// File is a file sent with a message.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// WorkflowControl is the part of the Temporal client the erasure needs to stop a user's
// running conversations; client.Client implements it. Workflows reach Temporal only
// through this activity dependency.
type WorkflowControl interface {
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	CancelWorkflow(ctx context.Context, workflowID, runID string) error
}

// ErrTypeDMClosed says the user accepts no direct messages from the bot: no retry helps.
const ErrTypeDMClosed = "DirectMessagesClosed"

const (
	// MaxDMFileSize is the largest file sent in one message: Discord refuses bigger
	// uploads from a bot in a server without boosts. A bigger export goes in parts.
	MaxDMFileSize = 8 << 20
	// ExportRetention is how long a built export is kept for its delivery.
	ExportRetention = 7 * 24 * time.Hour
)

// WriteDataExport writes everything a user has into a ZIP: their characters as V3 cards,
// personas, presets, aliases, overrides, memories, conversation history, usage, settings,
// and their API keys listed without the secret. It returns how many of each it wrote.
// Rows are streamed, not held.
func WriteDataExport(ctx context.Context, st *store.Store, userID string, now time.Time, w io.Writer) (map[string]int, error) {
	zw := zip.NewWriter(w)
	counts := map[string]int{}
	settings, err := st.Accounts.Settings(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	steps := []func() error{
		func() error { return writeText(zw, "README.txt", exportReadme(settings, now)) },
		func() error { return writeJSON(zw, "account.json", settings) },
		func() error { return writeCharacters(ctx, zw, st, userID, counts) },
		func() error { return writePersonas(ctx, zw, st, userID, counts) },
		func() error { return writeList(zw, "presets.json", counts, st.Accounts.Presets, ctx, userID) },
		func() error { return writeList(zw, "aliases.json", counts, st.Accounts.Aliases, ctx, userID) },
		func() error { return writeList(zw, "overrides.json", counts, st.Accounts.Overrides, ctx, userID) },
		func() error { return writeKeys(ctx, zw, st, userID, counts) },
		func() error { return writeLines(zw, "memories.jsonl", counts, st.Accounts.Memories, ctx, userID) },
		func() error { return writeLines(zw, "history.jsonl", counts, st.Accounts.History, ctx, userID) },
		func() error { return writeLines(zw, "usage.jsonl", counts, st.Accounts.Usage, ctx, userID) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("data export: %w", err)
		}
	}
	return counts, zw.Close()
}

func exportReadme(s store.AccountSettings, now time.Time) string {
	return "Everything Tzurot keeps about Discord user " + s.DiscordID + ", exported " + now.UTC().Format(time.RFC3339) + ".\n\n" +
		"account.json      your settings (time zone, default persona and preset)\n" +
		"characters/       the characters you own, as Character Card V3 JSON (`/character import` reads them)\n" +
		"personas.json     who you told the characters you are\n" +
		"presets.json      your model presets\n" +
		"aliases.json      your personal aliases and your characters' global ones\n" +
		"overrides.json    the preset or persona you chose for single characters\n" +
		"api_keys.json     your API keys: provider and dates, the key itself masked\n" +
		"memories.jsonl    what the characters remember about you, one memory a line\n" +
		"history.jsonl     your conversations, one line each\n" +
		"usage.jsonl       every reply charged to you, with its token counts\n"
}

func writeCharacters(ctx context.Context, zw *zip.Writer, st *store.Store, userID string, counts map[string]int) error {
	ids, err := st.Accounts.OwnedCharacters(ctx, userID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		p, ext, err := st.Characters.Card(ctx, id)
		if err != nil {
			return err
		}
		card, err := CharacterCard(p, ext)
		if err != nil {
			return err
		}
		data, err := cards.ExportJSON(card)
		if err != nil {
			return err
		}
		f, err := zw.Create("characters/" + p.Slug + ".json")
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			return err
		}
		counts["characters"]++
	}
	return nil
}

// personaRecord is a persona as the export writes it.
type personaRecord struct {
	Name          string `json:"name"`
	PreferredName string `json:"preferred_name"`
	Pronouns      string `json:"pronouns,omitempty"`
	Description   string `json:"description,omitempty"`
	Default       bool   `json:"default"`
}

func writePersonas(ctx context.Context, zw *zip.Writer, st *store.Store, userID string, counts map[string]int) error {
	ps, err := st.Personas.List(ctx, userID)
	if err != nil {
		return err
	}
	out := make([]personaRecord, 0, len(ps))
	for _, p := range ps {
		out = append(out, personaRecord{p.Name, p.PreferredName, p.Pronouns, p.Description, p.IsDefault})
	}
	counts["personas"] = len(out)
	return writeJSON(zw, "personas.json", out)
}

func writeKeys(ctx context.Context, zw *zip.Writer, st *store.Store, userID string, counts map[string]int) error {
	var keys []store.KeyRecord
	if st.APIKeys != nil {
		list, err := st.APIKeys.List(ctx, userID) // opens each key only to mask it
		if err != nil {
			return err
		}
		for _, k := range list {
			keys = append(keys, store.KeyRecord{Provider: k.Provider, BaseURL: k.BaseURL, Masked: k.Masked, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt})
		}
	} else if err := st.Accounts.Keys(ctx, userID, func(k store.KeyRecord) error { keys = append(keys, k); return nil }); err != nil {
		return err
	}
	counts["api_keys"] = len(keys)
	return writeJSON(zw, "api_keys.json", keys)
}

// rowSource is a store method that hands each of a user's rows to a function.
type rowSource[T any] func(ctx context.Context, userID string, fn func(T) error) error

// writeList writes a source's rows as one JSON array.
func writeList[T any](zw *zip.Writer, name string, counts map[string]int, src rowSource[T], ctx context.Context, userID string) error {
	list := []T{}
	if err := src(ctx, userID, func(v T) error { list = append(list, v); return nil }); err != nil {
		return err
	}
	counts[strings.TrimSuffix(name, ".json")] = len(list)
	return writeJSON(zw, name, list)
}

// writeLines streams a source's rows as JSON lines.
func writeLines[T any](zw *zip.Writer, name string, counts map[string]int, src rowSource[T], ctx context.Context, userID string) error {
	f, err := zw.Create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	key := strings.TrimSuffix(name, ".jsonl")
	counts[key] = 0
	return src(ctx, userID, func(v T) error {
		counts[key]++
		return enc.Encode(v)
	})
}

func writeJSON(zw *zip.Writer, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeText(zw, name, string(data)+"\n")
}

func writeText(zw *zip.Writer, name, text string) error {
	f, err := zw.Create(name)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, text)
	return err
}

// DataExportInput names whose data to export.
type DataExportInput struct {
	DiscordUserID string
}

// DataExportBuilt says where BuildDataExport stored the ZIP and what it holds. ExportID
// is empty when the bot keeps nothing about the user.
type DataExportBuilt struct {
	ExportID string
	Bytes    int
	Counts   map[string]int
}

// BuildDataExport writes the user's ZIP into data_exports, kept for ExportRetention, and
// returns its id: the bytes never travel through Temporal. A retry of the same run
// replaces what an earlier attempt stored. Expired exports are removed on the way.
func (a *Activities) BuildDataExport(ctx context.Context, in DataExportInput) (DataExportBuilt, error) {
	u, err := a.Store.Users.ByDiscordID(ctx, in.DiscordUserID)
	if errors.Is(err, store.ErrNotFound) {
		return DataExportBuilt{}, nil
	}
	if err != nil {
		return DataExportBuilt{}, err
	}
	if n, err := a.Store.DataExports.DeleteExpired(ctx, a.now()); err != nil {
		a.log().Warn("expired data exports not removed", "err", err)
	} else if n > 0 {
		a.log().Info("expired data exports removed", "count", n)
	}
	var buf bytes.Buffer
	counts, err := WriteDataExport(ctx, a.Store, u.ID, a.now(), &buf)
	if err != nil {
		return DataExportBuilt{}, err
	}
	id, err := a.Store.DataExports.Put(ctx, u.ID, activity.GetInfo(ctx).WorkflowExecution.RunID, buf.Bytes(), a.now().Add(ExportRetention))
	if err != nil {
		return DataExportBuilt{}, err
	}
	return DataExportBuilt{ExportID: id, Bytes: buf.Len(), Counts: counts}, nil
}

// DeliverDataExportInput names the export to send and to whom.
type DeliverDataExportInput struct {
	DiscordUserID string
	ExportID      string // "" tells the user the bot keeps nothing about them
	Counts        map[string]int
}

// DataExportDelivered says how many files the export took.
type DataExportDelivered struct {
	Parts int
}

// DeliverDataExport sends the export by direct message: one ZIP, or numbered parts of at
// most MaxDMFileSize when it is bigger. Each part sent is recorded, so a retry sends
// only the rest.
func (a *Activities) DeliverDataExport(ctx context.Context, in DeliverDataExportInput) (DataExportDelivered, error) {
	dm, err := a.messenger()
	if err != nil {
		return DataExportDelivered{}, err
	}
	if in.ExportID == "" {
		_, err := dm.DirectMessage(ctx, in.DiscordUserID, "You asked for your data: I keep nothing about you.")
		return DataExportDelivered{}, err
	}
	e, err := a.Store.DataExports.Get(ctx, in.ExportID)
	if err != nil {
		return DataExportDelivered{}, fmt.Errorf("export %s: %w", in.ExportID, err)
	}
	parts := SplitParts(e.Bytes, MaxDMFileSize)
	name := "tzurot-data-" + e.CreatedAt.UTC().Format("2006-01-02") + ".zip"
	for i := e.DeliveredParts; i < len(parts); i++ {
		activity.RecordHeartbeat(ctx, i)
		file := File{Name: name, ContentType: "application/zip", Data: parts[i]}
		text := "Here is everything I keep about you (" + summarize(in.Counts) + "). README.txt inside says what each file holds."
		if len(parts) > 1 {
			file.Name = fmt.Sprintf("%s.%03d", name, i+1)
			text = fmt.Sprintf("Your data, part %d of %d: it was too big for one file. Put the parts in one folder and join them "+
				"(`cat %s.* > %s`, or `copy /b` on Windows; 7-Zip opens `.001` directly).", i+1, len(parts), name, name)
		}
		if _, err := dm.DirectMessage(ctx, in.DiscordUserID, text, file); err != nil {
			return DataExportDelivered{}, err
		}
		if err := a.Store.DataExports.MarkDelivered(ctx, e.ID, i+1); err != nil {
			return DataExportDelivered{}, err
		}
	}
	return DataExportDelivered{Parts: len(parts)}, nil
}

// SplitParts cuts data into pieces of at most size bytes.
func SplitParts(data []byte, size int) [][]byte {
	var out [][]byte
	for len(data) > size {
		out = append(out, data[:size])
		data = data[size:]
	}
	return append(out, data)
}

func summarize(counts map[string]int) string {
	var parts []string
	for _, k := range []string{"characters", "personas", "presets", "memories", "history"} {
		if n, ok := counts[k]; ok {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(parts) == 0 {
		return "your settings"
	}
	return strings.Join(parts, ", ") + " and more"
}

func (a *Activities) messenger() (DirectMessenger, error) {
	dm, ok := a.Discord.(DirectMessenger)
	if !ok {
		return nil, NonRetryable(ErrTypeDMClosed, errors.New("this worker's Discord client cannot send direct messages"))
	}
	return dm, nil
}

// CancelConversationsInput names whose running conversations to stop.
type CancelConversationsInput struct {
	DiscordUserID string
	WorkflowType  string // the conversation workflow's registered name
}

// CancelConversationsResult counts the conversations stopped.
type CancelConversationsResult struct {
	Cancelled int
}

var (
	snowflake    = regexp.MustCompile(`^[0-9]{1,20}$`)
	workflowType = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
)

// CancelConversations asks Temporal to cancel every running conversation the user
// started (found by the TzurotUser search attribute), so none writes new history while
// their data is erased. Cancelling one that just ended is not an error.
func (a *Activities) CancelConversations(ctx context.Context, in CancelConversationsInput) (CancelConversationsResult, error) {
	if a.Temporal == nil {
		return CancelConversationsResult{}, NonRetryable("NoTemporalClient", errors.New("the worker has no Temporal client to cancel conversations with"))
	}
	if !snowflake.MatchString(in.DiscordUserID) || !workflowType.MatchString(in.WorkflowType) {
		return CancelConversationsResult{}, NonRetryable("BadInput", fmt.Errorf("not a Discord user id or workflow type: %q, %q", in.DiscordUserID, in.WorkflowType))
	}
	query := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running' AND TzurotUser = '%s'", in.WorkflowType, in.DiscordUserID)
	var res CancelConversationsResult
	var token []byte
	for {
		page, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return res, fmt.Errorf("list conversations: %w", err)
		}
		for _, e := range page.GetExecutions() {
			ex := e.GetExecution()
			if err := a.Temporal.CancelWorkflow(ctx, ex.GetWorkflowId(), ex.GetRunId()); err != nil {
				a.log().Warn("conversation not cancelled", "workflow_id", ex.GetWorkflowId(), "err", err)
				continue
			}
			res.Cancelled++
		}
		if token = page.GetNextPageToken(); len(token) == 0 {
			return res, nil
		}
		activity.RecordHeartbeat(ctx, res.Cancelled)
	}
}

// EraseSteps are the erasure's steps in order (store.EraseSteps), each one EraseData.
// DataEraseWorkflow runs this list: changing it changes the workflow's commands, so a
// change goes through workflow.GetVersion (the replay test catches one that does not).
var EraseSteps = append([]string(nil), store.EraseSteps...)

// EraseDataInput is one erasure step for one user.
type EraseDataInput struct {
	Step          string
	DiscordUserID string
	// HeirDiscordID receives the user's characters instead of their deletion ("" deletes).
	HeirDiscordID string
}

// EraseDataResult is how many rows a step removed (characters: deleted or handed on).
type EraseDataResult struct {
	Step string
	Rows int64
}

// EraseData runs one erasure step in one transaction. It is idempotent: the count is
// recorded under the workflow run with the removal, so a step retried after a crash (or
// on another worker) reports the same number.
func (a *Activities) EraseData(ctx context.Context, in EraseDataInput) (EraseDataResult, error) {
	n, err := a.Store.Accounts.Erase(ctx, in.Step, store.EraseRequest{
		RunID: activity.GetInfo(ctx).WorkflowExecution.RunID, DiscordID: in.DiscordUserID, HeirDiscordID: in.HeirDiscordID})
	if err != nil {
		return EraseDataResult{}, err
	}
	return EraseDataResult{Step: in.Step, Rows: n}, nil
}

// EraseReceiptInput is what the erasure did.
type EraseReceiptInput struct {
	DiscordUserID string
	Cancelled     int
	Steps         []EraseDataResult
	HeirDiscordID string
}

// EraseReceiptResult says whether the receipt reached the user.
type EraseReceiptResult struct {
	Sent bool
}

// SendEraseReceipt tells the user, by direct message, what was removed.
func (a *Activities) SendEraseReceipt(ctx context.Context, in EraseReceiptInput) (EraseReceiptResult, error) {
	dm, err := a.messenger()
	if err != nil {
		return EraseReceiptResult{}, err
	}
	if _, err := dm.DirectMessage(ctx, in.DiscordUserID, EraseReceipt(in)); err != nil {
		return EraseReceiptResult{}, err
	}
	return EraseReceiptResult{Sent: true}, nil
}

// eraseLabels words each step for the receipt.
var eraseLabels = map[string]string{
	store.EraseHistory: "conversation lines", store.EraseMemories: "memories (with their embeddings)",
	store.EraseCharacters: "characters deleted", store.EraseAliases: "personal aliases",
	store.EraseOverrides: "per-character settings", store.ErasePresets: "presets", store.EraseAPIKeys: "API keys",
	store.EraseUsage: "usage records", store.ErasePersonas: "personas", store.EraseExports: "data exports",
	store.EraseAccount: "account (settings, and anything that arrived during the erasure)",
}

// EraseReceipt is the receipt's text: one line per step with its row count.
func EraseReceipt(in EraseReceiptInput) string {
	var b strings.Builder
	b.WriteString("Your data is erased. What I removed:\n")
	if in.Cancelled > 0 {
		fmt.Fprintf(&b, "- %d running conversations stopped\n", in.Cancelled)
	}
	for _, s := range in.Steps {
		label := eraseLabels[s.Step]
		if s.Step == store.EraseCharacters && in.HeirDiscordID != "" {
			label = "characters handed to the bot's operators (<@" + in.HeirDiscordID + ">)"
		}
		if label == "" {
			label = s.Step
		}
		fmt.Fprintf(&b, "- %s: %d\n", label, s.Rows)
	}
	if in.HeirDiscordID != "" {
		b.WriteString("The characters you handed over stay, now owned by the operators; nothing else of yours is left. ")
	} else {
		b.WriteString("Nothing of yours is left in the bot's database. ")
	}
	b.WriteString("If you talk to a character again, you start afresh.")
	return b.String()
}
