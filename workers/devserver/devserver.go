// Package devserver embeds a Temporal server (SQLite persistence, pure Go) and the
// Temporal Web UI in the current process, the way the Temporal CLI's dev server does.
// It backs `tzurot dev` and the integration tests, so that one command runs everything
// on a machine with nothing installed.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// Options configure an embedded server. Zero ports are chosen free on IP.
type Options struct {
	// IP is the address every service binds to (default 127.0.0.1).
	IP string
	// FrontendPort is the gRPC port clients and workers connect to.
	FrontendPort int
	// UIPort is the Temporal Web UI's HTTP port; negative disables the UI.
	UIPort int
	// DatabaseFile persists state in SQLite; empty keeps everything in memory.
	DatabaseFile string
	// Namespace is created on start if missing.
	Namespace string
	// SearchAttributes are registered on the namespace (custom, keyword etc.).
	SearchAttributes map[string]enumspb.IndexedValueType
	// CodecEndpoint is handed to the UI so operators can decode encrypted payloads.
	CodecEndpoint string
	// Logger receives the server's own log lines (at LogLevel and above).
	Logger   *slog.Logger
	LogLevel slog.Level
}

// Server is a running embedded Temporal server (and UI).
type Server struct {
	server       temporal.Server
	ui           *uiserver.Server
	FrontendAddr string // host:port for SDK clients
	UIAddr       string // host:port of the Web UI, empty when disabled
	Namespace    string
}

// Tuning holds the dynamic config that takes a small workflow from ~200 ms to ~50 ms on a
// single host: the defaults are built for clusters with many partitions and pollers.
func Tuning() map[string]any {
	return map[string]any{
		dynamicconfig.TransferProcessorMaxPollRPS.Key().String():                  1000,
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key().String():           1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key().String():          1,
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key().String():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key().String(): 100,
		// Visibility must see new search attributes at once (tests and fresh installs).
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key().String(): true,
	}
}

// Start builds and starts the server; it returns once the frontend accepts connections.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
		o.LogLevel = slog.LevelError + 4
	}
	var err error
	if o.FrontendPort == 0 {
		if o.FrontendPort, err = freePort(o.IP); err != nil {
			return nil, err
		}
	}
	httpPort, err := freePort(o.IP)
	if err != nil {
		return nil, err
	}
	conf, err := o.serverConfig(httpPort)
	if err != nil {
		return nil, err
	}
	logger := slogLogger{log: o.Logger, level: o.LogLevel}
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("temporal claim mapper: %w", err)
	}
	dyn := dynamicconfig.StaticClient{}
	for k, v := range Tuning() {
		dyn[dynamicconfig.MakeKey(k)] = v
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, svc := range []primitives.ServiceName{primitives.FrontendService, primitives.HistoryService, primitives.MatchingService, primitives.WorkerService} {
		hosts[svc] = static.SingleLocalHost(net.JoinHostPort(o.IP, strconv.Itoa(conf.Services[string(svc)].RPC.GRPCPort)))
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("temporal server start: %w", err)
	}
	s := &Server{server: srv, FrontendAddr: net.JoinHostPort(o.IP, strconv.Itoa(o.FrontendPort)), Namespace: o.Namespace}
	if o.UIPort >= 0 {
		if o.UIPort == 0 {
			if o.UIPort, err = freePort(o.IP); err != nil {
				s.Stop()
				return nil, err
			}
		}
		s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
			Host:                o.IP,
			Port:                o.UIPort,
			TemporalGRPCAddress: s.FrontendAddr,
			EnableUI:            true,
			DefaultNamespace:    o.Namespace,
			Codec:               uiconfig.Codec{Endpoint: o.CodecEndpoint},
			CORS:                uiconfig.CORS{CookieInsecure: true},
			HideLogs:            true,
			DisableNewsFetch:    true, // no outbound network
		}))
		s.UIAddr = net.JoinHostPort(o.IP, strconv.Itoa(o.UIPort))
		go func() {
			// Start blocks until Stop; an error here means the port was taken.
			if err := s.ui.Start(); err != nil && !errors.Is(err, net.ErrClosed) {
				o.Logger.Error("temporal ui stopped", "err", err)
			}
		}()
	}
	if err := waitDial(ctx, s.FrontendAddr, 30*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop shuts the UI and the server down.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	_ = s.server.Stop()
}

func (o Options) serverConfig(httpPort int) (*config.Config, error) {
	const clusterName = "active"
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = o.IP
	conf.Persistence.DefaultStore = "sqlite-default"
	conf.Persistence.VisibilityStore = "sqlite-default"
	conf.Persistence.NumHistoryShards = 1
	sqlConf, err := o.sqlConfig(clusterName)
	if err != nil {
		return nil, err
	}
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}}
	frontend := net.JoinHostPort(o.IP, strconv.Itoa(o.FrontendPort))
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
			Enabled:                true,
			InitialFailoverVersion: 1,
			RPCAddress:             frontend,
			HTTPAddress:            net.JoinHostPort(o.IP, strconv.Itoa(httpPort)),
			ClusterID:              "0b4a4f53-7d3c-4c36-9a5e-2f1e9c7d0a11", // fixed: one dev cluster per data dir
		}},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, name := range []string{"frontend", "history", "matching", "worker"} {
		var svc config.Service
		svc.RPC.BindOnIP = o.IP
		if name == "frontend" {
			svc.RPC.GRPCPort = o.FrontendPort
			svc.RPC.HTTPPort = httpPort
		} else if svc.RPC.GRPCPort, err = freePort(o.IP); err != nil {
			return nil, err
		}
		conf.Services[name] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontend
	return &conf, nil
}

func (o Options) sqlConfig(clusterName string) (*config.SQL, error) {
	conf := config.SQL{PluginName: sqliteplugin.PluginName}
	if o.DatabaseFile == "" {
		conf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		conf.DatabaseName = fmt.Sprintf("tzurot-%d", time.Now().UnixNano())
	} else {
		// WAL and synchronous=normal: pragma names without a leading underscore, or the
		// driver silently ignores them.
		conf.ConnectAttributes = map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal"}
		conf.DatabaseName = o.DatabaseFile
		if _, err := os.Stat(o.DatabaseFile); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(o.DatabaseFile), 0o755); err != nil {
				return nil, fmt.Errorf("temporal data directory: %w", err)
			}
			if err := sqliteschema.SetupSchema(&conf); err != nil {
				return nil, fmt.Errorf("temporal sqlite schema: %w", err)
			}
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, o.Namespace, false, o.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("temporal namespace config: %w", err)
	}
	if err := sqliteschema.CreateNamespaces(&conf, ns); err != nil {
		return nil, fmt.Errorf("temporal namespace: %w", err)
	}
	return &conf, nil
}

func freePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitDial(ctx context.Context, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("temporal frontend %s did not come up: %w", addr, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
