package domain

// Roles and what each may do: the one policy table the API and the pages both read
// (product.md, "People and roles"; docs/api.md, "People and keys"). A school's API keys act
// as RoleGerant, for the management software.

// Role is a person's role in their school.
type Role string

const (
	// RoleGerant may do everything, including people and keys.
	RoleGerant Role = "gerant"
	// RoleBureau works for the offices it is given: reads their reports, resends, links.
	RoleBureau Role = "bureau"
	// RoleLecture reads only.
	RoleLecture Role = "lecture"
)

// Roles in the order the pages list them.
var Roles = []Role{RoleGerant, RoleBureau, RoleLecture}

// RoleLabels are the roles as a school admin reads them.
var RoleLabels = map[Role]string{
	RoleGerant:  "Gérant",
	RoleBureau:  "Bureau",
	RoleLecture: "Lecture seule",
}

// ParseRole reads a role's code.
func ParseRole(s string) (Role, bool) {
	for _, r := range Roles {
		if string(r) == s {
			return r, true
		}
	}
	return "", false
}

// OfficeScoped reports whether the role sees only the offices it is given.
func (r Role) OfficeScoped() bool { return r == RoleBureau }

// Permission is what a route does, in the policy's words.
type Permission string

const (
	// PermRead: see the school's offices, lessons, students, runs, ETP, exports.
	PermRead Permission = "read"
	// PermSend: send lessons data and act on lessons — ingest, cancel, resend, start a run.
	PermSend Permission = "send"
	// PermLink: link an office to a RdvPermis account, or unlink it.
	PermLink Permission = "link"
	// PermSettingsRead: see the school's settings (scope, alert addresses, webhooks).
	PermSettingsRead Permission = "settings.read"
	// PermSettings: change the settings, the scope, the webhooks.
	PermSettings Permission = "settings"
	// PermPeople: invite people, change their roles, remove them.
	PermPeople Permission = "people"
	// PermKeys: create and revoke API keys.
	PermKeys Permission = "keys"
	// PermAudit: read the audit trail.
	PermAudit Permission = "audit"
)

// Access is the policy's answer for a role and a permission.
type Access int

const (
	// Hidden: the role does not know the thing exists; the answer is 404.
	Hidden Access = iota
	// Forbidden: the role may see it but not do it; the answer is 403.
	Forbidden
	// Allowed.
	Allowed
)

// policy is the table. A missing entry is Hidden. For RoleBureau, Allowed applies to the
// offices it is given only: another office's lessons are Hidden.
var policy = map[Permission]map[Role]Access{
	PermRead:         {RoleGerant: Allowed, RoleBureau: Allowed, RoleLecture: Allowed},
	PermSend:         {RoleGerant: Allowed, RoleBureau: Allowed, RoleLecture: Forbidden},
	PermLink:         {RoleGerant: Allowed, RoleBureau: Allowed, RoleLecture: Forbidden},
	PermSettingsRead: {RoleGerant: Allowed, RoleBureau: Allowed, RoleLecture: Allowed},
	PermSettings:     {RoleGerant: Allowed, RoleBureau: Forbidden, RoleLecture: Forbidden},
	PermPeople:       {RoleGerant: Allowed},
	PermKeys:         {RoleGerant: Allowed},
	PermAudit:        {RoleGerant: Allowed},
}

// Permissions lists the policy's permissions, for the table's test and the role × route test.
var Permissions = []Permission{PermRead, PermSend, PermLink, PermSettingsRead, PermSettings, PermPeople, PermKeys, PermAudit}

// AccessOf is what role may do with p.
func AccessOf(role Role, p Permission) Access { return policy[p][role] }
