package webapi

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Who gets a page and who gets a problem (docs/api.md, "Errors"): a browser gets a French
// HTML page, an API client the problem+json document. A request is a browser's when
//
//   - its path is under /ui (the admin's pages: every answer there is a page), or
//   - it is a GET or a HEAD whose Accept header ranks text/html above JSON: what a browser
//     sends when it navigates, to the OAuth callback (RdvPermis sends the browser back there)
//     or to any other address typed or followed. An API client sends no Accept, "*/*" or a
//     JSON type, and keeps getting problems.
func wantsPage(r *http.Request) bool {
	if r.URL.Path == "/ui" || strings.HasPrefix(r.URL.Path, "/ui/") {
		return true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	return prefersHTML(r.Header.Values("Accept"))
}

// prefersHTML reports whether an Accept header ranks text/html strictly above both JSON
// types (RFC 9110 §12.5.1: each type takes the quality of its most specific matching range).
func prefersHTML(accept []string) bool {
	type rng struct {
		typ, sub string
		q        float64
	}
	var ranges []rng
	for _, line := range accept {
		for _, part := range strings.Split(line, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			typ, sub, ok := strings.Cut(mt, "/")
			if !ok {
				continue
			}
			q := 1.0
			if raw, ok := params["q"]; ok {
				if v, err := strconv.ParseFloat(raw, 64); err == nil && v >= 0 && v <= 1 {
					q = v
				} else {
					q = 0
				}
			}
			ranges = append(ranges, rng{typ, sub, q})
		}
	}
	quality := func(typ, sub string) float64 {
		best, spec := 0.0, -1
		for _, r := range ranges {
			s := -1
			switch {
			case r.typ == typ && r.sub == sub:
				s = 2
			case r.typ == typ && r.sub == "*":
				s = 1
			case r.typ == "*" && r.sub == "*":
				s = 0
			}
			if s > spec {
				best, spec = r.q, s
			}
		}
		return best
	}
	html := quality("text", "html")
	return html > 0 && html > quality("application", "json") && html > quality("application", "problem+json")
}
