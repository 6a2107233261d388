package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"livret/db"
	"livret/dsr"
	"livret/prodstack"
	"livret/sandbox"
	"livret/worker"
)

// stack is the real thing, in this process: a fresh PostgreSQL database, the sandbox over
// loopback HTTP, an embedded Temporal server and a Livret worker.
type stack struct {
	pool       *pgxpool.Pool
	dbName     string
	adminURL   string
	sandboxURL string
	sandboxSrv *http.Server
	control    *sandbox.Control
	temporal   *temporaltest.TestServer
	client     client.Client
	// temporalAddr and namespace are the Temporal frontend and namespace the workers use.
	temporalAddr, namespace string
	// prod is the production-shaped stack (newProdStack): Temporal on PostgreSQL, the
	// sandbox and the worker are its processes, the database its own.
	prod    *prodstack.Stack
	tokens  *db.TokenStore
	dsrCfg  dsr.Config
	workers []sdkworker.Worker
	// keySpec is the token key (LIVRET_TOKEN_KEY) a worker process is given.
	keySpec string
	// procs are the `livret worker` processes started by startWorkerProcess.
	procs []*workerProcess
}

const (
	benchClientID     = "livret-bench"
	benchClientSecret = "livret-bench-secret"
	benchRedirect     = "http://127.0.0.1:1/v1/oauth/callback"
)

// newStack builds the stack; dbConns sizes its PostgreSQL pool (0: 40).
func newStack(ctx context.Context, adminURL string, dbConns int) (*stack, error) {
	s := &stack{adminURL: adminURL, dbName: fmt.Sprintf("livret_bench_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)}
	// A fresh database, created by EnsureDatabase and dropped by close.
	u := replaceDB(adminURL, s.dbName)
	if err := db.EnsureDatabase(ctx, u); err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, u); err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		return nil, err
	}
	pcfg.MaxConns = 40
	if dbConns > 0 {
		pcfg.MaxConns = int32(dbConns)
	}
	s.pool, err = pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, err
	}
	s.keySpec = db.NewKeySpec("bench")
	sealer, err := db.ParseSealer(s.keySpec)
	if err != nil {
		return nil, err
	}
	s.tokens = &db.TokenStore{Pool: s.pool, Sealer: sealer}

	sb := sandbox.New(sandbox.Options{Logger: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.sandboxURL = "http://" + ln.Addr().String()
	s.sandboxSrv = &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.sandboxSrv.Serve(ln) }()
	s.control = sandbox.NewControl(s.sandboxURL, "")
	if err := s.control.AddClient(ctx, sandbox.Client{ClientID: benchClientID, ClientSecret: benchClientSecret,
		RedirectURIs: []string{benchRedirect}}); err != nil {
		return nil, err
	}
	s.dsrCfg = dsr.Config{BaseURL: s.sandboxURL, ClientID: benchClientID, ClientSecret: benchClientSecret,
		RedirectURL: benchRedirect, Logger: slog.New(slog.DiscardHandler),
		HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}

	s.temporal = temporaltest.NewServer()
	s.client = s.temporal.GetDefaultClient()
	s.temporalAddr, s.namespace = s.temporal.GetFrontendHostPort(), s.temporal.GetDefaultNamespace()
	if err := worker.RegisterSearchAttributes(ctx, s.client, s.namespace); err != nil {
		return nil, err
	}
	return s, nil
}

// newProdStack is the stack in the shape of a deployment (prodstack, docs/architecture.md
// "Running it"): the Temporal server built from the server module, on PostgreSQL, prepared
// by livret-temporal-setup; the sandbox, `livret migrate` and one `livret worker` (held:
// startProdWorker starts it) as processes of the -tags nodev binary, with no rate limit.
// The benchmark seeds and measures through the stack's own database and sandbox.
func newProdStack(ctx context.Context, adminURL string, dbConns int) (*stack, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "livret-bench-prod")
	if err != nil {
		return nil, err
	}
	bin, err := prodstack.Build(ctx, root, dir)
	if err != nil {
		return nil, err
	}
	p, err := prodstack.New(ctx, prodstack.Config{Bin: bin, AdminURL: adminURL, Workers: 1, HoldWorkers: true,
		ClientID: benchClientID, ClientSecret: benchClientSecret, WorkerEnv: []string{"LIVRET_DSR_RATE_LIMIT=0"}})
	if err != nil {
		return nil, err
	}
	s := &stack{prod: p, adminURL: adminURL, sandboxURL: p.SandboxURL, keySpec: p.KeySpec,
		temporalAddr: p.TemporalAddr, namespace: p.Namespace, control: sandbox.NewControl(p.SandboxURL, "")}
	fail := func(err error) (*stack, error) { s.close(); return nil, err }
	pcfg, err := pgxpool.ParseConfig(p.DatabaseURL)
	if err != nil {
		return fail(err)
	}
	pcfg.MaxConns = 40
	if dbConns > 0 {
		pcfg.MaxConns = int32(dbConns)
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return fail(err)
	}
	sealer, err := db.ParseSealer(s.keySpec)
	if err != nil {
		return fail(err)
	}
	s.tokens = &db.TokenStore{Pool: s.pool, Sealer: sealer}
	// The stack registered the client for its web API's callback; the seed logs in with the
	// benchmark's.
	if err := s.control.AddClient(ctx, sandbox.Client{ClientID: benchClientID, ClientSecret: benchClientSecret,
		RedirectURIs: []string{benchRedirect, p.APIURL + "/v1/oauth/callback"}}); err != nil {
		return fail(err)
	}
	s.dsrCfg = dsr.Config{BaseURL: s.sandboxURL, ClientID: benchClientID, ClientSecret: benchClientSecret,
		RedirectURL: benchRedirect, Logger: slog.New(slog.DiscardHandler),
		HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	if s.client, err = client.Dial(client.Options{HostPort: s.temporalAddr, Namespace: s.namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}); err != nil {
		return fail(err)
	}
	return s, nil
}

// startProdWorker starts the production stack's worker process and waits until it serves.
func (s *stack) startProdWorker() error { return s.prod.Start(prodstack.Worker(1)) }

// stopProdWorker stops it with SIGTERM, as an orchestrator does.
func (s *stack) stopProdWorker() error {
	_, err := s.prod.Stop(prodstack.Worker(1))
	return err
}

func moduleRoot() (string, error) {
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	return strings.TrimSpace(string(root)), nil
}

// startWorker starts one more Livret worker whose per-account limit is limitPerMin (0: none)
// and whose activity slots are slots (0: the default). Each started worker is a worker
// process's worth (its own DSR client, token cache and slots) polling the same task queue.
func (s *stack) startWorker(ctx context.Context, limitPerMin, slots int) error {
	cfg := s.workerConfig(limitPerMin)
	cfg.Options.MaxConcurrentActivities = slots
	w, err := worker.Start(ctx, s.client, cfg)
	if err != nil {
		return err
	}
	s.workers = append(s.workers, w)
	return nil
}

// stopWorkers stops the in-process workers (their activities finish first).
func (s *stack) stopWorkers() {
	for _, w := range s.workers {
		w.Stop()
	}
	s.workers = nil
}

// workerProcess is a `livret worker` of the production binary (-tags nodev), started by the
// benchmark as its own process: its memory is its own, measured by the kernel (the
// process's peak resident set, rusage's ru_maxrss, once it has exited).
type workerProcess struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
}

// livretBinary builds the production binary once per benchmark run, from the module this
// benchmark belongs to.
var livretBinary = sync.OnceValues(func() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "livret-bench-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "livret")
	build := exec.Command("go", "build", "-tags", "nodev", "-o", bin, "./cmd/livret")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/livret: %w\n%s", err, out)
	}
	return bin, nil
})

// startWorkerProcess starts one `livret worker` process on the stack's database, Temporal
// server and sandbox, with the per-account limit limitPerMin (0: none). Its log goes to a
// temporary file, named on failure.
func (s *stack) startWorkerProcess(limitPerMin int) error {
	bin, err := livretBinary()
	if err != nil {
		return err
	}
	logf, err := os.CreateTemp("", "livret-bench-worker-*.log")
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "worker")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+replaceDB(s.adminURL, s.dbName),
		"TEMPORAL_ADDRESS="+s.temporalAddr,
		"TEMPORAL_NAMESPACE="+s.namespace,
		"LIVRET_DSR_URL="+s.sandboxURL,
		"LIVRET_DSR_CLIENT_ID="+benchClientID,
		"LIVRET_DSR_CLIENT_SECRET="+benchClientSecret,
		"LIVRET_TOKEN_KEY="+s.keySpec,
		fmt.Sprintf("LIVRET_DSR_RATE_LIMIT=%d", limitPerMin),
		"LIVRET_METRICS_ADDR=127.0.0.1:0",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	p := &workerProcess{cmd: cmd, log: logf, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	s.procs = append(s.procs, p)
	return nil
}

// stopWorkerProcesses stops the worker processes as an orchestrator does (SIGTERM: they
// drain, then exit) and returns the highest peak resident memory among them, in MB.
func (s *stack) stopWorkerProcesses() (peakMB float64, err error) {
	for _, p := range s.procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range s.procs {
		select {
		case <-p.done:
		case <-time.After(60 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		p.log.Close()
		if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peakMB = max(peakMB, float64(ru.Maxrss)/1024) // Linux: kilobytes
		}
		if !p.cmd.ProcessState.Success() && err == nil {
			err = fmt.Errorf("worker process: %s (log: %s)", p.cmd.ProcessState, p.log.Name())
			continue
		}
		os.Remove(p.log.Name())
	}
	s.procs = nil
	return peakMB, err
}

// workerConfig is the configuration of the stack's worker, and of the baseline's DSR client.
func (s *stack) workerConfig(limitPerMin int) worker.Config {
	return worker.Config{Pool: s.pool, Sealer: s.tokens.Sealer, DSR: s.dsrCfg, RateLimitPerMin: limitPerMin,
		Logger: slog.New(slog.DiscardHandler)}
}

func (s *stack) close() {
	s.stopWorkers()
	_, _ = s.stopWorkerProcesses()
	if s.client != nil && s.temporal == nil {
		s.client.Close()
	}
	if s.temporal != nil {
		s.temporal.Stop()
	}
	if s.sandboxSrv != nil {
		_ = s.sandboxSrv.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	if s.prod != nil {
		s.prod.Close() // its processes, and its databases with Livret's
		return
	}
	// Drop the benchmark's database.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = db.DropDatabase(ctx, replaceDB(s.adminURL, s.dbName))
}

func replaceDB(dsn, name string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return dsn
	}
	u := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
	if cfg.Password != "" {
		u = fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Password, cfg.Host, cfg.Port, name)
	}
	return u
}
