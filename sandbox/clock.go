package sandbox

import (
	"sync"
	"time"
)

// ManualClock is a clock that stands still until it is moved, for Options.Now: token
// lifetimes, "lesson in the future" and rate-limit windows then depend on the test alone,
// never on how fast the machine runs it.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock is a clock showing t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now is the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
