package workers_test

import (
	"context"
	"github.com/bwmarrin/discordgo"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/workers"
	"github.com/tzurot/tzurot/workflows"
)

// waitStep polls the status query until the conversation is at step (for personality).
func (s *system) waitStep(t *testing.T, workflowID, step string) workflows.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if v, err := s.client.QueryWorkflow(ctx, workflowID, "", workflows.QueryStatus); err == nil {
			var st workflows.Status
			if err := v.Get(&st); err == nil && st.Step == step {
				return st
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("%s never reached %s", workflowID, step)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func TestOperatorCancelsAGeneration(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	s.stub.SetLatency(20 * time.Second) // a provider that hangs
	defer s.stub.SetLatency(0)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith @bobby take forever")
	id := workflows.ConversationID(msg.ID)
	s.waitStep(t, id, "CallLLM")
	if err := s.client.SignalWorkflow(context.Background(), id, "", workflows.SignalCancel, workflows.CancelSignal{Reason: "provider hangs"}); err != nil {
		t.Fatal(err)
	}
	res := s.waitConversation(t, msg.ID)
	if res.Cancelled != "provider hangs" || len(res.Replies) != 1 {
		t.Fatalf("result = %+v; want cancelled after the first character", res)
	}
	posts := s.webhookPosts(ch.ID)
	if len(posts) != 1 || !strings.Contains(posts[0].Content, "stopped by an operator") {
		t.Fatalf("posts = %+v; want one short notice", posts)
	}
}

func TestOperatorRetriesAStuckStep(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	var calls atomic.Int32
	s.stub.SetReply(func(llmtest.ChatRequest) string {
		if calls.Add(1) == 1 {
			time.Sleep(15 * time.Second) // the first attempt is stuck
			return "too late"
		}
		return "second attempt"
	})
	defer s.stub.SetReply(nil)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith are you stuck?")
	id := workflows.ConversationID(msg.ID)
	s.waitStep(t, id, "CallLLM")
	// Signal only once the first attempt is really stuck at the provider; a retry that
	// lands before the call would make the second attempt the first call.
	for deadline := time.Now().Add(10 * time.Second); calls.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.client.SignalWorkflow(context.Background(), id, "", workflows.SignalRetry, workflows.RetrySignal{}); err != nil {
		t.Fatal(err)
	}
	if st := s.waitStep(t, id, "CallLLM"); st.Attempt < 1 {
		t.Fatalf("status %+v", st)
	}
	s.waitConversation(t, msg.ID)
	posts := s.webhookPosts(ch.ID)
	if len(posts) != 1 || reply(posts[0]) != "second attempt" {
		t.Fatalf("posts = %+v; want only the retried generation", posts)
	}
}

func TestSearchAttributesFindAConversation(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith find me")
	s.waitConversation(t, msg.ID)
	id := workflows.ConversationID(msg.ID)
	ctx := context.Background()
	for _, q := range []string{
		"TzurotPersonality = 'lilith' AND TzurotChannel = '" + ch.ID + "'",
		"TzurotTrigger = 'mention' AND TzurotUser = '" + s.user.ID + "' AND TzurotGuild = '" + s.guild.ID + "' AND TzurotChannel = '" + ch.ID + "'",
	} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q})
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if len(resp.Executions) == 1 && resp.Executions[0].Execution.WorkflowId == id {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s found %d executions", q, len(resp.Executions))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	desc, err := s.client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if desc.WorkflowExecutionInfo.Memo == nil || len(desc.WorkflowExecutionInfo.Memo.Fields) == 0 {
		t.Fatal("no memo")
	}
	if strings.Contains(desc.WorkflowExecutionInfo.Memo.String(), "find me") {
		t.Error("the memo holds message text in clear; it must go through the codec")
	}
}

func TestMetricsCountTheConversation(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith count me")
	s.waitConversation(t, msg.ID)
	families, err := s.services.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]float64{}
	for _, f := range families {
		for _, m := range f.Metric {
			v := 0.0
			switch {
			case m.Counter != nil:
				v = m.Counter.GetValue()
			case m.Histogram != nil:
				v = float64(m.Histogram.GetSampleCount())
			case m.Summary != nil:
				v = float64(m.Summary.GetSampleCount())
			}
			seen[f.GetName()] += v
		}
	}
	// The SDK's metrics reach the registry through tally's one-second reporting loop.
	deadline := time.Now().Add(5 * time.Second)
	for seen["temporal_workflow_completed_total"] == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		families, _ = s.services.Metrics.Registry.Gather()
		for _, f := range families {
			for _, m := range f.Metric {
				if m.Counter != nil && f.GetName() == "temporal_workflow_completed_total" {
					seen[f.GetName()] += m.Counter.GetValue()
				}
			}
		}
	}
	for _, name := range []string{"tzurot_mentions_started_total", "tzurot_llm_tokens_total", "temporal_activity_execution_latency_seconds", "temporal_workflow_completed_total"} {
		if seen[name] == 0 {

			t.Errorf("metric %s is missing or zero (have %d families)", name, len(seen))
		}
	}
}

func TestStuckListsLongRunningConversations(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	s.stub.SetLatency(6 * time.Second)
	defer s.stub.SetLatency(0)
	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith slow one")
	id := workflows.ConversationID(msg.ID)
	s.waitStep(t, id, "CallLLM")
	time.Sleep(1500 * time.Millisecond)
	runs, err := workers.Stuck(context.Background(), s.client, 500*time.Millisecond, 50)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range runs {
		if r.WorkflowID == id {
			found = r.Step == "CallLLM" && r.Personality == "lilith" && len(r.Pending) == 1 && r.Pending[0].Activity == "CallLLM"
			if !found {
				t.Errorf("stuck run = %+v", r)
			}
		}
	}
	if !found {
		t.Fatalf("%s not listed among %d stuck runs", id, len(runs))
	}
	s.waitConversation(t, msg.ID)
}

func TestAdminHealth(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	op := safetyOperator(t, s)
	got := content(s.command(t, ch.ID, op.ID, discordgo.ApplicationCommandInteractionData{Name: "admin", Options: sub("health")}))
	for _, want := range []string{"Discord gateway", "Database", "✅", "Temporal", "Queue backlog", "Uptime"} {
		if !strings.Contains(got, want) {
			t.Errorf("/admin health lacks %q: %s", want, got)
		}
	}
	if got := content(s.command(t, ch.ID, s.user.ID, discordgo.ApplicationCommandInteractionData{Name: "admin", Options: sub("health")})); !strings.Contains(got, "owners") {
		t.Errorf("/admin health for a non-owner: %q", got)
	}
}
