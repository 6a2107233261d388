package webapi_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestAuditTrail: linking and unlinking an office each write a row of the trail, which GET
// /v1/audit pages newest first as GET /v1/lessons does, and the journal page shows in French.
// Another school sees none of it.
func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	a := linkedSchool(e)
	b := e.createSchool("Auto-école Autre", agrementB)
	e.do("POST", "/v1/offices/"+officeLauriane+"/dsr/disconnect", a.Key, nil).want(t, http.StatusOK)
	// A refused action writes nothing: disconnecting an unknown office.
	e.do("POST", "/v1/offices/inconnu/dsr/disconnect", a.Key, nil).want(t, http.StatusNotFound)

	type entry struct{ At, Actor, Action, Object string }
	var page struct {
		Items   []entry `json:"items"`
		Page    int     `json:"page"`
		PerPage int     `json:"per_page"`
		Total   int64   `json:"total"`
	}
	e.do("GET", "/v1/audit?per_page=1", a.Key, nil).want(t, http.StatusOK).json(t, &page)
	if page.Total != 2 || len(page.Items) != 1 || page.Page != 1 || page.PerPage != 1 || page.Items[0].Action != "office.unlink" {
		t.Fatalf("audit page 1: %+v", page)
	}
	if page.Items[0].Object != "bureau AE LAURIANE ("+officeLauriane+")" || page.Items[0].At == "" || page.Items[0].Actor != "Clé principale" {
		t.Errorf("unlink row: %+v", page.Items[0])
	}
	e.do("GET", "/v1/audit?per_page=1&page=2", a.Key, nil).want(t, http.StatusOK).json(t, &page)
	if len(page.Items) != 1 || page.Items[0].Action != "office.link" || page.Items[0].Actor != "Clé principale" {
		// The link completed on the callback, which has no key: the row names the key that
		// started it, kept with the OAuth state.
		t.Fatalf("audit page 2: %+v", page)
	}
	e.do("GET", "/v1/audit?page=0", a.Key, nil).wantProblem(t, http.StatusUnprocessableEntity)
	e.do("GET", "/v1/audit", b.Key, nil).want(t, http.StatusOK).json(t, &page)
	if page.Total != 0 || len(page.Items) != 0 {
		t.Fatalf("another school's trail: %+v", page)
	}

	ui := e.uiAgent(t)
	ui.signIn(a.Key)
	p := ui.get("/ui/journal").want(t, http.StatusOK)
	p.has(t, "<h1>Journal</h1>", "a délié le bureau", "a relié le bureau", "bureau AE LAURIANE ("+officeLauriane+")", `href="/ui/journal"`)
	ui.get("/ui/journal?"+url.Values{"page": {"abc"}}.Encode()).want(t, http.StatusUnprocessableEntity)
}
