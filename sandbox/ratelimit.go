package sandbox

import (
	"slices"
	"time"
)

// rateWindow is the DSR's rate-limit window: N calls per account in any rolling minute.
const rateWindow = 60 * time.Second

// admit decides whether one more /api call of the account fits under the limit at now. The
// window is half-open, (now-60s, now]: an accepted call stops counting exactly 60 s later.
// The sliding log is exact, so no 60 s window ever holds more than limit accepted calls.
// A refused call leaves no trace in the log: it does not consume a slot. When refused,
// retryAfter is when the oldest call in the window leaves it. The caller holds Server.mu.
func (a *account) admit(now time.Time, limit int) (ok bool, retryAfter time.Duration) {
	cut := 0
	for cut < len(a.window) && !a.window[cut].After(now.Add(-rateWindow)) {
		cut++
	}
	a.window = a.window[cut:]
	if limit > 0 && len(a.window) >= limit {
		// The slot frees when window[len-limit] leaves; with a shrunk limit more than one
		// call may have to leave first.
		oldest := a.window[len(a.window)-limit]
		return false, oldest.Add(rateWindow).Sub(now)
	}
	a.window = append(a.window, now)
	a.accepted = append(a.accepted, now)
	return true, 0
}

// maxCallsIn60s is the highest number of accepted calls in any window (t-60s, t], by a
// two-pointer sweep over the sorted call times. It is computed from the raw call times, not
// from the limiter's log, so the ledger checks the limiter rather than repeating it.
func maxCallsIn60s(calls []time.Time) int {
	ts := slices.Clone(calls)
	slices.SortFunc(ts, func(x, y time.Time) int { return x.Compare(y) })
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= rateWindow {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// retryAfterSeconds renders a wait as a Retry-After header: whole seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// longestGap is the longest time between two consecutive accepted calls.
func longestGap(calls []time.Time) time.Duration {
	ts := slices.Clone(calls)
	slices.SortFunc(ts, func(x, y time.Time) int { return x.Compare(y) })
	var gap time.Duration
	for i := 1; i < len(ts); i++ {
		gap = max(gap, ts[i].Sub(ts[i-1]))
	}
	return gap
}
