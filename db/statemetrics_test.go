package db_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"livret/db"
	"livret/db/dbq"
	"livret/db/dbtest"
)

// TestStateCollectorCountsWhatTheTablesHold puts runs of every kind and accounts in and out
// of "reconnexion nécessaire" in a fresh database, and checks every number the collector
// exports against what was put there: a run that ended outside the window, an account no
// office uses and a healthy account count for nothing.
func TestStateCollectorCountsWhatTheTablesHold(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	f := newFixture(t, pool, "E0000000071")
	q := f.q

	office := func(ref string) dbq.Office {
		o, err := q.OfficeUpsert(ctx, dbq.OfficeUpsertParams{SchoolID: f.school.ID, Ref: ref, Name: "Bureau " + ref})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	account := func(id string, needsReconnect bool, offices ...dbq.Office) {
		a, err := q.AccountUpsert(ctx, dbq.AccountUpsertParams{SchoolID: f.school.ID, DsrAccountID: id, Email: id + "@example.fr",
			AccessTokenEnc: []byte("a"), RefreshTokenEnc: []byte("r"), KeyID: "k1", AccessExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if needsReconnect {
			if err := q.AccountMarkNeedsReconnect(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range offices {
			if _, err := q.OfficeLink(ctx, dbq.OfficeLinkParams{SchoolID: f.school.ID, ID: o.ID, AccountID: &a.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	b2, b3, b4 := office("B2"), office("B3"), office("B4")
	account("needs-two-offices", true, f.office, b2)
	account("needs-no-office", true) // used by no office: nothing to reconnect
	account("healthy", false, b3, b4)

	seq := 0
	run := func(outcome string, started time.Time) dbq.Run {
		seq++
		r, err := q.RunRecord(ctx, dbq.RunRecordParams{SchoolID: f.school.ID, OfficeID: f.office.ID,
			WorkflowID: fmt.Sprintf("livret-run-%d", seq), RunID: "r1", BusinessDate: started, StartedAt: started, Outcome: outcome})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	now := time.Now()
	run("failed", now.Add(-time.Hour))
	run("failed", now.Add(-2*time.Hour))
	run("completed", now.Add(-time.Hour))
	run("needs_reconnect", now.Add(-time.Hour))
	run("running", now.Add(-90*time.Minute))
	run("running", now.Add(-10*time.Minute))
	old := run("failed", now.Add(-26*time.Hour))
	// Ended 25 hours ago: outside the 24 hours livret_runs_recent counts.
	if _, err := pool.Exec(ctx, "UPDATE runs SET finished_at = now() - interval '25 hours' WHERE id = $1", old.ID); err != nil {
		t.Fatal(err)
	}

	clock := now
	c := &db.StateCollector{Pool: pool, Now: func() time.Time { return clock }}
	want := `
# HELP livret_db_state_up 1 when the last read of the state metrics (livret_runs_*, livret_*_needing_reconnect) from PostgreSQL succeeded, 0 when it failed or timed out.
# TYPE livret_db_state_up gauge
livret_db_state_up 1
# HELP livret_dsr_accounts_needing_reconnect RdvPermis accounts used by an office whose tokens the DSR refused: an admin must log in again.
# TYPE livret_dsr_accounts_needing_reconnect gauge
livret_dsr_accounts_needing_reconnect 1
# HELP livret_offices_needing_reconnect Offices linked to an RdvPermis account that needs a new login.
# TYPE livret_offices_needing_reconnect gauge
livret_offices_needing_reconnect 2
# HELP livret_runs_recent Runs of every school that ended in the last 24 hours, by outcome.
# TYPE livret_runs_recent gauge
livret_runs_recent{outcome="completed"} 1
livret_runs_recent{outcome="failed"} %d
livret_runs_recent{outcome="needs_reconnect"} 1
livret_runs_recent{outcome="not_linked"} 0
livret_runs_recent{outcome="school_closed"} 0
# HELP livret_runs_running Runs of every school recorded as running now.
# TYPE livret_runs_running gauge
livret_runs_running 2
`
	names := []string{"livret_db_state_up", "livret_dsr_accounts_needing_reconnect", "livret_offices_needing_reconnect", "livret_runs_recent", "livret_runs_running"}
	if err := testutil.CollectAndCompare(c, strings.NewReader(fmt.Sprintf(want, 2)), names...); err != nil {
		t.Fatal(err)
	}
	// The oldest run still running started 90 minutes ago (PostgreSQL's clock: a bound, not
	// an exact figure).
	if age := gaugeValue(t, c, "livret_runs_running_oldest_age_seconds"); age < 90*60 || age > 90*60+3600 {
		t.Errorf("livret_runs_running_oldest_age_seconds = %v, want about %v", age, 90*60)
	}

	// A third failure: the cached read serves the scrapes of the next 15 s, then a new read
	// counts it.
	run("failed", now)
	if err := testutil.CollectAndCompare(c, strings.NewReader(fmt.Sprintf(want, 2)), names...); err != nil {
		t.Fatalf("within the cache's 15 s: %v", err)
	}
	clock = now.Add(16 * time.Second)
	if err := testutil.CollectAndCompare(c, strings.NewReader(fmt.Sprintf(want, 3)), names...); err != nil {
		t.Fatalf("after the cache's 15 s: %v", err)
	}
}

// TestStateCollectorSaysWhenItCannotRead: a database that does not answer gives
// livret_db_state_up 0 and no count at all, not stale or zero counts that look healthy.
func TestStateCollectorSaysWhenItCannotRead(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	c := db.NewStateCollector(pool)
	if got := testutil.CollectAndCount(c); got != 10 {
		t.Fatalf("a database that answers: %d series, want 10", got)
	}
	pool.Close()
	c = db.NewStateCollector(pool)
	want := `
# HELP livret_db_state_up 1 when the last read of the state metrics (livret_runs_*, livret_*_needing_reconnect) from PostgreSQL succeeded, 0 when it failed or timed out.
# TYPE livret_db_state_up gauge
livret_db_state_up 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// TestRunOutcomesAreTheTablesOutcomes: livret_runs_recent shows db.RunOutcomes, which must be
// what the CHECK runs_outcome_known allows (less 'running'), or an outcome would go unseen.
func TestRunOutcomesAreTheTablesOutcomes(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	var def string
	if err := pool.QueryRow(context.Background(),
		"SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'runs_outcome_known'").Scan(&def); err != nil {
		t.Fatal(err)
	}
	var allowed []string
	for _, m := range regexp.MustCompile(`'([a-z_]+)'`).FindAllStringSubmatch(def, -1) {
		if m[1] != "running" {
			allowed = append(allowed, m[1])
		}
	}
	got := slices.Clone(db.RunOutcomes)
	slices.Sort(got)
	slices.Sort(allowed)
	if !slices.Equal(got, allowed) {
		t.Errorf("db.RunOutcomes = %v, the table allows %v (%s)", got, allowed, def)
	}
}

func gaugeValue(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no series %s", name)
	return 0
}
