package workers

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/store"
)

// HealthReport is what /healthz answers: each dependency and whether it responded.
type HealthReport struct {
	OK       bool              `json:"ok"`
	Checks   map[string]string `json:"checks"`
	Uptime   string            `json:"uptime"`
	Version  string            `json:"version"`
	Checked  time.Time         `json:"checked"`
	started  time.Time
	store    *store.Store
	temporal client.Client
}

// ServeHealth answers GET /healthz on addr until ctx ends: 200 when PostgreSQL and
// Temporal answer, 503 otherwise. Container healthchecks and load balancers use it.
func ServeHealth(ctx context.Context, addr, version string, st *store.Store, tc client.Client) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	started := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		rep := check(r.Context(), st, tc)
		rep.Uptime, rep.Version = time.Since(started).Round(time.Second).String(), version
		w.Header().Set("Content-Type", "application/json")
		if !rep.OK {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(rep)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener is gone; nothing else to do
		}
	}()
	return nil
}

func check(ctx context.Context, st *store.Store, tc client.Client) HealthReport {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	rep := HealthReport{OK: true, Checks: map[string]string{}, Checked: time.Now().UTC()}
	set := func(name string, err error) {
		if err != nil {
			rep.OK = false
			rep.Checks[name] = err.Error()
			return
		}
		rep.Checks[name] = "ok"
	}
	set("database", st.Ping(ctx))
	_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
	set("temporal", err)
	return rep
}
