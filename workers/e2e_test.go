package workers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/workflows"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func TestMentionGivesExactlyOneReply(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith hello")
	res := s.waitConversation(t, msg.ID)
	recordHistory(t, workflows.ConversationID(msg.ID))

	if len(res.Replies) != 1 || res.Replies[0].Slug != "lilith" || res.Replies[0].Failed {
		t.Fatalf("result = %+v", res)
	}
	posts := s.webhookPosts(ch.ID)
	if len(posts) != 1 {
		t.Fatalf("got %d webhook posts, want 1: %+v", len(posts), posts)
	}
	p := posts[0]
	if p.Username != "Lilith" || p.AvatarURL != s.lilith.AvatarURL {
		t.Errorf("posted as %q (%q), want Lilith with her avatar", p.Username, p.AvatarURL)
	}
	if want := "(stub) I hear you: "; !strings.Contains(p.Content, want) || !strings.Contains(p.Content, "hello") {
		t.Errorf("content = %q, want the stub's answer to the message", p.Content)
	}
	if s.sim.TypingCount(ch.ID) == 0 {
		t.Error("no typing indicator while the workflow ran")
	}

	var history, usage int
	if err := s.db.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM conversation_history WHERE channel_id = $1`, ch.ID).Scan(&history); err != nil {
		t.Fatal(err)
	}
	if history != 2 {
		t.Errorf("conversation_history rows = %d, want 2 (user and assistant)", history)
	}
	var tokensIn, tokensOut int
	var model string
	if err := s.db.Store.Pool.QueryRow(ctx, `SELECT count(*), max(tokens_in), max(tokens_out), max(model) FROM usage_logs WHERE workflow_id = $1`,
		workflows.ConversationID(msg.ID)).Scan(&usage, &tokensIn, &tokensOut, &model); err != nil {
		t.Fatal(err)
	}
	if usage != 1 || tokensIn == 0 || tokensOut == 0 || model == "" {
		t.Errorf("usage_logs: %d rows, in=%d out=%d model=%q; want one row with tokens", usage, tokensIn, tokensOut, model)
	}

	// The same MESSAGE_CREATE again (gateway redelivery, a second replica) starts nothing.
	s.sim.Redeliver(msg)
	next := s.sim.Say(ch.ID, s.user.ID, "@Lilith again")
	s.waitConversation(t, next.ID)
	if got := len(s.webhookPosts(ch.ID)); got != 2 {
		t.Fatalf("after a redelivery and one more mention: %d posts, want 2", got)
	}
	runs, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: "WorkflowId = '" + workflows.ConversationID(msg.ID) + "'",
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(runs.Executions); n > 1 {
		t.Errorf("%d runs for one message, want 1", n)
	}
}

func TestMessageNamingNobodyGetsNoReply(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	plain := s.sim.Say(ch.ID, s.user.ID, "just chatting, nobody named")
	unknown := s.sim.Say(ch.ID, s.user.ID, "@Nobody are you there?")
	res := s.waitConversation(t, unknown.ID)
	if len(res.Replies) != 0 {
		t.Fatalf("unknown name triggered %+v", res.Replies)
	}
	// A message with no @, no reply and no activation never reaches Temporal.
	if _, err := s.client.DescribeWorkflowExecution(context.Background(), workflows.ConversationID(plain.ID), ""); err == nil {
		t.Error("a plain message started a workflow")
	}
	if posts := s.webhookPosts(ch.ID); len(posts) != 0 {
		t.Fatalf("posts = %+v, want none", posts)
	}
}

func TestLongReplyArrivesAsOrderedChunks(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	var want strings.Builder
	for i := 0; want.Len() < 5000; i++ {
		want.WriteString("Sentence number ")
		want.WriteString(strings.Repeat("x", i%7))
		want.WriteString(" of a very long answer. ")
	}
	long := strings.TrimSpace(want.String())
	s.stub.SetReply(func(llmtest.ChatRequest) string { return long })
	defer s.stub.SetReply(nil)

	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith tell me everything")
	res := s.waitConversation(t, msg.ID)
	posts := s.webhookPosts(ch.ID)
	if len(posts) < 3 {
		t.Fatalf("%d chunks for %d characters, want at least 3", len(posts), len(long))
	}
	var got []string
	for i, p := range posts {
		if n := len([]rune(p.Content)); n > 2000 {
			t.Errorf("chunk %d has %d characters", i, n)
		}
		if p.MessageID != res.Replies[0].MessageIDs[i] {
			t.Errorf("chunk %d out of order: %s vs %s", i, p.MessageID, res.Replies[0].MessageIDs[i])
		}
		got = append(got, reply(p))
	}
	if strings.Join(strings.Fields(strings.Join(got, " ")), " ") != strings.Join(strings.Fields(long), " ") {
		t.Error("the chunks do not add up to the reply")
	}
}

func TestTwoPersonalitiesAnswerInOrderAndSeeEachOther(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	s.stub.SetReply(func(r llmtest.ChatRequest) string {
		seen := r.Messages[len(r.Messages)-2].Content
		return "reply " + r.Messages[0].Content[:20] + " saw " + seen[:min(len(seen), 300)]
	})
	defer s.stub.SetReply(nil)
	msg := s.sim.Say(ch.ID, s.user.ID, "@bobby and @Lilith, hello both")
	res := s.waitConversation(t, msg.ID)
	posts := s.webhookPosts(ch.ID)
	if len(res.Replies) != 2 || len(posts) != 2 {
		t.Fatalf("replies = %+v, posts = %d", res.Replies, len(posts))
	}
	if posts[0].Username != "Bob the Builder" || posts[1].Username != "Lilith" {
		t.Fatalf("order = %q, %q; want Bob then Lilith (left to right)", posts[0].Username, posts[1].Username)
	}
	if !strings.Contains(posts[1].Content, "Bob the Builder (character)") {
		t.Errorf("Lilith did not see Bob's reply: %q", posts[1].Content)
	}
}

func TestReplyToCharacterTriggersIt(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	first := s.sim.Say(ch.ID, s.user.ID, "@Lilith hi")
	res := s.waitConversation(t, first.ID)
	reply := s.sim.Say(ch.ID, s.user.ID, "and what about tomorrow?", discordtest.ReplyTo(res.Replies[0].MessageIDs[0]))
	res2 := s.waitConversation(t, reply.ID)
	if len(res2.Replies) != 1 || res2.Replies[0].Slug != "lilith" {
		t.Fatalf("reply to Lilith's message: %+v", res2.Replies)
	}
}

func TestBadKeyDeliversTheCharactersErrorMessage(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	calls := s.stub.Calls()
	s.stub.FailNext(1, 401, 0)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith are you there?")
	res := s.waitConversation(t, msg.ID)
	if len(res.Replies) != 1 || !res.Replies[0].Failed {
		t.Fatalf("result = %+v, want a failed reply", res.Replies)
	}
	if got := s.stub.Calls() - calls; got != 1 {
		t.Errorf("LLM called %d times for a 401, want 1 (not retried)", got)
	}
	posts := s.webhookPosts(ch.ID)
	if len(posts) != 1 || !strings.Contains(posts[0].Content, "candle gutters out") || !strings.Contains(posts[0].Content, "ref msg-") {
		t.Fatalf("posts = %+v, want Lilith's error message with a reference", posts)
	}
	if strings.Contains(res.Replies[0].Reason, testAPIKey) {
		t.Error("the API key leaked into the workflow result")
	}
}

func TestProviderOutageIsRetried(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	s.stub.FailNext(1, 503, 0)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith still there?")
	res := s.waitConversation(t, msg.ID)
	if len(res.Replies) != 1 || res.Replies[0].Failed {
		t.Fatalf("a single 503 was not retried: %+v", res.Replies)
	}
	if posts := s.webhookPosts(ch.ID); len(posts) != 1 || !strings.Contains(posts[0].Content, "still there") {
		t.Fatalf("posts = %+v", posts)
	}
}

func TestDiscordRateLimitIsWaitedOut(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	s.sim.FailNext("POST /webhooks/{id}/{token}", 2, 429, 50*time.Millisecond)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith rate limits?")
	s.waitConversation(t, msg.ID)
	if posts := s.webhookPosts(ch.ID); len(posts) != 1 {
		t.Fatalf("posts after 429s = %d, want exactly 1", len(posts))
	}
}

func TestHistoryCarriesNoSecret(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith keep a secret")
	s.waitConversation(t, msg.ID)
	iter := s.client.GetWorkflowHistory(ctx, workflows.ConversationID(msg.ID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var raw strings.Builder
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		raw.WriteString(ev.String())
	}
	for _, secret := range []string{testAPIKey, testBotToken} {
		if strings.Contains(raw.String(), secret) {
			t.Errorf("workflow history contains a secret (%.8s...)", secret)
		}
	}
	if raw.Len() == 0 {
		t.Fatal("empty history")
	}
}

func TestStatusQueryNamesTheStep(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	s.stub.SetLatency(1500 * time.Millisecond)
	defer s.stub.SetLatency(0)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith take your time")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := workflows.ConversationID(msg.ID)
	for {
		v, err := s.client.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
		if err == nil {
			var st workflows.Status
			if err := v.Get(&st); err != nil {
				t.Fatal(err)
			}
			if st.Step == "CallLLM" && st.Personality == "lilith" {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("never saw the CallLLM step: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.waitConversation(t, msg.ID)
}
