package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"livret/db"
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
	// The ETP window, as the webapi reads it: the warning before the computation counts the
	// same hours the ETP page shows.
	etpWindow, err := envInt("LIVRET_ETP_WINDOW_MONTHS", 0)
	if err != nil {
		return err
	}
	mail, err := mailerFromEnv()
	if err != nil {
		return err
	}
	// Tests and drills only: the webhook retry schedule and its 24 hours run this many times
	// as fast (0.001: 24 h in 86 s). Production leaves it unset (1).
	scale, err := envFloat("LIVRET_WEBHOOK_RETRY_SCALE", 1)
	if err != nil {
		return err
	}
	pool, err := db.Open(ctx, databaseURL())
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer pool.Close()

	reg := worker.NewRegistry()
	opts, closeMetrics := temporalOptions(reg)
	defer closeMetrics()
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	defer tc.Close()

	metricsAddr := env("LIVRET_METRICS_ADDR", "127.0.0.1:9090")
	srv := &http.Server{Addr: metricsAddr, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("metrics server", "error", err)
		}
	}()
	publicURL := strings.TrimRight(env("LIVRET_PUBLIC_URL", "http://127.0.0.1:8080"), "/")
	logArgs := []any{"metrics", "http://" + metricsAddr + "/metrics", "rate_limit_per_min", limit, "webhook_retry_scale", scale}
	if mail != nil {
		logArgs = append(logArgs, "smtp", mail.Config())
	}
	slog.Info("worker starting", logArgs...)
	runErr := worker.Run(ctx, tc, worker.Config{
		Pool:              pool,
		Sealer:            sealer,
		DSR:               dsrConfigFromEnv(publicURL),
		Mailer:            mail,
		PublicURL:         publicURL,
		RateLimitPerMin:   limit,
		Metrics:           reg,
		Logger:            slog.Default(),
		Reconcile:         true,
		WebhookRetryScale: scale,
		ETPWindowMonths:   etpWindow,
	})
	slog.Info("worker stopped")
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return errors.Join(runErr, srv.Shutdown(shutdown))
}
