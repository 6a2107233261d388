package webui

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"livret/dsr"
	"livret/school"
)

// TestUIStaticFilesHeaders holds /ui/static/ to the probe of issue 18: no folder is listed
// (a 404 page, whatever spelling of the folder), and a static file carries the pages'
// security headers with a cache lifetime fit for an asset.
func TestUIStaticFilesHeaders(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	(&Pages{School: &school.Service{}}).Mount(r)
	get := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	for _, dir := range []string{"/ui/static/", "/ui/static//", "/ui/static/.", "/ui/static/./", "/ui/static/x/..", "/ui/static/livret.css/"} {
		rec := get("GET", dir)
		if rec.Code != 404 || strings.Contains(rec.Body.String(), `href="livret.css"`) {
			t.Errorf("GET %s: %d, want the 404 page and no listing: %.200s", dir, rec.Code, rec.Body.String())
		}
		if rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: the 404 page lacks its CSP", dir)
		}
	}
	for _, method := range []string{"GET", "HEAD"} {
		rec := get(method, "/ui/static/livret.css")
		h := rec.Header()
		if rec.Code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/css") {
			t.Fatalf("%s livret.css: %d %s", method, rec.Code, h.Get("Content-Type"))
		}
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s livret.css: CSP %q lacks %q", method, csp, want)
			}
		}
		for name, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
			"X-Frame-Options":        "DENY",
			"Cache-Control":          "public, max-age=3600",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s livret.css: %s = %q, want %q", method, name, got, want)
			}
		}
	}
}

// TestUIFormActionCSP: the pages' CSP lets forms (and the redirects that follow them) reach
// Livret and RdvPermis's authorization origin only, not any https: or http: site as it did
// before issue 18. The origin is the dev stack's sandbox, taken from the OAuth config the way
// webapi builds it.
func TestUIFormActionCSP(t *testing.T) {
	gin.SetMode(gin.TestMode)
	oauth := dsr.Config{BaseURL: "http://127.0.0.1:8090/"}.OAuth2()
	r := gin.New()
	(&Pages{School: &school.Service{OAuth: oauth}}).Mount(r)
	for _, path := range []string{"/ui", "/ui/static/livret.css", "/ui/static/absent.css"} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		csp := rec.Header().Get("Content-Security-Policy")
		var formAction string
		for _, d := range strings.Split(csp, ";") {
			if d = strings.TrimSpace(d); strings.HasPrefix(d, "form-action ") {
				formAction = d
			}
		}
		if want := "form-action 'self' http://127.0.0.1:8090"; formAction != want {
			t.Errorf("GET %s (%d): %q, want %q (CSP %q)", path, rec.Code, formAction, want, csp)
		}
	}
	// Without an OAuth config (no RdvPermis to reach), Livret itself only.
	if got := (&Pages{}).formAction(); got != "'self'" {
		t.Errorf("formAction without OAuth = %q", got)
	}
}
