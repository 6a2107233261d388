package worker_test

import (
	"context"
	"testing"
	"time"

	"livret/sandbox"
	"livret/worker/workertest"
)

// TestTenThousandLessonsInOneRun: an office with 10,000 pending lessons (1,000 students) is
// declared in one run: the run pages, continues as new when its history grows, and every
// lesson reaches the DSR once. The time is logged, not asserted (machines are noisy).
func TestTenThousandLessonsInOneRun(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 lessons: skipped with -short")
	}
	s := workertest.NewStack(t, workertest.Options{})
	// The sandbox's per-account limit (210/min) would make this a 57-minute test: the limit
	// is measured by the benchmark, this test is about size.
	s.Must(s.Sandbox.SetFaults(context.Background(), sandbox.Faults{RateLimitPerMin: sandbox.Int(0)}), "faults")
	seeded := time.Now()
	b := newBulk(t, s, 1, 1000, 10)
	t.Logf("seeded %d lessons in %s", len(b.lessons), time.Since(seeded).Round(time.Millisecond))
	s.StartWorker()
	started := time.Now()
	res := b.startRuns(t, s)(8 * time.Minute)
	elapsed := time.Since(started)
	b.assertExactlyOnce(t, s)
	if res[0].Counts.Transmitted != len(b.lessons) {
		t.Fatalf("the run counted %d transmitted, want %d (counts must survive continue-as-new)", res[0].Counts.Transmitted, len(b.lessons))
	}
	t.Logf("10,000 lessons declared in one run in %s (%.0f lessons/s)", elapsed.Round(time.Millisecond), float64(len(b.lessons))/elapsed.Seconds())
}
