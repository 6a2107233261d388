package webapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"livret/domain"
)

// batchResult is POST /v1/batch's answer as a client reads it.
type batchResult struct {
	Results []batchItemResult `json:"results"`
}

type batchItemResult struct {
	Kind   string `json:"kind"`
	Ref    string `json:"ref"`
	Status int    `json:"status"`
	Type   string `json:"type"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
	Transmission json.RawMessage `json:"transmission"`
}

func (r batchItemResult) fields() []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, e.Field)
	}
	return out
}

func (r batchItemResult) message(field string) string {
	for _, e := range r.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// withRef is a PUT's body as a batch item: the same fields plus "ref".
func withRef(ref string, body map[string]any) map[string]any {
	item := map[string]any{"ref": ref}
	for k, v := range body {
		item[k] = v
	}
	return item
}

// batchCase is one item of the big batch: its list, ref, body (without ref, as its single
// PUT takes it) and, for a bad one, the status and fields it must be refused with.
type batchCase struct {
	list   string // offices, instructors, students, lessons
	ref    any    // a string, or nil for an item without "ref"
	body   map[string]any
	status int // 0: applied (201 the first time, 200 on a replay)
	fields []string
}

func (c batchCase) item() map[string]any {
	if c.ref == nil {
		return c.body
	}
	return withRef(c.ref.(string), c.body)
}

func (c batchCase) kind() string { return strings.TrimSuffix(c.list, "s") }

// TestBatch1000: a batch of 1,000 mixed items with bad ones among them applies every good
// item, refuses each bad one with exactly its single PUT's problem, writes nothing of the bad
// ones, and answers 201 then 200 on a replay.
func TestBatch1000(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Linked, so that a lesson's transmission says more than "office not linked".
	a := linkedSchool(e)
	slot := func(i int) (string, string) {
		day := 1 + i%28
		h := 8 + (i/28)%10
		return fmt.Sprintf("2025-%02d-%02dT%02d:00:00+01:00", 1+(i/280)%12, day, h),
			fmt.Sprintf("2025-%02d-%02dT%02d:00:00+01:00", 1+(i/280)%12, day, h+1)
	}
	lessonBody := func(i int, student string) map[string]any {
		start, end := slot(i)
		return map[string]any{"office_ref": fmt.Sprintf("o%d", i%5), "student_ref": student,
			"instructor_ref": fmt.Sprintf("i%d", i%10), "type": "conduite", "start": start, "end": end}
	}

	var cases []batchCase
	for i := range 5 {
		cases = append(cases, batchCase{list: "offices", ref: fmt.Sprintf("o%d", i), body: map[string]any{"name": fmt.Sprintf("Bureau %d", i)}})
	}
	cases = append(cases, batchCase{list: "offices", ref: "o-sans-nom", body: map[string]any{}, status: 422, fields: []string{"name"}})
	for i := range 10 {
		cases = append(cases, batchCase{list: "instructors", ref: fmt.Sprintf("i%d", i), body: map[string]any{"first_name": "Jean",
			"last_name": fmt.Sprintf("Dupont%d", i), "authorization_number": fmt.Sprintf("A%010d", i+1)}})
	}
	cases = append(cases,
		batchCase{list: "instructors", ref: "i-type", body: map[string]any{"last_name": "Martin", "simulator": "oui"}, status: 400, fields: []string{"simulator"}},
		batchCase{list: "instructors", ref: "i-inconnu", body: map[string]any{"last_name": "Martin", "couleur": "bleu"}, status: 400, fields: []string{"couleur"}},
	)
	for i := range 200 {
		cases = append(cases, batchCase{list: "students", ref: fmt.Sprintf("s%d", i), body: map[string]any{"office_ref": fmt.Sprintf("o%d", i%5),
			"first_name": "Camille", "last_name": fmt.Sprintf("Élève%d", i), "neph": fmt.Sprintf("%012d", 120675000000+i),
			"category": "B", "initial_evaluation_accepted": true}})
	}
	cases = append(cases,
		// A NEPH that cannot be stored: the student is refused, and so is a lesson naming them.
		batchCase{list: "students", ref: "s-neph", body: map[string]any{"office_ref": "o0", "first_name": "Lou", "last_name": "Michel",
			"neph": "1206\u000175000", "category": "B"}, status: 422, fields: []string{"neph"}},
		// A malformed NEPH is stored as given (docs/api.md): its lesson says why it will not go.
		batchCase{list: "students", ref: "s-neph-court", body: map[string]any{"office_ref": officeLauriane, "first_name": "Léa", "last_name": "Court",
			"neph": "12345", "category": "B"}},
		batchCase{list: "students", ref: nil, body: map[string]any{"office_ref": "o0", "first_name": "Sans", "last_name": "Réf", "category": "B"},
			status: 422, fields: []string{"ref"}},
		batchCase{list: "students", ref: " s-espace", body: map[string]any{"office_ref": "o0", "first_name": "Avec", "last_name": "Espace", "category": "B"},
			status: 422, fields: []string{"ref"}},
		batchCase{list: "students", ref: "s-bureau", body: map[string]any{"office_ref": "o-sans-nom", "first_name": "Bureau", "last_name": "Refusé", "category": "B"},
			status: 422, fields: []string{"office_ref"}},
	)
	bad := []batchCase{
		{list: "lessons", ref: "l-eleve-inconnu", body: lessonBody(900, "inconnu"), status: 422, fields: []string{"student_ref"}},
		{list: "lessons", ref: "l-type", body: func() map[string]any { b := lessonBody(901, "s1"); b["type"] = "voiture"; return b }(), status: 422, fields: []string{"type"}},
		{list: "lessons", ref: "l-fin", body: func() map[string]any {
			b := lessonBody(902, "s2")
			b["end"] = b["start"]
			return b
		}(), status: 422, fields: []string{"end"}},
		{list: "lessons", ref: "l-eleve-refuse", body: lessonBody(903, "s-neph"), status: 422, fields: []string{"student_ref"}},
		{list: "lessons", ref: "l-champ", body: func() map[string]any { b := lessonBody(904, "s3"); b["salle"] = "2"; return b }(), status: 400, fields: []string{"salle"}},
	}
	nephLesson := lessonBody(905, "s-neph-court")
	nephLesson["office_ref"] = officeLauriane
	cases = append(cases, batchCase{list: "lessons", ref: "l-neph-court", body: nephLesson})
	for i := 0; len(cases)+len(bad) < 1000; i++ {
		// Every student is in this same batch: students apply before lessons.
		cases = append(cases, batchCase{list: "lessons", ref: fmt.Sprintf("l%d", i), body: lessonBody(i, fmt.Sprintf("s%d", i%200))})
		if i%150 == 75 && len(bad) > 0 { // the bad lessons among the good ones
			cases, bad = append(cases, bad[0]), bad[1:]
		}
	}
	cases = append(cases, bad...)
	if len(cases) != 1000 {
		t.Fatalf("%d items", len(cases))
	}
	body := map[string][]any{}
	for _, c := range cases {
		body[c.list] = append(body[c.list], c.item())
	}

	run := func(wantApplied int) batchResult {
		t.Helper()
		var out batchResult
		e.do("POST", "/v1/batch", a.Key, body).want(t, http.StatusOK).json(t, &out)
		if len(out.Results) != len(cases) {
			t.Fatalf("%d results for %d items", len(out.Results), len(cases))
		}
		for i, c := range cases {
			r := out.Results[i]
			ref, _ := c.ref.(string)
			if r.Kind != c.kind() || r.Ref != ref {
				t.Fatalf("result %d is %s %q, the item %s %q", i, r.Kind, r.Ref, c.kind(), ref)
			}
			want := c.status
			if want == 0 {
				want = wantApplied
			}
			if r.Status != want || !slices.Equal(r.fields(), c.fields) {
				t.Fatalf("%s %q: status %d fields %v, want %d %v (%+v)", c.kind(), ref, r.Status, r.fields(), want, c.fields, r)
			}
			if (c.status == 0) != (r.Type == "" && r.Detail == "") {
				t.Fatalf("%s %q: type %q detail %q", c.kind(), ref, r.Type, r.Detail)
			}
			if (c.status == 0 && c.list == "lessons") != (len(r.Transmission) > 0) {
				t.Fatalf("%s %q: transmission %s", c.kind(), ref, r.Transmission)
			}
		}
		return out
	}
	out := run(http.StatusCreated)

	// Each refusal is the single PUT's: same status, type, detail, fields and French messages.
	for i, c := range cases {
		ref, ok := c.ref.(string)
		if c.status == 0 || !ok {
			continue
		}
		p := e.do("PUT", "/v1/"+c.list+"/"+url.PathEscape(ref), a.Key, c.body).wantProblem(t, c.status)
		r := out.Results[i]
		if r.Type != p.Type || r.Detail != p.Detail || len(r.Errors) != len(p.Errors) {
			t.Fatalf("%s %q: batch %+v, single PUT %+v", c.kind(), ref, r, p)
		}
		for j := range p.Errors {
			if r.Errors[j].Field != p.Errors[j].Field || r.Errors[j].Message != p.Errors[j].Message {
				t.Fatalf("%s %q: batch %+v, single PUT %+v", c.kind(), ref, r.Errors, p.Errors)
			}
		}
	}
	for _, want := range []struct{ ref, field, message string }{
		{"s-neph", "neph", "Caractère de contrôle non autorisé."},
		{"l-eleve-inconnu", "student_ref", "Élève inconnu : envoyez-le d'abord (PUT /v1/students/{ref})."},
		{"l-eleve-refuse", "student_ref", "Élève inconnu : envoyez-le d'abord (PUT /v1/students/{ref})."},
		{"l-type", "type", "Type de leçon inconnu."},
		{"l-fin", "end", "La fin de la leçon doit être après son début."},
		{"l-champ", "salle", "Champ inconnu."},
		{"i-type", "simulator", "Type invalide : un booléen (true ou false) attendu."},
		{"", "ref", "Champ obligatoire."},
		{" s-espace", "ref", "L'identifiant ne doit pas commencer ni finir par un espace."},
	} {
		found := false
		for _, r := range out.Results {
			if r.Ref == want.ref && r.Status >= 400 {
				found = true
				if msg := r.message(want.field); !strings.HasPrefix(msg, want.message) {
					t.Fatalf("%q: %s's message %q, want %q", want.ref, want.field, msg, want.message)
				}
			}
		}
		if !found {
			t.Fatalf("no refusal of %q", want.ref)
		}
	}

	// The good items are all there, the bad ones left nothing.
	goodLessons := 0
	for _, c := range cases {
		if c.status == 0 && c.list == "lessons" {
			goodLessons++
		}
	}
	q := func(table string) int {
		var n int
		must(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE school_id = $1", a.ID).Scan(&n))
		return n
	}
	if o, i, s, l := q("offices"), q("instructors"), q("students"), q("lessons"); o != 6 || i != 10 || s != 201 || l != goodLessons {
		t.Fatalf("written: %d offices, %d instructors, %d students, %d lessons; want 6 (with %s), 10, 201, %d", o, i, s, l, officeLauriane, goodLessons)
	}
	if got := e.lessons(a.Key, "").Total; got != goodLessons {
		t.Fatalf("the report lists %d lessons, want %d", got, goodLessons)
	}
	for _, path := range []string{"/v1/offices/o-sans-nom", "/v1/lessons/l-eleve-inconnu", "/v1/lessons/l-type", "/v1/lessons/l-fin",
		"/v1/lessons/l-eleve-refuse", "/v1/lessons/l-champ", "/v1/students/s-neph/lessons"} {
		e.do("GET", path, a.Key, nil).wantProblem(t, http.StatusNotFound)
	}
	for _, ref := range []string{"s-neph", "s-espace", " s-espace", "s-bureau", "i-type", "i-inconnu"} {
		var n int
		must(t, e.pool.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM students WHERE ref = $1) + (SELECT count(*) FROM instructors WHERE ref = $1)", ref).Scan(&n))
		if n != 0 {
			t.Fatalf("the refused %q was written", ref)
		}
	}

	// A lesson's transmission is the one its PUT answers, and the report shows.
	for i, c := range cases {
		ref, _ := c.ref.(string)
		if c.list != "lessons" || c.status != 0 || (ref != "l-neph-court" && ref != "l0" && ref != "l500") {
			continue
		}
		var got, want map[string]any
		must(t, json.Unmarshal(out.Results[i].Transmission, &got))
		var l map[string]any
		e.do("GET", "/v1/lessons/"+ref, a.Key, nil).want(t, http.StatusOK).json(t, &l)
		want = l["transmission"].(map[string]any)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: batch transmission %v, the lesson's %v", ref, got, want)
		}
		if ref == "l-neph-court" && got["code"] != string(domain.CodeNEPHInvalide) {
			t.Fatalf("the lesson of a student with a malformed NEPH: %v", got)
		}
	}

	// The same batch again: every good item is an update, the bad ones are refused the same.
	run(http.StatusOK)
	if q("offices") != 6 || q("instructors") != 10 || q("students") != 201 || q("lessons") != goodLessons {
		t.Fatal("the replay created rows")
	}
}

// TestBatchLimits: over 1,000 items is a 413 naming the limit, with nothing written; a body
// that is not a batch is a 400 as on every route; an item that is not an object is that
// item's 400.
func TestBatchLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)

	var offices []any
	for i := range 1001 {
		offices = append(offices, map[string]any{"ref": fmt.Sprintf("o%d", i), "name": "Bureau"})
	}
	p := e.do("POST", "/v1/batch", a.Key, map[string]any{"offices": offices}).wantProblem(t, http.StatusRequestEntityTooLarge)
	if !strings.Contains(p.Detail, "au plus 1 000 éléments") || !strings.Contains(p.Detail, "1001") {
		t.Fatalf("413 detail %q", p.Detail)
	}
	// Mixed lists count together.
	body := map[string]any{"offices": offices[:500], "lessons": make([]any, 501)}
	e.do("POST", "/v1/batch", a.Key, body).wantProblem(t, http.StatusRequestEntityTooLarge)
	if n := e.count("offices"); n != 0 {
		t.Fatalf("a refused batch wrote %d offices", n)
	}
	// 1,000 exactly is a batch.
	var out batchResult
	e.do("POST", "/v1/batch", a.Key, map[string]any{"offices": offices[:1000]}).want(t, http.StatusOK).json(t, &out)
	if len(out.Results) != 1000 || out.Results[999].Status != http.StatusCreated || e.count("offices") != 1000 {
		t.Fatalf("1,000 offices: %d results, %d written", len(out.Results), e.count("offices"))
	}

	for _, c := range []struct {
		name, body string
		fields     []string
		detail     string
	}{
		{"malformed JSON", `{"offices":[`, nil, "JSON mal formé"},
		{"not an object", `[]`, nil, "objet JSON"},
		{"unknown list", `{"classes":[]}`, []string{"classes"}, "Champ inconnu"},
		{"a list that is not one", `{"offices":{"ref":"x"}}`, []string{"offices"}, "une liste"},
		{"trailing data", `{} {}`, nil, "après l'objet"},
	} {
		p := e.do("POST", "/v1/batch", a.Key, c.body).wantProblem(t, http.StatusBadRequest)
		text := p.Detail
		for _, f := range p.Errors {
			text += " " + f.Message
		}
		if !slices.Equal(p.fields(), c.fields) || !strings.Contains(text, c.detail) {
			t.Fatalf("%s: %+v", c.name, p)
		}
	}

	// A batch's body may pass the other routes' 1 MiB, up to 4 MiB.
	big := strings.Repeat("x", 150_000)
	var padded []any
	for i := range 30 {
		padded = append(padded, map[string]any{"ref": fmt.Sprintf("p%d", i), "name": "Bureau", "note": big})
	}
	e.do("POST", "/v1/batch", a.Key, map[string]any{"offices": padded[:10]}).want(t, http.StatusOK).json(t, &out)
	if len(out.Results) != 10 || out.Results[0].Status != 400 || !slices.Equal(out.Results[0].fields(), []string{"note"}) {
		t.Fatalf("1.5 MB batch: %+v", out.Results[0])
	}
	p = e.do("POST", "/v1/batch", a.Key, map[string]any{"offices": padded}).wantProblem(t, http.StatusRequestEntityTooLarge)
	if !strings.Contains(p.Detail, "4 Mio") {
		t.Fatalf("4.5 MB batch: %+v", p)
	}
	e.do("PUT", "/v1/offices/p0", a.Key, map[string]any{"name": "Bureau", "note": strings.Repeat("x", 1<<20)}).wantProblem(t, http.StatusRequestEntityTooLarge)

	// An empty batch is answered with no results.
	e.do("POST", "/v1/batch", a.Key, `{}`).want(t, http.StatusOK).json(t, &out)
	if len(out.Results) != 0 {
		t.Fatalf("empty batch: %+v", out)
	}
	// Items that are not objects, or whose ref is not a string, are their own 400s.
	e.do("POST", "/v1/batch", a.Key, `{"offices":[42,null,{"ref":7,"name":"x"},{"ref":"ok","name":"Bon"}]}`).want(t, http.StatusOK).json(t, &out)
	if len(out.Results) != 4 || out.Results[0].Status != 400 || out.Results[1].Status != 400 ||
		out.Results[2].Status != 400 || !slices.Equal(out.Results[2].fields(), []string{"ref"}) || out.Results[3].Status != http.StatusCreated {
		t.Fatalf("items that are not objects: %+v", out.Results)
	}
	if !strings.Contains(out.Results[0].Detail, "objet JSON") {
		t.Fatalf("detail %q", out.Results[0].Detail)
	}
}

// TestBatchSameRefInOrder: the items of a list go several at once, but two items with the
// same ref are applied in their order, so the later one is the update that stays.
func TestBatchSameRefInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.School.BatchWorkers = 4
	a := e.createSchool("Auto-école Lauriane", agrementA)
	// 7 refs over 1,000 items: a ref's items are not a fixed stride apart modulo the workers.
	var offices []any
	var want []int
	last := map[string]string{}
	for i := range 1000 {
		ref, name := fmt.Sprintf("o%d", i%7), fmt.Sprintf("Bureau %d", i)
		offices = append(offices, map[string]any{"ref": ref, "name": name})
		want = append(want, map[bool]int{true: http.StatusCreated, false: http.StatusOK}[i < 7])
		last[ref] = name
	}
	var out batchResult
	e.do("POST", "/v1/batch", a.Key, map[string]any{"offices": offices}).want(t, http.StatusOK).json(t, &out)
	for i, r := range out.Results {
		if r.Ref != fmt.Sprintf("o%d", i%7) || r.Status != want[i] {
			t.Fatalf("result %d: %+v, want %d", i, r, want[i])
		}
	}
	for ref, name := range last {
		var o map[string]any
		e.do("GET", "/v1/offices/"+ref, a.Key, nil).want(t, http.StatusOK).json(t, &o)
		if o["name"] != name {
			t.Fatalf("%s is %v, want %s: the last item of its ref did not win", ref, o["name"], name)
		}
	}
}
