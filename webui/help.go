package webui

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

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
		DailyAt: fmt.Sprintf("%02d:%02d", dailyHour, dailyMinute)}
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
	s.renderPage(c, http.StatusOK, "help", pageData{Title: "Aide", Nav: "aide", Help: newHelpPage(h, m)})
}
