package webapi

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"livret/school"
)

// The school's named API keys (docs/api.md, "People and keys"): thin handlers over the use
// cases of school/apikeys.go, which authorize (gerant) and audit.

// createAPIKey is POST /v1/api-keys: the key is in this answer only.
func (s *Server) createAPIKey(c *gin.Context) {
	var in school.APIKeyInput
	if err := decodeStrict(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	v, err := s.School.CreateAPIKey(c.Request.Context(), schoolOf(c), in)
	c.Header("Cache-Control", "no-store") // the key must not linger in a cache
	answer(c, http.StatusCreated, v, err)
}

// listAPIKeys is GET /v1/api-keys: never a key nor its hash.
func (s *Server) listAPIKeys(c *gin.Context) {
	v, err := s.School.APIKeys(c.Request.Context(), schoolOf(c))
	answer(c, http.StatusOK, v, err)
}

// revokeAPIKey is DELETE /v1/api-keys/{id}: the key answers 401 from the next request on.
func (s *Server) revokeAPIKey(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		_ = c.Error(school.ErrAPIKeyNotFound)
		return
	}
	if _, err := s.School.RevokeAPIKey(c.Request.Context(), schoolOf(c), id); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}
