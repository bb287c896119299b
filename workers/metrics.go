package workers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Metrics is one Prometheus registry per process: the Temporal SDK's own metrics
// (workflow and activity counts and latencies per activity type: the step latency
// histograms) through tally, and Tzurot's counters beside them.
type Metrics struct {
	Registry *prometheus.Registry
	// MentionsStarted counts conversations the gateway started (or found already running).
	MentionsStarted *prometheus.CounterVec
	// TokenCount counts LLM tokens by direction and whether the free tier paid.
	TokenCount *prometheus.CounterVec
	// Errors counts failed steps by kind (LLMAuth, llm_server, DiscordRejected...).
	Errors *prometheus.CounterVec
	// RateLimited counts messages dropped by the per-user or per-channel limits.
	RateLimited *prometheus.CounterVec

	sdk   client.MetricsHandler
	close func()
}

// NewMetrics builds the registry and the SDK handler that reports into it.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		MentionsStarted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tzurot_mentions_started_total", Help: "Conversations started by the gateway, by outcome (started, duplicate, dropped).",
		}, []string{"outcome"}),
		TokenCount: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tzurot_llm_tokens_total", Help: "LLM tokens by direction (in, out) and payer (user, guest).",
		}, []string{"direction", "payer"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tzurot_step_errors_total", Help: "Failed conversation steps by step and error kind.",
		}, []string{"step", "kind"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tzurot_rate_limited_total", Help: "Messages not answered because of a rate limit, by scope (user, channel).",
		}, []string{"scope"}),
	}
	reg.MustRegister(m.MentionsStarted, m.TokenCount, m.Errors, m.RateLimited)
	reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: reg, OnRegisterError: func(error) {}})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter: reporter, Separator: tallyprom.DefaultSeparator, SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	m.sdk = sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope))
	m.close = func() { _ = closer.Close() }
	return m
}

// TemporalHandler is what client.Options.MetricsHandler takes.
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	if m == nil {
		return nil
	}
	return m.sdk
}

// Serve answers GET /metrics on addr until ctx ends ("" = off).
func (m *Metrics) Serve(ctx context.Context, addr string) error {
	if m == nil || addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
		m.close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err
		}
	}()
	return nil
}

// Tokens implements activities.Meter.
func (m *Metrics) Tokens(direction string, guest bool, n int) {
	payer := "user"
	if guest {
		payer = "guest"
	}
	m.TokenCount.WithLabelValues(direction, payer).Add(float64(n))
}

// StepError implements activities.Meter.
func (m *Metrics) StepError(step, kind string) { m.Errors.WithLabelValues(step, kind).Inc() }

// MentionStarted counts what the gateway did with a message.
func (m *Metrics) MentionStarted(outcome string) { m.MentionsStarted.WithLabelValues(outcome).Inc() }
