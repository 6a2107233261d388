package webui

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"livret/db/dbq"
	"livret/domain"
	"livret/school"
)

// The pages show only what the role may use: the same table as the use cases.
func TestPagesFollowTheRoles(t *testing.T) {
	linked := school.Office{Ref: "nord", Name: "Bureau nord"}
	linked.DSR.Linked = true
	free := school.Office{Ref: "sud", Name: "Bureau sud"}
	render := func(role *domain.Role) string {
		d := pageData{Title: "Bureaux", Nav: "offices", SignedIn: true, Offices: []school.Office{linked, free}}
		if role != nil {
			d.actor = &school.Actor{Kind: school.ActorUser, Role: *role}
		}
		var buf bytes.Buffer
		if err := uiPages["offices"].Execute(&buf, d); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	journal, disconnect, connect := `href="/ui/journal"`, `/ui/offices/nord/disconnect`, `/ui/offices/sud/connect`
	for _, c := range []struct {
		role *domain.Role
		want map[string]bool
	}{
		{nil, map[string]bool{journal: true, disconnect: true, connect: true}},
		{new(domain.RoleGerant), map[string]bool{journal: true, disconnect: true, connect: true}},
		{new(domain.RoleBureau), map[string]bool{journal: false, disconnect: true, connect: true}},
		{new(domain.RoleLecture), map[string]bool{journal: false, disconnect: false, connect: false}},
	} {
		body := render(c.role)
		for s, want := range c.want {
			if strings.Contains(body, s) != want {
				t.Errorf("role %v: %q shown %v, want %v", c.role, s, !want, want)
			}
		}
	}
}

// The handlers answer the use cases' refusals as French pages, with their status: 403 for
// what the role may see but not do, 404 (as an unknown page) for what it may not see. The
// use cases refuse before any database call: the Service here has none.
func TestPagesRefuseByRole(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	p := &Pages{School: &school.Service{}}
	for _, c := range []struct {
		name    string
		role    domain.Role
		handler gin.HandlerFunc
		status  int
		want    string
	}{
		{"lecture disconnects", domain.RoleLecture, p.uiDisconnect, http.StatusForbidden, "ne permet pas cette action"},
		{"lecture resends", domain.RoleLecture, p.uiResend, http.StatusForbidden, "ne permet pas cette action"},
		{"bureau changes the scope", domain.RoleBureau, p.uiChangeSettings, http.StatusForbidden, "Demandez-la au gérant"},
		{"bureau deletes a webhook", domain.RoleBureau, p.uiDeleteWebhook, http.StatusForbidden, "Demandez-la au gérant"},
		{"lecture asks to disconnect", domain.RoleLecture, p.uiDisconnectConfirm, http.StatusForbidden, "ne permet pas cette action"},
		{"bureau opens the journal", domain.RoleBureau, p.uiJournal, http.StatusNotFound, "introuvable"},
		{"lecture opens the journal", domain.RoleLecture, p.uiJournal, http.StatusNotFound, "introuvable"},
	} {
		w := httptest.NewRecorder()
		gc, _ := gin.CreateTestContext(w)
		ctx := school.WithActor(context.Background(), school.Actor{Kind: school.ActorUser, Role: c.role, OfficeIDs: []int64{1}})
		gc.Request = httptest.NewRequest("POST", "/ui/x", strings.NewReader("")).WithContext(ctx)
		gc.Request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		gc.Set(schoolKey, dbq.School{ID: 1, Name: "Auto-école"})
		c.handler(gc)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.want) || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s, want %d with %q", c.name, w.Code, w.Header().Get("Content-Type"), c.status, c.want)
		}
	}
}
