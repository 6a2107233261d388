package worker

import (
	"context"
	"log/slog"
	"time"

	"livret/db/dbq"
)

// OutboxRetention is how long an event stays in the outbox once no delivery waits on it: long
// enough for a digest a school missed and for an operator's look at a receiver's complaint,
// short enough that the table does not grow with every lesson ever sent
// (docs/architecture.md, "Events, webhooks and digests").
const OutboxRetention = 30 * 24 * time.Hour

// OutboxPruneInterval is how often each serving worker prunes the outbox.
const OutboxPruneInterval = time.Hour

// outboxPruneBatch bounds one statement, so a first prune of a large backlog never holds
// locks for long.
const outboxPruneBatch = 5000

// PruneOutbox deletes the events older than retention that no delivery waits on, with their
// finished deliveries and attempts, batch by batch. It returns how many events went.
func PruneOutbox(ctx context.Context, q *dbq.Queries, now time.Time, retention time.Duration) (int64, error) {
	var total int64
	for {
		n, err := q.OutboxPrune(ctx, dbq.OutboxPruneParams{Before: now.Add(-retention), Lim: outboxPruneBatch})
		total += n
		if err != nil || n < outboxPruneBatch {
			return total, err
		}
	}
}

// KeepOutboxPruned runs PruneOutbox every interval until ctx ends. Several workers pruning at
// once delete each event once (the second delete finds nothing).
func KeepOutboxPruned(ctx context.Context, q *dbq.Queries, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := PruneOutbox(ctx, q, time.Now(), OutboxRetention)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("outbox not pruned", "pruned", n, "error", err.Error())
		case n > 0:
			log.Info("old outbox events pruned", "events", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
