package worker_test

import (
	"testing"
	"time"

	"livret/db/dbq"
	"livret/domain"
	"livret/worker/workertest"
	"livret/workflows"
)

// TestEtenduEndToEnd: at a school in scope etendu, on the real stack (Temporal, PostgreSQL,
// the sandbox over HTTP), a student with a B and an A2 training gets two contracts; the B
// lesson goes on the B contract, plateau and circulation on the A2 one, each with its DSR
// type; a collective theory session reaches the DSR once per attending student, on each
// one's contract of the session's training; a second run declares nothing twice.
func TestEtenduEndToEnd(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	school := s.SchoolInScope("Moto-école des Plesses", "E0203100020", domain.ScopeEtendu)
	office := s.Office(school, "MOTO", "Agence moto")
	s.Account(school, "moto@plesses.fr", "motdepasse-3")
	s.Link(workertest.NewBrowser(), school, office, "moto@plesses.fr", "motdepasse-3")
	jean := s.Instructor(school, "I-JEAN", "Jean", "Dupont", "A1234567890", false)
	sim := s.Instructor(school, "I-SIM", "Simulateur", "Simulateur", domain.GenericSimulatorAuthorization, true)

	tom := s.Student(school, office, workertest.StudentSpec{Ref: "E-TOM", First: "Tom", Last: "Blanc", NEPH: "120675000011",
		Category: "B", EvaluationAccepted: true, KnownToANTS: true,
		More: []workertest.TrainingSpec{{Category: "A2", EvaluationAccepted: true}}})
	lea := s.Student(school, office, workertest.StudentSpec{Ref: "E-LEA", First: "Léa", Last: "Perrin", NEPH: "120675000012",
		Category: "B", EvaluationAccepted: true, KnownToANTS: true})
	nina := s.Student(school, office, workertest.StudentSpec{Ref: "E-NINA", First: "Nina", Last: "Roux", NEPH: "120675000013",
		Category: "A2", EvaluationAccepted: true, KnownToANTS: true})
	// Inès's initial evaluation is not accepted yet: the evaluation lesson itself goes all the same.
	ines := s.Student(school, office, workertest.StudentSpec{Ref: "E-INES", First: "Inès", Last: "Morel", NEPH: "120675000015",
		Category: "A2", KnownToANTS: true})
	max := s.Student(school, office, workertest.StudentSpec{Ref: "E-MAX", First: "Max", Last: "Petit", NEPH: "120675000014",
		Category: "AM", EvaluationAccepted: true})

	hour := func(day, h int) (time.Time, time.Time) {
		return workertest.Paris(2026, 3, day, h, 0), workertest.Paris(2026, 3, day, h+1, 0)
	}
	type want struct {
		lesson   dbq.Lesson
		neph     string
		category string // the contract's, in the DSR's words
		dsrType  string
	}
	var sent []want
	lessonOn := func(st dbq.Student, neph, category, session string, in dbq.Instructor, ref string, typ domain.LessonType, day, h int, dsrCategory, dsrType string) {
		t.Helper()
		start, end := hour(day, h)
		l, v := s.LessonOn(school, office, st, category, session, in, ref, typ, start, end)
		if !v.Pending() {
			t.Fatalf("lesson %s judged %s/%s at entry, want pending", ref, v.Status, v.Code)
		}
		sent = append(sent, want{l, neph, dsrCategory, dsrType})
	}
	lessonOn(tom, "120675000011", "B", "", jean, "L-TOM-B", domain.TypeConduite, 10, 9, "B", "CONDUITE")
	lessonOn(tom, "120675000011", "A2", "", jean, "L-TOM-PLATEAU", domain.TypePlateau, 11, 9, "A2", "PLATEAU")
	lessonOn(tom, "120675000011", "A2", "", jean, "L-TOM-CIRC", domain.TypeCirculation, 12, 9, "A2", "CIRCULATION")
	lessonOn(tom, "120675000011", "A2", "", sim, "L-TOM-SIMU", domain.TypeSimulateurMoto, 13, 9, "A2", "SIMULATEUR")
	lessonOn(ines, "120675000015", "", "", jean, "L-INES-EVAL", domain.TypeEvaluationDepart, 10, 14, "A2", "EVALUATION_DEPART")
	// One theory session, one instructor, one start, three students on their own trainings.
	lessonOn(tom, "120675000011", "A2", "CODE-0314", jean, "L-CODE-TOM", domain.TypeCode, 14, 18, "A2", "THEORIE")
	lessonOn(lea, "120675000012", "", "CODE-0314", jean, "L-CODE-LEA", domain.TypeCode, 14, 18, "B", "THEORIE")
	lessonOn(nina, "120675000013", "", "CODE-0314", jean, "L-CODE-NINA", domain.TypeCode, 14, 18, "A2", "THEORIE")

	// Not sent, each for its reason: AM is stored only; a plateau on a B training is an error
	// to fix; theory alone on a simulator is nobody's hour; Inès's circulation waits for her
	// accepted evaluation.
	start, end := hour(10, 11)
	if _, v := s.Lesson(school, office, max, jean, "L-MAX", domain.TypeConduite, start, end); v.Code != domain.CodeCategorieNonTransmise {
		t.Fatalf("AM lesson: %+v", v)
	}
	if _, v := s.LessonOn(school, office, tom, "B", "", jean, "L-TOM-WRONG", domain.TypePlateau, start, end); v.Code != domain.CodeTypeIncompatible {
		t.Fatalf("plateau on B: %+v", v)
	}
	start, end = hour(15, 10)
	if _, v := s.Lesson(school, office, lea, sim, "L-LEA-ALONE", domain.TypeCode, start, end); v.Code != domain.CodeTypeNonConcerne {
		t.Fatalf("theory alone: %+v", v)
	}
	if _, v := s.Lesson(school, office, ines, jean, "L-INES-CIRC", domain.TypeCirculation, start, end); v.Code != domain.CodeEvaluationNonAcceptee {
		t.Fatalf("Inès's circulation: %+v", v)
	}

	s.StartWorker()
	res, wid, rid := runOffice(t, s, school, office)
	if res.Outcome != workflows.OutcomeCompleted || res.Counts.Transmitted != len(sent) {
		t.Fatalf("run: %+v, want %d transmitted", res, len(sent))
	}
	recordHistory(t, s, "office_daily_run_trainings_v2", wid, rid)

	ledger := s.Ledger()
	contracts := map[string]string{} // id → NEPH/categorie
	perNEPH := map[string][]string{}
	for _, c := range ledger.Contracts {
		contracts[c.IDContrat] = c.NEPH + "/" + c.Categorie
		perNEPH[c.NEPH] = append(perNEPH[c.NEPH], c.Categorie)
	}
	if got := perNEPH["120675000011"]; len(got) != 2 {
		t.Fatalf("Tom's contracts at the DSR: %v, want one B and one A2", got)
	}
	if len(ledger.Contracts) != 5 {
		t.Fatalf("%d contracts at the DSR, want 5 (Tom B and A2, Léa B, Nina A2, Inès A2)", len(ledger.Contracts))
	}
	byID := map[string]int{}
	for _, l := range ledger.Lessons {
		byID[l.IDLecon]++
	}
	for _, w := range sent {
		tr := s.Transmission(school.ID, w.lesson.ID)
		if tr.Status != string(domain.StatusTransmitted) || tr.DsrLessonID == nil || byID[*tr.DsrLessonID] != 1 {
			t.Fatalf("lesson %s: %s (%s), at the DSR %d times", w.lesson.Ref, tr.Status, tr.Message, byID[deref(tr.DsrLessonID)])
		}
		for _, l := range ledger.Lessons {
			if l.IDLecon != *tr.DsrLessonID {
				continue
			}
			if got := contracts[l.IDContrat]; got != w.neph+"/"+w.category || l.Type != w.dsrType {
				t.Errorf("lesson %s at the DSR on contract %s as %s, want %s/%s as %s", w.lesson.Ref, got, l.Type, w.neph, w.category, w.dsrType)
			}
		}
	}
	if len(ledger.Lessons) != len(sent) {
		t.Fatalf("%d lessons at the DSR, want %d", len(ledger.Lessons), len(sent))
	}
	// Each training shows its contract.
	for _, st := range []dbq.Student{tom, lea, nina, ines} {
		ts, err := s.Q.TrainingList(t.Context(), dbq.TrainingListParams{SchoolID: school.ID, StudentIds: []int64{st.ID}})
		s.Must(err, "trainings")
		for _, tr := range ts {
			if tr.DsrContractID == nil {
				t.Errorf("%s's %s training has no contract", st.Ref, tr.Category)
			}
		}
	}

	// A second run: nothing left, nothing declared twice, no contract created again.
	calls := ledger.Calls
	res, _, _ = runOffice(t, s, school, office)
	after := s.Ledger()
	if res.Counts.Transmitted != 0 || len(after.Lessons) != len(sent) || len(after.Contracts) != 5 || after.DuplicatesRefused != 0 {
		t.Fatalf("second run: %+v; the DSR holds %d lessons, %d contracts, refused %d duplicates", res, len(after.Lessons), len(after.Contracts), after.DuplicatesRefused)
	}
	t.Logf("first run %d DSR calls, second %d", calls, after.Calls-calls)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
