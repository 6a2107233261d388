package webapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// webhook is a subscription as the API answers it.
type webhook struct {
	Ref       string   `json:"ref"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Secret    *string  `json:"secret"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
}

type webhookDelivery struct {
	EventID       string  `json:"event_id"`
	Type          string  `json:"type"`
	Status        string  `json:"status"`
	NextAttemptAt *string `json:"next_attempt_at"`
	AttemptCount  int     `json:"attempt_count"`
	Attempts      []any   `json:"attempts"`
}

// Every refusal of PUT /v1/webhooks/{ref} names its field, in French; nothing is stored.
func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	all := []string{"lesson.transmitted"}
	long := "https://hooks.example.fr/" + strings.Repeat("a", 2049-len("https://hooks.example.fr/"))
	for _, c := range []struct {
		name   string
		ref    string
		body   any
		status int
		fields map[string]string // field → a piece of its message
	}{
		{"nothing", "erp", map[string]any{}, 422, map[string]string{"url": "Champ obligatoire", "events": "Au moins un type d'événement"}},
		{"not http", "erp", map[string]any{"url": "ftp://hooks.example.fr/x", "events": all}, 422, map[string]string{"url": "adresse absolue en http ou https"}},
		{"relative", "erp", map[string]any{"url": "/livret/evenements", "events": all}, 422, map[string]string{"url": "adresse absolue"}},
		{"no host", "erp", map[string]any{"url": "https:///x", "events": all}, 422, map[string]string{"url": "adresse absolue"}},
		{"credentials", "erp", map[string]any{"url": "https://moi:secret@hooks.example.fr/x", "events": all}, 422, map[string]string{"url": "ni identifiant ni mot de passe"}},
		{"too long", "erp", map[string]any{"url": long, "events": all}, 422, map[string]string{"url": "2048 caractères au plus"}},
		{"space", "erp", map[string]any{"url": "https://hooks.example.fr/a b", "events": all}, 422, map[string]string{"url": "ni espace"}},
		{"no events", "erp", map[string]any{"url": "https://hooks.example.fr/x", "events": []string{}}, 422, map[string]string{"events": "lesson.transmitted, lesson.error, office.needs_reconnect, run.completed, run.failed, etp.at_risk"}},
		{"unknown event", "erp", map[string]any{"url": "https://hooks.example.fr/x", "events": []string{"lesson.error", "lesson.sent"}}, 422,
			map[string]string{"events[1]": "Type d'événement inconnu : « lesson.sent »"}},
		{"the test event", "erp", map[string]any{"url": "https://hooks.example.fr/x", "events": []string{"webhook.test"}}, 422,
			map[string]string{"events[0]": "inconnu"}},
		{"twice", "erp", map[string]any{"url": "https://hooks.example.fr/x", "events": []string{"run.failed", "lesson.error", "run.failed"}}, 422,
			map[string]string{"events[2]": "en double"}},
		{"bad ref", "%20erp", map[string]any{"url": "https://hooks.example.fr/x", "events": all}, 422, map[string]string{"ref": "espace"}},
		{"unknown field", "erp", map[string]any{"url": "https://hooks.example.fr/x", "events": all, "secret": "whsec_x"}, 400, map[string]string{"secret": "Champ inconnu"}},
		{"events not a list", "erp", map[string]any{"url": "https://hooks.example.fr/x", "events": "lesson.error"}, 400, map[string]string{"events": "une liste"}},
	} {
		p := e.do("PUT", "/v1/webhooks/"+c.ref, a.Key, c.body).wantProblem(t, c.status)
		if len(p.Errors) != len(c.fields) {
			t.Errorf("%s: fields %v, want %v", c.name, p.fields(), c.fields)
		}
		for f, piece := range c.fields {
			if msg := p.message(f); !strings.Contains(msg, piece) {
				t.Errorf("%s: %s says %q, want %q in it", c.name, f, msg, piece)
			}
		}
	}
	if n := e.count("webhooks"); n != 0 {
		t.Fatalf("%d subscriptions stored by refused requests", n)
	}
}

// The routes: a new subscription answers its secret once; an update, the list and the
// deliveries never do; the test event is one delivery; a deleted subscription is gone.
func TestWebhookRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	body := map[string]any{"url": "https://logiciel.example.fr/livret", "events": []string{"run.failed", "lesson.error"}}

	created := e.do("PUT", "/v1/webhooks/erp", a.Key, body).want(t, http.StatusCreated)
	var w webhook
	created.json(t, &w)
	if w.Secret == nil || !strings.HasPrefix(*w.Secret, "whsec_") || w.Ref != "erp" || w.URL != body["url"] ||
		!slices.Equal(w.Events, []string{"lesson.error", "run.failed"}) || w.CreatedAt == "" {
		t.Fatalf("created %s", created.body)
	}
	if cc := created.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("the secret's answer may be cached: Cache-Control %q", cc)
	}
	secret := *w.Secret

	body["url"] = "https://logiciel.example.fr/livret/v2"
	updated := e.do("PUT", "/v1/webhooks/erp", a.Key, body).want(t, http.StatusOK)
	var u webhook
	updated.json(t, &u)
	if u.Secret != nil || u.URL != body["url"] || strings.Contains(string(updated.body), "secret") {
		t.Fatalf("updated %s", updated.body)
	}
	list := e.do("GET", "/v1/webhooks", a.Key, nil).want(t, http.StatusOK)
	var ws []webhook
	list.json(t, &ws)
	if len(ws) != 1 || ws[0].URL != body["url"] || strings.Contains(string(list.body), "secret") {
		t.Fatalf("list %s", list.body)
	}

	var none []webhookDelivery
	e.do("GET", "/v1/webhooks/erp/deliveries", a.Key, nil).want(t, http.StatusOK).json(t, &none)
	if len(none) != 0 {
		t.Fatalf("deliveries before any event: %+v", none)
	}
	var sent struct {
		EventID string `json:"event_id"`
		Type    string `json:"type"`
	}
	e.do("POST", "/v1/webhooks/erp/test", a.Key, nil).want(t, http.StatusAccepted).json(t, &sent)
	if !strings.HasPrefix(sent.EventID, "evt_") || sent.Type != "webhook.test" {
		t.Fatalf("test %+v", sent)
	}
	var ds []webhookDelivery
	e.do("GET", "/v1/webhooks/erp/deliveries", a.Key, nil).want(t, http.StatusOK).json(t, &ds)
	// No worker runs here: the delivery waits, attempted at once when one does.
	if len(ds) != 1 || ds[0].EventID != sent.EventID || ds[0].Type != "webhook.test" || ds[0].Status != "pending" ||
		ds[0].NextAttemptAt == nil || ds[0].AttemptCount != 0 || ds[0].Attempts == nil {
		t.Fatalf("deliveries %+v", ds)
	}
	for _, path := range []string{"/v1/webhooks/nope/deliveries", "/v1/webhooks/nope/test"} {
		method := "GET"
		if strings.HasSuffix(path, "test") {
			method = "POST"
		}
		e.do(method, path, a.Key, nil).wantProblem(t, http.StatusNotFound)
	}

	e.do("DELETE", "/v1/webhooks/erp", a.Key, nil).want(t, http.StatusNoContent)
	e.do("DELETE", "/v1/webhooks/erp", a.Key, nil).wantProblem(t, http.StatusNotFound)
	e.do("GET", "/v1/webhooks/erp/deliveries", a.Key, nil).wantProblem(t, http.StatusNotFound)
	e.do("POST", "/v1/webhooks/erp/test", a.Key, nil).wantProblem(t, http.StatusNotFound)
	var cancelled string
	must(t, e.pool.QueryRow(t.Context(), `SELECT status FROM webhook_deliveries`).Scan(&cancelled))
	if cancelled != "cancelled" {
		t.Fatalf("the deleted subscription's pending delivery is %s", cancelled)
	}
	e.do("GET", "/v1/webhooks", a.Key, nil).want(t, http.StatusOK).json(t, &ws)
	if len(ws) != 0 {
		t.Fatalf("list after the delete: %+v", ws)
	}
	// The ref is free again: a new subscription, with a new secret.
	var again webhook
	e.do("PUT", "/v1/webhooks/erp", a.Key, body).want(t, http.StatusCreated).json(t, &again)
	if again.Secret == nil || *again.Secret == secret {
		t.Fatal("the new subscription does not have a secret of its own")
	}
}
