package workers_test

import (
	"testing"
	"time"
)

// BenchmarkMentionToReply measures one mention end to end: MESSAGE_CREATE through the
// gateway, the workflow and its six activities on the embedded Temporal server, the stub
// LLM (no latency) and webhook delivery, until the workflow has completed.
func BenchmarkMentionToReply(b *testing.B) {
	benchConversation(b, "@Lilith benchmark me")
}

// BenchmarkMentionNobody is the baseline in the same run: the same path with a name that
// resolves to nobody (gateway, workflow start, one activity, completion).
func BenchmarkMentionNobody(b *testing.B) {
	benchConversation(b, "@Nobody benchmark me")
}

func benchConversation(b *testing.B, content string) {
	if sys == nil {
		b.Skip("needs the end-to-end system (not -short)")
	}
	ch := sys.sim.AddChannel(sys.guild.ID, b.Name())
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		msg := sys.sim.Say(ch.ID, sys.user.ID, content)
		sys.waitConversation(b, msg.ID)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/mention")
}
