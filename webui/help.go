package webui

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"livret/db/dbq"
	"livret/domain"
)

// "Aide" (/ui/aide): what Livret sends and when, the words of the trade, and what each
// error means. The rules' figures and lists and every error's message and hint come from
// domain, where the rules and the error catalogue live: the page cannot drift from them.

// helpPage is the help as the template shows it.
type helpPage struct {
	Categories []string // the licence categories sent
	Types      []string // the lesson types sent
	Others     []string // the lesson types stored, never sent
	MinMinutes int
	MaxMinutes int
	Generic    string // the simulator's generic authorisation number
	DailyAt    string // the daily run's time, "01:30"
	Groups     []helpGroup
	// Sending is the sending table per category group, in each scope.
	Sending []sendingRow
	// Scope is the signed-in school's scope, by its label ("" for a visitor).
	Scope string
}

// sendingRow is one category group of the sending table: the types it sends in scope guide
// and in scope étendu, by their French names.
type sendingRow struct {
	Group         string
	Guide, Etendu []string
	From          string // the first day the étendu rows apply, "01/01/2024"; "" when none
}

// sendingGroups are the category groups in the order of domain.Categories, the group of
// categories never sent last.
func sendingGroups() []domain.Group {
	var out []domain.Group
	for _, c := range domain.Categories() {
		if g := c.Group(); g != domain.GroupNone && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return append(out, domain.GroupNone)
}

// typeSent is a type's French name with the sending table's conditions on it in group g
// (given by an instructor, some categories only).
func typeSent(g domain.Group, t domain.LessonType) string {
	label := t.Label()
	for _, r := range domain.SendingTable() {
		if r.Group != g || r.Type != t {
			continue
		}
		if r.ByInstructor {
			label += " (donné par un formateur)"
		}
		if r.Only != nil {
			var names []string
			for _, c := range r.Only {
				names = append(names, c.Label())
			}
			label += " (seulement " + strings.Join(names, " et ") + ")"
		}
		break
	}
	return label
}

func newSendingRows() []sendingRow {
	var out []sendingRow
	for _, g := range sendingGroups() {
		row := sendingRow{Group: g.Label()}
		for _, t := range domain.TypesSent(domain.ScopeGuide, g) {
			row.Guide = append(row.Guide, typeSent(g, t))
		}
		for _, t := range domain.TypesSent(domain.ScopeEtendu, g) {
			row.Etendu = append(row.Etendu, typeSent(g, t))
		}
		var from time.Time
		for _, r := range domain.SendingTable() {
			if r.Group == g && !r.Guide && (from.IsZero() || r.From.Before(from)) {
				from = r.From
			}
		}
		if !from.IsZero() {
			row.From = from.Format("02/01/2006")
		}
		out = append(out, row)
	}
	return out
}

// helpGroup is one list of the error catalogue.
type helpGroup struct {
	ID, Title, Intro string
	Entries          []helpEntry
}

type helpEntry struct {
	Code, Message, Hint string
}

// livretErrorCodes and notConcernedCodes are Livret's own codes (domain.LivretCodes), split
// by what they make a lesson; TestHelpListsTheWholeCatalogue holds the page's list to the
// catalogue's tables in docs/rules.md. Each message and hint is domain's.
var livretErrorCodes, notConcernedCodes = func() (errs, notConcerned []domain.Code) {
	for _, c := range domain.LivretCodes() {
		if e, _ := domain.Lookup(c); e.Status == domain.StatusNotEligible {
			notConcerned = append(notConcerned, c)
		} else {
			errs = append(errs, c)
		}
	}
	return errs, notConcerned
}()

func helpEntries(codes []domain.Code) []helpEntry {
	out := make([]helpEntry, 0, len(codes))
	for _, c := range codes {
		if e, ok := domain.Lookup(c); ok {
			// As the report shows it after the status ("Non concernée - Seuls les élèves…").
			out = append(out, helpEntry{Code: string(c), Message: withoutLabel(e.Message, e.Status.Label()), Hint: e.Hint})
		}
	}
	return out
}

func newHelpPage(dailyHour, dailyMinute int) *helpPage {
	h := &helpPage{MinMinutes: domain.MinLessonMinutes, MaxMinutes: domain.MaxLessonMinutes, Generic: domain.GenericSimulatorAuthorization,
		DailyAt: fmt.Sprintf("%02d:%02d", dailyHour, dailyMinute), Sending: newSendingRows()}
	for _, c := range domain.Categories() {
		if c.Group() == domain.GroupB {
			h.Categories = append(h.Categories, c.Label())
		}
	}
	guide := domain.TypesSent(domain.ScopeGuide, domain.GroupB)
	for _, t := range domain.LessonTypes() {
		if slices.Contains(guide, t) {
			h.Types = append(h.Types, t.Label())
		} else {
			h.Others = append(h.Others, t.Label())
		}
	}
	// CONTRAT_INTROUVABLE is not in the DSR's published table, but the DSR answers it.
	dsr := append(domain.DSRCodes(), domain.CodeContratIntrouvable)
	h.Groups = []helpGroup{
		{ID: "erreurs-dsr", Title: "Refus de la DSR",
			Intro:   "La DSR refuse le contrat de formation ou la leçon, avec ces messages. Corrigez les données indiquées dans votre logiciel de gestion, puis cliquez sur « Renvoyer » dans « Leçons en erreur ».",
			Entries: helpEntries(dsr)},
		{ID: "erreurs-livret", Title: "Vérifications de Livret",
			Intro:   "Livret vérifie chaque leçon dès que votre logiciel de gestion la lui envoie, avant tout envoi à la DSR : vous voyez l'erreur le jour même. Il vérifie aussi la durée et le format du numéro d'autorisation d'enseigner, avec les mots de la DSR ci-dessus. Une fois les données corrigées dans votre logiciel de gestion, la leçon repasse « En attente » d'elle-même et part avec l'envoi de la nuit suivante.",
			Entries: helpEntries(livretErrorCodes)},
		{ID: "non-concernees", Title: "Leçons non concernées",
			Intro:   "Ces leçons ne sont pas transmises à la DSR, et il n'y a rien à corriger : elles ne sont pas listées dans « Leçons en erreur ».",
			Entries: helpEntries(notConcernedCodes)},
	}
	return h
}

// uiHelp is GET /ui/aide, open to anyone: nothing in it is a school's.
func (s *Pages) uiHelp(c *gin.Context) {
	h, m := 1, 30 // the worker's default (worker.NewOrchestrator)
	if s.School.Orchestrator != nil {
		h, m = s.School.Orchestrator.DailyTime()
	}
	help := newHelpPage(h, m)
	if sc, ok := c.Get(schoolKey); ok {
		help.Scope = domain.Scope(sc.(dbq.School).Scope).Label()
	}
	s.renderPage(c, http.StatusOK, "help", pageData{Title: "Aide", Nav: "aide", Help: help})
}
