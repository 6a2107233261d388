package webapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The ingestion fuzz targets feed arbitrary refs and bodies to the PUT handlers. Whatever
// comes in, the API never answers 5xx, and a request it does not accept writes nothing. In a
// plain `go test` the seed corpus below runs; `go test -fuzz FuzzIngestLesson ./webapi/`
// explores further.

// fuzzSchool is a school with an office, a student and an instructor to refer to.
func fuzzSchool(f *testing.F) (*env, school) {
	e := newEnvTB(f)
	a := e.createSchool("Auto-école Fuzz", agrementA)
	e.put(a.Key, "/v1/offices/o", map[string]any{"name": "Bureau"})
	e.put(a.Key, "/v1/students/s", map[string]any{"office_ref": "o", "first_name": "Mélanie", "last_name": "Perrin",
		"neph": "123456789012", "category": "B", "initial_evaluation_accepted": true})
	e.put(a.Key, "/v1/instructors/i", map[string]any{"last_name": "Dupont", "authorization_number": "A1234567890"})
	return e, a
}

// checkIngest sends one PUT and checks the two invariants.
func checkIngest(t *testing.T, e *env, a school, collection, ref, body string) {
	te := e.with(t)
	schoolRows := func() string { return te.snapshot(a.ID) }
	before := schoolRows()
	ans := te.do("PUT", "/v1/"+collection+"/"+url.PathEscape(ref), a.Key, body)
	if ans.status >= 500 {
		t.Fatalf("PUT %q %q: %d %s", ref, body, ans.status, ans.body)
	}
	if ans.status == http.StatusOK || ans.status == http.StatusCreated {
		return
	}
	if ans.status >= 400 {
		ans.wantProblem(t, ans.status)
	}
	if schoolRows() != before {
		t.Fatalf("PUT %q %q answered %d but wrote: %s", ref, body, ans.status, ans.body)
	}
}

func FuzzIngestLesson(f *testing.F) {
	e, a := fuzzSchool(f)
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
		checkIngest(t, e, a, "lessons", ref, body)
	})
}

func FuzzIngestStudent(f *testing.F) {
	e, a := fuzzSchool(f)
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
		checkIngest(t, e, a, "students", ref, body)
	})
}
