package webapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"livret/db/dbq"
)

// schoolPage is GET /v1/schools as the operator reads it.
type schoolPage struct {
	Items []struct {
		ID       int64   `json:"id"`
		Agrement string  `json:"agrement"`
		ClosedAt *string `json:"closed_at"`
	} `json:"items"`
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
	Total   int64 `json:"total"`
}

func TestOperatorListsSchools(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école A", "E0000000001")
	e.createSchool("Auto-école B", "E0000000002")
	e.createSchool("Auto-école C", "E0000000003")

	e.do("GET", "/v1/schools", "", nil).wantProblem(t, http.StatusUnauthorized)
	e.do("GET", "/v1/schools", a.Key, nil).wantProblem(t, http.StatusUnauthorized) // a school's key is not the operator's

	var p schoolPage
	e.do("GET", "/v1/schools?per_page=2", adminToken, nil).want(t, http.StatusOK).json(t, &p)
	if p.Total != 3 || len(p.Items) != 2 || p.Items[0].Agrement != "E0000000001" || p.Items[1].Agrement != "E0000000002" || p.Items[0].ClosedAt != nil {
		t.Fatalf("page 1: %+v", p)
	}
	e.do("GET", "/v1/schools?per_page=2&page=2", adminToken, nil).want(t, http.StatusOK).json(t, &p)
	if p.Total != 3 || len(p.Items) != 1 || p.Items[0].Agrement != "E0000000003" || p.Page != 2 {
		t.Fatalf("page 2: %+v", p)
	}
	e.do("GET", "/v1/schools?page=0", adminToken, nil).wantProblem(t, http.StatusUnprocessableEntity)
	body := e.do("GET", "/v1/schools", adminToken, nil).want(t, http.StatusOK).body
	if contains(string(body), a.Key) || contains(string(body), "api_key") {
		t.Fatalf("the list shows a key: %s", body)
	}
}

// TestOperatorReopensAClosedSchool: the lessons refused because the DSR reported the school
// closed wait again; every other refusal stays.
func TestOperatorReopensAClosedSchool(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)
	ctx := context.Background()

	path := "/v1/schools/" + itoa(a.ID) + "/reopen"
	e.do("POST", path, a.Key, nil).wantProblem(t, http.StatusUnauthorized)
	e.do("POST", path, adminToken, nil).wantProblem(t, http.StatusConflict) // open: nothing to reopen
	e.do("POST", "/v1/schools/999999/reopen", adminToken, nil).wantProblem(t, http.StatusNotFound)
	e.do("POST", "/v1/schools/abc/reopen", adminToken, nil).wantProblem(t, http.StatusNotFound)

	closed := "L'auto-école est fermée"
	e.markDSRError(t, e.lessonID(a.ID, "l-1000"), "AUTO_ECOLE_FERMEE", closed)
	e.markDSRError(t, e.lessonID(a.ID, "l-1500"), "AUTO_ECOLE_FERMEE", closed)
	must(t, dbq.New(e.pool).SchoolMarkClosed(ctx, a.ID))
	before := e.lesson(a.Key, "l-1300") // Livret's own refusal (duration)

	var got struct {
		School struct {
			ClosedAt *string `json:"closed_at"`
		} `json:"school"`
		Requeued int `json:"requeued"`
	}
	e.do("POST", path, adminToken, nil).want(t, http.StatusOK).json(t, &got)
	if got.Requeued != 2 || got.School.ClosedAt != nil {
		t.Fatalf("reopen: %+v", got)
	}
	for _, ref := range []string{"l-1000", "l-1500"} {
		if l := e.lesson(a.Key, ref); l.Transmission.Status != "pending" || l.Transmission.Code != nil {
			t.Fatalf("%s after reopen: %+v", ref, l.Transmission)
		}
	}
	if l := e.lesson(a.Key, "l-1300"); l.code() != before.code() || l.Transmission.Status != "error" {
		t.Fatalf("another refusal changed: %+v", l.Transmission)
	}
	sc, err := dbq.New(e.pool).SchoolGet(ctx, a.ID)
	must(t, err)
	if sc.ClosedAt != nil {
		t.Fatal("still closed")
	}
	e.do("POST", path, adminToken, nil).wantProblem(t, http.StatusConflict)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
