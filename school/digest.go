package school

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// The daily e-mail digest (docs/architecture.md, "Events, webhooks and digests"): what a
// school's alert addresses read each morning of the events no digest reported yet — the
// lessons refused since the last digest that are still in error, the offices whose RdvPermis
// account needs a new login, the hours at risk. Composed and stored in one transaction with
// the events it takes, so that sending it (activities.SendDigest) can be retried, and a day
// has one digest whatever the number of attempts.

const (
	// DigestLessonsListed bounds the lessons a digest lists one by one (the report has them all).
	DigestLessonsListed = 50
	// digestEventsTaken bounds the events one digest takes; the rest wait for the next one.
	digestEventsTaken = 50000
	// digestEtpListed bounds the hours-at-risk events a digest lists.
	digestEtpListed = 50
)

// DigestRequest names the digest of one school and one Paris day.
type DigestRequest struct {
	SchoolID int64
	// Day is the Paris day the digest is of (YYYY-MM-DD): one digest per school and day.
	Day string
	// PublicURL is where the admin pages are served (LIVRET_PUBLIC_URL); "" leaves the
	// links out.
	PublicURL string
}

// DigestMessageID is the Message-ID of a school's digest of a day: the same on every
// attempt, so a receiver can tell a message sent again from a new one.
func DigestMessageID(schoolID int64, day string) string {
	return fmt.Sprintf("<digest-%d-%s@livret>", schoolID, day)
}

// ClaimDigest returns the school's digest of the day: the one stored, or else a new one,
// composed from the events no digest has taken yet and stored with them, in one
// transaction. ok is false, and nothing is written, when there is nothing new to say: no
// alert address, no event, or every lesson the events report is out of error again, no
// office they name still needs a new login and no hours are at risk. Those events stay
// untaken: the next digest counts them among the fixed ones.
//
// Two claims of one school at once are serialised by a lock on the school's row: the second
// sees the first's digest (or the events it took).
func ClaimDigest(ctx context.Context, pool db.Beginner, req DigestRequest) (digest dbq.Digest, ok bool, err error) {
	day, err := domain.ParseBusinessDate(req.Day)
	if err != nil {
		return dbq.Digest{}, false, fmt.Errorf("digest of school %d: day %q: %w", req.SchoolID, req.Day, err)
	}
	// The column is a date: give pgx the calendar day, whatever the zone.
	dbDay := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	err = db.WithTx(ctx, pool, func(q *dbq.Queries) error {
		school, err := q.SchoolLockForDigest(ctx, req.SchoolID)
		if err != nil {
			return err
		}
		digest, err = q.DigestGet(ctx, dbq.DigestGetParams{SchoolID: req.SchoolID, Day: dbDay})
		if err == nil {
			ok = true
			return nil
		}
		if !db.IsNotFound(err) {
			return err
		}
		if len(school.AlertEmails) == 0 {
			return nil
		}
		seqs, err := q.OutboxListUndigested(ctx, dbq.OutboxListUndigestedParams{SchoolID: req.SchoolID, Lim: digestEventsTaken})
		if err != nil || len(seqs) == 0 {
			return err
		}
		c, err := readDigest(ctx, q, school, seqs)
		if err != nil || c.empty() {
			return err
		}
		c.Day = domain.FrenchDate(day)
		c.ShortDay = day.Format("02/01/2006")
		if base := strings.TrimRight(req.PublicURL, "/"); base != "" {
			c.ReportURL = base + "/ui/lessons?tab=erreurs"
			c.OfficesURL = base + "/ui/offices"
			c.SettingsURL = base + "/ui/parametres"
		}
		subject, text, html, err := renderDigest(c)
		if err != nil {
			return err
		}
		digest, err = q.DigestInsert(ctx, dbq.DigestInsertParams{SchoolID: req.SchoolID, Day: dbDay,
			Recipients: school.AlertEmails, Subject: subject, TextBody: text, HtmlBody: html,
			MessageID: DigestMessageID(req.SchoolID, req.Day)})
		if err != nil {
			return err
		}
		if _, err := q.OutboxTakeForDigest(ctx, dbq.OutboxTakeForDigestParams{DigestID: &digest.ID, SchoolID: req.SchoolID, Seqs: seqs}); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return dbq.Digest{}, false, err
	}
	return digest, ok, nil
}

// digestContent is what a digest says, ready for its templates.
type digestContent struct {
	School, Day, ShortDay string

	// Errors: the reported lessons still in error, by their code now.
	InError  int
	Fixed    int
	Codes    []digestCode
	Lessons  []digestLesson
	MoreLess int // lessons in error not listed

	Offices []digestOffice
	Etp     []digestEtp
	MoreEtp int

	ReportURL, OfficesURL, SettingsURL string
}

type digestCode struct {
	Code, Message, Hint string
	Lessons             int
}

type digestLesson struct {
	When, Student, Office, Code, Message string
}

type digestOffice struct {
	Name, Ref, Account string
}

type digestEtp struct {
	When   string
	Fields []digestField
}

type digestField struct{ Label, Value string }

func (c digestContent) empty() bool {
	return c.InError == 0 && len(c.Offices) == 0 && len(c.Etp) == 0
}

// readDigest reads what the events seqs report, as things are now.
func readDigest(ctx context.Context, q *dbq.Queries, school dbq.School, seqs []int64) (digestContent, error) {
	c := digestContent{School: school.Name}
	counts, err := q.DigestErrorCounts(ctx, dbq.DigestErrorCountsParams{SchoolID: school.ID, Seqs: seqs})
	if err != nil {
		return c, err
	}
	for _, row := range counts {
		if !row.InError {
			c.Fixed += int(row.Lessons)
			continue
		}
		c.InError += int(row.Lessons)
		code := domain.Code(row.Code)
		c.Codes = append(c.Codes, digestCode{Code: row.Code, Message: code.Message(), Hint: code.Hint(), Lessons: int(row.Lessons)})
	}
	if c.InError > 0 {
		lessons, err := q.DigestErrorLessons(ctx, dbq.DigestErrorLessonsParams{SchoolID: school.ID, Seqs: seqs, Lim: DigestLessonsListed})
		if err != nil {
			return c, err
		}
		for _, l := range lessons {
			c.Lessons = append(c.Lessons, digestLesson{When: domain.FormatLessonSlot(l.StartsAt, l.EndsAt),
				Student: strings.TrimSpace(l.FirstName + " " + l.LastName), Office: l.OfficeName, Code: l.Code, Message: l.Message})
		}
		c.MoreLess = c.InError - len(c.Lessons)
	}
	offices, err := q.DigestOfficesToReconnect(ctx, dbq.DigestOfficesToReconnectParams{SchoolID: school.ID, Seqs: seqs})
	if err != nil {
		return c, err
	}
	for _, o := range offices {
		c.Offices = append(c.Offices, digestOffice{Name: o.Name, Ref: o.Ref, Account: o.AccountEmail})
	}
	etp, err := q.DigestEtpEvents(ctx, dbq.DigestEtpEventsParams{SchoolID: school.ID, Seqs: seqs, Lim: digestEtpListed})
	if err != nil {
		return c, err
	}
	for _, e := range etp {
		c.Etp = append(c.Etp, digestEtp{When: e.CreatedAt.In(domain.Paris).Format("02/01/2006 15:04"), Fields: etpFields(e.Data)})
		c.MoreEtp = int(e.Total) - len(etp)
	}
	return c, nil
}

// etpLabels name the fields an etp.at_risk event may carry. The event is not written yet
// (the ETP computation comes later): its data is shown field by field, in this order, any
// other field after them under its own name.
var etpLabels = []struct{ key, label string }{
	{"office_ref", "Bureau"},
	{"office_name", "Bureau"},
	{"instructor_ref", "Formateur (référence)"},
	{"instructor_name", "Formateur"},
	{"authorization_number", "N° d'autorisation d'enseigner"},
	{"group", "Catégorie"},
	{"hours", "Heures"},
	{"counted_hours", "Heures comptées"},
	{"at_risk_hours", "Heures à risque"},
	{"lessons", "Leçons"},
	{"from", "Du"},
	{"to", "Au"},
	{"computation_date", "Calculé le"},
	{"message", "Message"},
}

func etpFields(data []byte) []digestField {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return []digestField{{Label: "Données", Value: string(data)}}
	}
	var out []digestField
	for _, l := range etpLabels {
		if v, ok := m[l.key]; ok {
			out = append(out, digestField{Label: l.label, Value: etpValue(v)})
			delete(m, l.key)
		}
	}
	rest := make([]string, 0, len(m))
	for k := range m {
		rest = append(rest, k)
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, digestField{Label: k, Value: etpValue(m[k])})
	}
	return out
}

func etpValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		return x
	case float64:
		// French decimals: 1,5.
		return strings.Replace(strconv.FormatFloat(x, 'f', -1, 64), ".", ",", 1)
	case bool:
		if x {
			return "oui"
		}
		return "non"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// plural is "1 leçon" or "3 leçons".
func plural(n int, one, many string) string {
	if n <= 1 {
		return strconv.Itoa(n) + " " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Summary phrases, shared by the subject and both bodies.
func (c digestContent) ErrorsPhrase() string {
	return plural(c.InError, "leçon en erreur à corriger", "leçons en erreur à corriger")
}

func (c digestContent) FixedPhrase() string {
	if c.Fixed == 0 {
		return ""
	}
	return plural(c.Fixed, "autre leçon signalée en erreur est déjà corrigée", "autres leçons signalées en erreur sont déjà corrigées")
}

func (c digestContent) OfficesPhrase() string {
	return plural(len(c.Offices), "bureau à reconnecter à RdvPermis", "bureaux à reconnecter à RdvPermis")
}

func (c digestContent) EtpPhrase() string {
	return plural(len(c.Etp)+c.MoreEtp, "alerte d'heures à risque", "alertes d'heures à risque")
}

func (c digestContent) MorePhrase() string {
	return "… et " + plural(c.MoreLess, "autre leçon en erreur", "autres leçons en erreur") + ", dans le rapport."
}

// ReconnectHint is what the admin does for an office whose account needs a new login.
const ReconnectHint = "RdvPermis a refusé de prolonger l'accès de Livret : les leçons de ce bureau attendent. " +
	"Dans Livret, page « L'API Livret numérique », cliquez « Se connecter » sur le bureau et connectez-vous à son compte RdvPermis ; " +
	"ses leçons en attente partent au prochain envoi automatique."

func (digestContent) ReconnectHint() string { return ReconnectHint }

func (c digestContent) subject() string {
	var parts []string
	if c.InError > 0 {
		parts = append(parts, c.ErrorsPhrase())
	}
	if len(c.Offices) > 0 {
		parts = append(parts, plural(len(c.Offices), "bureau à reconnecter", "bureaux à reconnecter"))
	}
	if len(c.Etp) > 0 {
		parts = append(parts, c.EtpPhrase())
	}
	return "Livret – " + strings.Join(parts, ", ") + " (récapitulatif du " + c.ShortDay + ")"
}

const digestText = `Bonjour,

Voici le récapitulatif Livret du {{.Day}} pour {{.School}}.
{{if .InError}}
== Leçons en erreur ==

{{.ErrorsPhrase}} depuis le dernier récapitulatif.{{with .FixedPhrase}} {{.}}.{{end}}
{{range .Codes}}
* {{.Lessons}} × {{.Message}}{{if .Hint}}
  À faire : {{.Hint}}{{end}}
{{end}}
{{range .Lessons}}- {{.When}} · {{.Student}} · {{.Office}} · {{.Code}}
{{end}}{{if .MoreLess}}{{.MorePhrase}}
{{end}}{{with .ReportURL}}
Les leçons en erreur : {{.}}
{{end}}{{end}}{{if .Offices}}
== {{.OfficesPhrase}} ==
{{range .Offices}}
- {{.Name}} ({{.Ref}}){{with .Account}}, compte RdvPermis {{.}}{{end}}{{end}}

{{.ReconnectHint}}{{with .OfficesURL}}

Les bureaux : {{.}}{{end}}
{{end}}{{if .Etp}}
== Heures à risque ==
{{range .Etp}}
- {{.When}}{{range .Fields}}
  {{.Label}} : {{.Value}}{{end}}{{end}}{{if .MoreEtp}}
… et {{.MoreEtp}} autres alertes.{{end}}
{{end}}
--
Vous recevez cet e-mail parce que cette adresse est une adresse d'alerte dans les paramètres de Livret.{{with .SettingsURL}}
Pour les changer : {{.}}{{end}}
`

const digestHTML = `<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>Récapitulatif Livret du {{.Day}}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; color: #1f2328; line-height: 1.4;">
<p>Bonjour,</p>
<p>Voici le récapitulatif Livret du <strong>{{.Day}}</strong> pour <strong>{{.School}}</strong>.</p>
{{if .InError}}
<h2 style="font-size: 1.2em;">Leçons en erreur</h2>
<p><strong>{{.ErrorsPhrase}}</strong> depuis le dernier récapitulatif.{{with .FixedPhrase}} {{.}}.{{end}}</p>
<ul>
{{range .Codes}}<li><strong>{{.Lessons}} ×</strong> {{.Message}}{{if .Hint}}<br><em>À faire :</em> {{.Hint}}{{end}}</li>
{{end}}</ul>
<table style="border-collapse: collapse;" cellpadding="4">
<thead><tr><th align="left">Leçon</th><th align="left">Élève</th><th align="left">Bureau</th><th align="left">Code</th></tr></thead>
<tbody>
{{range .Lessons}}<tr><td>{{.When}}</td><td>{{.Student}}</td><td>{{.Office}}</td><td title="{{.Message}}">{{.Code}}</td></tr>
{{end}}</tbody>
</table>
{{if .MoreLess}}<p>{{.MorePhrase}}</p>{{end}}
{{with .ReportURL}}<p><a href="{{.}}">Voir les leçons en erreur dans Livret</a></p>{{end}}
{{end}}{{if .Offices}}
<h2 style="font-size: 1.2em;">{{.OfficesPhrase}}</h2>
<ul>
{{range .Offices}}<li><strong>{{.Name}}</strong> ({{.Ref}}){{with .Account}}, compte RdvPermis {{.}}{{end}}</li>
{{end}}</ul>
<p>{{.ReconnectHint}}</p>
{{with .OfficesURL}}<p><a href="{{.}}">Voir les bureaux dans Livret</a></p>{{end}}
{{end}}{{if .Etp}}
<h2 style="font-size: 1.2em;">Heures à risque</h2>
<ul>
{{range .Etp}}<li>{{.When}}<ul>{{range .Fields}}<li>{{.Label}} : {{.Value}}</li>{{end}}</ul></li>
{{end}}</ul>
{{if .MoreEtp}}<p>… et {{.MoreEtp}} autres alertes.</p>{{end}}
{{end}}
<hr>
<p style="color: #4a4f55; font-size: .9em;">Vous recevez cet e-mail parce que cette adresse est une adresse d'alerte dans les paramètres de Livret.{{with .SettingsURL}} <a href="{{.}}">Changer les adresses d'alerte</a>.{{end}}</p>
</body>
</html>
`

var (
	digestTextTemplate = texttemplate.Must(texttemplate.New("digest.txt").Parse(digestText))
	digestHTMLTemplate = htmltemplate.Must(htmltemplate.New("digest.html").Parse(digestHTML))
)

func renderDigest(c digestContent) (subject, text, html string, err error) {
	var tb, hb bytes.Buffer
	if err := digestTextTemplate.Execute(&tb, c); err != nil {
		return "", "", "", fmt.Errorf("digest text: %w", err)
	}
	if err := digestHTMLTemplate.Execute(&hb, c); err != nil {
		return "", "", "", fmt.Errorf("digest html: %w", err)
	}
	return c.subject(), tb.String(), hb.String(), nil
}
