package webapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// ProblemContentType is RFC 9457's media type.
const ProblemContentType = "application/problem+json"

// FieldError names one bad field of a request and says, in French, what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem: the one shape of every error answer. Detail and field
// messages are French (a school admin reads them); Type and Title are stable for programs.
type Problem struct {
	Type   string
	Title  string
	Status int
	Detail string
	Errors []FieldError
	// Extra members, e.g. "logout_url" on the linking warning.
	Extra map[string]any
}

func (p *Problem) Error() string { return "problem " + p.Type + ": " + p.Detail }

// MarshalJSON writes the RFC 9457 members, then the extension members.
func (p *Problem) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, 5+len(p.Extra))
	for k, v := range p.Extra {
		m[k] = v
	}
	errs := p.Errors
	if errs == nil {
		errs = []FieldError{}
	}
	m["type"], m["title"], m["status"], m["detail"], m["errors"] = p.Type, p.Title, p.Status, p.Detail, errs
	return json.Marshal(m)
}

// Problem types: stable URNs a program can switch on.
const (
	typeBadRequest       = "urn:livret:problem:bad-request"
	typeValidation       = "urn:livret:problem:validation"
	typeUnauthorized     = "urn:livret:problem:unauthorized"
	typeNotFound         = "urn:livret:problem:not-found"
	typeMethodNotAllowed = "urn:livret:problem:method-not-allowed"
	typeTooLarge         = "urn:livret:problem:payload-too-large"
	typeConflict         = "urn:livret:problem:conflict"
	typeAlreadySent      = "urn:livret:problem:lesson-transmitted"
	typeBeingSent        = "urn:livret:problem:lesson-sending"
	typeNotInError       = "urn:livret:problem:lesson-not-in-error"
	typeNotLinked        = "urn:livret:problem:office-not-linked"
	typeLinkWarning      = "urn:livret:problem:link-confirmation-required"
	typeOAuth            = "urn:livret:problem:oauth"
	typeWrongSchool      = "urn:livret:problem:account-of-another-school"
	typeDuplicate        = "urn:livret:problem:duplicate"
	typeUpstream         = "urn:livret:problem:upstream"
	typeUnavailable      = "urn:livret:problem:unavailable"
	typeInternal         = "urn:livret:problem:internal"
)

func badRequest(detail string, fields ...FieldError) *Problem {
	return &Problem{Type: typeBadRequest, Title: "Requête invalide", Status: http.StatusBadRequest, Detail: detail, Errors: fields}
}

// invalid is a 422 listing every bad field.
func invalid(fields ...FieldError) *Problem {
	return &Problem{Type: typeValidation, Title: "Données invalides", Status: http.StatusUnprocessableEntity,
		Detail: "Certaines données sont invalides : voir la liste des champs.", Errors: fields}
}

func unauthorized(detail string) *Problem {
	return &Problem{Type: typeUnauthorized, Title: "Authentification requise", Status: http.StatusUnauthorized, Detail: detail}
}

func notFound(detail string) *Problem {
	return &Problem{Type: typeNotFound, Title: "Introuvable", Status: http.StatusNotFound, Detail: detail}
}

func conflict(typ, detail string) *Problem {
	return &Problem{Type: typ, Title: "Conflit", Status: http.StatusConflict, Detail: detail}
}

func upstream(detail string) *Problem {
	return &Problem{Type: typeUpstream, Title: "RdvPermis injoignable", Status: http.StatusBadGateway, Detail: detail}
}

func unavailable(detail string, fields ...FieldError) *Problem {
	return &Problem{Type: typeUnavailable, Title: "Service indisponible", Status: http.StatusServiceUnavailable, Detail: detail, Errors: fields}
}

var (
	errRouteNotFound = &Problem{Type: typeNotFound, Title: "Introuvable", Status: http.StatusNotFound,
		Detail: "Cette adresse n'existe pas dans l'API Livret."}
	errMethodNotAllowed = &Problem{Type: typeMethodNotAllowed, Title: "Méthode non autorisée", Status: http.StatusMethodNotAllowed,
		Detail: "Cette méthode HTTP n'est pas acceptée à cette adresse."}
	errTooLarge = &Problem{Type: typeTooLarge, Title: "Requête trop volumineuse", Status: http.StatusRequestEntityTooLarge,
		Detail: "Le corps de la requête dépasse la taille maximale acceptée (1 Mio)."}
	errInternal = &Problem{Type: typeInternal, Title: "Erreur interne", Status: http.StatusInternalServerError,
		Detail: "Une erreur interne est survenue. Réessayez plus tard ; si elle persiste, contactez le support en indiquant l'identifiant de la requête (X-Request-Id)."}
)

// renderErrors is the one place an error becomes an answer: handlers call c.Error and
// return. A *Problem is rendered as is; anything else is logged (with the request id, never
// the request's headers or body) and answered with a generic 500.
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
	writeProblem(c, p)
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
