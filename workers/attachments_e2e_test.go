package workers_test

import (
	"strings"
	"testing"

	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/discord/discordtest"
)

func TestAttachmentsReachTheModel(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	var prompts []llmtest.ChatRequest
	s.stub.SetReply(func(r llmtest.ChatRequest) string {
		prompts = append(prompts, r)
		if r.Model == "stub-vision" {
			return "A black cat asleep on a red cushion."
		}
		return "Got it."
	})
	defer s.stub.SetReply(nil)

	msg := s.sim.Say(ch.ID, s.user.ID, "@Lilith look and listen",
		discordtest.WithAttachmentData("cat.png", "image/png", []byte("\x89PNG fake image bytes")),
		discordtest.WithAttachmentData("voice-message.ogg", "audio/ogg", []byte(llmtest.VoicePrefix+" meet me at midnight")),
		discordtest.WithAttachmentData("notes.pdf", "application/pdf", []byte("%PDF-1.7")),
		discordtest.WithAttachment("old.png", "https://cdn.discordapp.com/attachments/1/2/expired.png", "image/png"),
		discordtest.WithAttachmentData("noise.ogg", "audio/ogg", []byte("not audio at all")),
	)
	res := s.waitConversation(t, msg.ID)
	if len(res.Replies) != 1 || res.Replies[0].Failed {
		t.Fatalf("replies = %+v", res.Replies)
	}
	var final llmtest.ChatRequest
	for _, p := range prompts {
		if p.Model != "stub-vision" {
			final = p
		}
	}
	last := final.Messages[len(final.Messages)-1].Content
	for _, want := range []string{
		"[Voice message] meet me at midnight",
		"[Image cat.png: A black cat asleep on a red cushion.]",
		"[Attached file notes.pdf (application/pdf): not something I can read]",
		"[A voice message (noise.ogg) that could not be understood]",
	} {
		if !strings.Contains(last, want) {
			t.Errorf("the prompt's message lacks %q:\n%s", want, last)
		}
	}
	// Two images allowed: cat.png is described, old.png is tried and fails softly or is
	// described by the stub (its URL is only sent to the vision model, never fetched here).
	if n := strings.Count(last, "[Image") + strings.Count(last, "could not be viewed"); n != 2 {
		t.Errorf("%d image notes, want 2:\n%s", n, last)
	}
}
