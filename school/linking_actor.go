package school

import (
	"context"

	"livret/db/dbq"
)

// The OAuth callback comes back from RdvPermis without a key or a session: whoever started
// the linking (the actor of Connect's request) is kept with the state, so the link is
// audited in their name.

// stateActorParams fills OAuthStateCreate's actor columns from ctx's actor; a context
// without one (Livret's own work) leaves them NULL.
func stateActorParams(ctx context.Context, p *dbq.OAuthStateCreateParams) {
	a, ok := ActorOf(ctx)
	if !ok {
		return
	}
	kind, label := string(a.Kind), a.Label
	p.ActorKind, p.ActorLabel = &kind, &label
	if a.UserID != 0 {
		p.UserID = &a.UserID
	}
	if a.APIKeyID != 0 {
		p.ApiKeyID = &a.APIKeyID
	}
}

// StateActor is who started the linking a consumed state belongs to, to put on the
// callback's context (WithActor) before its audit row is written; false for a state that
// names nobody (started before migration 00013, or by Livret itself). The actor carries no
// role: it is for the audit trail, not for a permission check.
func StateActor(st dbq.OauthState) (Actor, bool) {
	if st.ActorKind == nil {
		return Actor{}, false
	}
	a := Actor{SchoolID: st.SchoolID, Kind: ActorKind(*st.ActorKind)}
	if st.ActorLabel != nil {
		a.Label = *st.ActorLabel
	}
	if st.UserID != nil {
		a.UserID = *st.UserID
	}
	if st.ApiKeyID != nil {
		a.APIKeyID = *st.ApiKeyID
	}
	return a, true
}
