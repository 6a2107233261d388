package webapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"livret/worker/workertest"
)

// TestUIWebhooks: "Webhooks", reached from "Paramètres": the subscriptions with their events
// in French and their recent deliveries; "Envoyer un test" and "Supprimer" (confirmed) behind
// the session's token; another school sees none of it; the secret is never shown.
func TestUIWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.startWorker()
	a := e.createSchool("Auto-école Lauriane", agrementA)
	rx := workertest.NewReceiver(t)
	admin := e.uiAgent(t)
	admin.signIn(a.Key)
	admin.get("/ui/parametres").want(t, http.StatusOK).has(t, `<a href="/ui/webhooks">Webhooks : les événements envoyés à votre logiciel de gestion</a>`)
	empty := admin.get("/ui/webhooks").want(t, http.StatusOK)
	empty.has(t, "<h1>Webhooks</h1>", "Aucun abonnement pour l'instant.", `aria-current="page">Paramètres</a>`)
	if csp := empty.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || empty.header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("the page's security headers: %v", empty.header)
	}

	var created struct {
		Secret string `json:"secret"`
	}
	e.do("PUT", "/v1/webhooks/erp", a.Key, map[string]any{"url": rx.URL, "events": []string{"run.completed", "lesson.error"}}).
		want(t, http.StatusCreated).json(t, &created)
	p := admin.get("/ui/webhooks").want(t, http.StatusOK)
	p.has(t, "Abonnement « erp »", "<code>"+rx.URL+"</code>", "Leçon en erreur, Envoi terminé",
		"Aucun événement envoyé à cet abonnement pour l'instant.", `action="/ui/webhooks/erp/test"`, `action="/ui/webhooks/erp/delete"`)
	p.hasNot(t, created.Secret, "whsec_")

	t.Run("forms need the token", func(t *testing.T) {
		admin.post("/ui/webhooks/erp/test", nil, false).want(t, http.StatusForbidden).has(t, "jeton de sécurité")
		admin.post("/ui/webhooks/erp/delete", url.Values{"confirm": {"1"}, "csrf": {"pas-le-bon"}}, true).want(t, http.StatusForbidden)
		if n := e.count("outbox_events"); n != 0 || len(e.do("GET", "/v1/webhooks", a.Key, nil).body) < 10 {
			t.Fatal("a form without its token did something")
		}
	})
	t.Run("another school", func(t *testing.T) {
		b := e.createSchool("Auto-école B", agrementB)
		other := e.uiAgent(t)
		other.signIn(b.Key)
		op := other.get("/ui/webhooks").want(t, http.StatusOK)
		op.has(t, "Aucun abonnement")
		op.hasNot(t, "Abonnement « erp »", rx.URL)
		other.post("/ui/webhooks/erp/test", nil, true).want(t, http.StatusNotFound).has(t, "Abonnement introuvable.")
		other.post("/ui/webhooks/erp/delete", url.Values{"confirm": {"1"}}, true).want(t, http.StatusNotFound)
		other.post("/ui/webhooks/erp/delete", nil, true).want(t, http.StatusNotFound)
	})

	r := admin.post("/ui/webhooks/erp/test", nil, true)
	r.redirect(t, "/ui/webhooks?msg=test-envoye")
	rx.WaitFor(t, time.Minute, "the test event", func(all []workertest.Received) bool { return len(all) == 1 })
	if err := workertest.VerifySignature(created.Secret, rx.All()[0]); err != nil {
		t.Fatal(err)
	}
	var shown uiPage
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		// The receiver has it: its 200 is recorded right after.
		if shown = admin.get(r.header.Get("Location")).want(t, http.StatusOK); strings.Contains(shown.body, "Livré") || time.Now().After(deadline) {
			break
		}
	}
	shown.has(t, `<p class="notice success" role="status">`, "L'événement de test est envoyé", "<td>Événement de test</td>",
		`<span class="status ok">Livré</span>`, "<td>1</td><td>200</td>")

	// Supprimer: first the confirmation, then the deletion.
	c := admin.post("/ui/webhooks/erp/delete", nil, true).want(t, http.StatusOK)
	c.has(t, "Supprimer cet abonnement ?", "Confirmer la suppression", `name="confirm" value="1"`)
	if ws := e.do("GET", "/v1/webhooks", a.Key, nil); !strings.Contains(string(ws.body), `"erp"`) {
		t.Fatal("asking to delete deleted")
	}
	d := admin.post("/ui/webhooks/erp/delete", url.Values{"confirm": {"1"}}, true)
	d.redirect(t, "/ui/webhooks?msg=abonnement-suppr")
	admin.get(d.header.Get("Location")).want(t, http.StatusOK).has(t, "L'abonnement est supprimé", "Aucun abonnement pour l'instant.")
	admin.post("/ui/webhooks/erp/test", nil, true).want(t, http.StatusNotFound)
}
