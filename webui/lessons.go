package webui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"livret/domain"
	"livret/school"
)

// "Leçons envoyées" (docs/rules.md, "The report"): two tabs, filters by office and period, 10 rows a page.

// lessonsPage is the report as the template shows it.
type lessonsPage struct {
	Tab       string // "erreurs" or "eleve"
	Offices   []school.Office
	Office    string
	From, To  string
	Query     string // the student search
	Student   string // the chosen student's ref
	Students  []school.Student
	Searched  bool
	Chosen    string // the chosen student's name
	Rows      []lessonRow
	Shown     bool // a table is shown
	Page      int
	Pages     int
	Total     int64
	PrevURL   string
	NextURL   string
	Retour    string // this view's query, for the resend form
	ErrorsURL string
	SearchURL string
}

type lessonRow struct {
	Ref, Slot, Type, Student string
	Status, StatusClass      string
	Hint                     string
	CanResend                bool
}

func (s *Pages) uiLessons(c *gin.Context) {
	ctx := c.Request.Context()
	p := &lessonsPage{Tab: "erreurs", Office: strings.TrimSpace(c.Query("office")), From: strings.TrimSpace(c.Query("from")),
		To: strings.TrimSpace(c.Query("to")), Query: strings.TrimSpace(c.Query("q")), Student: strings.TrimSpace(c.Query("student"))}
	if c.Query("tab") == "eleve" {
		p.Tab = "eleve"
	}
	d := pageData{Title: "Leçons envoyées", Nav: "lessons", Lessons: p, Notice: uiNotices[c.Query("msg")]}
	var err error
	if p.Offices, err = s.School.Offices(ctx, schoolOf(c)); err != nil {
		s.uiProblem(c, err)
		return
	}

	// The filters every view keeps.
	filters := url.Values{}
	for k, v := range map[string]string{"office": p.Office, "from": p.From, "to": p.To} {
		if v != "" {
			filters.Set(k, v)
		}
	}
	view := url.Values{}
	for k, v := range filters {
		view[k] = v
	}
	view.Set("tab", "erreurs")
	p.ErrorsURL = "/ui/lessons?" + view.Encode()
	view.Set("tab", "eleve")
	p.SearchURL = "/ui/lessons?" + view.Encode()

	report := url.Values{}
	for k, v := range filters {
		report[k] = v
	}
	if p.Tab == "eleve" {
		if p.Query != "" {
			view.Set("q", p.Query)
			p.Searched = true
			if p.Students, err = s.School.SearchStudents(ctx, schoolOf(c), p.Query); err != nil {
				if !asProblem(err, &d.Message) {
					s.uiProblem(c, err)
					return
				}
			}
			if p.Student == "" && len(p.Students) == 1 {
				p.Student = p.Students[0].Ref
			}
		}
		if p.Student == "" {
			s.renderPage(c, http.StatusOK, "lessons", d)
			return
		}
		for _, st := range p.Students {
			if st.Ref == p.Student {
				p.Chosen = st.FirstName + " " + st.LastName
			}
		}
		view.Set("student", p.Student)
		report.Set("student", p.Student)
	} else {
		report.Set("status", "error")
	}
	page := 1
	if n, err := strconv.Atoi(c.Query("page")); err == nil && n > 1 {
		page = n
	}
	report.Set("page", strconv.Itoa(page))
	report.Set("per_page", strconv.Itoa(school.DefaultPerPage))

	res, err := s.School.Lessons(ctx, schoolOf(c), report)
	if err != nil {
		if !asProblem(err, &d.Message) {
			s.uiProblem(c, err)
			return
		}
		s.renderPage(c, http.StatusBadRequest, "lessons", d)
		return
	}
	p.Shown, p.Page, p.Total = true, res.Page, res.Total
	p.Pages = int((res.Total + int64(res.PerPage) - 1) / int64(res.PerPage))
	if p.Pages < 1 {
		p.Pages = 1
	}
	if p.Page > 1 {
		view.Set("page", strconv.Itoa(p.Page-1))
		p.PrevURL = "/ui/lessons?" + view.Encode()
	}
	if p.Page < p.Pages {
		view.Set("page", strconv.Itoa(p.Page+1))
		p.NextURL = "/ui/lessons?" + view.Encode()
	}
	view.Set("page", strconv.Itoa(p.Page))
	p.Retour = view.Encode()
	for _, l := range res.Items {
		row := lessonRow{Ref: l.Ref, Slot: l.Slot, Type: l.TypeLabel, Student: l.Student.FirstName + " " + l.Student.LastName}
		row.Status, row.StatusClass = statusCell(l.Transmission)
		inError := l.Transmission.Status == string(domain.StatusError)
		if l.Transmission.Hint != nil && inError {
			row.Hint = *l.Transmission.Hint
		}
		row.CanResend = inError
		if p.Chosen == "" && p.Student != "" {
			p.Chosen = row.Student
		}
		p.Rows = append(p.Rows, row)
	}
	s.renderPage(c, http.StatusOK, "lessons", d)
}

// asProblem puts a problem's French explanation in msg; false for any other error.
func asProblem(err error, msg *string) bool {
	var p *school.Problem
	if !errors.As(err, &p) {
		return false
	}
	*msg = p.Message()
	return true
}
