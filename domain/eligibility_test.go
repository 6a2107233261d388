package domain

import (
	"testing"
	"time"
)

func paris(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Paris)
	if err != nil {
		panic(err)
	}
	return t
}

// sendable is a lesson that passes every rule; each case changes one fact.
func sendable() LessonFacts {
	return LessonFacts{
		Category:                  CategoryB,
		NEPH:                      "123456789012",
		InitialEvaluationAccepted: true,
		AuthorizationNumber:       "A1234567890",
		Type:                      TypeConduite,
		Start:                     paris("2021-12-09 10:00"),
		End:                       paris("2021-12-09 11:00"),
		PlannedAt:                 paris("2021-12-01 09:00"),
		OfficeLinked:              true,
		OfficeLinkedAt:            paris("2021-11-30 08:00"),
	}
}

func TestEvaluateRules(t *testing.T) {
	cases := []struct {
		name   string
		change func(*LessonFacts)
		status Status
		code   Code
	}{
		{"sendable lesson", func(*LessonFacts) {}, StatusPending, ""},
		// Rule 1: B family only.
		{"B auto", func(f *LessonFacts) { f.Category = CategoryBAuto }, StatusPending, ""},
		{"B AAC", func(f *LessonFacts) { f.Category = CategoryBAAC }, StatusPending, ""},
		{"B CS", func(f *LessonFacts) { f.Category = CategoryBCS }, StatusPending, ""},
		{"A2 not concerned", func(f *LessonFacts) { f.Category = CategoryA2 }, StatusNotEligible, CodeCategorieNonConcernee},
		{"unknown category not concerned", func(f *LessonFacts) { f.Category = "ZZ" }, StatusNotEligible, CodeCategorieNonConcernee},
		// Rule 2: office linked.
		{"office not linked", func(f *LessonFacts) { f.OfficeLinked = false }, StatusNotEligible, CodeBureauNonConnecte},
		// Rule 3: NEPH and initial evaluation.
		{"NEPH missing", func(f *LessonFacts) { f.NEPH = "" }, StatusError, CodeNEPHManquant},
		{"NEPH too short", func(f *LessonFacts) { f.NEPH = "12345" }, StatusError, CodeNEPHInvalide},
		{"NEPH with letters", func(f *LessonFacts) { f.NEPH = "12345678901X" }, StatusError, CodeNEPHInvalide},
		{"evaluation not accepted", func(f *LessonFacts) { f.InitialEvaluationAccepted = false }, StatusError, CodeEvaluationNonAcceptee},
		// Rule 4: authorisation number (Lou Michel's instructor, docs/rules.md "Messages and hints").
		{"authorisation missing", func(f *LessonFacts) { f.AuthorizationNumber = "" }, StatusError, CodeAutorisationManquante},
		{"authorisation malformed (Lou Michel)", func(f *LessonFacts) { f.AuthorizationNumber = "12345" }, StatusError, CodeFormatAutorisationInvalide},
		{"authorisation with dots and spaces", func(f *LessonFacts) { f.AuthorizationNumber = "A 12.345.678.90" }, StatusPending, ""},
		{"generic number on unsupervised simulator", func(f *LessonFacts) {
			f.AuthorizationNumber, f.InstructorSimulator, f.Type = GenericSimulatorAuthorization, true, TypeSimulateur
		}, StatusPending, ""},
		{"generic number on auto simulator", func(f *LessonFacts) {
			f.AuthorizationNumber, f.InstructorSimulator, f.Type = GenericSimulatorAuthorization, true, TypeSimulateurBoiteAuto
		}, StatusPending, ""},
		{"generic number on a driving lesson", func(f *LessonFacts) {
			f.AuthorizationNumber, f.InstructorSimulator = GenericSimulatorAuthorization, true
		}, StatusError, CodeNumeroGeneriqueInterdit},
		{"generic number on a real instructor", func(f *LessonFacts) {
			f.AuthorizationNumber, f.Type = GenericSimulatorAuthorization, TypeSimulateur
		}, StatusError, CodeNumeroGeneriqueInterdit},
		// Rule 5: 30 to 240 minutes (Mélanie Perrin's 13:00–13:25 simulator lesson, docs/rules.md "What is sent").
		{"25 min simulator (Mélanie Perrin)", func(f *LessonFacts) {
			f.Type, f.Start, f.End = TypeSimulateur, paris("2021-12-09 13:00"), paris("2021-12-09 13:25")
		}, StatusError, CodeDureeInvalide},
		{"exactly 30 min", func(f *LessonFacts) { f.End = f.Start.Add(30 * time.Minute) }, StatusPending, ""},
		{"29 min", func(f *LessonFacts) { f.End = f.Start.Add(29 * time.Minute) }, StatusError, CodeDureeInvalide},
		{"exactly 240 min", func(f *LessonFacts) { f.End = f.Start.Add(240 * time.Minute) }, StatusPending, ""},
		{"241 min", func(f *LessonFacts) { f.End = f.Start.Add(241 * time.Minute) }, StatusError, CodeDureeInvalide},
		{"end before start", func(f *LessonFacts) { f.End = f.Start.Add(-time.Hour) }, StatusError, CodeHorairesInvalides},
		{"end equals start", func(f *LessonFacts) { f.End = f.Start }, StatusError, CodeHorairesInvalides},
		// Rule 6: types.
		{"boîte auto lesson", func(f *LessonFacts) { f.Type = TypeConduiteBoiteAuto }, StatusPending, ""},
		{"code lesson not concerned", func(f *LessonFacts) { f.Type = TypeCode }, StatusNotEligible, CodeTypeNonConcerne},
		{"mock exam not concerned", func(f *LessonFacts) { f.Type = TypeExamenBlanc }, StatusNotEligible, CodeTypeNonConcerne},
		{"unknown type not concerned", func(f *LessonFacts) { f.Type = "karting" }, StatusNotEligible, CodeTypeNonConcerne},
		// Rule 7: planned after the link.
		{"planned before link", func(f *LessonFacts) { f.PlannedAt = f.OfficeLinkedAt.Add(-time.Second) }, StatusNotEligible, CodePlanifieeAvantConnexion},
		{"planned at link time", func(f *LessonFacts) { f.PlannedAt = f.OfficeLinkedAt }, StatusPending, ""},
		// Order: nothing to fix wins over an error to fix.
		{"code lesson with bad duration", func(f *LessonFacts) { f.Type, f.End = TypeCode, f.Start.Add(10*time.Minute) }, StatusNotEligible, CodeTypeNonConcerne},
		{"unlinked office with missing NEPH", func(f *LessonFacts) { f.OfficeLinked, f.NEPH = false, "" }, StatusNotEligible, CodeBureauNonConnecte},
		{"cancelled", func(f *LessonFacts) { f.Cancelled = true }, StatusCancelled, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := sendable()
			tc.change(&f)
			v := Evaluate(f)
			if v.Status != tc.status || v.Code != tc.code {
				t.Fatalf("Evaluate = %s/%s, want %s/%s", v.Status, v.Code, tc.status, tc.code)
			}
			if v.Status != StatusPending && v.Message == "" {
				t.Fatalf("a lesson that is not sent must say why in French")
			}
		})
	}
}

func TestSeedMessagesAreTheDSRWording(t *testing.T) {
	f := sendable()
	f.Type, f.Start, f.End = TypeSimulateur, paris("2021-12-09 13:00"), paris("2021-12-09 13:25")
	if got, want := Evaluate(f).Message, "La durée renseignée n'est pas valide. Elle doit être comprise entre 30 et 240 min."; got != want {
		t.Errorf("duration message = %q, want %q", got, want)
	}
	f = sendable()
	f.AuthorizationNumber = "B12"
	if got, want := Evaluate(f).Message, "Le format du numéro d'autorisation du formateur n'est pas valide."; got != want {
		t.Errorf("format message = %q, want %q", got, want)
	}
}

func TestRulesCoverProductOrder(t *testing.T) {
	if got := len(RuleNames()); got != 8 {
		t.Fatalf("%d rules, want the 7 checks of docs/rules.md with rule 3 in two parts", got)
	}
}
