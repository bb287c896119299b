package activities_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/cards"
	"github.com/tzurot/tzurot/activities/shapes"
	"github.com/tzurot/tzurot/store"
)

// A card imported, exported and imported again gives the same columns and extensions:
// nothing is lost and nothing (our own extension) is added on the way.
func TestCardCharacterSurvivesExportAndImport(t *testing.T) {
	for _, name := range []string{"v3.json", "v2.json", "book.json", "chara_only.png", "card.charx", "large.png"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("cards/testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			card, err := cards.Parse(data, name)
			if err != nil {
				t.Fatal(err)
			}
			first, err := activities.CardCharacter(card, "owner-1")
			if err != nil {
				t.Fatal(err)
			}
			if first.Personality.IsPublic || first.Personality.OwnerID != "owner-1" {
				t.Fatalf("an import must be private and owned: %+v", first.Personality)
			}
			if strings.HasSuffix(name, ".png") && (first.Avatar == nil || first.Avatar.ContentType != "image/png") {
				t.Fatalf("the card's picture was not kept: %+v", first.Avatar)
			}
			again, err := activities.CharacterCard(first.Personality, first.Extensions)
			if err != nil {
				t.Fatal(err)
			}
			out, err := cards.ExportJSON(again)
			if err != nil {
				t.Fatal(err)
			}
			back, err := cards.Parse(out, "out.json")
			if err != nil {
				t.Fatal(err)
			}
			second, err := activities.CardCharacter(back, "owner-1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(first.Personality, second.Personality) {
				t.Errorf("columns changed:\n%+v\n%+v", first.Personality, second.Personality)
			}
			var x1, x2 cards.Extra
			if json.Unmarshal(first.Extensions, &x1) != nil || json.Unmarshal(second.Extensions, &x2) != nil || !reflect.DeepEqual(x1, x2) {
				t.Errorf("extensions changed:\n%s\n%s", first.Extensions, second.Extensions)
			}
		})
	}
}

func TestShapesCharacterKeepsWhatHasNoColumn(t *testing.T) {
	b, err := shapes.Load(os.DirFS("shapes/testdata/folder"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := activities.ShapesCharacter(b, "owner-1", "persona-1")
	if err != nil {
		t.Fatal(err)
	}
	p := n.Personality
	if p.Name != "Lilith" || p.OwnerID != "owner-1" || p.IsPublic || p.Birthday != "03-07" || len(p.Aliases) != 0 || !strings.Contains(p.ErrorMessage, "{{user}}") {
		t.Fatalf("personality: %+v", p)
	}
	if n.PersonaID != "persona-1" || len(n.Memories) != len(b.Memories) || len(n.Memories) == 0 {
		t.Fatalf("memories: %d of %d", len(n.Memories), len(b.Memories))
	}
	var x cards.Extra
	if err := json.Unmarshal(n.Extensions, &x); err != nil {
		t.Fatal(err)
	}
	ext := string(x.Extensions["shapes_inc"])
	for _, want := range []string{`"eleven_multilingual_v2"`, `"librarian"`, `"timezone":"Europe/Prague"`, `"knowledge"`} {
		if !strings.Contains(ext, want) {
			t.Errorf("extensions.shapes_inc lacks %s: %s", want, ext)
		}
	}
	// The extension travels in the card, so an exported shape keeps its voice settings.
	card, err := activities.CharacterCard(p, n.Extensions)
	if err != nil || !strings.Contains(string(card.Extensions["shapes_inc"]), "eleven_multilingual_v2") {
		t.Fatalf("exported card lost the shape's settings: %v", err)
	}
	mem, err := shapes.Load(os.DirFS("shapes/testdata/memories"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := activities.ShapesCharacter(mem, "owner-1", ""); err == nil || !strings.Contains(err.Error(), "memories only") {
		t.Fatalf("a memories-only export became a character: %v", err)
	}
}

func TestSplitParts(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 25)
	parts := activities.SplitParts(data, 10)
	if len(parts) != 3 || len(parts[2]) != 5 || !bytes.Equal(bytes.Join(parts, nil), data) {
		t.Fatalf("parts = %q", parts)
	}
	if parts := activities.SplitParts([]byte("small"), 10); len(parts) != 1 {
		t.Fatalf("a small export in %d parts", len(parts))
	}
}

func TestEraseReceiptListsEveryStep(t *testing.T) {
	got := activities.EraseReceipt(activities.EraseReceiptInput{Cancelled: 1, HeirDiscordID: "9",
		Steps: []activities.EraseDataResult{{Step: store.EraseHistory, Rows: 12}, {Step: store.EraseCharacters, Rows: 2}, {Step: store.EraseAccount, Rows: 1}}})
	for _, want := range []string{"1 running conversations stopped", "conversation lines: 12", "handed to the bot's operators (<@9>): 2", "account", "stay, now owned"} {
		if !strings.Contains(got, want) {
			t.Errorf("receipt lacks %q:\n%s", want, got)
		}
	}
}

// fakeTemporal pages through two pages of running conversations.
type fakeTemporal struct {
	queries   []string
	cancelled []string
}

func (f *fakeTemporal) ListWorkflow(_ context.Context, r *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.queries = append(f.queries, r.Query)
	exec := func(id string) *workflowpb.WorkflowExecutionInfo {
		return &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: "r"}}
	}
	if len(r.NextPageToken) == 0 {
		return &workflowservice.ListWorkflowExecutionsResponse{Executions: []*workflowpb.WorkflowExecutionInfo{exec("msg-1"), exec("msg-gone")}, NextPageToken: []byte("2")}, nil
	}
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: []*workflowpb.WorkflowExecutionInfo{exec("msg-3")}}, nil
}

func (f *fakeTemporal) CancelWorkflow(_ context.Context, id, _ string) error {
	if id == "msg-gone" {
		return errors.New("workflow execution already completed")
	}
	f.cancelled = append(f.cancelled, id)
	return nil
}

func TestCancelConversationsPagesAndSkipsFinished(t *testing.T) {
	fake := &fakeTemporal{}
	var ts testsuite.WorkflowTestSuite
	e := ts.NewTestActivityEnvironment()
	e.RegisterActivity(&activities.Activities{Temporal: fake})
	v, err := e.ExecuteActivity((&activities.Activities{}).CancelConversations, activities.CancelConversationsInput{DiscordUserID: "42", WorkflowType: "ConversationWorkflow"})
	if err != nil {
		t.Fatal(err)
	}
	var res activities.CancelConversationsResult
	if err := v.Get(&res); err != nil || res.Cancelled != 2 || len(fake.cancelled) != 2 {
		t.Fatalf("cancelled %+v %v (%v)", res, fake.cancelled, err)
	}
	if want := "WorkflowType = 'ConversationWorkflow' AND ExecutionStatus = 'Running' AND TzurotUser = '42'"; fake.queries[0] != want {
		t.Fatalf("query = %q", fake.queries[0])
	}
	if _, err := e.ExecuteActivity((&activities.Activities{}).CancelConversations, activities.CancelConversationsInput{DiscordUserID: "42' OR 1=1", WorkflowType: "x"}); err == nil {
		t.Fatal("a query injection was run")
	}
}

// The export holds everything the user has and is delivered by DM as a ZIP.
func TestBuildAndDeliverDataExport(t *testing.T) {
	e := env(t)
	ctx := context.Background()
	du := sim.AddUser("exporter", "Exporter")
	u, err := db.Store.Users.Ensure(ctx, du.ID, "exporter", "Exporter")
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Store.Characters.Create(ctx, store.NewCharacter{Personality: store.Personality{Slug: "export-me", Name: "Export Me", OwnerID: u.ID, Tone: "wry"},
		PersonaID: u.DefaultPersonaID, Memories: []store.ImportedMemory{{Content: "remembers the export"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Store.History.Append(ctx, store.Turn{ChannelID: "c", PersonalityID: c.Personality.ID, UserID: u.ID, Role: "user", Content: "my words", DiscordMessageID: "export-m1"}); err != nil {
		t.Fatal(err)
	}
	v, err := e.ExecuteActivity(acts.BuildDataExport, activities.DataExportInput{DiscordUserID: du.ID})
	if err != nil {
		t.Fatal(err)
	}
	var built activities.DataExportBuilt
	if err := v.Get(&built); err != nil {
		t.Fatal(err)
	}
	if built.ExportID == "" || built.Counts["characters"] != 1 || built.Counts["memories"] != 1 || built.Counts["history"] != 1 || built.Counts["personas"] != 1 {
		t.Fatalf("built %+v", built)
	}
	stored, err := db.Store.DataExports.Get(ctx, built.ExportID)
	if err != nil {
		t.Fatal(err)
	}
	files := unzip(t, stored.Bytes)
	for name, want := range map[string]string{"characters/export-me.json": `"chara_card_v3"`, "history.jsonl": "my words",
		"memories.jsonl": "remembers the export", "account.json": du.ID, "README.txt": "memories.jsonl", "api_keys.json": "null"} {
		if !strings.Contains(files[name], want) {
			t.Errorf("%s lacks %q: %.300s", name, want, files[name])
		}
	}
	if _, err := e.ExecuteActivity(acts.DeliverDataExport, activities.DeliverDataExportInput{DiscordUserID: du.ID, ExportID: built.ExportID, Counts: built.Counts}); err != nil {
		t.Fatal(err)
	}
	msgs := sim.Messages(sim.AddDM(du.ID).ID)
	if len(msgs) != 1 || len(msgs[0].Attachments) != 1 || !strings.HasSuffix(msgs[0].Attachments[0].Filename, ".zip") {
		t.Fatalf("DM: %+v", msgs)
	}
	// A retry after a full delivery sends nothing again.
	if _, err := e.ExecuteActivity(acts.DeliverDataExport, activities.DeliverDataExportInput{DiscordUserID: du.ID, ExportID: built.ExportID}); err != nil {
		t.Fatal(err)
	}
	if n := len(sim.Messages(sim.AddDM(du.ID).ID)); n != 1 {
		t.Fatalf("a retried delivery sent the export again (%d messages)", n)
	}
}

func unzip(t *testing.T, data []byte) map[string]string {
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
		b, _ := io.ReadAll(r)
		r.Close()
		out[f.Name] = string(b)
	}
	return out
}

// The largest card fixture (a 661 KB PNG with 19 KB of card JSON twice) through the
// import path: parse, map, store in one transaction with its picture.
func BenchmarkImportLargeCard(b *testing.B) {
	if testing.Short() || db == nil {
		b.Skip("needs PostgreSQL")
	}
	ctx := context.Background()
	data, err := os.ReadFile("cards/testdata/large.png")
	if err != nil {
		b.Fatal(err)
	}
	u, err := db.Store.Users.Ensure(ctx, "bench-importer", "b", "B")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		card, err := cards.Parse(data, "large.png")
		if err != nil {
			b.Fatal(err)
		}
		n, err := activities.CardCharacter(card, u.ID)
		if err != nil {
			b.Fatal(err)
		}
		c, err := db.Store.Characters.Create(ctx, n)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer() // make room for the next one under the same slug
		if _, err := db.Store.Characters.Delete(ctx, c.Personality.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// The same card out again: read it with its extensions and picture, build the card,
// write the V3 PNG.
func BenchmarkExportLargeCard(b *testing.B) {
	if testing.Short() || db == nil {
		b.Skip("needs PostgreSQL")
	}
	ctx := context.Background()
	data, err := os.ReadFile("cards/testdata/large.png")
	if err != nil {
		b.Fatal(err)
	}
	u, err := db.Store.Users.Ensure(ctx, "bench-exporter", "b", "B")
	if err != nil {
		b.Fatal(err)
	}
	card, _ := cards.Parse(data, "large.png")
	n, _ := activities.CardCharacter(card, u.ID)
	c, err := db.Store.Characters.Create(ctx, n)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		p, ext, err := db.Store.Characters.Card(ctx, c.Personality.ID)
		if err != nil {
			b.Fatal(err)
		}
		a, err := db.Store.Characters.Avatar(ctx, p.ID)
		if err != nil {
			b.Fatal(err)
		}
		out, err := activities.CharacterCard(p, ext)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cards.ExportPNG(out, a.Data); err != nil {
			b.Fatal(err)
		}
	}
}
