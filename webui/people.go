package webui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"livret/domain"
	"livret/school"
)

// The people's pages (product.md, "People and roles"): the forgotten password, choosing a
// password from an e-mailed link, and the gerant's list of people.

// peoplePage is /ui/personnes.
type peoplePage struct {
	People []school.Person
	Roles  []roleOption
}

type roleOption struct{ Value, Label string }

func roleOptions() []roleOption {
	var out []roleOption
	for _, r := range domain.Roles {
		out = append(out, roleOption{Value: string(r), Label: domain.RoleLabels[r]})
	}
	return out
}

func (s *Pages) mountPeople(ui *gin.RouterGroup) {
	ui.GET("/mot-de-passe-oublie", s.uiForgotForm)
	ui.POST("/mot-de-passe-oublie", s.uiForgot)
	ui.GET(school.InvitationPath[len("/ui"):], s.uiLinkForm("invitation"))
	ui.POST(school.InvitationPath[len("/ui"):], s.uiUseLink("invitation"))
	ui.GET(school.ResetPath[len("/ui"):], s.uiLinkForm("reset"))
	ui.POST(school.ResetPath[len("/ui"):], s.uiUseLink("reset"))

	in := ui.Group("", s.requireSession)
	in.GET("/personnes", s.uiPeople)
	forms := in.Group("", s.requireCSRF)
	forms.POST("/personnes", s.uiInvite)
	forms.POST("/personnes/:id/role", s.uiChangePerson)
	forms.POST("/personnes/:id/retirer", s.uiRemovePerson)
}

func (s *Pages) uiForgotForm(c *gin.Context) {
	s.renderPage(c, http.StatusOK, "forgot", pageData{Title: "Mot de passe oublié", CSRF: s.loginCSRF(c)})
}

// uiForgot answers the same whether the address has an access or not.
func (s *Pages) uiForgot(c *gin.Context) {
	if !s.checkLoginCSRF(c) {
		s.forbidden(c)
		return
	}
	if err := s.School.RequestReset(c.Request.Context(), c.PostForm("email")); err != nil {
		// Said to nobody but the log: the answer must not tell whether the address exists.
		s.log().ErrorContext(c.Request.Context(), "reset link not sent", "error", err.Error())
	}
	s.renderPage(c, http.StatusOK, "forgot", pageData{Title: "Mot de passe oublié", Sent: true})
}

func linkTitle(purpose string) string {
	if purpose == "reset" {
		return "Nouveau mot de passe"
	}
	return "Bienvenue sur Livret : choisissez votre mot de passe"
}

func linkAction(purpose string) string {
	if purpose == "reset" {
		return school.ResetPath
	}
	return school.InvitationPath
}

// uiLinkForm is the page an e-mailed link opens: the password form, or why the link no
// longer works.
func (s *Pages) uiLinkForm(purpose string) gin.HandlerFunc {
	return func(c *gin.Context) {
		token := c.Query("token")
		email, err := s.School.CheckLink(c.Request.Context(), token, purpose)
		var p *school.Problem
		if errors.As(err, &p) {
			s.renderPage(c, p.Status, "password", pageData{Title: p.Title, Message: p.Detail})
			return
		}
		if err != nil {
			_ = c.Error(err)
			return
		}
		s.renderPage(c, http.StatusOK, "password", pageData{Title: linkTitle(purpose), CSRF: s.loginCSRF(c), Token: token,
			Email: email, Action: linkAction(purpose)})
	}
}

// uiUseLink sets the password; the person then signs in with it.
func (s *Pages) uiUseLink(purpose string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !s.checkLoginCSRF(c) {
			s.forbidden(c)
			return
		}
		token := c.PostForm("token")
		_, err := s.School.UseLink(c.Request.Context(), token, purpose, c.PostForm("password"))
		var p *school.Problem
		switch {
		case errors.As(err, &p) && p.Type == school.TypeValidation:
			email, _ := s.School.CheckLink(c.Request.Context(), token, purpose)
			d := pageData{Title: linkTitle(purpose), CSRF: s.loginCSRF(c), Token: token, Email: email, Action: linkAction(purpose)}
			d.Message, d.Fields = problemText(p)
			s.renderPage(c, p.Status, "password", d)
		case errors.As(err, &p):
			s.renderPage(c, p.Status, "password", pageData{Title: p.Title, Message: p.Detail})
		case err != nil:
			_ = c.Error(err)
		default:
			c.Redirect(http.StatusSeeOther, "/ui/login?msg=mot-de-passe")
		}
	}
}

func (s *Pages) uiPeople(c *gin.Context) {
	ps, err := s.School.People(c.Request.Context(), schoolOf(c))
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	s.renderPage(c, http.StatusOK, "people", pageData{Title: "Personnes", Nav: "personnes", Notice: uiNotices[c.Query("msg")],
		People: &peoplePage{People: ps, Roles: roleOptions()}})
}

// officeRefs reads the form's comma-separated references.
func officeRefs(raw string) []string {
	var out []string
	for _, r := range strings.Split(raw, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// peopleProblem shows a refusal above the list of people.
func (s *Pages) peopleProblem(c *gin.Context, err error) {
	var p *school.Problem
	if !errors.As(err, &p) || p.Status == http.StatusNotFound {
		s.uiProblem(c, err)
		return
	}
	ps, lerr := s.School.People(c.Request.Context(), schoolOf(c))
	if lerr != nil {
		s.uiProblem(c, err)
		return
	}
	d := pageData{Title: "Personnes", Nav: "personnes", People: &peoplePage{People: ps, Roles: roleOptions()}}
	d.Message, d.Fields = problemText(p)
	s.renderPage(c, p.Status, "people", d)
}

func (s *Pages) uiInvite(c *gin.Context) {
	_, err := s.School.Invite(c.Request.Context(), schoolOf(c), school.PersonInput{Email: c.PostForm("email"), Role: c.PostForm("role"),
		OfficeRefs: officeRefs(c.PostForm("office_refs"))})
	if err != nil {
		s.peopleProblem(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/ui/personnes?msg=invitee")
}

func personID(c *gin.Context) int64 {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	return id
}

func (s *Pages) uiChangePerson(c *gin.Context) {
	role, refs := c.PostForm("role"), officeRefs(c.PostForm("office_refs"))
	_, err := s.School.UpdatePerson(c.Request.Context(), schoolOf(c), personID(c), school.PersonPatch{Role: &role, OfficeRefs: &refs})
	if err != nil {
		s.peopleProblem(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/ui/personnes?msg=personne-modifiee")
}

func (s *Pages) uiRemovePerson(c *gin.Context) {
	if err := s.School.RemovePerson(c.Request.Context(), schoolOf(c), personID(c)); err != nil {
		s.peopleProblem(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/ui/personnes?msg=personne-retiree")
}
