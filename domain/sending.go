package domain

import (
	"slices"
	"time"
)

// Scope is what a school sends (docs/rules.md, "Scope"): the vendor guide's rules only, or
// every row of the sending table.
type Scope string

const (
	// ScopeGuide: exactly the vendor guide's rules — B trainings, the four driving types.
	ScopeGuide Scope = "guide"
	// ScopeEtendu: every row of the sending table (moto, heavy vehicles, theory, evaluations).
	ScopeEtendu Scope = "etendu"
)

// ParseScope accepts "guide" or "etendu".
func ParseScope(s string) (Scope, bool) {
	switch Scope(s) {
	case ScopeGuide, ScopeEtendu:
		return Scope(s), true
	}
	return "", false
}

// Label is the scope as the school's settings page names it.
func (s Scope) Label() string {
	if s == ScopeEtendu {
		return "Étendu : toutes les catégories et activités transmissibles"
	}
	return "Guide : permis B, leçons de conduite et de simulateur"
}

// SendingRow is one row of the sending table: lessons of this type on a training of this
// group go to the DSR as DSRType.
type SendingRow struct {
	Group   Group
	Type    LessonType
	DSRType string
	// Guide: the row holds in scope guide too (the vendor guide's four types); every row holds
	// in scope etendu.
	Guide bool
	// Only restricts the row to some categories of the group (RVP: AAC and CS only); nil is
	// every category of the group.
	Only []Category
	// ByInstructor: sent only when a person gave it (a code lesson taken alone, on a simulator
	// or online, is not an instructor's hour).
	ByInstructor bool
	// From is the first day the row applies (lessons that ended before are not sent by it).
	From time.Time
	// Source says where the row comes from; Confirmed is false while the DSR has not published
	// it (the row follows docs/dsr.md, "Categories and activity types", our model of it).
	Source    string
	Confirmed bool
}

func day(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, Paris)
	if err != nil {
		panic(err)
	}
	return t
}

const (
	sourceGuide   = "Guide de l'éditeur, §5–6 (les quatre types B ; aucune date limite : toute leçon que Livret accepte)"
	sourceLivretB = "Livret numérique obligatoire pour le permis B depuis le 1er janvier 2024 ; types de la DSR, docs/dsr.md « Categories and activity types »"
	sourceMoto    = "Livret numérique obligatoire pour les permis moto depuis le 1er janvier 2024 ; types de la DSR, docs/dsr.md « Categories and activity types »"
	sourceLourd   = "Livret numérique obligatoire pour BE et poids lourds depuis mars 2024 ; types de la DSR, docs/dsr.md « Categories and activity types »"
)

// sendingTable is the one table of what goes to the DSR (docs/rules.md, "The sending table").
// Any (group, type) not in it is stored and never sent; accompagnement_etg and the exam
// accompaniment are never sent because the DSR adds them itself.
var sendingTable = []SendingRow{
	{Group: GroupB, Type: TypeConduite, DSRType: "CONDUITE", Guide: true, From: day("2000-01-01"), Source: sourceGuide, Confirmed: true},
	{Group: GroupB, Type: TypeConduiteBoiteAuto, DSRType: "CONDUITE_BOITE_AUTO", Guide: true, From: day("2000-01-01"), Source: sourceGuide, Confirmed: true},
	{Group: GroupB, Type: TypeSimulateur, DSRType: "SIMULATEUR", Guide: true, From: day("2000-01-01"), Source: sourceGuide, Confirmed: true},
	{Group: GroupB, Type: TypeSimulateurBoiteAuto, DSRType: "SIMULATEUR_BOITE_AUTO", Guide: true, From: day("2000-01-01"), Source: sourceGuide, Confirmed: true},
	{Group: GroupB, Type: TypeCode, DSRType: "THEORIE", ByInstructor: true, From: day("2024-01-01"), Source: sourceLivretB},
	{Group: GroupB, Type: TypeEvaluationDepart, DSRType: "EVALUATION_DEPART", From: day("2024-01-01"), Source: sourceLivretB},
	{Group: GroupB, Type: TypeRVPPrealable, DSRType: "RDV_PEDAGOGIQUE", Only: []Category{CategoryBAAC, CategoryBCS}, From: day("2024-01-01"), Source: sourceLivretB},
	{Group: GroupB, Type: TypeRVPPratique, DSRType: "RDV_PEDAGOGIQUE", Only: []Category{CategoryBAAC, CategoryBCS}, From: day("2024-01-01"), Source: sourceLivretB},
	{Group: GroupB, Type: TypeRVPTheorique, DSRType: "RDV_PEDAGOGIQUE", Only: []Category{CategoryBAAC, CategoryBCS}, From: day("2024-01-01"), Source: sourceLivretB},

	{Group: GroupMoto, Type: TypePlateau, DSRType: "PLATEAU", From: day("2024-01-01"), Source: sourceMoto},
	{Group: GroupMoto, Type: TypeCirculation, DSRType: "CIRCULATION", From: day("2024-01-01"), Source: sourceMoto},
	{Group: GroupMoto, Type: TypeSimulateurMoto, DSRType: "SIMULATEUR", From: day("2024-01-01"), Source: sourceMoto},
	{Group: GroupMoto, Type: TypeCode, DSRType: "THEORIE", ByInstructor: true, From: day("2024-01-01"), Source: sourceMoto},
	{Group: GroupMoto, Type: TypeEvaluationDepart, DSRType: "EVALUATION_DEPART", From: day("2024-01-01"), Source: sourceMoto},

	{Group: GroupLourd, Type: TypeConduite, DSRType: "CONDUITE", From: day("2024-03-01"), Source: sourceLourd},
	{Group: GroupLourd, Type: TypePlateau, DSRType: "PLATEAU", From: day("2024-03-01"), Source: sourceLourd},
	{Group: GroupLourd, Type: TypeCode, DSRType: "THEORIE", ByInstructor: true, From: day("2024-03-01"), Source: sourceLourd},
	{Group: GroupLourd, Type: TypeEvaluationDepart, DSRType: "EVALUATION_DEPART", From: day("2024-03-01"), Source: sourceLourd},
}

// SendingTable returns a copy of the table, for docs, pages and tests.
func SendingTable() []SendingRow { return slices.Clone(sendingTable) }

// Route is the fate of one lesson by the sending table: the DSR type it goes as, or the code
// that stops it (not concerned, or TYPE_INCOMPATIBLE when the type belongs to another kind of
// training). byInstructor says a person gave the lesson (the instructor is not a simulator).
func Route(scope Scope, cat Category, typ LessonType, byInstructor bool, end time.Time) (dsrType string, stop Code) {
	g := cat.Group()
	if g == GroupNone || (scope != ScopeEtendu && g != GroupB) {
		if scope == ScopeEtendu {
			return "", CodeCategorieNonTransmise
		}
		return "", CodeCategorieNonConcernee
	}
	fitsGroup := false
	for _, r := range sendingTable {
		if r.Group != g || r.Type != typ {
			continue
		}
		fitsGroup = true
		if scope != ScopeEtendu && !r.Guide {
			continue
		}
		if r.Only != nil && !slices.Contains(r.Only, cat) {
			continue
		}
		if r.ByInstructor && !byInstructor {
			continue
		}
		if end.Before(r.From) {
			continue
		}
		return r.DSRType, ""
	}
	if !fitsGroup && typ.Practice() {
		// A plateau on a B training, a B driving lesson on a moto one: the data is wrong.
		return "", CodeTypeIncompatible
	}
	return "", CodeTypeNonConcerne
}

// TypesSent lists the types a training of this group sends in this scope, in LessonTypes'
// order, for the help page and the docs.
func TypesSent(scope Scope, g Group) []LessonType {
	var out []LessonType
	for _, t := range LessonTypes() {
		for _, r := range sendingTable {
			if r.Group == g && r.Type == t && (scope == ScopeEtendu || r.Guide) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// Label is the group as the pages name it.
func (g Group) Label() string {
	switch g {
	case GroupB:
		return "Permis B"
	case GroupMoto:
		return "Moto (A1, A2, A)"
	case GroupLourd:
		return "Remorque et poids lourds (BE, C1, C, CE, D1, D)"
	}
	return "Autres catégories (AM…)"
}
