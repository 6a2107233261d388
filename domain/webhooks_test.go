package domain

import (
	"strings"
	"testing"
	"time"
)

// The retry schedule is Standard Webhooks' suggestion, then its last delay again; what
// follows each failed attempt is one row of the table.
func TestWebhookRetrySchedule(t *testing.T) {
	for attempts, want := range map[int]time.Duration{
		0: 5 * time.Second, 1: 5 * time.Second, 2: 5 * time.Minute, 3: 30 * time.Minute, 4: 2 * time.Hour,
		5: 5 * time.Hour, 6: 10 * time.Hour, 7: 10 * time.Hour, 50: 10 * time.Hour,
	} {
		if got := WebhookRetryDelay(attempts); got != want {
			t.Errorf("after attempt %d: wait %s, want %s", attempts, got, want)
		}
	}

	created := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return created.Add(d) }
	cases := []struct {
		name      string
		attempted time.Time
		attempts  int
		scale     float64
		next      time.Time
		giveUp    bool
	}{
		{"first attempt fails at once", at(0), 1, 1, at(5 * time.Second), false},
		{"second", at(5 * time.Second), 2, 1, at(5*time.Second + 5*time.Minute), false},
		{"third", at(5*time.Minute + 5*time.Second), 3, 1, at(35*time.Minute + 5*time.Second), false},
		{"seventh would be past 24 h: cut to 24 h", at(17*time.Hour + 35*time.Minute + 5*time.Second), 7, 1, at(24 * time.Hour), false},
		{"the attempt at 24 h fails: give up", at(24 * time.Hour), 8, 1, time.Time{}, true},
		{"an event older than 24 h fails its first attempt: give up", at(30 * time.Hour), 1, 1, time.Time{}, true},
		{"scale 0 means production", at(0), 1, 0, at(5 * time.Second), false},
		{"a thousand times faster", at(0), 2, 0.001, at(300 * time.Millisecond), false},
		{"a thousand times faster, 24 h are 86.4 s", at(86400 * time.Millisecond), 3, 0.001, time.Time{}, true},
		{"a thousand times faster, just before", at(86399 * time.Millisecond), 9, 0.001, at(86400 * time.Millisecond), false},
	}
	for _, c := range cases {
		next, giveUp := WebhookRetry(created, c.attempted, c.attempts, c.scale)
		if giveUp != c.giveUp || !next.Equal(c.next) {
			t.Errorf("%s: next %s give up %v, want %s %v", c.name, next, giveUp, c.next, c.giveUp)
		}
	}

	// Whole schedule: attempts at 0, 5 s, 5 min 5 s, … until 24 h; the last at 24 h exactly.
	var times []time.Duration
	now := created
	for n := 1; ; n++ {
		times = append(times, now.Sub(created))
		next, giveUp := WebhookRetry(created, now, n, 1)
		if giveUp {
			break
		}
		now = next
	}
	want := []time.Duration{0, 5 * time.Second, 5*time.Minute + 5*time.Second, 35*time.Minute + 5*time.Second,
		2*time.Hour + 35*time.Minute + 5*time.Second, 7*time.Hour + 35*time.Minute + 5*time.Second,
		17*time.Hour + 35*time.Minute + 5*time.Second, 24 * time.Hour}
	if len(times) != len(want) {
		t.Fatalf("attempts at %v, want %v", times, want)
	}
	for i := range want {
		if times[i] != want[i] {
			t.Fatalf("attempts at %v, want %v", times, want)
		}
	}
}

// Every event type and delivery status has its French label; the types a subscription may
// ask for are exactly the documented six, and the test event is not one of them.
func TestWebhookEventTypes(t *testing.T) {
	want := []string{"lesson.transmitted", "lesson.error", "office.needs_reconnect", "run.completed", "run.failed", "etp.at_risk"}
	got := SubscribableEvents()
	if len(got) != len(want) {
		t.Fatalf("subscribable %v, want %v", got, want)
	}
	labels := map[string]EventType{}
	for i, typ := range got {
		if string(typ) != want[i] {
			t.Errorf("subscribable[%d] = %s, want %s", i, typ, want[i])
		}
		if p, ok := ParseSubscribableEvent(want[i]); !ok || p != typ {
			t.Errorf("%s does not parse", want[i])
		}
	}
	for typ, info := range eventTypes {
		if info.Label == "" || info.Label == string(typ) || strings.Contains(info.Label, ".") {
			t.Errorf("%s: label %q is not French words", typ, info.Label)
		}
		if other, dup := labels[info.Label]; dup {
			t.Errorf("%s and %s read the same", typ, other)
		}
		labels[info.Label] = typ
	}
	if len(eventTypes) != len(want)+1 {
		t.Errorf("%d event types, want the six and the test", len(eventTypes))
	}
	for _, bad := range []string{"webhook.test", "lesson.Transmitted", "", "run"} {
		if _, ok := ParseSubscribableEvent(bad); ok {
			t.Errorf("%q parses as subscribable", bad)
		}
	}
	if SubscribableList() != strings.Join(want, ", ") {
		t.Errorf("list %q", SubscribableList())
	}
	for _, s := range DeliveryStatuses() {
		if l := s.Label(); l == "" || l == string(s) {
			t.Errorf("delivery status %s has no label", s)
		}
	}
	if len(deliveryLabels) != len(DeliveryStatuses()) {
		t.Error("a delivery status without its label, or a label without its status")
	}
}

// Every reason an attempt got no answer reads as one French sentence of its own.
func TestWebhookNoAnswerSentences(t *testing.T) {
	seen := map[string]WebhookNoAnswer{}
	for _, r := range WebhookNoAnswers() {
		s, ok := webhookNoAnswerSentences[r]
		if !ok || r.Sentence() != s || !strings.HasSuffix(s, ".") {
			t.Errorf("%s: %q", r, s)
		}
		for _, technical := range []string{"error", "dial", "tcp", "_"} {
			if strings.Contains(s, technical) {
				t.Errorf("%s: %q holds %q", r, s, technical)
			}
		}
		if other, dup := seen[s]; dup {
			t.Errorf("%s and %s read the same", r, other)
		}
		seen[s] = r
	}
	if len(webhookNoAnswerSentences) != len(WebhookNoAnswers()) {
		t.Error("a reason without its sentence, or a sentence without its reason")
	}
	if WebhookNoAnswer("x").Sentence() != WebhookNetwork.Sentence() {
		t.Error("an unknown reason does not read as a network error")
	}
}
