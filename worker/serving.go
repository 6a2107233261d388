package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// WaitServing waits until the Temporal server answers calls that reach its history and
// matching services, not only the frontend: the frontend passes its health check before they
// have joined its ring, and until they have, calls routed to them fail with "Not enough hosts
// to serve the request" (measured: a few seconds on a restart). taskQueue is any task queue's
// name. `livret dev`, the drills and livret-temporal-setup wait with it.
func WaitServing(ctx context.Context, c client.Client, taskQueue string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := probeServing(ctx, c, taskQueue)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("temporal: not serving after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func probeServing(ctx context.Context, c client.Client, taskQueue string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// History answers "not found" for a workflow that never ran; only that answer proves it serves.
	_, err := c.DescribeWorkflowExecution(ctx, "livret-readiness-probe", "")
	var notFound *serviceerror.NotFound
	if !errors.As(err, &notFound) {
		if err == nil {
			return nil
		}
		return err
	}
	// Matching.
	_, err = c.DescribeTaskQueue(ctx, taskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	return err
}
