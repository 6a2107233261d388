package school

import (
	"context"
	"net/http"
	"slices"

	"livret/db/dbq"
	"livret/domain"
)

// Actor is who asks: a person signed in on the pages, one of the school's API keys (the
// management software, with gerant rights), or the operator. The doors (webapi's key check,
// webui's session) put it on the request's context with WithActor; the use cases read it to
// apply the one policy table (domain.AccessOf) and to write the audit trail.
type Actor struct {
	SchoolID int64
	Kind     ActorKind
	// UserID is set for a person, APIKeyID for a key.
	UserID   int64
	APIKeyID int64
	// Label is the person's e-mail or the key's name: what the audit trail shows.
	Label string
	Role  domain.Role
	// OfficeIDs are the offices a bureau person works for; nil for the other roles, who
	// see every office of their school.
	OfficeIDs []int64
}

// ActorKind is audit_log.actor_kind.
type ActorKind string

const (
	ActorUser     ActorKind = "user"
	ActorAPIKey   ActorKind = "api_key"
	ActorOperator ActorKind = "operator"
	// ActorSystem is Livret itself (a workflow, the worker): never a door's caller.
	ActorSystem ActorKind = "system"
)

type actorKey struct{}

// WithActor is ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf is the actor on ctx. A context without one is Livret's own work (the worker, a
// test calling a use case directly) and acts as the school's gerant.
func ActorOf(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// SeesOffice reports whether the actor may see the office at all.
func (a Actor) SeesOffice(officeID int64) bool {
	return !a.Role.OfficeScoped() || slices.Contains(a.OfficeIDs, officeID)
}

// Forbidden is a 403: the role may see this but not do it.
func Forbidden(detail string) *Problem {
	return &Problem{Type: TypeForbidden, Title: "Action non autorisée", Status: http.StatusForbidden, Detail: detail}
}

// TypeForbidden is the problem type of a refusal by role.
const TypeForbidden = "urn:livret:problem:forbidden"

// errHidden answers what the actor's role may not see: as if it did not exist.
var errHidden = NotFound("Page ou ressource introuvable.")

// Authorize applies the policy table to the actor of ctx for p: nil when allowed, a 404 when
// the role may not see it, a 403 when it may see it but not do it. A context without an actor
// is Livret's own work and allowed. Office-scoped roles are checked per office by
// AuthorizeOffice.
func Authorize(ctx context.Context, p domain.Permission) error {
	a, ok := ActorOf(ctx)
	if !ok {
		return nil
	}
	switch domain.AccessOf(a.Role, p) {
	case domain.Allowed:
		return nil
	case domain.Forbidden:
		return Forbidden("Votre rôle (" + domain.RoleLabels[a.Role] + ") ne permet pas cette action. Demandez-la au gérant de l'auto-école.")
	default:
		return errHidden
	}
}

// AuthorizeOffice is Authorize for an action on one office's data: another office than a
// bureau person's answers notFound (as if absent), whatever the permission.
func AuthorizeOffice(ctx context.Context, p domain.Permission, officeID int64, notFound *Problem) error {
	if a, ok := ActorOf(ctx); ok && !a.SeesOffice(officeID) {
		return notFound
	}
	return Authorize(ctx, p)
}

// audit writes one row of the audit trail in the caller's transaction, so the row exists if
// and only if the action committed. action is a stable code (e.g. "office.link"), object
// what it was done to (e.g. "bureau B1").
func audit(ctx context.Context, q *dbq.Queries, school dbq.School, action, object string) error {
	a, ok := ActorOf(ctx)
	if !ok {
		a = Actor{Kind: ActorSystem, Label: "Livret"}
	}
	p := dbq.AuditInsertParams{SchoolID: school.ID, ActorKind: string(a.Kind), ActorLabel: a.Label, Action: action, Object: object}
	if a.UserID != 0 {
		p.UserID = &a.UserID
	}
	if a.APIKeyID != 0 {
		p.ApiKeyID = &a.APIKeyID
	}
	return q.AuditInsert(ctx, p)
}
