package webapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// listAudit is GET /v1/audit: the school's audit trail, newest first, paged as the report.
// Only a gerant (and the school's keys) reads it; the use case refuses the others.
func (s *Server) listAudit(c *gin.Context) {
	page, err := s.School.AuditTrail(c.Request.Context(), schoolOf(c), c.Request.URL.Query())
	answer(c, http.StatusOK, page, err)
}
