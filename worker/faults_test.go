package worker_test

import (
	"context"
	"testing"
	"time"

	"livret/sandbox"
	"livret/worker"
	"livret/worker/workertest"
)

// TestExactlyOnceUnderFaults: the DSR fails 20 % of calls with a 5xx, 10 % with a 429, and
// stores then drops the answer of 20 % of POSTs; the worker is stopped mid-run and another
// takes over. Every eligible lesson must reach the DSR exactly once, and Postgres must agree
// with the DSR lesson by lesson.
func TestExactlyOnceUnderFaults(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	b := newBulk(t, s, 3, 20, 5) // 300 lessons, 60 students, 2 accounts
	ctx := context.Background()
	s.Must(s.Sandbox.SetFaults(ctx, sandbox.Faults{
		Error5xxRate: 0.2, Rate429: 0.1, DropAfterCommitRate: 0.2, RateLimitPerMin: sandbox.Int(0),
	}), "faults")

	first := s.StartWorkerWith(worker.Options{StopTimeout: 500 * time.Millisecond})
	wait := b.startRuns(t, s)
	waitLedger(t, s, 60, 2*time.Minute)
	first.Stop() // mid-run: activities in flight are cancelled, some after their POST landed
	s.StartWorker()
	wait(4 * time.Minute)

	ledger := b.assertExactlyOnce(t, s)
	t.Logf("calls %d, duplicates refused %d (our own retries, reconciled), 429s %d", ledger.Calls, ledger.DuplicatesRefused, ledger.RateLimited)
	if ledger.RateLimited == 0 {
		t.Fatal("the injected faults did not happen: the test proves nothing")
	}
}

// TestTokenChurn: access tokens live 5 s while two workers declare hundreds of lessons; the
// tokens are refreshed (rotation) without any invalid_grant and no lesson is lost. The
// workers' rate limit (900 calls a minute per account) stretches the run over several
// access lifetimes.
func TestTokenChurn(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{RateLimitPerMin: 900})
	ctx := context.Background()
	// Tokens issued from now on live 5 s (access) and 60 s (refresh): set before linking.
	s.Must(s.Sandbox.SetFaults(ctx, sandbox.Faults{AccessTTLS: 5, RefreshTTLS: 60, LatencyMS: 5, RateLimitPerMin: sandbox.Int(0)}), "faults")
	b := newBulk(t, s, 3, 20, 5)
	s.StartWorker()
	s.StartWorker()
	wait := b.startRuns(t, s)
	res := wait(4 * time.Minute)
	for _, r := range res {
		if r.Outcome != "completed" {
			t.Fatalf("a run ended %s: an account lost its login", r.Outcome)
		}
	}
	ledger := b.assertExactlyOnce(t, s)
	accounts, err := s.Q.AccountListLinked(ctx)
	if err != nil || len(accounts) != 2 {
		t.Fatalf("both accounts must still be usable (no invalid_grant): %d %v", len(accounts), err)
	}
	if ledger.Refreshes == 0 {
		t.Fatal("no refresh happened: the run was shorter than the access lifetime, the test proves nothing")
	}
	t.Logf("refreshes %d over %d calls", ledger.Refreshes, ledger.Calls)
}
