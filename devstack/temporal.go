package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives/timestamp"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"

	"livret/worker"
)

// TemporalConfig shapes the embedded Temporal server.
type TemporalConfig struct {
	// DBFile is the SQLite file holding every namespace, history and visibility record; it is
	// created with its schema when missing, so the history survives a restart.
	DBFile string
	// FrontendAddr is where SDK clients and the Web UI reach the server (gRPC), e.g.
	// "127.0.0.1:7233". A literal IP, not a name: the cluster's metadata records it.
	FrontendAddr string
	// HTTPAddr, when set, serves the frontend's HTTP API (the same calls as gRPC, in JSON) on
	// that address; its host must be FrontendAddr's.
	HTTPAddr string
	// Namespaces are registered before the server starts (idempotent).
	Namespaces []string
	// Retention is how long closed workflows are kept in the namespaces created now (the
	// server's default is a day, which is short for a machine a developer comes back to).
	Retention time.Duration
	// PortsFile, when set, remembers the internal services' ports (history, matching,
	// worker, membership) from one start to the next. The cluster's membership table lists
	// the previous process's services for a while after it stopped, and each service joins
	// them first: at the same addresses they are this process's own and the join is
	// immediate; at addresses now dead it waits for them to time out (measured: ~50 s).
	PortsFile string
	// Logger receives the server's logs; give it a handler at warn level, the server is chatty.
	Logger *slog.Logger
}

// Temporal is a running embedded server.
type Temporal struct {
	srv  temporal.Server
	addr string
	log  serverLogger
}

// StartTemporal creates the SQLite file if needed, registers the namespaces and starts the
// frontend, history, matching and worker services in this process. It returns once the
// services have started; a client should still check the frontend's health before use.
func StartTemporal(cfg TemporalConfig) (*Temporal, error) {
	host, port, err := splitHostPort(cfg.FrontendAddr)
	if err != nil {
		return nil, fmt.Errorf("temporal frontend address %q: %w", cfg.FrontendAddr, err)
	}
	if net.ParseIP(host) == nil {
		return nil, fmt.Errorf("temporal frontend address %q: the host must be an IP address, e.g. 127.0.0.1", cfg.FrontendAddr)
	}
	httpPort := 0
	if cfg.HTTPAddr != "" {
		h, p, err := splitHostPort(cfg.HTTPAddr)
		if err != nil {
			return nil, fmt.Errorf("temporal HTTP address %q: %w", cfg.HTTPAddr, err)
		}
		if h != host {
			return nil, fmt.Errorf("temporal HTTP address %q: the frontend serves HTTP on its own host %s only", cfg.HTTPAddr, host)
		}
		httpPort = p
	}
	// The server reports a port already taken from a goroutine, late; say it now, clearly.
	for _, l := range []struct{ what, addr string }{{"temporal frontend", cfg.FrontendAddr}, {"temporal HTTP API", cfg.HTTPAddr}} {
		if l.addr == "" {
			continue
		}
		if err := portFree(l.addr); err != nil {
			return nil, fmt.Errorf("%s: %w", l.what, err)
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	file, err := filepath.Abs(cfg.DBFile)
	if err != nil {
		return nil, err
	}

	sqlCfg := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: file,
		ConnectAttributes: map[string]string{
			"mode": "rwc",
			// WAL: a crash (or kill -9) loses no committed write; "normal" syncs at
			// checkpoints only, which is what a development machine needs.
			"journal_mode": "wal",
			"synchronous":  "normal",
		},
	}
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		if err := sqlite.SetupSchema(sqlCfg); err != nil {
			_ = os.Remove(file) // a half-made schema would be taken as done next time
			return nil, fmt.Errorf("temporal: creating the SQLite schema in %s: %w", file, err)
		}
	} else if err != nil {
		return nil, err
	}

	const clusterName = "active"
	var namespaces []*sqlite.NamespaceConfig
	for _, ns := range cfg.Namespaces {
		nsCfg, err := sqlite.NewNamespaceConfig(clusterName, ns, false, nil)
		if err != nil {
			return nil, fmt.Errorf("temporal: namespace %s: %w", ns, err)
		}
		if cfg.Retention > 0 {
			nsCfg.Detail.Config.Retention = timestamp.DurationPtr(cfg.Retention)
		}
		namespaces = append(namespaces, nsCfg)
	}
	if err := sqlite.CreateNamespaces(sqlCfg, namespaces...); err != nil {
		return nil, fmt.Errorf("temporal: registering namespaces: %w", err)
	}

	ports, err := internalPorts(cfg.PortsFile, host)
	if err != nil {
		return nil, err
	}
	serverCfg := serverConfig(sqlCfg, host, port, httpPort, ports, clusterName)
	// What the Temporal CLI's dev server sets too: SQLite visibility needs the search
	// attributes cache refreshed on read (new attributes are usable at once), and the UI's
	// list pages need more visibility calls than the default allows.
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key():             true,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key():        100,
		dynamicconfig.FrontendMaxNamespaceVisibilityBurstRatioPerInstance.Key(): 1,
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                        8096,
	}
	slogger := newServerLogger(logger)
	srv, err := temporal.NewServer(
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithConfig(serverCfg),
		temporal.WithLogger(slogger),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal: %w", err)
	}
	if err := srv.Start(); err != nil {
		slogger.gate.open(true)
		return nil, fmt.Errorf("temporal: start: %w", err)
	}
	return &Temporal{srv: srv, addr: net.JoinHostPort(host, strconv.Itoa(port)), log: slogger}, nil
}

// Addr is the frontend's gRPC address.
func (t *Temporal) Addr() string { return t.addr }

// Serving is to be called once the server answers calls that reach every service (see
// WaitServing): its logs, held back since the start, are dropped, and flow from now on.
func (t *Temporal) Serving() { t.log.gate.open(false) }

// StartFailed writes the logs held back since the start: they say why.
func (t *Temporal) StartFailed() { t.log.gate.open(true) }

// Stop stops the services; the SQLite file keeps everything for the next start. The
// server's own logs are silenced first (see logGate).
func (t *Temporal) Stop() error {
	t.log.gate.mute()
	return t.srv.Stop()
}

// serverConfig mirrors the server's own SQLite "lite" configuration (temporaltest's
// internal LiteServer and the CLI's dev server): one history shard, the four services in one
// process on loopback, archival off, one cluster.
func serverConfig(sqlCfg *config.SQL, host string, frontendPort, httpPort int, ports []int, clusterName string) *config.Config {
	frontendAddr := net.JoinHostPort(host, strconv.Itoa(frontendPort))
	service := func(grpcPort, membershipPort int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: grpcPort, MembershipPort: membershipPort, BindOnIP: host}}
	}
	frontend := service(frontendPort, ports[0])
	frontend.RPC.HTTPPort = httpPort

	cfg := &config.Config{}
	cfg.Global.Membership = config.Membership{MaxJoinDuration: 10 * time.Second, BroadcastAddress: host}
	cfg.Persistence = config.Persistence{
		DefaultStore:     sqliteplugin.PluginName,
		VisibilityStore:  sqliteplugin.PluginName,
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: sqlCfg}},
	}
	cfg.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: frontendAddr},
		},
	}
	cfg.DCRedirectionPolicy = config.DCRedirectionPolicy{Policy: "noop"}
	cfg.Services = map[string]config.Service{
		"frontend": frontend,
		"history":  service(ports[1], ports[2]),
		"matching": service(ports[3], ports[4]),
		"worker":   service(ports[5], ports[6]),
	}
	cfg.Archival = config.Archival{
		History:    config.HistoryArchival{State: "disabled"},
		Visibility: config.VisibilityArchival{State: "disabled"},
	}
	cfg.NamespaceDefaults = config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
		History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
		Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
	}}
	// The server's own clients (the worker service's schedulers, for one) dial this.
	cfg.PublicClient = config.PublicClient{HostPort: frontendAddr}
	return cfg
}

// internalPorts are the 7 ports of the services only this process talks to: those of the
// last start when they are still free (see TemporalConfig.PortsFile), else new ones.
func internalPorts(file, host string) ([]int, error) {
	const n = 7
	if file != "" {
		if b, err := os.ReadFile(file); err == nil {
			var ports []int
			if json.Unmarshal(b, &ports) == nil && len(ports) == n && allFree(host, ports) {
				return ports, nil
			}
		}
	}
	ports, err := freePorts(host, n)
	if err != nil {
		return nil, err
	}
	if file != "" {
		b, _ := json.Marshal(ports)
		if err := os.WriteFile(file, b, 0o600); err != nil {
			return nil, err
		}
	}
	return ports, nil
}

func allFree(host string, ports []int) bool {
	for _, p := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			return false
		}
		_ = ln.Close()
	}
	return true
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return host, port, nil
}

// portFree fails with a clear sentence when something already listens on addr.
func portFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s is already in use (another `livret dev` or Temporal server?): stop it or choose another address: %w", addr, err)
	}
	return ln.Close()
}

// freePorts asks the system for n distinct free ports on host. They are released before
// use, so another process could take one in between: unlikely on a developer's machine.
func freePorts(host string, n int) ([]int, error) {
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("temporal: no free port on %s: %w", host, err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// WaitServing waits until the server answers calls that reach every service: worker.WaitServing.
func WaitServing(ctx context.Context, c client.Client, taskQueue string, timeout time.Duration) error {
	return worker.WaitServing(ctx, c, taskQueue, timeout)
}
