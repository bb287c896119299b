package workers

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/workers/devserver"
)

// DevConfig adds what only `tzurot dev` needs to Config.
type DevConfig struct {
	Config
	DataDir      string // Temporal's SQLite file and dev.json live here
	TemporalPort int
	UIPort       int
	DevPort      int // the `dev say` control endpoint (simulator mode)
	Out          io.Writer
}

// devSimToken is the simulator's bot token; it guards nothing real.
const devSimToken = "tzurot-dev-simulator"

// DevInfo is written to DATA_DIR/dev.json so `tzurot dev say` finds the running dev.
type DevInfo struct {
	ControlURL string `json:"control_url"`
}

// RunDev runs everything in one process: an embedded Temporal server with its Web UI,
// migrations, the worker and the gateway, against real Discord with a token or the
// built-in simulator without one, and against the configured LLM or, without a key, the
// built-in stub.
func RunDev(ctx context.Context, cfg DevConfig) error {
	log := cfg.Logger
	started := time.Now()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	st, err := OpenStore(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := seedIfEmpty(ctx, st, cfg.Out); err != nil {
		return err
	}
	ts, err := devserver.Start(ctx, devserver.Options{
		FrontendPort: cfg.TemporalPort, UIPort: cfg.UIPort, Namespace: cfg.TemporalNamespace,
		DatabaseFile: filepath.Join(cfg.DataDir, "temporal.db"), SearchAttributes: SearchAttributes(),
		Logger: log,
	})
	if err != nil {
		return fmt.Errorf("embedded Temporal server: %w (is port %d taken? set --temporal-port)", err, cfg.TemporalPort)
	}
	defer ts.Stop()
	tc, err := DialTemporal(ctx, ts.FrontendAddr, ts.Namespace, log)
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := EnsureSearchAttributes(ctx, tc, ts.Namespace); err != nil {
		return err
	}

	svc := Services{Store: st, Temporal: tc, Config: cfg.Conversation, Logger: log,
		Keys: activities.SystemKey{Provider: cfg.LLMProvider, APIKey: cfg.LLMAPIKey}}
	llmNote := "LLM:          " + cfg.LLMBaseURL + " (model " + cfg.Conversation.Model + ")"
	if cfg.LLMAPIKey == "" {
		stub := llmtest.New(llmtest.Options{})
		defer stub.Close()
		svc.Keys = activities.SystemKey{Provider: "stub", APIKey: "dev-stub-key"}
		cfg.LLMBaseURL = stub.URL()
		llmNote = "LLM:          built-in stub (no LLM_API_KEY); replies echo you. Set LLM_API_KEY for real ones."
	}
	svc.LLM = llm.New(llm.Config{BaseURL: cfg.LLMBaseURL, AppName: "Tzurot"})

	var discordNote string
	var sim *discordtest.Server
	if cfg.DiscordToken == "" {
		if sim, err = discordtest.New(discordtest.Options{BotToken: devSimToken}); err != nil {
			return err
		}
		defer sim.Close()
		if svc.Session, svc.BotUserID, err = DiscordSession(ctx, devSimToken, sim.HTTPClient()); err != nil {
			return err
		}
		svc.Session.Dialer = sim.WebsocketDialer()
		ctl, err := startControl(ctx, cfg, sim, tc)
		if err != nil {
			return err
		}
		discordNote = "Discord:      built-in simulator (no DISCORD_TOKEN) at " + sim.URL() + "\n" +
			"              talk to it:  tzurot dev say \"@Lilith hello\"   (control " + ctl + ")"
	} else {
		if svc.Session, svc.BotUserID, err = DiscordSession(ctx, cfg.DiscordToken, nil); err != nil {
			return err
		}
		discordNote = "Discord:      connected with DISCORD_TOKEN; mention a character in your server"
	}
	w, err := StartWorker(svc)
	if err != nil {
		return err
	}
	defer w.Stop()
	gwErr := make(chan error, 1)
	go func() { gwErr <- runGateway(ctx, svc) }()

	fmt.Fprintf(cfg.Out, "\nTzurot dev is running (started in %s)\n", time.Since(started).Round(10*time.Millisecond))
	fmt.Fprintf(cfg.Out, "Temporal:     %s (namespace %s)\n", ts.FrontendAddr, ts.Namespace)
	fmt.Fprintf(cfg.Out, "Temporal UI:  http://%s\n", ts.UIAddr)
	fmt.Fprintf(cfg.Out, "%s\n%s\nPress Ctrl-C to stop.\n\n", discordNote, llmNote)
	select {
	case <-ctx.Done():
		return nil
	case err := <-gwErr:
		return err
	}
}

func seedIfEmpty(ctx context.Context, st *store.Store, out io.Writer) error {
	existing, err := st.Personalities.List(ctx)
	if err != nil || len(existing) > 0 {
		return err
	}
	seed, err := store.SeedPersonalities()
	if err != nil {
		return err
	}
	for _, p := range seed {
		if _, err := st.Personalities.Upsert(ctx, p); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "No characters yet: loaded the examples (Lilith and Sage).\n")
	return nil
}
