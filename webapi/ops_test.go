package webapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"livret/db"
	"livret/db/dbq"
	"livret/db/dbtest"
	"livret/dsr"
	"livret/webapi"
	"livret/worker"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var h map[string]string
	e.do("GET", "/healthz", "", nil).want(t, http.StatusOK).json(t, &h)
	if h["status"] != "ok" {
		t.Fatalf("healthz: %v", h)
	}
	e.do("GET", "/readyz", "", nil).want(t, http.StatusOK).json(t, &h)
	if h["status"] != "ok" {
		t.Fatalf("readyz: %v", h)
	}

	// The same API on a database that went away: not ready, and it says which dependency.
	pool := dbtest.New(t)
	down, err := webapi.New(webapi.Config{PublicURL: "http://127.0.0.1:1", AdminToken: "operator-token-of-the-readiness-test", TokenKey: db.NewKeySpec("k"),
		DSR: dsr.Config{BaseURL: e.sandbox.URL}, Pool: pool, Orchestrator: worker.NewOrchestrator(e.temporal),
		Logger: slog.New(slog.DiscardHandler)})
	must(t, err)
	pool.Close()
	rec := newRecorder(down.Handler(), "GET", "/readyz")
	a := answer{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	p := a.wantProblem(t, http.StatusServiceUnavailable)
	if !slices.Equal(p.fields(), []string{"postgres"}) {
		t.Fatalf("readyz on a closed pool: %+v", p)
	}
}

func TestOperatorCreatesSchools(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var s school
	e.do("POST", "/v1/schools", adminToken, map[string]string{"name": " Auto-école des Plesses ", "agrement": "e 0203.1000.10"}).
		want(t, http.StatusCreated).json(t, &s)
	if s.Agrement != agrementA || s.Name != "Auto-école des Plesses" || !regexp.MustCompile(`^lvk_[A-Za-z0-9_-]{43}$`).MatchString(s.Key) {
		t.Fatalf("created %+v", s)
	}
	row, err := dbq.New(e.pool).SchoolGet(context.Background(), s.ID)
	must(t, err)
	if sum := sha256.Sum256([]byte(s.Key)); !bytes.Equal(row.ApiKeyHash, sum[:]) {
		t.Fatal("the stored hash is not the key's SHA-256")
	}
	e.do("GET", "/v1/offices", s.Key, nil).want(t, http.StatusOK)

	cases := []struct {
		name   string
		token  string
		body   string
		status int
		field  string
	}{
		{"no token", "", `{"name":"x","agrement":"E0203100020"}`, 401, ""},
		{"wrong token", "nope", `{"name":"x","agrement":"E0203100020"}`, 401, ""},
		{"school key", s.Key, `{"name":"x","agrement":"E0203100020"}`, 401, ""},
		{"duplicate", adminToken, `{"name":"x","agrement":"E 0203 1000 10"}`, 409, ""},
		{"agrement", adminToken, `{"name":"x","agrement":"F123"}`, 422, "agrement"},
		{"name", adminToken, `{"agrement":"E0203100020"}`, 422, "name"},
		{"unknown field", adminToken, `{"name":"x","agrement":"E0203100020","api_key":"mine"}`, 400, "api_key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := e.do("POST", "/v1/schools", c.token, c.body).wantProblem(t, c.status)
			if c.field != "" && !slices.Equal(p.fields(), []string{c.field}) {
				t.Fatalf("fields %v", p.fields())
			}
		})
	}
	if n := e.count("schools"); n != 1 {
		t.Fatalf("%d schools after refused requests", n)
	}
	if a := e.do("POST", "/v1/schools", "", `{}`); a.header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
}

func TestRouterProblemsAndObservability(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)

	p := e.do("GET", "/v1/nulle-part", a.Key, nil).wantProblem(t, http.StatusNotFound)
	if p.Type != "urn:livret:problem:not-found" {
		t.Fatalf("404: %+v", p)
	}
	ans := e.do("DELETE", "/v1/offices", a.Key, nil)
	ans.wantProblem(t, http.StatusMethodNotAllowed)
	if !strings.Contains(ans.header.Get("Allow"), "GET") {
		t.Fatalf("405 Allow %q", ans.header.Get("Allow"))
	}

	// Request ids: kept when sane, made otherwise, always echoed.
	req, _ := http.NewRequest("GET", e.api.URL+"/healthz", nil)
	req.Header.Set("X-Request-Id", "proxy-42")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.Header.Get("X-Request-Id") != "proxy-42" {
		t.Fatalf("request id %q", resp.Header.Get("X-Request-Id"))
	}
	req.Header.Set("X-Request-Id", `"}{"injected":1`)
	resp, err = http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(resp.Header.Get("X-Request-Id")) {
		t.Fatalf("unsafe request id kept: %q", resp.Header.Get("X-Request-Id"))
	}

	// The access log names routes, never paths, queries or keys.
	e.do("GET", "/v1/lessons?office=ref-tres-secrete", a.Key, nil)
	e.do("PUT", "/v1/offices/bureau-tres-secret", a.Key, map[string]string{"name": "Nom très secret"})
	logs := e.logs.String()
	for _, secret := range []string{"ref-tres-secrete", "bureau-tres-secret", "Nom très secret", a.Key} {
		if strings.Contains(logs, secret) {
			t.Fatalf("the log holds %q", secret)
		}
	}
	for _, want := range []string{`"route":"/v1/lessons"`, `"route":"/v1/offices/:ref"`, `"status":422`, `"request_id":"`} {
		if !strings.Contains(logs, want) {
			t.Fatalf("the log lacks %s:\n%s", want, logs)
		}
	}

	// Prometheus: requests by route template and status, latency histogram.
	metrics := string(e.do("GET", "/metrics", "", nil).want(t, http.StatusOK).body)
	for _, want := range []string{
		`livret_http_requests_total{method="PUT",route="/v1/offices/:ref",status="201"} 1`,
		`livret_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`livret_http_request_duration_seconds_bucket{method="GET",route="/v1/lessons",le=`,
		`go_goroutines`,
		// The state metrics, one process's: the API's (db.StateCollector).
		"livret_db_state_up 1",
		`livret_runs_recent{outcome="failed"} 0`,
		"livret_dsr_accounts_needing_reconnect 0",
	} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
	if strings.Contains(metrics, "bureau-tres-secret") {
		t.Fatal("a ref became a metric label")
	}

	// The OpenAPI document is served.
	var doc map[string]any
	e.do("GET", "/openapi.json", "", nil).want(t, http.StatusOK).json(t, &doc)
	if doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi %v", doc["openapi"])
	}
}
