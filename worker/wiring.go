package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"livret/activities"
	"livret/db"
	"livret/db/dbq"
	"livret/dsr"
	"livret/mailer"
)

// Headroom is the share of the DSR's per-account limit that Livret's workers use: below 1 to
// absorb the jitter between our clock and the DSR's (0.98 keeps a 1.2 s margin per minute at
// 210 calls). Every limiter is built by NewLimiter, so the production worker, the dev stack,
// the tests and the benchmark all pace accounts the same way.
const Headroom = 0.98

// NewLimiter is the per-account rate limiter of a worker process (perMinute 0: no limit).
func NewLimiter(pool *pgxpool.Pool, perMinute int) *activities.RateLimiter {
	return &activities.RateLimiter{Pool: pool, PerMinute: perMinute, Headroom: Headroom}
}

// Config is what a worker process is built from; every role that runs a worker (livret
// worker, livret dev, the test stack, the benchmark) fills one and nothing more.
type Config struct {
	Pool *pgxpool.Pool
	// Sealer opens and seals the accounts' tokens (LIVRET_TOKEN_KEY).
	Sealer *db.Sealer
	// DSR is how the worker reaches the DSR (or the sandbox); its Logger defaults to Logger.
	DSR dsr.Config
	// RateLimitPerMin is the DSR's limit per RdvPermis account, all workers together (0: none).
	RateLimitPerMin int
	// Metrics, when set, receives the activities' domain counters (lessons transmitted,
	// refused by code, DSR latency, 429s).
	Metrics prometheus.Registerer
	// Logger is for the worker's own lines (default slog.Default()).
	Logger  *slog.Logger
	Options Options
	// Reconcile makes Start create any missing Schedule and keeper (see Reconcile): the
	// processes that serve users do, a test or benchmark that starts many workers need not.
	Reconcile bool
	// Mailer sends the schools' daily digests (LIVRET_SMTP_URL); nil: no digest is sent,
	// and Start says so in one log line.
	Mailer *mailer.Mailer
	// PublicURL is where the admin pages are served (LIVRET_PUBLIC_URL), for the digests'
	// links; "" leaves them out.
	PublicURL string
	// ETPWindowMonths is the deployment's ETP window (LIVRET_ETP_WINDOW_MONTHS, as the
	// webapi's); 0 keeps domain's table.
	ETPWindowMonths int
	// WebhookRetryScale multiplies the webhook retry schedule and its 24 hours: 1 (or 0) in
	// production; the tests and drills shrink it (LIVRET_WEBHOOK_RETRY_SCALE).
	WebhookRetryScale float64
}

func (cfg Config) logger() *slog.Logger {
	if cfg.Logger != nil {
		return cfg.Logger
	}
	return slog.Default()
}

// NewDSRClient is a worker process's DSR client: its own in-process state, the tokens in
// Postgres (read again at most every TokenCacheTTL per account), each call paced by the
// account's limiter.
func NewDSRClient(cfg Config) *dsr.Client {
	dc := cfg.DSR
	if dc.Logger == nil {
		dc.Logger = cfg.logger()
	}
	return dsr.New(dc, newTokenCache(&db.TokenStore{Pool: cfg.Pool, Sealer: cfg.Sealer}, TokenCacheTTL), NewLimiter(cfg.Pool, cfg.RateLimitPerMin))
}

// NewActivities is the activity struct a worker process registers.
func NewActivities(cfg Config) *activities.Activities {
	acts := &activities.Activities{Pool: cfg.Pool, DSR: NewDSRClient(cfg), Limiter: NewLimiter(cfg.Pool, cfg.RateLimitPerMin), Mailer: cfg.Mailer, PublicURL: cfg.PublicURL, ETPWindowMonths: cfg.ETPWindowMonths,
		Sealer: cfg.Sealer, WebhookHTTP: activities.NewWebhookHTTPClient(), WebhookRetryScale: cfg.WebhookRetryScale}
	if cfg.Metrics != nil {
		acts.Metrics = activities.NewMetrics(cfg.Metrics)
	}
	return acts
}

// Start builds a worker process's two Temporal workers from cfg, the daily runs' task queue
// and the webhooks' (each with its own slots), starts them and the webhook listener
// (ListenForWebhooks) and, with cfg.Reconcile, reconciles the Schedules and keepers (and,
// with a mailer, the digests' Schedule), then keeps them in step with the offices' links
// every ReconcileInterval until ctx ends (KeepSchedulesInStep), sweeps the runs left running
// whose workflow closed (KeepRunsInStep), makes sure every subscription with pending
// deliveries has its dispatcher (KeepWebhooksInStep) and prunes the outbox
// (KeepOutboxPruned). A failed reconcile is logged, not returned: the worker is serving, and
// the next pass repairs what is missing. Stopping the returned worker stops all of it.
func Start(ctx context.Context, c client.Client, cfg Config) (sdkworker.Worker, error) {
	acts := NewActivities(cfg)
	w := New(c, acts, cfg.Options)
	if err := w.Start(); err != nil {
		return nil, err
	}
	if cfg.Mailer == nil {
		cfg.logger().Info("daily digests off: no SMTP server configured (LIVRET_SMTP_URL)")
	}
	hooks := NewWebhookWorker(c, acts, cfg.Options)
	if err := hooks.Start(); err != nil {
		w.Stop()
		return nil, err
	}
	lctx, cancel := context.WithCancel(ctx)
	orch := NewOrchestrator(c)
	go ListenForWebhooks(lctx, cfg.Pool, orch, cfg.logger())
	if cfg.Reconcile {
		if err := Reconcile(ctx, dbq.New(cfg.Pool), orch, cfg.logger()); err != nil {
			cfg.logger().Error("reconcile schedules and keepers", "error", err)
		}
		if err := orch.EnsureETPWarningSchedule(ctx); err != nil {
			cfg.logger().Error("ETP warnings' schedule", "error", err)
		}
		if cfg.Mailer != nil {
			if err := orch.EnsureDigestSchedule(ctx); err != nil {
				cfg.logger().Error("daily digests' schedule", "error", err)
			}
		}
		go KeepSchedulesInStep(ctx, dbq.New(cfg.Pool), orch, ReconcileInterval, cfg.logger())
		go KeepRunsInStep(ctx, dbq.New(cfg.Pool), c, ReconcileInterval, cfg.logger())
		go KeepOutboxPruned(lctx, dbq.New(cfg.Pool), OutboxPruneInterval, cfg.logger())
		go KeepWebhooksInStep(lctx, dbq.New(cfg.Pool), orch, ReconcileInterval, cfg.logger())
	}
	return &processWorker{Worker: w, webhooks: hooks, cancel: cancel}, nil
}

// processWorker is a worker process's workers: the daily runs' (embedded: registering on
// it registers there), the webhooks', and the listener's context.
type processWorker struct {
	sdkworker.Worker
	webhooks sdkworker.Worker
	cancel   context.CancelFunc
}

// Stop stops the listener and both workers; each lets its activities in flight finish
// (Options.StopTimeout), at the same time.
func (p *processWorker) Stop() {
	p.cancel()
	done := make(chan struct{})
	go func() {
		p.webhooks.Stop()
		close(done)
	}()
	p.Worker.Stop()
	<-done
}

// Run waits for interruptCh, then stops: the workers are started already.
func (p *processWorker) Run(interruptCh <-chan interface{}) error {
	<-interruptCh
	p.Stop()
	return nil
}

// Run is Start, then polls until ctx is cancelled, then stops: the activities in flight get
// Options.StopTimeout to finish their current call.
func Run(ctx context.Context, c client.Client, cfg Config) error {
	w, err := Start(ctx, c, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	w.Stop()
	return nil
}

// NewRegistry is a worker process's Prometheus registry, with the Go runtime's and the
// process's collectors; the SDK's and the activities' metrics join it through ClientOptions
// and Config.Metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// ClientOptions are the Temporal client options of every role: the address, the namespace,
// the slog logger shared with the SDK and, when reg is set, the SDK's metrics in Prometheus.
// The returned func flushes and closes the metrics scope.
func ClientOptions(hostPort, namespace string, logger *slog.Logger, reg prometheus.Registerer) (client.Options, func()) {
	if logger == nil {
		logger = slog.Default()
	}
	opts := client.Options{HostPort: hostPort, Namespace: namespace, Logger: tlog.NewStructuredLogger(logger)}
	if reg == nil {
		return opts, func() {}
	}
	reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: reg})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	opts.MetricsHandler = sdktally.NewMetricsHandler(scope)
	return opts, func() { _ = closer.Close() }
}
