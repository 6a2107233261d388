package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

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

// Wait blocks until the account may make one call. It satisfies dsr.Limiter.
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
	wait := r.Slot.Sub(r.DbNow)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
