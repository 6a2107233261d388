package webapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"livret/school"
)

// wantsCSV reads ?format=: absent or "json" is the JSON page, "csv" the export (docs/api.md,
// "Exports").
func wantsCSV(c *gin.Context) (bool, error) {
	switch f, ok := c.GetQuery("format"); {
	case !ok || f == "json":
		return false, nil
	case f == "csv":
		return true, nil
	}
	return false, school.Invalid(school.FieldError{Field: "format", Message: "Format inconnu : « csv » ou « json »."})
}

// exportLessons streams every lesson of the report's filter as CSV (school.LessonExport). The
// filter is checked before anything is written; a failure after the first bytes cuts the
// connection, so the client sees a broken download rather than a file that looks whole.
func (s *Server) exportLessons(c *gin.Context) {
	ctx := c.Request.Context()
	export, err := s.School.ExportLessons(ctx, schoolOf(c), c.Request.URL.Query())
	if err != nil {
		_ = c.Error(err)
		return
	}
	// A school's whole report takes longer to write than an API answer: the server's write
	// timeout is lifted for this response only (ignored where the writer cannot).
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(15 * time.Minute))
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+school.CSVFileName(time.Now())+`"`)
	c.Status(http.StatusOK)
	if n, err := export.WriteCSV(ctx, c.Writer, c.Writer.Flush); err != nil {
		s.log().ErrorContext(ctx, "lesson export cut short", "rows", n, "error", err.Error())
		panic(http.ErrAbortHandler)
	}
}
