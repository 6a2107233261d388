package webui

import (
	"net/url"
	"strconv"
	"time"

	"livret/domain"
	"livret/school"
)

// The office dashboard on each card (docs/rules.md, "The report"): the last run (when, how it
// went, in French), the next one, and the office's lessons per status, each a link to the
// "Toutes les leçons" tab filtered on it. The figures are the API's (school.Office), so the
// card, the runs and the report say the same.

type dashboard struct {
	LinkedSince string   // "02/11/2026"; empty when never linked
	LastRun     *runLine // nil: no run yet
	NextRun     string   // "03/12/2026 à 01:30", or why none can send
	Counts      []countLink
}

type runLine struct {
	When    string // "02/12/2026 à 01:30"
	Outcome string // "terminé", "en cours", "échoué"…
	Detail  string
	Class   string // the status style: ok, wait, err, muted
}

type countLink struct {
	Label, URL, Class string
}

// countWords are a status's words on the card, singular and plural.
var countWords = []struct {
	status    domain.Status
	one, many string
	class     string
	count     func(school.LessonCounts) int64
}{
	{domain.StatusTransmitted, "transmise", "transmises", "ok", func(c school.LessonCounts) int64 { return c.Transmitted }},
	{domain.StatusPending, "en attente", "en attente", "wait", func(c school.LessonCounts) int64 { return c.Pending }},
	{domain.StatusError, "en erreur", "en erreur", "err", func(c school.LessonCounts) int64 { return c.Error }},
	{domain.StatusNotEligible, "non concernée", "non concernées", "muted", func(c school.LessonCounts) int64 { return c.NotEligible }},
}

func newDashboard(o school.Office) dashboard {
	d := dashboard{LinkedSince: frenchDate(o.DSR.LinkedAt), NextRun: frenchMoment(o.NextRun)}
	switch {
	case o.NextRun != nil:
	case !o.DSR.Linked:
		d.NextRun = "aucun tant que le bureau n'est pas connecté à la DSR"
	case o.DSR.NeedsReconnect:
		d.NextRun = "aucun tant que le bureau n'est pas reconnecté"
	default:
		d.NextRun = "aucun : la DSR connaît l'auto-école comme fermée"
	}
	if o.LastRun != nil {
		d.LastRun = newRunLine(*o.LastRun)
	}
	for _, w := range countWords {
		n := w.count(o.Lessons)
		word := w.one
		if n > 1 {
			word = w.many
		}
		q := url.Values{"tab": {"toutes"}, "office": {o.Ref}, "status": {string(w.status)}}
		d.Counts = append(d.Counts, countLink{Label: strconv.FormatInt(n, 10) + " " + word, URL: "/ui/lessons?" + q.Encode(), Class: w.class})
	}
	return d
}

// newRunLine says in French how a run went (the outcomes of docs/api.md, "The report (school)").
func newRunLine(r school.Run) *runLine {
	l := &runLine{When: frenchMoment(&r.StartedAt)}
	sent := plural(int64(r.Transmitted), "leçon transmise", "leçons transmises")
	switch r.Outcome {
	case "running":
		l.Outcome, l.Class = "en cours", "wait"
		l.Detail = sent + " pour l'instant."
	case "completed":
		l.Outcome, l.Class = "terminé", "ok"
		l.Detail = sent
		if r.Refused > 0 {
			l.Detail += ", " + plural(int64(r.Refused), "refusée", "refusées") + " par la DSR"
			l.Class = "err"
		}
		l.Detail += "."
	case "failed":
		l.Outcome, l.Class = "échoué", "err"
		if r.Failure != nil {
			l.Detail = *r.Failure
		}
	case "needs_reconnect":
		l.Outcome, l.Class = "interrompu", "err"
		l.Detail = "RdvPermis demande de reconnecter le bureau : " + plural(int64(r.Deferred), "leçon attend", "leçons attendent") + " la reconnexion."
	case "school_closed":
		l.Outcome, l.Class = "interrompu", "err"
		l.Detail = "La DSR connaît l'auto-école comme fermée : rien n'est envoyé tant qu'elle n'est pas rouverte (contactez votre BER)."
	case "not_linked":
		l.Outcome, l.Class = "sans envoi", "muted"
		l.Detail = "Le bureau n'était pas connecté à RdvPermis."
	default:
		l.Outcome, l.Class = r.Outcome, "muted"
	}
	return l
}

// plural is "1 leçon transmise", "3 leçons transmises", "aucune" for none.
func plural(n int64, one, many string) string {
	switch n {
	case 0:
		return "aucune " + one
	case 1:
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// frenchMoment renders an RFC 3339 time of the API as "02/12/2026 à 01:30", Paris time.
func frenchMoment(s *string) string {
	if s == nil {
		return ""
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return *s
	}
	return t.In(domain.Paris).Format("02/01/2006 à 15:04")
}

// frenchDate renders an RFC 3339 time of the API as "02/12/2026", Paris time.
func frenchDate(s *string) string {
	if s == nil {
		return ""
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return *s
	}
	return t.In(domain.Paris).Format("02/01/2006")
}
