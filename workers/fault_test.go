package workers_test

import (
	"context"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/store/keyring"
	"github.com/tzurot/tzurot/workers"
	"github.com/tzurot/tzurot/workers/devserver"
	"github.com/tzurot/tzurot/workers/systemtest"
)

// Environment of a worker child process (see TestFaultWorkerProcess).
const (
	envFaultWorker = "TZUROT_FAULT_WORKER"
	envTemporal    = "TZUROT_FAULT_TEMPORAL"
	envDatabase    = "TZUROT_FAULT_DATABASE"
	envSimulator   = "TZUROT_FAULT_SIMULATOR"
	envStub        = "TZUROT_FAULT_STUB"
)

// TestFaultWorkerProcess is not a test: it is the body of a worker child process that
// TestWorkerKilledMidStreamLosesAndDoublesNothing starts and SIGKILLs.
func TestFaultWorkerProcess(t *testing.T) {
	if os.Getenv(envFaultWorker) == "" {
		t.Skip("runs only as a fault test's child process")
	}
	ctx := context.Background()
	kr, err := keyring.FromEnv(systemtest.MasterKey, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, os.Getenv(envDatabase))
	if err != nil {
		t.Fatal(err)
	}
	st.WithKeyring(kr)
	tc, err := workers.DialTemporal(ctx, os.Getenv(envTemporal), "default", nil, kr)
	if err != nil {
		t.Fatal(err)
	}
	simHTTP := discordtest.ClientFor(os.Getenv(envSimulator))
	session, botID, err := workers.DiscordSession(ctx, systemtest.BotToken, simHTTP)
	if err != nil {
		t.Fatal(err)
	}
	cfg := activities.DefaultConfig()
	cfg.Model, cfg.MaxReplyTokens = "stub-model", 4096
	keys := &activities.UserKeys{Keys: st.APIKeys, Usage: st.Usage, Provider: "openrouter",
		System: activities.SystemKey{Provider: "openrouter", APIKey: systemtest.APIKey}}
	if _, err := workers.StartWorker(workers.Services{Store: st, Temporal: tc, Session: session, BotUserID: botID,
		LLM: llm.New(llm.Config{BaseURL: os.Getenv(envStub)}), Keys: keys, Config: cfg, HTTP: simHTTP}); err != nil {
		t.Fatal(err)
	}
	fmt.Println("worker ready")
	select {} // until killed
}

// workerProcess runs TestFaultWorkerProcess as a child of this test binary.
type workerProcess struct {
	t   *testing.T
	run string // the -test.run pattern of the child; default the worker body
	env []string
	mu  sync.Mutex
	cmd *exec.Cmd
}

func (w *workerProcess) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	run := w.run
	if run == "" {
		run = "^TestFaultWorkerProcess$"
	}
	cmd := exec.Command(os.Args[0], "-test.run="+run)
	cmd.Env = append(os.Environ(), w.env...)
	if err := cmd.Start(); err != nil {
		w.t.Fatalf("start worker: %v", err)
	}
	w.cmd = cmd
}

func (w *workerProcess) kill() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd != nil {
		_ = w.cmd.Process.Signal(syscall.SIGKILL)
		_ = w.cmd.Wait()
		w.cmd = nil
	}
}

// Killing the worker (SIGKILL) at random points during a stream of mentions, mid
// generation and between chunks, and starting a new one, gives every mention exactly one
// reply: none lost, none doubled.
func TestWorkerKilledMidStreamLosesAndDoublesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sys, err := systemtest.Start(ctx, systemtest.Options{Name: "fault", NoWorker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Stop()
	if _, err := sys.DB.Store.Personalities.Upsert(ctx, store.Personality{Slug: "lilith", Name: "Lilith", IsPublic: true}); err != nil {
		t.Fatal(err)
	}
	// Replies of three ~1800-character paragraphs, each marked, so delivery has chunks to
	// die between; generation takes 400 ms, so kills land mid-call too.
	sys.Stub.SetLatency(400 * time.Millisecond)
	sys.Stub.SetReply(func(r llmtest.ChatRequest) string {
		last := r.Messages[len(r.Messages)-1].Content
		token := last[strings.Index(last, "token-"):]
		token = strings.Fields(token)[0]
		var b strings.Builder
		for p := 0; p < 3; p++ {
			fmt.Fprintf(&b, "[%s-part%d] %s\n\n", token, p, strings.Repeat("words of the reply ", 95))
		}
		return b.String()
	})
	w := &workerProcess{t: t, env: []string{
		envFaultWorker + "=1",
		envTemporal + "=" + sys.Temporal.FrontendAddr,
		envDatabase + "=" + sys.DB.URL,
		envSimulator + "=" + sys.Sim.Addr(),
		envStub + "=" + sys.Stub.URL(),
	}}
	w.start()
	defer w.kill()

	const mentions = 10
	ch := sys.Sim.AddChannel(sys.Guild.ID, "faults")
	seed := time.Now().UnixNano()
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewSource(seed))         // the sender's
	killRng := rand.New(rand.NewSource(seed + 1)) // the killer's: rand.Rand is not safe for two goroutines
	stopKilling := make(chan struct{})
	kills := 0
	var killer sync.WaitGroup
	killer.Add(1)
	go func() {
		defer killer.Done()
		for {
			select {
			case <-stopKilling:
				return
			case <-time.After(time.Duration(300+killRng.Intn(1200)) * time.Millisecond):
			}
			w.kill()
			kills++
			w.start()
		}
	}()
	var ids []string
	for i := 0; i < mentions; i++ {
		m := sys.Sim.Say(ch.ID, sys.User.ID, fmt.Sprintf("@Lilith token-%d please answer", i))
		ids = append(ids, m.ID)
		time.Sleep(time.Duration(200+rng.Intn(400)) * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	close(stopKilling)
	killer.Wait()
	t.Logf("killed the worker %d times", kills)

	for _, id := range ids {
		res, err := sys.WaitConversation(ctx, id)
		if err != nil {
			t.Fatalf("after the kills: %v", err)
		}
		for _, r := range res.Replies {
			if r.Failed {
				t.Errorf("%s: %s failed: %s", id, r.Slug, r.Reason)
			}
		}
	}
	counts := map[string]int{}
	for _, p := range sys.Sim.WebhookPosts() {
		for i := 0; i < mentions; i++ {
			for part := 0; part < 3; part++ {
				if strings.Contains(p.Content, fmt.Sprintf("[token-%d-part%d]", i, part)) {
					counts[fmt.Sprintf("%d/%d", i, part)]++
				}
			}
		}
	}
	for i := 0; i < mentions; i++ {
		for part := 0; part < 3; part++ {
			if n := counts[fmt.Sprintf("%d/%d", i, part)]; n != 1 {
				t.Errorf("mention %d, paragraph %d delivered %d times, want exactly once", i, part, n)
			}
		}
	}
}

// With Discord answering 429 to 30 % of REST calls, every reply still arrives, once and
// in order within its channel: discordgo waits out each Retry-After per route, and
// Temporal retries whatever still fails.
func TestDiscordRateLimitsOnThirtyPercentOfCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sys, err := systemtest.Start(ctx, systemtest.Options{Name: "ratelimit"})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Stop()
	if _, err := sys.DB.Store.Personalities.Upsert(ctx, store.Personality{Slug: "lilith", Name: "Lilith", IsPublic: true}); err != nil {
		t.Fatal(err)
	}
	ch := sys.Sim.AddChannel(sys.Guild.ID, "throttled")
	sys.Sim.SetRateLimitRatio(0.3, 20*time.Millisecond, 42)
	const mentions = 12
	var ids []string
	for i := 0; i < mentions; i++ {
		m := sys.Sim.Say(ch.ID, sys.User.ID, fmt.Sprintf("@Lilith order-%02d.", i))
		ids = append(ids, m.ID)
		if _, err := sys.WaitConversation(ctx, m.ID); err != nil { // one at a time: order is per message
			t.Fatal(err)
		}
	}
	sys.Sim.SetRateLimitRatio(0, 0, 0)
	var got []string
	for _, p := range sys.Sim.WebhookPosts() {
		if p.ChannelID == ch.ID {
			got = append(got, p.Content)
		}
	}
	if len(got) != mentions {
		t.Fatalf("%d replies for %d mentions", len(got), mentions)
	}
	for i, c := range got {
		if !strings.Contains(c, fmt.Sprintf("order-%02d.", i)) {
			t.Errorf("reply %d out of order: %.80q", i, c)
		}
	}
	limited := 0
	for _, r := range sys.Sim.Requests() {
		if r.Status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("the simulator never answered 429; the test proves nothing")
	}
	t.Logf("%d REST calls were rate limited", limited)
}

const (
	envFaultTemporal = "TZUROT_FAULT_TEMPORAL_SERVER"
	envTemporalPort  = "TZUROT_FAULT_TEMPORAL_PORT"
	envTemporalFile  = "TZUROT_FAULT_TEMPORAL_FILE"
)

// TestFaultTemporalProcess is not a test: it is the body of a Temporal server child
// process (SQLite file, fixed port) that TestTemporalServerKilledMidStream SIGKILLs.
func TestFaultTemporalProcess(t *testing.T) {
	if os.Getenv(envFaultTemporal) == "" {
		t.Skip("runs only as a fault test's child process")
	}
	port, err := strconv.Atoi(os.Getenv(envTemporalPort))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := devserver.Start(context.Background(), devserver.Options{FrontendPort: port, UIPort: -1,
		DatabaseFile: os.Getenv(envTemporalFile), SearchAttributes: workers.SearchAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	select {} // until killed
}

// Killing the Temporal server (SIGKILL) while mentions stream in, and starting it again
// on the same SQLite file: every mention still gets exactly one reply. The gateway keeps
// retrying workflow starts, workers reconnect and histories resume from disk.
func TestTemporalServerKilledMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	server := &workerProcess{t: t, run: "^TestFaultTemporalProcess$", env: []string{
		envFaultTemporal + "=1", envTemporalPort + "=" + strconv.Itoa(port),
		envTemporalFile + "=" + filepath.Join(t.TempDir(), "temporal.db"),
	}}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	server.start()
	defer server.kill()
	waitPort(t, addr)
	sys, err := systemtest.Start(ctx, systemtest.Options{Name: "faulttemporal", TemporalAddress: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Stop()
	streamThroughFault(ctx, t, sys, "survive", func() {
		server.kill() // mid-stream: some workflows running, one message arriving
		time.Sleep(time.Second)
		server.start()
		waitPort(t, addr)
	})
}

// streamThroughFault sends six mentions a quarter second apart, runs fault after the
// third, and checks that every mention got exactly one reply once things recover.
func streamThroughFault(ctx context.Context, t *testing.T, sys *systemtest.System, token string, fault func()) {
	t.Helper()
	if _, err := sys.DB.Store.Personalities.Upsert(ctx, store.Personality{Slug: "lilith", Name: "Lilith", IsPublic: true}); err != nil {
		t.Fatal(err)
	}
	sys.Stub.SetLatency(300 * time.Millisecond)
	ch := sys.Sim.AddChannel(sys.Guild.ID, token+"-faults")
	const mentions = 6
	var ids []string
	for i := 0; i < mentions; i++ {
		m := sys.Sim.Say(ch.ID, sys.User.ID, fmt.Sprintf("@Lilith %s-%d.", token, i))
		ids = append(ids, m.ID)
		time.Sleep(250 * time.Millisecond)
		if i == 2 {
			fault()
		}
	}
	for _, id := range ids {
		if _, err := sys.WaitConversation(ctx, id); err != nil {
			t.Fatalf("after the fault: %v", err)
		}
	}
	for i := 0; i < mentions; i++ {
		n := 0
		for _, p := range sys.Sim.WebhookPosts() {
			if strings.Contains(p.Content, fmt.Sprintf("%s-%d.", token, i)) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("mention %d got %d replies, want exactly 1", i, n)
		}
	}
}

func waitPort(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never came up", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
