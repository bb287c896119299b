package workers_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/store/keyring"
	"github.com/tzurot/tzurot/store/storetest"
	"github.com/tzurot/tzurot/workers"
	"github.com/tzurot/tzurot/workers/devserver"
	"github.com/tzurot/tzurot/workflows"
)

// The package shares one real system: an in-process Temporal server (the same embedded
// server `tzurot dev` runs), a throwaway PostgreSQL database, the Discord simulator and
// the LLM stub, wired by workers.StartWorker and workers.NewGateway as in production.
const (
	testBotToken = "test-bot-token-not-a-secret"
	testAPIKey   = "sk-or-v1-testkey0000000000000000000000000000000000000000000000000"
	// testUserKey is what a user brings with /settings apikey set (the stub accepts it).
	testUserKey = "sk-or-v1-userkey0000000000000000000000000000000000000000000000000"
	// testMasterKey is a fixed, obviously fake master key.
	testMasterKey = "7a7572f07465737420206d6173746572206b6579206e6f742061207365637265"
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
	cancel   context.CancelFunc
}

var sys *system

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
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
	ctx, cancel := context.WithCancel(context.Background())
	s := &system{cancel: cancel}
	var err error
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if s.temporal, err = devserver.Start(ctx, devserver.Options{UIPort: -1, SearchAttributes: workers.SearchAttributes()}); err != nil {
		return nil, err
	}
	if s.db, err = storetest.New(ctx, "workers"); err != nil {
		return nil, err
	}
	if s.sim, err = discordtest.New(discordtest.Options{BotToken: testBotToken}); err != nil {
		return nil, err
	}
	s.stub = llmtest.New(llmtest.Options{APIKeys: []string{testAPIKey, testUserKey}})
	kr, err := keyring.FromEnv(testMasterKey, "")
	if err != nil {
		return nil, err
	}
	s.db.Store.WithKeyring(kr)
	if s.client, err = workers.DialTemporal(ctx, s.temporal.FrontendAddr, s.temporal.Namespace, logger, kr); err != nil {
		return nil, err
	}
	if err := workers.EnsureSearchAttributes(ctx, s.client, s.temporal.Namespace); err != nil {
		return nil, err
	}
	session, botID, err := workers.DiscordSession(ctx, testBotToken, s.sim.HTTPClient())
	if err != nil {
		return nil, err
	}
	session.Dialer = s.sim.WebsocketDialer()
	cfg := activities.DefaultConfig()
	cfg.Model = "stub-model"
	cfg.MaxReplyTokens = 4096
	cfg.VisionModel = "stub-vision"
	cfg.TranscriptionModel = "stub-whisper"
	s.services = workers.Services{
		Store: s.db.Store, Temporal: s.client, Session: session, BotUserID: botID,
		LLM: llm.New(llm.Config{BaseURL: s.stub.URL()}),
		Keys: &activities.UserKeys{Keys: s.db.Store.APIKeys, Usage: s.db.Store.Usage, Provider: "openrouter",
			System: activities.SystemKey{Provider: "openrouter", APIKey: testAPIKey},
			Guest:  activities.GuestPolicy{FreeModels: []string{"stub-model"}, TurnsPerHour: 3600, Burst: 1000}},
		Guest:  activities.GuestPolicy{FreeModels: []string{"stub-model"}},
		Config: cfg, Logger: logger, HTTP: s.sim.HTTPClient(), LLMBaseURL: s.stub.URL(),
	}
	if s.worker, err = workers.StartWorker(s.services); err != nil {
		return nil, err
	}
	gw := workers.NewGateway(s.services)
	go func() {
		if err := gw.Run(ctx); err != nil {
			logger.Error("gateway stopped", "err", err)
		}
	}()
	s.guild = s.sim.AddGuild("Test Guild")
	s.user = s.sim.AddUser("alice", "Alice")
	if s.lilith, err = s.db.Store.Personalities.Upsert(ctx, store.Personality{
		Slug: "lilith", Name: "Lilith", DisplayName: "Lilith", AvatarURL: "https://example.invalid/lilith.png",
		CharacterInfo: "A demon of the night.", ErrorMessage: "*Lilith's candle gutters out.*", IsPublic: true,
	}); err != nil {
		return nil, err
	}
	if s.bob, err = s.db.Store.Personalities.Upsert(ctx, store.Personality{Slug: "bob", Name: "Bob", DisplayName: "Bob the Builder", IsPublic: true, Aliases: []string{"bobby"}}); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.sim.ConnectedSessions() == 0 {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("gateway never connected to the simulator")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s, nil
}

func (s *system) stop() {
	s.cancel()
	s.worker.Stop()
	s.client.Close()
	s.stub.Close()
	s.sim.Close()
	s.db.Close()
	s.temporal.Stop()
}

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
