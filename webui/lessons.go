package webui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"livret/domain"
	"livret/school"
)

// "Leçons envoyées" (docs/rules.md, "The report"): the guide's two tabs, "Leçons en erreur"
// and "Recherche par élève", and a third, "Toutes les leçons", with a filter on the
// transmission's status; each filtered by office and period, 10 rows a page.

// lessonsPage is the report as the template shows it.
type lessonsPage struct {
	Tab      string // "erreurs", "eleve" or "toutes"
	Tabs     []tabLink
	Offices  []school.Office
	Office   string
	From, To string
	Query    string // the student search
	Student  string // the chosen student's ref
	Students []studentLink
	Searched bool
	Chosen   string // the chosen student's name
	Rows     []lessonRow
	Shown    bool // a table is shown
	Page     int
	Pages    int
	Total    int64
	Pager    pager
	Retour   string // this view's query, page included, for the resend form
	Status   string // on "toutes": the status filtered on, "" for all
	Statuses []selectOption
	// Category is the training category filtered on ("" for all), kept by every tab.
	Category   string
	Categories []selectOption
	// Resendable is the N of "Renvoyer les N leçons": the DSR's refusals of this view's
	// office, student and period (docs/rules.md, "Resending").
	Resendable int64
	// ExportURL downloads every lesson of the view's filters as CSV (not only this page).
	ExportURL string
	// ResendStudent is the student the bulk resend is limited to ("" for all).
	ResendStudent string
}

// The report's tabs, in the order they show.
var lessonTabs = []struct{ Key, Label string }{
	{"erreurs", "Leçons en erreur"},
	{"eleve", "Recherche par élève"},
	{"toutes", "Toutes les leçons"},
}

type tabLink struct {
	Label, URL string
	Current    bool
}

type studentLink struct {
	Name, URL string
	Current   bool
	Trainings []trainingView
}

// trainingView is one of a found student's trainings: its category, its initial evaluation
// and where its training contract stands at the DSR, in French.
type trainingView struct {
	Label, Evaluation string
	Contract          string
	ContractClass     string // the status style: ok, wait or err
	Hint              string // what to do about a refused contract
}

func newTrainingView(t school.Training) trainingView {
	v := trainingView{Label: t.CategoryLabel, Evaluation: "Évaluation de départ non acceptée"}
	if t.InitialEvaluationAccepted {
		v.Evaluation = "Évaluation de départ acceptée"
	}
	switch t.Contract.Status {
	case school.ContractCreated:
		v.Contract, v.ContractClass = "Contrat de formation créé", "ok"
	case school.ContractError:
		v.Contract, v.ContractClass = "Contrat de formation refusé par la DSR", "err"
		if t.Contract.Message != nil {
			v.Contract += " : " + *t.Contract.Message
		}
		if t.Contract.Hint != nil {
			v.Hint = *t.Contract.Hint
		}
	default:
		v.Contract, v.ContractClass = "Contrat de formation : pas encore créé (il le sera au premier envoi)", "wait"
	}
	return v
}

// selectOption is one choice of a filter (Transmission, Catégorie).
type selectOption struct {
	Value, Label string
	Selected     bool
}

// statusChoices are the statuses a school sees ("sending" shows as pending), in the order of
// a lesson's life, worded by domain ("en erreur" → "En erreur").
func statusChoices() []selectOption {
	out := []selectOption{{Value: "", Label: "Toutes"}}
	for _, st := range domain.Statuses() {
		if st.Shown() != st {
			continue
		}
		phrase := st.Phrase()
		r, size := utf8.DecodeRuneInString(phrase)
		out = append(out, selectOption{Value: string(st), Label: string(unicode.ToUpper(r)) + phrase[size:]})
	}
	return out
}

// categoryChoices are the "Catégorie" filter's choices: every licence category, by its
// French name.
func categoryChoices() []selectOption {
	out := []selectOption{{Value: "", Label: "Toutes"}}
	for _, c := range domain.Categories() {
		out = append(out, selectOption{Value: string(c), Label: c.Label()})
	}
	return out
}

// pager is the guide's "« < 1 / 1 > »": each link keeps the tab and every filter; an empty
// URL is a link that would lead nowhere (shown disabled).
type pager struct {
	FirstURL, PrevURL, NextURL, LastURL string
}

type lessonRow struct {
	Ref, Slot, Type, Student string
	Category                 string // the training's category, by its French name
	Session                  string // the collective session's ref, if any
	Status, StatusClass      string
	Hint                     string
	// Note says when a pending lesson goes, or why one will not (school.Transmission.Note).
	Note string
	// CanResend: only a DSR refusal; Livret's own are lifted by fixing the data.
	CanResend bool
}

func (s *Pages) uiLessons(c *gin.Context) {
	ctx := c.Request.Context()
	p := &lessonsPage{Tab: "erreurs", Office: strings.TrimSpace(c.Query("office")), From: strings.TrimSpace(c.Query("from")),
		To: strings.TrimSpace(c.Query("to")), Query: strings.TrimSpace(c.Query("q")), Student: strings.TrimSpace(c.Query("student"))}
	for _, t := range lessonTabs {
		if c.Query("tab") == t.Key {
			p.Tab = t.Key
		}
	}
	d := pageData{Title: "Leçons envoyées", Nav: "lessons", Lessons: p, Notice: uiNotices[c.Query("msg")]}
	var err error
	if p.Offices, err = s.School.Offices(ctx, schoolOf(c)); err != nil {
		s.uiProblem(c, err)
		return
	}
	sortOffices(p.Offices)
	p.Categories = choose(categoryChoices(), c.Query("category"))
	for _, o := range p.Categories {
		if o.Selected {
			p.Category = o.Value
		}
	}

	// The filters every tab keeps, and this view: the tab, the filters, the search.
	filters := url.Values{}
	for k, v := range map[string]string{"office": p.Office, "from": p.From, "to": p.To, "category": p.Category} {
		if v != "" {
			filters.Set(k, v)
		}
	}
	for _, t := range lessonTabs {
		p.Tabs = append(p.Tabs, tabLink{Label: t.Label, URL: lessonsURL(filters, "tab", t.Key), Current: t.Key == p.Tab})
	}
	view := withParam(filters, "tab", p.Tab)

	report := url.Values{}
	for k, v := range filters {
		report[k] = v
	}
	switch p.Tab {
	case "eleve":
		var students []school.Student
		if p.Query != "" {
			view.Set("q", p.Query)
			// Searched only when the search ran: a refused one ("at least 2 characters") says
			// why, not also that nobody matched.
			if students, err = s.School.SearchStudents(ctx, schoolOf(c), p.Query); err != nil {
				if !asProblem(err, &d) {
					s.uiProblem(c, err)
					return
				}
			} else {
				p.Searched = true
			}
			if p.Student == "" && len(students) == 1 {
				p.Student = students[0].Ref
			}
		}
		for _, st := range students {
			link := studentLink{Name: st.LastName + " " + st.FirstName, URL: lessonsURL(view, "student", st.Ref), Current: st.Ref == p.Student}
			for _, t := range st.Trainings {
				link.Trainings = append(link.Trainings, newTrainingView(t))
			}
			p.Students = append(p.Students, link)
			if st.Ref == p.Student {
				p.Chosen = st.FirstName + " " + st.LastName
			}
		}
		if p.Student == "" {
			status := http.StatusOK
			if d.Message != "" {
				status = http.StatusBadRequest
			}
			s.renderPage(c, status, "lessons", d)
			return
		}
		view.Set("student", p.Student)
		report.Set("student", p.Student)
	case "toutes":
		p.Statuses = choose(statusChoices(), c.Query("status"))
		for _, o := range p.Statuses {
			if o.Selected {
				p.Status = o.Value
			}
		}
		if p.Status != "" {
			view.Set("status", p.Status)
			report.Set("status", p.Status)
		}
	default:
		report.Set("status", string(domain.StatusError))
	}
	page := 1
	if n, err := strconv.Atoi(c.Query("page")); err == nil && n > 1 {
		page = min(n, maxPage)
	}
	p.ExportURL = "/ui/lessons/export?" + report.Encode()
	report.Set("page", strconv.Itoa(page))
	report.Set("per_page", strconv.Itoa(school.DefaultPerPage))

	res, err := s.School.Lessons(ctx, schoolOf(c), report)
	if err != nil {
		if !asProblem(err, &d) {
			s.uiProblem(c, err)
			return
		}
		s.renderPage(c, http.StatusBadRequest, "lessons", d)
		return
	}
	p.Shown, p.Page, p.Total = true, res.Page, res.Total
	if p.Tab != "toutes" {
		p.ResendStudent = report.Get("student")
		f := school.ResendFilter{Office: p.Office, Student: p.ResendStudent, From: p.From, To: p.To, Category: p.Category}
		if p.Resendable, err = s.School.ResendableCount(ctx, schoolOf(c), f); err != nil {
			s.uiProblem(c, err)
			return
		}
	}
	p.Pages = int((res.Total + int64(res.PerPage) - 1) / int64(res.PerPage))
	if p.Pages < 1 {
		p.Pages = 1
	}
	pageURL := func(n int) string {
		if n <= 1 {
			return lessonsURL(view)
		}
		return lessonsURL(view, "page", strconv.Itoa(n))
	}
	if p.Page > p.Pages {
		// Past the last page (the list got shorter, e.g. after a resend from the last page):
		// the last page, with the notice the request asked for.
		target := withParam(view, "page", strconv.Itoa(p.Pages))
		if p.Pages == 1 {
			target.Del("page")
		}
		if _, ok := uiNotices[c.Query("msg")]; ok {
			target.Set("msg", c.Query("msg"))
		}
		c.Redirect(http.StatusSeeOther, lessonsURL(target))
		return
	}
	if p.Page > 1 {
		p.Pager.FirstURL, p.Pager.PrevURL = pageURL(1), pageURL(p.Page-1)
	}
	if p.Page < p.Pages {
		p.Pager.NextURL, p.Pager.LastURL = pageURL(p.Page+1), pageURL(p.Pages)
	}
	retour := view
	if p.Page > 1 {
		retour = withParam(view, "page", strconv.Itoa(p.Page))
	}
	p.Retour = retour.Encode()
	for _, l := range res.Items {
		row := lessonRow{Ref: l.Ref, Slot: l.Slot, Type: l.TypeLabel, Student: l.Student.FirstName + " " + l.Student.LastName,
			Category: l.CategoryLabel}
		if l.SessionRef != nil {
			row.Session = *l.SessionRef
		}
		row.Status, row.StatusClass = statusCell(l.Transmission)
		inError := l.Transmission.Status == string(domain.StatusError)
		if l.Transmission.Hint != nil && inError {
			row.Hint = *l.Transmission.Hint
		}
		if l.Transmission.Note != nil {
			row.Note = *l.Transmission.Note
		}
		row.CanResend = l.Transmission.Resendable
		if p.Chosen == "" && p.Student != "" {
			p.Chosen = row.Student
		}
		p.Rows = append(p.Rows, row)
	}
	s.renderPage(c, http.StatusOK, "lessons", d)
}

// choose marks the option of value as selected, "Toutes" (the first) when no option has it:
// a value not of the list is no filter, and is not echoed.
func choose(options []selectOption, value string) []selectOption {
	chosen := 0
	for i, o := range options {
		if o.Value == value {
			chosen = i
		}
	}
	options[chosen].Selected = true
	return options
}

// maxPage bounds the page asked for: far past any real report, well inside the use case's
// limit (a larger page would be refused as a bad parameter instead of leading to the last page).
const maxPage = 100_000

// withParam is a copy of q with the pairs (key, value, key, value…) set.
func withParam(q url.Values, kv ...string) url.Values {
	out := make(url.Values, len(q)+len(kv)/2)
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// lessonsURL is the report's address with q and the pairs kv set.
func lessonsURL(q url.Values, kv ...string) string {
	return "/ui/lessons?" + withParam(q, kv...).Encode()
}

// statusCell is the "Transmission" column: the status's French label from domain, with
// the message where there is one, and the style class.
func statusCell(t school.Transmission) (text, class string) {
	msg := ""
	if t.Message != nil {
		msg = *t.Message
	}
	st := domain.Status(t.Status)
	text = "● " + st.Label()
	if msg != "" && (st == domain.StatusError || st == domain.StatusNotEligible) {
		text += " - " + withoutLabel(msg, st.Label())
	}
	return text, statusClass[st]
}

// withoutLabel drops a message's lead-in that says the label again ("Leçon non concernée :
// seuls les élèves…" after "Non concernée"): the cell says the label once.
func withoutLabel(msg, label string) string {
	lead, rest, ok := strings.Cut(msg, " : ")
	if !ok || rest == "" || !strings.Contains(strings.ToLower(lead), strings.ToLower(label)) {
		return msg
	}
	r, size := utf8.DecodeRuneInString(rest)
	return string(unicode.ToUpper(r)) + rest[size:]
}

var statusClass = map[domain.Status]string{
	domain.StatusPending: "wait", domain.StatusTransmitted: "ok", domain.StatusError: "err",
	domain.StatusNotEligible: "muted", domain.StatusCancelled: "muted",
}

// exportFilters are the query parameters the export takes from the report's view.
var exportFilters = []string{"office", "student", "status", "from", "to", "category"}

// uiExport is "Exporter (CSV)": the report's file (school.LessonExport, the same as GET
// /v1/lessons?format=csv) for the filters of the view the admin is on. A refused filter is
// the French error page; a failure once the download began cuts it.
func (s *Pages) uiExport(c *gin.Context) {
	ctx := c.Request.Context()
	query := url.Values{}
	for _, k := range exportFilters {
		if v, ok := c.GetQuery(k); ok {
			query.Set(k, v)
		}
	}
	export, err := s.School.ExportLessons(ctx, schoolOf(c), query)
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+school.CSVFileName(time.Now())+`"`)
	c.Status(http.StatusOK)
	if n, err := export.WriteCSV(ctx, c.Writer, c.Writer.Flush); err != nil {
		s.log().ErrorContext(ctx, "lesson export cut short", "rows", n, "error", err.Error())
		panic(http.ErrAbortHandler)
	}
}
