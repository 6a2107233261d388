package webapi_test

import (
	"net/http"
	"slices"
	"testing"
)

// TestTrainings: a student with several trainings, each with its contract status; a lesson
// names its training by category, required only when there are several; a type that does
// not fit its training is said at entry; the one-training form keeps working.
func TestTrainings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	e.do("PATCH", "/v1/school", a.Key, map[string]any{"scope": "etendu"}).want(t, http.StatusOK)

	// Two trainings, B and A2.
	var st struct {
		Category  string `json:"category"`
		Trainings []struct {
			Category                  string `json:"category"`
			InitialEvaluationAccepted bool   `json:"initial_evaluation_accepted"`
			Contract                  struct {
				Status  string  `json:"status"`
				Message *string `json:"message"`
			} `json:"contract"`
		} `json:"trainings"`
	}
	tom := map[string]any{"office_ref": officeLauriane, "first_name": "Tom", "last_name": "Blanc", "neph": "120675000003",
		"trainings": []map[string]any{{"category": "B", "initial_evaluation_accepted": true}, {"category": "A2", "initial_evaluation_accepted": false}}}
	e.do("PUT", "/v1/students/tom", a.Key, tom).want(t, http.StatusCreated).json(t, &st)
	if len(st.Trainings) != 2 || st.Trainings[0].Category != "B" || st.Trainings[1].Category != "A2" ||
		st.Trainings[1].InitialEvaluationAccepted || st.Trainings[0].Contract.Status != "none" || st.Category != "B" {
		t.Fatalf("Tom's trainings: %+v", st)
	}

	plateau := map[string]any{"office_ref": officeLauriane, "student_ref": "tom", "instructor_ref": "jean", "type": "plateau",
		"start": "2026-03-10T09:00:00+01:00", "end": "2026-03-10T10:00:00+01:00"}
	// Two trainings and no category: 422 naming the field, nothing written.
	before := e.count("lessons")
	p := e.do("PUT", "/v1/lessons/t1", a.Key, plateau).wantProblem(t, http.StatusUnprocessableEntity)
	if !slices.Equal(p.fields(), []string{"category"}) || e.count("lessons") != before {
		t.Fatalf("lesson without its category: %+v", p)
	}
	// A category the student does not follow: 422 too.
	plateau["category"] = "C"
	e.do("PUT", "/v1/lessons/t1", a.Key, plateau).wantProblem(t, http.StatusUnprocessableEntity)

	// On the A2 training: the A2 evaluation is not accepted yet.
	var l struct {
		lesson
		Category   string  `json:"category"`
		SessionRef *string `json:"session_ref"`
	}
	plateau["category"] = "A2"
	e.do("PUT", "/v1/lessons/t1", a.Key, plateau).want(t, http.StatusCreated).json(t, &l)
	if l.Category != "A2" || l.code() != "EVALUATION_NON_ACCEPTEE" {
		t.Fatalf("plateau on A2 before the evaluation: %+v", l)
	}
	// A plateau on the B training is a mistake to fix, said at once.
	plateau["category"] = "B"
	e.do("PUT", "/v1/lessons/t2", a.Key, plateau).want(t, http.StatusCreated).json(t, &l)
	if l.Category != "B" || l.Transmission.Status != "error" || l.code() != "TYPE_INCOMPATIBLE" {
		t.Fatalf("plateau on B: %+v", l.Transmission)
	}
	// The A2 evaluation accepted: the plateau waits to be sent.
	tom["trainings"] = []map[string]any{{"category": "B", "initial_evaluation_accepted": true}, {"category": "A2", "initial_evaluation_accepted": true}}
	e.put(a.Key, "/v1/students/tom", tom)
	if l := e.lesson(a.Key, "t1"); l.Transmission.Status != "pending" {
		t.Fatalf("plateau on A2 after the evaluation: %+v", l.Transmission)
	}
	// A training with lessons cannot be dropped: the PUT is refused whole.
	tom["trainings"] = []map[string]any{{"category": "B", "initial_evaluation_accepted": false}}
	p = e.do("PUT", "/v1/students/tom", a.Key, tom).wantProblem(t, http.StatusUnprocessableEntity)
	if !slices.Equal(p.fields(), []string{"trainings"}) {
		t.Fatalf("dropping A2: %+v", p)
	}
	if l := e.lesson(a.Key, "t1"); l.Transmission.Status != "pending" {
		t.Fatalf("the refused PUT changed B's evaluation: %+v", l.Transmission)
	}
	// Bad trainings: a category twice, an unknown one, none, or both forms at once.
	for _, bad := range []map[string]any{
		{"trainings": []map[string]any{{"category": "B"}, {"category": "B"}}},
		{"trainings": []map[string]any{{"category": "ZZ"}}},
		{"trainings": []map[string]any{}},
		{"category": "B", "trainings": []map[string]any{{"category": "A2"}}},
	} {
		body := map[string]any{"office_ref": officeLauriane, "first_name": "Tom", "last_name": "Blanc"}
		for k, v := range bad {
			body[k] = v
		}
		e.do("PUT", "/v1/students/tom", a.Key, body).wantProblem(t, http.StatusUnprocessableEntity)
	}

	// A collective theory session: one lesson per attending student, sharing session_ref.
	theory := map[string]any{"office_ref": officeLauriane, "student_ref": "tom", "category": "A2", "instructor_ref": "jean",
		"type": "code", "session_ref": "code-10-03", "start": "2026-03-10T18:00:00+01:00", "end": "2026-03-10T19:00:00+01:00"}
	e.do("PUT", "/v1/lessons/code-tom", a.Key, theory).want(t, http.StatusCreated).json(t, &l)
	if l.SessionRef == nil || *l.SessionRef != "code-10-03" || l.Transmission.Status != "pending" {
		t.Fatalf("Tom's theory lesson: %+v", l)
	}
	delete(theory, "category") // Lou has one training: no category needed
	theory["student_ref"] = "lou"
	e.do("PUT", "/v1/lessons/code-lou", a.Key, theory).want(t, http.StatusCreated).json(t, &l)
	if l.Category != "B" || l.Transmission.Status != "pending" {
		t.Fatalf("Lou's theory lesson: %+v", l)
	}

	// The report filters by category.
	if got := e.lessons(a.Key, "?category=A2"); got.Total != 2 {
		t.Fatalf("A2 lessons: %d, want 2", got.Total)
	}
	e.do("GET", "/v1/lessons?category=ZZ", a.Key, nil).wantProblem(t, http.StatusUnprocessableEntity)

	// The one-training form on a one-training student changes that training's category, as
	// it changed the student's before (Lou's lessons follow).
	e.put(a.Key, "/v1/students/lou", map[string]any{"office_ref": officeLauriane, "first_name": "Lou", "last_name": "Michel",
		"neph": "210987654321", "category": "C", "initial_evaluation_accepted": true})
	if l := e.lesson(a.Key, "code-lou"); l.Transmission.Status != "pending" {
		t.Fatalf("Lou's theory lesson on C: %+v", l.Transmission)
	}
	if got := e.lessons(a.Key, "?category=C"); got.Total != 1 {
		t.Fatalf("C lessons: %d, want 1", got.Total)
	}
}

// TestScope: a school in scope guide sends the vendor guide's lessons only; PATCH /v1/school
// to etendu judges its waiting lessons again at once, and back.
func TestScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	var s struct {
		Scope      string `json:"scope"`
		ScopeLabel string `json:"scope_label"`
	}
	e.do("GET", "/v1/school", a.Key, nil).want(t, http.StatusOK).json(t, &s)
	if s.Scope != "guide" || s.ScopeLabel == "" {
		t.Fatalf("a new school's scope: %+v", s)
	}
	e.put(a.Key, "/v1/students/tom", map[string]any{"office_ref": officeLauriane, "first_name": "Tom", "last_name": "Blanc",
		"neph": "120675000003", "category": "A2", "initial_evaluation_accepted": true})
	e.put(a.Key, "/v1/lessons/moto", map[string]any{"office_ref": officeLauriane, "student_ref": "tom", "instructor_ref": "jean",
		"type": "circulation", "start": "2026-03-10T09:00:00+01:00", "end": "2026-03-10T10:00:00+01:00"})
	e.put(a.Key, "/v1/lessons/code", map[string]any{"office_ref": officeLauriane, "student_ref": "lou", "instructor_ref": "jean",
		"type": "code", "start": "2026-03-10T18:00:00+01:00", "end": "2026-03-10T19:00:00+01:00"})
	if l := e.lesson(a.Key, "moto"); l.code() != "CATEGORIE_NON_CONCERNEE" {
		t.Fatalf("moto in scope guide: %+v", l.Transmission)
	}
	if l := e.lesson(a.Key, "code"); l.code() != "TYPE_NON_CONCERNE" {
		t.Fatalf("theory in scope guide: %+v", l.Transmission)
	}

	e.do("PATCH", "/v1/school", a.Key, map[string]any{"scope": "etendu"}).want(t, http.StatusOK).json(t, &s)
	if s.Scope != "etendu" {
		t.Fatalf("scope after PATCH: %+v", s)
	}
	for _, ref := range []string{"moto", "code"} {
		if l := e.lesson(a.Key, ref); l.Transmission.Status != "pending" {
			t.Fatalf("%s in scope etendu: %+v", ref, l.Transmission)
		}
	}
	// Bad input: an unknown scope or field, nothing changed.
	p := e.do("PATCH", "/v1/school", a.Key, map[string]any{"scope": "tout"}).wantProblem(t, http.StatusUnprocessableEntity)
	if !slices.Equal(p.fields(), []string{"scope"}) {
		t.Fatalf("unknown scope: %+v", p)
	}
	e.do("PATCH", "/v1/school", a.Key, map[string]any{"scop": "guide"}).wantProblem(t, http.StatusBadRequest)

	e.do("PATCH", "/v1/school", a.Key, map[string]any{"scope": "guide"}).want(t, http.StatusOK)
	if l := e.lesson(a.Key, "moto"); l.code() != "CATEGORIE_NON_CONCERNEE" {
		t.Fatalf("moto back in scope guide: %+v", l.Transmission)
	}
}
