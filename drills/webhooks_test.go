package drills

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"livret/db/dbq"
	"livret/domain"
	livschool "livret/school"
	"livret/worker/workertest"
)

// webhooks: each school's management software is subscribed to every event type. Once a
// fifth of the lessons are at the DSR, both receivers refuse every POST (500) for 3 s, then
// are down (every connection reset) for 12 s, then answer 200 again, each POST taking them
// 20 ms; once they have taken a few events of the backlog, one of the three workers is
// killed with SIGKILL three times, 0.3 to 1 s apart, and restarted: a POST cut by a kill was
// received all the same, and its retry makes a duplicate (at least once). Afterwards every event of the schools' outbox must have been accepted by its
// receiver at least once, every POST signed (checked with a verifier written from the
// Standard Webhooks specification), every retry of one event under its one webhook-id with
// the same body, and no delivery left pending, failed or cancelled.

// webhookDrillScale runs the retry schedule 333 times as fast: after the first failure the
// head is attempted again 15 ms, 0.9 s, 5.4 s and 21.6 s later (the first three within the
// refusals, the fourth in the outage, the fifth once the receivers are back), and the 24
// hours are 259 s, beyond what the backlog waits even when each kill stalls a dispatcher for
// its heartbeat timeout (30 s).
const webhookDrillScale = 0.003

func webhookOptions(*testing.T, *drill) workertest.Options {
	return workertest.Options{WebhookRetryScale: webhookDrillScale}
}

// webhookReport is what the webhooks drill adds to the report.
type webhookReport struct {
	Events     int `json:"events"`
	Deliveries int `json:"deliveries"`
	// POSTs is every POST the receivers got; Accepted those they answered 200.
	POSTs    int `json:"posts_received"`
	Accepted int `json:"posts_accepted"`
	// Duplicates: events accepted more than once (a worker killed between the POST and its
	// record: at least once).
	Duplicates int `json:"duplicates_received"`
	// Retries: attempts beyond each delivery's first (refused, cut, or lost with a worker).
	Retries int `json:"retries"`
	// Refused are the POSTs answered 500; Resets the connections cut while down.
	Refused int   `json:"posts_refused"`
	Resets  int64 `json:"connections_reset"`
	Kills   int   `json:"worker_kills"`
	// What must be 0.
	Lost         int `json:"events_lost"`
	BadSignature int `json:"bad_signatures"`
	BadID        int `json:"retries_with_another_id_or_body"`
	NotDelivered int `json:"deliveries_not_delivered"`
	// DrainS: from the receivers' recovery to the last delivery's record.
	DrainS float64 `json:"drain_s"`
}

func (r *webhookReport) failed() string {
	if r.Lost == 0 && r.BadSignature == 0 && r.BadID == 0 && r.NotDelivered == 0 {
		return ""
	}
	return fmt.Sprintf("webhooks: %d events lost, %d bad signatures, %d retries under another id or body, %d deliveries not delivered",
		r.Lost, r.BadSignature, r.BadID, r.NotDelivered)
}

type subscriber struct {
	school dbq.School
	rx     *workertest.Receiver
	secret string
}

func webhookDrill(t *testing.T, d *drill) time.Time {
	ctx := context.Background()
	svc := &livschool.Service{Pool: d.s.Pool, Sealer: d.s.Tokens.Sealer, Orchestrator: d.s.Orchestrator, Logger: slog.New(slog.DiscardHandler)}
	var all []string
	for _, typ := range domain.SubscribableEvents() {
		all = append(all, string(typ))
	}
	var subs []subscriber
	for _, school := range d.schools {
		rx := workertest.NewReceiver(t)
		w, isNew, err := svc.PutWebhook(ctx, school, "logiciel", livschool.WebhookInput{URL: rx.URL, Events: all})
		if err != nil || !isNew {
			t.Fatalf("subscribe %s: %v", school.Name, err)
		}
		subs = append(subs, subscriber{school: school, rx: rx, secret: w.Secret})
	}
	d.seed(t, lessonsPerDrill())
	d.launch(t, 3)

	d.waitAtDSR(t, len(d.lessons)/5)
	t.Logf("receivers refuse (500) with %d lessons at the DSR", d.atDSR(t))
	for _, s := range subs {
		s.rx.Answer(func(workertest.Received) int { return http.StatusInternalServerError })
	}
	time.Sleep(3 * time.Second)
	t.Logf("receivers down with %d lessons at the DSR", d.atDSR(t))
	for _, s := range subs {
		s.rx.Down()
		s.rx.Answer(nil)
		s.rx.Delay(20 * time.Millisecond)
	}
	time.Sleep(12 * time.Second)
	accepted := func() int {
		n := 0
		for _, s := range subs {
			n += len(s.rx.Accepted())
		}
		return n
	}
	before := accepted()
	for _, s := range subs {
		s.rx.Up()
	}
	recovered := time.Now()
	t.Logf("receivers up with %d lessons at the DSR, %d events accepted so far", d.atDSR(t), before)
	for deadline := time.Now().Add(2 * time.Minute); accepted() < before+20; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the receivers took nothing of the backlog")
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	kills := 3
	for k := 0; k < kills; k++ {
		victim := rng.IntN(3)
		t.Logf("worker %d killed with %d events accepted", victim, accepted())
		d.kill(victim)
		d.startWorker(t, victim)
		time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
	}
	d.wait(t, 10*time.Minute)

	// Drained: nothing pending any more.
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		var pending int
		if err := d.s.Pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still pending", pending)
		}
	}
	r := &webhookReport{Kills: kills, DrainS: time.Since(recovered).Seconds()}
	for _, s := range subs {
		checkSubscriber(t, d, s, r)
	}
	d.hooks = r
	return recovered
}

// checkSubscriber compares what a school's receiver got with its outbox and its deliveries.
func checkSubscriber(t *testing.T, d *drill, s subscriber, r *webhookReport) {
	ctx := context.Background()
	events, err := d.s.Q.OutboxListSince(ctx, dbq.OutboxListSinceParams{SchoolID: s.school.ID, AfterSeq: 0, Lim: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	r.Events += len(events)
	posts := s.rx.All()
	r.POSTs += len(posts)
	r.Resets += s.rx.Resets()
	accepted := map[string]int{}
	bodies := map[string][]byte{}
	shown := 0
	complain := func(counter *int, format string, args ...any) {
		*counter++
		if shown++; shown <= 10 {
			t.Logf("webhooks: "+format, args...)
		}
	}
	for _, p := range posts {
		if err := workertest.VerifySignature(s.secret, p); err != nil {
			complain(&r.BadSignature, "POST of %s: %v", p.ID, err)
		}
		if err := workertest.CheckTimestamp(p); err != nil {
			complain(&r.BadSignature, "POST of %s: %v", p.ID, err)
		}
		ev, err := p.Event()
		if err != nil || ev.ID != p.ID {
			complain(&r.BadID, "POST with webhook-id %s carries event %q (%v)", p.ID, ev.ID, err)
		}
		if first, ok := bodies[p.ID]; ok && !bytes.Equal(first, p.Body) {
			complain(&r.BadID, "a retry of %s has another body", p.ID)
		} else if !ok {
			bodies[p.ID] = p.Body
		}
		switch {
		case p.Status == http.StatusOK:
			accepted[p.ID]++
			r.Accepted++
		default:
			r.Refused++
		}
	}
	for _, ev := range events {
		switch n := accepted[ev.ID]; {
		case n == 0:
			complain(&r.Lost, "event %s (%s) never accepted by its receiver", ev.ID, ev.Type)
		case n > 1:
			r.Duplicates += n - 1
		}
	}
	hook, err := d.s.Q.WebhookGetByRef(ctx, dbq.WebhookGetByRefParams{SchoolID: s.school.ID, Ref: "logiciel"})
	if err != nil {
		t.Fatal(err)
	}
	var deliveries, attempts, notDelivered int
	if err := d.s.Pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(attempts), 0), count(*) FILTER (WHERE status <> 'delivered')
		FROM webhook_deliveries WHERE webhook_id = $1`, hook.ID).Scan(&deliveries, &attempts, &notDelivered); err != nil {
		t.Fatal(err)
	}
	if deliveries != len(events) {
		complain(&r.NotDelivered, "%d deliveries for %d events", deliveries, len(events))
	}
	r.Deliveries += deliveries
	r.Retries += attempts - deliveries
	r.NotDelivered += notDelivered
}
