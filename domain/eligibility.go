package domain

import "time"

// LessonFacts is what the rules need to know of a lesson, its student, instructor and office.
type LessonFacts struct {
	// Scope is the school's (guide or etendu); the zero value is guide.
	Scope Scope
	// Category and InitialEvaluationAccepted are the lesson's training's.
	Category                  Category
	NEPH                      string
	InitialEvaluationAccepted bool

	AuthorizationNumber string
	InstructorSimulator bool // the instructor is an unsupervised simulator ("Simulateur")

	Type      LessonType
	Start     time.Time
	End       time.Time
	PlannedAt time.Time
	Cancelled bool

	OfficeLinked   bool
	OfficeLinkedAt time.Time
}

// Verdict is the outcome of the rules for one lesson.
type Verdict struct {
	Status  Status
	Code    Code // empty when pending
	Message string
	Hint    string
}

// Pending reports whether the lesson will be sent by a run once it is due (see DueBy).
func (v Verdict) Pending() bool { return v.Status == StatusPending }

func verdict(c Code) Verdict {
	e := catalogue[c]
	return Verdict{Status: e.Status, Code: c, Message: e.Message, Hint: e.Hint}
}

// rule is one eligibility rule of docs/rules.md ("What is sent"): it returns the code that stops the lesson, or "".
type rule struct {
	name  string
	check func(f LessonFacts) Code
}

// rules are the eligibility rules of docs/rules.md ("What is sent", "Not concerned, or in error"), in the order they are checked. The "not
// concerned" rules come first: a lesson that will never be sent (a code lesson, an unlinked
// office) is not reported as an error to fix. Rule 8 (ended before today) is not here: it
// says *when* a pending lesson goes, see DueBy.
var rules = []rule{
	{"1 et 6 table d'envoi", func(f LessonFacts) Code {
		// A type that belongs to another kind of training is an error to fix: it is checked
		// with the errors, after the rules that say a lesson is not concerned.
		if c := f.route(); c != CodeTypeIncompatible {
			return c
		}
		return ""
	}},
	{"2 bureau connecté", func(f LessonFacts) Code {
		if !f.OfficeLinked {
			return CodeBureauNonConnecte
		}
		return ""
	}},
	{"7 planifiée après la connexion", func(f LessonFacts) Code {
		if f.PlannedAt.Before(f.OfficeLinkedAt) {
			return CodePlanifieeAvantConnexion
		}
		return ""
	}},
	{"6 type adapté à la formation", func(f LessonFacts) Code {
		if c := f.route(); c == CodeTypeIncompatible {
			return c
		}
		return ""
	}},
	{"3 NEPH", func(f LessonFacts) Code {
		if f.NEPH == "" {
			return CodeNEPHManquant
		}
		if _, ok := NormalizeNEPH(f.NEPH); !ok {
			return CodeNEPHInvalide
		}
		return ""
	}},
	{"3 évaluation de départ", func(f LessonFacts) Code {
		// The initial evaluation itself is not held back for want of an accepted one.
		if !f.InitialEvaluationAccepted && f.Type != TypeEvaluationDepart {
			return CodeEvaluationNonAcceptee
		}
		return ""
	}},
	{"4 autorisation d'enseigner", func(f LessonFacts) Code {
		if f.AuthorizationNumber == "" {
			return CodeAutorisationManquante
		}
		n, ok := NormalizeAuthorization(f.AuthorizationNumber)
		if !ok {
			return CodeFormatAutorisationInvalide
		}
		// The generic number stands for "no instructor": only an unsupervised simulator
		// lesson may carry it (docs/rules.md, "What is sent", rule 4).
		if n == GenericSimulatorAuthorization && !(f.InstructorSimulator && f.Type.Simulator()) {
			return CodeNumeroGeneriqueInterdit
		}
		return ""
	}},
	{"5 durée", func(f LessonFacts) Code {
		if !f.End.After(f.Start) {
			return CodeHorairesInvalides
		}
		if m := LessonMinutes(f.Start, f.End); m < MinLessonMinutes || m > MaxLessonMinutes {
			return CodeDureeInvalide
		}
		return ""
	}},
}

// route is the sending table's answer for the lesson's stop code ("" when it is sent).
func (f LessonFacts) route() Code {
	_, c := Route(f.Scope, f.Category, f.Type, !f.InstructorSimulator, f.End)
	return c
}

// DSRType is the type the lesson goes to the DSR as, empty when it is not sent.
func (f LessonFacts) DSRType() string {
	t, _ := Route(f.Scope, f.Category, f.Type, !f.InstructorSimulator, f.End)
	return t
}

// The DSR's bounds on a lesson's length, in minutes.
const (
	MinLessonMinutes = 30
	MaxLessonMinutes = 240
)

// Evaluate applies the rules to a lesson. A cancelled lesson is cancelled whatever else holds.
// The result never depends on the current time: whether a pending lesson is due is DueBy's.
func Evaluate(f LessonFacts) Verdict {
	if f.Cancelled {
		return Verdict{Status: StatusCancelled, Message: "Leçon annulée.", Hint: "Rien à faire."}
	}
	for _, r := range rules {
		if c := r.check(f); c != "" {
			return verdict(c)
		}
	}
	return Verdict{Status: StatusPending}
}

// RuleNames lists the rules in the order Evaluate checks them (for docs and tests).
func RuleNames() []string {
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = r.name
	}
	return names
}
