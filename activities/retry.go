package activities

import (
	"context"
	"time"
)

// Brief in-activity retries. A transient fault (a 5xx, a lost answer, an injected 429) is
// usually over in a second; retrying it here keeps a batch's progress and its place in the
// account's rate-limit schedule, where failing the activity would restart Temporal's back-off
// at every blip. Faults that outlast these tries fail the activity, and Temporal's retry
// policy (1 s → 5 min, for 24 h) takes over.
const (
	briefTries       = 4
	briefFirstDelay  = 200 * time.Millisecond
	briefMaxDelay    = 2 * time.Second
	briefMaxRetryAft = 5 * time.Second
)

// retryBriefly runs op, again after a short pause while it fails with a transient error.
func retryBriefly(ctx context.Context, op func() error) error {
	delay := briefFirstDelay
	for try := 1; ; try++ {
		err := op()
		if err == nil || try == briefTries || ctx.Err() != nil {
			return err
		}
		wait := delay
		switch HandlingOf(err) {
		case Retry:
			delay = min(2*delay, briefMaxDelay)
		case RetryAfter:
			e, _ := asDSR(err)
			if e == nil || e.RetryAfter > briefMaxRetryAft {
				return err // a long wait is Temporal's to schedule (NextRetryDelay)
			}
			wait = max(e.RetryAfter, briefFirstDelay)
		default:
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}
