package workers_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/activities/embed"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/workers"
	"github.com/tzurot/tzurot/workflows"
)

// chatMessages returns the messages of the first chat request the stub got after the
// first before requests: the prompt of the conversation that followed.
func chatMessages(t *testing.T, s *system, before int) (system string, rest []string) {
	t.Helper()
	for _, r := range s.stub.Requests()[before:] {
		if r.Path != "/v1/chat/completions" {
			continue
		}
		var body struct {
			Messages []struct {
				Role    string `json:"role"`
				Content any    `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		for _, m := range body.Messages {
			text, _ := json.Marshal(m.Content)
			if m.Role == "system" {
				system += string(text)
			} else {
				rest = append(rest, string(text))
			}
		}
		return system, rest
	}
	t.Fatal("no chat request")
	return "", nil
}

// say posts a message and waits for its conversation to finish.
func (s *system) say(t *testing.T, channelID, userID, text string) {
	t.Helper()
	m := s.sim.Say(channelID, userID, text)
	s.waitConversation(t, m.ID)
}

func memoryCmd(t *testing.T, s *system, channelID, userID string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
	t.Helper()
	return content(s.command(t, channelID, userID, discordgo.ApplicationCommandInteractionData{Name: "memory", Options: opts}))
}

func tzurotUser(t *testing.T, s *system, discordID string) store.User {
	t.Helper()
	u, err := s.db.Store.Users.ByDiscordID(context.Background(), discordID)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func memoryStats(t *testing.T, s *system, discordID string) store.MemoryStats {
	t.Helper()
	st, err := s.db.Store.Memories.Stats(context.Background(), tzurotUser(t, s, discordID).ID, "")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestMemoryCarriesAFactIntoALaterConversation(t *testing.T) {
	s := requireSystem(t)
	u := s.sim.AddUser("mara", "Mara")
	s.say(t, s.channel(t).ID, u.ID, "@Lilith my cat is called Biscuit and she is ginger")
	if st := memoryStats(t, s, u.ID); st.Active != 1 || st.BySector["episodic"] != 1 {
		t.Fatalf("the turn wrote %+v", st)
	}
	// Days later, in another channel: no chat line holds the fact, only memory can.
	later := s.sim.AddChannel(s.guild.ID, t.Name()+"-later")
	before := len(s.stub.Requests())
	s.say(t, later.ID, u.ID, "@Lilith what is my cat called?")
	system, rest := chatMessages(t, s, before)
	if !strings.Contains(system, "Things you remember") || !strings.Contains(system, "my cat is called Biscuit") {
		t.Fatalf("the prompt does not remember the cat:\n%s", system)
	}
	for _, m := range rest[:len(rest)-1] {
		if strings.Contains(m, "Biscuit") {
			t.Fatalf("the fact came through the chat log, not memory: %s", m)
		}
	}
}

func TestIncognitoWritesNoMemory(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	u := s.sim.AddUser("ingrid", "Ingrid")
	if r := memoryCmd(t, s, ch.ID, u.ID, sub("incognito", str("state", "on"))...); !strings.Contains(r, "Incognito is now **on**") {
		t.Fatalf("incognito on: %q", r)
	}
	s.say(t, ch.ID, u.ID, "@Lilith I sing in the shower every morning")
	if st := memoryStats(t, s, u.ID); st.Active != 0 {
		t.Fatalf("an incognito turn wrote %d memories", st.Active)
	}
	if r := memoryCmd(t, s, ch.ID, u.ID, sub("incognito", str("state", "status"))...); !strings.Contains(r, "Incognito is **on**") {
		t.Fatalf("incognito status: %q", r)
	}
	memoryCmd(t, s, ch.ID, u.ID, sub("incognito", str("state", "off"))...)
	s.say(t, ch.ID, u.ID, "@Lilith I also play the ukulele")
	if st := memoryStats(t, s, u.ID); st.Active != 1 {
		t.Fatalf("after incognito off: %d memories", st.Active)
	}
}

var memoryID = regexp.MustCompile("`([0-9a-f]{8})`")

func TestMemoryCommandsSearchLockDeletePurge(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	u := s.sim.AddUser("tomas", "Tomas")
	s.say(t, ch.ID, u.ID, "@Lilith I grow tomatoes on my balcony")
	s.say(t, ch.ID, u.ID, "@Lilith my brother lives in Lisbon")

	r := memoryCmd(t, s, ch.ID, u.ID, sub("search", str("text", "tomatoes"))...)
	ids := memoryID.FindAllStringSubmatch(r, -1)
	if len(ids) != 1 || !strings.Contains(r, "tomatoes on my balcony") || strings.Contains(r, "Lisbon") {
		t.Fatalf("search: %q", r)
	}
	tomatoes := ids[0][1]
	r = memoryCmd(t, s, ch.ID, u.ID, sub("browse")...)
	all := memoryID.FindAllStringSubmatch(r, -1)
	if len(all) != 2 {
		t.Fatalf("browse: %q", r)
	}
	if r = memoryCmd(t, s, ch.ID, u.ID, sub("lock", str("ids", tomatoes))...); !strings.Contains(r, "1 memory(ies) locked") {
		t.Fatalf("lock: %q", r)
	}
	r = memoryCmd(t, s, ch.ID, u.ID, sub("delete", str("ids", all[0][1]+" "+all[1][1]+" deadbeef"))...)
	if !strings.Contains(r, "Deleted 1 memory(ies)") || !strings.Contains(r, "1 locked one(s) kept") || !strings.Contains(r, "deadbeef") {
		t.Fatalf("delete: %q", r)
	}
	if r = memoryCmd(t, s, ch.ID, u.ID, sub("stats")...); !strings.Contains(r, "Active 1") || !strings.Contains(r, "Locked 1") {
		t.Fatalf("stats: %q", r)
	}
	// Someone else cannot touch it.
	other := s.sim.AddUser("mallory", "Mallory")
	if r = memoryCmd(t, s, ch.ID, other.ID, sub("delete", str("ids", tomatoes))...); !strings.Contains(r, "Deleted 0") {
		t.Fatalf("another user's delete: %q", r)
	}

	resp := s.command(t, ch.ID, u.ID, discordgo.ApplicationCommandInteractionData{Name: "memory", Options: sub("purge")})
	if resp.Type != discordgo.InteractionResponseModal || resp.Data.CustomID != "memory-purge:" {
		t.Fatalf("purge did not open its form: %+v", resp)
	}
	if r = content(s.awaitResponse(t, s.sim.SubmitModal(ch.ID, u.ID, "memory-purge:", map[string]string{"confirm": "yes"}))); !strings.Contains(r, "Nothing was deleted") {
		t.Fatalf("purge with the wrong word: %q", r)
	}
	memoryCmd(t, s, ch.ID, u.ID, sub("unlock", str("ids", tomatoes))...)
	if r = content(s.awaitResponse(t, s.sim.SubmitModal(ch.ID, u.ID, "memory-purge:", map[string]string{"confirm": "PURGE"}))); !strings.Contains(r, "Purged 1 memory(ies)") {
		t.Fatalf("purge: %q", r)
	}
	if st := memoryStats(t, s, u.ID); st.Active != 0 || st.Archived != 0 {
		t.Fatalf("after purge: %+v", st)
	}
	if r = memoryCmd(t, s, ch.ID, u.ID, sub("undo-dream")...); !strings.Contains(r, "nothing to undo") {
		t.Fatalf("undo-dream without a dream: %q", r)
	}
}

func TestFreshAndHistoryClear(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	u := s.sim.AddUser("hana", "Hana")
	s.say(t, ch.ID, u.ID, "@Lilith remember the word pineapple")
	if r := memoryCmd(t, s, ch.ID, u.ID, sub("fresh", str("state", "on"))...); !strings.Contains(r, "Fresh is now **on**") {
		t.Fatalf("fresh on: %q", r)
	}
	before := len(s.stub.Requests())
	s.say(t, ch.ID, u.ID, "@Lilith which word was it, pineapple?")
	if system, _ := chatMessages(t, s, before); strings.Contains(system, "Things you remember") {
		t.Fatalf("a fresh turn recalled memories:\n%s", system)
	}

	r := content(s.command(t, ch.ID, u.ID, discordgo.ApplicationCommandInteractionData{Name: "history", Options: sub("clear", str("character", "lilith"))}))
	if !strings.Contains(r, "starts afresh") {
		t.Fatalf("history clear: %q", r)
	}
	before = len(s.stub.Requests())
	s.say(t, ch.ID, u.ID, "@Lilith hello again")
	_, rest := chatMessages(t, s, before)
	if len(rest) != 1 {
		t.Fatalf("after /history clear the context still holds %d earlier lines: %q", len(rest)-1, rest)
	}
	r = content(s.command(t, ch.ID, u.ID, discordgo.ApplicationCommandInteractionData{Name: "history", Options: sub("undo", str("character", "lilith"))}))
	if !strings.Contains(r, "whole conversation again") {
		t.Fatalf("history undo: %q", r)
	}
	before = len(s.stub.Requests())
	s.say(t, ch.ID, u.ID, "@Lilith and now?")
	if _, rest = chatMessages(t, s, before); !strings.Contains(strings.Join(rest, "\n"), "remember the word pineapple") {
		t.Fatalf("undo did not bring the conversation back: %q", rest)
	}
	memoryCmd(t, s, ch.ID, u.ID, sub("fresh", str("state", "off"))...)
}

func TestSchedulesExistAfterWorkerStart(t *testing.T) {
	s := requireSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := []string{workflows.ScheduleMemoryDecay, workflows.ScheduleMemorySummarize, workflows.ScheduleDream, workflows.ScheduleReembed}
	for {
		seen := map[string]bool{}
		iter, err := s.client.ScheduleClient().List(ctx, client.ScheduleListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for iter.HasNext() {
			e, err := iter.Next()
			if err != nil {
				t.Fatal(err)
			}
			seen[e.ID] = true
		}
		missing := 0
		for _, id := range want {
			if !seen[id] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("schedules listed: %v, want %v", seen, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, id := range want {
		d, err := s.client.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d.Schedule.Policy.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_SKIP {
			t.Errorf("%s overlap = %v, want SKIP", id, d.Schedule.Policy.Overlap)
		}
	}
	// A second start creates nothing and fails nothing.
	if err := workers.StartMemoryAgents(ctx, s.services); err != nil {
		t.Fatal(err)
	}
}

// backdatedTurns writes n turn memories three days old for a new user's persona.
func backdatedTurns(t *testing.T, s *system, name string, texts ...string) (store.User, store.MemoryScope) {
	t.Helper()
	ctx := context.Background()
	u, err := s.db.Store.Users.Ensure(ctx, "discord-"+name, name, name)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range texts {
		vec, _ := embed.Local{}.Embed(ctx, c)
		if _, _, err := s.db.Store.Memories.Write(ctx, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: s.lilith.ID, Content: c,
			Embedding: vec, Embedder: embed.LocalModel, Origin: store.OriginTurn, Salience: 0.5,
			CreatedAt: time.Now().Add(-72*time.Hour + time.Duration(i)*time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	return u, store.MemoryScope{PersonaID: u.DefaultPersonaID, PersonalityID: s.lilith.ID, UserID: u.ID}
}

// triggerSchedule fires a schedule now and returns the id of the run it started.
func triggerSchedule(t *testing.T, s *system, id string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := s.client.ScheduleClient().GetHandle(ctx, id)
	d, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := d.Info.NumActions
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		if d, err = h.Describe(ctx); err != nil {
			t.Fatal(err)
		}
		if d.Info.NumActions > n && len(d.Info.RecentActions) > 0 {
			return d.Info.RecentActions[len(d.Info.RecentActions)-1].StartWorkflowResult.WorkflowID
		}
		if ctx.Err() != nil {
			t.Fatalf("schedule %s took no action", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestMemoryAgentsRunOnTheServer(t *testing.T) {
	s := requireSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	u, scope := backdatedTurns(t, s, "sumi", `Sumi said: "I moved to Porto in May"`, `Sumi said: "I adopted a greyhound"`,
		`Sumi said: "the greyhound is called Arrow"`, `Sumi said: "I teach maths at a school"`)

	run := triggerSchedule(t, s, workflows.ScheduleMemoryDecay)
	var decay workflows.MemoryDecayResult
	if err := s.client.GetWorkflow(ctx, run, "").Get(ctx, &decay); err != nil {
		t.Fatalf("decay run %s: %v", run, err)
	}
	if decay.Scanned < 4 {
		t.Fatalf("decay = %+v", decay)
	}
	for _, m := range activeOf(t, s, u) {
		if m.Salience >= 0.5 || m.Salience < 0.4 {
			t.Fatalf("three days of episodic decay left salience %v", m.Salience)
		}
	}

	run = triggerSchedule(t, s, workflows.ScheduleMemorySummarize)
	var sum workflows.MemorySummarizeResult
	if err := s.client.GetWorkflow(ctx, run, "").Get(ctx, &sum); err != nil {
		t.Fatalf("summarize run %s: %v", run, err)
	}
	if sum.Summarized < 1 || sum.Archived < 4 {
		t.Fatalf("summarize = %+v", sum)
	}
	active := activeOf(t, s, u)
	if len(active) != 1 || active[0].Origin != store.OriginSummary || !strings.Contains(active[0].Content, "greyhound") {
		t.Fatalf("after summarizing: %+v", active)
	}
	recs, err := s.db.Store.Memories.Summaries(ctx, scope)
	if err != nil || len(recs) != 1 || recs[0].RunID != run {
		t.Fatalf("summary records = %+v, %v", recs, err)
	}
	var kind string
	if err := s.db.Store.Pool.QueryRow(ctx, `SELECT kind FROM usage_logs WHERE user_id = $1`, u.ID).Scan(&kind); err != nil || kind != "summarize" {
		t.Fatalf("summarize usage: %q, %v", kind, err)
	}
}

func TestAScheduleSkipsWhileItsRunIsGoing(t *testing.T) {
	s := requireSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	backdatedTurns(t, s, "slowpoke", `Slowpoke said: "I knit"`, `Slowpoke said: "I knit socks"`,
		`Slowpoke said: "I knit socks for my aunt"`, `Slowpoke said: "my aunt lives in Oslo"`)
	s.stub.SetLatency(3 * time.Second) // the summarizer's model is slow tonight
	defer s.stub.SetLatency(0)
	h := s.client.ScheduleClient().GetHandle(ctx, workflows.ScheduleMemorySummarize)
	run := triggerSchedule(t, s, workflows.ScheduleMemorySummarize)
	before, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		d, err := h.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d.Info.NumActionsSkippedOverlap > before.Info.NumActionsSkippedOverlap {
			if d.Info.NumActions != before.Info.NumActions {
				t.Fatalf("a second run started beside the first: %+v", d.Info)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the overlapping firing was not skipped: %+v", d.Info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var sum workflows.MemorySummarizeResult
	if err := s.client.GetWorkflow(ctx, run, "").Get(ctx, &sum); err != nil || sum.Summarized < 1 {
		t.Fatalf("the running one still finishes: %+v, %v", sum, err)
	}
}

func activeOf(t *testing.T, s *system, u store.User) []store.Memory {
	t.Helper()
	p, err := s.db.Store.Memories.Browse(context.Background(), u.ID, "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return p.Memories
}

// The nightly dream runs once end to end on the in-process server: it merges today's
// near-duplicates, writes a reflection in the character's voice, records the dream, and
// /memory undo-dream reverts it.
func TestDreamRunsOnTheServerAndCanBeUndone(t *testing.T) {
	s := requireSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	u, err := s.db.Store.Users.Ensure(ctx, "discord-dreamer", "dreamer", "Dreamer")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{`Dreamer said: "I love the sea at night"`, `Dreamer said: "I love the sea at night."`, `Dreamer said: "my cat is called Moth"`} {
		vec, _ := embed.Local{}.Embed(ctx, c)
		if _, _, err := s.db.Store.Memories.Write(ctx, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: s.lilith.ID, Content: c,
			Embedding: vec, Embedder: embed.LocalModel, Origin: store.OriginTurn, Salience: 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	// They talked today: that is what makes a character dream about a persona tonight.
	if err := s.db.Store.History.Append(ctx, store.Turn{ChannelID: "dream-channel", PersonalityID: s.lilith.ID, PersonaID: u.DefaultPersonaID,
		UserID: u.ID, Role: "user", SpeakerName: "Dreamer", Content: "I love the sea at night", DiscordMessageID: "dream-msg-1"}); err != nil {
		t.Fatal(err)
	}
	s.stub.SetReply(func(llmtest.ChatRequest) string {
		return "REFLECTION: The sea keeps calling the Dreamer back, and I keep listening."
	})
	defer s.stub.SetReply(nil)
	run := triggerSchedule(t, s, workflows.ScheduleDream)
	var res workflows.DreamWorkflowResult
	if err := s.client.GetWorkflow(ctx, run, "").Get(ctx, &res); err != nil {
		t.Fatalf("dream run %s: %v", run, err)
	}
	scope := store.MemoryScope{PersonaID: u.DefaultPersonaID, PersonalityID: s.lilith.ID, UserID: u.ID}
	dreams, err := s.db.Store.Memories.Dreams(ctx, scope)
	if err != nil || len(dreams) != 1 {
		t.Fatalf("dreams = %+v, %v (run %+v)", dreams, err, res)
	}
	if len(dreams[0].Added) == 0 || len(dreams[0].Merged) == 0 {
		t.Fatalf("the dream added %v and merged %v; want a reflection and the near-duplicate merged", dreams[0].Added, dreams[0].Merged)
	}
	undone, err := s.db.Store.Memories.UndoLastDream(ctx, u.ID, time.Now())
	if err != nil || undone.ID != dreams[0].ID {
		t.Fatalf("undo = %+v, %v", undone, err)
	}
	for _, m := range activeOf(t, s, u) {
		if strings.Contains(m.Content, "keep listening") {
			t.Errorf("the reflection survived undo: %q", m.Content)
		}
	}
}
