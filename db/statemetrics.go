package db

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"livret/db/dbq"
)

// RunOutcomes are the outcomes a run row can end with (the CHECK runs_outcome_known, less
// 'running'): livret_runs_recent shows each of them, at 0 when no run ended so, so that an
// alert on one outcome has a series to read from the first scrape on.
var RunOutcomes = []string{"completed", "school_closed", "needs_reconnect", "not_linked", "failed"}

// StateCollector exports, on each scrape, what Livret knows only as rows in PostgreSQL and
// never as an event a counter could count: the runs that ended lately by outcome, the runs
// still going, the RdvPermis accounts (and their offices) waiting for a new login. Every
// process of a deployment would read the same numbers, so one process serves them (the web
// API: docs/runbook.md, "Alerts").
//
// A scrape reads at most once per CacheTTL (several Prometheus servers, or a dashboard
// refreshing, cost one read), and waits at most Timeout for PostgreSQL: a slow database
// makes livret_db_state_up 0, never a hanging /metrics.
type StateCollector struct {
	Pool *pgxpool.Pool
	// Window is how far back livret_runs_recent counts the runs that ended (default 24 h).
	Window time.Duration
	// CacheTTL is how long a read serves the scrapes that follow it (default 15 s).
	CacheTTL time.Duration
	// Timeout bounds one read (default 3 s).
	Timeout time.Duration
	// Now is the clock the window and the cache read (default time.Now).
	Now func() time.Time
	// Logger gets one line per failed read (default slog.Default()).
	Logger *slog.Logger

	mu       sync.Mutex
	readAt   time.Time
	snapshot stateSnapshot
}

type stateSnapshot struct {
	ok                bool
	finished          map[string]int64
	running           int64
	runningOldestAge  float64
	accountsReconnect int64
	officesReconnect  int64
}

var (
	descStateUp = prometheus.NewDesc("livret_db_state_up",
		"1 when the last read of the state metrics (livret_runs_*, livret_*_needing_reconnect) from PostgreSQL succeeded, 0 when it failed or timed out.", nil, nil)
	descRunsRecent = prometheus.NewDesc("livret_runs_recent",
		"Runs of every school that ended in the last 24 hours, by outcome.", []string{"outcome"}, nil)
	descRunsRunning = prometheus.NewDesc("livret_runs_running",
		"Runs of every school recorded as running now.", nil, nil)
	descRunsRunningOldest = prometheus.NewDesc("livret_runs_running_oldest_age_seconds",
		"How long ago the oldest run still running started (0 when none runs).", nil, nil)
	descAccountsReconnect = prometheus.NewDesc("livret_dsr_accounts_needing_reconnect",
		"RdvPermis accounts used by an office whose tokens the DSR refused: an admin must log in again.", nil, nil)
	descOfficesReconnect = prometheus.NewDesc("livret_offices_needing_reconnect",
		"Offices linked to an RdvPermis account that needs a new login.", nil, nil)
)

// NewStateCollector is a StateCollector on pool with the default window, cache and timeout.
func NewStateCollector(pool *pgxpool.Pool) *StateCollector {
	return &StateCollector{Pool: pool}
}

// Describe implements prometheus.Collector.
func (c *StateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStateUp, descRunsRecent, descRunsRunning, descRunsRunningOldest, descAccountsReconnect, descOfficesReconnect} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A failed read exports livret_db_state_up 0 and
// nothing else: a stale count would look like a healthy one.
func (c *StateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.read()
	if !s.ok {
		ch <- prometheus.MustNewConstMetric(descStateUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descStateUp, prometheus.GaugeValue, 1)
	for _, o := range RunOutcomes {
		ch <- prometheus.MustNewConstMetric(descRunsRecent, prometheus.GaugeValue, float64(s.finished[o]), o)
	}
	ch <- prometheus.MustNewConstMetric(descRunsRunning, prometheus.GaugeValue, float64(s.running))
	ch <- prometheus.MustNewConstMetric(descRunsRunningOldest, prometheus.GaugeValue, s.runningOldestAge)
	ch <- prometheus.MustNewConstMetric(descAccountsReconnect, prometheus.GaugeValue, float64(s.accountsReconnect))
	ch <- prometheus.MustNewConstMetric(descOfficesReconnect, prometheus.GaugeValue, float64(s.officesReconnect))
}

// read returns the cached snapshot while it is fresh, else reads a new one. The lock makes
// concurrent scrapes wait for one read instead of each sending its own.
func (c *StateCollector) read() stateSnapshot {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := now()
	if !c.readAt.IsZero() && t.Sub(c.readAt) < orDefault(c.CacheTTL, 15*time.Second) {
		return c.snapshot
	}
	ctx, cancel := context.WithTimeout(context.Background(), orDefault(c.Timeout, 3*time.Second))
	defer cancel()
	// A failure is cached too: a database that does not answer is not asked again by every
	// scrape of the next CacheTTL.
	c.snapshot, c.readAt = c.query(ctx, t.Add(-orDefault(c.Window, 24*time.Hour))), t
	return c.snapshot
}

func (c *StateCollector) query(ctx context.Context, since time.Time) stateSnapshot {
	q := dbq.New(c.Pool)
	failed := func(what string, err error) stateSnapshot {
		logger := c.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("state metrics: read failed", "query", what, "error", err)
		return stateSnapshot{}
	}
	finished, err := q.RunCountFinishedSince(ctx, since)
	if err != nil {
		return failed("RunCountFinishedSince", err)
	}
	running, err := q.RunCountRunning(ctx)
	if err != nil {
		return failed("RunCountRunning", err)
	}
	reconnect, err := q.AccountCountNeedingReconnect(ctx)
	if err != nil {
		return failed("AccountCountNeedingReconnect", err)
	}
	s := stateSnapshot{ok: true, finished: map[string]int64{}, running: running.Runs, runningOldestAge: running.OldestAgeSeconds,
		accountsReconnect: reconnect.Accounts, officesReconnect: reconnect.Offices}
	for _, r := range finished {
		s.finished[r.Outcome] = r.Runs
	}
	return s
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
