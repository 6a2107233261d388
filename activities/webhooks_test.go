package activities_test

// DeliverWebhook against real PostgreSQL and a real HTTP receiver (workertest.Receiver), its
// clock in the test's hands: the signature is checked by a verifier written from the
// Standard Webhooks specification, not by the library Livret signs with.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"livret/activities"
	"livret/db"
	"livret/db/dbq"
	"livret/db/dbtest"
	"livret/domain"
	"livret/worker/workertest"
)

type hookEnv struct {
	t      *testing.T
	ctx    context.Context
	pool   *pgxpool.Pool
	q      *dbq.Queries
	sealer *db.Sealer
	acts   *activities.Activities
	school dbq.School
	rx     *workertest.Receiver

	mu  sync.Mutex
	now time.Time
}

func newHookEnv(t *testing.T) *hookEnv {
	t.Helper()
	e := &hookEnv{t: t, ctx: context.Background(), pool: dbtest.New(t), now: time.Now().Truncate(time.Microsecond)}
	e.q = dbq.New(e.pool)
	sealer, err := db.ParseSealer(db.NewKeySpec("k1"))
	e.must(err)
	e.sealer = sealer
	key := sha256.Sum256([]byte("api-key-of-" + agrement))
	e.school, err = e.q.SchoolCreate(e.ctx, dbq.SchoolCreateParams{Name: "Auto-école des Plesses", Agrement: agrement, ApiKeyHash: key[:]})
	e.must(err)
	e.rx = workertest.NewReceiver(t)
	e.acts = &activities.Activities{Pool: e.pool, Sealer: sealer, WebhookHTTP: activities.NewWebhookHTTPClient(), Now: e.clock}
	return e
}

func (e *hookEnv) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *hookEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *hookEnv) set(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = t
}

// subscribe creates a subscription as PUT /v1/webhooks does: the row, then its secret
// sealed against its id.
func (e *hookEnv) subscribe(sealer *db.Sealer, ref, url string, events ...domain.EventType) (dbq.Webhook, string) {
	e.t.Helper()
	var names []string
	for _, ev := range events {
		names = append(names, string(ev))
	}
	w, err := e.q.WebhookInsert(e.ctx, dbq.WebhookInsertParams{SchoolID: e.school.ID, Ref: ref, Url: url, Events: names,
		SecretEnc: []byte{}, KeyID: sealer.CurrentKeyID()})
	e.must(err)
	secret := db.NewWebhookSecret()
	enc, keyID := sealer.SealWebhookSecret(w.ID, secret)
	e.must(e.q.WebhookSetSecret(e.ctx, dbq.WebhookSetSecretParams{ID: w.ID, SecretEnc: enc, KeyID: keyID, OldKeyID: w.KeyID}))
	w, err = e.q.WebhookGet(e.ctx, w.ID)
	e.must(err)
	return w, secret
}

// emit writes an event as the triggers do (outbox_emit), fanned out to the subscriptions.
func (e *hookEnv) emit(typ domain.EventType, data map[string]any) dbq.OutboxEvent {
	e.t.Helper()
	b, err := json.Marshal(data)
	e.must(err)
	seq, err := e.q.OutboxEmit(e.ctx, dbq.OutboxEmitParams{SchoolID: e.school.ID, Type: string(typ), Data: b})
	e.must(err)
	ev, err := e.q.OutboxGet(e.ctx, seq)
	e.must(err)
	return ev
}

func (e *hookEnv) deliver(acts *activities.Activities, w dbq.Webhook) activities.DeliverWebhookResult {
	e.t.Helper()
	val, err := activityEnv(acts).ExecuteActivity(activities.DeliverWebhookName, activities.DeliverWebhookInput{WebhookID: w.ID})
	e.must(err)
	var res activities.DeliverWebhookResult
	e.must(val.Get(&res))
	return res
}

// deliveries are the subscription's deliveries, newest first, and their attempts' codes.
func (e *hookEnv) deliveries(w dbq.Webhook) ([]dbq.WebhookDeliveryListRecentRow, map[int64][]*int32) {
	e.t.Helper()
	ds, err := e.q.WebhookDeliveryListRecent(e.ctx, dbq.WebhookDeliveryListRecentParams{WebhookID: w.ID, Lim: 100})
	e.must(err)
	var ids []int64
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	as, err := e.q.WebhookAttemptListByDeliveries(e.ctx, dbq.WebhookAttemptListByDeliveriesParams{DeliveryIds: ids, PerDelivery: 100})
	e.must(err)
	codes := map[int64][]*int32{}
	for _, a := range as {
		codes[a.DeliveryID] = append(codes[a.DeliveryID], a.StatusCode)
	}
	return ds, codes
}

// Every due delivery goes out in the order of its events, signed, with the outbox row as
// its body; an event of a type the subscription did not ask for is not sent to it.
func TestDeliverWebhookSignsInOrder(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	w, secret := e.subscribe(e.sealer, "erp", e.rx.URL, domain.EventLessonTransmitted, domain.EventLessonError, domain.EventRunCompleted)
	evs := []dbq.OutboxEvent{
		e.emit(domain.EventLessonTransmitted, map[string]any{"lesson_ref": "L1", "dsr_lesson_id": "LEC-1"}),
		e.emit(domain.EventLessonError, map[string]any{"lesson_ref": "L2", "code": "ELEVE_INTROUVABLE", "message": "Élève inconnu"}),
	}
	e.emit(domain.EventOfficeNeedsReconnect, map[string]any{"office_ref": "B1"}) // not asked for
	evs = append(evs, e.emit(domain.EventRunCompleted, map[string]any{"office_ref": "B1", "transmitted": 1}))

	res := e.deliver(e.acts, w)
	if res != (activities.DeliverWebhookResult{Delivered: 3}) {
		t.Fatalf("result %+v, want 3 delivered and nothing pending", res)
	}
	got := e.rx.All()
	if len(got) != len(evs) {
		t.Fatalf("%d POSTs, want %d", len(got), len(evs))
	}
	for i, ev := range evs {
		g := got[i]
		if err := workertest.VerifySignature(secret, g); err != nil {
			t.Errorf("POST %d: %v", i, err)
		}
		if err := workertest.CheckTimestamp(g); err != nil { // the clock is the real one's here
			t.Errorf("POST %d: %v", i, err)
		}
		if g.ID != ev.ID || g.ContentType != "application/json" || g.Timestamp == "" {
			t.Errorf("POST %d: id %q content type %q, want the event's id %q", i, g.ID, g.ContentType, ev.ID)
		}
		body, err := g.Event()
		e.must(err)
		var sent, stored any
		e.must(json.Unmarshal(body.Data, &sent))
		e.must(json.Unmarshal(ev.Data, &stored))
		created, err := time.Parse(time.RFC3339Nano, body.CreatedAt)
		e.must(err)
		if body.ID != ev.ID || body.Type != ev.Type || !created.Equal(ev.CreatedAt) || !jsonEqual(sent, stored) {
			t.Errorf("POST %d body %s, want event %s %s %s %s", i, g.Body, ev.ID, ev.Type, ev.CreatedAt, ev.Data)
		}
		// The same secret, another key: the verifier is not fooled.
		if workertest.VerifySignature(db.NewWebhookSecret(), g) == nil {
			t.Errorf("POST %d verifies with another secret", i)
		}
		tampered := g
		tampered.Body = bytes.Replace(g.Body, []byte(`"type"`), []byte(`"typ\u0065"`), 1)
		if workertest.VerifySignature(secret, tampered) == nil {
			t.Errorf("POST %d verifies with another body", i)
		}
	}
	ds, codes := e.deliveries(w)
	for _, d := range ds {
		if d.Status != string(domain.DeliveryDelivered) || d.Attempts != 1 || d.FinishedAt == nil || len(codes[d.ID]) != 1 || *codes[d.ID][0] != 200 {
			t.Errorf("delivery of %s: %+v, attempts %v", d.EventID, d, codes[d.ID])
		}
	}
	// Nothing more to do: a second call POSTs nothing.
	if res := e.deliver(e.acts, w); res != (activities.DeliverWebhookResult{}) || len(e.rx.All()) != 3 {
		t.Fatalf("second call %+v, %d POSTs", res, len(e.rx.All()))
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// A refused POST waits for its retry on the schedule, and holds back the events after it;
// each retry carries the same webhook-id and the same body; the attempts are recorded with
// their status codes.
func TestDeliverWebhookRetriesHeadOfLine(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	w, secret := e.subscribe(e.sealer, "erp", e.rx.URL, domain.EventLessonTransmitted)
	var posts atomic.Int32
	e.rx.Answer(func(workertest.Received) int {
		if posts.Add(1) <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	first := e.emit(domain.EventLessonTransmitted, map[string]any{"lesson_ref": "L1"})
	second := e.emit(domain.EventLessonTransmitted, map[string]any{"lesson_ref": "L2"})

	t0 := e.clock()
	if res := e.deliver(e.acts, w); res.Retried != 1 || res.Delivered != 0 || !res.NextAttemptAt.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("first call %+v, want one retry at t0+5s", res)
	}
	e.set(t0.Add(time.Second)) // not due yet: nothing is POSTed
	if res := e.deliver(e.acts, w); res.Retried != 0 || !res.NextAttemptAt.Equal(t0.Add(5*time.Second)) || len(e.rx.All()) != 1 {
		t.Fatalf("call before the retry is due: %+v, %d POSTs", res, len(e.rx.All()))
	}
	e.set(t0.Add(5 * time.Second))
	if res := e.deliver(e.acts, w); res.Retried != 1 || !res.NextAttemptAt.Equal(t0.Add(5*time.Second+5*time.Minute)) {
		t.Fatalf("second attempt %+v, want a retry 5 min later", res)
	}
	e.set(t0.Add(5*time.Second + 5*time.Minute))
	if res := e.deliver(e.acts, w); res.Delivered != 2 || res.Retried != 0 || !res.NextAttemptAt.IsZero() {
		t.Fatalf("third attempt %+v, want both delivered", res)
	}

	got := e.rx.All()
	if len(got) != 4 {
		t.Fatalf("%d POSTs, want 3 of the first event and 1 of the second", len(got))
	}
	for i, g := range got[:3] {
		if g.ID != first.ID || !bytes.Equal(g.Body, got[0].Body) {
			t.Errorf("retry %d: id %s body %s, want the first event's id and body again", i, g.ID, g.Body)
		}
	}
	if got[3].ID != second.ID {
		t.Errorf("the second event went out as %s", got[3].ID)
	}
	for i, g := range got {
		if err := workertest.VerifySignature(secret, g); err != nil {
			t.Errorf("POST %d: %v", i, err)
		}
	}
	ds, codes := e.deliveries(w)
	head := ds[1] // newest first
	if head.EventID != first.ID || head.Status != "delivered" || head.Attempts != 3 || *head.LastStatusCode != 204 {
		t.Fatalf("first delivery %+v", head)
	}
	var seen []int32
	for _, c := range codes[head.ID] {
		seen = append(seen, *c)
	}
	if len(seen) != 3 || seen[0] != 500 || seen[1] != 500 || seen[2] != 204 {
		t.Fatalf("attempts' codes %v, want 500 500 204", seen)
	}
}

// Past 24 hours, a failed attempt gives the delivery up, and the next event's turn comes; an
// attempt that gets no answer says why, in French.
func TestDeliverWebhookGivesUpAfter24Hours(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	w, _ := e.subscribe(e.sealer, "erp", e.rx.URL, domain.EventLessonError)
	e.rx.Down()
	e.emit(domain.EventLessonError, map[string]any{"lesson_ref": "L1"})
	younger := e.emit(domain.EventLessonError, map[string]any{"lesson_ref": "L2"})

	if res := e.deliver(e.acts, w); res.Retried != 1 {
		t.Fatalf("first call %+v", res)
	}
	e.set(younger.CreatedAt.Add(domain.WebhookGiveUpAfter))
	if res := e.deliver(e.acts, w); res.Failed != 2 || res.Retried != 0 || !res.NextAttemptAt.IsZero() {
		t.Fatalf("call at 24 h: %+v, want both given up (the second event is 24 h old too)", res)
	}
	ds, _ := e.deliveries(w)
	for _, d := range ds {
		if d.Status != string(domain.DeliveryFailed) || d.FinishedAt == nil || d.LastStatusCode != nil ||
			d.LastError != domain.WebhookCut.Sentence() {
			t.Errorf("delivery %+v, want failed with the cut connection's sentence", d)
		}
	}
	if e.rx.Resets() != 3 || len(e.rx.All()) != 0 {
		t.Fatalf("%d connections reset, %d POSTs served", e.rx.Resets(), len(e.rx.All()))
	}
}

// A redirect is an answer that is not a 2xx: it is not followed, and the delivery is retried.
func TestDeliverWebhookFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, e.rx.URL, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)
	w, _ := e.subscribe(e.sealer, "erp", redirect.URL, domain.EventRunCompleted)
	e.emit(domain.EventRunCompleted, map[string]any{"office_ref": "B1"})
	if res := e.deliver(e.acts, w); res.Retried != 1 {
		t.Fatalf("result %+v", res)
	}
	ds, _ := e.deliveries(w)
	if len(e.rx.All()) != 0 || ds[0].LastStatusCode == nil || *ds[0].LastStatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("the redirect was followed (%d POSTs) or not recorded: %+v", len(e.rx.All()), ds[0])
	}
}

// A deleted subscription ends its dispatcher, and what it had pending is never sent.
func TestDeliverWebhookEndsWhenDeleted(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	w, _ := e.subscribe(e.sealer, "erp", e.rx.URL, domain.EventRunCompleted)
	e.emit(domain.EventRunCompleted, map[string]any{"office_ref": "B1"})
	_, err := e.q.WebhookDelete(e.ctx, dbq.WebhookDeleteParams{SchoolID: e.school.ID, Ref: "erp"})
	e.must(err)
	if res := e.deliver(e.acts, w); !res.Gone || len(e.rx.All()) != 0 {
		t.Fatalf("result %+v, %d POSTs", res, len(e.rx.All()))
	}
}

// A secret sealed with a key that is no longer the current one is sealed again with the
// current key at its next delivery: an old key can then be dropped.
func TestDeliverWebhookResealsWithTheCurrentKey(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	oldSpec := db.NewKeySpec("old")
	old, err := db.ParseSealer(oldSpec)
	e.must(err)
	w, secret := e.subscribe(old, "erp", e.rx.URL, domain.EventRunCompleted)
	rotated, err := db.ParseSealer(db.NewKeySpec("new") + "," + oldSpec)
	e.must(err)
	acts := *e.acts
	acts.Sealer = rotated
	e.emit(domain.EventRunCompleted, map[string]any{"office_ref": "B1"})
	if res := e.deliver(&acts, w); res.Delivered != 1 {
		t.Fatalf("result %+v", res)
	}
	if err := workertest.VerifySignature(secret, e.rx.All()[0]); err != nil {
		t.Fatal(err)
	}
	w, err = e.q.WebhookGet(e.ctx, w.ID)
	e.must(err)
	if w.KeyID != "new" {
		t.Fatalf("secret still sealed with %q", w.KeyID)
	}
	if again, err := rotated.OpenWebhookSecret(w); err != nil || again != secret {
		t.Fatalf("the secret sealed again does not open to itself: %v", err)
	}
}

// A rolling restart: the worker starts to stop while a delivery's POST is with the receiver.
// The call records that delivery and ends there, saying there is more (the dispatcher calls
// again at once, on a worker that stays) rather than running on to the stop timeout.
func TestDeliverWebhookEndsWhenTheWorkerStops(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	w, _ := e.subscribe(e.sealer, "erp", e.rx.URL, domain.EventLessonTransmitted)
	for _, ref := range []string{"L1", "L2", "L3"} {
		e.emit(domain.EventLessonTransmitted, map[string]any{"lesson_ref": ref})
	}
	stop := make(chan struct{})
	var once sync.Once
	e.rx.Answer(func(workertest.Received) int {
		once.Do(func() { close(stop) })
		return http.StatusOK
	})
	ae := activityEnv(e.acts)
	ae.SetWorkerStopChannel(stop)
	val, err := ae.ExecuteActivity(activities.DeliverWebhookName, activities.DeliverWebhookInput{WebhookID: w.ID})
	e.must(err)
	var res activities.DeliverWebhookResult
	e.must(val.Get(&res))
	if res != (activities.DeliverWebhookResult{Delivered: 1, More: true}) || len(e.rx.All()) != 1 {
		t.Fatalf("the stopping worker's call: %+v, %d POSTs; want the one in hand delivered, and more", res, len(e.rx.All()))
	}
	if res := e.deliver(e.acts, w); res != (activities.DeliverWebhookResult{Delivered: 2}) || len(e.rx.All()) != 3 {
		t.Fatalf("the next call: %+v, %d POSTs", res, len(e.rx.All()))
	}
}
