package school

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// The transmission report (docs/rules.md, "The report"; docs/api.md, "The report (school)"): office cards, lessons filtered by office, status and
// period, the search by student, and each office's runs.

const (
	// DefaultPerPage is the report's "10 lignes" (docs/rules.md, "The report").
	DefaultPerPage   = 10
	defaultPerPage   = DefaultPerPage
	maxPerPage       = 100
	maxRuns          = 100
	maxSearchResults = 50
	minSearchLen     = 2
)

// Offices are the school's office cards (GET /v1/offices).
func (s *Service) Offices(ctx context.Context, school dbq.School) ([]Office, error) {
	if err := Authorize(ctx, domain.PermRead); err != nil {
		return nil, err
	}
	q := dbq.New(s.Pool)
	offices, err := q.OfficeList(ctx, dbq.OfficeListParams{SchoolID: school.ID, OfficeIds: officeScope(ctx)})
	if err != nil {
		return nil, err
	}
	runs, err := q.RunLatestBySchool(ctx, school.ID)
	if err != nil {
		return nil, err
	}
	last := make(map[int64]*dbq.Run, len(runs))
	for i := range runs {
		last[runs[i].OfficeID] = &runs[i]
	}
	out := make([]Office, 0, len(offices))
	c := s.clock(school)
	for _, o := range offices {
		out = append(out, newOffice(o, last[o.ID], c))
	}
	return out, nil
}

// Office is one office's card (GET /v1/offices/{ref}).
func (s *Service) Office(ctx context.Context, school dbq.School, ref string) (Office, error) {
	if err := Authorize(ctx, domain.PermRead); err != nil {
		return Office{}, err
	}
	q := dbq.New(s.Pool)
	o, err := officeByRef(ctx, q, school.ID, ref)
	if err != nil {
		return Office{}, err
	}
	return s.officeCard(ctx, q, school, o.ID)
}

// Lesson is one lesson with its transmission (GET /v1/lessons/{ref}): what an integrator
// polls for one lesson's verdict.
func (s *Service) Lesson(ctx context.Context, school dbq.School, ref string) (Lesson, error) {
	if err := Authorize(ctx, domain.PermRead); err != nil {
		return Lesson{}, err
	}
	if !ValidLookupRef(ref) {
		return Lesson{}, ErrLessonNotFound
	}
	if officeScope(ctx) != nil {
		officeID, err := dbq.New(s.Pool).LessonOfficeByRef(ctx, dbq.LessonOfficeByRefParams{SchoolID: school.ID, Ref: ref})
		if db.IsNotFound(err) || (err == nil && !seesOffice(ctx, officeID)) {
			return Lesson{}, ErrLessonNotFound
		}
		if err != nil {
			return Lesson{}, err
		}
	}
	row, err := dbq.New(s.Pool).LessonViewGetByRef(ctx, dbq.LessonViewGetByRefParams{SchoolID: school.ID, Ref: ref})
	if db.IsNotFound(err) {
		return Lesson{}, ErrLessonNotFound
	}
	if err != nil {
		return Lesson{}, err
	}
	return newLesson(row.ReportLine, s.clock(school)), nil
}

// officeCard is one office's card, as GET /v1/offices shows it.
func (s *Service) officeCard(ctx context.Context, q *dbq.Queries, school dbq.School, officeID int64) (Office, error) {
	schoolID := school.ID
	offices, err := q.OfficeList(ctx, dbq.OfficeListParams{SchoolID: schoolID, OfficeID: &officeID})
	if err != nil {
		return Office{}, err
	}
	for _, o := range offices {
		if o.ID != officeID {
			continue
		}
		run, err := q.RunLastByOffice(ctx, dbq.RunLastByOfficeParams{SchoolID: schoolID, OfficeID: officeID})
		switch {
		case db.IsNotFound(err):
			return newOffice(o, nil, s.clock(school)), nil
		case err != nil:
			return Office{}, err
		}
		return newOffice(o, &run, s.clock(school)), nil
	}
	return Office{}, ErrOfficeNotFound
}

// LessonPage is a page of the report.
type LessonPage struct {
	Items   []Lesson `json:"items"`
	Page    int      `json:"page"`
	PerPage int      `json:"per_page"`
	Total   int64    `json:"total"`
}

// Lessons is a page of the school's lessons, newest first, with the filters of docs/api.md
// (GET /v1/lessons): office, student (refs), status, from, to (dates, inclusive), page,
// per_page, read from the query string as sent.
func (s *Service) Lessons(ctx context.Context, school dbq.School, query url.Values) (LessonPage, error) {
	if err := Authorize(ctx, domain.PermRead); err != nil {
		return LessonPage{}, err
	}
	return s.lessonReport(ctx, school, nil, query)
}

// StudentLessons is the same page for one student (GET /v1/students/{ref}/lessons).
func (s *Service) StudentLessons(ctx context.Context, school dbq.School, ref string, query url.Values) (LessonPage, error) {
	if err := Authorize(ctx, domain.PermRead); err != nil {
		return LessonPage{}, err
	}
	if !ValidLookupRef(ref) {
		return LessonPage{}, ErrStudentNotFound
	}
	st, err := dbq.New(s.Pool).StudentGetByRef(ctx, dbq.StudentGetByRefParams{SchoolID: school.ID, Ref: ref})
	if db.IsNotFound(err) {
		return LessonPage{}, ErrStudentNotFound
	}
	if err != nil {
		return LessonPage{}, err
	}
	if seen, err := seesStudent(ctx, dbq.New(s.Pool), st.ID); err != nil || !seen {
		if err == nil {
			err = ErrStudentNotFound
		}
		return LessonPage{}, err
	}
	return s.lessonReport(ctx, school, &st.ID, query)
}

// reportFilter is the report's filter, read from a query: nil is no filter.
type reportFilter struct {
	OfficeID, StudentID *int64
	// OfficeIDs are a bureau person's offices (officeScope): nil for the other roles.
	OfficeIDs    []int64
	Statuses     []string
	FromAt, ToAt *time.Time
	Category     *string
}

// parseFilter reads the report's filters (office, student, status, from, to), adding what is
// wrong to errs. student, when set, is the student of the path (it then wins over a
// "student" filter).
func parseFilter(ctx context.Context, q *dbq.Queries, school dbq.School, student *int64, query url.Values, errs *fieldErrors) (reportFilter, error) {
	f := reportFilter{StudentID: student, OfficeIDs: officeScope(ctx)}
	if err := checkFilterSizes(query); err != nil {
		return f, err
	}
	if ref, ok := get(query, "office"); ok {
		ref = errs.cleanText("office", ref, true, maxRefLen)
		if ref != "" {
			o, err := q.OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: school.ID, Ref: ref})
			switch {
			case db.IsNotFound(err), err == nil && !seesOffice(ctx, o.ID):
				errs.add("office", "Bureau inconnu.")
			case err != nil:
				return f, err
			default:
				f.OfficeID = &o.ID
			}
		}
	}
	if ref, ok := get(query, "student"); ok && student == nil {
		ref = errs.cleanText("student", ref, true, maxRefLen)
		if ref != "" {
			st, err := q.StudentGetByRef(ctx, dbq.StudentGetByRefParams{SchoolID: school.ID, Ref: ref})
			seen := true
			if err == nil {
				seen, err = seesStudent(ctx, q, st.ID)
			}
			switch {
			case db.IsNotFound(err), err == nil && !seen: // another office's student: as unknown
				errs.add("student", "Élève inconnu.")
			case err != nil:
				return f, err
			default:
				f.StudentID = &st.ID
			}
		}
	}
	if raw, ok := get(query, "status"); ok {
		f.Statuses = parseStatuses(raw, errs)
	}
	if raw, ok := get(query, "category"); ok {
		if c, known := domain.ParseCategory(raw); known {
			cat := string(c)
			f.Category = &cat
		} else {
			errs.add("category", "Catégorie de permis inconnue. Valeurs possibles : "+categoryList()+".")
		}
	}
	from, fromOK := parseDay(query, "from", errs)
	to, toOK := parseDay(query, "to", errs)
	if fromOK {
		f.FromAt = &from
	}
	if toOK {
		// Inclusive: up to the next Paris midnight (built from the date, right on DST days).
		end := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, domain.Paris)
		f.ToAt = &end
		if fromOK && to.Before(from) {
			errs.add("to", "La date de fin doit être le même jour que la date de début ou après.")
		}
	}
	return f, nil
}

// filterOf reads the report's filters of a query, or the problem naming what is wrong.
func (s *Service) filterOf(ctx context.Context, q *dbq.Queries, school dbq.School, student *int64, query url.Values) (reportFilter, error) {
	var errs fieldErrors
	f, err := parseFilter(ctx, q, school, student, query, &errs)
	if err != nil {
		return f, err
	}
	if err := errs.problem(); err != nil {
		return f, err
	}
	return f, nil
}

// lessonReport reads a page of lessons with the query's filters. student, when set, is the
// student of the path (it then wins over a "student" filter).
func (s *Service) lessonReport(ctx context.Context, school dbq.School, student *int64, query url.Values) (LessonPage, error) {
	q := dbq.New(s.Pool)
	var errs fieldErrors
	f, err := parseFilter(ctx, q, school, student, query, &errs)
	if err != nil {
		return LessonPage{}, err
	}
	params := dbq.LessonReportPageParams{SchoolID: school.ID, OfficeID: f.OfficeID, StudentID: f.StudentID,
		Statuses: f.Statuses, FromAt: f.FromAt, ToAt: f.ToAt, Category: f.Category, OfficeIds: f.OfficeIDs}
	page := parsePositive(query, "page", 1, math.MaxInt32, &errs)
	perPage := parsePositive(query, "per_page", defaultPerPage, maxPerPage, &errs)
	if offset := int64(page-1) * int64(perPage); offset > math.MaxInt32 {
		errs.add("page", "Numéro de page trop grand.")
	} else {
		params.Off, params.Lim = int32(offset), int32(perPage)
	}
	if err := errs.problem(); err != nil {
		return LessonPage{}, err
	}

	rows, err := q.LessonReportPage(ctx, params)
	if err != nil {
		return LessonPage{}, err
	}
	total, err := q.LessonReportCount(ctx, dbq.LessonReportCountParams{SchoolID: params.SchoolID, OfficeID: params.OfficeID,
		StudentID: params.StudentID, Statuses: params.Statuses, FromAt: params.FromAt, ToAt: params.ToAt, Category: params.Category,
		OfficeIds: params.OfficeIds})
	if err != nil {
		return LessonPage{}, err
	}
	items := make([]Lesson, 0, len(rows))
	c := s.clock(school)
	for _, r := range rows {
		items = append(items, newLesson(r.ReportLine, c))
	}
	return LessonPage{Items: items, Page: page, PerPage: perPage, Total: total}, nil
}

// get is a query parameter and whether it was sent at all (an empty one is an error, an
// absent one is no filter).
func get(query url.Values, name string) (string, bool) {
	v, ok := query[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// maxFilterValues caps how many values one filter parameter takes, repeated or
// comma-separated: there are five statuses, and 100,000 of them made a report take 0.56 s
// instead of 3 ms (issue 18's probe).
const maxFilterValues = 50

// checkFilterSizes refuses, with a 400 naming the parameter, a query parameter sent more than
// maxFilterValues times or holding more than maxFilterValues comma-separated values.
func checkFilterSizes(query url.Values) error {
	// In name order, so the answer names the same parameter every time.
	for _, name := range slices.Sorted(maps.Keys(query)) {
		values := query[name]
		if len(values) > maxFilterValues || (len(values) > 0 && strings.Count(values[0], ",") >= maxFilterValues) {
			return BadRequest(fmt.Sprintf("Le paramètre « %s » a trop de valeurs.", name),
				FieldError{Field: name, Message: fmt.Sprintf("%d valeurs au plus.", maxFilterValues)})
		}
	}
	return nil
}

// parseStatuses reads "error" or "pending,error": statuses as a school sees them, each
// matching the stored statuses shown so ("pending" includes the internal "sending").
func parseStatuses(raw string, errs *fieldErrors) []string {
	var out []string
	for _, name := range strings.Split(raw, ",") {
		st := domain.Status(strings.TrimSpace(name))
		sts := domain.ShownAs(st)
		if len(sts) == 0 {
			errs.add("status", "Statut inconnu. Valeurs possibles : pending, transmitted, error, not_eligible, cancelled (plusieurs séparés par des virgules).")
			return nil
		}
		for _, x := range sts {
			out = append(out, string(x))
		}
	}
	return out
}

// parseDay reads a YYYY-MM-DD query parameter as 00:00 Europe/Paris of that day.
func parseDay(query url.Values, name string, errs *fieldErrors) (time.Time, bool) {
	raw, ok := get(query, name)
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
func parsePositive(query url.Values, name string, def, max int, errs *fieldErrors) int {
	raw, ok := get(query, name)
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

// SearchStudents finds students by name (GET /v1/students?q=): accents, case and word order
// ignored.
func (s *Service) SearchStudents(ctx context.Context, school dbq.School, text string) ([]Student, error) {
	if err := Authorize(ctx, domain.PermRead); err != nil {
		return nil, err
	}
	var errs fieldErrors
	raw := errs.cleanText("q", text, true, maxNameLen)
	key := domain.SearchKey(raw)
	if len(errs) == 0 && utf8.RuneCountInString(key) < minSearchLen {
		errs.add("q", "Saisissez au moins 2 caractères du nom ou du prénom.")
	}
	if err := errs.problem(); err != nil {
		return nil, err
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
	rows, err := dbq.New(s.Pool).StudentSearchWords(ctx, dbq.StudentSearchWordsParams{
		SchoolID: school.ID, LongestPattern: likeContains(longest), Patterns: patterns, Lim: maxSearchResults, OfficeIds: officeScope(ctx)})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	ts, err := studentTrainings(ctx, dbq.New(s.Pool), school.ID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Student, 0, len(rows))
	for _, r := range rows {
		out = append(out, newStudent(r.ID, r.Ref, r.OfficeRef, r.FirstName, r.LastName, r.Neph, ts[r.ID]))
	}
	return out, nil
}

// likeContains is a LIKE pattern matching s anywhere, s's own wildcards escaped.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// Runs are an office's runs, newest first, with counts (GET /v1/offices/{ref}/runs).
func (s *Service) Runs(ctx context.Context, school dbq.School, ref string) ([]Run, error) {
	if err := Authorize(ctx, domain.PermRead); err != nil {
		return nil, err
	}
	q := dbq.New(s.Pool)
	office, err := officeByRef(ctx, q, school.ID, ref)
	if err != nil {
		return nil, err
	}
	runs, err := q.RunListByOffice(ctx, dbq.RunListByOfficeParams{SchoolID: school.ID, OfficeID: office.ID, Limit: maxRuns})
	if err != nil {
		return nil, err
	}
	out := make([]Run, 0, len(runs))
	for _, r := range runs {
		out = append(out, newRun(r))
	}
	return out, nil
}

// officeByRef finds an office of the school; an unknown (or impossible) ref is a 404.
func officeByRef(ctx context.Context, q *dbq.Queries, schoolID int64, ref string) (dbq.Office, error) {
	if !ValidLookupRef(ref) {
		return dbq.Office{}, ErrOfficeNotFound
	}
	o, err := q.OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: schoolID, Ref: ref})
	if db.IsNotFound(err) || (err == nil && !seesOffice(ctx, o.ID)) { // another's office: as absent
		return dbq.Office{}, ErrOfficeNotFound
	}
	return o, err
}
