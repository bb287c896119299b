package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/discord"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/store/keyring"
	"github.com/tzurot/tzurot/workers/codec"
	"github.com/tzurot/tzurot/workflows"
)

// Services are the live dependencies a role runs on. Tests build them from the in-process
// Temporal server, a throwaway database, the Discord simulator and the LLM stub, and call
// the same functions `tzurot dev` does.
type Services struct {
	Store     *store.Store
	Temporal  client.Client
	Session   *discordgo.Session // REST for the worker, REST and gateway for the bot
	BotUserID string
	LLM       *llm.Client
	Keys      activities.KeySource
	Embedder  activities.Embedder
	Config    activities.Config
	Logger    *slog.Logger
	// Superusers are Discord user ids allowed to run owner-only commands.
	Superusers map[string]bool
	// HTTP downloads attachments; nil is a plain client (tests route it to the simulator).
	HTTP *http.Client
	// Guest is the free tier's policy.
	Guest activities.GuestPolicy
	// LLMBaseURL is the operator's endpoint, used to validate users' OpenRouter keys.
	LLMBaseURL string
	// LLMHTTP is the client for those checks (nil: a default one).
	LLMHTTP *http.Client
	// Limits are the gateway's rate limits; the zero value limits nothing (the flags
	// start from discord.DefaultLimits).
	Limits discord.Limits
	// Metrics counts what Prometheus scrapes (nil: nothing is counted).
	Metrics *Metrics
	// Version is reported by /admin health and /healthz.
	Version string
}

// NewActivities builds the activities over the services.
func NewActivities(s Services) *activities.Activities {
	return &activities.Activities{
		Store:    s.Store,
		Discord:  discord.NewREST(s.Session, s.BotUserID, s.Logger),
		LLM:      s.LLM,
		Keys:     s.Keys,
		Embedder: s.Embedder,
		Config:   s.Config,
		Logger:   s.Logger,
		HTTP:     s.HTTP,
		Guest:    s.Guest,
		Temporal: s.Temporal,
		Meter:    meter(s.Metrics),
	}
}

// meter keeps a nil *Metrics from becoming a non-nil interface.
func meter(m *Metrics) activities.Meter {
	if m == nil {
		return nil
	}
	return m
}

// StartWorker registers everything on the conversation task queue and starts polling.
func StartWorker(s Services) (worker.Worker, error) {
	w := worker.New(s.Temporal, workflows.TaskQueue, worker.Options{
		// Let in-flight activities finish on a deploy; what does not finish is retried
		// elsewhere, and delivery is idempotent.
		WorkerStopTimeout: 10 * time.Second,
	})
	Register(w, NewActivities(s))
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	return w, nil
}

// NewGateway builds the Discord intake over the services.
func NewGateway(s Services) *discord.Gateway {
	activated := discord.NewActivationCache(s.Store, 30*time.Second)
	bot := discord.NewBot(s.Session, s.Store, s.Logger, s.Superusers)
	bot.Activations = activated
	bot.LLMBaseURL, bot.HTTP, bot.Version = s.LLMBaseURL, s.LLMHTTP, s.Version
	bot.Temporal = s.Temporal
	var onStart func(string)
	if s.Metrics != nil {
		onStart = s.Metrics.MentionStarted
	}
	guard := discord.NewGuard(s.Store.Safety, s.Limits, s.Logger)
	bot.Guard = guard
	return &discord.Gateway{
		Session:      s.Session,
		Temporal:     s.Temporal,
		TaskQueue:    workflows.TaskQueue,
		Activated:    activated,
		OnStart:      onStart,
		Guard:        guard,
		Logger:       s.Logger,
		Interactions: bot,
	}
}

// DialTemporal connects to a Temporal frontend, explaining a failure in one line. Every
// payload goes through the encrypting codec (keyed by kr): message text, replies and
// everything else in workflow history is ciphertext to anyone without the master key.
// The SDK's metrics go to metrics when it is set.
func DialTemporal(ctx context.Context, address, namespace string, logger *slog.Logger, kr *keyring.Keyring, metrics ...*Metrics) (client.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	opts := client.Options{
		HostPort:  address,
		Namespace: namespace,
		Logger:    newTemporalLogger(logger),
	}
	if kr != nil {
		opts.DataConverter = codec.NewDataConverter(kr)
	}
	if len(metrics) > 0 && metrics[0] != nil {
		opts.MetricsHandler = metrics[0].TemporalHandler()
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot reach Temporal at %s (namespace %q): is it running? Set --temporal-address / TEMPORAL_ADDRESS, or use `tzurot dev`, which embeds one: %v", address, namespace, shortErr(err))
	}
	return c, nil
}

var errNoToken = errors.New("no Discord bot token: set --discord-token / DISCORD_TOKEN (or run `tzurot dev`, which uses the built-in simulator without one)")

// DiscordSession creates a REST+gateway session for a bot token and checks the token
// with Discord, returning the bot's user id. httpClient may route to the simulator.
func DiscordSession(ctx context.Context, token string, httpClient *http.Client) (*discordgo.Session, string, error) {
	token = strings.TrimPrefix(strings.TrimSpace(token), "Bot ")
	if token == "" {
		return nil, "", errNoToken
	}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, "", fmt.Errorf("discord session: %v", err)
	}
	if httpClient != nil {
		s.Client = httpClient
	}
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages | discordgo.IntentsMessageContent
	// Temporal retries failed calls; discordgo still waits out 429s per route itself.
	s.MaxRestRetries = 0
	s.ShouldReconnectOnError = true
	me, err := s.User("@me", discordgo.WithContext(ctx))
	if err != nil {
		var re *discordgo.RESTError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized {
			return nil, "", errors.New("discord rejected the bot token (401 Unauthorized): copy the token again from the Developer Portal's Bot page into DISCORD_TOKEN")
		}
		return nil, "", fmt.Errorf("cannot reach Discord to check the bot token: %s", shortErr(err))
	}
	return s, me.ID, nil
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
