package activities

import (
	"context"
	"crypto/sha256"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"livret/db/dbq"
	"livret/db/dbtest"
)

// Slots handed out by the Postgres limiter to several limiters (as several worker processes
// would hold) are spaced by 60 s / limit: no 60 s window can hold more than the limit.
func TestRateLimiterSpacesSlotsAcrossProcesses(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	q := dbq.New(pool)
	key := sha256.Sum256([]byte("k"))
	school, err := q.SchoolCreate(ctx, dbq.SchoolCreateParams{Name: "AE", Agrement: "E0000000001", ApiKeyHash: key[:]})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := q.AccountUpsert(ctx, dbq.AccountUpsertParams{SchoolID: school.ID, DsrAccountID: "C1", Email: "a@b.fr",
		AccessTokenEnc: []byte{}, RefreshTokenEnc: []byte{}, KeyID: "k", AccessExpiresAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	limiters := []*RateLimiter{{Pool: pool, PerMinute: 210, Headroom: 0.98}, {Pool: pool, PerMinute: 210, Headroom: 0.98}}
	spacing := limiters[0].Spacing()
	perMinute, headroom := 210.0, 0.98
	if got := time.Duration(float64(time.Minute) / (perMinute * headroom)); spacing != got {
		t.Fatalf("spacing %s, want %s", spacing, got)
	}
	// Reserve slots concurrently from both limiters without waiting for them.
	var mu sync.Mutex
	var slots []time.Time
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(l *RateLimiter) {
			defer wg.Done()
			r, err := dbq.New(l.Pool).RateReserve(ctx, dbq.RateReserveParams{AccountID: acct.ID,
				Spacing: pgtype.Interval{Microseconds: l.Spacing().Microseconds(), Valid: true}})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			slots = append(slots, r.Slot)
			mu.Unlock()
		}(limiters[i%2])
	}
	wg.Wait()
	sort.Slice(slots, func(i, j int) bool { return slots[i].Before(slots[j]) })
	for i := 1; i < len(slots); i++ {
		if gap := slots[i].Sub(slots[i-1]); gap < spacing-time.Microsecond {
			t.Fatalf("slots %d and %d are %s apart, less than %s", i-1, i, gap, spacing)
		}
	}
	// 210 slots in a row span more than a minute: the 211th call of any window waits.
	if window := time.Duration(209) * spacing; window <= 59*time.Second {
		t.Fatalf("210 calls would fit in %s", window)
	}
	// A limiter with no limit never waits and reserves nothing.
	if err := (&RateLimiter{Pool: pool}).Wait(ctx, acct.ID); err != nil {
		t.Fatal(err)
	}
}

// A slot is reserved when the call is about to go: after the account was idle (its next
// slot long past), the reservation is now, not the past slot, so a late call never goes
// out in a burst with the ones before it; the next reservation is one spacing later.
func TestRateLimiterNeverHandsOutAPastSlot(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	q := dbq.New(pool)
	key := sha256.Sum256([]byte("k"))
	school, err := q.SchoolCreate(ctx, dbq.SchoolCreateParams{Name: "AE", Agrement: "E0000000001", ApiKeyHash: key[:]})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := q.AccountUpsert(ctx, dbq.AccountUpsertParams{SchoolID: school.ID, DsrAccountID: "C1", Email: "a@b.fr",
		AccessTokenEnc: []byte{}, RefreshTokenEnc: []byte{}, KeyID: "k", AccessExpiresAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	l := &RateLimiter{Pool: pool, PerMinute: 60, Headroom: 0.98}
	spacing := pgtype.Interval{Microseconds: l.Spacing().Microseconds(), Valid: true}
	if _, err := q.RateReserve(ctx, dbq.RateReserveParams{AccountID: acct.ID, Spacing: spacing}); err != nil {
		t.Fatal(err)
	}
	// The account has been idle for ten minutes.
	if _, err := pool.Exec(ctx, `UPDATE dsr_rate SET next_slot = clock_timestamp() - interval '10 minutes' WHERE account_id = $1`, acct.ID); err != nil {
		t.Fatal(err)
	}
	late, err := q.RateReserve(ctx, dbq.RateReserveParams{AccountID: acct.ID, Spacing: spacing})
	if err != nil {
		t.Fatal(err)
	}
	if late.Slot.Before(late.DbNow.Add(-time.Second)) {
		t.Fatalf("after an idle account the slot is %s, %s before the database's now: a past slot", late.Slot, late.DbNow.Sub(late.Slot))
	}
	next, err := q.RateReserve(ctx, dbq.RateReserveParams{AccountID: acct.ID, Spacing: spacing})
	if err != nil {
		t.Fatal(err)
	}
	if gap := next.Slot.Sub(late.Slot); gap < l.Spacing()-time.Microsecond {
		t.Fatalf("the next slot is %s after the late one, want at least %s", gap, l.Spacing())
	}
}
