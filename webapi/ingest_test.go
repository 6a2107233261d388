package webapi_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"livret/db/dbq"
	"livret/domain"
)

// TestIngestHappyPath: upserts by ref, 201 then 200, values normalised as the DSR wants them.
func TestIngestHappyPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)

	e.do("PUT", "/v1/offices/lauriane", a.Key, map[string]any{"name": "AE LAURIANE"}).want(t, http.StatusCreated)
	var office map[string]any
	e.do("PUT", "/v1/offices/lauriane", a.Key, map[string]any{"name": " AE Lauriane "}).want(t, http.StatusOK).json(t, &office)
	if office["name"] != "AE Lauriane" || office["ref"] != "lauriane" || office["dsr"].(map[string]any)["linked"] != false || office["last_run"] != nil {
		t.Fatalf("office: %v", office)
	}

	var inst map[string]any
	e.do("PUT", "/v1/instructors/jean", a.Key, map[string]any{"first_name": "Jean", "last_name": "Dupont",
		"authorization_number": "a 12.345.678.90"}).want(t, http.StatusCreated).json(t, &inst)
	if inst["authorization_number"] != "A1234567890" || inst["authorization_number_valid"] != true || inst["simulator"] != false {
		t.Fatalf("instructor: %v", inst)
	}
	// A malformed number is stored as given: its lessons will carry the DSR's format error.
	e.do("PUT", "/v1/instructors/paul", a.Key, map[string]any{"last_name": "Martin", "authorization_number": " A12345 "}).
		want(t, http.StatusCreated).json(t, &inst)
	if inst["authorization_number"] != "A12345" || inst["authorization_number_valid"] != false || inst["first_name"] != "" {
		t.Fatalf("malformed instructor: %v", inst)
	}
	e.do("PUT", "/v1/instructors/paul", a.Key, map[string]any{"last_name": "Martin", "authorization_number": ""}).want(t, http.StatusOK)

	var st map[string]any
	e.do("PUT", "/v1/students/melanie", a.Key, map[string]any{"office_ref": "lauriane", "first_name": "Mélanie",
		"last_name": "Perrin", "neph": "1234 5678 9012", "category": "B_AUTO", "initial_evaluation_accepted": true}).
		want(t, http.StatusCreated).json(t, &st)
	if st["neph"] != "123456789012" || st["category"] != "B_AUTO" || st["category_label"] != "Permis B boîte automatique" || st["office_ref"] != "lauriane" {
		t.Fatalf("student: %v", st)
	}
	row, err := dbq.New(e.pool).StudentGetByRef(context.Background(), dbq.StudentGetByRefParams{SchoolID: a.ID, Ref: "melanie"})
	must(t, err)
	if row.SearchName != "melanie perrin" {
		t.Fatalf("search_name %q", row.SearchName)
	}
	// An empty NEPH is accepted (its lessons say NEPH_MANQUANT).
	e.do("PUT", "/v1/students/lou", a.Key, map[string]any{"office_ref": "lauriane", "first_name": "Lou",
		"last_name": "Michel", "category": "B"}).want(t, http.StatusCreated)

	body := map[string]any{"office_ref": "lauriane", "student_ref": "melanie", "instructor_ref": "jean",
		"type": "conduite", "start": "2021-12-09T15:00:00+01:00", "end": "2021-12-09T16:00:00+01:00"}
	var l lesson
	e.do("PUT", "/v1/lessons/l1", a.Key, body).want(t, http.StatusCreated).json(t, &l)
	// The office is not linked: the sender learns at once that the lesson will not be sent.
	if l.Transmission.Status != "not_eligible" || l.code() != "BUREAU_NON_CONNECTE" ||
		l.message() != domain.CodeBureauNonConnecte.Message() || l.Transmission.Hint == nil ||
		l.Slot != "09/12/2021 15:00 - 16:00" || l.TypeLabel != "Leçon de conduite" || l.Transmission.Attempts != 0 {
		t.Fatalf("lesson: %+v", l)
	}
	// Same request again: same lesson, no second row.
	var again lesson
	e.do("PUT", "/v1/lessons/l1", a.Key, body).want(t, http.StatusOK).json(t, &again)
	if again.PlannedAt != l.PlannedAt || again.Start != l.Start || e.count("lessons") != 1 || e.count("transmissions") != 1 {
		t.Fatalf("replay: %+v", again)
	}
	// The same instant in UTC is the same lesson; planned_at given by the software is kept.
	body["start"], body["end"], body["planned_at"] = "2021-12-09T14:00:00Z", "2021-12-09T15:00:00Z", "2021-12-01T09:00:00+01:00"
	e.do("PUT", "/v1/lessons/l1", a.Key, body).want(t, http.StatusOK).json(t, &again)
	if again.Start != "2021-12-09T15:00:00+01:00" || again.PlannedAt != "2021-12-01T09:00:00+01:00" {
		t.Fatalf("UTC input: %+v", again)
	}
	if e.count("lessons") != 1 {
		t.Fatal("an update created a lesson")
	}
}

// TestIngestRefusals: bad input is refused whole, with the bad fields named, and writes nothing.
func TestIngestRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	e.put(a.Key, "/v1/offices/lauriane", map[string]any{"name": "AE LAURIANE"})
	e.put(a.Key, "/v1/students/melanie", map[string]any{"office_ref": "lauriane", "first_name": "Mélanie", "last_name": "Perrin", "category": "B"})
	e.put(a.Key, "/v1/instructors/jean", map[string]any{"last_name": "Dupont", "authorization_number": "A1234567890"})
	good := `"office_ref":"lauriane","student_ref":"melanie","instructor_ref":"jean","type":"conduite"`
	slot := `"start":"2021-12-09T15:00:00+01:00","end":"2021-12-09T16:00:00+01:00"`

	cases := []struct {
		name   string
		path   string
		body   string
		status int
		fields []string
		detail string // part of the detail or of the first field's message
	}{
		{"malformed JSON", "/v1/offices/x", `{"name":`, 400, nil, "JSON mal formé"},
		{"syntax error", "/v1/offices/x", `{"name" "x"}`, 400, nil, "JSON mal formé"},
		{"empty body", "/v1/offices/x", ``, 400, nil, "vide"},
		{"null", "/v1/offices/x", `null`, 400, nil, "objet JSON"},
		{"array", "/v1/offices/x", `[]`, 400, nil, "objet JSON"},
		{"trailing data", "/v1/offices/x", `{"name":"x"} {"name":"y"}`, 400, nil, "après l'objet"},
		{"unknown field", "/v1/offices/x", `{"name":"x","couleur":"bleu"}`, 400, []string{"couleur"}, "Champ inconnu"},
		{"field case", "/v1/offices/x", `{"Name":"x"}`, 400, []string{"Name"}, "Champ inconnu"},
		{"wrong type", "/v1/offices/x", `{"name":12}`, 400, []string{"name"}, "chaîne de caractères"},
		{"missing name", "/v1/offices/x", `{}`, 422, []string{"name"}, "obligatoire"},
		{"NUL in name", "/v1/offices/x", `{"name":"a\u0000b"}`, 422, []string{"name"}, "contrôle"},
		{"long name", "/v1/offices/x", `{"name":"` + strings.Repeat("é", 201) + `"}`, 422, []string{"name"}, "200"},
		{"bad ref", "/v1/offices/%20x", `{"name":"x"}`, 422, []string{"ref"}, "espace"},

		// A malformed NEPH is stored (TestVerdictsFollowTheData); one that cannot be stored is not.
		{"NEPH", "/v1/students/s", `{"office_ref":"lauriane","first_name":"A","last_name":"B","category":"B","neph":"12\u000145"}`, 422, []string{"neph"}, "contrôle"},
		{"long NEPH", "/v1/students/s", `{"office_ref":"lauriane","first_name":"A","last_name":"B","category":"B","neph":"` + strings.Repeat("1", 65) + `"}`, 422, []string{"neph"}, "64"},
		{"category", "/v1/students/s", `{"office_ref":"lauriane","first_name":"A","last_name":"B","category":"Z"}`, 422, []string{"category"}, "B, B_AUTO, B_AAC, B_CS"},
		{"unknown office", "/v1/students/s", `{"office_ref":"nulle-part","first_name":"A","last_name":"B","category":"B"}`, 422, []string{"office_ref"}, "Bureau inconnu"},
		{"student, every field", "/v1/students/s", `{"neph":"abc"}`, 422, []string{"office_ref", "first_name", "last_name", "category"}, "obligatoire"},
		{"boolean as text", "/v1/students/s", `{"office_ref":"lauriane","first_name":"A","last_name":"B","category":"B","initial_evaluation_accepted":"oui"}`, 400, []string{"initial_evaluation_accepted"}, "booléen"},

		{"instructor name", "/v1/instructors/i", `{"first_name":"Jean"}`, 422, []string{"last_name"}, "obligatoire"},
		{"simulator as text", "/v1/instructors/i", `{"last_name":"S","simulator":"true"}`, 400, []string{"simulator"}, "booléen"},

		{"type", "/v1/lessons/l", `{` + good[:strings.Index(good, `"type"`)] + `"type":"vol",` + slot + `}`, 422, []string{"type"}, "conduite, conduite_boite_auto, simulateur"},
		{"no offset", "/v1/lessons/l", `{` + good + `,"start":"2021-12-09T15:00:00","end":"2021-12-09T16:00:00+01:00"}`, 422, []string{"start"}, "RFC 3339"},
		{"end before start", "/v1/lessons/l", `{` + good + `,"start":"2021-12-09T15:00:00+01:00","end":"2021-12-09T14:00:00+01:00"}`, 422, []string{"end"}, "après son début"},
		{"empty slot", "/v1/lessons/l", `{` + good + `,"start":"2021-12-09T15:00:00+01:00","end":"2021-12-09T15:00:00+01:00"}`, 422, []string{"end"}, "après son début"},
		{"year 1", "/v1/lessons/l", `{` + good + `,"start":"0001-01-01T00:00:00Z","end":"0001-01-01T01:00:00Z"}`, 422, []string{"start", "end"}, "hors limites"},
		{"planned_at", "/v1/lessons/l", `{` + good + `,` + slot + `,"planned_at":"hier"}`, 422, []string{"planned_at"}, "RFC 3339"},
		{"unknown refs", "/v1/lessons/l", `{"office_ref":"o","student_ref":"s","instructor_ref":"i","type":"conduite",` + slot + `}`, 422, []string{"office_ref", "student_ref", "instructor_ref"}, "inconnu"},
		{"lesson, every field", "/v1/lessons/l", `{}`, 422, []string{"office_ref", "student_ref", "instructor_ref", "type", "start", "end"}, "obligatoire"},
		{"number as time", "/v1/lessons/l", `{` + good + `,"start":1639058400,"end":"2021-12-09T16:00:00+01:00"}`, 400, []string{"start"}, "chaîne"},
	}
	tables := []string{"offices", "students", "instructors", "lessons", "transmissions"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = e.count(tb)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := e.do("PUT", c.path, a.Key, c.body).wantProblem(t, c.status)
			if got := p.fields(); c.fields != nil && !slices.Equal(got, c.fields) {
				t.Fatalf("fields %v, want %v (%s)", got, c.fields, p.Errors)
			}
			text := p.Detail
			if len(p.Errors) > 0 {
				text += " " + p.Errors[0].Message
			}
			if !strings.Contains(text, c.detail) {
				t.Fatalf("%q does not say %q", text, c.detail)
			}
		})
	}
	for _, tb := range tables {
		if n := e.count(tb); n != before[tb] {
			t.Fatalf("%s: %d rows after refused requests, %d before", tb, n, before[tb])
		}
	}

	// Oversize: 413, whether announced or not.
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	e.do("PUT", "/v1/offices/big", a.Key, big).wantProblem(t, http.StatusRequestEntityTooLarge)
	// Keys: none, unknown, the operator's.
	for _, key := range []string{"", "lvk_inconnue", adminToken} {
		e.do("PUT", "/v1/offices/x", key, `{"name":"x"}`).wantProblem(t, http.StatusUnauthorized)
	}
	if n := e.count("offices"); n != before["offices"] {
		t.Fatal("a refused request wrote an office")
	}
}

// TestVerdictsFollowTheData: Livret's own checks are made at once, and redone when the
// student, the instructor or the office link changes.
func TestVerdictsFollowTheData(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	e.put(a.Key, "/v1/students/lou", map[string]any{"office_ref": officeLauriane, "first_name": "Lou", "last_name": "Michel", "category": "B"})
	e.put(a.Key, "/v1/instructors/paul", map[string]any{"last_name": "Martin", "authorization_number": "A12345"})
	lessonBody := func(typ string) map[string]any {
		return map[string]any{"office_ref": officeLauriane, "student_ref": "lou", "instructor_ref": "paul", "type": typ,
			"start": "2021-12-09T13:00:00+01:00", "end": "2021-12-09T14:00:00+01:00"}
	}
	var l lesson
	e.do("PUT", "/v1/lessons/l1", a.Key, lessonBody("conduite")).want(t, http.StatusCreated).json(t, &l)
	if l.Transmission.Status != "error" || l.code() != "NEPH_MANQUANT" {
		t.Fatalf("no NEPH: %+v", l.Transmission)
	}
	// A NEPH that is not 12 digits is stored as given (trimmed): the student exists, and the
	// lesson says in French why it will not go.
	var st map[string]any
	e.do("PUT", "/v1/students/lou", a.Key, map[string]any{"office_ref": officeLauriane, "first_name": "Lou", "last_name": "Michel",
		"category": "B", "neph": " 12345 "}).want(t, http.StatusOK).json(t, &st)
	if st["neph"] != "12345" {
		t.Fatalf("NEPH stored as %v", st["neph"])
	}
	if l = e.lesson(a.Key, "l1"); l.Transmission.Status != "error" || l.code() != "NEPH_INVALIDE" ||
		l.Transmission.Message == nil || !strings.Contains(*l.Transmission.Message, "12 chiffres") {
		t.Fatalf("malformed NEPH: %+v", l.Transmission)
	}
	e.put(a.Key, "/v1/students/lou", map[string]any{"office_ref": officeLauriane, "first_name": "Lou", "last_name": "Michel",
		"category": "B", "neph": "210987654321"})
	if l = e.lesson(a.Key, "l1"); l.code() != "EVALUATION_NON_ACCEPTEE" {
		t.Fatalf("after the NEPH: %+v", l.Transmission)
	}
	e.put(a.Key, "/v1/students/lou", map[string]any{"office_ref": officeLauriane, "first_name": "Lou", "last_name": "Michel",
		"category": "B", "neph": "210987654321", "initial_evaluation_accepted": true})
	if l = e.lesson(a.Key, "l1"); l.code() != "FORMAT_AUTORISATION_INVALIDE" ||
		l.message() != "Le format du numéro d'autorisation du formateur n'est pas valide." {
		t.Fatalf("malformed number: %+v", l.Transmission)
	}
	e.put(a.Key, "/v1/instructors/paul", map[string]any{"last_name": "Martin", "authorization_number": "A 0987654321"})
	if l = e.lesson(a.Key, "l1"); l.Transmission.Status != "pending" || l.Transmission.Code != nil || l.Transmission.Message != nil {
		t.Fatalf("all fixed: %+v", l.Transmission)
	}

	// Not concerned: a code lesson, a motorbike student, a lesson planned before the link.
	e.do("PUT", "/v1/lessons/l2", a.Key, lessonBody("code")).want(t, http.StatusCreated).json(t, &l)
	if l.Transmission.Status != "not_eligible" || l.code() != "TYPE_NON_CONCERNE" {
		t.Fatalf("code lesson: %+v", l.Transmission)
	}
	early := lessonBody("conduite")
	early["planned_at"] = "2020-01-01T10:00:00+01:00"
	e.do("PUT", "/v1/lessons/l3", a.Key, early).want(t, http.StatusCreated).json(t, &l)
	if l.code() != "PLANIFIEE_AVANT_CONNEXION" {
		t.Fatalf("planned before the link: %+v", l.Transmission)
	}
	e.put(a.Key, "/v1/students/lou", map[string]any{"office_ref": officeLauriane, "first_name": "Lou", "last_name": "Michel",
		"category": "A2", "neph": "210987654321", "initial_evaluation_accepted": true})
	if l = e.lesson(a.Key, "l1"); l.code() != "CATEGORIE_NON_CONCERNEE" {
		t.Fatalf("category A2: %+v", l.Transmission)
	}
	e.put(a.Key, "/v1/students/lou", map[string]any{"office_ref": officeLauriane, "first_name": "Lou", "last_name": "Michel",
		"category": "B_AAC", "neph": "210987654321", "initial_evaluation_accepted": true})

	// Unlinking holds every lesson of the office; linking again releases them.
	e.do("POST", "/v1/offices/"+officeLauriane+"/dsr/disconnect", a.Key, nil).want(t, http.StatusOK)
	if l = e.lesson(a.Key, "l1"); l.code() != "BUREAU_NON_CONNECTE" {
		t.Fatalf("after unlinking: %+v", l.Transmission)
	}
	e.linked(a.Key, officeLauriane, false, e.browser(), &login{emailA1, passwordA1})
	if l = e.lesson(a.Key, "l1"); l.Transmission.Status != "pending" {
		t.Fatalf("after linking again: %+v", l.Transmission)
	}

	// Cancel: cancelled, idempotent, unknown → 404.
	var c lesson
	e.do("POST", "/v1/lessons/l1/cancel", a.Key, nil).want(t, http.StatusOK).json(t, &c)
	if !c.Cancelled || c.Transmission.Status != "cancelled" || c.Transmission.Hint == nil {
		t.Fatalf("cancelled: %+v", c)
	}
	e.do("POST", "/v1/lessons/l1/cancel", a.Key, nil).want(t, http.StatusOK).json(t, &c)
	if c.Transmission.Status != "cancelled" {
		t.Fatalf("cancelled twice: %+v", c)
	}
	// A later update of a cancelled lesson keeps it cancelled.
	e.do("PUT", "/v1/lessons/l1", a.Key, lessonBody("conduite")).want(t, http.StatusOK).json(t, &c)
	if c.Transmission.Status != "cancelled" {
		t.Fatalf("updated after cancel: %+v", c)
	}
	e.do("POST", "/v1/lessons/inconnue/cancel", a.Key, nil).wantProblem(t, http.StatusNotFound)
}

// TestLessonAtTheDSRIsFrozen: a lesson sent (or being sent) cannot change; a replay of the
// same data is not a change; a DSR refusal survives Livret's own re-evaluation.
func TestLessonAtTheDSRIsFrozen(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)
	body := map[string]any{"office_ref": officeLauriane, "student_ref": "melanie", "instructor_ref": "jean",
		"type": "conduite", "start": "2021-12-09T10:00:00+01:00", "end": "2021-12-09T11:00:00+01:00"}

	e.markTransmitted(t, e.lessonID(a.ID, "l-1000"), "dsr-42")
	var l lesson
	e.do("PUT", "/v1/lessons/l-1000", a.Key, body).want(t, http.StatusOK).json(t, &l)
	if l.Transmission.Status != "transmitted" || l.Transmission.DSRLessonID == nil || *l.Transmission.DSRLessonID != "dsr-42" ||
		l.Transmission.TransmittedAt == nil || l.Transmission.Attempts != 1 {
		t.Fatalf("replay on a transmitted lesson: %+v", l.Transmission)
	}
	changed := map[string]any{}
	for k, v := range body {
		changed[k] = v
	}
	changed["end"] = "2021-12-09T11:30:00+01:00"
	before := e.snapshot(a.ID)
	p := e.do("PUT", "/v1/lessons/l-1000", a.Key, changed).wantProblem(t, http.StatusConflict)
	if p.Detail != "Cette leçon a déjà été transmise à la DSR : elle ne peut plus être modifiée." {
		t.Fatalf("409 detail %q", p.Detail)
	}
	e.do("POST", "/v1/lessons/l-1000/cancel", a.Key, nil).wantProblem(t, http.StatusConflict)
	if e.snapshot(a.ID) != before {
		t.Fatal("a refused change wrote something")
	}

	// Being sent: shown as pending, and frozen too.
	id := e.lessonID(a.ID, "l-1500")
	_, err := dbq.New(e.pool).TransmissionMarkSending(context.Background(), id)
	must(t, err)
	if l = e.lesson(a.Key, "l-1500"); l.Transmission.Status != "pending" {
		t.Fatalf("a lesson being sent shows %q", l.Transmission.Status)
	}
	changed["start"], changed["end"] = "2021-12-09T15:00:00+01:00", "2021-12-09T17:00:00+01:00"
	p = e.do("PUT", "/v1/lessons/l-1500", a.Key, changed).wantProblem(t, http.StatusConflict)
	if !strings.Contains(p.Detail, "en cours d'envoi") {
		t.Fatalf("409 detail %q", p.Detail)
	}
	e.do("POST", "/v1/lessons/l-1500/cancel", a.Key, nil).wantProblem(t, http.StatusConflict)

	// A DSR refusal stays until the admin resends, whatever Livret now thinks of the data.
	e.put(a.Key, "/v1/instructors/paul", map[string]any{"last_name": "Martin", "authorization_number": "A1111111111"})
	if l = e.lesson(a.Key, "l-lou"); l.Transmission.Status != "pending" {
		t.Fatalf("after fixing the number: %+v", l.Transmission)
	}
	e.markDSRError(t, e.lessonID(a.ID, "l-lou"), "ELEVE_INTROUVABLE", "Le duo NOM NEPH de l'élève ne permet pas de le retrouver en base")
	e.put(a.Key, "/v1/instructors/paul", map[string]any{"last_name": "Martin", "authorization_number": "A12"})
	e.put(a.Key, "/v1/students/lou", map[string]any{"office_ref": officeLauriane, "first_name": "Lou", "last_name": "Michel",
		"neph": "210987654321", "category": "B", "initial_evaluation_accepted": true})
	if l = e.lesson(a.Key, "l-lou"); l.code() != "ELEVE_INTROUVABLE" || l.Transmission.Hint == nil ||
		*l.Transmission.Hint != domain.CodeEleveIntrouvable.Hint() {
		t.Fatalf("DSR refusal after a fix: %+v", l.Transmission)
	}
}

// TestVerdictSeesConcurrentChanges: a lesson's verdict is computed on its student as
// committed. A student change in flight (which re-evaluates the student's lessons, but cannot
// see a lesson not yet committed) makes the lesson's write wait, then read the new student.
func TestVerdictSeesConcurrentChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	e.put(a.Key, "/v1/students/lou", map[string]any{"office_ref": officeLauriane, "first_name": "Lou", "last_name": "Michel", "category": "B"})
	e.put(a.Key, "/v1/instructors/jean", map[string]any{"last_name": "Dupont", "authorization_number": "A1234567890"})

	ctx := context.Background()
	tx, err := e.pool.Begin(ctx)
	must(t, err)
	defer func() { _ = tx.Rollback(ctx) }() // a no-op once committed
	_, err = tx.Exec(ctx, "UPDATE students SET neph = '210987654321' WHERE school_id = $1 AND ref = 'lou'", a.ID)
	must(t, err)
	_, err = tx.Exec(ctx, "UPDATE trainings SET initial_evaluation_accepted = true WHERE school_id = $1 AND student_id = (SELECT id FROM students WHERE school_id = $1 AND ref = 'lou')", a.ID)
	must(t, err)

	done := make(chan answer, 1)
	go func() {
		done <- e.with(t).do("PUT", "/v1/lessons/l1", a.Key, map[string]any{"office_ref": officeLauriane, "student_ref": "lou",
			"instructor_ref": "jean", "type": "conduite", "start": "2021-12-09T13:00:00+01:00", "end": "2021-12-09T14:00:00+01:00"})
	}()
	select {
	case ans := <-done:
		t.Fatalf("the lesson was written while its student was being changed: %d %s", ans.status, ans.body)
	case <-time.After(300 * time.Millisecond):
	}
	must(t, tx.Commit(ctx))
	var l lesson
	(<-done).want(t, http.StatusCreated).json(t, &l)
	if l.Transmission.Status != "pending" {
		t.Fatalf("verdict on the student before its change: %+v", l.Transmission)
	}
}

// TestSQLLookingInputIsStoredVerbatim: quotes, comments, statement separators and LIKE
// wildcards are data like any other: stored and shown as sent, never run, never matching
// more than themselves in a search.
func TestSQLLookingInputIsStoredVerbatim(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	officeRef := `o' OR '1'='1`
	officeName := `Bureau'); DROP TABLE offices; --`
	first, last := `Robert'); DROP TABLE students;--`, `100% _réel_ \'; SELECT pg_sleep(30); -- $1 $$`
	e.put(a.Key, "/v1/offices/"+url.PathEscape(officeRef), map[string]any{"name": officeName})
	e.put(a.Key, "/v1/offices/plain", map[string]any{"name": "Bureau simple"})
	e.put(a.Key, "/v1/students/"+url.PathEscape(`s"; --`), map[string]any{"office_ref": officeRef, "first_name": first, "last_name": last,
		"neph": "123456789012", "category": "B", "initial_evaluation_accepted": true})
	e.put(a.Key, "/v1/students/other", map[string]any{"office_ref": "plain", "first_name": "Lou", "last_name": "Michel",
		"neph": "210987654321", "category": "B", "initial_evaluation_accepted": true})

	var offices []struct{ Ref, Name string }
	e.do("GET", "/v1/offices", a.Key, nil).want(t, http.StatusOK).json(t, &offices)
	found := false
	for _, o := range offices {
		found = found || (o.Ref == officeRef && o.Name == officeName)
	}
	if !found || len(offices) != 2 {
		t.Fatalf("offices as listed: %+v", offices)
	}
	var storedFirst, storedLast, storedRef string
	must(t, e.pool.QueryRow(context.Background(), "SELECT first_name, last_name, ref FROM students WHERE school_id = $1 AND neph = '123456789012'", a.ID).
		Scan(&storedFirst, &storedLast, &storedRef))
	if storedFirst != first || storedLast != last || storedRef != `s"; --` {
		t.Fatalf("stored %q %q %q", storedFirst, storedLast, storedRef)
	}
	if e.count("offices") != 2 || e.count("students") != 2 {
		t.Fatal("rows went missing")
	}

	search := func(q string) []string {
		t.Helper()
		var out []struct {
			Ref       string `json:"ref"`
			LastName  string `json:"last_name"`
			OfficeRef string `json:"office_ref"`
		}
		e.do("GET", "/v1/students?q="+url.QueryEscape(q), a.Key, nil).want(t, http.StatusOK).json(t, &out)
		var refs []string
		for _, s := range out {
			if s.Ref == `s"; --` && (s.LastName != last || s.OfficeRef != officeRef) {
				t.Fatalf("search shows %+v", s)
			}
			refs = append(refs, s.Ref)
		}
		return refs
	}
	// Wildcards match themselves only.
	for q, want := range map[string][]string{
		"%%": nil, "__": nil, `\\`: nil, "% _": {`s"; --`}, "' or": nil, "drop table": {`s"; --`}, "michel": {"other"},
	} {
		if got := search(q); !slices.Equal(got, want) {
			t.Errorf("search %q: %q, want %q", q, got, want)
		}
	}
}

// TestInvalidUTF8IsRefused: bytes that are not UTF-8, in a path or a query string (JSON
// bodies are decoded to UTF-8), are the client's error with the field named; PostgreSQL
// would refuse them as text, which once made a 500 (found by FuzzIngestStudent).
func TestInvalidUTF8IsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	e.put(a.Key, "/v1/offices/o", map[string]any{"name": "Bureau"})
	before := e.snapshot(a.ID)
	student := `{"office_ref":"o","first_name":"Lou","last_name":"Michel","neph":"","category":"B","initial_evaluation_accepted":true}`
	for _, c := range []struct {
		method, path, body, field string
		status                    int
	}{
		{"PUT", "/v1/students/s3%A4L%A4%96_yl%87", student, "ref", http.StatusUnprocessableEntity},
		{"PUT", "/v1/offices/%FF", `{"name":"Bureau"}`, "ref", http.StatusUnprocessableEntity},
		{"GET", "/v1/lessons?office=%FF", "", "office", http.StatusUnprocessableEntity},
		{"GET", "/v1/lessons?student=a%C3", "", "student", http.StatusUnprocessableEntity},
		{"GET", "/v1/students?q=%FF%FE", "", "q", http.StatusUnprocessableEntity},
		{"GET", "/v1/students/%FF/lessons", "", "", http.StatusNotFound},
		{"GET", "/v1/offices/%FF/runs", "", "", http.StatusNotFound},
		{"POST", "/v1/lessons/%FF/resend", "", "", http.StatusNotFound},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		p := e.do(c.method, c.path, a.Key, body).wantProblem(t, c.status)
		if c.field != "" && p.message(c.field) == "" {
			t.Errorf("%s %s: %s not named: %+v", c.method, c.path, c.field, p)
		}
	}
	if e.snapshot(a.ID) != before {
		t.Fatal("a refused request wrote something")
	}
}
