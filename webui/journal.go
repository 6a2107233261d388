package webui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"livret/domain"
	"livret/school"
)

// The journal (/ui/journal): the school's audit trail, for the gerant (the use case refuses
// the other roles with the same 404 as an unknown page; the menu shows it to the gerant only).

type journalRow struct {
	When, Actor, Label, Object string
}

type journalPage struct {
	Rows        []journalRow
	Page, Pages int
	Prev, Next  string
}

// journalPerPage is longer than the report's 10: the journal is read by scrolling.
const journalPerPage = 50

func (s *Pages) uiJournal(c *gin.Context) {
	query := url.Values{"per_page": {strconv.Itoa(journalPerPage)}}
	if p := c.Query("page"); p != "" {
		query.Set("page", p)
	}
	trail, err := s.School.AuditTrail(c.Request.Context(), schoolOf(c), query)
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	j := &journalPage{Page: trail.Page, Pages: max(1, int((trail.Total+int64(trail.PerPage)-1)/int64(trail.PerPage)))}
	for _, e := range trail.Items {
		when := e.At
		if t, err := time.Parse(time.RFC3339, e.At); err == nil {
			when = t.In(domain.Paris).Format("02/01/2006 à 15:04")
		}
		j.Rows = append(j.Rows, journalRow{When: when, Actor: e.Actor, Label: school.AuditLabel(e.Action), Object: e.Object})
	}
	if j.Page > 1 {
		j.Prev = "/ui/journal?page=" + strconv.Itoa(j.Page-1)
	}
	if j.Page < j.Pages {
		j.Next = "/ui/journal?page=" + strconv.Itoa(j.Page+1)
	}
	s.renderPage(c, http.StatusOK, "journal", pageData{Title: "Journal", Nav: "journal", Journal: j})
}

// Can reports whether the signed-in person's role allows p (domain's one policy table), for
// the templates to show only the buttons, forms and menu entries it may use. What is shown
// is no authority: every handler's use case checks again. No actor on the request is the
// school's own key (the pages' sign-in before people had accounts): the gerant's rights.
func (d pageData) Can(p string) bool {
	if d.actor == nil {
		return true
	}
	return domain.AccessOf(d.actor.Role, domain.Permission(p)) == domain.Allowed
}

// refusedByRole reports whether err is the policy's refusal (a 403, or the 404 of what the
// role may not see): a form then answers with the refusal's page, not with itself again.
func refusedByRole(err error) bool {
	var p *school.Problem
	return errors.As(err, &p) && (p.Type == school.TypeForbidden || p.Status == http.StatusNotFound)
}
