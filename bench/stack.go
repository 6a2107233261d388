package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
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
	sealer, err := db.ParseSealer(db.NewKeySpec("bench"))
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

// workerConfig is the configuration of the stack's worker, and of the baseline's DSR client.
func (s *stack) workerConfig(limitPerMin int) worker.Config {
	return worker.Config{Pool: s.pool, Sealer: s.tokens.Sealer, DSR: s.dsrCfg, RateLimitPerMin: limitPerMin,
		Logger: slog.New(slog.DiscardHandler)}
}

func (s *stack) close() {
	for _, w := range s.workers {
		w.Stop()
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
