package webui

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"livret/school"
)

// « Clés d'API » (/ui/cles): the school's named keys for its management software (docs/api.md,
// "API keys"), through the same use cases as the API's routes, which keep it to the gérant.
// A new key is shown once, on the page that answers its creation.

// KeysPage is the page's address.
const KeysPage = "/ui/cles"

// keysPage is the keys as the template shows them.
type keysPage struct {
	Keys []keyView
	// New is the key just created, shown this once.
	New *school.APIKeyCreated
	// Name is the form's name again after a refusal.
	Name string
	// Confirm is the id whose revocation awaits its confirmation.
	Confirm int64
}

type keyView struct {
	ID                       int64
	Name                     string
	Created, LastUsed, Ended string
	Active, Confirm          bool
}

var keyNotices = map[string]notice{
	"cle-revoquee": {Kind: "success", Text: "La clé est révoquée : toute requête faite avec elle est désormais refusée."},
}

func (s *Pages) keysData(c *gin.Context, page *keysPage) (pageData, error) {
	keys, err := s.School.APIKeys(c.Request.Context(), schoolOf(c))
	if err != nil {
		return pageData{}, err
	}
	for _, k := range keys {
		v := keyView{ID: k.ID, Name: k.Name, Created: frenchMoment(&k.Created), LastUsed: frenchMoment(k.LastUsed),
			Ended: frenchMoment(k.Revoked), Active: k.Revoked == nil, Confirm: k.ID == page.Confirm && k.Revoked == nil}
		page.Keys = append(page.Keys, v)
	}
	return pageData{Title: "Clés d'API", Nav: "cles", Notice: keyNotices[c.Query("msg")], Keys: page}, nil
}

// uiKeys is GET /ui/cles.
func (s *Pages) uiKeys(c *gin.Context) {
	d, err := s.keysData(c, &keysPage{})
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	s.renderPage(c, http.StatusOK, "keys", d)
}

// uiCreateKey is « Créer la clé »: the page again, with the new key shown once.
func (s *Pages) uiCreateKey(c *gin.Context) {
	created, err := s.School.CreateAPIKey(c.Request.Context(), schoolOf(c), school.APIKeyInput{Name: c.PostForm("name")})
	page := &keysPage{}
	status := http.StatusCreated
	if err == nil {
		page.New = &created
	} else {
		page.Name = c.PostForm("name")
	}
	d, lerr := s.keysData(c, page)
	if lerr != nil {
		s.uiProblem(c, lerr)
		return
	}
	var p *school.Problem
	if err != nil {
		if !errors.As(err, &p) {
			_ = c.Error(err)
			return
		}
		asProblem(err, &d)
		status = p.Status
	}
	s.renderPage(c, status, "keys", d)
}

// uiRevokeKey is « Révoquer »: the page again, asking to confirm; with the confirmation, the
// key is revoked.
func (s *Pages) uiRevokeKey(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		s.uiProblem(c, school.ErrAPIKeyNotFound)
		return
	}
	if c.PostForm("confirm") != "1" {
		d, err := s.keysData(c, &keysPage{Confirm: id})
		if err != nil {
			s.uiProblem(c, err)
			return
		}
		found := false
		for _, k := range d.Keys.Keys {
			found = found || k.Confirm
		}
		if !found {
			s.uiProblem(c, school.ErrAPIKeyNotFound)
			return
		}
		s.renderPage(c, http.StatusOK, "keys", d)
		return
	}
	if _, err := s.School.RevokeAPIKey(c.Request.Context(), schoolOf(c), id); err != nil {
		s.uiProblem(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, KeysPage+"?msg=cle-revoquee")
}
