package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"livret/activities"
	"livret/db"
	"livret/db/dbq"
	"livret/dsr"
	"livret/worker"
)

// runWorker polls Livret's task queue until ctx is cancelled, then lets the activities in
// flight finish their current call (WorkerStopTimeout).
func runWorker(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments: %v", args)
	}
	key := env("LIVRET_TOKEN_KEY", "")
	if key == "" {
		return errors.New("LIVRET_TOKEN_KEY is required (id:base64key, 32-byte AES key)")
	}
	sealer, err := db.ParseSealer(key)
	if err != nil {
		return err
	}
	limit, err := envInt("LIVRET_DSR_RATE_LIMIT", 210)
	if err != nil {
		return err
	}
	pool, err := db.Open(ctx, databaseURL())
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer pool.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts, closeMetrics, err := temporalOptions(reg)
	if err != nil {
		return err
	}
	defer closeMetrics()
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	defer tc.Close()

	limiter := &activities.RateLimiter{Pool: pool, PerMinute: limit, Headroom: 0.98}
	tokens := &db.TokenStore{Pool: pool, Sealer: sealer}
	acts := &activities.Activities{
		Pool:    pool,
		DSR:     dsr.New(dsrConfigFromEnv(env("LIVRET_PUBLIC_URL", "http://127.0.0.1:8080")), tokens, limiter),
		Metrics: activities.NewMetrics(reg),
	}
	w := worker.New(tc, acts, worker.Options{})
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	orch := worker.NewOrchestrator(tc)
	if err := worker.Reconcile(ctx, dbq.New(pool), orch, slog.Default()); err != nil {
		slog.Error("reconcile schedules and keepers", "error", err)
	}
	go worker.KeepSchedulesInStep(ctx, dbq.New(pool), orch, worker.ReconcileInterval, slog.Default())

	metricsAddr := env("LIVRET_METRICS_ADDR", "127.0.0.1:9090")
	srv := &http.Server{Addr: metricsAddr, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("metrics server", "error", err)
		}
	}()
	slog.Info("worker started", "metrics", "http://"+metricsAddr+"/metrics", "rate_limit_per_min", limit)
	<-ctx.Done()
	slog.Info("worker stopping")
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
