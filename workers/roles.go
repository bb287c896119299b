package workers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/discord"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/store/keyring"
)

// Config is everything a role needs; cmd/tzurot fills it from flags and environment.
type Config struct {
	DatabaseURL       string
	TemporalAddress   string
	TemporalNamespace string
	DiscordToken      string
	LLMBaseURL        string
	LLMAPIKey         string
	LLMProvider       string
	HealthAddr        string // serve GET /healthz here ("" = off)
	Version           string
	MasterKey         string // APP_MASTER_KEY: seals users' API keys and Temporal payloads
	MasterKeyPrevious string // APP_MASTER_KEY_PREVIOUS: still opens what the old key sealed
	Guest             activities.GuestPolicy
	Superusers        map[string]bool
	MetricsAddr       string // serve GET /metrics here ("" = off)
	Limits            discord.Limits
	Conversation      activities.Config
	Logger            *slog.Logger
	Embedder          string // --embedder: local (default), openai or none
	EmbeddingsModel   string // --embeddings-model: the openai embedder's model
}

// Keyring parses the master keys, explaining what is wrong and how to fix it.
func (cfg Config) Keyring() (*keyring.Keyring, error) {
	return keyring.FromEnv(cfg.MasterKey, cfg.MasterKeyPrevious)
}

// OpenStore connects to PostgreSQL and applies pending migrations (under an advisory
// lock, so a bot and a worker starting together are safe).
func OpenStore(ctx context.Context, url string, logger *slog.Logger) (*store.Store, error) {
	s, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	applied, err := store.Migrate(ctx, s)
	if err != nil {
		s.Close()
		return nil, err
	}
	for _, name := range applied {
		logger.Info("migration applied", "migration", name)
	}
	return s, nil
}

// connect opens the database, Temporal and a checked Discord session: what both
// production roles share. httpClient routes Discord calls (nil: the real Discord).
func connect(ctx context.Context, cfg Config, httpClient *http.Client) (Services, func(), error) {
	log := cfg.Logger
	if strings.TrimSpace(cfg.DiscordToken) == "" {
		return Services{}, nil, errNoToken // before anything else: the cheapest mistake to report
	}
	kr, err := cfg.Keyring()
	if err != nil {
		return Services{}, nil, err
	}
	st, err := OpenStore(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return Services{}, nil, err
	}
	st.WithKeyring(kr)
	metrics := NewMetrics()
	if err := metrics.Serve(ctx, cfg.MetricsAddr); err != nil {
		st.Close()
		return Services{}, nil, fmt.Errorf("metrics endpoint %s: %w", cfg.MetricsAddr, err)
	}
	tc, err := DialTemporal(ctx, cfg.TemporalAddress, cfg.TemporalNamespace, log, kr, metrics)
	if err != nil {
		st.Close()
		return Services{}, nil, err
	}
	if err := EnsureSearchAttributes(ctx, tc, cfg.TemporalNamespace); err != nil {
		log.Warn("search attributes not registered; operators cannot filter by personality or user", "err", err)
	}
	session, botID, err := DiscordSession(ctx, cfg.DiscordToken, httpClient)
	if err != nil {
		tc.Close()
		st.Close()
		return Services{}, nil, err
	}
	svc := Services{
		Store: st, Temporal: tc, Session: session, BotUserID: botID,
		LLM:    llm.New(llm.Config{BaseURL: cfg.LLMBaseURL, AppName: "Tzurot"}),
		Keys:   NewKeySource(st, cfg),
		Config: cfg.Conversation, Logger: log, Guest: cfg.Guest, Superusers: cfg.Superusers,
		LLMBaseURL: cfg.LLMBaseURL, Metrics: metrics, Version: cfg.Version, Limits: cfg.Limits,
	}
	if err := ServeHealth(ctx, cfg.HealthAddr, cfg.Version, st, tc); err != nil {
		tc.Close()
		st.Close()
		return Services{}, nil, fmt.Errorf("health endpoint %s: %w", cfg.HealthAddr, err)
	}
	return svc, func() { tc.Close(); st.Close() }, nil
}

// NewKeySource is the BYOK key source: users' sealed keys, else the operator's key under
// the guest policy.
func NewKeySource(st *store.Store, cfg Config) *activities.UserKeys {
	return &activities.UserKeys{
		Keys: st.APIKeys, Usage: st.Usage, Provider: "openrouter", Guest: cfg.Guest,
		System: activities.SystemKey{Provider: cfg.LLMProvider, APIKey: cfg.LLMAPIKey, BaseURL: cfg.LLMBaseURL},
	}
}

// RunWorker runs the Temporal worker (activities and workflows) until ctx ends.
func RunWorker(ctx context.Context, cfg Config) error {
	if cfg.LLMAPIKey == "" {
		cfg.Logger.Warn("no LLM_API_KEY: there is no free tier; only users with their own key get answers")
	}
	svc, closeAll, err := connect(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer closeAll()
	if svc.Embedder, err = NewEmbedder(cfg.Embedder, cfg.EmbeddingsModel, svc.LLM, svc.Keys); err != nil {
		return err
	}
	w, err := StartWorker(svc)
	if err != nil {
		return err
	}
	if err := StartMemoryAgents(ctx, svc); err != nil {
		cfg.Logger.Warn("memory agents not (all) started; the worker answers anyway", "err", err)
	}
	cfg.Logger.Info("worker running", "temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace,
		"embedder", activities.EmbedderID(svc.Embedder))
	<-ctx.Done()
	w.Stop()
	return nil
}

// RunBot runs the Discord gateway (and, later, slash commands) until ctx ends.
func RunBot(ctx context.Context, cfg Config) error {
	svc, closeAll, err := connect(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer closeAll()
	return runGateway(ctx, svc)
}

func runGateway(ctx context.Context, svc Services) error {
	if err := NewGateway(svc).Run(ctx); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}
