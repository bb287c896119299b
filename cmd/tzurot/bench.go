package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/tzurot/tzurot/workers/bench"
)

// benchCommand is `tzurot bench`: the performance harness. It needs PostgreSQL (it makes
// and drops its own databases) and nothing else; results go to stdout as tables.
func benchCommand() *cli.Command {
	d := bench.Defaults(os.Stdout)
	return &cli.Command{
		Name:  "bench",
		Usage: "measure the durable pipeline against an in-process baseline, and its throughput",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "latency-runs", EnvVars: []string{"BENCH_LATENCY_RUNS"}, Value: d.LatencyRuns, Usage: "sequential mentions per latency variant"},
			&cli.IntFlag{Name: "burst", EnvVars: []string{"BENCH_BURST"}, Value: d.Burst, Usage: "simultaneous mentions in the throughput run"},
			&cli.DurationFlag{Name: "burst-delay", EnvVars: []string{"BENCH_BURST_DELAY"}, Value: d.BurstDelay, Usage: "LLM stub latency during the burst"},
			&cli.Float64SliceFlag{Name: "rates", EnvVars: []string{"BENCH_RATES"}, Value: cli.NewFloat64Slice(d.RateSteps...), Usage: "mentions per second tried in the sustained run"},
			&cli.DurationFlag{Name: "rate-for", EnvVars: []string{"BENCH_RATE_FOR"}, Value: d.RateFor, Usage: "length of each sustained step"},
			&cli.StringFlag{Name: "test-database-url", EnvVars: []string{"TZUROT_TEST_DATABASE_URL"}, Value: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", Usage: "server the benchmark makes its databases on"},
		},
		Action: func(c *cli.Context) error {
			os.Setenv("TZUROT_TEST_DATABASE_URL", c.String("test-database-url"))
			return bench.Run(c.Context, bench.Options{
				LatencyRuns: c.Int("latency-runs"), Burst: c.Int("burst"), BurstDelay: c.Duration("burst-delay"),
				RateSteps: c.Float64Slice("rates"), RateFor: c.Duration("rate-for"), Out: os.Stdout,
			})
		},
	}
}
