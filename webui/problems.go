package webui

import (
	"errors"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"livret/school"
)

// What a browser reads when something is refused or fails: always a French page, never the
// API's problem+json, whatever the address (docs/api.md, "Errors").

// fieldView is one bad field as a page shows it: the field's label, then its French message.
type fieldView struct {
	Label, Message string
}

// fieldLabels name the parameters a page sends as its form labels them.
var fieldLabels = map[string]string{
	"office":   "Bureau",
	"student":  "Élève",
	"q":        "Rechercher un élève",
	"from":     "Période du",
	"to":       "Période au",
	"status":   "Transmission",
	"category": "Catégorie",
	"scope":    "Périmètre",
	// alert_emails[i] is labelled by its line where the form is (webui/settings.go).
	"alert_emails": "Adresses d'alerte",
	"page":         "Page",
	"per_page":     "Lignes par page",
	"at":           "Date",
	"email":        "Adresse e-mail",
	"role":         "Rôle",
	"office_refs":  "Bureaux",
	"password":     "Mot de passe",
	"name":         "Nom de la clé",
}

// problemText is what a page says of a refusal: its detail, without the API's pointer to a
// field list ("voir la liste des champs"), and the list itself, each field by its label.
func problemText(p *school.Problem) (string, []fieldView) {
	msg := p.Detail
	if cut, ok := strings.CutSuffix(msg, " : voir la liste des champs."); ok {
		msg = cut + " :"
	}
	var fields []fieldView
	for _, f := range p.Errors {
		fields = append(fields, fieldView{Label: fieldLabels[f.Field], Message: f.Message})
	}
	return msg, fields
}

// asProblem puts a problem's French explanation in d; false for any other error.
func asProblem(err error, d *pageData) bool {
	var p *school.Problem
	if !errors.As(err, &p) {
		return false
	}
	d.Message, d.Fields = problemText(p)
	return true
}

// uiProblem shows a use case's refusal as a French page; any other error goes to the
// router's renderer, which logs it and comes back to Problem.
func (s *Pages) uiProblem(c *gin.Context, err error) {
	var p *school.Problem
	if !errors.As(err, &p) {
		_ = c.Error(err)
		return
	}
	s.Problem(c, p)
}

// Problem answers a browser with a French page for p (webapi.Pages): the router calls it
// for every error of a browser's request, from the pages' own refusals to an unknown
// address, a wrong method, a failure, or the OAuth callback's refusals. The page carries the
// pages' security headers, and the header menu when the admin is signed in.
func (s *Pages) Problem(c *gin.Context, p *school.Problem) {
	s.pageHeaders(c)
	if _, ok := c.Get(uiSessionKey); !ok {
		if sess, sc, ok := s.readSession(c); ok {
			c.Set(schoolKey, sc)
			c.Set(uiSessionKey, sess)
		}
	}
	d := pageData{Title: p.Title}
	d.Message, d.Fields = problemText(p)
	switch {
	case p.Status == http.StatusNotFound && c.FullPath() == "": // no route: the address itself
		d.Title, d.Message = "Page introuvable", "Cette page n'existe pas dans Livret : vérifiez l'adresse, ou repartez de la page des bureaux."
	case p.Type == school.TypeMethodNotAllowed:
		d.Title, d.Message = "Page introuvable", "Cette adresse ne s'ouvre pas de cette façon : repartez de la page des bureaux et utilisez ses boutons."
	case p.Type == school.TypeInternal:
		d.Title = "Erreur interne"
		d.Message = "Une erreur est survenue dans Livret. Réessayez dans quelques instants ; si elle persiste, contactez le support en lui donnant l'identifiant de la requête ci-dessous."
		d.RequestID = c.Writer.Header().Get("X-Request-Id")
	case p.Type == school.TypeUnauthorized && !underUI(c):
		d.Message = "Cette adresse est celle de l'API de Livret, réservée à votre logiciel de gestion (avec la clé de l'auto-école). Pour suivre vos bureaux et vos leçons, connectez-vous aux pages de Livret."
	case p.Type == school.TypeWrongSchool:
		d.Title = "Compte RdvPermis d'une autre auto-école"
		d.LogoutURL = s.School.RdvPermisLogoutURL
	case p.Type == school.TypeOAuth:
		d.Title = "Connexion du bureau refusée"
	}
	s.renderPage(c, p.Status, "error", d)
}

func underUI(c *gin.Context) bool {
	return c.Request.URL.Path == "/ui" || strings.HasPrefix(c.Request.URL.Path, "/ui/")
}

// notFound is the page for an address under /ui that leads nowhere (a static file that
// does not exist).
func (s *Pages) notFound(c *gin.Context) {
	s.pageHeaders(c)
	s.renderPage(c, http.StatusNotFound, "error", pageData{Title: "Page introuvable",
		Message: "Cette page n'existe pas dans Livret : vérifiez l'adresse, ou repartez de la page des bureaux."})
}

// staticExists reports whether name is a file (not a folder) of the static files.
func staticExists(static fs.FS, name string) bool {
	name = strings.TrimPrefix(name, "/")
	if !fs.ValidPath(name) || name == "." {
		return false
	}
	st, err := fs.Stat(static, name)
	return err == nil && !st.IsDir()
}
