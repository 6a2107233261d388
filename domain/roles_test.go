package domain

import "testing"

func TestPolicy(t *testing.T) {
	cases := []struct {
		role Role
		perm Permission
		want Access
	}{
		{RoleGerant, PermPeople, Allowed},
		{RoleGerant, PermKeys, Allowed},
		{RoleBureau, PermSend, Allowed},
		{RoleBureau, PermLink, Allowed},
		{RoleBureau, PermSettings, Forbidden},
		{RoleBureau, PermPeople, Hidden},
		{RoleBureau, PermAudit, Hidden},
		{RoleLecture, PermRead, Allowed},
		{RoleLecture, PermSend, Forbidden},
		{RoleLecture, PermLink, Forbidden},
		{RoleLecture, PermKeys, Hidden},
		{Role("inconnu"), PermRead, Hidden},
	}
	for _, c := range cases {
		if got := AccessOf(c.role, c.perm); got != c.want {
			t.Errorf("AccessOf(%s, %s) = %d, want %d", c.role, c.perm, got, c.want)
		}
	}
	// Every permission is in the table, and the gérant may do everything.
	for _, p := range Permissions {
		if _, ok := policy[p]; !ok {
			t.Errorf("permission %s missing from the policy table", p)
		}
		if AccessOf(RoleGerant, p) != Allowed {
			t.Errorf("gerant may not %s", p)
		}
	}
	if len(policy) != len(Permissions) {
		t.Errorf("policy has %d permissions, Permissions lists %d", len(policy), len(Permissions))
	}
	for _, r := range Roles {
		if got, ok := ParseRole(string(r)); !ok || got != r || RoleLabels[r] == "" {
			t.Errorf("role %s: parse %v %v, label %q", r, got, ok, RoleLabels[r])
		}
	}
	if _, ok := ParseRole("admin"); ok {
		t.Error("ParseRole accepted admin")
	}
}
