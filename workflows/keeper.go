package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"livret/activities"
)

// keeperRoundsBeforeContinue bounds the keeper's history: a refresh every 15 minutes is
// about a hundred rounds a day.
const keeperRoundsBeforeContinue = 200

// AccountKeeper keeps one RdvPermis account's refresh token alive between daily runs: it
// refreshes half-way through the token's life and sleeps on a durable timer in between. It
// ends when the account needs a new login or no office uses it any more (a new link starts a
// new keeper).
func AccountKeeper(ctx workflow.Context, in KeeperInput) error {
	for round := 0; round < keeperRoundsBeforeContinue; round++ {
		var res activities.KeepAliveResult
		err := workflow.ExecuteActivity(dbOptions(ctx), activities.KeepAccountAliveName,
			activities.KeepAliveInput{AccountID: in.AccountID}).Get(ctx, &res)
		if err != nil {
			return err
		}
		if res.Stop {
			return nil
		}
		wait := res.Next.Sub(workflow.Now(ctx))
		if wait < time.Second {
			wait = time.Second
		}
		if err := workflow.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	return workflow.NewContinueAsNewError(ctx, AccountKeeperName, in)
}
