package webapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"livret/db/dbq"
	livschool "livret/school"
)

// TestSchoolsAreIsolated: for every route a school key opens, school B's key on school A's
// objects answers as if they did not exist, and changes nothing of A's.
func TestSchoolsAreIsolated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)
	office := e.office(a.ID, officeLauriane)
	_, err := dbq.New(e.pool).RunRecord(context.Background(), dbq.RunRecordParams{SchoolID: a.ID, OfficeID: office.ID,
		WorkflowID: "w", RunID: "r", BusinessDate: time.Now(), StartedAt: time.Now(), Transmitted: 1, Outcome: "completed"})
	must(t, err)
	// A DSR refusal of A's, which B's "resend everything" must not reach.
	e.markDSRError(t, e.lessonID(a.ID, "l-1000"), "ELEVE_INTROUVABLE", "refusée")
	hook := map[string]any{"url": "https://logiciel.example.fr/livret", "events": []string{"lesson.error", "run.completed"}}
	e.put(a.Key, "/v1/webhooks/erp", hook)
	b := e.createSchool("Auto-école B", agrementB)
	e.put(b.Key, "/v1/offices/b-office", map[string]any{"name": "Bureau de B"})

	// A person of A's, whom B can neither see, change nor remove.
	aSchool, err := e.srv.School.Authenticate(context.Background(), a.Key)
	must(t, err)
	aPerson, err := e.srv.School.AddPerson(context.Background(), aSchool, livschool.PersonInput{Email: "gerant@lauriane.fr", Role: "gerant"}, "un mot de passe de A")
	must(t, err)
	aPersonPath := "/v1/users/" + itoa(aPerson.ID)
	aKeys, err := dbq.New(e.pool).ApiKeyList(context.Background(), a.ID)
	must(t, err)
	aKeyID := fmt.Sprint(aKeys[0].ID)

	aLesson := map[string]any{"office_ref": officeLauriane, "student_ref": "melanie", "instructor_ref": "jean", "type": "conduite",
		"start": "2021-12-09T10:00:00+01:00", "end": "2021-12-09T11:00:00+01:00"}
	before := e.snapshot(a.ID)

	type call struct {
		route  string // METHOD /template, as the OpenAPI document names it
		path   string
		body   any
		status int
		check  func(t *testing.T, ans answer)
	}
	fields := func(want ...string) func(*testing.T, answer) {
		return func(t *testing.T, ans answer) {
			if got := ans.wantProblem(t, http.StatusUnprocessableEntity).fields(); !slices.Equal(got, want) {
				t.Fatalf("fields %v, want %v", got, want)
			}
		}
	}
	// In this order: B's own objects with A's refs are created last, so that the lookups above
	// them cannot find B's.
	calls := []call{
		{"GET /v1/school", "/v1/school", nil, 200, func(t *testing.T, ans answer) {
			if m := ans.object(t); m["name"] != "Auto-école B" || m["agrement"] == agrementA {
				t.Fatalf("B's settings: %s", ans.body)
			}
		}},
		// B's scope is B's: A's lessons are not judged again (the snapshot below checks).
		{"PATCH /v1/school", "/v1/school", map[string]any{"scope": "etendu"}, 200, func(t *testing.T, ans answer) {
			if m := ans.object(t); m["scope"] != "etendu" {
				t.Fatalf("B's new scope: %s", ans.body)
			}
		}},
		{"GET /v1/offices", "/v1/offices", nil, 200, func(t *testing.T, ans answer) {
			if strings.Contains(string(ans.body), officeLauriane) || !strings.Contains(string(ans.body), "b-office") {
				t.Fatalf("B's offices: %s", ans.body)
			}
		}},
		{"GET /v1/offices/{ref}", "/v1/offices/" + officeLauriane, nil, 404, nil},
		{"GET /v1/offices/{ref}/dsr/connect", "/v1/offices/" + officeLauriane + "/dsr/connect?confirm=1", nil, 404, nil},
		{"POST /v1/offices/{ref}/dsr/disconnect", "/v1/offices/" + officeLauriane + "/dsr/disconnect", nil, 404, nil},
		{"GET /v1/offices/{ref}/runs", "/v1/offices/" + officeLauriane + "/runs", nil, 404, nil},
		{"POST /v1/offices/{ref}/runs", "/v1/offices/" + officeLauriane + "/runs", nil, 404, nil},
		{"GET /v1/students", "/v1/students?q=melanie", nil, 200, func(t *testing.T, ans answer) {
			if strings.TrimSpace(string(ans.body)) != "[]" {
				t.Fatalf("B finds %s", ans.body)
			}
		}},
		{"GET /v1/students/{ref}/lessons", "/v1/students/melanie/lessons", nil, 404, nil},
		{"GET /v1/lessons", "/v1/lessons", nil, 200, func(t *testing.T, ans answer) {
			var p lessonPage
			ans.json(t, &p)
			if p.Total != 0 || len(p.Items) != 0 {
				t.Fatalf("B's report: %s", ans.body)
			}
		}},
		{"GET /v1/lessons", "/v1/lessons?office=" + officeLauriane, nil, 422, fields("office")},
		{"GET /v1/lessons", "/v1/lessons?student=melanie", nil, 422, fields("student")},
		{"GET /v1/lessons/{ref}", "/v1/lessons/l-1000", nil, 404, nil},
		// The ETP: B's own figures, none of A's; A's office is absent for B.
		{"GET /v1/etp", "/v1/etp?at=2021-12-20", nil, 200, func(t *testing.T, ans answer) {
			if m := ans.object(t); len(m["instructors"].([]any)) != 0 || strings.Contains(string(ans.body), "jean") {
				t.Fatalf("B's ETP: %s", ans.body)
			}
		}},
		{"GET /v1/etp", "/v1/etp?office=" + officeLauriane, nil, 404, nil},
		{"POST /v1/lessons/resend", "/v1/lessons/resend", map[string]any{"office": officeLauriane}, 422, fields("office")},
		{"POST /v1/lessons/resend", "/v1/lessons/resend", map[string]any{"student": "melanie"}, 422, fields("student")},
		{"POST /v1/lessons/resend", "/v1/lessons/resend", map[string]any{}, 200, func(t *testing.T, ans answer) {
			if m := ans.object(t); m["resent"] != float64(0) {
				t.Fatalf("B's resend of everything: %s", ans.body)
			}
		}},
		{"POST /v1/lessons/{ref}/cancel", "/v1/lessons/l-1000/cancel", nil, 404, nil},
		// The audit trail: A's link is not in B's (B has only its own rows).
		{"GET /v1/audit", "/v1/audit", nil, 200, func(t *testing.T, ans answer) {
			if body := string(ans.body); strings.Contains(body, "office.link") || strings.Contains(body, officeLauriane) {
				t.Fatalf("B's audit trail: %s", ans.body)
			}
		}},
		{"GET /v1/webhooks", "/v1/webhooks", nil, 200, func(t *testing.T, ans answer) {
			if strings.TrimSpace(string(ans.body)) != "[]" {
				t.Fatalf("B's subscriptions: %s", ans.body)
			}
		}},
		{"GET /v1/webhooks/{ref}/deliveries", "/v1/webhooks/erp/deliveries", nil, 404, nil},
		{"POST /v1/webhooks/{ref}/test", "/v1/webhooks/erp/test", nil, 404, nil},
		{"DELETE /v1/webhooks/{ref}", "/v1/webhooks/erp", nil, 404, nil},
		{"GET /v1/users", "/v1/users", nil, 200, func(t *testing.T, ans answer) {
			if strings.Contains(string(ans.body), "gerant@lauriane.fr") {
				t.Fatalf("B's people: %s", ans.body)
			}
		}},
		{"POST /v1/users", "/v1/users", map[string]any{"email": "b@ecole-b.fr", "role": "bureau", "office_refs": []string{officeLauriane}}, 422, fields("office_refs")},
		{"PATCH /v1/users/{id}", aPersonPath, map[string]any{"role": "lecture"}, 404, nil},
		{"DELETE /v1/users/{id}", aPersonPath, nil, 404, nil},
		{"POST /v1/lessons/{ref}/resend", "/v1/lessons/l-1300/resend", nil, 404, nil},
		// B's keys are B's: A's is neither listed nor revocable (A's key still works below).
		{"GET /v1/api-keys", "/v1/api-keys", nil, 200, func(t *testing.T, ans answer) {
			var keys []struct {
				ID int64 `json:"id"`
			}
			ans.json(t, &keys)
			if len(keys) != 1 || keys[0].ID == aKeys[0].ID {
				t.Fatalf("B's keys: %s", ans.body)
			}
		}},
		{"DELETE /v1/api-keys/{id}", "/v1/api-keys/" + aKeyID, nil, 404, nil},
		{"PUT /v1/students/{ref}", "/v1/students/lou", map[string]any{"office_ref": officeLauriane, "first_name": "X",
			"last_name": "Y", "category": "B"}, 422, fields("office_ref")},
		{"PUT /v1/lessons/{ref}", "/v1/lessons/l-1000", aLesson, 422, fields("office_ref", "student_ref", "instructor_ref")},
		// A batch resolves refs as its PUTs do: A's are unknown to B, item by item.
		{"POST /v1/batch", "/v1/batch", map[string]any{
			"students": []any{map[string]any{"ref": "lou", "office_ref": officeLauriane, "first_name": "X", "last_name": "Y", "category": "B"}},
			"lessons":  []any{withRef("l-1000", aLesson)},
		}, 200, func(t *testing.T, ans answer) {
			var out batchResult
			ans.json(t, &out)
			want := [][]string{{"office_ref"}, {"office_ref", "student_ref", "instructor_ref"}}
			if len(out.Results) != 2 {
				t.Fatalf("B's batch: %s", ans.body)
			}
			for i, r := range out.Results {
				if r.Status != 422 || !slices.Equal(r.fields(), want[i]) {
					t.Fatalf("B's batch item %d: %+v", i, r)
				}
			}
		}},
		// Refs are per school: B's PUT on a ref A uses creates B's own object (201, not A's 200).
		{"PUT /v1/offices/{ref}", "/v1/offices/" + officeLauriane, map[string]any{"name": "Homonyme"}, 201, nil},
		{"PUT /v1/instructors/{ref}", "/v1/instructors/jean", map[string]any{"last_name": "Homonyme", "authorization_number": "A9999999999"}, 201, nil},
		{"PUT /v1/students/{ref}", "/v1/students/melanie", map[string]any{"office_ref": officeLauriane, "first_name": "Homonyme",
			"last_name": "B", "category": "B", "neph": "999999999999"}, 201, nil},
		{"PUT /v1/webhooks/{ref}", "/v1/webhooks/erp", hook, 201, func(t *testing.T, ans answer) {
			if m := ans.object(t); m["secret"] == nil {
				t.Fatalf("B's subscription: %s", ans.body)
			}
		}},
		{"POST /v1/api-keys", "/v1/api-keys", map[string]any{"name": "Logiciel de B"}, 201, nil},
		{"PUT /v1/lessons/{ref}", "/v1/lessons/l-1300", aLesson, 201, func(t *testing.T, ans answer) {
			var l lesson
			ans.json(t, &l)
			if l.code() != "BUREAU_NON_CONNECTE" || l.Student.FirstName != "Homonyme" {
				t.Fatalf("B's lesson: %+v", l)
			}
		}},
	}
	covered := map[string]bool{}
	for _, c := range calls {
		covered[c.route] = true
		method, _, _ := strings.Cut(c.route, " ")
		ans := e.do(method, c.path, b.Key, c.body)
		switch {
		case c.check != nil && c.status != 200 && c.status != 201:
			c.check(t, ans)
		case c.status == 404:
			ans.wantProblem(t, http.StatusNotFound)
		default:
			ans.want(t, c.status)
			if c.check != nil {
				c.check(t, ans)
			}
		}
		if after := e.snapshot(a.ID); after != before {
			t.Fatalf("%s %s with B's key changed A's rows", c.route, c.path)
		}
	}
	// A still sees exactly its own.
	if k, err := dbq.New(e.pool).ApiKeyList(context.Background(), a.ID); err != nil || len(k) != 1 || k[0].RevokedAt != nil {
		t.Fatalf("A's keys after B's requests: %+v, %v", k, err)
	}
	if got := e.lessons(a.Key, ""); got.Total != 4 || e.lesson(a.Key, "l-1300").Student.FirstName != "Mélanie" {
		t.Fatalf("A's report after B's requests: %+v", got)
	}

	// Every route a school key opens is in the table above.
	var doc struct {
		Paths map[string]map[string]struct {
			Security []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	must(t, json.Unmarshal(e.do("GET", "/openapi.json", "", nil).body, &doc))
	var missing []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			for _, sec := range op.Security {
				if _, ok := sec["schoolKey"]; ok && !covered[strings.ToUpper(method)+" "+path] {
					missing = append(missing, strings.ToUpper(method)+" "+path)
				}
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("routes with a school key not in the isolation table: %v", missing)
	}
	if n := len(covered); n != 34 {
		t.Fatalf("%d school routes covered, api.md has 34", n)
	}
}

// TestEveryRouteChecksItsKey: every route the OpenAPI document marks as needing a key
// answers 401 without one, with an unknown one, and with the other kind of key.
func TestEveryRouteChecksItsKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	var doc struct {
		Paths map[string]map[string]struct {
			Security []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	must(t, json.Unmarshal(e.do("GET", "/openapi.json", "", nil).body, &doc))
	checked := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			for _, sec := range op.Security {
				wrongKind := adminToken
				if _, operator := sec["operatorToken"]; operator {
					wrongKind = a.Key
				}
				p := strings.ReplaceAll(strings.ReplaceAll(path, "{ref}", "x"), "{id}", "1")
				for _, key := range []string{"", "lvk_inconnue", wrongKind} {
					e.do(strings.ToUpper(method), p, key, `{}`).wantProblem(t, http.StatusUnauthorized)
				}
				checked++
			}
		}
	}
	if checked != 37 {
		t.Fatalf("%d routes with a key, want 37 (34 of a school, 3 of the operator)", checked)
	}
}
