package sandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"livret/sandbox"
)

// The contract's categories and the lesson types each takes (docs/dsr.md, "Categories and
// lesson types"), typed again from the document rather than read from rules.go, so that a slip
// in the sandbox's table fails a test.
var (
	docCategories   = []string{"B", "A1", "A2", "A", "BE", "C1", "C", "CE", "D1", "D"}
	docTypes        = []string{"CONDUITE", "CONDUITE_BOITE_AUTO", "SIMULATEUR", "SIMULATEUR_BOITE_AUTO", "THEORIE", "EVALUATION_DEPART", "RDV_PEDAGOGIQUE", "PLATEAU", "CIRCULATION"}
	docTypesByGroup = []struct {
		categories []string
		types      []string
	}{
		{[]string{"B"}, []string{"CONDUITE", "CONDUITE_BOITE_AUTO", "SIMULATEUR", "SIMULATEUR_BOITE_AUTO", "THEORIE", "EVALUATION_DEPART", "RDV_PEDAGOGIQUE"}},
		{[]string{"A1", "A2", "A"}, []string{"PLATEAU", "CIRCULATION", "SIMULATEUR", "THEORIE", "EVALUATION_DEPART"}},
		{[]string{"BE", "C1", "C", "CE", "D1", "D"}, []string{"CONDUITE", "PLATEAU", "THEORIE", "EVALUATION_DEPART"}},
	}
)

const (
	nephMartin  = "223456789012"
	nephBernard = "323456789012"
	nephPetit   = "423456789012"
)

// postContract asks for a contract of that student and category.
func (e *env) postContract(token, neph, nom, categorie string) reply {
	e.t.Helper()
	return e.call(token, "POST", "/api/v1/contrats-formation", map[string]string{"neph": neph, "nom": nom, "prenom": "Alex", "categorie": categorie})
}

// contractOf creates a contract of that student and category and returns its id.
func (e *env) contractOf(token, neph, nom, categorie string) string {
	e.t.Helper()
	r := e.postContract(token, neph, nom, categorie)
	if r.status != http.StatusCreated {
		e.t.Fatalf("contract %s %s: %d %s", neph, categorie, r.status, r.body)
	}
	var out struct {
		IDContrat string `json:"id_contrat"`
	}
	must(e.t, json.Unmarshal([]byte(r.body), &out))
	return out.IDContrat
}

func (e *env) addStudent(nom, neph string, categories ...string) {
	e.t.Helper()
	must(e.t, e.ctl.AddStudent(context.Background(), sandbox.Student{Nom: nom, Prenom: "Alex", NEPH: neph, Categories: categories}))
}

// wantCode checks a refusal against the error table: code, status and exact message.
func wantCode(t *testing.T, r reply, code string) {
	t.Helper()
	want := errorTable[code]
	got, message := r.errorBody(t)
	if r.status != want.status || got != code || message != want.message {
		t.Fatalf("got %d %s %q, want %d %s %q", r.status, got, message, want.status, code, want.message)
	}
}

func TestContractPerCategory(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	tk := e.tokens()
	e.addStudent("Martin", nephMartin, "B", "A2")

	b := e.contractOf(tk.a1, nephMartin, "MARTIN", "B")
	a2 := e.contractOf(tk.a2, nephMartin, "MARTIN", "A2") // another account of the same school
	if b == a2 {
		t.Fatalf("B and A2 got the same contract %s", b)
	}

	// CONTRAT_DEJA_CONNU is per NEPH and category: again for either category, from this
	// school or another, written in lower case or not.
	for _, again := range []struct{ token, categorie string }{{tk.a1, "B"}, {tk.a1, "A2"}, {tk.a2, " a2 "}, {tk.b, "B"}, {tk.b, "A2"}} {
		wantCode(t, e.postContract(again.token, nephMartin, "MARTIN", again.categorie), "CONTRAT_DEJA_CONNU")
	}
	// A category the DSR knows but the ANTS record has no request for is not a "déjà connu".
	wantCode(t, e.postContract(tk.a1, nephMartin, "MARTIN", "A"), "CATEGORIE_SANS_DEMANDE")
	// A category the DSR has no contracts for at all is a malformed request naming the ten.
	r := e.postContract(tk.a1, nephMartin, "MARTIN", "AM")
	if code, message := r.errorBody(t); r.status != 400 || code != "REQUETE_INVALIDE" || !strings.Contains(message, "« categorie »") ||
		!strings.Contains(message, strings.Join(docCategories, ", ")) {
		t.Fatalf("categorie AM: %d %s %q, want a 400 naming %v", r.status, code, message, docCategories)
	}

	// GET ?neph= lists every category's contract, each with its categorie, to every account of
	// the school, and none to another school.
	var found []struct {
		IDContrat string `json:"id_contrat"`
		NEPH      string `json:"neph"`
		Categorie string `json:"categorie"`
	}
	r = e.call(tk.a2, "GET", "/api/v1/contrats-formation?neph="+nephMartin, nil)
	must(t, json.Unmarshal([]byte(r.body), &found))
	if r.status != 200 || len(found) != 2 || found[0].IDContrat != b || found[0].Categorie != "B" ||
		found[1].IDContrat != a2 || found[1].Categorie != "A2" || found[1].NEPH != nephMartin {
		t.Fatalf("search = %d %+v", r.status, found)
	}
	if r := e.call(tk.b, "GET", "/api/v1/contrats-formation?neph="+nephMartin, nil); strings.TrimSpace(r.body) != "[]" {
		t.Fatalf("another school sees %s", r.body)
	}

	// The ledger's contracts carry their category.
	cats := map[string]string{}
	for _, c := range e.ledger().Contracts {
		cats[c.IDContrat] = c.Categorie
	}
	if len(cats) != 2 || cats[b] != "B" || cats[a2] != "A2" {
		t.Fatalf("ledger contracts' categories = %v", cats)
	}
}

// TestLessonTypesByCategory posts every DSR type on a contract of every category: accepted
// when the document lists it for the category, TYPE_NON_AUTORISE with its exact wording
// otherwise.
func TestLessonTypesByCategory(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	tk := e.login("a1@ecole-a.fr", "pw-a1").AccessToken
	e.addStudent("Martin", nephMartin, docCategories...)

	accepted := 0
	for _, g := range docTypesByGroup {
		for _, cat := range g.categories {
			id := e.contractOf(tk, nephMartin, "MARTIN", cat)
			for i, typ := range docTypes {
				t.Run(cat+"/"+typ, func(t *testing.T) {
					// One start per type: an accepted lesson must not make the next one a duplicate.
					r := e.call(tk, "POST", lessonPath(id), withLesson(8+i, func(b map[string]string) { b["type"] = typ }))
					if !slices.Contains(g.types, typ) {
						wantCode(t, r, "TYPE_NON_AUTORISE")
						return
					}
					if r.status != http.StatusCreated {
						t.Fatalf("%d %s, want 201", r.status, r.body)
					}
					accepted++
				})
			}
		}
	}
	l := e.ledger()
	if len(l.Lessons) != accepted || l.DuplicatesRefused != 0 {
		t.Fatalf("%d lessons stored, %d duplicates refused; want %d and 0", len(l.Lessons), l.DuplicatesRefused, accepted)
	}
	types := map[string]string{} // id_contrat|type of every stored lesson
	for _, ls := range l.Lessons {
		types[ls.IDContrat+"|"+ls.Type] = ls.Type
	}
	if len(types) != accepted {
		t.Fatalf("the ledger's lessons do not carry their types: %d distinct of %d", len(types), accepted)
	}
}

// TestLessonTypeRuleOrder: TYPE_NON_AUTORISE comes after the duration and authorisation
// checks and before the duplicate check; a type no category takes is a 400 naming every type;
// the 30–240 min rule holds for every type.
func TestLessonTypeRuleOrder(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	tk := e.login("a1@ecole-a.fr", "pw-a1").AccessToken
	e.addStudent("Martin", nephMartin, docCategories...)
	b := e.contractOf(tk, nephMartin, "MARTIN", "B")
	a := e.contractOf(tk, nephMartin, "MARTIN", "A")
	c := e.contractOf(tk, nephMartin, "MARTIN", "C")

	plateauOnB := func(change func(map[string]string)) map[string]string {
		return withLesson(10, func(m map[string]string) {
			m["type"] = "PLATEAU"
			if change != nil {
				change(m)
			}
		})
	}
	wantCode(t, e.call(tk, "POST", lessonPath(b), plateauOnB(func(m map[string]string) { m["fin"] = "2024-06-10T10:25:00+02:00" })), "DUREE_INVALIDE")
	wantCode(t, e.call(tk, "POST", lessonPath(b), plateauOnB(func(m map[string]string) { m["numero_autorisation_formateur"] = "A123" })), "FORMAT_AUTORISATION_INVALIDE")
	// A start the contract already has: the type is refused first, and no duplicate is counted.
	if r := e.call(tk, "POST", lessonPath(b), lessonBody(10)); r.status != 201 {
		t.Fatalf("CONDUITE on B: %d %s", r.status, r.body)
	}
	wantCode(t, e.call(tk, "POST", lessonPath(b), plateauOnB(nil)), "TYPE_NON_AUTORISE")
	if n := e.ledger().DuplicatesRefused; n != 0 {
		t.Fatalf("a refused type counted as %d duplicates", n)
	}

	r := e.call(tk, "POST", lessonPath(a), withLesson(11, func(m map[string]string) { m["type"] = "CODE" }))
	if code, message := r.errorBody(t); r.status != 400 || code != "REQUETE_INVALIDE" || !strings.Contains(message, "« type »") ||
		!strings.Contains(message, strings.Join(docTypes, ", ")) {
		t.Fatalf("type CODE: %d %s %q, want a 400 naming %v", r.status, code, message, docTypes)
	}

	// 30–240 min for every type, on a contract of each category family that takes it.
	family := map[string]string{"B": b, "A1": a, "BE": c} // by each group's first category
	day := 0
	for _, g := range docTypesByGroup {
		id := family[g.categories[0]]
		for _, typ := range g.types {
			day++
			start := time.Date(2024, 5, day, 8, 0, 0, 0, paris()) // May: every start well in the past
			at := func(from, minutes int) map[string]string {
				return withLesson(8, func(m map[string]string) {
					m["type"] = typ
					m["debut"] = start.Add(time.Duration(from) * time.Minute).Format(time.RFC3339)
					m["fin"] = start.Add(time.Duration(from+minutes) * time.Minute).Format(time.RFC3339)
				})
			}
			t.Run(g.categories[0]+"/"+typ, func(t *testing.T) {
				wantCode(t, e.call(tk, "POST", lessonPath(id), at(0, 29)), "DUREE_INVALIDE")
				wantCode(t, e.call(tk, "POST", lessonPath(id), at(0, 241)), "DUREE_INVALIDE")
				for _, ok := range []struct{ from, minutes int }{{0, 30}, {60, 240}} {
					if r := e.call(tk, "POST", lessonPath(id), at(ok.from, ok.minutes)); r.status != 201 {
						t.Fatalf("%d min: %d %s", ok.minutes, r.status, r.body)
					}
				}
			})
		}
	}
}

// TestDuplicateRulePerContract: the duplicate rule is one contract at one start. A THEORIE
// class of three students with one instructor is three lessons; one contract twice at a start
// is still LECON_EN_DOUBLON; one student's B and A2 contracts are two contracts.
func TestDuplicateRulePerContract(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	tk := e.tokens()
	e.addStudent("Martin", nephMartin, "B", "A2")
	e.addStudent("Bernard", nephBernard, "B")
	e.addStudent("Petit", nephPetit, "A2")
	class := []string{
		e.contract(tk.a1),
		e.contractOf(tk.a1, nephBernard, "BERNARD", "B"),
		e.contractOf(tk.a1, nephPetit, "PETIT", "A2"),
	}
	theory := withLesson(14, func(m map[string]string) { m["type"] = "THEORIE" })
	for i, id := range class {
		token := tk.a1
		if i == 1 {
			token = tk.a2 // another account of the school, as a second office would
		}
		if r := e.call(token, "POST", lessonPath(id), theory); r.status != 201 {
			t.Fatalf("THEORIE of student %d: %d %s", i, r.status, r.body)
		}
	}
	wantCode(t, e.call(tk.a1, "POST", lessonPath(class[0]), theory), "LECON_EN_DOUBLON")
	// Same instant, another offset, another type: still that contract at that start.
	wantCode(t, e.call(tk.a2, "POST", lessonPath(class[2]), withLesson(14, func(m map[string]string) {
		m["type"], m["debut"], m["fin"] = "PLATEAU", "2024-06-10T12:00:00Z", "2024-06-10T13:00:00Z"
	})), "LECON_EN_DOUBLON")

	mb, ma2 := e.contractOf(tk.a1, nephMartin, "MARTIN", "B"), e.contractOf(tk.a1, nephMartin, "MARTIN", "A2")
	if r := e.call(tk.a1, "POST", lessonPath(mb), theory); r.status != 201 {
		t.Fatalf("THEORIE on Martin's B: %d %s", r.status, r.body)
	}
	if r := e.call(tk.a1, "POST", lessonPath(ma2), theory); r.status != 201 {
		t.Fatalf("THEORIE on Martin's A2 at the same start: %d %s", r.status, r.body)
	}

	l := e.ledger()
	if len(l.Lessons) != 5 || l.DuplicatesRefused != 2 {
		t.Fatalf("%d lessons, %d duplicates refused; want 5 and 2", len(l.Lessons), l.DuplicatesRefused)
	}
	for _, ls := range l.Lessons {
		if ls.Type != "THEORIE" || ls.NumeroAutorisationFormateur != "A1234567890" {
			t.Fatalf("lesson %+v", ls)
		}
	}
}

// TestCategoriesSurviveARestart: the indexes rebuilt from the state file (contracts by NEPH
// and category, slots by contract and start) keep both rules.
func TestCategoriesSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	clk := newClock(sandboxNow)
	opts := sandbox.Options{Now: clk.Now, StateFile: path, Logger: quietLogger()}
	first := newEnv(t, opts)
	first.populate()
	first.addStudent("Martin", nephMartin, "B", "A2", "C")
	tok := first.login("a1@ecole-a.fr", "pw-a1").AccessToken
	b := first.contractOf(tok, nephMartin, "MARTIN", "B")
	a2 := first.contractOf(tok, nephMartin, "MARTIN", "A2")
	theory := withLesson(9, func(m map[string]string) { m["type"] = "THEORIE" })
	for _, id := range []string{b, a2} {
		if r := first.call(tok, "POST", lessonPath(id), theory); r.status != 201 {
			t.Fatalf("lesson on %s: %d %s", id, r.status, r.body)
		}
	}
	before := first.ledger()
	must(t, first.srv.Close())

	second := newEnv(t, opts)
	if after := second.ledger(); !slices.Equal(after.Contracts, before.Contracts) || len(after.Lessons) != 2 {
		t.Fatalf("contracts before %+v, after %+v; %d lessons", before.Contracts, after.Contracts, len(after.Lessons))
	}
	for _, cat := range []string{"B", "A2"} {
		wantCode(t, second.postContract(tok, nephMartin, "MARTIN", cat), "CONTRAT_DEJA_CONNU")
	}
	c := second.contractOf(tok, nephMartin, "MARTIN", "C")
	for _, id := range []string{b, a2} {
		wantCode(t, second.call(tok, "POST", lessonPath(id), theory), "LECON_EN_DOUBLON")
	}
	if r := second.call(tok, "POST", lessonPath(c), theory); r.status != 201 {
		t.Fatalf("THEORIE on the new C contract: %d %s", r.status, r.body)
	}
	wantCode(t, second.call(tok, "POST", lessonPath(a2), withLesson(11, func(m map[string]string) { m["type"] = "RDV_PEDAGOGIQUE" })), "TYPE_NON_AUTORISE")
	if n := len(second.ledger().Contracts); n != 3 {
		t.Fatalf("%d contracts, want 3", n)
	}
}
