// Package workertest starts a real Temporal server in the test process (the server's own
// temporaltest package: the same server as production, in memory) with Livret's search
// attributes registered.
package workertest

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/server/temporaltest"

	"livret/worker"
)

// NewTemporal starts a Temporal server for t, stopped when t ends.
func NewTemporal(t *testing.T) *temporaltest.TestServer {
	t.Helper()
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := worker.RegisterSearchAttributes(ctx, ts.GetDefaultClient(), ts.GetDefaultNamespace()); err != nil {
		t.Fatalf("workertest: %v", err)
	}
	return ts
}
