package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/discord"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/workers"
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"

func newApp() *cli.App {
	return &cli.App{
		Name:    "tzurot",
		Usage:   "a Discord bot hosting AI characters, every reply a durable Temporal workflow",
		Version: version,
		Commands: []*cli.Command{
			devCommand(),
			{
				Name:   "bot",
				Usage:  "run the Discord gateway (production; needs an external Temporal)",
				Flags:  join(dbFlags(), temporalFlags(), discordFlags(), llmFlags(), keyFlags(), guestFlags(), limitFlags(), healthFlags(), logFlags()),
				Action: func(c *cli.Context) error { return workers.RunBot(c.Context, config(c)) },
			},
			{
				Name:   "worker",
				Usage:  "run the Temporal worker: workflows and activities (production)",
				Flags:  join(dbFlags(), temporalFlags(), discordFlags(), llmFlags(), conversationFlags(), memoryFlags(), keyFlags(), guestFlags(), healthFlags(), logFlags()),
				Action: func(c *cli.Context) error { return workers.RunWorker(c.Context, config(c)) },
			},
			migrateCommand(),
			personalityCommand(),
			importCommand(),
			keysCommand(),
			codecServerCommand(),
			benchCommand(),
			opsCommand(),
			{
				Name:      "health",
				Usage:     "probe a running bot or worker's /healthz (for container healthchecks)",
				ArgsUsage: "[URL]",
				Action:    probeHealth,
			},
		},
	}
}

func join(groups ...[]cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func dbFlags() []cli.Flag {
	return []cli.Flag{&cli.StringFlag{
		Name: "database-url", EnvVars: []string{"DATABASE_URL"},
		Value: "postgres://postgres@127.0.0.1:5432/tzurot?sslmode=disable",
		Usage: "PostgreSQL (with pgvector) connection URL",
	}}
}

func temporalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "temporal-address", EnvVars: []string{"TEMPORAL_ADDRESS"}, Value: "127.0.0.1:7233", Usage: "Temporal frontend host:port"},
		&cli.StringFlag{Name: "temporal-namespace", EnvVars: []string{"TEMPORAL_NAMESPACE"}, Value: "default", Usage: "Temporal namespace"},
	}
}

func discordFlags() []cli.Flag {
	return []cli.Flag{&cli.StringFlag{Name: "discord-token", EnvVars: []string{"DISCORD_TOKEN"}, Usage: "Discord bot token (dev: empty runs the built-in simulator)"}}
}

func llmFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "llm-base-url", EnvVars: []string{"LLM_BASE_URL"}, Value: "https://openrouter.ai/api/v1", Usage: "OpenAI-compatible API base URL"},
		&cli.StringFlag{Name: "llm-api-key", EnvVars: []string{"LLM_API_KEY", "OPENROUTER_API_KEY"}, Usage: "the operator's API key (dev: empty uses the built-in stub)"},
		&cli.StringFlag{Name: "llm-provider", EnvVars: []string{"LLM_PROVIDER"}, Value: "openrouter", Usage: "provider name recorded in usage logs"},
		&cli.StringFlag{Name: "llm-model", EnvVars: []string{"LLM_MODEL"}, Value: activities.DefaultConfig().Model, Usage: "default model"},
	}
}

func conversationFlags() []cli.Flag {
	d := activities.DefaultConfig()
	return []cli.Flag{
		&cli.IntFlag{Name: "max-personalities", EnvVars: []string{"MAX_PERSONALITIES"}, Value: d.MaxPersonalities, Usage: "most characters answering one message"},
		&cli.IntFlag{Name: "history-messages", EnvVars: []string{"HISTORY_MESSAGES"}, Value: d.HistoryMessages, Usage: "channel messages read for context (at most 100)"},
		&cli.IntFlag{Name: "context-tokens", EnvVars: []string{"CONTEXT_TOKENS"}, Value: d.ContextTokens, Usage: "token budget of the chat log in a prompt"},
		&cli.IntFlag{Name: "max-reply-tokens", EnvVars: []string{"MAX_REPLY_TOKENS"}, Value: d.MaxReplyTokens, Usage: "most tokens in one reply"},
		&cli.BoolFlag{Name: "vision", EnvVars: []string{"LLM_VISION"}, Usage: "the model takes images (else --vision-model describes them)"},
		&cli.StringFlag{Name: "vision-model", EnvVars: []string{"VISION_MODEL"}, Value: d.VisionModel, Usage: "model that describes images for models without vision (empty: images are noted only)"},
		&cli.StringFlag{Name: "transcription-model", EnvVars: []string{"TRANSCRIPTION_MODEL"}, Value: d.TranscriptionModel, Usage: "OpenAI-compatible transcription model for voice messages (empty: off)"},
		&cli.IntFlag{Name: "max-images", EnvVars: []string{"MAX_IMAGES"}, Value: d.MaxImages, Usage: "images per message passed to the model"},
		&cli.DurationFlag{Name: "max-context-age", EnvVars: []string{"MAX_CONTEXT_AGE"}, Usage: "leave older channel messages out of the context, e.g. 72h (0: no limit)"},
	}
}

func memoryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "embedder", EnvVars: []string{"EMBEDDER"}, Value: workers.EmbedderLocal,
			Usage: "long-term memory embedder: local (built in, no network), openai (an OpenAI-compatible embeddings model at --llm-base-url, on the operator's key) or none"},
		&cli.StringFlag{Name: "embeddings-model", EnvVars: []string{"EMBEDDINGS_MODEL"}, Value: workers.DefaultEmbeddingsModel,
			Usage: "the openai embedder's model, asked for 384 dimensions; changing it re-embeds every memory"},
	}
}

func keyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "master-key", EnvVars: []string{"APP_MASTER_KEY"}, Usage: "32 bytes, hex or base64, sealing users' API keys and Temporal payloads (generate: openssl rand -hex 32); dev makes one if unset"},
		&cli.StringFlag{Name: "master-key-previous", EnvVars: []string{"APP_MASTER_KEY_PREVIOUS"}, Usage: "the master key(s) before rotation, still accepted for decryption"},
	}
}

func guestFlags() []cli.Flag {
	g := activities.DefaultGuestPolicy()
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "free-models", EnvVars: []string{"FREE_MODELS"}, Value: cli.NewStringSlice(g.FreeModels...), Usage: "models the operator's key runs for users without their own key (the first is the fallback)"},
		&cli.Float64Flag{Name: "guest-turns-per-hour", EnvVars: []string{"GUEST_TURNS_PER_HOUR"}, Value: g.TurnsPerHour, Usage: "free-tier replies per user per hour (token bucket refill)"},
		&cli.IntFlag{Name: "guest-burst", EnvVars: []string{"GUEST_BURST"}, Value: g.Burst, Usage: "free-tier replies a user may use at once"},
		&cli.IntFlag{Name: "guest-daily-tokens", EnvVars: []string{"GUEST_DAILY_TOKENS"}, Value: g.DailyTokenCap, Usage: "tokens all guests together may use per UTC day (0: no cap)"},
		&cli.StringSliceFlag{Name: "superusers", EnvVars: []string{"SUPERUSERS"}, Usage: "Discord user ids allowed to run owner-only commands"},
	}
}

func limitFlags() []cli.Flag {
	d := discord.DefaultLimits()
	return []cli.Flag{
		&cli.Float64Flag{Name: "rate-user-per-minute", EnvVars: []string{"RATE_USER_PER_MINUTE"}, Value: d.UserPerMinute, Usage: "messages to characters one user may send per minute (0: no limit)"},
		&cli.IntFlag{Name: "rate-user-burst", EnvVars: []string{"RATE_USER_BURST"}, Value: d.UserBurst, Usage: "how many of them may come at once"},
		&cli.Float64Flag{Name: "rate-channel-per-minute", EnvVars: []string{"RATE_CHANNEL_PER_MINUTE"}, Value: d.ChannelPerMinute, Usage: "messages to characters per minute in one channel (0: no limit)"},
		&cli.IntFlag{Name: "rate-channel-burst", EnvVars: []string{"RATE_CHANNEL_BURST"}, Value: d.ChannelBurst, Usage: "how many of them may come at once"},
		&cli.DurationFlag{Name: "rate-notice-cooldown", EnvVars: []string{"RATE_NOTICE_COOLDOWN"}, Value: d.NoticeCooldown, Usage: "least time between two slow-down notices to the same user"},
	}
}

func healthFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "health-addr", EnvVars: []string{"HEALTH_ADDR"}, Usage: "serve GET /healthz on this address, e.g. :8080 (empty: off)"},
		&cli.StringFlag{Name: "metrics-addr", EnvVars: []string{"METRICS_ADDR"}, Usage: "serve Prometheus GET /metrics on this address, e.g. :9090 (empty: off)"},
	}
}

func probeHealth(c *cli.Context) error {
	url := c.Args().First()
	if url == "" {
		url = "http://127.0.0.1:8080/healthz"
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		return fmt.Errorf("unhealthy: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s", resp.Status)
	}
	return nil
}

func logFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "log-level", EnvVars: []string{"LOG_LEVEL"}, Value: "info", Usage: "debug, info, warn or error"},
		&cli.StringFlag{Name: "log-format", EnvVars: []string{"LOG_FORMAT"}, Value: "text", Usage: "text or json"},
	}
}

// config reads every flag a role may have; flags a command lacks read as zero values.
func config(c *cli.Context) workers.Config {
	conv := activities.DefaultConfig()
	conv.Model = c.String("llm-model")
	if c.IsSet("max-personalities") || c.Int("max-personalities") > 0 {
		conv.MaxPersonalities = c.Int("max-personalities")
		conv.HistoryMessages = c.Int("history-messages")
		conv.ContextTokens = c.Int("context-tokens")
		conv.MaxReplyTokens = c.Int("max-reply-tokens")
		conv.Vision = c.Bool("vision")
		conv.VisionModel = c.String("vision-model")
		conv.TranscriptionModel = c.String("transcription-model")
		conv.MaxImages = c.Int("max-images")
		conv.MaxAge = c.Duration("max-context-age")
	}
	return workers.Config{
		DatabaseURL:       c.String("database-url"),
		TemporalAddress:   c.String("temporal-address"),
		TemporalNamespace: c.String("temporal-namespace"),
		DiscordToken:      c.String("discord-token"),
		LLMBaseURL:        c.String("llm-base-url"),
		LLMAPIKey:         c.String("llm-api-key"),
		LLMProvider:       c.String("llm-provider"),
		HealthAddr:        c.String("health-addr"),
		MetricsAddr:       c.String("metrics-addr"),
		Version:           version,
		MasterKey:         c.String("master-key"),
		MasterKeyPrevious: c.String("master-key-previous"),
		Guest: activities.GuestPolicy{
			FreeModels: c.StringSlice("free-models"), TurnsPerHour: c.Float64("guest-turns-per-hour"),
			Burst: c.Int("guest-burst"), DailyTokenCap: c.Int("guest-daily-tokens"),
		},
		Superusers:      set(c.StringSlice("superusers")),
		Conversation:    conv,
		Embedder:        c.String("embedder"),
		EmbeddingsModel: c.String("embeddings-model"),
		Logger:          workers.NewLogger(os.Stderr, c.String("log-level"), c.String("log-format")),
	}
}

func devCommand() *cli.Command {
	dataDir := &cli.StringFlag{Name: "data-dir", EnvVars: []string{"TZUROT_DATA_DIR"}, Value: ".data", Usage: "where dev keeps Temporal's SQLite file and dev.json"}
	return &cli.Command{
		Name:  "dev",
		Usage: "run everything in one process: embedded Temporal + Web UI, migrations, worker, gateway",
		Description: "Without DISCORD_TOKEN it runs against the built-in Discord simulator; talk to it with\n" +
			"`tzurot dev say \"@Lilith hello\"`. Without LLM_API_KEY it answers through a built-in stub.",
		Flags: join(dbFlags(), discordFlags(), llmFlags(), conversationFlags(), memoryFlags(), keyFlags(), guestFlags(), logFlags(), []cli.Flag{
			dataDir,
			&cli.StringFlag{Name: "temporal-namespace", EnvVars: []string{"TEMPORAL_NAMESPACE"}, Value: "default", Usage: "Temporal namespace"},
			&cli.IntFlag{Name: "temporal-port", EnvVars: []string{"TEMPORAL_PORT"}, Value: 7233, Usage: "embedded Temporal frontend port"},
			&cli.IntFlag{Name: "ui-port", EnvVars: []string{"TEMPORAL_UI_PORT"}, Value: 8233, Usage: "Temporal Web UI port"},
			&cli.IntFlag{Name: "dev-port", EnvVars: []string{"TZUROT_DEV_PORT"}, Value: 8089, Usage: "`dev say` control port (simulator mode)"},
		}),
		Action: func(c *cli.Context) error {
			cfg := config(c)
			if !c.IsSet("log-level") {
				cfg.Logger = workers.NewLogger(os.Stderr, "warn", c.String("log-format"))
			}
			return workers.RunDev(c.Context, workers.DevConfig{
				Config: cfg, DataDir: c.String("data-dir"), TemporalPort: c.Int("temporal-port"),
				UIPort: c.Int("ui-port"), DevPort: c.Int("dev-port"), Out: os.Stdout,
			})
		},
		Subcommands: []*cli.Command{{
			Name:      "say",
			Usage:     "say something in the running dev simulator's #general and print the replies",
			ArgsUsage: "\"@Lilith hello\"",
			Flags: []cli.Flag{dataDir,
				&cli.StringFlag{Name: "reply-to", Usage: "Discord message id to reply to (e.g. a character's message)"}},
			Action: devSay,
		}},
	}
}

func devSay(c *cli.Context) error {
	text := strings.TrimSpace(strings.Join(c.Args().Slice(), " "))
	if text == "" {
		return errors.New(`say what? e.g. tzurot dev say "@Lilith hello"`)
	}
	raw, err := os.ReadFile(filepath.Join(c.String("data-dir"), "dev.json"))
	if err != nil {
		return errors.New("no running `tzurot dev` in simulator mode found (start it first, in this directory, without DISCORD_TOKEN)")
	}
	var info workers.DevInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return fmt.Errorf("dev.json is damaged; restart `tzurot dev`: %v", err)
	}
	body, _ := json.Marshal(workers.SayRequest{Content: text, ReplyTo: c.String("reply-to")})
	req, err := http.NewRequestWithContext(c.Context, http.MethodPost, info.ControlURL+"/say", strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach `tzurot dev` at %s: is it still running? (%v)", info.ControlURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var b strings.Builder
		_, _ = fmt.Fscan(resp.Body, &b)
		return fmt.Errorf("dev answered %s", resp.Status)
	}
	var out workers.SayResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	fmt.Printf("you (message %s): %s\n", out.MessageID, text)
	if out.Note != "" {
		fmt.Println("  " + out.Note)
	}
	for _, r := range out.Replies {
		fmt.Printf("%s (message %s): %s\n", r.Username, r.MessageID, r.Content)
	}
	return nil
}

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "apply or show the database migrations embedded in the binary",
		Subcommands: []*cli.Command{
			{Name: "up", Usage: "apply every pending migration", Flags: join(dbFlags(), logFlags()), Action: func(c *cli.Context) error {
				s, err := store.Open(c.Context, c.String("database-url"))
				if err != nil {
					return err
				}
				defer s.Close()
				applied, err := store.Migrate(c.Context, s)
				if err != nil {
					return err
				}
				if len(applied) == 0 {
					fmt.Println("database is up to date")
				}
				for _, a := range applied {
					fmt.Println("applied", a)
				}
				return nil
			}},
			{Name: "status", Usage: "list migrations and whether each is applied", Flags: dbFlags(), Action: func(c *cli.Context) error {
				s, err := store.Open(c.Context, c.String("database-url"))
				if err != nil {
					return err
				}
				defer s.Close()
				m, err := store.NewMigrator(s.Pool)
				if err != nil {
					return err
				}
				defer m.Close()
				st, err := m.Status(c.Context)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "VERSION\tMIGRATION\tAPPLIED")
				for _, m := range st {
					at := "pending"
					if m.Applied {
						at = m.At
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\n", m.Version, m.Name, at)
				}
				return tw.Flush()
			}},
		},
	}
}

func personalityCommand() *cli.Command {
	return &cli.Command{
		Name:  "personality",
		Usage: "manage characters",
		Subcommands: []*cli.Command{
			{Name: "import", Usage: "create or update characters from a YAML or JSON file", ArgsUsage: "FILE",
				Flags: dbFlags(), Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return errors.New("usage: tzurot personality import FILE (YAML or JSON; see store/seed/personalities.yaml)")
					}
					data, err := readLimited(c.Args().First(), 8<<20)
					if err != nil {
						return err
					}
					ps, err := store.ParsePersonalities(data, c.Args().First())
					if err != nil {
						return err
					}
					s, err := workers.OpenStore(c.Context, c.String("database-url"), workers.NewLogger(os.Stderr, "warn", "text"))
					if err != nil {
						return err
					}
					defer s.Close()
					for _, p := range ps {
						stored, err := s.Personalities.Upsert(c.Context, p)
						if err != nil {
							return err
						}
						fmt.Printf("imported %s (%s)\n", stored.DisplayName, stored.Slug)
					}
					return nil
				}},
			{Name: "list", Usage: "list characters", Flags: dbFlags(), Action: func(c *cli.Context) error {
				s, err := store.Open(c.Context, c.String("database-url"))
				if err != nil {
					return err
				}
				defer s.Close()
				ps, err := s.Personalities.List(c.Context)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SLUG\tDISPLAY NAME\tPUBLIC")
				for _, p := range ps {
					fmt.Fprintf(tw, "%s\t%s\t%v\n", p.Slug, p.DisplayName, p.IsPublic)
				}
				return tw.Flush()
			}},
		},
	}
}

// readLimited reads a file, refusing one larger than max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes; a personalities file may be at most %d", path, fi.Size(), max)
	}
	buf := make([]byte, fi.Size())
	_, err = f.Read(buf)
	return buf, err
}

func set(ids []string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" {
			out[id] = true
		}
	}
	return out
}
