// Command tzurot is the one binary of Tzurot: `dev` runs everything in one process,
// `bot` and `worker` are the production split, `migrate` and `personality` manage data.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // time zones work in minimal containers with no /usr/share/zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "tzurot:", err)
		stop()
		os.Exit(1)
	}
}
