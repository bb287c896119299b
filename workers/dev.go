package workers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/store/keyring"
	"github.com/tzurot/tzurot/workers/codec"
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
	if cfg.MasterKey == "" {
		key, created, err := devMasterKey(cfg.DataDir)
		if err != nil {
			return err
		}
		cfg.MasterKey = key
		if created {
			fmt.Fprintf(cfg.Out, "No APP_MASTER_KEY: generated one for dev in %s (keep it; it opens stored API keys).\n", filepath.Join(cfg.DataDir, "master.key"))
		}
	}
	kr, err := cfg.Keyring()
	if err != nil {
		return err
	}
	if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	st, err := OpenStore(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer st.Close()
	st.WithKeyring(kr)
	codecURL, err := serveDevCodec(ctx, kr, cfg.UIPort)
	if err != nil {
		return err
	}
	if err := seedIfEmpty(ctx, st, cfg.Out); err != nil {
		return err
	}
	ts, err := devserver.Start(ctx, devserver.Options{
		FrontendPort: cfg.TemporalPort, UIPort: cfg.UIPort, Namespace: cfg.TemporalNamespace,
		DatabaseFile: filepath.Join(cfg.DataDir, "temporal.db"), SearchAttributes: SearchAttributes(),
		Logger: log, LogLevel: slog.LevelError, CodecEndpoint: codecURL, // the embedded server warns loudly on every shutdown
	})
	if err != nil {
		return fmt.Errorf("embedded Temporal server: %w (is port %d taken? set --temporal-port)", err, cfg.TemporalPort)
	}
	defer ts.Stop()
	tc, err := DialTemporal(ctx, ts.FrontendAddr, ts.Namespace, log, kr)
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := EnsureSearchAttributes(ctx, tc, ts.Namespace); err != nil {
		return err
	}

	llmNote := "LLM:          " + cfg.LLMBaseURL + " (model " + cfg.Conversation.Model + ")"
	if cfg.LLMAPIKey == "" {
		stub := llmtest.New(llmtest.Options{})
		defer stub.Close()
		cfg.LLMAPIKey, cfg.LLMProvider, cfg.LLMBaseURL = "dev-stub-key", "stub", stub.URL()
		cfg.Guest.FreeModels = nil // the stub answers any model
		llmNote = "LLM:          built-in stub (no LLM_API_KEY); replies echo you. Set LLM_API_KEY for real ones."
	}
	svc := Services{Store: st, Temporal: tc, Config: cfg.Conversation, Logger: log, Keys: NewKeySource(st, cfg.Config),
		Guest: cfg.Guest, Superusers: cfg.Superusers, LLMBaseURL: cfg.LLMBaseURL, Limits: cfg.Limits,
		LLM: llm.New(llm.Config{BaseURL: cfg.LLMBaseURL, AppName: "Tzurot"})}
	if svc.Embedder, err = NewEmbedder(cfg.Embedder, cfg.EmbeddingsModel, svc.LLM, svc.Keys); err != nil {
		return err
	}

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
	if err := StartMemoryAgents(ctx, svc); err != nil {
		log.Warn("memory agents not (all) started", "err", err)
	}
	defer w.Stop()
	gwErr := make(chan error, 1)
	go func() { gwErr <- runGateway(ctx, svc) }()

	fmt.Fprintf(cfg.Out, "\nTzurot dev is running (started in %s)\n", time.Since(started).Round(10*time.Millisecond))
	fmt.Fprintf(cfg.Out, "Temporal:     %s (namespace %s)\n", ts.FrontendAddr, ts.Namespace)
	fmt.Fprintf(cfg.Out, "Temporal UI:  http://%s (payloads decoded by the local codec server %s)\n", ts.UIAddr, codecURL)
	fmt.Fprintf(cfg.Out, "%s\n%s\nPress Ctrl-C to stop.\n\n", discordNote, llmNote)
	select {
	case <-ctx.Done():
		return nil
	case err := <-gwErr:
		return err
	}
}

// devMasterKey reads DATA_DIR/master.key, creating it (32 random bytes, hex, mode 0600)
// the first time, so dev needs no setup and keeps opening what it sealed.
func devMasterKey(dir string) (string, bool, error) {
	path := filepath.Join(dir, "master.key")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), false, nil
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return "", false, err
	}
	key := hex.EncodeToString(k[:])
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("write %s: %w", path, err)
	}
	return key, true, nil
}

// serveDevCodec serves the payload codec on a loopback port for the dev Temporal UI.
func serveDevCodec(ctx context.Context, kr *keyring.Keyring, uiPort int) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("codec server: %w", err)
	}
	origins := []string{fmt.Sprintf("http://127.0.0.1:%d", uiPort), fmt.Sprintf("http://localhost:%d", uiPort)}
	srv := &http.Server{Handler: codec.NewLoopbackCodecServer(kr, origins), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
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
