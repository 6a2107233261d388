package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"livret/activities"
)

// webhookRoundsBeforeContinue bounds a dispatcher's history when the server does not
// suggest continuing as new first: a round is one DeliverWebhook and its wait.
const webhookRoundsBeforeContinue = 500

// WebhookDispatch delivers one subscription's events (docs/architecture.md, "Events,
// webhooks and digests"). It calls DeliverWebhook, which makes the due deliveries in the
// order of their events, then waits on a durable timer until the first pending one is due
// again, or for a wake signal, holding no activity slot while it waits. When nothing is
// pending it ends: an idle subscription costs nothing, and the next event starts it again
// (SignalWithStart, from the worker's LISTEN on livret_webhooks, or the reconciler).
func WebhookDispatch(ctx workflow.Context, in WebhookDispatchInput) (WebhookDispatchResult, error) {
	var out WebhookDispatchResult
	wake := workflow.GetSignalChannel(ctx, WakeSignal)
	actx := webhookOptions(ctx)
	for round := 1; ; round++ {
		var res activities.DeliverWebhookResult
		err := workflow.ExecuteActivity(actx, activities.DeliverWebhookName,
			activities.DeliverWebhookInput{WebhookID: in.WebhookID}).Get(ctx, &res)
		if err != nil {
			return out, err
		}
		out.Delivered += res.Delivered
		out.Retried += res.Retried
		out.Failed += res.Failed
		// A wake-up during the call may be for what it could not see (an event committed
		// after its last look, a retry asked for): look again rather than wait or end.
		woken := drainWakes(wake)
		switch {
		case res.Gone:
			out.Gone = true
			return out, nil
		case res.More || woken:
		case !res.NextAttemptAt.IsZero():
			if err := waitForRetry(ctx, wake, res.NextAttemptAt); err != nil {
				return out, err
			}
		default:
			// Nothing pending, and no wake-up since the call looked: done. A signal that
			// arrives while this completes makes Temporal run this code again, which then
			// sees it (a completion is refused while new events are unhandled); one that
			// arrives after starts a new execution (SignalWithStart).
			return out, nil
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() || round >= webhookRoundsBeforeContinue {
			// The next execution starts with a DeliverWebhook: the wake-ups drained here are
			// served by it.
			drainWakes(wake)
			return out, workflow.NewContinueAsNewError(ctx, WebhookDispatchName, in)
		}
	}
}

// drainWakes takes every wake signal already received and says whether there was one.
func drainWakes(wake workflow.ReceiveChannel) bool {
	woken := false
	for wake.ReceiveAsync(nil) {
		woken = true
	}
	return woken
}

// waitForRetry sleeps until at, on a durable timer, or until a wake signal comes.
func waitForRetry(ctx workflow.Context, wake workflow.ReceiveChannel, at time.Time) error {
	d := at.Sub(workflow.Now(ctx))
	if d <= 0 {
		return nil
	}
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	var timerErr error
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(workflow.NewTimer(tctx, d), func(f workflow.Future) { timerErr = f.Get(tctx, nil) })
	sel.AddReceive(wake, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		drainWakes(c)
	})
	sel.Select(ctx)
	return timerErr
}
