package webapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"livret/school"
)

// ProblemContentType is RFC 9457's media type.
const ProblemContentType = "application/problem+json"

// The use-case layer's refusals are the API's problems (docs/api.md, "Errors").
type (
	Problem    = school.Problem
	FieldError = school.FieldError
)

func badRequest(detail string, fields ...FieldError) *Problem {
	return school.BadRequest(detail, fields...)
}

func unavailable(detail string, fields ...FieldError) *Problem {
	return school.Unavailable(detail, fields...)
}

var (
	errRouteNotFound = &Problem{Type: school.TypeNotFound, Title: "Introuvable", Status: http.StatusNotFound,
		Detail: "Cette adresse n'existe pas dans l'API Livret."}
	errMethodNotAllowed = &Problem{Type: school.TypeMethodNotAllowed, Title: "Méthode non autorisée", Status: http.StatusMethodNotAllowed,
		Detail: "Cette méthode HTTP n'est pas acceptée à cette adresse."}
	errTooLarge = &Problem{Type: school.TypeTooLarge, Title: "Requête trop volumineuse", Status: http.StatusRequestEntityTooLarge,
		Detail: "Le corps de la requête dépasse la taille maximale acceptée (1 Mio)."}
	errBatchTooLarge = &Problem{Type: school.TypeTooLarge, Title: "Requête trop volumineuse", Status: http.StatusRequestEntityTooLarge,
		Detail: "Le corps de la requête dépasse la taille maximale acceptée pour un lot (4 Mio) : envoyez-le en plusieurs lots."}
	errInternal = &Problem{Type: school.TypeInternal, Title: "Erreur interne", Status: http.StatusInternalServerError,
		Detail: "Une erreur interne est survenue. Réessayez plus tard ; si elle persiste, contactez le support en indiquant l'identifiant de la requête (X-Request-Id)."}
)

// renderErrors is the one place an error becomes an answer: handlers call c.Error and
// return. A *Problem is rendered as is; anything else is logged (with the request id, never
// the request's headers or body) and answered with a generic 500. A browser's request
// (wantsPage) gets the pages' French HTML page for the problem, an API client problem+json.
func (s *Server) renderErrors(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	err := c.Errors.Last().Err
	var p *Problem
	if !errors.As(err, &p) {
		s.log().ErrorContext(c.Request.Context(), "request failed",
			"request_id", requestID(c), "route", routeOf(c), "error", err.Error())
		p = errInternal
	}
	if s.Pages != nil && wantsPage(c.Request) {
		s.Pages.Problem(c, p)
		return
	}
	writeProblem(c, p)
}

// tooLargeProblem is the 413 of a body over limit bytes (MaxBodyBytes, or MaxBatchBodyBytes
// on POST /v1/batch).
func tooLargeProblem(limit int64) *Problem {
	if limit == MaxBatchBodyBytes {
		return errBatchTooLarge
	}
	return errTooLarge
}

func writeProblem(c *gin.Context, p *Problem) {
	body, err := json.Marshal(p)
	if err != nil { // only an unmarshalable Extra could do this: a bug, still answered
		body, _ = json.Marshal(errInternal)
		p = errInternal
	}
	if p.Status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="livret"`)
	}
	c.Header("Cache-Control", "no-store")
	c.Data(p.Status, ProblemContentType, body)
}
