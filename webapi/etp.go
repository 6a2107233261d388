package webapi

import (
	"bytes"
	"net/http"

	"github.com/gin-gonic/gin"

	"livret/school"
)

// getETP is GET /v1/etp (docs/api.md, "ETP"): the figures of an office, or of the school,
// for the next computation; ?format=csv gives their rows, one per instructor and group.
func (s *Server) getETP(c *gin.Context) {
	csv, err := wantsCSV(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	r, err := s.School.ETP(c.Request.Context(), schoolOf(c), c.Request.URL.Query())
	if err != nil {
		_ = c.Error(err)
		return
	}
	if !csv {
		c.JSON(http.StatusOK, r)
		return
	}
	// A few rows per instructor: written whole, then sent, so a failure is still a problem.
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+school.ETPCSVFileName(r)+`"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
