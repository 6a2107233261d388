package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"livret/db/dbq"
	"livret/db/dbtest"
)

// BenchmarkOutboxTrigger measures what the outbox costs a lesson's hot path: marking a lesson
// sending then transmitted (the run's two statements), with the outbox trigger and with it
// disabled, in one run so the two compare on the same machine state (BENCHMARKS.md):
//
//	go test -run '^$' -bench BenchmarkOutboxTrigger -benchtime 2000x -count 3 ./db/
func BenchmarkOutboxTrigger(b *testing.B) {
	pool := dbtest.New(b)
	ctx := context.Background()
	f := newFixture(b, pool, "E0000000079")
	subscribe(b, pool, f.school.ID, "all", "lesson.transmitted", "lesson.error")
	for _, variant := range []struct {
		name    string
		trigger string
	}{{"trigger", "ENABLE"}, {"no_trigger", "DISABLE"}} {
		round := 0
		b.Run(variant.name, func(b *testing.B) {
			round++
			if _, err := pool.Exec(ctx, "ALTER TABLE transmissions "+variant.trigger+" TRIGGER transmissions_outbox"); err != nil {
				b.Fatal(err)
			}
			ids := make([]int64, b.N)
			start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
			for i := range ids {
				l := f.addLesson(b, fmt.Sprintf("%s-%d-%d", variant.name, round, i), start.Add(time.Duration(i)*time.Hour), 60, "pending")
				ids[i] = l.ID
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := f.q.TransmissionMarkSending(ctx, ids[i]); err != nil {
					b.Fatal(err)
				}
				id := "LEC"
				if _, err := f.q.TransmissionMarkTransmitted(ctx, dbq.TransmissionMarkTransmittedParams{LessonID: ids[i], DsrLessonID: &id}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
