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

// A block of slots reserved in one statement is the account's next n slots: the next block
// (or single call) starts after its last, and a call under the block takes its slots in turn.
func TestRateLimiterReservesBlocks(t *testing.T) {
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
	l := &RateLimiter{Pool: pool, PerMinute: 600, Headroom: 0.98}
	first, err := l.Reserve(ctx, acct.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	second, err := l.Reserve(ctx, acct.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	// Each block is placed on the local clock from the database's as the answer arrives, so
	// the gap seen here is off by the difference of two round trips (as a single call's wait
	// is): far under the headroom's margin, which is what absorbs it.
	if gap := second.From.Sub(first.From); gap < 10*l.Spacing()-100*time.Millisecond {
		t.Fatalf("second block starts %s after the first, want at least %s", gap, 10*l.Spacing())
	}
	slots := 0
	for {
		at, ok := first.take()
		if !ok {
			break
		}
		if want := first.From.Add(time.Duration(slots) * l.Spacing()); !at.Equal(want) {
			t.Fatalf("slot %d at %s, want %s", slots, at, want)
		}
		slots++
	}
	if slots != 10 {
		t.Fatalf("the block handed out %d slots, want 10", slots)
	}
	// No limit: nothing reserved.
	if b, err := (&RateLimiter{Pool: pool}).Reserve(ctx, acct.ID, 3); b != nil || err != nil {
		t.Fatalf("unlimited Reserve = %v, %v", b, err)
	}
}
