package worker_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"livret/db/dbq"
	"livret/domain"
	"livret/mailer/mailtest"
	livschool "livret/school"
	"livret/worker"
	"livret/worker/workertest"
	"livret/workflows"
)

// digestSchool is a linked office whose school has alert addresses, and a lesson refused by
// Livret's checks (the student's NEPH is not 12 digits): an event for the digest.
func digestSchool(t *testing.T, s *workertest.Stack, emails ...string) *smallOffice {
	t.Helper()
	o := newSmallOffice(t, s)
	_, err := s.Q.SchoolSetAlertEmails(context.Background(), dbq.SchoolSetAlertEmailsParams{ID: o.school.ID, AlertEmails: emails})
	s.Must(err, "alert addresses")
	return o
}

func (o *smallOffice) refusedLesson(t *testing.T, s *workertest.Stack, ref string, day, hour int) dbq.Lesson {
	t.Helper()
	st := o.student(s, "E-"+ref, "Bénédicte", "12345", false)
	start := workertest.Paris(2026, 1, day, hour, 0)
	l, v := s.Lesson(o.school, o.office, st, o.jean, ref, domain.TypeConduite, start, start.Add(time.Hour))
	if v.Status != domain.StatusError || v.Code != domain.CodeNEPHInvalide {
		t.Fatalf("lesson %s: %+v, want NEPH_INVALIDE", ref, v)
	}
	return l
}

func runDigest(t *testing.T, s *workertest.Stack, day string) (workflows.DailyDigestResult, string, string) {
	t.Helper()
	wid, rid, err := s.Orchestrator.StartDigest(context.Background(), day)
	s.Must(err, "start the digests of %s", day)
	return resultOf[workflows.DailyDigestResult](t, s, wid, rid), wid, rid
}

// The day's digest reaches a real SMTP server (mailpit) in French, text and HTML, to each
// alert address, with its Message-ID. Run again for the same day after the worker restarts
// (a new error meanwhile), it sends nothing more: mailpit, which keeps duplicates, holds one
// message. An operator who clears sent_at (docs/runbook.md) sends it again, the same message.
func TestHistoryDailyDigest(t *testing.T) {
	mail := mailtest.Start(t)
	s := workertest.NewStack(t, workertest.Options{Mailer: mail.Mailer(), PublicURL: "https://livret.example.fr"})
	ctx := context.Background()
	o := digestSchool(t, s, "gerant@plesses.fr", "bureau@plesses.fr")
	o.refusedLesson(t, s, "L-BENE", 5, 9)
	s.Must(s.Q.AccountMarkNeedsReconnect(ctx, o.account.ID), "refresh refused")
	// A school without alert addresses gets nothing, whatever its events.
	other := s.School("Auto-école Sans Alerte", "E0203100011")
	s.Office(other, "SUD", "Sud")
	_, err := s.Q.OutboxEmit(ctx, dbq.OutboxEmitParams{SchoolID: other.ID, Type: "office.needs_reconnect", Data: []byte(`{"office_ref":"SUD"}`)})
	s.Must(err, "an event of the other school")

	first := s.StartWorker()
	res, wid, rid := runDigest(t, s, "2026-01-07")
	if res.Counts != (workflows.DigestCounts{Sent: 1}) || res.Day != "2026-01-07" || res.Skipped {
		t.Fatalf("digests %+v", res)
	}
	list := mail.Messages()
	if len(list) != 1 {
		t.Fatalf("%d messages, want 1", len(list))
	}
	m := mail.Message(list[0].ID)
	var to []string
	for _, a := range m.To {
		to = append(to, a.Address)
	}
	if !slices.Equal(to, []string{"gerant@plesses.fr", "bureau@plesses.fr"}) {
		t.Errorf("to %v", to)
	}
	wantMID := "digest-" + strconv.FormatInt(o.school.ID, 10) + "-2026-01-07@livret"
	if m.MessageID != wantMID {
		t.Errorf("Message-ID %q, want %q", m.MessageID, wantMID)
	}
	if m.Subject != "Livret – 1 leçon en erreur à corriger, 1 bureau à reconnecter (récapitulatif du 07/01/2026)" {
		t.Errorf("subject %q", m.Subject)
	}
	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	for _, want := range []string{
		"Voici le récapitulatif Livret du mercredi 7 janvier 2026 pour Auto-école des Plesses.",
		"1 leçon en erreur à corriger depuis le dernier récapitulatif.",
		"* 1 × " + domain.CodeNEPHInvalide.Message() + "\n  À faire : " + domain.CodeNEPHInvalide.Hint(),
		"- 05/01/2026 09:00 - 10:00 · Élève Bénédicte · AE LAURIANE · NEPH_INVALIDE",
		"Les leçons en erreur : https://livret.example.fr/ui/lessons?tab=erreurs",
		"== 1 bureau à reconnecter à RdvPermis ==", "- AE LAURIANE (AE-LAURIANE), compte RdvPermis gerant@plesses.fr",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{"<td>05/01/2026 09:00 - 10:00</td><td>Élève Bénédicte</td><td>AE LAURIANE</td>",
		"<strong>AE LAURIANE</strong> (AE-LAURIANE)", `<a href="https://livret.example.fr/ui/offices">`} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
		}
	}
	if strings.Contains(m.Text+m.HTML, "Sans Alerte") {
		t.Error("another school's data in the digest")
	}
	recordHistory(t, s, "daily_digest", wid, rid)

	// The worker stops, a new one starts; a new refusal comes in, and the day's digests run
	// again: the school's digest of the day is already sent.
	first.Stop()
	s.StartWorker()
	o.refusedLesson(t, s, "L-BENE-2", 6, 14)
	res, _, _ = runDigest(t, s, "2026-01-07")
	if res.Counts != (workflows.DigestCounts{AlreadySent: 1}) {
		t.Fatalf("second run of the day: %+v", res)
	}
	if n := len(mail.Messages()); n != 1 {
		t.Fatalf("%d messages after the second run of the day, want 1", n)
	}

	// The runbook's resend: clear sent_at, run the day again. The same message goes again.
	_, err = s.Pool.Exec(ctx, `UPDATE digests SET sent_at = NULL WHERE school_id = $1 AND day = '2026-01-07'`, o.school.ID)
	s.Must(err, "clear sent_at")
	res, _, _ = runDigest(t, s, "2026-01-07")
	if res.Counts != (workflows.DigestCounts{Sent: 1}) {
		t.Fatalf("resend: %+v", res)
	}
	list = mail.Messages()
	if len(list) != 2 || list[0].MessageID != wantMID || list[1].MessageID != wantMID || list[0].Subject != m.Subject {
		t.Fatalf("after the resend: %+v", list)
	}

	// The next day's digest reports the new refusal only.
	res, _, _ = runDigest(t, s, "2026-01-08")
	if res.Counts != (workflows.DigestCounts{Sent: 1}) {
		t.Fatalf("next day: %+v", res)
	}
	next := mail.Message(mail.Messages()[0].ID)
	if !strings.Contains(next.Text, "06/01/2026 14:00 - 15:00") || strings.Contains(next.Text, "05/01/2026 09:00") ||
		strings.Contains(next.Text, "reconnecter") {
		t.Errorf("next day's digest:\n%s", next.Text)
	}
}

// No mail when nothing is new: no event, or a refusal already fixed.
func TestDigestNothingNewSendsNothing(t *testing.T) {
	mail := mailtest.Start(t)
	s := workertest.NewStack(t, workertest.Options{Mailer: mail.Mailer()})
	o := digestSchool(t, s, "gerant@plesses.fr")
	s.StartWorker()
	if res, _, _ := runDigest(t, s, "2026-01-07"); res.Counts != (workflows.DigestCounts{}) || res.Skipped {
		t.Fatalf("no event: %+v", res)
	}
	// Refused, then fixed in the management software before the digest.
	l := o.refusedLesson(t, s, "L-1", 5, 9)
	_, err := s.Q.StudentUpsert(context.Background(), dbq.StudentUpsertParams{SchoolID: o.school.ID, Ref: "E-L-1", OfficeID: o.office.ID,
		FirstName: "Élève", LastName: "Bénédicte", SearchName: "eleve benedicte", Neph: "120675000001"})
	s.Must(err, "fix the NEPH")
	s.Must(livschool.Reevaluate(context.Background(), s.Q, o.school.ID, livschool.Scope{LessonID: &l.ID}), "judge again")
	if tr := s.Transmission(o.school.ID, l.ID); tr.Status != string(domain.StatusPending) {
		t.Fatalf("fixed lesson %+v", tr)
	}
	if res, _, _ := runDigest(t, s, "2026-01-08"); res.Counts != (workflows.DigestCounts{NothingNew: 1}) {
		t.Fatalf("fixed: %+v", res)
	}
	if n := len(mail.Messages()); n != 0 {
		t.Fatalf("%d messages, want none", n)
	}
}

// A worker without an SMTP server sends nothing and says so; the day's run completes as
// skipped and takes no event.
func TestDigestWithoutSMTP(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	o := digestSchool(t, s, "gerant@plesses.fr")
	o.refusedLesson(t, s, "L-1", 5, 9)
	s.StartWorker()
	if res, _, _ := runDigest(t, s, "2026-01-07"); !res.Skipped || res.Counts != (workflows.DigestCounts{}) {
		t.Fatalf("without SMTP: %+v", res)
	}
	var n int
	s.Must(s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM digests`).Scan(&n), "digests")
	if n != 0 {
		t.Fatalf("%d digests stored without SMTP", n)
	}
}

// A worker with a mailer creates the digests' Schedule at start, idempotently: 07:00 Paris
// time (the zone set, so the hour follows daylight saving), overlap skip, a catch-up window.
// Triggered, it runs DailyDigest for the day it fired.
func TestHistoryDailyDigestScheduled(t *testing.T) {
	mail := mailtest.Start(t)
	s := workertest.NewStack(t, workertest.Options{Mailer: mail.Mailer()})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	o := digestSchool(t, s, "gerant@plesses.fr")
	o.refusedLesson(t, s, "L-1", 5, 9)
	for range 2 { // two workers reconcile: one Schedule
		cfg := s.WorkerConfig(worker.Options{})
		cfg.Reconcile = true
		w, err := worker.Start(ctx, s.Client, cfg)
		s.Must(err, "worker")
		t.Cleanup(w.Stop)
	}
	h := s.Client.ScheduleClient().GetHandle(ctx, workflows.DigestScheduleID)
	desc, err := h.Describe(ctx)
	s.Must(err, "describe the digests' schedule")
	spec := desc.Schedule.Spec
	if spec.TimeZoneName != "Europe/Paris" || len(spec.Calendars) != 1 || spec.Calendars[0].Hour[0].Start != 7 ||
		spec.Calendars[0].Minute[0].Start != 0 {
		t.Fatalf("spec %+v", spec)
	}
	if p := desc.Schedule.Policy; p.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_SKIP || p.CatchupWindow != 6*time.Hour {
		t.Fatalf("policy %+v", p)
	}
	iter, err := s.Client.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	s.Must(err, "list schedules")
	digestSchedules := 0
	for iter.HasNext() {
		e, err := iter.Next()
		s.Must(err, "list schedules")
		if e.ID == workflows.DigestScheduleID {
			digestSchedules++
		}
	}
	if digestSchedules != 1 {
		t.Fatalf("%d digest schedules", digestSchedules)
	}

	before := time.Now()
	s.Must(h.Trigger(ctx, client.ScheduleTriggerOptions{}), "trigger")
	var started *struct{ wid, rid string }
	for deadline := time.Now().Add(time.Minute); started == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the schedule started nothing")
		}
		desc, err := h.Describe(ctx)
		s.Must(err, "describe schedule")
		for _, a := range desc.Info.RecentActions {
			if a.StartWorkflowResult != nil {
				started = &struct{ wid, rid string }{a.StartWorkflowResult.WorkflowID, a.StartWorkflowResult.FirstExecutionRunID}
			}
		}
	}
	res := resultOf[workflows.DailyDigestResult](t, s, started.wid, started.rid)
	// The day it fired for: the trigger's, between before and now (both, across a midnight).
	if res.Day != domain.BusinessDate(before) && res.Day != domain.BusinessDate(time.Now()) {
		t.Errorf("day %q, triggered at %s", res.Day, before)
	}
	if res.Counts != (workflows.DigestCounts{Sent: 1}) || len(mail.Messages()) != 1 {
		t.Fatalf("scheduled digests %+v, %d messages", res, len(mail.Messages()))
	}
	recordHistory(t, s, "daily_digest_scheduled", started.wid, started.rid)
}
