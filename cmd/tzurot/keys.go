package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/workers/codec"
)

// keysCommand is `tzurot keys rotate`: re-seal every stored API key under the current
// master key. Run it after moving the old key to APP_MASTER_KEY_PREVIOUS and a new one
// into APP_MASTER_KEY; running it again finishes an interrupted rotation.
func keysCommand() *cli.Command {
	return &cli.Command{
		Name:  "keys",
		Usage: "manage the sealed API keys",
		Subcommands: []*cli.Command{{
			Name:  "rotate",
			Usage: "re-seal every stored API key under APP_MASTER_KEY (old keys in APP_MASTER_KEY_PREVIOUS)",
			Flags: join(dbFlags(), keyFlags(), []cli.Flag{&cli.IntFlag{Name: "batch", EnvVars: []string{"ROTATE_BATCH"}, Value: 100, Usage: "rows re-sealed per transaction"}}),
			Action: func(c *cli.Context) error {
				cfg := config(c)
				kr, err := cfg.Keyring()
				if err != nil {
					return err
				}
				st, err := store.Open(c.Context, cfg.DatabaseURL)
				if err != nil {
					return err
				}
				defer st.Close()
				st.WithKeyring(kr)
				rep, err := st.APIKeys.Rotate(c.Context, kr, c.Int("batch"), func(done, total int) {
					fmt.Fprintf(os.Stderr, "\rre-sealed %d/%d", done, total)
				})
				fmt.Fprintln(os.Stderr)
				fmt.Printf("key version %d: %d rows, %d re-sealed, %d already current, %d failed\n", rep.Version, rep.Total, rep.Resealed, rep.Skipped, len(rep.Failed))
				for _, f := range rep.Failed {
					fmt.Printf("  row %s (version %d): %s\n", f.ID, f.KeyVersion, f.Reason)
				}
				if err != nil {
					return fmt.Errorf("rotation stopped (run it again to finish): %w", err)
				}
				if len(rep.Failed) > 0 {
					return errors.New("some keys could not be opened by any known master key; their owners must set them again")
				}
				return nil
			},
		}},
	}
}

// codecServerCommand serves the payload codec for operators' Temporal UIs and CLIs.
func codecServerCommand() *cli.Command {
	return &cli.Command{
		Name:  "codec-server",
		Usage: "serve the Temporal payload codec so an authorised operator's UI can read workflow payloads",
		Description: "Point the Temporal UI's codec endpoint at this server (with passAccessToken and OIDC) or use\n" +
			"`temporal workflow show --codec-endpoint URL --codec-auth \"Bearer TOKEN\"`.",
		Flags: join(keyFlags(), logFlags(), []cli.Flag{
			&cli.StringFlag{Name: "codec-addr", EnvVars: []string{"CODEC_ADDR"}, Value: "127.0.0.1:8234", Usage: "listen address"},
			&cli.StringFlag{Name: "codec-token", EnvVars: []string{"CODEC_TOKEN"}, Usage: "bearer token operators present (required)"},
			&cli.StringSliceFlag{Name: "codec-origins", EnvVars: []string{"CODEC_ORIGINS"}, Value: cli.NewStringSlice("http://localhost:8233"), Usage: "Temporal UI origins allowed to call it"},
		}),
		Action: func(c *cli.Context) error {
			cfg := config(c)
			kr, err := cfg.Keyring()
			if err != nil {
				return err
			}
			token := strings.TrimSpace(c.String("codec-token"))
			if len(token) < 16 {
				return errors.New("set --codec-token / CODEC_TOKEN to a secret of at least 16 characters (e.g. openssl rand -hex 24)")
			}
			srv := &http.Server{Addr: c.String("codec-addr"), Handler: codec.NewCodecServer(kr, token, c.StringSlice("codec-origins")), ReadHeaderTimeout: 5 * time.Second}
			go func() {
				<-c.Context.Done()
				_ = srv.Close()
			}()
			cfg.Logger.Info("codec server listening", "addr", srv.Addr)
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("codec server: %w", err)
			}
			return nil
		},
	}
}
