package school

import (
	"context"
	"encoding/csv"
	"io"
	"math"
	"net/url"
	"strings"
	"time"

	"livret/db/dbq"
	"livret/domain"
)

// exportPage is how many lessons the export reads at a time: memory stays flat whatever the
// school holds.
const exportPage = 500

// LessonExport is every lesson of a report filter, read page after page (GET
// /v1/lessons?format=csv, docs/api.md "Exports").
type LessonExport struct {
	s      *Service
	school dbq.School
	filter reportFilter
}

// ExportLessons checks the report's filters of a query (the same as GET /v1/lessons; paging
// parameters do not apply) and returns the export, before anything is written.
func (s *Service) ExportLessons(ctx context.Context, school dbq.School, query url.Values) (*LessonExport, error) {
	if err := Authorize(ctx, domain.PermRead); err != nil {
		return nil, err
	}
	f, err := s.filterOf(ctx, dbq.New(s.Pool), school, nil, query)
	if err != nil {
		return nil, err
	}
	return &LessonExport{s: s, school: school, filter: f}, nil
}

// Each calls fn for every lesson of the filter, newest first, as the report shows them. Pages
// are read after a cursor, each in its own statement: a lesson written meanwhile may or may
// not be in the export, none is listed twice.
func (e *LessonExport) Each(ctx context.Context, fn func(Lesson) error) error {
	q := dbq.New(e.s.Pool)
	c := e.s.clock(e.school)
	p := dbq.LessonReportAfterParams{SchoolID: e.school.ID, OfficeID: e.filter.OfficeID, StudentID: e.filter.StudentID,
		Statuses: e.filter.Statuses, FromAt: e.filter.FromAt, ToAt: e.filter.ToAt, Category: e.filter.Category,
		OfficeIds: e.filter.OfficeIDs,
		// After the last possible lesson (years are bounded at entry, see maxLessonYear).
		BeforeStart: time.Date(maxLessonYear+1, 1, 1, 0, 0, 0, 0, time.UTC), BeforeID: math.MaxInt64, Lim: exportPage}
	for {
		rows, err := q.LessonReportAfter(ctx, p)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(newLesson(r.ReportLine, c)); err != nil {
				return err
			}
		}
		if len(rows) < exportPage {
			return nil
		}
		last := rows[len(rows)-1].ReportLine
		p.BeforeStart, p.BeforeID = last.StartsAt, last.ID
	}
}

// The report as a spreadsheet, as Excel opens it in France: ';' between fields, UTF-8 with a
// byte-order mark, French headers. The API (GET /v1/lessons?format=csv) and the pages'
// "Exporter (CSV)" write the same file.

// CSVFileName is the download's name, dated in Paris.
func CSVFileName(now time.Time) string {
	return "livret-lecons-" + now.In(domain.Paris).Format(time.DateOnly) + ".csv"
}

// csvHeader are the export's columns: the report's, and what a spreadsheet needs beside them.
var csvHeader = []string{"Référence", "Bureau", "Date et heure", "Début", "Fin", "Type de leçon", "Catégorie",
	"Élève", "Réf. élève", "Réf. formateur", "Séance collective", "Transmission", "Code", "Message", "Indication",
	"Transmise le", "Identifiant DSR"}

// csvFlushEvery bounds what waits in memory before it goes to the client.
const csvFlushEvery = exportPage

// WriteCSV writes the export to w, calling flush after every page so that the download goes
// as it is read. It returns how many lessons it wrote.
func (e *LessonExport) WriteCSV(ctx context.Context, w io.Writer, flush func()) (int, error) {
	cw, err := newCSV(w, csvHeader)
	if err != nil {
		return 0, err
	}
	n := 0
	err = e.Each(ctx, func(l Lesson) error {
		if err := cw.Write(csvRow(l)); err != nil {
			return err
		}
		if n++; n%csvFlushEvery == 0 {
			cw.Flush()
			flush()
		}
		return cw.Error()
	})
	if err != nil {
		return n, err
	}
	cw.Flush()
	return n, cw.Error()
}

// newCSV starts a file as Excel opens it in France: the byte-order mark, ';' between fields,
// the French header. Every export of Livret's writes through it.
func newCSV(w io.Writer, header []string) (*csv.Writer, error) {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	return cw, cw.Write(header)
}

func csvRow(l Lesson) []string {
	t := l.Transmission
	return safeCells([]string{l.Ref, l.OfficeRef, l.Slot, l.Start, l.End, l.TypeLabel, l.CategoryLabel,
		strings.TrimSpace(l.Student.FirstName + " " + l.Student.LastName), l.Student.Ref, l.InstructorRef, deref(l.SessionRef),
		domain.Status(t.Status).Label(), deref(t.Code), deref(t.Message), deref(t.Hint), deref(t.TransmittedAt),
		deref(t.DSRLessonID)})
}

// safeCells guards against formula injection: a name typed in a management software as
// "=HYPERLINK(…)" must not run when the school opens the file in a spreadsheet (OWASP, "CSV
// Injection"): a cell that a spreadsheet would read as a formula is prefixed with a quote.
func safeCells(cells []string) []string {
	for i, v := range cells {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			cells[i] = "'" + v
		}
	}
	return cells
}
