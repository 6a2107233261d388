package domain

import (
	"testing"
	"time"
)

// TestSendingTable walks the sending table of docs/rules.md: every category group × lesson
// type in both scopes, and what it becomes (the DSR type, or the code that stops it).
func TestSendingTable(t *testing.T) {
	end := paris("2026-03-10 11:00")
	cases := []struct {
		scope  Scope
		cat    Category
		typ    LessonType
		person bool // given by an instructor, not a simulator
		want   string
		stop   Code
	}{
		// Scope guide: exactly the vendor guide — the B family, four types.
		{ScopeGuide, CategoryB, TypeConduite, true, "CONDUITE", ""},
		{ScopeGuide, CategoryBAuto, TypeConduiteBoiteAuto, true, "CONDUITE_BOITE_AUTO", ""},
		{ScopeGuide, CategoryBAAC, TypeSimulateur, false, "SIMULATEUR", ""},
		{ScopeGuide, CategoryBCS, TypeSimulateurBoiteAuto, false, "SIMULATEUR_BOITE_AUTO", ""},
		{ScopeGuide, CategoryB, TypeCode, true, "", CodeTypeNonConcerne},
		{ScopeGuide, CategoryB, TypeEvaluationDepart, true, "", CodeTypeNonConcerne},
		{ScopeGuide, CategoryBAAC, TypeRVPPrealable, true, "", CodeTypeNonConcerne},
		{ScopeGuide, CategoryA2, TypePlateau, true, "", CodeCategorieNonConcernee},
		{ScopeGuide, CategoryC, TypeConduite, true, "", CodeCategorieNonConcernee},
		{ScopeGuide, CategoryAM, TypeConduite, true, "", CodeCategorieNonConcernee},
		{ScopeGuide, CategoryB, TypePlateau, true, "", CodeTypeIncompatible},

		// Scope etendu, B: the four, theory by an instructor, the initial evaluation, RVP for AAC and CS.
		{ScopeEtendu, CategoryB, TypeConduite, true, "CONDUITE", ""},
		{ScopeEtendu, CategoryB, TypeCode, true, "THEORIE", ""},
		{ScopeEtendu, CategoryB, TypeCode, false, "", CodeTypeNonConcerne},
		{ScopeEtendu, CategoryB, TypeEvaluationDepart, true, "EVALUATION_DEPART", ""},
		{ScopeEtendu, CategoryBAAC, TypeRVPPrealable, true, "RDV_PEDAGOGIQUE", ""},
		{ScopeEtendu, CategoryBCS, TypeRVPPratique, true, "RDV_PEDAGOGIQUE", ""},
		{ScopeEtendu, CategoryBCS, TypeRVPTheorique, true, "RDV_PEDAGOGIQUE", ""},
		{ScopeEtendu, CategoryB, TypeRVPPratique, true, "", CodeTypeNonConcerne},
		{ScopeEtendu, CategoryB, TypeAccompagnementETG, true, "", CodeTypeNonConcerne},
		{ScopeEtendu, CategoryB, TypeExamenPratiqueB, true, "", CodeTypeNonConcerne},
		{ScopeEtendu, CategoryB, TypeExamenBlanc, true, "", CodeTypeNonConcerne},
		{ScopeEtendu, CategoryB, TypePlateau, true, "", CodeTypeIncompatible},
		{ScopeEtendu, CategoryB, TypeSimulateurMoto, false, "", CodeTypeIncompatible},

		// Moto.
		{ScopeEtendu, CategoryA2, TypePlateau, true, "PLATEAU", ""},
		{ScopeEtendu, CategoryA1, TypeCirculation, true, "CIRCULATION", ""},
		{ScopeEtendu, CategoryA, TypeSimulateurMoto, false, "SIMULATEUR", ""},
		{ScopeEtendu, CategoryA2, TypeCode, true, "THEORIE", ""},
		{ScopeEtendu, CategoryA2, TypeEvaluationDepart, true, "EVALUATION_DEPART", ""},
		{ScopeEtendu, CategoryA2, TypeConduite, true, "", CodeTypeIncompatible},
		{ScopeEtendu, CategoryA2, TypeSimulateur, false, "", CodeTypeIncompatible},
		{ScopeEtendu, CategoryA2, TypeRVPPrealable, true, "", CodeTypeNonConcerne},

		// Heavy vehicles and trailers.
		{ScopeEtendu, CategoryBE, TypeConduite, true, "CONDUITE", ""},
		{ScopeEtendu, CategoryC, TypePlateau, true, "PLATEAU", ""},
		{ScopeEtendu, CategoryD1, TypeCode, true, "THEORIE", ""},
		{ScopeEtendu, CategoryCE, TypeEvaluationDepart, true, "EVALUATION_DEPART", ""},
		{ScopeEtendu, CategoryC1, TypeCirculation, true, "", CodeTypeIncompatible},
		{ScopeEtendu, CategoryD, TypeConduiteBoiteAuto, true, "", CodeTypeIncompatible},

		// AM and the unknown: stored, never sent.
		{ScopeEtendu, CategoryAM, TypeConduite, true, "", CodeCategorieNonTransmise},
		{ScopeEtendu, "ZZ", TypePlateau, true, "", CodeCategorieNonTransmise},
	}
	for _, tc := range cases {
		got, stop := Route(tc.scope, tc.cat, tc.typ, tc.person, end)
		if got != tc.want || stop != tc.stop {
			t.Errorf("%s %s %s (by a person: %v) = %q/%s, want %q/%s", tc.scope, tc.cat, tc.typ, tc.person, got, stop, tc.want, tc.stop)
		}
	}
}

func TestSendingRowsApplyFromTheirDate(t *testing.T) {
	// Heavy vehicles joined the logbook in March 2024: a February 2024 lesson is not sent.
	if _, stop := Route(ScopeEtendu, CategoryC, TypeConduite, true, paris("2024-02-29 11:00")); stop != CodeTypeNonConcerne {
		t.Errorf("C lesson of February 2024: %s, want not concerned", stop)
	}
	if got, _ := Route(ScopeEtendu, CategoryC, TypeConduite, true, paris("2024-03-01 11:00")); got != "CONDUITE" {
		t.Errorf("C lesson of 1 March 2024: %q, want CONDUITE", got)
	}
	// The guide's four types have no date limit.
	if got, _ := Route(ScopeGuide, CategoryB, TypeConduite, true, paris("2000-01-02 10:00")); got != "CONDUITE" {
		t.Errorf("B lesson of 2000: %q, want CONDUITE", got)
	}
}

func TestEverySendingRowSaysWhereItComesFrom(t *testing.T) {
	for _, r := range SendingTable() {
		if r.Source == "" || r.From.IsZero() || r.DSRType == "" {
			t.Errorf("row %s/%s lacks a source, a date or a DSR type", r.Group, r.Type)
		}
		if r.Guide && (!r.Confirmed || r.Group != GroupB) {
			t.Errorf("row %s/%s: a guide row is the vendor guide's own, confirmed, B", r.Group, r.Type)
		}
		if _, ok := lessonTypeTable[r.Type]; !ok {
			t.Errorf("row %s/%s: unknown type", r.Group, r.Type)
		}
	}
	if got := TypesSent(ScopeEtendu, GroupMoto); len(got) != 5 {
		t.Errorf("moto sends %v, want plateau, circulation, simulateur_moto, code, evaluation_depart", got)
	}
}

// TestEvaluateEtendu: the rules of scope etendu on whole lessons.
func TestEvaluateEtendu(t *testing.T) {
	moto := func() LessonFacts {
		f := sendable()
		f.Scope, f.Category, f.Type = ScopeEtendu, CategoryA2, TypePlateau
		// Moto joined the logbook in 2024.
		f.Start, f.End = paris("2026-03-10 10:00"), paris("2026-03-10 11:00")
		f.PlannedAt, f.OfficeLinkedAt = paris("2026-03-01 09:00"), paris("2026-02-01 09:00")
		return f
	}
	cases := []struct {
		name   string
		facts  func() LessonFacts
		status Status
		code   Code
	}{
		{"A2 plateau", moto, StatusPending, ""},
		{"plateau on a B training", func() LessonFacts { f := moto(); f.Category = CategoryB; return f }, StatusError, CodeTypeIncompatible},
		{"plateau on a B training of an unlinked office is not concerned first", func() LessonFacts {
			f := moto()
			f.Category, f.OfficeLinked = CategoryB, false
			return f
		}, StatusNotEligible, CodeBureauNonConnecte},
		{"initial evaluation without an accepted one", func() LessonFacts {
			f := moto()
			f.Type, f.InitialEvaluationAccepted = TypeEvaluationDepart, false
			return f
		}, StatusPending, ""},
		{"circulation without an accepted evaluation", func() LessonFacts {
			f := moto()
			f.Type, f.InitialEvaluationAccepted = TypeCirculation, false
			return f
		}, StatusError, CodeEvaluationNonAcceptee},
		{"moto simulator with the generic number", func() LessonFacts {
			f := moto()
			f.Type, f.InstructorSimulator, f.AuthorizationNumber = TypeSimulateurMoto, true, GenericSimulatorAuthorization
			return f
		}, StatusPending, ""},
		{"theory taken alone on a simulator", func() LessonFacts {
			f := moto()
			f.Type, f.InstructorSimulator, f.AuthorizationNumber = TypeCode, true, GenericSimulatorAuthorization
			return f
		}, StatusNotEligible, CodeTypeNonConcerne},
		{"theory of 4 h 30 is refused like any lesson", func() LessonFacts {
			f := moto()
			f.Type, f.End = TypeCode, f.Start.Add(270*time.Minute)
			return f
		}, StatusError, CodeDureeInvalide},
		{"AM", func() LessonFacts { f := moto(); f.Category = CategoryAM; return f }, StatusNotEligible, CodeCategorieNonTransmise},
	}
	for _, tc := range cases {
		v := Evaluate(tc.facts())
		if v.Status != tc.status || v.Code != tc.code {
			t.Errorf("%s: %s/%s, want %s/%s", tc.name, v.Status, v.Code, tc.status, tc.code)
		}
	}
	if got := moto().DSRType(); got != "PLATEAU" {
		t.Errorf("DSRType = %q, want PLATEAU", got)
	}
}
