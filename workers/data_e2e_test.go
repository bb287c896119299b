package workers_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/cards"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/workers"
	"github.com/tzurot/tzurot/workflows"
)

// /settings data export|delete end to end: the workflows run on the package's worker
// against PostgreSQL and the in-process Temporal server; the ZIP and the receipt arrive
// as direct messages in the simulator.

func dataRun(s *system, channelID, userID, sub string) *discordgo.Interaction {
	return s.sim.Interact(channelID, userID, discordgo.ApplicationCommandInteractionData{Name: "settings", Options: []*option{charGroup("data", sub)}})
}

// dataOperator makes a new user an operator of the bot for one test.
func dataOperator(t *testing.T, s *system) *discordgo.User {
	t.Helper()
	op := s.sim.AddUser("data-operator", "Data Operator")
	bot := s.st.Gateway.Interactions
	prev := bot.Superusers
	next := maps.Clone(prev)
	if next == nil {
		next = map[string]bool{}
	}
	next[op.ID] = true
	bot.Superusers = next
	t.Cleanup(func() { bot.Superusers = prev })
	return op
}

// seedData gives a user some of everything the bot keeps: an own character, a second
// persona, a preset used as an override, conversations and memories with their own
// character and with Lilith, an API key, usage and a personal alias.
func seedData(t *testing.T, s *system, du *discordgo.User) (store.User, store.Personality) {
	t.Helper()
	ctx := context.Background()
	u := storeUser(t, s, du.ID)
	c, err := s.db.Store.Characters.Create(ctx, store.NewCharacter{Personality: store.Personality{Slug: "heirloom-" + du.ID, Name: "Heirloom", OwnerID: u.ID, IsPublic: true}})
	if err != nil {
		t.Fatal(err)
	}
	mine := c.Personality
	if _, err := s.db.Store.Personas.Create(ctx, store.Persona{OwnerID: u.ID, Name: "work", PreferredName: "Dr. Data"}); err != nil {
		t.Fatal(err)
	}
	pre, err := s.db.Store.Presets.Create(ctx, store.Preset{Name: "Mine " + du.ID, OwnerID: u.ID, Model: "stub/mine"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Store.Presets.SetOverride(ctx, u.ID, s.lilith.ID, pre.ID); err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{mine.ID, s.lilith.ID} {
		n := string(rune('a' + i))
		if err := s.db.Store.History.Append(ctx,
			store.Turn{ChannelID: "data-c", PersonalityID: p, UserID: u.ID, PersonaID: u.DefaultPersonaID, Role: "user", Content: "secret words " + du.ID, DiscordMessageID: "data-u" + n + du.ID},
			store.Turn{ChannelID: "data-c", PersonalityID: p, UserID: u.ID, PersonaID: u.DefaultPersonaID, Role: "assistant", Content: "a reply to " + du.ID, DiscordMessageID: "data-r" + n + du.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.Store.Memories.InsertWithoutEmbedding(ctx, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p, Content: "remembers " + du.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Store.APIKeys.Put(ctx, u.ID, "openrouter", "", testUserKey); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Store.Usage.Log(ctx, store.UsageLog{WorkflowID: "msg-data-" + du.ID, PersonalityID: s.lilith.ID, UserID: u.ID, Provider: "openrouter", Model: "stub-model", TokensIn: 10}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Store.Characters.AddAlias(ctx, s.lilith.ID, "lili-"+du.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	return u, mine
}

func waitWorkflow(t *testing.T, s *system, id string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := s.client.GetWorkflow(ctx, id, "").Get(ctx, out); err != nil {
		t.Fatalf("workflow %s: %v", id, err)
	}
}

// recordDataHistory writes a finished data workflow's history to
// workflows/testdata/data/<name> when TZUROT_RECORD_DATA_HISTORY is set, for the replay
// test of workflows/data_test.go. Run:
// TZUROT_RECORD_DATA_HISTORY=1 go test ./workers -run 'TestDataExportArrivesByDM|TestDataEraseThroughTheCommand'
func recordDataHistory(t *testing.T, s *system, workflowID, name string) {
	t.Helper()
	if os.Getenv("TZUROT_RECORD_DATA_HISTORY") == "" {
		return
	}
	iter := s.client.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
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
	if err := os.WriteFile(filepath.Join("..", "workflows", "testdata", "data", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lastDM is the bot's latest direct message to a user.
func lastDM(t *testing.T, s *system, userID string) *discordgo.Message {
	t.Helper()
	msgs := s.sim.Messages(s.sim.AddDM(userID).ID)
	if len(msgs) == 0 {
		t.Fatal("no direct message")
	}
	return msgs[len(msgs)-1]
}

func TestDataExportArrivesByDM(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	du := s.sim.AddUser("exporter", "Exporter")
	_, mine := seedData(t, s, du)
	started := time.Now()
	got := content(s.awaitResponse(t, dataRun(s, ch.ID, du.ID, "export")))
	id := regexp.MustCompile(`export-\d+-\d+`).FindString(got)
	if id == "" || !strings.Contains(got, "direct message") {
		t.Fatalf("export answered %q", got)
	}
	var res workflows.DataExportResult
	waitWorkflow(t, s, id, &res)
	recordDataHistory(t, s, id, "export_v1.json")
	t.Logf("data export of %d bytes delivered in %v", res.Bytes, time.Since(started))
	if res.Parts != 1 || res.Counts["characters"] != 1 || res.Counts["history"] != 4 || res.Counts["memories"] != 2 || res.Counts["personas"] != 2 {
		t.Fatalf("export result %+v", res)
	}
	dm := lastDM(t, s, du.ID)
	if len(dm.Attachments) != 1 || !strings.HasSuffix(dm.Attachments[0].Filename, ".zip") {
		t.Fatalf("DM %+v", dm)
	}
	files := unzipFiles(t, fetch(t, s, dm.Attachments[0].URL))
	card, err := cards.Parse([]byte(files["characters/"+mine.Slug+".json"]), "card.json")
	if err != nil || card.Name != "Heirloom" {
		t.Fatalf("character card: %v", err)
	}
	for name, want := range map[string]string{
		"history.jsonl": "secret words " + du.ID, "memories.jsonl": "remembers " + du.ID, "presets.json": "stub/mine",
		"aliases.json": "lili-" + du.ID, "overrides.json": "Mine " + du.ID, "usage.jsonl": "stub-model",
		"personas.json": "Dr. Data", "api_keys.json": `"masked": "sk-or-`, "account.json": du.ID,
	} {
		if !strings.Contains(files[name], want) {
			t.Errorf("%s lacks %q: %.300s", name, want, files[name])
		}
	}
	for name, body := range files {
		if strings.Contains(body, testUserKey) || strings.Contains(body, testUserKey[len(testUserKey)-20:]) {
			t.Errorf("%s carries the API key", name)
		}
	}
}

// TestDataEraseThroughTheCommand: the user picks what becomes of their characters,
// types DELETE (after a wrong attempt), and everything of theirs goes, their running
// conversations are cancelled, and a receipt arrives.
func TestDataEraseThroughTheCommand(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	op := dataOperator(t, s)
	du := s.sim.AddUser("leaver", "Leaver")
	u, mine := seedData(t, s, du)

	// A conversation of theirs still running (on a queue no worker polls, so it waits).
	stuck, err := s.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "msg-stuck-" + du.ID, TaskQueue: "nobody-polls-" + du.ID,
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.AttrUser.ValueSet(du.ID))},
		workflows.ConversationWorkflowName, workflows.ConversationInput{Message: activities.MessageSnapshot{ID: "stuck", AuthorID: du.ID}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.client.TerminateWorkflow(ctx, stuck.GetID(), "", "test cleanup")
	waitVisible(t, s, du.ID)

	_, comps := withComponents(t, s, dataRun(s, ch.ID, du.ID, "delete"))
	if ids := buttons(comps); len(ids) != 1 || ids[0] != "data-erase-choice" {
		t.Fatalf("no choice for the characters: %v", ids)
	}
	r := s.awaitResponse(t, s.sim.Click(ch.ID, du.ID, "data-erase-choice", "handover"))
	if r.Type != discordgo.InteractionResponseModal || r.Data.CustomID != "data-erase:handover" {
		t.Fatalf("the choice opened %+v", r)
	}
	if got := content(s.awaitResponse(t, s.sim.SubmitModal(ch.ID, du.ID, "data-erase:handover", map[string]string{"confirm": "delete"}))); !strings.Contains(got, "Nothing erased") {
		t.Fatalf("wrong confirmation: %q", got)
	}
	if _, err := s.db.Store.Users.ByDiscordID(ctx, du.ID); err != nil {
		t.Fatalf("a wrong confirmation erased: %v", err)
	}
	got := content(s.awaitResponse(t, s.sim.SubmitModal(ch.ID, du.ID, "data-erase:handover", map[string]string{"confirm": "DELETE"})))
	if !strings.Contains(got, "handed to the bot's operators") || !strings.Contains(got, workflows.DataEraseID(du.ID)) {
		t.Fatalf("erase answered %q", got)
	}
	var res workflows.DataEraseResult
	waitWorkflow(t, s, workflows.DataEraseID(du.ID), &res)
	recordDataHistory(t, s, workflows.DataEraseID(du.ID), "erase_v1.json")
	if res.Cancelled != 1 || !res.ReceiptSent || len(res.Steps) != len(activities.EraseSteps) {
		t.Fatalf("erase result %+v", res)
	}
	checkErased(t, s, u, du.ID)
	kept, err := s.db.Store.Personalities.ByID(ctx, mine.ID)
	heir, _ := s.db.Store.Users.ByDiscordID(ctx, op.ID)
	if err != nil || kept.OwnerID == "" || kept.OwnerID != heir.ID {
		t.Fatalf("the character was not handed over: %+v %v", kept, err)
	}
	if _, err := s.db.Store.Personalities.ByID(ctx, s.lilith.ID); err != nil {
		t.Fatalf("someone else's character went too: %v", err)
	}
	receipt := lastDM(t, s, du.ID).Content
	for _, want := range []string{"Your data is erased", "conversation lines: 4", "memories (with their embeddings): 2", "characters handed to the bot's operators", "API keys: 1", "1 running conversations stopped"} {
		if !strings.Contains(receipt, want) {
			t.Errorf("receipt lacks %q:\n%s", want, receipt)
		}
	}
	cancelRequested := false
	iter := s.client.GetWorkflowHistory(ctx, stuck.GetID(), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		cancelRequested = cancelRequested || ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED
	}
	if !cancelRequested {
		t.Fatal("the running conversation was not cancelled")
	}
}

// waitVisible waits until Temporal's visibility lists a running conversation of the user.
func waitVisible(t *testing.T, s *system, discordUserID string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		n, err := s.client.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
			Query: "ExecutionStatus = 'Running' AND TzurotUser = '" + discordUserID + "'"})
		if err == nil && n.GetCount() > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the running conversation never became visible")
}

// checkErased asserts that no row of the user is left.
func checkErased(t *testing.T, s *system, u store.User, discordID string) {
	t.Helper()
	if _, err := s.db.Store.Users.ByDiscordID(context.Background(), discordID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the user remains: %v", err)
	}
	var left int
	err := s.db.Store.Pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM conversation_history WHERE user_id = $1 OR content LIKE '%' || $2)
		+ (SELECT count(*) FROM memories WHERE content = 'remembers ' || $2)
		+ (SELECT count(*) FROM personas WHERE owner_id = $1) + (SELECT count(*) FROM llm_configs WHERE owner_id = $1)
		+ (SELECT count(*) FROM user_api_keys WHERE user_id = $1) + (SELECT count(*) FROM usage_logs WHERE user_id = $1)
		+ (SELECT count(*) FROM personality_aliases WHERE user_id = $1) + (SELECT count(*) FROM user_personality_configs WHERE user_id = $1)
		+ (SELECT count(*) FROM data_exports WHERE user_id = $1)`, u.ID, discordID).Scan(&left)
	if err != nil || left != 0 {
		t.Fatalf("%d rows of the erased user remain (%v)", left, err)
	}
}

// TestDataEraseSurvivesAWorkerRestart: a worker finishes the first erasure step and goes
// away while the second fails; a new worker resumes the workflow and finishes, and the
// step already done is not done again.
func TestDataEraseSurvivesAWorkerRestart(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	du := s.sim.AddUser("restarter", "Restarter")
	u, _ := seedData(t, s, du)
	queue, id := "erase-restart-"+du.ID, "erase-restart-"+du.ID
	acts := workers.NewActivities(s.services)

	first := worker.New(s.client, queue, worker.Options{Identity: "erase-worker-1"})
	first.RegisterWorkflowWithOptions(workflows.DataEraseWorkflow, workflow.RegisterOptions{Name: workflows.DataEraseWorkflowName})
	first.RegisterActivityWithOptions(acts.CancelConversations, activity.RegisterOptions{Name: "CancelConversations"})
	reached := make(chan struct{}, 1)
	first.RegisterActivityWithOptions(func(ctx context.Context, in activities.EraseDataInput) (activities.EraseDataResult, error) {
		if in.Step == activities.EraseSteps[0] {
			return acts.EraseData(ctx, in)
		}
		select { // the worker dies here, before this step does anything
		case reached <- struct{}{}:
		default:
		}
		return activities.EraseDataResult{}, errors.New("the worker is going down")
	}, activity.RegisterOptions{Name: "EraseData"})
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	run, err := s.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, workflows.DataEraseWorkflowName,
		workflows.DataEraseInput{DiscordUserID: du.ID})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the first step never finished")
	}
	first.Stop()
	var history, memories int
	s.db.Store.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM conversation_history WHERE user_id = $1),
		(SELECT count(*) FROM memories WHERE persona_id = $2)`, u.ID, u.DefaultPersonaID).Scan(&history, &memories)
	if history != 0 || memories != 2 {
		t.Fatalf("halfway: %d history lines, %d memories; want 0 and 2", history, memories)
	}

	second := worker.New(s.client, queue, worker.Options{Identity: "erase-worker-2"})
	workers.Register(second, acts)
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	defer second.Stop()
	var res workflows.DataEraseResult
	waitCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := run.Get(waitCtx, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != len(activities.EraseSteps) || res.Steps[0].Rows != 4 || res.Steps[1].Rows != 2 || !res.ReceiptSent {
		t.Fatalf("result %+v", res)
	}
	checkErased(t, s, u, du.ID)

	// Who ran what: the first step on the first worker once, the second on the new one.
	scheduled := map[int64]bool{}
	var erases []int64
	started := map[int64]string{}
	attempts := map[int64]int32{}
	iter := s.client.GetWorkflowHistory(ctx, id, run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "EraseData" {
			scheduled[ev.GetEventId()] = true
			erases = append(erases, ev.GetEventId())
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && scheduled[a.GetScheduledEventId()] {
			started[a.GetScheduledEventId()], attempts[a.GetScheduledEventId()] = a.GetIdentity(), a.GetAttempt()
		}
	}
	if len(erases) != len(activities.EraseSteps) {
		t.Fatalf("%d erase steps scheduled", len(erases))
	}
	if started[erases[0]] != "erase-worker-1" || attempts[erases[0]] != 1 {
		t.Errorf("step 1 ran on %q, attempt %d; want once on the first worker", started[erases[0]], attempts[erases[0]])
	}
	if started[erases[1]] != "erase-worker-2" || attempts[erases[1]] < 2 {
		t.Errorf("step 2 ran on %q, attempt %d; want the new worker, after the failed attempt", started[erases[1]], attempts[erases[1]])
	}
}

func unzipFiles(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}
