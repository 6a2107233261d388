package webapi

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"livret/school"
)

// People of a school (docs/api.md, "People and keys"): invitations, roles, removal. The use
// cases authorize (domain.PermPeople) and write the audit trail.

func (s *Server) listUsers(c *gin.Context) {
	v, err := s.School.People(c.Request.Context(), schoolOf(c))
	answer(c, http.StatusOK, map[string]any{"items": v}, err)
}

func (s *Server) inviteUser(c *gin.Context) {
	var in school.PersonInput
	if err := decodeStrict(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	v, err := s.School.Invite(c.Request.Context(), schoolOf(c), in)
	answer(c, http.StatusCreated, v, err)
}

func userID(c *gin.Context) int64 {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0
	}
	return id
}

func (s *Server) patchUser(c *gin.Context) {
	var in school.PersonPatch
	if err := decodeStrict(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	v, err := s.School.UpdatePerson(c.Request.Context(), schoolOf(c), userID(c), in)
	answer(c, http.StatusOK, v, err)
}

func (s *Server) deleteUser(c *gin.Context) {
	if err := s.School.RemovePerson(c.Request.Context(), schoolOf(c), userID(c)); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}
