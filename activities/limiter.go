package activities

import (
	"context"
	"fmt"
	"sync"
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

// Wait blocks until the account may make one call. It satisfies dsr.Limiter. Under a
// context carrying a Block of the account's (WithBlock), the call takes the block's next
// slot; once the block is spent, or without one, it reserves a slot of its own.
func (l *RateLimiter) Wait(ctx context.Context, accountID int64) error {
	if l == nil || l.PerMinute <= 0 {
		return nil
	}
	if b, ok := ctx.Value(blockKey{}).(*Block); ok && b.AccountID == accountID {
		if at, ok := b.take(); ok {
			return sleepHeartbeating(ctx, time.Until(at))
		}
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

// Block is a run of an account's consecutive call slots reserved with one statement
// (Reserve): a group's calls. Its slots are From, From + Spacing, ... on this process's clock.
type Block struct {
	AccountID int64
	From      time.Time
	Spacing   time.Duration
	Slots     int

	mu    sync.Mutex
	taken int
}

// take hands out the block's next slot.
func (b *Block) take() (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.taken >= b.Slots {
		return time.Time{}, false
	}
	at := b.From.Add(time.Duration(b.taken) * b.Spacing)
	b.taken++
	return at, true
}

type blockKey struct{}

// WithBlock makes the account's calls under ctx take their slots from b.
func WithBlock(ctx context.Context, b *Block) context.Context {
	return context.WithValue(ctx, blockKey{}, b)
}

// Reserve reserves the account's next n call slots in a row, in one statement, and returns
// them without waiting: the caller decides whether to wait inside its activity (the block
// starts soon) or to come back when it starts (a durable timer in the workflow). No limit:
// nil, nothing to wait for.
func (l *RateLimiter) Reserve(ctx context.Context, accountID int64, n int) (*Block, error) {
	if l == nil || l.PerMinute <= 0 || n <= 0 {
		return nil, nil
	}
	spacing := l.Spacing()
	r, err := dbq.New(l.Pool).RateReserveBlock(ctx, dbq.RateReserveBlockParams{
		AccountID: accountID,
		Block:     pgtype.Interval{Microseconds: int64(n) * spacing.Microseconds(), Valid: true},
	})
	if err != nil {
		return nil, fmt.Errorf("rate limiter: %w", err)
	}
	// On this process's clock: the wait measured on the database's, from now.
	return &Block{AccountID: accountID, From: time.Now().Add(r.FirstSlot.Sub(r.DbNow)), Spacing: spacing, Slots: n}, nil
}
