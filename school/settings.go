package school

import (
	"context"
	"fmt"
	"slices"

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
	// AlertEmails receive the daily digest of new errors and offices to reconnect.
	AlertEmails []string `json:"alert_emails"`
	// ETPWarningDays is how many days before the DSR's ETP computation the school is warned
	// while hours are at risk (0: never).
	ETPWarningDays int `json:"etp_warning_days"`
}

func newSettings(s dbq.School) Settings {
	emails := s.AlertEmails
	if emails == nil {
		emails = []string{}
	}
	return Settings{Name: s.Name, Agrement: s.Agrement, Scope: s.Scope, ScopeLabel: domain.Scope(s.Scope).Label(),
		ClosedAt: parisTimePtr(s.ClosedAt), AlertEmails: emails, ETPWarningDays: int(s.EtpWarningDays)}
}

// SettingsInput is the body of PATCH /v1/school: a field left out (or null) is left as it is.
type SettingsInput struct {
	Scope *string `json:"scope"`
	// AlertEmails replaces the alert addresses (an empty list: none, no digest).
	AlertEmails *[]string `json:"alert_emails"`
	// ETPWarningDays sets the days of warning before the ETP computation (0 to 20; 0: none).
	ETPWarningDays *int `json:"etp_warning_days"`
}

// MaxETPWarningDays bounds etp_warning_days (the column's CHECK): a warning more than 20 days
// ahead would come before most of the month's lessons.
const MaxETPWarningDays = 20

// AlertEmailsField is the field of the alert addresses; each address is alert_emails[i].
const AlertEmailsField = "alert_emails"

// parseAlertEmails reads the alert addresses: at most domain.MaxAlertEmails, each a bare
// address (domain.NormalizeEmail), lower-cased; the same address twice is kept once.
func parseAlertEmails(in []string, errs *fieldErrors) []string {
	if len(in) > domain.MaxAlertEmails {
		errs.add(AlertEmailsField, fmt.Sprintf("%d adresses d'alerte au plus : vous en avez indiqué %d.", domain.MaxAlertEmails, len(in)))
		return nil
	}
	out := make([]string, 0, len(in))
	for i, raw := range in {
		addr, ok := domain.NormalizeEmail(raw)
		if !ok {
			field := fmt.Sprintf("%s[%d]", AlertEmailsField, i)
			if addr == "" {
				errs.add(field, "Adresse e-mail vide : indiquez une adresse, par exemple gerant@mon-auto-ecole.fr.")
			} else {
				errs.add(field, fmt.Sprintf("« %s » n'est pas une adresse e-mail valide : indiquez une adresse comme gerant@mon-auto-ecole.fr.", clip(addr, 80)))
			}
			continue
		}
		if !slices.Contains(out, addr) {
			out = append(out, addr)
		}
	}
	return out
}

// clip shortens what a message quotes of the input.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Settings answers GET /v1/school.
func (s *Service) Settings(ctx context.Context, school dbq.School) (Settings, error) {
	if err := Authorize(ctx, domain.PermSettingsRead); err != nil {
		return Settings{}, err
	}
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
	if err := Authorize(ctx, domain.PermSettings); err != nil {
		return Settings{}, err
	}
	var errs fieldErrors
	var scope domain.Scope
	if in.Scope != nil {
		var ok bool
		if scope, ok = domain.ParseScope(*in.Scope); !ok {
			errs.add("scope", "Périmètre inconnu : « guide » (permis B, leçons de conduite et de simulateur, comme le guide de l'éditeur) ou « etendu » (toutes les catégories et activités transmissibles).")
		}
	}
	var emails []string
	if in.AlertEmails != nil {
		emails = parseAlertEmails(*in.AlertEmails, &errs)
	}
	if in.ETPWarningDays != nil && (*in.ETPWarningDays < 0 || *in.ETPWarningDays > MaxETPWarningDays) {
		errs.add("etp_warning_days", fmt.Sprintf("Nombre de jours d'avance de l'alerte ETP entre 0 (aucune alerte) et %d.", MaxETPWarningDays))
	}
	if err := errs.problem(); err != nil {
		return Settings{}, err
	}
	var out dbq.School
	emailsChanged := false
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		if out, err = q.SchoolGet(ctx, school.ID); err != nil {
			return err
		}
		if in.AlertEmails != nil && !slices.Equal(out.AlertEmails, emails) {
			emailsChanged = true
			if out, err = q.SchoolSetAlertEmails(ctx, dbq.SchoolSetAlertEmailsParams{ID: school.ID, AlertEmails: emails}); err != nil {
				return err
			}
			if err := audit(ctx, q, school, AuditAlertEmails, alertEmailsObject(len(emails))); err != nil {
				return err
			}
		}
		if in.ETPWarningDays != nil && int(out.EtpWarningDays) != *in.ETPWarningDays {
			if out, err = q.SchoolSetETPWarningDays(ctx, dbq.SchoolSetETPWarningDaysParams{ID: school.ID,
				EtpWarningDays: int32(*in.ETPWarningDays)}); err != nil {
				return err
			}
			if err := audit(ctx, q, school, AuditETPWarning, etpWarningObject(*in.ETPWarningDays)); err != nil {
				return err
			}
		}
		if in.Scope == nil || out.Scope == string(scope) {
			return nil
		}
		if out, err = q.SchoolSetScope(ctx, dbq.SchoolSetScopeParams{ID: school.ID, Scope: string(scope)}); err != nil {
			return err
		}
		if err := audit(ctx, q, school, AuditSchoolScope, "périmètre « "+scope.Label()+" »"); err != nil {
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
	if emailsChanged {
		// The count, not the addresses: a log line carries no personal data it does not need.
		s.log().InfoContext(ctx, "school alert addresses set", "school_id", school.ID, "alert_emails", len(out.AlertEmails))
	}
	return newSettings(out), nil
}
