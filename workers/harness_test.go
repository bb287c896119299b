package workers_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/store/storetest"
	"github.com/tzurot/tzurot/workers"
	"github.com/tzurot/tzurot/workers/devserver"
	"github.com/tzurot/tzurot/workers/systemtest"
	"github.com/tzurot/tzurot/workflows"
)

// The package shares one real system: an in-process Temporal server (the same embedded
// server `tzurot dev` runs), a throwaway PostgreSQL database, the Discord simulator and
// the LLM stub, wired by workers.StartWorker and workers.NewGateway as in production.
const (
	testBotToken = systemtest.BotToken
	testAPIKey   = systemtest.APIKey
	testUserKey  = systemtest.UserKey
)

type system struct {
	temporal *devserver.Server
	db       *storetest.DB
	sim      *discordtest.Server
	stub     *llmtest.Stub
	client   client.Client
	worker   worker.Worker
	services workers.Services
	guild    *discordgo.Guild
	user     *discordgo.User
	lilith   store.Personality
	bob      store.Personality
	st       *systemtest.System
}

var sys *system

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() || os.Getenv(envFaultWorker) != "" || os.Getenv(envFaultTemporal) != "" {
		os.Exit(m.Run())
	}
	var err error
	sys, err = startSystem()
	if err != nil {
		fmt.Fprintln(os.Stderr, "end-to-end system:", err)
		os.Exit(1)
	}
	code := m.Run()
	sys.stop()
	os.Exit(code)
}

func startSystem() (*system, error) {
	ctx := context.Background()
	st, err := systemtest.Start(ctx, systemtest.Options{Name: "workers"})
	if err != nil {
		return nil, err
	}
	s := &system{st: st, temporal: st.Temporal, db: st.DB, sim: st.Sim, stub: st.Stub, client: st.Client,
		worker: st.Worker, services: st.Services, guild: st.Guild, user: st.User}
	if s.lilith, err = s.db.Store.Personalities.Upsert(ctx, store.Personality{
		Slug: "lilith", Name: "Lilith", DisplayName: "Lilith", AvatarURL: "https://example.invalid/lilith.png",
		CharacterInfo: "A demon of the night.", ErrorMessage: "*Lilith's candle gutters out.*", IsPublic: true,
	}); err != nil {
		st.Stop()
		return nil, err
	}
	if s.bob, err = s.db.Store.Personalities.Upsert(ctx, store.Personality{Slug: "bob", Name: "Bob", DisplayName: "Bob the Builder", IsPublic: true, Aliases: []string{"bobby"}}); err != nil {
		st.Stop()
		return nil, err
	}
	return s, nil
}

func (s *system) stop() { s.st.Stop() }

func requireSystem(t *testing.T) *system {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	return sys
}

// channel gives a test its own channel so tests never see each other's messages.
func (s *system) channel(t *testing.T) *discordgo.Channel {
	return s.sim.AddChannel(s.guild.ID, t.Name())
}

// waitConversation waits for the workflow of a Discord message to exist and finish.
func (s *system) waitConversation(t testing.TB, messageID string) workflows.ConversationResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id := workflows.ConversationID(messageID)
	for {
		_, err := s.client.DescribeWorkflowExecution(ctx, id, "")
		var nf *serviceerror.NotFound
		if err == nil {
			break
		}
		if !errorsAs(err, &nf) || ctx.Err() != nil {
			t.Fatalf("workflow %s never started: %v", id, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var res workflows.ConversationResult
	if err := s.client.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		t.Fatalf("workflow %s failed: %v", id, err)
	}
	return res
}

// webhookPosts returns the webhook posts in one channel.
func (s *system) webhookPosts(channelID string) []discordtest.WebhookPost {
	var out []discordtest.WebhookPost
	for _, p := range s.sim.WebhookPosts() {
		if p.ChannelID == channelID || p.ThreadID == channelID {
			out = append(out, p)
		}
	}
	return out
}

// reply is a post's text without footers ("-# ..." lines such as the free-tier note).
func reply(p discordtest.WebhookPost) string {
	var keep []string
	for _, l := range strings.Split(p.Content, "\n") {
		if !strings.HasPrefix(l, "-# ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
