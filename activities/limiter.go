package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"

	"livret/db/dbq"
)

// RateLimiter keeps every RdvPermis account under the DSR's per-minute limit across all
// worker processes together. Each account's next call slot is a row in Postgres (GCRA: one
// call every 60 s / limit); a caller reserves a slot with one statement, then waits for it.
// Spacing calls evenly, instead of letting a burst through, is what guarantees that no 60 s
// window ever holds more than the limit, whatever the number of workers.
type RateLimiter struct {
	Pool *pgxpool.Pool
	// PerMinute is the DSR's limit for one account (210; 600 for online schools).
	PerMinute int
	// Headroom is the share of the limit used, below 1 to absorb network jitter between
	// our clock and the DSR's: 0.98 keeps a 1.2 s margin per minute at 210 calls.
	Headroom float64
}

// Spacing is the time between two calls of one account.
func (l *RateLimiter) Spacing() time.Duration {
	h := l.Headroom
	if h <= 0 || h > 1 {
		h = 1
	}
	return time.Duration(float64(time.Minute) / (float64(l.PerMinute) * h))
}

// Wait blocks until the account may make one call. It satisfies dsr.Limiter. The slot is
// reserved when the call is about to go, never ahead: a call that is late (a slow answer
// before it, a pause) takes the next free slot rather than one already past, so late calls
// never bunch into a burst the DSR would refuse (429).
func (l *RateLimiter) Wait(ctx context.Context, accountID int64) error {
	if l == nil || l.PerMinute <= 0 {
		return nil
	}
	spacing := l.Spacing()
	r, err := dbq.New(l.Pool).RateReserve(ctx, dbq.RateReserveParams{
		AccountID: accountID,
		Spacing:   pgtype.Interval{Microseconds: spacing.Microseconds(), Valid: true},
	})
	if err != nil {
		return fmt.Errorf("rate limiter: %w", err)
	}
	return sleepHeartbeating(ctx, r.Slot.Sub(r.DbNow))
}

// sleepHeartbeating waits d; inside an activity it heartbeats every heartbeatEvery, so that a
// long wait for a busy account's slot is not mistaken for a dead worker.
func sleepHeartbeating(ctx context.Context, d time.Duration) error {
	const heartbeatEvery = 10 * time.Second
	for d > 0 {
		step := min(d, heartbeatEvery)
		t := time.NewTimer(step)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		d -= step
		if d > 0 && activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx)
		}
	}
	return nil
}
