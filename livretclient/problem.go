package livretclient

import (
	"encoding/json"
	"fmt"
	"mime"
	"strings"
)

// Problem is an answer of the API that is not a success: its application/problem+json
// body (RFC 9457) when it has one. Detail and the field messages are French, for the user.
type Problem struct {
	Type   string       `json:"type"` // a stable URN, e.g. urn:livret:problem:validation
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail"`
	Errors []FieldError `json:"errors"`
	// LogoutURL is RdvPermis's logout page (the linking warning, an account of another school).
	LogoutURL string `json:"logout_url,omitempty"`

	// Method and Path are the request that got it.
	Method string `json:"-"`
	Path   string `json:"-"`
}

// FieldError names one bad field (its JSON name, a query parameter or a dependency).
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d", p.Method, p.Path, p.Status)
	if p.Type != "" {
		fmt.Fprintf(&b, " %s", p.Type)
	}
	if p.Detail != "" {
		fmt.Fprintf(&b, ": %s", p.Detail)
	}
	for _, f := range p.Errors {
		fmt.Fprintf(&b, " [%s: %s]", f.Field, f.Message)
	}
	return b.String()
}

// problemOf reads a failed answer. One that is not problem+json (a proxy's page, say) keeps
// the start of its body as Detail, so that the error still says what came back.
func problemOf(method, path string, a Answer) *Problem {
	p := &Problem{}
	if ct, _, _ := mime.ParseMediaType(a.Header.Get("Content-Type")); ct == "application/problem+json" {
		_ = json.Unmarshal(a.Body, p)
	} else {
		const max = 512
		p.Detail = strings.TrimSpace(string(a.Body[:min(len(a.Body), max)]))
	}
	p.Status, p.Method, p.Path = a.Status, method, path
	return p
}
