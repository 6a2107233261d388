package webui

import (
	"bytes"
	"strings"
	"testing"

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
