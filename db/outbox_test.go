package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"livret/db"
	"livret/db/dbq"
	"livret/db/dbtest"
)

// events returns the school's events written so far.
func events(t *testing.T, q *dbq.Queries, schoolID int64) []dbq.OutboxEvent {
	t.Helper()
	evs, err := q.OutboxListSince(context.Background(), dbq.OutboxListSinceParams{SchoolID: schoolID, AfterSeq: 0, Lim: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func eventData(t *testing.T, ev dbq.OutboxEvent) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// subscribe adds a webhook subscription row for the given event types (the sealing of its
// secret is school/'s business; the trigger only reads school_id, events and deleted_at).
func subscribe(t testing.TB, pool *pgxpool.Pool, schoolID int64, ref string, types ...string) int64 {
	t.Helper()
	var id int64
	err := pool.QueryRow(context.Background(),
		`INSERT INTO webhooks (school_id, ref, url, events, secret_enc, key_id)
		 VALUES ($1, $2, 'http://127.0.0.1:1/hook', $3, '\x00', 'k1') RETURNING id`, schoolID, ref, types).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var errUndo = errors.New("the change fails after its cause was written")

// TestEventIffCauseCommits: every event is written by the transaction of the change that
// causes it: a change rolled back (on purpose, or because a later statement of its
// transaction failed) leaves no event, no delivery and no wake-up; a committed one leaves
// exactly one event, one delivery per subscription that wants it, and a NOTIFY.
func TestEventIffCauseCommits(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	f := newFixture(t, pool, "E0000000071")
	all := subscribe(t, pool, f.school.ID, "all", "lesson.transmitted", "lesson.error", "run.completed", "run.failed", "office.needs_reconnect")
	onlyErrors := subscribe(t, pool, f.school.ID, "errors", "lesson.error")
	gone := subscribe(t, pool, f.school.ID, "gone", "lesson.transmitted", "lesson.error")
	if _, err := pool.Exec(ctx, `UPDATE webhooks SET deleted_at = now() WHERE id = $1`, gone); err != nil {
		t.Fatal(err)
	}

	listen, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer listen.Release()
	if _, err := listen.Exec(ctx, "LISTEN livret_webhooks"); err != nil {
		t.Fatal(err)
	}
	// notified returns the webhook ids woken since the last call (waiting briefly for none).
	notified := func() map[string]int {
		got := map[string]int{}
		for {
			wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			n, err := listen.Conn().WaitForNotification(wctx)
			cancel()
			if err != nil {
				return got
			}
			got[n.Payload]++
		}
	}

	lesson := f.addLesson(t, "L1", time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), 60, "pending")
	if evs := events(t, f.q, f.school.ID); len(evs) != 0 {
		t.Fatalf("a pending lesson wrote events: %+v", evs)
	}

	// Rolled back on purpose, and rolled back by a failure later in the same transaction.
	for _, rollback := range []func(q *dbq.Queries) error{
		func(q *dbq.Queries) error { return errUndo },
		func(q *dbq.Queries) error {
			_, err := q.SchoolCreate(ctx, dbq.SchoolCreateParams{Name: "dup", Agrement: f.school.Agrement, ApiKeyHash: []byte("x")})
			return err // unique violation on agrement
		},
	} {
		err := db.WithTx(ctx, pool, func(q *dbq.Queries) error {
			if _, err := q.TransmissionMarkSending(ctx, lesson.ID); err != nil {
				return err
			}
			id := "LEC-1"
			if _, err := q.TransmissionMarkTransmitted(ctx, dbq.TransmissionMarkTransmittedParams{LessonID: lesson.ID, DsrLessonID: &id}); err != nil {
				return err
			}
			if evs := events(t, q, f.school.ID); len(evs) != 1 {
				t.Errorf("inside the transaction: %d events, want 1 (the trigger writes it with its cause)", len(evs))
			}
			return rollback(q)
		})
		if err == nil {
			t.Fatal("the transaction did not fail")
		}
		if evs := events(t, f.q, f.school.ID); len(evs) != 0 {
			t.Fatalf("a rolled-back change left events: %+v", evs)
		}
		if n := notified(); len(n) != 0 {
			t.Fatalf("a rolled-back change woke dispatchers: %v", n)
		}
	}
	var deliveries int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries`).Scan(&deliveries); err != nil || deliveries != 0 {
		t.Fatalf("deliveries after rollbacks: %d (%v)", deliveries, err)
	}

	// Committed: one event, a delivery to the one live subscription that wants it.
	id := "LEC-1"
	if _, err := f.q.TransmissionMarkTransmitted(ctx, dbq.TransmissionMarkTransmittedParams{LessonID: lesson.ID, DsrLessonID: &id}); err != nil {
		t.Fatal(err)
	}
	evs := events(t, f.q, f.school.ID)
	if len(evs) != 1 || evs[0].Type != "lesson.transmitted" {
		t.Fatalf("after commit: %+v", evs)
	}
	d := eventData(t, evs[0])
	if d["lesson_ref"] != "L1" || d["office_ref"] != "B1" || d["student_ref"] != "S1" || d["dsr_lesson_id"] != "LEC-1" || d["status"] != "transmitted" {
		t.Errorf("lesson.transmitted data: %v", d)
	}
	// Times in Paris time with their offset, like the API's, whatever the session's zone.
	if d["start"] != "2026-11-30T10:00:00+01:00" || d["end"] != "2026-11-30T11:00:00+01:00" {
		t.Errorf("lesson.transmitted times: start %v, end %v", d["start"], d["end"])
	}
	if len(evs[0].ID) != len("evt_")+32 || evs[0].ID[:4] != "evt_" {
		t.Errorf("event id %q", evs[0].ID)
	}
	wantDeliveries(t, pool, evs[0].Seq, all)
	if n := notified(); n[itoa(all)] == 0 || n[itoa(onlyErrors)] != 0 || n[itoa(gone)] != 0 {
		t.Errorf("NOTIFY after commit woke %v, want only %d", n, all)
	}
	// The same state written again is no new event.
	if n, err := f.q.TransmissionMarkTransmitted(ctx, dbq.TransmissionMarkTransmittedParams{LessonID: lesson.ID, DsrLessonID: &id}); err != nil || n != 0 {
		t.Fatalf("second mark: %d rows, %v", n, err)
	}

	// lesson.error: at entry (Livret's verdict), again when the code changes, not when it stays.
	refused := f.addLesson(t, "L2", time.Date(2026, 11, 30, 11, 0, 0, 0, time.UTC), 60, "pending")
	setError := func(code string) {
		t.Helper()
		if _, err := f.q.TransmissionSetVerdict(ctx, dbq.TransmissionSetVerdictParams{LessonID: refused.ID, SchoolID: f.school.ID,
			OfficeID: f.office.ID, StudentID: f.student.ID, Category: "B", StartsAt: refused.StartsAt, EndsAt: refused.EndsAt,
			Status: "error", Code: code, Message: "message of " + code}); err != nil {
			t.Fatal(err)
		}
	}
	setError("NEPH_INVALIDE")
	setError("NEPH_INVALIDE")
	setError("DUREE_INVALIDE")
	evs = events(t, f.q, f.school.ID)
	if len(evs) != 3 || evs[1].Type != "lesson.error" || evs[2].Type != "lesson.error" {
		t.Fatalf("errors: %+v", evs)
	}
	if d := eventData(t, evs[2]); d["code"] != "DUREE_INVALIDE" || d["message"] != "message of DUREE_INVALIDE" || d["origin"] != "livret" {
		t.Errorf("lesson.error data: %v", d)
	}
	wantDeliveries(t, pool, evs[1].Seq, all, onlyErrors)

	// run.completed / run.failed: the run's end, not its start, once per outcome.
	record := func(wf, outcome string) {
		t.Helper()
		if _, err := f.q.RunRecord(ctx, dbq.RunRecordParams{SchoolID: f.school.ID, OfficeID: f.office.ID, WorkflowID: wf, RunID: "r1",
			BusinessDate: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), StartedAt: time.Now(), Outcome: outcome}); err != nil {
			t.Fatal(err)
		}
	}
	record("run-a", "running")
	record("run-a", "completed")
	record("run-a", "completed")
	record("run-b", "running")
	record("run-b", "failed")
	evs = events(t, f.q, f.school.ID)
	if len(evs) != 5 || evs[3].Type != "run.completed" || evs[4].Type != "run.failed" {
		t.Fatalf("runs: %+v", evs)
	}
	if d := eventData(t, evs[3]); d["office_ref"] != "B1" || d["outcome"] != "completed" || d["run_id"] != "run-a/r1" {
		t.Errorf("run.completed data: %v", d)
	}

	// office.needs_reconnect: one per office on the account, once.
	var accountID int64
	if err := pool.QueryRow(ctx, `INSERT INTO dsr_accounts (school_id, dsr_account_id, email, access_token_enc, refresh_token_enc, key_id, access_expires_at)
		VALUES ($1, 'C1', 'a@example.fr', '\x00', '\x00', 'k1', now()) RETURNING id`, f.school.ID).Scan(&accountID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE offices SET account_id = $1 WHERE id = $2`, accountID, f.office.ID); err != nil {
		t.Fatal(err)
	}
	err = db.WithTx(ctx, pool, func(q *dbq.Queries) error {
		if err := q.AccountMarkNeedsReconnect(ctx, accountID); err != nil {
			return err
		}
		return pgx.ErrTxClosed // any error rolls back
	})
	if err == nil || len(events(t, f.q, f.school.ID)) != 5 {
		t.Fatalf("a rolled-back reconnect mark left an event (%v)", err)
	}
	for range 2 {
		if err := f.q.AccountMarkNeedsReconnect(ctx, accountID); err != nil {
			t.Fatal(err)
		}
	}
	evs = events(t, f.q, f.school.ID)
	if len(evs) != 6 || evs[5].Type != "office.needs_reconnect" {
		t.Fatalf("reconnect: %+v", evs)
	}
	if d := eventData(t, evs[5]); d["office_ref"] != "B1" || d["office_name"] != "Bureau 1" {
		t.Errorf("office.needs_reconnect data: %v", d)
	}
}

func wantDeliveries(t *testing.T, pool *pgxpool.Pool, seq int64, webhooks ...int64) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT webhook_id FROM webhook_deliveries WHERE event_seq = $1 AND status = 'pending' ORDER BY webhook_id`, seq)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(webhooks) {
		t.Fatalf("event %d: deliveries to %v, want %v", seq, got, webhooks)
	}
	for i := range got {
		if got[i] != webhooks[i] {
			t.Fatalf("event %d: deliveries to %v, want %v", seq, got, webhooks)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestOutboxPrune: old events go with their finished deliveries and attempts; an event a
// delivery still waits on stays however old, and so does a recent one.
func TestOutboxPrune(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	f := newFixture(t, pool, "E0000000072")
	hook := subscribe(t, pool, f.school.ID, "all", "lesson.error")
	for i, ref := range []string{"old-done", "old-waiting", "recent"} {
		l := f.addLesson(t, ref, time.Date(2026, 11, 30, 8+i, 0, 0, 0, time.UTC), 60, "pending")
		if _, err := f.q.TransmissionMarkError(ctx, dbq.TransmissionMarkErrorParams{LessonID: l.ID, Code: "DUREE_INVALIDE", Origin: "dsr"}); err != nil {
			t.Fatal(err)
		}
	}
	evs := events(t, f.q, f.school.ID)
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE outbox_events SET created_at = now() - interval '40 days' WHERE seq = ANY($1)`, []int64{evs[0].Seq, evs[1].Seq})
	exec(`UPDATE webhook_deliveries SET status = 'delivered', finished_at = now() WHERE event_seq = $1`, evs[0].Seq)
	exec(`INSERT INTO webhook_attempts (delivery_id, status_code) SELECT id, 200 FROM webhook_deliveries WHERE event_seq = $1`, evs[0].Seq)

	n, err := f.q.OutboxPrune(ctx, dbq.OutboxPruneParams{Before: time.Now().Add(-30 * 24 * time.Hour), Lim: 100})
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want 1", n, err)
	}
	left := events(t, f.q, f.school.ID)
	if len(left) != 2 || left[0].Seq != evs[1].Seq || left[1].Seq != evs[2].Seq {
		t.Fatalf("left %+v", left)
	}
	var deliveries, attempts int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1), (SELECT count(*) FROM webhook_attempts)`, hook).Scan(&deliveries, &attempts); err != nil {
		t.Fatal(err)
	}
	if deliveries != 2 || attempts != 0 {
		t.Errorf("deliveries %d, attempts %d after prune; want 2 and 0", deliveries, attempts)
	}
	if n, err := f.q.OutboxPrune(ctx, dbq.OutboxPruneParams{Before: time.Now().Add(-30 * 24 * time.Hour), Lim: 100}); err != nil || n != 0 {
		t.Fatalf("second prune %d (%v), want 0", n, err)
	}
}
