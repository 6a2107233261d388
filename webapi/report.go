package webapi

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// The transmission report (seed §7): office cards, lessons filtered by office, status and
// period, the search by student, and each office's runs.

const (
	defaultPerPage   = 10 // the seed's "10 lignes"
	maxPerPage       = 100
	maxRuns          = 100
	maxSearchResults = 50
	minSearchLen     = 2
)

// listOffices is GET /v1/offices: the office cards.
func (s *Server) listOffices(c *gin.Context) {
	ctx := c.Request.Context()
	school := schoolOf(c)
	q := dbq.New(s.Pool)
	offices, err := q.OfficeList(ctx, school.ID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	runs, err := q.RunLatestBySchool(ctx, school.ID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	last := make(map[int64]*dbq.Run, len(runs))
	for i := range runs {
		last[runs[i].OfficeID] = &runs[i]
	}
	out := make([]officeView, 0, len(offices))
	for _, o := range offices {
		out = append(out, newOfficeView(o, last[o.ID]))
	}
	c.JSON(http.StatusOK, out)
}

// officeCard is one office's card, as GET /v1/offices shows it.
func officeCard(ctx context.Context, q *dbq.Queries, schoolID, officeID int64) (officeView, error) {
	offices, err := q.OfficeList(ctx, schoolID)
	if err != nil {
		return officeView{}, err
	}
	for _, o := range offices {
		if o.ID != officeID {
			continue
		}
		run, err := q.RunLastByOffice(ctx, dbq.RunLastByOfficeParams{SchoolID: schoolID, OfficeID: officeID})
		switch {
		case db.IsNotFound(err):
			return newOfficeView(o, nil), nil
		case err != nil:
			return officeView{}, err
		}
		return newOfficeView(o, &run), nil
	}
	return officeView{}, errOfficeNotFound
}

// lessonPage is a page of the report.
type lessonPage struct {
	Items   []lessonView `json:"items"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
	Total   int64        `json:"total"`
}

// listLessons is GET /v1/lessons.
func (s *Server) listLessons(c *gin.Context) {
	s.lessonReport(c, nil)
}

// listStudentLessons is GET /v1/students/{ref}/lessons.
func (s *Server) listStudentLessons(c *gin.Context) {
	ref, ok := lookupRef(c)
	if !ok {
		_ = c.Error(errStudentNotFound)
		return
	}
	st, err := dbq.New(s.Pool).StudentGetByRef(c.Request.Context(), dbq.StudentGetByRefParams{SchoolID: schoolOf(c).ID, Ref: ref})
	if db.IsNotFound(err) {
		_ = c.Error(errStudentNotFound)
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.lessonReport(c, &st.ID)
}

var errStudentNotFound = notFound("Élève introuvable.")

// lessonReport answers a page of lessons, newest first, with the query's filters. student,
// when set, is the student of the path (it then wins over a "student" filter).
func (s *Server) lessonReport(c *gin.Context, student *int64) {
	ctx := c.Request.Context()
	school := schoolOf(c)
	q := dbq.New(s.Pool)
	params := dbq.LessonReportPageParams{SchoolID: school.ID, StudentID: student}
	var errs fieldErrors

	if ref, ok := c.GetQuery("office"); ok {
		ref = errs.cleanText("office", ref, true, maxRefLen)
		if ref != "" {
			o, err := q.OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: school.ID, Ref: ref})
			switch {
			case db.IsNotFound(err):
				errs.add("office", "Bureau inconnu.")
			case err != nil:
				_ = c.Error(err)
				return
			default:
				params.OfficeID = &o.ID
			}
		}
	}
	if ref, ok := c.GetQuery("student"); ok && student == nil {
		ref = errs.cleanText("student", ref, true, maxRefLen)
		if ref != "" {
			st, err := q.StudentGetByRef(ctx, dbq.StudentGetByRefParams{SchoolID: school.ID, Ref: ref})
			switch {
			case db.IsNotFound(err):
				errs.add("student", "Élève inconnu.")
			case err != nil:
				_ = c.Error(err)
				return
			default:
				params.StudentID = &st.ID
			}
		}
	}
	if raw, ok := c.GetQuery("status"); ok {
		params.Statuses = parseStatuses(raw, &errs)
	}
	from, fromOK := parseDay(c, "from", &errs)
	to, toOK := parseDay(c, "to", &errs)
	if fromOK {
		params.FromAt = &from
	}
	if toOK {
		// Inclusive: up to the next Paris midnight (built from the date, right on DST days).
		end := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, domain.Paris)
		params.ToAt = &end
		if fromOK && to.Before(from) {
			errs.add("to", "La date de fin doit être le même jour que la date de début ou après.")
		}
	}
	page := parsePositive(c, "page", 1, math.MaxInt32, &errs)
	perPage := parsePositive(c, "per_page", defaultPerPage, maxPerPage, &errs)
	if offset := int64(page-1) * int64(perPage); offset > math.MaxInt32 {
		errs.add("page", "Numéro de page trop grand.")
	} else {
		params.Off, params.Lim = int32(offset), int32(perPage)
	}
	if err := errs.problem(); err != nil {
		_ = c.Error(err)
		return
	}

	rows, err := q.LessonReportPage(ctx, params)
	if err != nil {
		_ = c.Error(err)
		return
	}
	total, err := q.LessonReportCount(ctx, dbq.LessonReportCountParams{SchoolID: params.SchoolID, OfficeID: params.OfficeID,
		StudentID: params.StudentID, Statuses: params.Statuses, FromAt: params.FromAt, ToAt: params.ToAt})
	if err != nil {
		_ = c.Error(err)
		return
	}
	items := make([]lessonView, 0, len(rows))
	for _, r := range rows {
		items = append(items, newLessonView(dbq.LessonViewGetRow(r)))
	}
	c.JSON(http.StatusOK, lessonPage{Items: items, Page: page, PerPage: perPage, Total: total})
}

// reportStatuses are the statuses a school filters by; "pending" includes the internal
// "sending".
var reportStatuses = map[string][]string{
	string(domain.StatusPending):     {string(domain.StatusPending), string(domain.StatusSending)},
	string(domain.StatusTransmitted): {string(domain.StatusTransmitted)},
	string(domain.StatusError):       {string(domain.StatusError)},
	string(domain.StatusNotEligible): {string(domain.StatusNotEligible)},
	string(domain.StatusCancelled):   {string(domain.StatusCancelled)},
}

// parseStatuses reads "error" or "pending,error".
func parseStatuses(raw string, errs *fieldErrors) []string {
	var out []string
	for _, name := range strings.Split(raw, ",") {
		sts, ok := reportStatuses[strings.TrimSpace(name)]
		if !ok {
			errs.add("status", "Statut inconnu. Valeurs possibles : pending, transmitted, error, not_eligible, cancelled (plusieurs séparés par des virgules).")
			return nil
		}
		out = append(out, sts...)
	}
	return out
}

// parseDay reads a YYYY-MM-DD query parameter as 00:00 Europe/Paris of that day.
func parseDay(c *gin.Context, name string, errs *fieldErrors) (time.Time, bool) {
	raw, ok := c.GetQuery(name)
	if !ok {
		return time.Time{}, false
	}
	t, err := domain.ParseBusinessDate(raw)
	if err != nil || t.Year() < minLessonYear || t.Year() > maxLessonYear {
		errs.add(name, "Date invalide : format AAAA-MM-JJ attendu (par exemple 2021-12-09).")
		return time.Time{}, false
	}
	return t, true
}

// parsePositive reads an integer query parameter in [1, max], def when absent.
func parsePositive(c *gin.Context, name string, def, max int, errs *fieldErrors) int {
	raw, ok := c.GetQuery(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		errs.add(name, "Nombre entier attendu, entre 1 et "+strconv.Itoa(max)+".")
		return def
	}
	return n
}

// searchStudents is GET /v1/students?q=: accents, case and word order ignored.
func (s *Server) searchStudents(c *gin.Context) {
	var errs fieldErrors
	raw := errs.cleanText("q", c.Query("q"), true, maxNameLen)
	key := domain.SearchKey(raw)
	if len(errs) == 0 && utf8.RuneCountInString(key) < minSearchLen {
		errs.add("q", "Saisissez au moins 2 caractères du nom ou du prénom.")
	}
	if err := errs.problem(); err != nil {
		_ = c.Error(err)
		return
	}
	words := strings.Fields(key)
	longest := ""
	patterns := make([]string, 0, len(words))
	for _, w := range words {
		if utf8.RuneCountInString(w) > utf8.RuneCountInString(longest) {
			longest = w
		}
		patterns = append(patterns, likeContains(w))
	}
	rows, err := dbq.New(s.Pool).StudentSearchWords(c.Request.Context(), dbq.StudentSearchWordsParams{
		SchoolID: schoolOf(c).ID, LongestPattern: likeContains(longest), Patterns: patterns, Lim: maxSearchResults})
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := make([]studentView, 0, len(rows))
	for _, r := range rows {
		out = append(out, studentView{Ref: r.Ref, OfficeRef: r.OfficeRef, FirstName: r.FirstName, LastName: r.LastName,
			NEPH: r.Neph, Category: r.Category, CategoryLabel: domain.Category(r.Category).Label(),
			InitialEvaluationAccepted: r.InitialEvaluationAccepted})
	}
	c.JSON(http.StatusOK, out)
}

// likeContains is a LIKE pattern matching s anywhere, s's own wildcards escaped.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// listRuns is GET /v1/offices/{ref}/runs: the office's runs, newest first, with counts.
func (s *Server) listRuns(c *gin.Context) {
	ctx := c.Request.Context()
	school := schoolOf(c)
	ref, ok := lookupRef(c)
	if !ok {
		_ = c.Error(errOfficeNotFound)
		return
	}
	q := dbq.New(s.Pool)
	office, err := q.OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: school.ID, Ref: ref})
	if db.IsNotFound(err) {
		_ = c.Error(errOfficeNotFound)
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	runs, err := q.RunListByOffice(ctx, dbq.RunListByOfficeParams{SchoolID: school.ID, OfficeID: office.ID, Limit: maxRuns})
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := make([]runView, 0, len(runs))
	for _, r := range runs {
		out = append(out, newRunView(r))
	}
	c.JSON(http.StatusOK, out)
}
