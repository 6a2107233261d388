package activities

import (
	"context"
	"time"

	"livret/db/dbq"
)

// KeepAccountAlive refreshes an account's tokens before its refresh token lapses. The DSR's
// refresh tokens die when unused for their lifetime (seen: 30 minutes) while daily runs are a
// day apart: without this, every office would need a new login each morning.
func (a *Activities) KeepAccountAlive(ctx context.Context, in KeepAliveInput) (KeepAliveResult, error) {
	q := dbq.New(a.Pool)
	acct, err := q.AccountGet(ctx, in.AccountID)
	if err != nil {
		return KeepAliveResult{}, err
	}
	offices, err := q.OfficeListByAccount(ctx, &in.AccountID)
	if err != nil {
		return KeepAliveResult{}, err
	}
	if acct.NeedsReconnect || len(offices) == 0 {
		return KeepAliveResult{Stop: true}, nil
	}
	now := a.now()
	if next, ok := refreshDue(acct); ok && next.After(now) {
		return KeepAliveResult{Next: next}, nil
	}
	tok, err := a.DSR.Token(ctx, in.AccountID)
	if err == nil {
		_, err = a.DSR.ForceRefresh(ctx, in.AccountID, tok.AccessToken)
	}
	if err != nil {
		if HandlingOf(err) == Reconnect {
			if err := q.AccountMarkNeedsReconnect(ctx, in.AccountID); err != nil {
				return KeepAliveResult{}, err
			}
			return KeepAliveResult{Stop: true}, nil
		}
		return KeepAliveResult{}, failure(err)
	}
	acct, err = q.AccountGet(ctx, in.AccountID)
	if err != nil {
		return KeepAliveResult{}, err
	}
	next, ok := refreshDue(acct)
	if !ok {
		next = now.Add(unknownLifetimeRefresh)
	}
	return KeepAliveResult{Next: next}, nil
}

// unknownLifetimeRefresh is how often to refresh when the DSR did not say how long refresh
// tokens live: well inside the 30 minutes seen.
const unknownLifetimeRefresh = 10 * time.Minute

// refreshDue is when the account's pair should be refreshed: half-way through the refresh
// token's life, which leaves the other half for retries.
func refreshDue(acct dbq.DsrAccount) (time.Time, bool) {
	if acct.RefreshExpiresAt == nil {
		return time.Time{}, false
	}
	life := acct.RefreshExpiresAt.Sub(acct.UpdatedAt)
	return acct.RefreshExpiresAt.Add(-life / 2), true
}
