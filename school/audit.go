package school

import (
	"context"
	"math"
	"net/url"
	"strconv"

	"livret/db/dbq"
	"livret/domain"
)

// The audit trail (product.md, "People and roles"): who linked, unlinked, resent, invited or
// revoked what, and when. Each row is written by audit (actor.go) in the action's own
// transaction, so it exists if and only if the action committed.

// Audit actions: stable codes, stored in audit_log.action and answered by GET /v1/audit.
const (
	AuditOfficeLink    = "office.link"
	AuditOfficeUnlink  = "office.unlink"
	AuditLessonResend  = "lesson.resend"
	AuditLessonsResend = "lessons.resend"
	AuditLessonCancel  = "lesson.cancel"
	AuditSchoolScope   = "school.scope"
	AuditAlertEmails   = "school.alert_emails"
	AuditETPWarning    = "school.etp_warning"
	AuditWebhookPut    = "webhook.put"
	AuditWebhookDelete = "webhook.delete"
	// Written by the people and keys use cases.
	AuditUserInvite   = "user.invite"
	AuditUserRole     = "user.role"
	AuditUserRemove   = "user.remove"
	AuditAPIKeyCreate = "api_key.create"
	AuditAPIKeyRevoke = "api_key.revoke"
)

// AuditLabels are the actions as the journal page says them, after the actor's name.
var AuditLabels = map[string]string{
	AuditOfficeLink:    "a relié le bureau",
	AuditOfficeUnlink:  "a délié le bureau",
	AuditLessonResend:  "a renvoyé la leçon",
	AuditLessonsResend: "a renvoyé les leçons refusées",
	AuditLessonCancel:  "a annulé la leçon",
	AuditSchoolScope:   "a changé le périmètre",
	AuditAlertEmails:   "a changé les adresses d'alerte",
	AuditETPWarning:    "a changé l'alerte ETP",
	AuditWebhookPut:    "a enregistré le webhook",
	AuditWebhookDelete: "a supprimé le webhook",
	AuditUserInvite:    "a invité",
	AuditUserRole:      "a changé le rôle de",
	AuditUserRemove:    "a retiré",
	AuditAPIKeyCreate:  "a créé la clé d'API",
	AuditAPIKeyRevoke:  "a révoqué la clé d'API",
}

// AuditLabel is an action's French label; an unknown code (a newer Livret's) shows as is.
func AuditLabel(action string) string {
	if l, ok := AuditLabels[action]; ok {
		return l
	}
	return action
}

// AuditEntry is one row of the trail (GET /v1/audit).
type AuditEntry struct {
	At     string `json:"at"`
	Actor  string `json:"actor"`
	Action string `json:"action"`
	Object string `json:"object"`
}

// AuditPage is a page of the trail, newest first, in the shape of the other paged listings.
type AuditPage struct {
	Items   []AuditEntry `json:"items"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
	Total   int64        `json:"total"`
}

// AuditTrail is a page of the school's audit trail, newest first (GET /v1/audit; page,
// per_page as the report's).
func (s *Service) AuditTrail(ctx context.Context, school dbq.School, query url.Values) (AuditPage, error) {
	if err := Authorize(ctx, domain.PermAudit); err != nil {
		return AuditPage{}, err
	}
	var errs fieldErrors
	page := parsePositive(query, "page", 1, math.MaxInt32, &errs)
	perPage := parsePositive(query, "per_page", defaultPerPage, maxPerPage, &errs)
	offset := int64(page-1) * int64(perPage)
	if offset > math.MaxInt32 {
		errs.add("page", "Numéro de page trop grand.")
	}
	if err := errs.problem(); err != nil {
		return AuditPage{}, err
	}
	q := dbq.New(s.Pool)
	rows, err := q.AuditList(ctx, dbq.AuditListParams{SchoolID: school.ID, Lim: int32(perPage), Off: int32(offset)})
	if err != nil {
		return AuditPage{}, err
	}
	total, err := q.AuditCount(ctx, school.ID)
	if err != nil {
		return AuditPage{}, err
	}
	out := AuditPage{Items: make([]AuditEntry, 0, len(rows)), Page: page, PerPage: perPage, Total: total}
	for _, r := range rows {
		out.Items = append(out.Items, AuditEntry{At: parisTime(r.At), Actor: r.ActorLabel, Action: r.Action, Object: r.Object})
	}
	return out, nil
}

// What the rows name: as the school reads it, by its own references.

func officeObject(o dbq.Office) string { return "bureau " + o.Name + " (" + o.Ref + ")" }

func lessonObject(ref string) string { return "leçon " + ref }

func webhookObject(ref, url string) string { return "webhook " + ref + " (" + url + ")" }

func lessonsObject(n int, f ResendFilter) string {
	s := strconv.Itoa(n) + " leçon"
	if n > 1 {
		s += "s"
	}
	for _, part := range []struct{ label, v string }{{"bureau", f.Office}, {"élève", f.Student}, {"du", f.From}, {"au", f.To}, {"catégorie", f.Category}} {
		if part.v != "" {
			s += ", " + part.label + " " + part.v
		}
	}
	return s
}

func alertEmailsObject(n int) string {
	switch n {
	case 0:
		return "aucune adresse"
	case 1:
		return "1 adresse"
	}
	return strconv.Itoa(n) + " adresses"
}

func etpWarningObject(days int) string {
	if days == 0 {
		return "aucune alerte"
	}
	return strconv.Itoa(days) + " jours avant le calcul"
}
