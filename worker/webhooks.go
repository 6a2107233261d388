package worker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"livret/db/dbq"
)

// Waking the webhook dispatchers (docs/architecture.md, "Events, webhooks and digests"):
// outbox_emit NOTIFYs livret_webhooks with the subscription's id when an event for it
// commits. Every worker process LISTENs on a connection of its own and signals each
// notified subscription's dispatcher (SignalWithStart "wake"). A NOTIFY nobody heard (no
// worker listening at the commit) is caught by the catch-up each listener makes when it
// connects, and by the reconciler every ReconcileInterval: both start the dispatcher of
// every subscription with pending deliveries.

// wakeCoalesce is the least time between two rounds of wake-ups: the notifications of one
// busy run are sent as one signal per subscription and round, not one per event.
const wakeCoalesce = 200 * time.Millisecond

// webhookReconcileBatch bounds the subscriptions one reconcile pass looks at.
const webhookReconcileBatch = 1000

// ListenForWebhooks LISTENs on livret_webhooks until ctx ends, reconnecting (1 s doubling to
// 30 s) whenever its connection fails, and wakes the notified subscriptions' dispatchers.
func ListenForWebhooks(ctx context.Context, pool *pgxpool.Pool, o *Orchestrator, log *slog.Logger) {
	wakes := &wakeSet{ids: map[int64]bool{}, poke: make(chan struct{}, 1)}
	go wakes.send(ctx, o, log)
	backoff := time.Second
	for {
		err := listenOnce(ctx, pool, wakes, o, log, func() { backoff = time.Second })
		if ctx.Err() != nil {
			return
		}
		log.Warn("webhook listener lost its connection: reconnecting", "error", err.Error(), "retry_in", backoff.String())
		if !sleepCtx(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func listenOnce(ctx context.Context, pool *pgxpool.Pool, wakes *wakeSet, o *Orchestrator, log *slog.Logger, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if err := dbq.New(conn).WebhookListen(ctx); err != nil {
		return err
	}
	connected()
	// Listening now: whatever was notified before is pending in PostgreSQL.
	if n, err := EnsureWebhookDispatchers(ctx, dbq.New(pool), o); err != nil && ctx.Err() == nil {
		log.Warn("webhook dispatchers not all started at listen: the reconciler will retry", "started", n, "error", err.Error())
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
			wakes.add(id)
		}
	}
}

// wakeSet coalesces the notified subscriptions between two rounds of signals.
type wakeSet struct {
	mu   sync.Mutex
	ids  map[int64]bool
	poke chan struct{}
}

func (w *wakeSet) add(id int64) {
	w.mu.Lock()
	w.ids[id] = true
	w.mu.Unlock()
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

func (w *wakeSet) take() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]int64, 0, len(w.ids))
	for id := range w.ids {
		out = append(out, id)
	}
	clear(w.ids)
	slices.Sort(out)
	return out
}

// send signals the dispatchers of the notified subscriptions, a round at a time. A signal
// Temporal refuses is logged: the deliveries wait in PostgreSQL, and the reconciler starts
// their dispatcher.
func (w *wakeSet) send(ctx context.Context, o *Orchestrator, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.poke:
		}
		for _, id := range w.take() {
			if err := o.WakeWebhook(ctx, id); err != nil && ctx.Err() == nil {
				log.Warn("webhook dispatcher not woken: the reconciler will start it", "webhook_id", id, "error", err.Error())
			}
		}
		if !sleepCtx(ctx, wakeCoalesce) {
			return
		}
	}
}

// EnsureWebhookDispatchers starts the dispatcher of every live subscription with pending
// deliveries that has none running. It returns how many it asked for, and the first error
// (the others are still tried).
func EnsureWebhookDispatchers(ctx context.Context, q *dbq.Queries, o *Orchestrator) (int, error) {
	ids, err := q.WebhookListWithPending(ctx, webhookReconcileBatch)
	if err != nil {
		return 0, err
	}
	done := 0
	var first error
	for _, id := range ids {
		if err := o.EnsureWebhookDispatch(ctx, id); err != nil {
			if first == nil {
				first = fmt.Errorf("webhook %d: %w", id, err)
			}
			continue
		}
		done++
	}
	return done, first
}

// KeepWebhooksInStep runs EnsureWebhookDispatchers every interval until ctx ends: a
// subscription whose wake-up was lost (no worker listened at the commit, Temporal did not
// answer the signal) gets its dispatcher within one interval.
func KeepWebhooksInStep(ctx context.Context, q *dbq.Queries, o *Orchestrator, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := EnsureWebhookDispatchers(ctx, q, o); err != nil && ctx.Err() == nil {
			log.Warn("webhook dispatchers not all started", "started", n, "error", err.Error())
		}
	}
}

// sleepCtx sleeps d, or less when ctx ends (then false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
