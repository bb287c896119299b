// Package bench is Tzurot's performance harness (`tzurot bench`): it runs the real
// system in one process (systemtest) and measures what the durable pipeline costs
// against an in-process baseline doing the same database and HTTP work without Temporal,
// and how many mentions it carries. Results are printed as tables for
// docs/PERFORMANCE.md; nothing here asserts a time.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/workers/systemtest"
)

// Options choose what to run.
type Options struct {
	LatencyRuns int           // sequential mentions per latency variant
	Burst       int           // simultaneous mentions in the throughput run
	BurstDelay  time.Duration // stub latency during the burst
	RateSteps   []float64     // mentions per second tried in the sustained-rate run
	RateFor     time.Duration // how long each rate step lasts
	Out         io.Writer
}

// Defaults are the runs docs/PERFORMANCE.md quotes.
func Defaults(out io.Writer) Options {
	return Options{LatencyRuns: 200, Burst: 200, BurstDelay: 2 * time.Second,
		RateSteps: []float64{5, 10, 20, 40}, RateFor: 5 * time.Second, Out: out}
}

// Run executes every scenario and prints the tables.
func Run(ctx context.Context, o Options) error {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var durable, eager, baseline []time.Duration
	var err error
	if durable, err = latency(ctx, o, logger, variantDurable); err != nil {
		return err
	}
	if eager, err = latency(ctx, o, logger, variantEager); err != nil {
		return err
	}
	if baseline, err = latency(ctx, o, logger, variantBaseline); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "\n## Mention to webhook, LLM stub at 0 ms (%d sequential mentions each)\n\n", o.LatencyRuns)
	fmt.Fprintln(o.Out, "| variant | p50 | p95 | p99 | p50 − baseline | p99 − baseline |")
	fmt.Fprintln(o.Out, "|---|---|---|---|---|---|")
	b := summarize(baseline)
	for _, v := range []struct {
		name string
		d    []time.Duration
	}{{"in-process baseline (no Temporal)", baseline}, {"durable (default)", durable}, {"durable + eager start", eager}} {
		s := summarize(v.d)
		fmt.Fprintf(o.Out, "| %s | %s | %s | %s | %s | %s |\n", v.name, ms(s.p50), ms(s.p95), ms(s.p99), ms(s.p50-b.p50), ms(s.p99-b.p99))
	}
	if err := throughput(ctx, o, logger); err != nil {
		return err
	}
	return sustained(ctx, o, logger)
}

type variant int

const (
	variantDurable variant = iota
	variantEager
	variantBaseline
)

// latency measures mention → webhook post for sequential mentions, timed by the
// simulator's own clock at both ends (message created, webhook message stored).
func latency(ctx context.Context, o Options, logger *slog.Logger, v variant) ([]time.Duration, error) {
	var sysRef *systemtest.System
	opts := systemtest.Options{Name: "bench", Logger: logger, EagerStart: v == variantEager}
	if v == variantBaseline {
		opts.Dispatch = func(ctx context.Context, snap activities.MessageSnapshot) { inline(ctx, sysRef, snap) }
	}
	sys, err := systemtest.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer sys.Stop()
	sysRef = sys
	if err := seed(ctx, sys); err != nil {
		return nil, err
	}
	ch := sys.Sim.AddChannel(sys.Guild.ID, "latency")
	var out []time.Duration
	for i := 0; i < o.LatencyRuns+5; i++ {
		msg := sys.Sim.Say(ch.ID, sys.User.ID, fmt.Sprintf("@Lilith message %d", i))
		posts, err := sys.Sim.WaitForWebhookPosts(ctx, i+1)
		if err != nil {
			return nil, err
		}
		if i >= 5 { // the first few warm caches (webhook creation, prepared statements)
			out = append(out, posts[i].At.Sub(msg.Timestamp))
		}
		if v != variantBaseline {
			// Wait for RecordTurn too, so runs do not overlap.
			if _, err := sys.WaitConversation(ctx, msg.ID); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// inline is the baseline: the same activities in the same order, called directly in the
// gateway's goroutine instead of through Temporal (they run outside an activity context
// too: heartbeats are skipped there).
func inline(ctx context.Context, sys *systemtest.System, snap activities.MessageSnapshot) {
	acts := systemtestActivities(sys)
	wfID := "inline-" + snap.ID
	res, err := acts.ResolvePersonalities(ctx, activities.ResolvePersonalitiesInput{Message: snap})
	if err != nil {
		return
	}
	for _, p := range res.Personalities {
		key, err := acts.ResolveKey(ctx, activities.ResolveKeyInput{UserID: res.User.ID, PersonalityID: p.ID})
		if err != nil {
			return
		}
		if _, err := acts.FetchContext(ctx, activities.FetchContextInput{WorkflowID: wfID, Message: snap, Personality: p, User: res.User, Guest: key.Guest}); err != nil {
			return
		}
		mems, _ := acts.RetrieveMemories(ctx, activities.RetrieveMemoriesInput{Query: snap.Content, PersonaID: res.User.PersonaID, PersonalityID: p.ID, UserID: res.User.ID, Guest: key.Guest})
		reply, err := acts.CallLLM(ctx, activities.CallLLMInput{WorkflowID: wfID, Message: snap, Personality: p, User: res.User, Key: key, MemoryIDs: mems.MemoryIDs})
		if err != nil {
			return
		}
		delivered, err := acts.DeliverReply(ctx, activities.DeliverReplyInput{WorkflowID: wfID, Message: snap, Personality: p, Text: reply.Text, Footer: reply.Footer})
		if err != nil {
			return
		}
		_, _ = acts.RecordTurn(ctx, activities.RecordTurnInput{WorkflowID: wfID, Message: snap, Personality: p, User: res.User, Key: key, Reply: reply, MessageIDs: delivered.MessageIDs})
	}
}

var actsOnce sync.Map // *systemtest.System -> *activities.Activities

func systemtestActivities(sys *systemtest.System) *activities.Activities {
	if a, ok := actsOnce.Load(sys); ok {
		return a.(*activities.Activities)
	}
	a, _ := actsOnce.LoadOrStore(sys, newActivities(sys))
	return a.(*activities.Activities)
}

// throughput: Burst simultaneous mentions while every generation takes BurstDelay.
func throughput(ctx context.Context, o Options, logger *slog.Logger) error {
	sys, err := systemtest.Start(ctx, systemtest.Options{Name: "bench", Logger: logger})
	if err != nil {
		return err
	}
	defer sys.Stop()
	if err := seed(ctx, sys); err != nil {
		return err
	}
	sys.Stub.SetLatency(o.BurstDelay)
	chans := make([]string, 20)
	for i := range chans {
		chans[i] = sys.Sim.AddChannel(sys.Guild.ID, fmt.Sprintf("burst-%d", i)).ID
	}
	start := time.Now()
	for i := 0; i < o.Burst; i++ {
		sys.Sim.Say(chans[i%len(chans)], sys.User.ID, fmt.Sprintf("@Lilith burst %d", i))
	}
	posts, err := sys.Sim.WaitForWebhookPosts(ctx, o.Burst)
	if err != nil {
		return err
	}
	last := posts[len(posts)-1].At.Sub(start)
	fmt.Fprintf(o.Out, "\n## Burst: %d simultaneous mentions, LLM stub at %s\n\n", o.Burst, o.BurstDelay)
	fmt.Fprintf(o.Out, "| mentions | stub latency | time to last reply | overhead over one generation |\n|---|---|---|---|\n")
	fmt.Fprintf(o.Out, "| %d | %s | %s | %s |\n", o.Burst, o.BurstDelay, last.Round(time.Millisecond), (last - o.BurstDelay).Round(time.Millisecond))
	return nil
}

// sustained: mentions arriving at a steady rate; the latency at each rate shows where
// the embedded server stops keeping up.
func sustained(ctx context.Context, o Options, logger *slog.Logger) error {
	sys, err := systemtest.Start(ctx, systemtest.Options{Name: "bench", Logger: logger})
	if err != nil {
		return err
	}
	defer sys.Stop()
	if err := seed(ctx, sys); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "\n## Sustained rate (each step %s, LLM stub at 0 ms)\n\n", o.RateFor)
	fmt.Fprintln(o.Out, "| offered mentions/s | delivered | p50 | p95 | p99 |")
	fmt.Fprintln(o.Out, "|---|---|---|---|---|")
	total := 0
	for _, rate := range o.RateSteps {
		ch := sys.Sim.AddChannel(sys.Guild.ID, fmt.Sprintf("rate-%v", rate))
		n := int(rate * o.RateFor.Seconds())
		sent := map[string]time.Time{} // unique text -> when it was said
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		for i := 0; i < n; i++ {
			<-tick.C
			text := fmt.Sprintf("rate-%v-msg-%d.", rate, i)
			m := sys.Sim.Say(ch.ID, sys.User.ID, "@Lilith "+text)
			sent[text] = m.Timestamp
		}
		tick.Stop()
		total += n
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		posts, err := sys.Sim.WaitForWebhookPosts(wctx, total)
		cancel()
		if err != nil {
			fmt.Fprintf(o.Out, "| %.0f | fewer than %d within 2 min | | | |\n", rate, n)
			break
		}
		var ds []time.Duration
		for _, p := range posts[total-n:] {
			if t, ok := trigger(sent, p.Content); ok {
				ds = append(ds, p.At.Sub(t))
			}
		}
		s := summarize(ds)
		fmt.Fprintf(o.Out, "| %.0f | %d | %s | %s | %s |\n", rate, n, ms(s.p50), ms(s.p95), ms(s.p99))
	}
	return nil
}

// trigger finds the message a reply answers: the stub echoes the user's words, and each
// benchmark message carries a unique token.
func trigger(sent map[string]time.Time, reply string) (time.Time, bool) {
	for text, t := range sent {
		if strings.Contains(reply, text) {
			return t, true
		}
	}
	return time.Time{}, false
}

func seed(ctx context.Context, sys *systemtest.System) error {
	_, err := sys.DB.Store.Personalities.Upsert(ctx, store.Personality{Slug: "lilith", Name: "Lilith", IsPublic: true,
		CharacterInfo: "A demon of the night who collects secrets."})
	return err
}

type summary struct{ p50, p95, p99 time.Duration }

func summarize(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return summary{q(0.50), q(0.95), q(0.99)}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
