package webui

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"livret/domain"
	"livret/school"
)

// "Paramètres" (/ui/parametres): the school's name and agrément, its scope (docs/rules.md,
// "Scope") and its alert addresses (the daily digest's), each changed by its own form through
// the same use case as PATCH /v1/school.

// SettingsPage is the settings' address, the notice's redirect target.
const SettingsPage = "/ui/parametres"

// AlertEmailsPage is the alert addresses' form target.
const AlertEmailsPage = SettingsPage + "/alertes"

// settingsPage is the settings as the template shows them.
type settingsPage struct {
	Name, Agrement string
	Scope          string // the current scope's label
	Scopes         []scopeChoice
	// AlertEmails is the textarea's content: one address per line.
	AlertEmails string
	// AlertEmailsMax is how many addresses the form takes.
	AlertEmailsMax int
	// AlertEmailsInvalid marks the textarea when the form was refused.
	AlertEmailsInvalid bool
	// ETPWarningDays is the days of warning before the ETP computation (0: none), and
	// ETPWarningMax its bound.
	ETPWarningDays, ETPWarningMax int
}

// scopeChoice is one radio choice of the scope.
type scopeChoice struct {
	Value, Label, Explanation string
	Checked                   bool
}

// scopeChoices are the two scopes, explained from domain's tables: the categories and
// types the guide sends are read from the sending table, not written again here.
func scopeChoices(current string) []scopeChoice {
	var bCategories []string
	for _, c := range domain.Categories() {
		if c.Group() == domain.GroupB {
			bCategories = append(bCategories, c.Label())
		}
	}
	var guideTypes []string
	for _, t := range domain.TypesSent(domain.ScopeGuide, domain.GroupB) {
		guideTypes = append(guideTypes, t.Label())
	}
	return []scopeChoice{
		{Value: string(domain.ScopeGuide), Label: domain.ScopeGuide.Label(), Checked: current != string(domain.ScopeEtendu),
			Explanation: "Exactement les règles du guide de l'éditeur : seules les formations au permis B (" + strings.Join(bCategories, ", ") +
				") sont concernées, et seules leurs leçons de conduite et de simulateur sont transmises (" + strings.Join(guideTypes, ", ") +
				"). Les autres leçons (code, évaluations, moto, poids lourds…) sont enregistrées, jamais envoyées."},
		{Value: string(domain.ScopeEtendu), Label: domain.ScopeEtendu.Label(), Checked: current == string(domain.ScopeEtendu),
			Explanation: "En plus du permis B : les permis moto (A1, A2, A), BE et poids lourds (C1, C, CE, D1, D), les cours de code donnés par un formateur (une séance collective compte une leçon par élève présent), les évaluations de départ et, en AAC et en conduite supervisée, les rendez-vous pédagogiques (RVP). Chaque formation d'un élève (une par catégorie de permis) a son propre contrat de formation à la DSR. Le détail est dans l'aide."},
	}
}

func (s *Pages) settingsData(c *gin.Context, st school.Settings, scope string) pageData {
	return pageData{Title: "Paramètres", Nav: "parametres", Notice: uiNotices[c.Query("msg")],
		Settings: &settingsPage{Name: st.Name, Agrement: st.Agrement, Scope: st.ScopeLabel,
			Scopes: scopeChoices(scope), AlertEmails: strings.Join(st.AlertEmails, "\n"), AlertEmailsMax: domain.MaxAlertEmails,
			ETPWarningDays: st.ETPWarningDays, ETPWarningMax: school.MaxETPWarningDays}}
}

// uiSettings is GET /ui/parametres.
func (s *Pages) uiSettings(c *gin.Context) {
	st, err := s.School.Settings(c.Request.Context(), schoolOf(c))
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	s.renderPage(c, http.StatusOK, "settings", s.settingsData(c, st, st.Scope))
}

// uiChangeSettings is the form's "Enregistrer": the scope changes, and the school's lessons
// not yet at the DSR are judged again in the same transaction. A refused form is the page
// again, with what is wrong and nothing written.
func (s *Pages) uiChangeSettings(c *gin.Context) {
	ctx := c.Request.Context()
	scope := strings.TrimSpace(c.PostForm("scope"))
	_, err := s.School.ChangeSettings(ctx, schoolOf(c), school.SettingsInput{Scope: &scope})
	if refusedByRole(err) { // not the form again: the French refusal page
		s.uiProblem(c, err)
		return
	}
	if err == nil {
		c.Redirect(http.StatusSeeOther, SettingsPage+"?msg=parametres")
		return
	}
	var d pageData
	if !asProblem(err, &d) {
		s.uiProblem(c, err)
		return
	}
	st, err := s.School.Settings(ctx, schoolOf(c))
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	page := s.settingsData(c, st, st.Scope)
	page.Message, page.Fields = d.Message, d.Fields
	s.renderPage(c, http.StatusBadRequest, "settings", page)
}

// uiChangeAlertEmails is the "Adresses d'alerte" form: one address per line, blank lines
// ignored. A refused form is the page again, with what was typed, each bad address named by
// its line, and nothing written.
func (s *Pages) uiChangeAlertEmails(c *gin.Context) {
	ctx := c.Request.Context()
	typed := c.PostForm("alert_emails")
	var emails []string
	var lines []int // the textarea line of each address
	for i, line := range strings.Split(strings.ReplaceAll(typed, "\r\n", "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			emails = append(emails, line)
			lines = append(lines, i+1)
		}
	}
	_, err := s.School.ChangeSettings(ctx, schoolOf(c), school.SettingsInput{AlertEmails: &emails})
	if refusedByRole(err) { // not the form again: the French refusal page
		s.uiProblem(c, err)
		return
	}
	if err == nil {
		c.Redirect(http.StatusSeeOther, SettingsPage+"?msg=alertes")
		return
	}
	var p *school.Problem
	if !errors.As(err, &p) {
		s.uiProblem(c, err)
		return
	}
	st, err := s.School.Settings(ctx, schoolOf(c))
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	page := s.settingsData(c, st, st.Scope)
	page.Message, page.Fields = problemText(p)
	for i, f := range p.Errors {
		var n int
		if _, err := fmt.Sscanf(f.Field, school.AlertEmailsField+"[%d]", &n); err == nil && n >= 0 && n < len(lines) {
			page.Fields[i].Label = fmt.Sprintf("Adresses d'alerte, ligne %d", lines[n])
		}
	}
	page.Settings.AlertEmails = strings.TrimSpace(typed)
	page.Settings.AlertEmailsInvalid = true
	s.renderPage(c, http.StatusBadRequest, "settings", page)
}

// uiChangeETPWarning is the "Alerte ETP" form: how many days before the DSR's computation the
// school is warned while hours are at risk. A refused form is the page again with the
// French reason, and nothing written.
func (s *Pages) uiChangeETPWarning(c *gin.Context) {
	ctx := c.Request.Context()
	days, convErr := strconv.Atoi(strings.TrimSpace(c.PostForm("etp_warning_days")))
	if convErr != nil {
		days = -1 // refused below, with the field's message
	}
	_, err := s.School.ChangeSettings(ctx, schoolOf(c), school.SettingsInput{ETPWarningDays: &days})
	if refusedByRole(err) { // not the form again: the French refusal page
		s.uiProblem(c, err)
		return
	}
	if err == nil {
		c.Redirect(http.StatusSeeOther, SettingsPage+"?msg=etp")
		return
	}
	var p *school.Problem
	if !errors.As(err, &p) {
		s.uiProblem(c, err)
		return
	}
	st, err := s.School.Settings(ctx, schoolOf(c))
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	page := s.settingsData(c, st, st.Scope)
	page.Message, page.Fields = problemText(p)
	s.renderPage(c, http.StatusBadRequest, "settings", page)
}
