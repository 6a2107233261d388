package webapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/gin-gonic/gin"

	"livret/db"
	"livret/db/dbq"
)

// APIKeyPrefix marks Livret's school keys, so a leaked one is recognisable (secret scanners,
// logs) and a key pasted in the wrong place is easy to spot.
const APIKeyPrefix = "lvk_"

const schoolKey = "livret.school"

// newAPIKey returns a fresh school key (32 random bytes) and the hash stored in its place.
func newAPIKey() (key string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	key = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return key, apiKeyHash(key)
}

// apiKeyHash is what schools.api_key_hash holds. The key has 256 bits of entropy, so a fast
// hash is safe and lets a request find its school by an indexed equality.
func apiKeyHash(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// bearerToken reads "Authorization: Bearer <token>".
func bearerToken(c *gin.Context) (string, bool) {
	scheme, token, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// requireSchool authenticates a school by its API key. Every handler behind it reads and
// writes through that school only.
func (s *Server) requireSchool(c *gin.Context) {
	key, ok := bearerToken(c)
	if !ok {
		_ = c.Error(unauthorized("Clé d'API manquante : envoyez l'en-tête « Authorization: Bearer <clé de l'auto-école> »."))
		c.Abort()
		return
	}
	school, err := dbq.New(s.Pool).SchoolByAPIKeyHash(c.Request.Context(), apiKeyHash(key))
	if err != nil {
		if db.IsNotFound(err) {
			_ = c.Error(unauthorized("Clé d'API inconnue ou révoquée."))
		} else {
			_ = c.Error(err)
		}
		c.Abort()
		return
	}
	c.Set(schoolKey, school)
	c.Next()
}

// schoolOf is the school requireSchool authenticated.
func schoolOf(c *gin.Context) dbq.School { return c.MustGet(schoolKey).(dbq.School) }

// requireOperator checks the operator's token. Both sides are hashed first so the comparison
// takes the same time whatever the lengths.
func (s *Server) requireOperator(c *gin.Context) {
	token, ok := bearerToken(c)
	if !ok || s.AdminToken == "" {
		_ = c.Error(unauthorized("Jeton d'opérateur manquant : envoyez l'en-tête « Authorization: Bearer <jeton d'opérateur> »."))
		c.Abort()
		return
	}
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(s.AdminToken))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		_ = c.Error(unauthorized("Jeton d'opérateur invalide."))
		c.Abort()
		return
	}
	c.Next()
}
