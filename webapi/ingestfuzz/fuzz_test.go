package ingestfuzz_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"livret/db"
	"livret/db/dbtest"
	"livret/webapi"
	"livret/worker"
)

// Whatever comes in, the API never answers 5xx, a refusal is a complete problem document,
// and a request it does not accept writes nothing. In a plain `go test` the seed corpus
// below (and testdata/fuzz) runs.
//
// Run these targets with a count for both budgets, as .ci/fuzz does:
//
//	go test -run '^$' -fuzz '^FuzzIngestLesson$' -fuzztime 2000x -fuzzminimizetime 50x ./webapi/ingestfuzz
//
// Why the minimisation budget. One execution here is an HTTP request, a transaction and two
// six-table snapshots, a few milliseconds (BenchmarkExecution, below), where a domain parser
// takes microseconds. Go's fuzzer minimises every input that reaches new code before it counts
// any of that work, for up to -fuzzminimizetime (60 s by default), and removing each substring
// of a 200-byte body is thousands of executions, so seconds to a minute. The first seconds of a
// run find new code often, both workers minimise at once, and the coordinator reports "0/sec"
// until they finish: the "581 execs, then 0/sec for 8 s" of a CI run was that, cut off by the
// 10 s -fuzztime, whose end the coordinator then misreported as a failure (its deadline race,
// golang/go#75804). It was no lock, pool or database wait: during such a stall both workers'
// goroutines were in internal/fuzz's minimizeInput, both kept using CPU, each had its own
// database (pgtestdb, made once per process) with one session reading the next query, and
// pg_locks showed no lock waiting. A count (-fuzzminimizetime 50x) bounds each minimisation to
// 50 executions, which also come out of the -fuzztime count.

const adminToken = "operator-token-of-the-ingest-fuzz-target"

// fuzzEnv is the API over real HTTP on a fresh database, with a school that has an office,
// a student and an instructor to refer to.
type fuzzEnv struct {
	api      string
	key      string
	schoolID int64
	snapshot func(t testing.TB) string
}

func newFuzzEnv(tb testing.TB) *fuzzEnv {
	tb.Helper()
	pool := dbtest.New(tb)
	// Never connected: ingestion does not start workflows.
	tc, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		tb.Fatal(err)
	}
	var handler http.Handler = http.NotFoundHandler()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	tb.Cleanup(api.Close)
	srv, err := webapi.New(webapi.Config{PublicURL: api.URL, AdminToken: adminToken, TokenKey: db.NewKeySpec("k1"),
		Pool: pool, Orchestrator: worker.NewOrchestrator(tc), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	handler = srv.Handler()
	e := &fuzzEnv{api: api.URL}

	status, body := e.do(tb, "POST", "/v1/schools", adminToken, `{"name":"Auto-école Fuzz","agrement":"E0203100010"}`)
	var school struct {
		ID  int64  `json:"id"`
		Key string `json:"api_key"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &school) != nil {
		tb.Fatalf("create school: %d %s", status, body)
	}
	e.key, e.schoolID = school.Key, school.ID
	for _, put := range []struct{ path, body string }{
		{"/v1/offices/o", `{"name":"Bureau"}`},
		{"/v1/students/s", `{"office_ref":"o","first_name":"Mélanie","last_name":"Perrin","neph":"123456789012","category":"B","initial_evaluation_accepted":true}`},
		{"/v1/instructors/i", `{"last_name":"Dupont","authorization_number":"A1234567890"}`},
	} {
		if status, body := e.do(tb, "PUT", put.path, e.key, put.body); status != http.StatusOK && status != http.StatusCreated {
			tb.Fatalf("PUT %s: %d %s", put.path, status, body)
		}
	}
	e.snapshot = func(t testing.TB) string {
		return dbtest.Dump(t, pool, e.schoolID, "schools", "offices", "students", "instructors", "lessons", "transmissions")
	}
	return e
}

func (e *fuzzEnv) do(t testing.TB, method, path, key, body string) (int, []byte) {
	req, err := http.NewRequest(method, e.api+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 400 {
		var p struct {
			Type, Title, Detail string
			Status              int
		}
		if ct := resp.Header.Get("Content-Type"); ct != webapi.ProblemContentType || json.NewDecoder(bytes.NewReader(out)).Decode(&p) != nil ||
			p.Status != resp.StatusCode || p.Type == "" || p.Title == "" || p.Detail == "" {
			t.Fatalf("%s %s: %d is not a complete problem: %s %s", method, path, resp.StatusCode, resp.Header.Get("Content-Type"), out)
		}
	}
	return resp.StatusCode, out
}

// checkIngest sends one PUT and checks the invariants.
func checkIngest(t testing.TB, e *fuzzEnv, collection, ref, body string) {
	before := e.snapshot(t)
	status, answer := e.do(t, "PUT", "/v1/"+collection+"/"+url.PathEscape(ref), e.key, body)
	if status >= 500 {
		t.Fatalf("PUT %q %q: %d %s", ref, body, status, answer)
	}
	if status == http.StatusOK || status == http.StatusCreated {
		return
	}
	if e.snapshot(t) != before {
		t.Fatalf("PUT %q %q answered %d but wrote: %s", ref, body, status, answer)
	}
}

func FuzzIngestLesson(f *testing.F) {
	e := newFuzzEnv(f)
	const ok = `{"office_ref":"o","student_ref":"s","instructor_ref":"i","type":"conduite","start":"2021-12-09T15:00:00+01:00","end":"2021-12-09T16:00:00+01:00"}`
	for _, seed := range []struct{ ref, body string }{
		{"l1", ok},
		{"l1", ok}, // replay
		{"l2", strings.Replace(ok, `}`, `,"planned_at":"2021-12-01T09:00:00Z"}`, 1)},
		{"l3", strings.Replace(ok, `}`, `,"planned_at":null}`, 1)},
		{"l4", strings.Replace(ok, `"conduite"`, `"simulateur"`, 1)},
		{"l5", strings.Replace(ok, `16:00:00`, `15:00:00`, 1)},
		{"l6", strings.Replace(ok, `+01:00"}`, `"}`, 1)},
		{"l7", strings.Replace(ok, `"o"`, `"absent"`, 1)},
		{"l8", strings.Replace(ok, `"2021-12-09T15:00:00+01:00"`, `1639058400`, 1)},
		{"l9", strings.Replace(ok, `"2021-12-09T15:00:00+01:00"`, `"9999-12-31T23:59:59+14:00"`, 1)},
		{"l10", strings.Replace(ok, `"2021-12-09T15:00:00+01:00"`, `"0000-01-01T00:00:00-23:59"`, 1)},
		{"l11", strings.Replace(ok, `"conduite"`, `"conduite\u0000"`, 1)},
		{"l12", strings.Replace(ok, `"s"`, `"s\u0000"`, 1)},
		{"l13", ok + ` {}`},
		{"l14", `{"office_ref":"o","office_ref":1}`},
		{"l15", `{"Type":"conduite"}`},
		{"l16", `[` + ok + `]`},
		{"l17", `{"start":{"a":[1,2,{"b":null}]}}`},
		{"l18", `"\ud800"`},
		{"l19", "{\"office_ref\":\"\xff\xfe\"}"},
		{"l20", strings.Repeat(`{"a":`, 10000)},
		{"", ok},
		{"..", ok},
		{"a/b", ok},
		{" l ", ok},
		{"l\x00", ok},
		{strings.Repeat("r", 101), ok},
		{"ééé", ok},
	} {
		f.Add(seed.ref, seed.body)
	}
	f.Fuzz(func(t *testing.T, ref, body string) {
		checkIngest(t, e, "lessons", ref, body)
	})
}

func FuzzIngestStudent(f *testing.F) {
	e := newFuzzEnv(f)
	const ok = `{"office_ref":"o","first_name":"Lou","last_name":"Michel","neph":"210987654321","category":"B","initial_evaluation_accepted":true}`
	for _, seed := range []struct{ ref, body string }{
		{"s2", ok},
		{"s2", ok},
		{"s3", strings.Replace(ok, `"210987654321"`, `""`, 1)},
		{"s4", strings.Replace(ok, `"210987654321"`, `"2109 8765 4321"`, 1)},
		{"s5", strings.Replace(ok, `"210987654321"`, `"21098765432x"`, 1)},
		{"s6", strings.Replace(ok, `"B"`, `"b"`, 1)},
		{"s7", strings.Replace(ok, `true`, `"true"`, 1)},
		{"s8", strings.Replace(ok, `true`, `null`, 1)},
		{"s9", strings.Replace(ok, `"Lou"`, `"\u0000"`, 1)},
		{"s10", strings.Replace(ok, `"Lou"`, `"`+strings.Repeat("L", 300)+`"`, 1)},
		{"s11", strings.Replace(ok, `"o"`, `"autre"`, 1)},
		{"s12", `{}`},
		{"s13", `{"first_name":1e400}`},
		{"s14", `{"neph":12345678901234567890}`},
		{"s15", ok[:len(ok)-1]},
		{"s16", ``},
		{"s", strings.Replace(ok, `"Lou"`, `"Mélanie"`, 1)}, // updates the fixture's student
		{"\t", ok},
		{"%zz", ok},
	} {
		f.Add(seed.ref, seed.body)
	}
	f.Fuzz(func(t *testing.T, ref, body string) {
		checkIngest(t, e, "students", ref, body)
	})
}

// BenchmarkExecution is what one execution of FuzzIngestLesson costs, in parts: the refused
// request, one snapshot, and the whole check (request and two snapshots). Its figures size
// the budgets of .ci/fuzz:
//
//	go test -run '^$' -bench . -benchtime 500x ./webapi/ingestfuzz
func BenchmarkExecution(b *testing.B) {
	e := newFuzzEnv(b)
	refused := `{"office_ref":"o","student_ref":"s","instructor_ref":"i","type":"nope","start":"2021-12-09T15:00:00+01:00","end":"2021-12-09T16:00:00+01:00"}`
	b.Run("request", func(b *testing.B) {
		for b.Loop() {
			e.do(b, "PUT", "/v1/lessons/x", e.key, refused)
		}
	})
	b.Run("snapshot", func(b *testing.B) {
		for b.Loop() {
			e.snapshot(b)
		}
	})
	b.Run("check", func(b *testing.B) {
		for b.Loop() {
			checkIngest(b, e, "lessons", "x", refused)
		}
	})
}
