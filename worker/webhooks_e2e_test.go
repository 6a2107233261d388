package worker_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"livret/db/dbq"
	"livret/db/dbtest"
	"livret/domain"
	"livret/dsr"
	"livret/livretclient"
	"livret/webapi"
	"livret/worker"
	"livret/worker/workertest"
	"livret/workflows"
)

// The webhooks end to end: the API a management software calls (a real webapi over HTTP,
// through livretclient), the worker process's two workers and its LISTEN, the in-process
// Temporal server, PostgreSQL, the sandbox, and a real HTTP receiver.

// hookScale runs the retry schedule 1,000 times as fast: 5 s are 5 ms, 30 min are 1.8 s, and
// 24 h are 86.4 s, so that a loaded machine still delivers a thrice-refused event well within
// its day (at 10,000 times, 8.64 s from the event's writing to its fourth attempt, across
// the worker's start and the run, was once too short on CI).
const hookScale = 0.001

// giveUpScale runs it 10,000 times as fast, 24 h in 8.64 s, for a receiver that never
// answers 2xx: its delivery fails while the test waits.
const giveUpScale = 0.0001

// schoolAPI is a webapi on the stack, as a school's management software sees it.
func schoolAPI(t *testing.T, s *workertest.Stack, school dbq.School) *livretclient.Client {
	t.Helper()
	var handler http.Handler = http.NotFoundHandler()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(api.Close)
	srv, err := webapi.New(webapi.Config{PublicURL: api.URL, AdminToken: "operator-token-of-the-webhook-tests", TokenKey: s.KeySpec,
		DSR:  dsr.Config{BaseURL: s.SandboxURL, ClientID: workertest.ClientID, ClientSecret: workertest.ClientSecret, Timeout: 10 * time.Second},
		Pool: s.Pool, Orchestrator: s.Orchestrator, Logger: slog.New(slog.DiscardHandler)})
	s.Must(err, "webapi")
	handler = srv.Handler()
	return livretclient.New(api.URL, workertest.SchoolAPIKey(school.Agrement))
}

// wantedEvents are the school's events of these types in the outbox, in the order of writing.
func wantedEvents(t *testing.T, s *workertest.Stack, schoolID int64, types ...domain.EventType) []dbq.OutboxEvent {
	t.Helper()
	all, err := s.Q.OutboxListSince(context.Background(), dbq.OutboxListSinceParams{SchoolID: schoolID, AfterSeq: 0, Lim: 100000})
	s.Must(err, "outbox")
	var out []dbq.OutboxEvent
	for _, ev := range all {
		if slices.Contains(types, domain.EventType(ev.Type)) {
			out = append(out, ev)
		}
	}
	return out
}

// dispatcherClosed waits for the subscription's dispatcher to close and returns its last
// execution's run id.
func dispatcherClosed(t *testing.T, s *workertest.Stack, webhookID int64) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		desc, err := s.Client.DescribeWorkflowExecution(context.Background(), workflows.WebhookDispatchID(webhookID), "")
		s.Must(err, "describe the dispatcher")
		info := desc.GetWorkflowExecutionInfo()
		if st := info.GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			if st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				t.Fatalf("the dispatcher ended %s", st)
			}
			return info.GetExecution().GetRunId()
		}
		if time.Now().After(deadline) {
			t.Fatal("the dispatcher still runs")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// longestRun is the run id of the dispatcher's execution with the longest history: the one
// that waited for retries, rather than one woken later that found nothing to do.
func longestRun(t *testing.T, s *workertest.Stack, webhookID int64) string {
	t.Helper()
	resp, err := s.Client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.Namespace,
		Query: "WorkflowId = '" + workflows.WebhookDispatchID(webhookID) + "'"})
	s.Must(err, "list the dispatcher's executions")
	best, length := "", int64(0)
	for _, ex := range resp.GetExecutions() {
		if ex.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED && ex.GetHistoryLength() > length {
			best, length = ex.GetExecution().GetRunId(), ex.GetHistoryLength()
		}
	}
	if best == "" {
		t.Fatal("no completed execution of the dispatcher")
	}
	return best
}

func webhookRow(t *testing.T, s *workertest.Stack, schoolID int64, ref string) dbq.Webhook {
	t.Helper()
	w, err := s.Q.WebhookGetByRef(context.Background(), dbq.WebhookGetByRefParams{SchoolID: schoolID, Ref: ref})
	s.Must(err, "webhook %s", ref)
	return w
}

// A daily run transmits and refuses lessons: the subscribed receiver gets every
// lesson.transmitted, lesson.error and run.completed event of the school, signed, in the
// order they were written, each once it answers 200. A receiver that answers 500 three
// times gets the same webhook-id on each retry, and the deliveries' listing shows the
// attempts and their codes. The test event reaches its subscription only; a deleted subscription gets nothing more. The secret is shown once, and nowhere else.
func TestWebhooksEndToEnd(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{WebhookRetryScale: hookScale})
	ctx := context.Background()
	o := newSmallOffice(t, s)
	api := schoolAPI(t, s, o.school)
	erp, dead := workertest.NewReceiver(t), workertest.NewReceiver(t)

	// The management software subscribes: the secret comes once.
	types := []string{"run.completed", "lesson.transmitted", "lesson.error"}
	hook, created, err := api.PutWebhook(ctx, "erp", livretclient.WebhookInput{URL: erp.URL, Events: types})
	s.Must(err, "subscribe")
	if !created || !strings.HasPrefix(hook.Secret, "whsec_") || len(hook.Secret) != len("whsec_")+44 {
		t.Fatalf("created %v, secret of %d characters", created, len(hook.Secret))
	}
	if want := []string{"lesson.transmitted", "lesson.error", "run.completed"}; !slices.Equal(hook.Events, want) {
		t.Fatalf("events %v, want %v (the documentation's order)", hook.Events, want)
	}
	secret := hook.Secret
	erpRow := webhookRow(t, s, o.school.ID, "erp")
	again, created, err := api.PutWebhook(ctx, "erp", livretclient.WebhookInput{URL: erp.URL, Events: types})
	s.Must(err, "subscribe again")
	if created || again.Secret != "" {
		t.Fatalf("the second PUT: created %v, secret %q", created, again.Secret)
	}
	_, _, err = api.PutWebhook(ctx, "dead", livretclient.WebhookInput{URL: dead.URL, Events: []string{"run.completed"}})
	s.Must(err, "subscribe the dead receiver")
	dead.Answer(func(workertest.Received) int { return http.StatusServiceUnavailable })
	list, err := api.Webhooks(ctx)
	s.Must(err, "list")
	if len(list) != 2 || list[0].Ref != "dead" || list[1].Ref != "erp" || list[0].Secret != "" || list[1].Secret != "" {
		t.Fatalf("list %+v", list)
	}

	// The receiver refuses the first event three times.
	var mu sync.Mutex
	refused := map[string]int{}
	erp.Answer(func(r workertest.Received) int {
		mu.Lock()
		defer mu.Unlock()
		if len(refused) == 0 || (refused[r.ID] > 0 && refused[r.ID] < 3) {
			refused[r.ID]++
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})

	// Lessons: two sent, one refused by the DSR (unknown at the ANTS), one by Livret (no NEPH).
	lea := o.student(s, "E-LEA", "Perrin", "120675000001", true)
	nina := o.student(s, "E-NINA", "Roux", "120675000002", false)
	tom := s.Student(o.school, o.office, workertest.StudentSpec{Ref: "E-TOM", First: "Tom", Last: "Blanc", Category: "B", EvaluationAccepted: true})
	start := workertest.Paris(2026, 1, 5, 15, 0)
	if _, v := s.Lesson(o.school, o.office, tom, o.jean, "L-TOM", domain.TypeConduite, start, start.Add(time.Hour)); v.Status != domain.StatusError {
		t.Fatalf("Tom's lesson: %+v, want Livret's refusal", v)
	}
	o.lesson(s, lea, "L-LEA1", 9)
	o.lesson(s, lea, "L-LEA2", 11)
	o.lesson(s, nina, "L-NINA", 9)
	s.StartWorker()
	res, _, _ := runOffice(t, s, o.school, o.office)
	if res.Outcome != workflows.OutcomeCompleted || res.Counts.Transmitted != 2 || res.Counts.Errors != 1 {
		t.Fatalf("run %+v", res)
	}

	want := wantedEvents(t, s, o.school.ID, domain.EventLessonTransmitted, domain.EventLessonError, domain.EventRunCompleted)
	if len(want) != 5 || want[0].Type != "lesson.error" || want[len(want)-1].Type != "run.completed" {
		t.Fatalf("the outbox holds %d events of the subscribed types: %+v", len(want), want)
	}
	accepted := func(all []workertest.Received) []workertest.Received {
		var out []workertest.Received
		for _, r := range all {
			if r.Status == http.StatusOK {
				out = append(out, r)
			}
		}
		return out
	}
	all := erp.WaitFor(t, time.Minute, "every event", func(all []workertest.Received) bool { return len(accepted(all)) >= len(want) })
	got := accepted(all)
	if len(got) != len(want) {
		t.Fatalf("%d events accepted, want %d", len(got), len(want))
	}
	for i, ev := range want {
		r := got[i]
		if err := workertest.VerifySignature(secret, r); err != nil {
			t.Errorf("event %d (%s): %v", i, ev.Type, err)
		}
		if err := workertest.CheckTimestamp(r); err != nil {
			t.Errorf("event %d (%s): %v", i, ev.Type, err)
		}
		body, err := r.Event()
		s.Must(err, "body")
		if r.ID != ev.ID || body.ID != ev.ID || body.Type != ev.Type {
			t.Errorf("event %d: got %s %s, want %s %s (in the order of writing)", i, r.ID, body.Type, ev.ID, ev.Type)
		}
	}
	// The first event was refused three times: four POSTs, one webhook-id, one body.
	first := want[0]
	var tries []workertest.Received
	for _, r := range all {
		if r.ID == first.ID {
			tries = append(tries, r)
		}
	}
	if len(tries) != 4 || tries[0].Status != 500 || tries[2].Status != 500 || tries[3].Status != 200 {
		t.Fatalf("the first event's POSTs: %d", len(tries))
	}
	for _, r := range tries {
		if string(r.Body) != string(tries[0].Body) || workertest.VerifySignature(secret, r) != nil {
			t.Fatalf("a retry's body or signature differs: %s", r.Body)
		}
	}
	ds, err := api.WebhookDeliveries(ctx, "erp")
	s.Must(err, "deliveries")
	if len(ds) != len(want) {
		t.Fatalf("%d deliveries listed, want %d", len(ds), len(want))
	}
	for _, d := range ds {
		if d.Status != "delivered" || d.FinishedAt == nil || d.NextAttemptAt != nil || d.LastStatusCode == nil || *d.LastStatusCode != 200 {
			t.Errorf("delivery %+v", d)
		}
	}
	oldest := ds[len(ds)-1]
	if oldest.EventID != first.ID || oldest.AttemptCount != 4 || len(oldest.Attempts) != 4 {
		t.Fatalf("the first event's delivery: %+v", oldest)
	}
	for i, a := range oldest.Attempts {
		wantCode := 500
		if i == 3 {
			wantCode = 200
		}
		if a.StatusCode == nil || *a.StatusCode != wantCode || a.Error != nil || a.At == "" {
			t.Errorf("attempt %d: %+v, want %d", i, a, wantCode)
		}
	}
	dispatcherClosed(t, s, erpRow.ID)
	recordHistory(t, s, "webhook_dispatch_with_retries", workflows.WebhookDispatchID(erpRow.ID), longestRun(t, s, erpRow.ID))

	// The test event goes to its subscription only.
	sent, err := api.TestWebhook(ctx, "erp")
	s.Must(err, "test")
	r := erp.WaitFor(t, time.Minute, "the test event", func(all []workertest.Received) bool {
		return len(all) > 0 && all[len(all)-1].ID == sent.EventID
	})
	tev, err := r[len(r)-1].Event()
	s.Must(err, "test body")
	if tev.Type != "webhook.test" || sent.Type != "webhook.test" || workertest.VerifySignature(secret, r[len(r)-1]) != nil {
		t.Fatalf("test event %+v", tev)
	}
	// The dead receiver is still being retried its run.completed: it must get nothing else.
	for _, r := range dead.All() {
		if r.ID == sent.EventID {
			t.Fatal("the other subscription got the test event")
		}
	}

	// Deleted: what was pending is cancelled, nothing more is sent.
	erp.Answer(func(workertest.Received) int { return http.StatusBadGateway })
	_, err = api.TestWebhook(ctx, "erp")
	s.Must(err, "test again")
	erp.WaitFor(t, time.Minute, "the refused test event", func(all []workertest.Received) bool { return all[len(all)-1].Status == 502 })
	s.Must(api.DeleteWebhook(ctx, "erp"), "delete")
	erpID := erpRow.ID
	dispatcherClosed(t, s, erpID)
	posts := len(erp.All())
	if _, err := api.WebhookDeliveries(ctx, "erp"); !livretclient.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("deliveries of a deleted subscription: %v", err)
	}
	if l, err := api.Webhooks(ctx); err != nil || len(l) != 1 || l[0].Ref != "dead" {
		t.Fatalf("list after the delete: %+v %v", l, err)
	}
	rows, err := s.Q.WebhookDeliveryListRecent(ctx, dbq.WebhookDeliveryListRecentParams{WebhookID: erpID, Lim: 1})
	s.Must(err, "erp's deliveries")
	if rows[0].Status != "cancelled" || rows[0].FinishedAt == nil {
		t.Fatalf("the refused test event's delivery: %+v", rows[0])
	}
	// A new event of a wanted type: no delivery for the deleted subscription.
	o.lesson(s, lea, "L-LEA3", 14)
	if res, _, _ := runOffice(t, s, o.school, o.office); res.Counts.Transmitted != 1 {
		t.Fatalf("second run %+v", res)
	}
	after, err := s.Q.WebhookDeliveryListRecent(ctx, dbq.WebhookDeliveryListRecentParams{WebhookID: erpID, Lim: 100})
	s.Must(err, "erp's deliveries")
	if after[0].ID != rows[0].ID || len(erp.All()) != posts {
		t.Fatalf("the deleted subscription got a delivery (%+v) or POSTs (%d, was %d)", after[0], len(erp.All()), posts)
	}

	// The secret: in no table, in clear, hex or base64.
	dump := dbtest.Dump(t, s.Pool, 0)
	if !strings.Contains(dump, "webhooks") {
		t.Fatal("the dump holds no webhooks table: the check proves nothing")
	}
	key := strings.TrimPrefix(secret, "whsec_")
	raw, _ := base64.StdEncoding.DecodeString(key)
	for _, form := range []string{secret, key, hex.EncodeToString([]byte(secret)), hex.EncodeToString(raw),
		base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString(raw)} {
		if strings.Contains(dump, form) {
			t.Fatal("the secret is in the database in clear")
		}
	}
}

// A receiver that never answers 2xx has its delivery failed past 24 h (the schedule shrunk),
// visible in the listing, every attempt a POST it got.
func TestWebhookGivenUpPastTheDay(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{WebhookRetryScale: giveUpScale})
	ctx := context.Background()
	o := newSmallOffice(t, s)
	api := schoolAPI(t, s, o.school)
	dead := workertest.NewReceiver(t)
	dead.Answer(func(workertest.Received) int { return http.StatusServiceUnavailable })
	deadHook, _, err := api.PutWebhook(ctx, "dead", livretclient.WebhookInput{URL: dead.URL, Events: []string{"run.completed"}})
	s.Must(err, "subscribe the dead receiver")
	o.lesson(s, o.student(s, "E-LEA", "Perrin", "120675000001", true), "L-LEA1", 9)
	s.StartWorker()
	if res, _, _ := runOffice(t, s, o.school, o.office); res.Outcome != workflows.OutcomeCompleted {
		t.Fatalf("run %+v", res)
	}

	var failed livretclient.WebhookDelivery
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		dds, err := api.WebhookDeliveries(ctx, deadHook.Ref)
		s.Must(err, "dead deliveries")
		if len(dds) == 1 && dds[0].Status != "pending" {
			failed = dds[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dead receiver's delivery is still %+v", dds)
		}
	}
	// How many attempts fit in the shrunk 24 hours depends on how fast this machine runs the
	// dispatcher (a loaded CI machine fitted 3, an idle one more): the test holds what does not
	// depend on it — failed, every attempt a 503, each one a POST the receiver got.
	if failed.Status != "failed" || failed.Type != "run.completed" || failed.AttemptCount < 1 || failed.FinishedAt == nil ||
		failed.LastStatusCode == nil || *failed.LastStatusCode != 503 {
		t.Fatalf("the dead receiver's delivery: %+v", failed)
	}
	for _, a := range failed.Attempts {
		if a.StatusCode == nil || *a.StatusCode != 503 {
			t.Fatalf("attempt %+v", a)
		}
	}
	if n := len(dead.All()); n != failed.AttemptCount {
		t.Fatalf("the dead receiver got %d POSTs, the listing shows %d attempts", n, failed.AttemptCount)
	}
	deadRow := webhookRow(t, s, o.school.ID, "dead")
	dispatcherClosed(t, s, deadRow.ID)
	recordHistory(t, s, "webhook_dispatch_gives_up", workflows.WebhookDispatchID(deadRow.ID), longestRun(t, s, deadRow.ID))
}

// A delivery whose NOTIFY nobody heard (written here without one, as when no worker
// listened at its commit) gets its dispatcher from the reconciler (EnsureWebhookDispatchers,
// which each listener also runs when it connects, and every worker every minute): one for
// each subscription with pending deliveries, none for the others; it delivers once a
// worker serves the webhooks' queue.
func TestWebhookReconcilerStartsMissedDispatchers(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	ctx := context.Background()
	school := s.School("Auto-école des Plesses", "E0203100010")
	api := schoolAPI(t, s, school)
	rx := workertest.NewReceiver(t)
	hook, _, err := api.PutWebhook(ctx, "erp", livretclient.WebhookInput{URL: rx.URL, Events: []string{"run.failed"}})
	s.Must(err, "subscribe")
	_, _, err = api.PutWebhook(ctx, "idle", livretclient.WebhookInput{URL: rx.URL, Events: []string{"run.failed"}})
	s.Must(err, "subscribe")
	w := webhookRow(t, s, school.ID, "erp")
	var seq int64
	s.Must(s.Pool.QueryRow(ctx, `INSERT INTO outbox_events (school_id, type, data) VALUES ($1, 'run.failed', '{}') RETURNING seq`, school.ID).Scan(&seq), "event")
	_, err = s.Pool.Exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_seq) VALUES ($1, $2)`, w.ID, seq)
	s.Must(err, "delivery without its NOTIFY")

	n, err := worker.EnsureWebhookDispatchers(ctx, s.Q, s.Orchestrator)
	s.Must(err, "reconcile")
	if n != 1 {
		t.Fatalf("%d dispatchers started, want erp's only", n)
	}
	if _, err := s.Client.DescribeWorkflowExecution(ctx, workflows.WebhookDispatchID(w.ID), ""); err != nil {
		t.Fatalf("erp's dispatcher: %v", err)
	}
	if _, err := s.Client.DescribeWorkflowExecution(ctx, workflows.WebhookDispatchID(webhookRow(t, s, school.ID, "idle").ID), ""); err == nil {
		t.Fatal("a dispatcher was started for a subscription with nothing to deliver")
	}
	s.StartWorker()
	got := rx.WaitFor(t, time.Minute, "the missed event", func(all []workertest.Received) bool { return len(all) == 1 })
	if err := workertest.VerifySignature(hook.Secret, got[0]); err != nil {
		t.Fatal(err)
	}
	dispatcherClosed(t, s, w.ID)
}
