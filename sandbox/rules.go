package sandbox

import (
	"slices"
	"strings"
	"time"
	// The DSR works in French local time. Embedding the zone database here, rather than
	// counting on some other package of the binary to do it, keeps the sandbox right on its own
	// in a minimal image that ships no /usr/share/zoneinfo.
	_ "time/tzdata"
)

// This file is the sandbox's own copy of the DSR's rules, written from the contract
// (docs/dsr.md) and never from Livret's checks: see the package comment for why.

// Code is the "code" member of the DSR's error body {"code","message"}.
type Code string

// The codes of the DSR's error table (docs/dsr.md, "Errors"), in the table's order.
const (
	codeContratDejaConnu           Code = "CONTRAT_DEJA_CONNU"
	codeAutoEcoleFermee            Code = "AUTO_ECOLE_FERMEE"
	codeEleveIntrouvable           Code = "ELEVE_INTROUVABLE"
	codeCategorieSansDemande       Code = "CATEGORIE_SANS_DEMANDE"
	codeLeconFuture                Code = "LECON_FUTURE"
	codeDureeInvalide              Code = "DUREE_INVALIDE"
	codeContratNonAutorise         Code = "CONTRAT_NON_AUTORISE"
	codeLeconEnDoublon             Code = "LECON_EN_DOUBLON"
	codeFormatAutorisationInvalide Code = "FORMAT_AUTORISATION_INVALIDE"
	codeTokenInvalide              Code = "TOKEN_INVALIDE"
	codeTropDeRequetes             Code = "TROP_DE_REQUETES"
)

// CodeContratIntrouvable answers a contract id the DSR does not know. The DSR's table has no
// row for it; the sandbox needs an answer, and Livret treats it as a refusal to show.
// CodeRequeteInvalide answers a malformed request, with a sentence naming the field.
const (
	CodeContratIntrouvable Code = "CONTRAT_INTROUVABLE"
	CodeRequeteInvalide    Code = "REQUETE_INVALIDE"
)

// codeTypeNonAutorise refuses a lesson whose type is a DSR type but not one the contract's
// licence category takes. It comes from the modelled part of the contract (docs/dsr.md,
// "Categories and lesson types"), not from the DSR's published table, hence its own block.
const codeTypeNonAutorise Code = "TYPE_NON_AUTORISE"

// dsrError is one row of the error table: the status and the exact French message.
type dsrError struct {
	status  int
	message string
}

// catalogue holds every code writeCode may answer. The messages are the DSR's wording,
// character for character, because Livret shows them to the school as they come (the vendor guide's
// §7 screenshot quotes the duration and authorisation ones; its §9 list paraphrases them).
var catalogue = map[Code]dsrError{
	codeContratDejaConnu:           {409, "Ce contrat de formation est déjà connu en base de données"},
	codeAutoEcoleFermee:            {403, "L'auto-école est fermée"},
	codeEleveIntrouvable:           {404, "Le duo NOM NEPH de l'élève ne permet pas de le retrouver en base"},
	codeCategorieSansDemande:       {422, "L'élève que vous recherchez n'a pas de demande pour cette catégorie de permis"},
	codeLeconFuture:                {422, "Il n'est pas possible de déclarer une leçon dans le futur"},
	codeDureeInvalide:              {422, "La durée renseignée n'est pas valide. Elle doit être comprise entre 30 et 240 min."},
	codeContratNonAutorise:         {403, "Cette auto-école n'est pas autorisée à ajouter une leçon sur ce contrat"},
	codeLeconEnDoublon:             {409, "Cet élève a déjà une leçon renseignée à cette date et à cette heure"},
	codeFormatAutorisationInvalide: {422, "Le format du numéro d'autorisation du formateur n'est pas valide."},
	codeTokenInvalide:              {401, "Jeton d'accès invalide ou expiré"},
	// The table gives no wording for a 429, only the Retry-After header: this one is ours.
	codeTropDeRequetes:     {429, "Trop de requêtes"},
	CodeContratIntrouvable: {404, "Contrat de formation introuvable"},
	codeTypeNonAutorise:    {422, "Ce type de leçon n'est pas autorisé pour la catégorie de ce contrat de formation."},
}

// The lesson types each licence category's contracts take (docs/dsr.md, "Categories and lesson
// types"), one list per family of categories that share them. The order of typesB is the order
// the four published types were always listed in, so the 400 message below still starts with them.
var (
	typesB         = []string{"CONDUITE", "CONDUITE_BOITE_AUTO", "SIMULATEUR", "SIMULATEUR_BOITE_AUTO", "THEORIE", "EVALUATION_DEPART", "RDV_PEDAGOGIQUE"}
	typesTwoWheels = []string{"PLATEAU", "CIRCULATION", "SIMULATEUR", "THEORIE", "EVALUATION_DEPART"}
	typesHeavy     = []string{"CONDUITE", "PLATEAU", "THEORIE", "EVALUATION_DEPART"}
)

// contractCategories are the licence categories a training contract may be for, in the
// contract's order, each with the lesson types its contracts take. A category outside this
// table is a malformed contract request (400), not a business refusal: the DSR has no such
// category at all, whatever the ANTS record says.
var contractCategories = []struct {
	categorie string
	types     []string
}{
	{"B", typesB},
	{"A1", typesTwoWheels}, {"A2", typesTwoWheels}, {"A", typesTwoWheels},
	{"BE", typesHeavy}, {"C1", typesHeavy}, {"C", typesHeavy}, {"CE", typesHeavy}, {"D1", typesHeavy}, {"D", typesHeavy},
}

// lessonTypes are every lesson "type" the DSR knows, whatever the category, in first-seen order
// of the table above. A type outside it is a malformed request (400 naming these values); a
// type in it that the contract's category does not take is a TYPE_NON_AUTORISE.
var lessonTypes = func() []string {
	var all []string
	for _, c := range contractCategories {
		for _, t := range c.types {
			if !slices.Contains(all, t) {
				all = append(all, t)
			}
		}
	}
	return all
}()

// categoryNames are the contract categories alone, for the 400 message of an unknown one.
var categoryNames = func() []string {
	names := make([]string, 0, len(contractCategories))
	for _, c := range contractCategories {
		names = append(names, c.categorie)
	}
	return names
}()

// knownCategory reports whether the DSR has training contracts for that category.
func knownCategory(categorie string) bool { return slices.Contains(categoryNames, categorie) }

// typeAllowed reports whether a contract of that category takes lessons of that type. A
// category the table does not know takes none: only a state file from before the categories
// were checked, or a hand-written one, can hold such a contract.
func typeAllowed(categorie, typ string) bool {
	for _, c := range contractCategories {
		if c.categorie == categorie {
			return slices.Contains(c.types, typ)
		}
	}
	return false
}

// normalizeCategory reads a contract's categorie as the sandbox always has: trimmed and in
// upper case, so "b" is B.
func normalizeCategory(raw string) string { return strings.ToUpper(strings.TrimSpace(raw)) }

// The bounds of a lesson's length, in minutes, both included (DUREE_INVALIDE's own wording:
// "comprise entre 30 et 240 min").
const (
	minLessonMinutes = 30
	maxLessonMinutes = 240
)

// validDuration applies the 30–240 min rule. The length is taken on absolute time, so a lesson
// across a daylight-saving change counts its real minutes, and in whole minutes, as the rule
// is stated; an end before the start is a negative length and so refused.
func validDuration(debut, fin time.Time) bool {
	m := int(fin.Sub(debut) / time.Minute)
	return m >= minLessonMinutes && m <= maxLessonMinutes
}

// validAuthorization checks an instructor's teaching authorisation number ("N° d'autorisation
// d'enseigner"): "A" then 10 digits, the shape of the vendor guide's generic number A0000000000
// (docs/rules.md, "What is sent", rule 4). The DSR does not tidy what it is sent: spaces, dots
// or a lower-case "a" are a FORMAT_AUTORISATION_INVALIDE, so a client that forgets to normalise
// is caught here.
func validAuthorization(s string) bool {
	return len(s) == 11 && s[0] == 'A' && allDigits(s[1:])
}

// paris is the DSR's time zone: it answers times in French local time with their offset, and
// the lesson list's du/au are French calendar days.
var paris = mustLoadLocation("Europe/Paris")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("sandbox: time zone " + name + " missing: " + err.Error())
	}
	return loc
}

// parisDate is the French calendar day of t, as YYYY-MM-DD: such strings compare in calendar
// order, which the lesson list's du/au filter relies on.
func parisDate(t time.Time) string { return t.In(paris).Format(time.DateOnly) }

// validDate reports whether s is a YYYY-MM-DD calendar date.
func validDate(s string) bool {
	_, err := time.ParseInLocation(time.DateOnly, s, paris)
	return err == nil
}

// formatDSRTime renders a time as the DSR does: French local time with its offset.
func formatDSRTime(t time.Time) string { return t.In(paris).Format(time.RFC3339Nano) }

// The reference data the controls take (POST /sandbox/accounts, /sandbox/students, PUT
// /sandbox/schools/{agrement}) is typed by testers and seed files, so it is tidied the way a
// person writes it. This is the sandbox's convenience, not a DSR rule.

// normalizeAgrement reads a school's agreement number: "E" then 10 digits, ignoring spaces,
// dots, no-break spaces and case.
func normalizeAgrement(raw string) (string, bool) {
	s := strings.ToUpper(dropRunes(strings.TrimSpace(raw), " .\u00a0"))
	return s, len(s) == 11 && s[0] == 'E' && allDigits(s[1:])
}

// normalizeNEPH reads a NEPH: 12 digits, ignoring spaces. It stays text: leading zeros count.
func normalizeNEPH(raw string) (string, bool) {
	s := dropRunes(strings.TrimSpace(raw), " ")
	return s, len(s) == 12 && allDigits(s)
}

func dropRunes(s, drop string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(drop, r) {
			return -1
		}
		return r
	}, s)
}

// allDigits reports whether s is one or more ASCII digits (unicode.IsDigit would let other
// scripts' digits through).
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
