package webapi_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"livret/db/dbq"
	"livret/domain"
)

// TestUIDashboard: an office's card says how its last run went (a failed one in French), when
// the next goes, and its lessons per status, each a link to "Toutes les leçons" on that
// status; the report offers "Renvoyer les N leçons" for a student's DSR refusals only.
func TestUIDashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)
	admin := e.uiAgent(t)
	admin.signIn(a.Key)

	p := admin.get("/ui/offices").want(t, http.StatusOK)
	p.has(t, "Dernier envoi", "Aucun envoi pour l'instant.", "Prochain envoi", " à 01:30",
		`href="/ui/lessons?office=lauriane&status=error&tab=toutes">2 en erreur</a>`,
		`href="/ui/lessons?office=lauriane&status=pending&tab=toutes">2 en attente</a>`, ">0 transmise</a>", "depuis le ")

	// A failed run, recorded as the workflow records it.
	office := e.office(a.ID, officeLauriane)
	failure := "RdvPermis a refusé l'accès de Livret : les leçons non envoyées restent en attente et partiront lors du prochain envoi quotidien."
	_, err := dbq.New(e.pool).RunRecord(context.Background(), dbq.RunRecordParams{SchoolID: a.ID, OfficeID: office.ID,
		WorkflowID: "run-x", RunID: "r1", BusinessDate: time.Now(), StartedAt: time.Date(2026, 11, 30, 0, 30, 0, 0, time.UTC),
		Outcome: "failed", Failure: failure})
	must(t, err)
	p = admin.get("/ui/offices").want(t, http.StatusOK)
	p.has(t, "30/11/2026 à 01:30 — échoué", failure)
	p.hasNot(t, "Aucun envoi pour l'instant.")

	// Lou's two lessons refused by the DSR (Paul's number fixed first), Mélanie's own error
	// stays Livret's: "Renvoyer les 2 leçons" on Lou's, none on Mélanie's.
	e.put(a.Key, "/v1/instructors/paul", map[string]any{"last_name": "Martin", "authorization_number": "A1111111111"})
	e.put(a.Key, "/v1/lessons/l-lou-2", map[string]any{"office_ref": officeLauriane, "student_ref": "lou", "instructor_ref": "paul",
		"type": "conduite", "start": "2021-12-10T13:00:00+01:00", "end": "2021-12-10T14:00:00+01:00"})
	for _, ref := range []string{"l-lou", "l-lou-2"} {
		e.markDSRError(t, e.lessonID(a.ID, ref), "ELEVE_INTROUVABLE", domain.CodeEleveIntrouvable.Message())
	}
	p = admin.get("/ui/lessons?tab=eleve&q=perrin").want(t, http.StatusOK)
	p.hasNot(t, "Renvoyer les")
	p = admin.get("/ui/lessons?tab=eleve&q=michel").want(t, http.StatusOK)
	p.has(t, "2 leçons de Lou Michel ont été refusées par la DSR", ">Renvoyer les 2 leçons</button>", `name="student" value="lou"`)
	r := admin.post("/ui/lessons/resend", url.Values{"student": {"lou"}, "retour": {"tab=eleve&q=michel&student=lou"}}, true)
	r.redirect(t, "/ui/lessons?")
	back := admin.get(r.header.Get("Location")).want(t, http.StatusOK)
	back.has(t, `class="notice success"`, "Les leçons refusées par la DSR lui sont renvoyées", "Leçons de Lou Michel")
	back.hasNot(t, "Renvoyer les")
	for _, ref := range []string{"l-lou", "l-lou-2"} {
		if got := e.lessonMore(a.Key, ref).Transmission.Status; got != "pending" {
			t.Fatalf("%s is %s after the bulk resend", ref, got)
		}
	}
	if got := e.lessonMore(a.Key, "l-1300").Transmission.Status; got != "error" {
		t.Fatalf("Mélanie's lesson is %s", got)
	}
	// A form without its token changes nothing.
	admin.post("/ui/lessons/resend", url.Values{}, false).want(t, http.StatusForbidden)
}
