package school_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"livret/domain"
	"livret/school"
)

// useCasePolicy names, for every exported method of *school.Service, the permission of the
// policy table (domain.AccessOf) it starts by checking, or why it checks none. A method added
// without an entry fails TestEveryUseCaseHasAPermission: nobody can forget the check.
var useCasePolicy = map[string]struct {
	perm domain.Permission
	none string // why no actor check, when perm is empty
}{
	"Offices":           {perm: domain.PermRead},
	"Office":            {perm: domain.PermRead},
	"Lesson":            {perm: domain.PermRead},
	"Lessons":           {perm: domain.PermRead},
	"StudentLessons":    {perm: domain.PermRead},
	"SearchStudents":    {perm: domain.PermRead},
	"Runs":              {perm: domain.PermRead},
	"ETP":               {perm: domain.PermRead},
	"ETPAtRisk":         {perm: domain.PermRead},
	"ExportLessons":     {perm: domain.PermRead},
	"ResendableCount":   {perm: domain.PermRead}, // the N shown on the report
	"StartRun":          {perm: domain.PermSend},
	"ResendLesson":      {perm: domain.PermSend},
	"ResendLessons":     {perm: domain.PermSend},
	"CancelLesson":      {perm: domain.PermSend},
	"PutOffice":         {perm: domain.PermSend},
	"PutInstructor":     {perm: domain.PermSend},
	"PutStudent":        {perm: domain.PermSend},
	"PutLesson":         {perm: domain.PermSend},
	"Batch":             {perm: domain.PermSend},
	"Connect":           {perm: domain.PermLink},
	"Disconnect":        {perm: domain.PermLink},
	"Settings":          {perm: domain.PermSettingsRead},
	"Webhooks":          {perm: domain.PermSettingsRead},
	"WebhookDeliveries": {perm: domain.PermSettingsRead},
	"ChangeSettings":    {perm: domain.PermSettings},
	"PutWebhook":        {perm: domain.PermSettings},
	"DeleteWebhook":     {perm: domain.PermSettings},
	"TestWebhook":       {perm: domain.PermSettings},
	"AuditTrail":        {perm: domain.PermAudit},
	"ConnectFrom":       {perm: domain.PermLink},
	"People":            {perm: domain.PermPeople},
	"Invite":            {perm: domain.PermPeople},
	"AddPerson":         {perm: domain.PermPeople},
	"UpdatePerson":      {perm: domain.PermPeople},
	"RemovePerson":      {perm: domain.PermPeople},
	"APIKeys":           {perm: domain.PermKeys},
	"CreateAPIKey":      {perm: domain.PermKeys},
	"RevokeAPIKey":      {perm: domain.PermKeys},

	"Authenticate":       {none: "the API's door itself: it finds the school of a key, before any actor exists"},
	"SchoolByID":         {none: "the pages' door: it reads the school of a session, before any actor exists"},
	"Callback":           {none: "RdvPermis sends the browser back without a key or a session: the single-use state is the authority"},
	"CreateSchool":       {none: "operator's route (requireOperator), no school role applies"},
	"Schools":            {none: "operator's route (requireOperator), no school role applies"},
	"ReopenSchool":       {none: "operator's route (requireOperator), no school role applies"},
	"CallbackFrom":       {none: "Callback bound to the browser that started the link: the state and its binding cookie are the authority"},
	"AuthenticateKey":    {none: "the API's door itself: it finds the key's school and actor, before any actor exists"},
	"SignIn":             {none: "the pages' sign-in: it finds the person, before any actor exists"},
	"PersonForSession":   {none: "the pages' door: it reloads a session's person, before any actor exists"},
	"RequestReset":       {none: "\"Mot de passe oublié\": anyone may ask, the same answer whether the address exists"},
	"CheckLink":          {none: "an e-mailed link's token is the authority (invitation or reset)"},
	"UseLink":            {none: "an e-mailed link's token is the authority (invitation or reset)"},
	"ETPNextComputation": {none: "a date computed from the deployment's window: no school data"},
}

func TestEveryUseCaseHasAPermission(t *testing.T) {
	typ := reflect.TypeFor[*school.Service]()
	seen := map[string]bool{}
	for m := range typ.Methods() {
		seen[m.Name] = true
		e, ok := useCasePolicy[m.Name]
		switch {
		case !ok:
			t.Errorf("(*school.Service).%s has no entry in useCasePolicy: name the permission it checks with Authorize, or why it checks none", m.Name)
		case e.perm == "" && e.none == "":
			t.Errorf("useCasePolicy[%q] names neither a permission nor why there is none", m.Name)
		case e.perm != "" && !isPermission(e.perm):
			t.Errorf("useCasePolicy[%q] names %q, not a permission of domain.Permissions", m.Name, e.perm)
		}
	}
	for name := range useCasePolicy {
		if !seen[name] {
			t.Errorf("useCasePolicy names %s, which *school.Service no longer has", name)
		}
	}
}

func isPermission(p domain.Permission) bool {
	for _, q := range domain.Permissions {
		if q == p {
			return true
		}
	}
	return false
}

// TestUseCasesRefuseByRole calls every use case with a permission, as each role the table
// refuses it to, on a Service with no database at all: the refusal must come first (a use
// case that forgot its Authorize reaches for the nil pool and panics), with the table's
// status: 404 for what the role may not see, 403 for what it may see but not do.
func TestUseCasesRefuseByRole(t *testing.T) {
	svc := &school.Service{}
	v := reflect.ValueOf(svc)
	refused := 0
	for name, e := range useCasePolicy {
		if e.perm == "" {
			continue
		}
		m := v.MethodByName(name)
		if !m.IsValid() {
			continue // TestEveryUseCaseHasAPermission says so
		}
		for _, role := range domain.Roles {
			access := domain.AccessOf(role, e.perm)
			if access == domain.Allowed {
				continue
			}
			want := http.StatusNotFound
			if access == domain.Forbidden {
				want = http.StatusForbidden
			}
			ctx := school.WithActor(context.Background(), school.Actor{SchoolID: 1, Kind: school.ActorUser, UserID: 1,
				Label: "x@example.fr", Role: role, OfficeIDs: []int64{1}})
			err := callRefused(m, ctx)
			var p *school.Problem
			if !errors.As(err, &p) || p.Status != want {
				t.Errorf("%s as %s (%s): got %v, want a %d problem", name, role, e.perm, err, want)
				continue
			}
			refused++
		}
	}
	// lecture: send×9, link×2, settings×4, audit; bureau: settings×4, audit.
	if refused < 20 {
		t.Errorf("only %d refusals checked: the table lost entries", refused)
	}
}

// callRefused calls m with ctx and zero values, and returns its error (the last result).
func callRefused(m reflect.Value, ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panicked (no Authorize before the database?): %v", r)
		}
	}()
	mt := m.Type()
	args := make([]reflect.Value, mt.NumIn())
	for i := range args {
		if i == 0 {
			args[i] = reflect.ValueOf(ctx)
			continue
		}
		args[i] = reflect.Zero(mt.In(i))
	}
	out := m.Call(args)
	last := out[len(out)-1]
	if last.IsNil() {
		return nil
	}
	return last.Interface().(error)
}
