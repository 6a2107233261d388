package school

import (
	"context"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// Settings is the school as its own key sees it (GET /v1/school): never its key.
type Settings struct {
	Name       string  `json:"name"`
	Agrement   string  `json:"agrement"`
	Scope      string  `json:"scope"`
	ScopeLabel string  `json:"scope_label"`
	ClosedAt   *string `json:"closed_at"`
}

func newSettings(s dbq.School) Settings {
	return Settings{Name: s.Name, Agrement: s.Agrement, Scope: s.Scope, ScopeLabel: domain.Scope(s.Scope).Label(),
		ClosedAt: parisTimePtr(s.ClosedAt)}
}

// SettingsInput is the body of PATCH /v1/school: a field left out is left as it is.
type SettingsInput struct {
	Scope *string `json:"scope"`
}

// Settings answers GET /v1/school.
func (s *Service) Settings(ctx context.Context, school dbq.School) (Settings, error) {
	fresh, err := dbq.New(s.Pool).SchoolGet(ctx, school.ID)
	if err != nil {
		return Settings{}, err
	}
	return newSettings(fresh), nil
}

// ChangeSettings applies PATCH /v1/school. A new scope judges the school's lessons not yet at
// the DSR again in the same transaction, so the report tells at once what now goes and what
// no longer does (docs/rules.md, "Scope").
func (s *Service) ChangeSettings(ctx context.Context, school dbq.School, in SettingsInput) (Settings, error) {
	var errs fieldErrors
	var scope domain.Scope
	if in.Scope != nil {
		var ok bool
		if scope, ok = domain.ParseScope(*in.Scope); !ok {
			errs.add("scope", "Périmètre inconnu : « guide » (permis B, leçons de conduite et de simulateur, comme le guide de l'éditeur) ou « etendu » (toutes les catégories et activités transmissibles).")
		}
	}
	if err := errs.problem(); err != nil {
		return Settings{}, err
	}
	var out dbq.School
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		if out, err = q.SchoolGet(ctx, school.ID); err != nil {
			return err
		}
		if in.Scope == nil || out.Scope == string(scope) {
			return nil
		}
		if out, err = q.SchoolSetScope(ctx, dbq.SchoolSetScopeParams{ID: school.ID, Scope: string(scope)}); err != nil {
			return err
		}
		return Reevaluate(ctx, q, school.ID, Scope{})
	})
	if err != nil {
		return Settings{}, err
	}
	if in.Scope != nil {
		s.log().InfoContext(ctx, "school scope set", "school_id", school.ID, "scope", out.Scope)
	}
	return newSettings(out), nil
}
