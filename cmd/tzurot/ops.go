package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tzurot/tzurot/workers"
)

// opsCommand is `tzurot ops stuck`: running conversations older than a threshold, with
// their step and what Temporal is retrying. docs/OPERATIONS.md is the runbook around it.
func opsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ops",
		Usage: "operator tools",
		Subcommands: []*cli.Command{{
			Name:  "stuck",
			Usage: "list conversations still running after --older-than, with their step and retries",
			Flags: join(temporalFlags(), keyFlags(), logFlags(), []cli.Flag{
				&cli.DurationFlag{Name: "older-than", EnvVars: []string{"OPS_OLDER_THAN"}, Value: 2 * time.Minute, Usage: "how long a conversation may run before it counts as stuck"},
				&cli.IntFlag{Name: "limit", EnvVars: []string{"OPS_LIMIT"}, Value: 100, Usage: "most conversations listed"},
			}),
			Action: func(c *cli.Context) error {
				cfg := config(c)
				kr, err := cfg.Keyring()
				if err != nil {
					return err
				}
				tc, err := workers.DialTemporal(c.Context, cfg.TemporalAddress, cfg.TemporalNamespace, cfg.Logger, kr)
				if err != nil {
					return err
				}
				defer tc.Close()
				runs, err := workers.Stuck(c.Context, tc, c.Duration("older-than"), c.Int("limit"))
				if err != nil {
					return err
				}
				if len(runs) == 0 {
					fmt.Printf("no conversation has been running for more than %s\n", c.Duration("older-than"))
					return nil
				}
				tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "WORKFLOW\tRUNNING FOR\tSTEP\tCHARACTER\tRETRYING")
				for _, r := range runs {
					retry := ""
					for _, p := range r.Pending {
						retry += fmt.Sprintf("%s attempt %d %s; ", p.Activity, p.Attempt, p.LastFailure)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.WorkflowID, time.Since(r.Started).Round(time.Second), r.Step, r.Personality, retry)
				}
				return tw.Flush()
			},
		}},
	}
}
