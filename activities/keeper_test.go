package activities_test

import (
	"testing"
	"time"

	"livret/activities"
	"livret/db/dbq"
	"livret/sandbox"
)

// KeepAccountAlive refreshes an account half-way through its refresh token's life, which
// the DSR announced with the pair (1,800 s by default in the sandbox).

func (e *env) keepAlive(acts *activities.Activities) activities.KeepAliveResult {
	e.t.Helper()
	var res activities.KeepAliveResult
	e.must(e.runWith(acts, activities.KeepAccountAliveName, activities.KeepAliveInput{AccountID: e.account.ID}, &res), "keep alive")
	return res
}

// at is the activities with their clock set to d after now.
func (e *env) at(d time.Duration) *activities.Activities {
	acts := *e.acts
	acts.Now = func() time.Time { return time.Now().Add(d) }
	return &acts
}

func TestKeeperRefreshesOnlyWhenDue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.keepAlive(e.acts)
	if res.Stop || res.Next.Before(time.Now().Add(14*time.Minute)) || res.Next.After(time.Now().Add(16*time.Minute)) {
		t.Fatalf("fresh pair: %+v, want to come back in about 15 minutes", res)
	}
	if r := e.ledger().Refreshes; r != 0 {
		t.Fatalf("%d refreshes of a fresh pair", r)
	}

	old := e.storedToken()
	res = e.keepAlive(e.at(16 * time.Minute))
	e.wantRefreshedOnce(old)
	if res.Stop || !res.Next.After(time.Now().Add(14*time.Minute)) {
		t.Fatalf("after the refresh: %+v, want the next one half-way through the new pair's life", res)
	}
}

func TestKeeperStopsWhenTheRefreshIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clock.Advance(sandbox.DefaultRefreshTTL + time.Second) // the DSR let the refresh token lapse

	if res := e.keepAlive(e.at(16 * time.Minute)); !res.Stop {
		t.Fatalf("%+v, want the keeper to stop", res)
	}
	acct, err := e.q.AccountGet(e.ctx, e.account.ID)
	e.must(err, "account")
	if !acct.NeedsReconnect {
		t.Fatal("the account is not marked needs_reconnect")
	}
	// Nothing more to keep: the next round stops without calling the DSR.
	calls := e.ledger()
	if res := e.keepAlive(e.at(16 * time.Minute)); !res.Stop {
		t.Fatalf("%+v", res)
	}
	if again := e.ledger(); again.Refreshes != calls.Refreshes {
		t.Fatal("the keeper tried again an account that needs a new login")
	}
}

func TestKeeperStopsWhenNoOfficeUsesTheAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.q.OfficeUnlink(e.ctx, dbq.OfficeUnlinkParams{SchoolID: e.school.ID, ID: e.office.ID})
	e.must(err, "unlink")
	if res := e.keepAlive(e.at(16 * time.Minute)); !res.Stop {
		t.Fatalf("%+v, want the keeper to stop", res)
	}
	if r := e.ledger().Refreshes; r != 0 {
		t.Fatalf("%d refreshes of an unused account", r)
	}
}
