package webapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"livret/db/dbq"
	"livret/domain"
)

// trainingOf is the row id of a student's training, and the student's.
func (e *env) trainingOf(schoolID int64, studentRef, category string) (trainingID, studentID int64) {
	e.t.Helper()
	must(e.t, e.pool.QueryRow(context.Background(), `SELECT tr.id, tr.student_id FROM trainings tr JOIN students s ON s.id = tr.student_id
		WHERE s.school_id = $1 AND s.ref = $2 AND tr.category = $3`, schoolID, studentRef, category).Scan(&trainingID, &studentID))
	return trainingID, studentID
}

// categoryCells are the "Catégorie" cells of a report page, in order.
func categoryCells(p uiPage) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<td data-label="Catégorie">([^<]*)</td>`).FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

func onlyCategory(t *testing.T, p uiPage, label string, n int) {
	t.Helper()
	cells := categoryCells(p)
	if len(cells) != n {
		t.Fatalf("%d lesson rows, want %d: %v", len(cells), n, cells)
	}
	for _, c := range cells {
		if c != label {
			t.Fatalf("a %q lesson on a page filtered on %q: %v", c, label, cells)
		}
	}
}

// TestUITrainings: the report's "Catégorie" column and filter (kept by the pager, the tabs
// and the resend forms, and passed to the bulk resend), a collective session's ref, and the
// student search's trainings with their initial evaluation and contract state in French.
func TestUITrainings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	e.do("PATCH", "/v1/school", a.Key, map[string]any{"scope": "etendu"}).want(t, http.StatusOK)
	e.put(a.Key, "/v1/students/tom", map[string]any{"office_ref": officeLauriane, "first_name": "Tom", "last_name": "Blanc",
		"neph": "120675000003", "trainings": []map[string]any{{"category": "B", "initial_evaluation_accepted": true},
			{"category": "A2", "initial_evaluation_accepted": true}}})
	e.put(a.Key, "/v1/students/emma", map[string]any{"office_ref": officeLauriane, "first_name": "Emma", "last_name": "Blanchard",
		"neph": "120675000004", "category": "B_AAC", "initial_evaluation_accepted": false})
	lessonAt := func(ref, student, category, typ string, start time.Time, sessionRef string) {
		body := map[string]any{"office_ref": officeLauriane, "student_ref": student, "instructor_ref": "jean", "type": typ,
			"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339)}
		if category != "" {
			body["category"] = category
		}
		if sessionRef != "" {
			body["session_ref"] = sessionRef
		}
		e.put(a.Key, "/v1/lessons/"+ref, body)
	}
	// Tom: two B driving lessons, eleven A2 lessons (two pages when filtered on A2), and a
	// collective theory session with Lou.
	lessonAt("tom-b1", "tom", "B", "conduite", time.Date(2026, 3, 2, 9, 0, 0, 0, domain.Paris), "")
	lessonAt("tom-b2", "tom", "B", "conduite", time.Date(2026, 3, 2, 11, 0, 0, 0, domain.Paris), "")
	for i := 1; i <= 11; i++ {
		typ := "plateau"
		if i%2 == 0 {
			typ = "circulation"
		}
		lessonAt(fmt.Sprintf("tom-a%02d", i), "tom", "A2", typ, time.Date(2026, 3, 2+i, 9, 0, 0, 0, domain.Paris), "")
	}
	session := time.Date(2026, 3, 20, 18, 0, 0, 0, domain.Paris)
	lessonAt("code-tom", "tom", "A2", "code", session, "code-20-03")
	lessonAt("code-lou", "lou", "", "code", session, "code-20-03")

	admin := e.uiAgent(t)
	admin.signIn(a.Key)

	t.Run("category column and session", func(t *testing.T) {
		p := admin.get("/ui/lessons?tab=toutes&office=lauriane").want(t, http.StatusOK)
		p.has(t, `<th scope="col">Catégorie</th>`, `<label for="category">Catégorie</label>`, `<option value="" selected>Toutes</option>`,
			`<option value="A2">Permis A2</option>`, `<option value="B_AUTO">Permis B boîte automatique</option>`,
			`<td data-label="Catégorie">Permis A2</td>`, `<td data-label="Catégorie">Permis B</td>`,
			`Cours de code<span class="hint">Séance collective : code-20-03</span>`)
		if n := strings.Count(p.body, "Séance collective : code-20-03"); n != 2 {
			t.Fatalf("the session's ref shows on %d rows, want Tom's and Lou's", n)
		}
		// A category not in the list is no filter, and is not echoed.
		p = admin.get("/ui/lessons?tab=toutes&office=lauriane&category=%3Cb%3Ezz.9").want(t, http.StatusOK)
		p.has(t, `<td data-label="Catégorie">Permis B</td>`, `<td data-label="Catégorie">Permis A2</td>`)
		// The marker has a dot, which no base64url token (the page's CSRF value) holds.
		p.hasNot(t, "zz.9")
	})
	t.Run("Exporter (CSV) takes the view's filters, every page", func(t *testing.T) {
		p := admin.get("/ui/lessons?tab=toutes&office=lauriane&category=A2").want(t, http.StatusOK)
		m := regexp.MustCompile(`<a href="(/ui/lessons/export\?[^"]*)" download>Exporter \(CSV\)</a>`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatal("no Exporter (CSV) link")
		}
		export := admin.get(m[1]).want(t, http.StatusOK)
		if ct := export.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.HasPrefix(export.raw, "\ufeff") {
			t.Fatalf("export: %q", ct)
		}
		// The A2 lessons only, both pages of the view: eleven plus Tom's theory lesson.
		if n := strings.Count(export.raw, ";Permis A2;"); n != 12 || strings.Contains(export.raw, ";Permis B;") {
			t.Fatalf("%d A2 rows in the export:\n%s", n, export.raw)
		}
		// Signed out, no file.
		if out := e.uiAgent(t).get(m[1]); out.status == http.StatusOK && strings.HasPrefix(out.raw, "\ufeff") {
			t.Fatal("the export answers without a session")
		}
	})
	t.Run("filtered on a category, the pager keeps it", func(t *testing.T) {
		view := url.Values{"tab": {"toutes"}, "office": {"lauriane"}, "category": {"A2"}}
		p := admin.get("/ui/lessons?tab=toutes&office=lauriane&category=A2").want(t, http.StatusOK)
		p.has(t, `<option value="A2" selected>Permis A2</option>`, "1 / 2")
		onlyCategory(t, p, "Permis A2", 10)
		links := pagerLinks(t, p)
		wantQuery(t, links["Page suivante"], view, "2")
		wantQuery(t, links["Dernière page"], view, "2")
		// The other tabs keep the category, as they keep the office.
		p.has(t, `<a href="/ui/lessons?category=A2&office=lauriane&tab=erreurs">Leçons en erreur</a>`,
			`<a href="/ui/lessons?category=A2&office=lauriane&tab=eleve">Recherche par élève</a>`)
		p = admin.get(links["Page suivante"]).want(t, http.StatusOK)
		p.has(t, "2 / 2", `<option value="A2" selected>Permis A2</option>`)
		onlyCategory(t, p, "Permis A2", 2)
		wantQuery(t, pagerLinks(t, p)["Page précédente"], view, "")
		// The B lessons only.
		p = admin.get("/ui/lessons?tab=toutes&category=B").want(t, http.StatusOK)
		onlyCategory(t, p, "Permis B", 3) // Tom's two, Lou's theory lesson
	})
	t.Run("resend within a category", func(t *testing.T) {
		for _, ref := range []string{"tom-a01", "tom-a02", "tom-b1"} {
			e.markDSRError(t, e.lessonID(a.ID, ref), "ELEVE_INTROUVABLE", domain.CodeEleveIntrouvable.Message())
		}
		admin.get("/ui/lessons?office=lauriane").want(t, http.StatusOK).has(t, "3 leçons ont été refusées par la DSR", ">Renvoyer les 3 leçons</button>")
		p := admin.get("/ui/lessons?office=lauriane&category=A2").want(t, http.StatusOK)
		p.has(t, "2 leçons ont été refusées par la DSR", ">Renvoyer les 2 leçons</button>", `name="category" value="A2"`)
		onlyCategory(t, p, "Permis A2", 2)
		retour := regexp.MustCompile(`name="retour" value="([^"]+)"`).FindStringSubmatch(p.body)
		if retour == nil || !strings.Contains(retour[1], "category=A2") {
			t.Fatalf("the resend forms' way back lost the category: %v", retour)
		}
		// "Renvoyer" of one lesson comes back to the same filtered view.
		r := admin.post("/ui/lessons/tom-a01/resend", url.Values{"retour": {retour[1]}}, true)
		r.redirect(t, "/ui/lessons?")
		wantQuery(t, r.header.Get("Location"), url.Values{"tab": {"erreurs"}, "office": {"lauriane"}, "category": {"A2"}}, "")
		e.markDSRError(t, e.lessonID(a.ID, "tom-a01"), "ELEVE_INTROUVABLE", domain.CodeEleveIntrouvable.Message())
		// "Renvoyer les 2 leçons": the A2 refusals only, and back to the A2 view.
		r = admin.post("/ui/lessons/resend", url.Values{"office": {"lauriane"}, "category": {"A2"}, "retour": {retour[1]}}, true)
		r.redirect(t, "/ui/lessons?")
		wantQuery(t, r.header.Get("Location"), url.Values{"tab": {"erreurs"}, "office": {"lauriane"}, "category": {"A2"}}, "")
		for ref, want := range map[string]string{"tom-a01": "pending", "tom-a02": "pending", "tom-b1": "error"} {
			if got := e.lesson(a.Key, ref).Transmission.Status; got != want {
				t.Fatalf("%s is %s after resending the A2 refusals, want %s", ref, got, want)
			}
		}
		admin.get(r.header.Get("Location")).want(t, http.StatusOK).has(t, `<option value="A2" selected>Permis A2</option>`)
	})
	t.Run("student search shows the trainings", func(t *testing.T) {
		// Tom's B contract created at the DSR, his A2 contract refused; Emma has none yet.
		q := dbq.New(e.pool)
		bID, tomID := e.trainingOf(a.ID, "tom", "B")
		_, err := q.ContractSave(context.Background(), dbq.ContractSaveParams{SchoolID: a.ID, StudentID: tomID, TrainingID: bID, DsrContractID: "dsr-contrat-b"})
		must(t, err)
		a2ID, _ := e.trainingOf(a.ID, "tom", "A2")
		must(t, q.TrainingSetContractRefusal(context.Background(), dbq.TrainingSetContractRefusalParams{ID: a2ID,
			Code: string(domain.CodeCategorieSansDemande), Message: domain.CodeCategorieSansDemande.Message()}))

		p := admin.get("/ui/lessons?tab=eleve&q=blanc").want(t, http.StatusOK)
		p.has(t, "Blanc Tom", "Blanchard Emma",
			`<strong>Permis B</strong> · Évaluation de départ acceptée · <span class="status ok">Contrat de formation créé</span>`,
			`<strong>Permis A2</strong> · Évaluation de départ acceptée · <span class="status err">Contrat de formation refusé par la DSR : `+
				domain.CodeCategorieSansDemande.Message()+`</span><span class="hint">`+domain.CodeCategorieSansDemande.Hint()+`</span>`,
			`<strong>Permis B (AAC)</strong> · Évaluation de départ non acceptée · <span class="status wait">Contrat de formation : pas encore créé (il le sera au premier envoi)</span>`)
		// Two students found: none chosen yet, no table.
		p.hasNot(t, "Leçons de ", `<td data-label="Catégorie">`)

		// Tom's lessons, on one category: the student's link keeps it.
		p = admin.get("/ui/lessons?tab=eleve&q=tom+blanc&category=A2").want(t, http.StatusOK)
		p.has(t, "Leçons de Tom Blanc", `<option value="A2" selected>Permis A2</option>`, "Contrat de formation créé",
			`href="/ui/lessons?category=A2&q=tom+blanc&student=tom&tab=eleve"`)
		onlyCategory(t, p, "Permis A2", 10)
		p = admin.get("/ui/lessons?tab=eleve&q=tom+blanc&category=B").want(t, http.StatusOK)
		onlyCategory(t, p, "Permis B", 2)
	})
}

// TestUISettings: "Paramètres" shows the school and its scope, and changes the scope with
// the pages' CSRF protection; the change judges the lessons again at once (a moto lesson
// goes from not concerned to pending and back), bad input is a French page and writes
// nothing, and the help shows the sending table and the school's scope.
func TestUISettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	e.put(a.Key, "/v1/students/tom", map[string]any{"office_ref": officeLauriane, "first_name": "Tom", "last_name": "Blanc",
		"neph": "120675000003", "category": "A2", "initial_evaluation_accepted": true})
	e.put(a.Key, "/v1/lessons/moto", map[string]any{"office_ref": officeLauriane, "student_ref": "tom", "instructor_ref": "jean",
		"type": "circulation", "start": "2026-03-10T09:00:00+01:00", "end": "2026-03-10T10:00:00+01:00"})
	if l := e.lesson(a.Key, "moto"); l.code() != "CATEGORIE_NON_CONCERNEE" {
		t.Fatalf("moto in scope guide: %+v", l.Transmission)
	}
	scope := func() string {
		var s struct {
			Scope string `json:"scope"`
		}
		e.do("GET", "/v1/school", a.Key, nil).want(t, http.StatusOK).json(t, &s)
		return s.Scope
	}
	admin := e.uiAgent(t)
	admin.signIn(a.Key)
	admin.get("/ui/offices").want(t, http.StatusOK).has(t, `<a href="/ui/parametres">Paramètres</a>`)

	p := admin.get("/ui/parametres").want(t, http.StatusOK)
	p.has(t, "<h1>Paramètres</h1>", `<a href="/ui/parametres" aria-current="page">Paramètres</a>`,
		"Auto-école Lauriane", agrementA, `<form method="post" action="/ui/parametres" class="card">`,
		`<input type="radio" id="scope-guide" name="scope" value="guide" checked`, `<input type="radio" id="scope-etendu" name="scope" value="etendu" aria-describedby`,
		domain.ScopeGuide.Label(), domain.ScopeEtendu.Label(), "Exactement les règles du guide de l'éditeur",
		"Leçon de conduite, Leçon de conduite Boîte Auto, Simulateur, Simulateur Boîte Auto",
		"les permis moto (A1, A2, A), BE et poids lourds", "rendez-vous pédagogiques (RVP)",
		"Changer de périmètre réexamine aussitôt les leçons pas encore transmises à la DSR")
	p.hasNot(t, `class="notice`)

	t.Run("the form needs the token", func(t *testing.T) {
		before := e.snapshot(a.ID)
		admin.post("/ui/parametres", url.Values{"scope": {"etendu"}}, false).want(t, http.StatusForbidden).has(t, "jeton de sécurité", `lang="fr"`)
		admin.post("/ui/parametres", url.Values{"scope": {"etendu"}, "csrf": {"pas-le-bon"}}, true).want(t, http.StatusForbidden)
		if e.snapshot(a.ID) != before || scope() != "guide" {
			t.Fatal("a form without its token changed the settings")
		}
	})
	t.Run("bad input", func(t *testing.T) {
		before := e.snapshot(a.ID)
		for _, form := range []url.Values{{"scope": {"tout"}}, {}} {
			p := admin.post("/ui/parametres", form, true).want(t, http.StatusBadRequest)
			p.has(t, `<div class="alert" role="alert">`, "<strong>Périmètre</strong> : Périmètre inconnu", "<h1>Paramètres</h1>",
				`value="guide" checked`)
			p.hasNot(t, "voir la liste des champs", `class="notice`)
		}
		if e.snapshot(a.ID) != before {
			t.Fatal("a refused form changed something")
		}
	})
	t.Run("scope etendu", func(t *testing.T) {
		r := admin.post("/ui/parametres", url.Values{"scope": {"etendu"}}, true)
		r.redirect(t, "/ui/parametres")
		if loc := r.header.Get("Location"); loc != "/ui/parametres?msg=parametres" {
			t.Fatalf("after saving: %q", loc)
		}
		p := admin.get(r.header.Get("Location")).want(t, http.StatusOK)
		p.has(t, `<p class="notice success" role="status">`, "Les paramètres sont enregistrés", `value="etendu" checked`,
			"<dd>"+domain.ScopeEtendu.Label()+"</dd>")
		if scope() != "etendu" {
			t.Fatalf("scope %q after the form", scope())
		}
		if l := e.lesson(a.Key, "moto"); l.Transmission.Status != "pending" {
			t.Fatalf("moto in scope etendu: %+v", l.Transmission)
		}
		admin.get("/ui/lessons?tab=toutes").want(t, http.StatusOK).has(t, `<td data-label="Catégorie">Permis A2</td>`, "● En attente")
		// Nothing of the query is echoed.
		admin.get("/ui/parametres?msg=%3Cb%3Epirate").want(t, http.StatusOK).hasNot(t, "pirate", `class="notice`)
	})
	t.Run("help shows the sending table and the scope", func(t *testing.T) {
		p := admin.get("/ui/aide").want(t, http.StatusOK)
		p.has(t, `id="perimetre"`, "Votre auto-école est en périmètre <strong>"+domain.ScopeEtendu.Label()+"</strong>",
			`<th scope="row" data-label="Catégorie de permis">`+domain.GroupMoto.Label()+`</th>`,
			`<th scope="row" data-label="Catégorie de permis">`+domain.GroupLourd.Label()+`</th>`,
			"Cours de code (donné par un formateur)")
		for _, g := range []domain.Group{domain.GroupB, domain.GroupMoto, domain.GroupLourd} {
			for _, sc := range []domain.Scope{domain.ScopeGuide, domain.ScopeEtendu} {
				for _, typ := range domain.TypesSent(sc, g) {
					p.has(t, typ.Label())
				}
			}
		}
		// The guide column of the moto row: nothing sent.
		p.has(t, `<th scope="row" data-label="Catégorie de permis">`+domain.GroupMoto.Label()+`</th>
    <td data-label="Périmètre guide">Rien : leçons enregistrées, jamais envoyées</td>`)
		// A visitor reads the table, not a school's scope.
		anon := e.uiAgent(t).get("/ui/aide").want(t, http.StatusOK)
		anon.has(t, domain.GroupMoto.Label())
		anon.hasNot(t, "Votre auto-école est en périmètre")
	})
	t.Run("another school's settings are its own", func(t *testing.T) {
		b := e.createSchool("Auto-école Bis", agrementB)
		other := e.uiAgent(t)
		other.signIn(b.Key)
		p := other.get("/ui/parametres").want(t, http.StatusOK)
		p.has(t, "Auto-école Bis", agrementB, `value="guide" checked`)
		p.hasNot(t, "Auto-école Lauriane", agrementA)
		// A's token in B's session is refused.
		other.post("/ui/parametres", url.Values{"scope": {"guide"}, "csrf": {admin.csrf}}, true).want(t, http.StatusForbidden)
		if scope() != "etendu" {
			t.Fatal("school B's form changed school A's scope")
		}
	})
	t.Run("back to guide", func(t *testing.T) {
		admin.get("/ui/parametres")
		admin.post("/ui/parametres", url.Values{"scope": {"guide"}}, true).redirect(t, "/ui/parametres?msg=parametres")
		if l := e.lesson(a.Key, "moto"); l.code() != "CATEGORIE_NON_CONCERNEE" {
			t.Fatalf("moto back in scope guide: %+v", l.Transmission)
		}
	})
}
