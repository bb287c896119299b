// Package systemtest assembles a whole Tzurot in one process for end-to-end tests and the
// benchmark: an embedded Temporal server (in memory), a throwaway PostgreSQL database,
// the Discord simulator and the LLM stub, wired by the same workers functions `tzurot
// dev` and production use. Nothing here reaches beyond 127.0.0.1.
package systemtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/discord"
	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/store/keyring"
	"github.com/tzurot/tzurot/store/storetest"
	"github.com/tzurot/tzurot/workers"
	"github.com/tzurot/tzurot/workers/devserver"
	"github.com/tzurot/tzurot/workflows"
)

// Fixed, obviously fake secrets of the test system.
const (
	BotToken = "test-bot-token-not-a-secret"
	// APIKey is the operator's key the stub accepts.
	APIKey = "sk-or-v1-testkey-0000000-0000000-0000000-0000000-0000000-00000000"
	// UserKey is a key a user brings with /settings apikey set (the stub accepts it).
	UserKey = "sk-or-v1-userkey-0000000-0000000-0000000-0000000-0000000-00000000"
	// MasterKey seals API keys and payloads.
	MasterKey = "7a7572f07465737420206d6173746572206b6579206e6f742061207365637265"
)

// Options shape the system.
type Options struct {
	Name       string // database name prefix
	Logger     *slog.Logger
	EagerStart bool // the gateway asks for eager workflow start (worker in this process)
	NoWorker   bool // run no worker here (fault tests run workers as child processes)
	// TemporalAddress points at a Temporal frontend run elsewhere (a fault test's child
	// process, namespace "default"); empty starts one in memory here.
	TemporalAddress string
	Embedder        string // --embedder of the system: "" or "local", "openai" (the stub), "none"
	// Dispatch replaces starting workflows in the gateway (the benchmark's baseline).
	Dispatch func(ctx context.Context, snap activities.MessageSnapshot)
}

// System is a running Tzurot.
type System struct {
	Temporal *devserver.Server
	DB       *storetest.DB
	Sim      *discordtest.Server
	Stub     *llmtest.Stub
	Client   client.Client
	Worker   worker.Worker
	Services workers.Services
	Gateway  *discord.Gateway
	Guild    *discordgo.Guild
	User     *discordgo.User
	cancel   context.CancelFunc
}

// Start builds and starts everything; Stop undoes it.
func Start(ctx context.Context, o Options) (*System, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &System{cancel: cancel}
	if err := s.start(ctx, o); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *System) start(ctx context.Context, o Options) error {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	var err error
	frontend, namespace := o.TemporalAddress, "default"
	if frontend == "" {
		if s.Temporal, err = devserver.Start(ctx, devserver.Options{UIPort: -1, SearchAttributes: workers.SearchAttributes()}); err != nil {
			return err
		}
		frontend, namespace = s.Temporal.FrontendAddr, s.Temporal.Namespace
	}
	if s.DB, err = storetest.New(ctx, o.Name); err != nil {
		return err
	}
	if s.Sim, err = discordtest.New(discordtest.Options{BotToken: BotToken}); err != nil {
		return err
	}
	s.Stub = llmtest.New(llmtest.Options{APIKeys: []string{APIKey, UserKey}})
	kr, err := keyring.FromEnv(MasterKey, "")
	if err != nil {
		return err
	}
	s.DB.Store.WithKeyring(kr)
	metrics := workers.NewMetrics()
	if s.Client, err = workers.DialTemporal(ctx, frontend, namespace, logger, kr, metrics); err != nil {
		return err
	}
	if err := workers.EnsureSearchAttributes(ctx, s.Client, namespace); err != nil {
		return err
	}
	session, botID, err := workers.DiscordSession(ctx, BotToken, s.Sim.HTTPClient())
	if err != nil {
		return err
	}
	session.Dialer = s.Sim.WebsocketDialer()
	cfg := activities.DefaultConfig()
	cfg.Model = "stub-model"
	cfg.MaxReplyTokens = 4096
	cfg.VisionModel = "stub-vision"
	cfg.TranscriptionModel = "stub-whisper"
	guest := activities.GuestPolicy{FreeModels: []string{"stub-model"}, TurnsPerHour: 360000, Burst: 100000}
	s.Services = workers.Services{
		Store: s.DB.Store, Temporal: s.Client, Session: session, BotUserID: botID,
		LLM: llm.New(llm.Config{BaseURL: s.Stub.URL()}),
		Keys: &activities.UserKeys{Keys: s.DB.Store.APIKeys, Usage: s.DB.Store.Usage, Provider: "openrouter",
			System: activities.SystemKey{Provider: "openrouter", APIKey: APIKey}, Guest: guest},
		Guest:  guest,
		Config: cfg, Logger: logger, HTTP: s.Sim.HTTPClient(), LLMBaseURL: s.Stub.URL(), Metrics: metrics,
	}
	if s.Services.Embedder, err = workers.NewEmbedder(o.Embedder, "", s.Services.LLM, s.Services.Keys); err != nil {
		return err
	}
	if !o.NoWorker {
		if s.Worker, err = workers.StartWorker(s.Services); err != nil {
			return err
		}
		if err := workers.StartMemoryAgents(ctx, s.Services); err != nil {
			return err
		}
	}
	s.Gateway = workers.NewGateway(s.Services)
	s.Gateway.EagerStart, s.Gateway.Dispatch = o.EagerStart, o.Dispatch
	go func() {
		if err := s.Gateway.Run(ctx); err != nil {
			logger.Error("gateway stopped", "err", err)
		}
	}()
	s.Guild = s.Sim.AddGuild("Test Guild")
	s.User = s.Sim.AddUser("alice", "Alice")
	deadline := time.Now().Add(10 * time.Second)
	for s.Sim.ConnectedSessions() == 0 {
		if time.Now().After(deadline) {
			return errors.New("the gateway never connected to the simulator")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Stop shuts everything down and drops the database.
func (s *System) Stop() {
	s.cancel()
	if s.Worker != nil {
		s.Worker.Stop()
	}
	if s.Client != nil {
		s.Client.Close()
	}
	if s.Stub != nil {
		s.Stub.Close()
	}
	if s.Sim != nil {
		s.Sim.Close()
	}
	if s.DB != nil {
		s.DB.Close()
	}
	if s.Temporal != nil {
		s.Temporal.Stop()
	}
}

// WaitConversation waits for the workflow of a Discord message to exist and finish.
func (s *System) WaitConversation(ctx context.Context, messageID string) (workflows.ConversationResult, error) {
	id := workflows.ConversationID(messageID)
	var res workflows.ConversationResult
	for {
		_, err := s.Client.DescribeWorkflowExecution(ctx, id, "")
		if err == nil {
			break
		}
		var nf *serviceerror.NotFound
		if !errors.As(err, &nf) || ctx.Err() != nil {
			return res, fmt.Errorf("workflow %s never started: %w", id, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Client.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		return res, fmt.Errorf("workflow %s: %w", id, err)
	}
	return res, nil
}
