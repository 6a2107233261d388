package webapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/gin-gonic/gin"

	"livret/db/dbq"
	"livret/school"
)

// SchoolKey is where the authenticated school is kept on a request's context, by the API's
// key check and by the pages' session alike.
const SchoolKey = "livret.school"

// bearerToken reads "Authorization: Bearer <token>".
func bearerToken(c *gin.Context) (string, bool) {
	scheme, token, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// requireSchool authenticates a school by one of its named API keys (api_keys). Every
// handler behind it reads and writes through that school only, as the key's actor (gerant
// rights, the key's name in the audit trail).
func (s *Server) requireSchool(c *gin.Context) {
	key, ok := bearerToken(c)
	if !ok {
		_ = c.Error(school.Unauthorized("Clé d'API manquante : envoyez l'en-tête « Authorization: Bearer <clé de l'auto-école> »."))
		c.Abort()
		return
	}
	sc, actor, err := s.School.AuthenticateKey(c.Request.Context(), key)
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	c.Request = c.Request.WithContext(school.WithActor(c.Request.Context(), actor))
	c.Set(SchoolKey, sc)
	c.Next()
}

// schoolOf is the school requireSchool authenticated.
func schoolOf(c *gin.Context) dbq.School { return c.MustGet(SchoolKey).(dbq.School) }

// requireOperator checks the operator's token. Both sides are hashed first so the comparison
// takes the same time whatever the lengths.
func (s *Server) requireOperator(c *gin.Context) {
	token, ok := bearerToken(c)
	if !ok || s.AdminToken == "" {
		_ = c.Error(school.Unauthorized("Jeton d'opérateur manquant : envoyez l'en-tête « Authorization: Bearer <jeton d'opérateur> »."))
		c.Abort()
		return
	}
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(s.AdminToken))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		_ = c.Error(school.Unauthorized("Jeton d'opérateur invalide."))
		c.Abort()
		return
	}
	c.Request = c.Request.WithContext(school.WithActor(c.Request.Context(), operatorActor))
	c.Next()
}

// operatorActor is who the operator's routes act as: the audit trail names them so.
var operatorActor = school.Actor{Kind: school.ActorOperator, Label: "Opérateur Livret"}
