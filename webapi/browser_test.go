package webapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"livret/db"
	"livret/school"
	"livret/webui"
)

func TestWantsPage(t *testing.T) {
	const chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
	const firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	cases := []struct {
		method, path, accept string
		want                 bool
	}{
		{"GET", "/ui/rien", "", true},
		{"POST", "/ui/logout", "application/json", true},
		{"GET", "/ui", "", true},
		{"GET", "/v1/oauth/callback", chromium, true},
		{"GET", "/v1/oauth/callback", firefox, true},
		{"HEAD", "/v1/rien", firefox, true},
		{"GET", "/v1/oauth/callback", "", false},
		{"GET", "/v1/lessons", "*/*", false},
		{"GET", "/v1/lessons", "application/json", false},
		{"GET", "/v1/lessons", "application/problem+json, text/html", false},
		{"GET", "/v1/lessons", "text/html;q=0.5, application/json", false},
		{"GET", "/v1/lessons", "text/html, application/json;q=0.9", true},
		{"GET", "/v1/lessons", "text/*, */*;q=0.1", true},
		{"GET", "/v1/lessons", "text/html;q=0", false},
		{"POST", "/v1/lessons/x/resend", firefox, false},
		{"GET", "/uix", firefox, true}, // by Accept, not by path
		{"GET", "/uix", "", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.path, nil)
		if c.accept != "" {
			r.Header.Set("Accept", c.accept)
		}
		if got := wantsPage(r); got != c.want {
			t.Errorf("%s %s Accept %q: page %v, want %v", c.method, c.path, c.accept, got, c.want)
		}
	}
}

// TestFailurePage: a failure (here a panic) answers a browser with the French page and its
// request id, and an API client with the problem.
func TestFailurePage(t *testing.T) {
	sealer, err := db.ParseSealer(db.NewKeySpec("k1"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	s := &Server{Logger: logger, Pages: webui.New(&school.Service{Logger: logger}, sealer, logger)}
	r := s.router()
	s.Pages.Mount(r)
	boom := func(*gin.Context) { panic("boum") }
	r.GET("/ui/boum", boom)
	r.GET("/v1/boum", boom)

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/ui/boum", nil)
	req.Header.Set(requestIDHeader, "req-42")
	r.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(body, `lang="fr"`) || !strings.Contains(body, "Erreur interne") || !strings.Contains(body, "req-42") ||
		rec.Header().Get("Content-Security-Policy") == "" {
		t.Fatalf("%d %q:\n%s", rec.Code, rec.Header().Get("Content-Type"), body)
	}

	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/boum", nil))
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Content-Type") != ProblemContentType {
		t.Fatalf("API client: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
