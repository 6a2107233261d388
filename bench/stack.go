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
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"livret/db"
	"livret/dsr"
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
	tokens     *db.TokenStore
	dsrCfg     dsr.Config
	workers    []sdkworker.Worker
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
	if err := worker.RegisterSearchAttributes(ctx, s.client, s.temporal.GetDefaultNamespace()); err != nil {
		return nil, err
	}
	return s, nil
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
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	dir, err := os.MkdirTemp("", "livret-bench-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "livret")
	build := exec.Command("go", "build", "-tags", "nodev", "-o", bin, "./cmd/livret")
	build.Dir = strings.TrimSpace(string(root))
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
		"TEMPORAL_ADDRESS="+s.temporal.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE="+s.temporal.GetDefaultNamespace(),
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
	if s.temporal != nil {
		s.temporal.Stop()
	}
	if s.sandboxSrv != nil {
		_ = s.sandboxSrv.Close()
	}
	if s.pool != nil {
		s.pool.Close()
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
