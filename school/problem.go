package school

import (
	"encoding/json"
	"net/http"
)

// FieldError names one bad field of a request and says, in French, what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem is why a use case refused: the one shape of every refusal, whichever door it came
// through. The API renders it as RFC 9457 problem+json (docs/api.md, "Errors"), the pages as
// a French page. Detail and field messages are French (a school admin reads them); Type and
// Title are stable for programs; Status is the HTTP status both doors answer with.
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

// Message is the detail followed by every field's message: what a page shows.
func (p *Problem) Message() string {
	msg := p.Detail
	for _, f := range p.Errors {
		msg += " " + f.Message
	}
	return msg
}

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
	TypeBadRequest       = "urn:livret:problem:bad-request"
	TypeValidation       = "urn:livret:problem:validation"
	TypeUnauthorized     = "urn:livret:problem:unauthorized"
	TypeNotFound         = "urn:livret:problem:not-found"
	TypeMethodNotAllowed = "urn:livret:problem:method-not-allowed"
	TypeTooLarge         = "urn:livret:problem:payload-too-large"
	TypeConflict         = "urn:livret:problem:conflict"
	TypeAlreadySent      = "urn:livret:problem:lesson-transmitted"
	TypeBeingSent        = "urn:livret:problem:lesson-sending"
	TypeNotInError       = "urn:livret:problem:lesson-not-in-error"
	TypeNotLinked        = "urn:livret:problem:office-not-linked"
	TypeLinkWarning      = "urn:livret:problem:link-confirmation-required"
	TypeOAuth            = "urn:livret:problem:oauth"
	TypeWrongSchool      = "urn:livret:problem:account-of-another-school"
	TypeDuplicate        = "urn:livret:problem:duplicate"
	TypeNotClosed        = "urn:livret:problem:school-not-closed"
	TypeUpstream         = "urn:livret:problem:upstream"
	TypeUnavailable      = "urn:livret:problem:unavailable"
	TypeInternal         = "urn:livret:problem:internal"
)

// BadRequest is a 400: the request itself is malformed.
func BadRequest(detail string, fields ...FieldError) *Problem {
	return &Problem{Type: TypeBadRequest, Title: "Requête invalide", Status: http.StatusBadRequest, Detail: detail, Errors: fields}
}

// Invalid is a 422 listing every bad field.
func Invalid(fields ...FieldError) *Problem {
	return &Problem{Type: TypeValidation, Title: "Données invalides", Status: http.StatusUnprocessableEntity,
		Detail: "Certaines données sont invalides : voir la liste des champs.", Errors: fields}
}

// Unauthorized is a 401: no key, or an unknown one.
func Unauthorized(detail string) *Problem {
	return &Problem{Type: TypeUnauthorized, Title: "Authentification requise", Status: http.StatusUnauthorized, Detail: detail}
}

// NotFound is a 404; another school's object answers it too, as if absent.
func NotFound(detail string) *Problem {
	return &Problem{Type: TypeNotFound, Title: "Introuvable", Status: http.StatusNotFound, Detail: detail}
}

// Conflict is a 409 of the given type.
func Conflict(typ, detail string) *Problem {
	return &Problem{Type: typ, Title: "Conflit", Status: http.StatusConflict, Detail: detail}
}

// Upstream is a 502: RdvPermis did not answer.
func Upstream(detail string) *Problem {
	return &Problem{Type: TypeUpstream, Title: "RdvPermis injoignable", Status: http.StatusBadGateway, Detail: detail}
}

// Unavailable is a 503: a dependency of Livret's (Temporal, PostgreSQL) did not answer.
func Unavailable(detail string, fields ...FieldError) *Problem {
	return &Problem{Type: TypeUnavailable, Title: "Service indisponible", Status: http.StatusServiceUnavailable, Detail: detail, Errors: fields}
}

// The refusals several use cases share.
var (
	ErrOfficeNotFound  = NotFound("Bureau introuvable.")
	ErrLessonNotFound  = NotFound("Leçon introuvable.")
	ErrStudentNotFound = NotFound("Élève introuvable.")
	ErrSchoolNotFound  = NotFound("Auto-école introuvable.")
)
