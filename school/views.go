package school

import (
	"time"

	"livret/db/dbq"
	"livret/domain"
)

// What Livret shows of a school's data: the API encodes these as they are (docs/api.md), the
// pages render them. Times are RFC 3339 in French local time, as the DSR and
// the schools read them.

func parisTime(t time.Time) string { return t.In(domain.Paris).Format(time.RFC3339) }

func parisTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := parisTime(*t)
	return &s
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Transmission is a lesson's state towards the DSR.
type Transmission struct {
	// Status is pending, transmitted, error, not_eligible or cancelled. The internal
	// "sending" (a run is declaring it now) shows as pending: for the school it still waits.
	Status  string  `json:"status"`
	Code    *string `json:"code"`
	Message *string `json:"message"`
	Hint    *string `json:"hint"`
	// DueOn is, for a pending lesson, the Paris date of the daily run that sends it; null
	// when it waits for the office to be (re)connected.
	DueOn *string `json:"due_on"`
	// Note says in French when the lesson goes, or why it will not: the date of the run, the
	// office's link date for a lesson planned before it, where to fix Livret's own refusals.
	Note *string `json:"note"`
	// Resendable: a refusal of the DSR's, which "Renvoyer" may clear once fixed. Livret's own
	// refusals are judged again as soon as the data changes: resending cannot help them.
	Resendable    bool    `json:"resendable"`
	DSRLessonID   *string `json:"dsr_lesson_id"`
	TransmittedAt *string `json:"transmitted_at"`
	Attempts      int32   `json:"attempts"`
}

// clock is what a view's dates are computed from: now, when the daily run next starts, and
// whether the school is closed (then nothing goes, whatever the date).
type clock struct {
	now, nextRun time.Time
	closed       bool
}

func (s *Service) clock(school dbq.School) clock {
	now := s.now()
	h, m := 1, 30
	if s.Orchestrator != nil {
		h, m = s.Orchestrator.DailyTime()
	}
	return clock{now: now, nextRun: domain.NextDailyRun(now, h, m), closed: school.ClosedAt != nil}
}

// newTransmission renders a report line's transmission.
func newTransmission(r dbq.ReportLine, c clock) Transmission {
	status := domain.Status(r.Status).Shown()
	code := domain.Code(r.Code)
	hint := code.Hint()
	if code == "" && status == domain.StatusCancelled {
		hint = domain.Evaluate(domain.LessonFacts{Cancelled: true}).Hint
	}
	t := Transmission{Status: string(status), Code: nonEmpty(r.Code), Message: nonEmpty(r.Message), Hint: nonEmpty(hint),
		DSRLessonID: r.DsrLessonID, TransmittedAt: parisTimePtr(r.TransmittedAt), Attempts: r.Attempts}
	switch {
	case domain.Status(r.Status) == domain.StatusSending:
		today := domain.BusinessDate(c.now)
		t.DueOn = &today
		t.Note = nonEmpty("Envoi à la DSR en cours.")
	case status == domain.StatusPending && c.closed:
		t.Note = nonEmpty("En attente : la DSR connaît l'auto-école comme fermée ; rien n'est envoyé tant qu'elle n'est pas rouverte (contactez votre BER).")
	case status == domain.StatusPending && (!r.OfficeLinked || r.OfficeNeedsReconnect):
		t.Note = nonEmpty("En attente de la reconnexion du bureau à RdvPermis : la leçon partira au premier envoi qui suivra.")
	case status == domain.StatusPending:
		due := domain.DueOn(r.EndsAt, c.nextRun)
		t.DueOn = &due
		day, _ := domain.ParseBusinessDate(due)
		t.Note = nonEmpty("Sera envoyée à la DSR le " + day.Format("02/01/2006") + ", lors de l'envoi automatique de " +
			c.nextRun.In(domain.Paris).Format("15:04") + " : une leçon part au plus tôt le lendemain de sa fin.")
	case code == domain.CodePlanifieeAvantConnexion && r.OfficeLinkedAt != nil:
		t.Note = nonEmpty("Bureau connecté à RdvPermis le " + parisSlot(*r.OfficeLinkedAt) + ", leçon planifiée le " +
			parisSlot(r.PlannedAt) + " : seules les leçons planifiées après la connexion sont transmises.")
	case status == domain.StatusError && domain.Origin(r.Origin) == domain.OriginDSR:
		t.Resendable = true
	case status == domain.StatusError:
		t.Note = nonEmpty(domain.FixInSoftware)
	}
	return t
}

// parisSlot is a moment as the pages show it: "02/11/2026 à 10:00".
func parisSlot(t time.Time) string { return t.In(domain.Paris).Format("02/01/2006 à 15:04") }

type StudentRef struct {
	Ref       string `json:"ref"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// Lesson is one line of the report, and the answer to a lesson's PUT, cancel or resend.
type Lesson struct {
	Ref           string     `json:"ref"`
	OfficeRef     string     `json:"office_ref"`
	Student       StudentRef `json:"student"`
	InstructorRef string     `json:"instructor_ref"`
	Type          string     `json:"type"`
	TypeLabel     string     `json:"type_label"`
	// Category is the lesson's training's; SessionRef its collective session, if any.
	Category      string       `json:"category"`
	CategoryLabel string       `json:"category_label"`
	SessionRef    *string      `json:"session_ref"`
	Start         string       `json:"start"`
	End           string       `json:"end"`
	PlannedAt     string       `json:"planned_at"`
	Slot          string       `json:"slot"` // "09/12/2021 15:00 - 16:00", as the report shows it
	Cancelled     bool         `json:"cancelled"`
	Transmission  Transmission `json:"transmission"`
}

// newLesson renders a report row.
func newLesson(r dbq.ReportLine, c clock) Lesson {
	return Lesson{
		Ref:           r.Ref,
		OfficeRef:     r.OfficeRef,
		Student:       StudentRef{Ref: r.StudentRef, FirstName: r.StudentFirstName, LastName: r.StudentLastName},
		InstructorRef: r.InstructorRef,
		Type:          r.Type,
		TypeLabel:     domain.LessonType(r.Type).Label(),
		Category:      r.Category,
		CategoryLabel: domain.Category(r.Category).Label(),
		SessionRef:    nonEmpty(r.SessionRef),
		Start:         parisTime(r.StartsAt),
		End:           parisTime(r.EndsAt),
		PlannedAt:     parisTime(r.PlannedAt),
		Slot:          domain.FormatLessonSlot(r.StartsAt, r.EndsAt),
		Cancelled:     r.CancelledAt != nil,
		Transmission:  newTransmission(r, c),
	}
}

type OfficeDSR struct {
	Linked         bool    `json:"linked"`
	AccountEmail   *string `json:"account_email"`
	LinkedAt       *string `json:"linked_at"` // the first link: kept across an unlink
	NeedsReconnect bool    `json:"needs_reconnect"`
}

// Office is an office's card in the report (docs/rules.md, "The report"): its link, its
// lessons per status, its last and next run.
type Office struct {
	Ref  string    `json:"ref"`
	Name string    `json:"name"`
	DSR  OfficeDSR `json:"dsr"`
	// ErrorCount is Lessons.Error: the office's lessons in error, whoever stopped them.
	ErrorCount int64        `json:"error_count"`
	Lessons    LessonCounts `json:"lessons"`
	// NextRun is when the daily run next sends the office's lessons; null when it cannot
	// (not linked, reconnection needed, school closed).
	NextRun *string `json:"next_run"`
	LastRun *Run    `json:"last_run"`
}

// LessonCounts are an office's lessons per status as the school sees them: the same
// statuses as GET /v1/lessons?status=… counts.
type LessonCounts struct {
	Transmitted int64 `json:"transmitted"`
	Pending     int64 `json:"pending"`
	Error       int64 `json:"error"`
	NotEligible int64 `json:"not_eligible"`
	Cancelled   int64 `json:"cancelled"`
}

func newOffice(o dbq.OfficeListRow, last *dbq.Run, c clock) Office {
	v := Office{
		Ref:  o.Ref,
		Name: o.Name,
		DSR: OfficeDSR{Linked: o.AccountID != nil, AccountEmail: o.AccountEmail,
			LinkedAt: parisTimePtr(o.LinkedAt), NeedsReconnect: o.NeedsReconnect},
		ErrorCount: o.ErrorCount,
		Lessons: LessonCounts{Transmitted: o.TransmittedCount, Pending: o.PendingCount, Error: o.ErrorCount,
			NotEligible: o.NotEligibleCount, Cancelled: o.CancelledCount},
	}
	if o.AccountID != nil && !o.NeedsReconnect && !c.closed {
		v.NextRun = parisTimePtr(&c.nextRun)
	}
	if last != nil {
		r := newRun(*last)
		v.LastRun = &r
	}
	return v
}

// Run is one run of an office (docs/api.md, "The report (school)"). Outcome is running (the
// run goes on; FinishedAt is null), failed (Failure says why, in French, and what happens
// next), or how it ended: completed, school_closed, needs_reconnect, not_linked. Errors is
// the office's lessons in error when the run ended (while it runs, when it started), the
// office card's error_count and the report's count of the office's lessons in error at that
// moment; Refused counts the lessons this run's batches left in error.
type Run struct {
	WorkflowID   string  `json:"workflow_id"`
	RunID        string  `json:"run_id"`
	BusinessDate string  `json:"business_date"`
	StartedAt    string  `json:"started_at"`
	FinishedAt   *string `json:"finished_at"`
	Transmitted  int32   `json:"transmitted"`
	Errors       int32   `json:"errors"`
	Refused      int32   `json:"refused"`
	NotEligible  int32   `json:"not_eligible"`
	Deferred     int32   `json:"deferred"`
	Outcome      string  `json:"outcome"`
	Failure      *string `json:"failure"`
}

func newRun(r dbq.Run) Run {
	return Run{
		WorkflowID: r.WorkflowID, RunID: r.RunID,
		// A date column: its calendar date is the Paris business date as stored.
		BusinessDate: r.BusinessDate.Format(time.DateOnly),
		StartedAt:    parisTime(r.StartedAt), FinishedAt: parisTimePtr(r.FinishedAt),
		Transmitted: r.Transmitted, Errors: r.Errors, Refused: r.Refused, NotEligible: r.NotEligible,
		Deferred: r.Deferred, Outcome: r.Outcome, Failure: nonEmpty(r.Failure),
	}
}

// Student is a student with their trainings. Category and InitialEvaluationAccepted are the
// first training's, for clients of the one-training form.
type Student struct {
	Ref                       string     `json:"ref"`
	OfficeRef                 string     `json:"office_ref"`
	FirstName                 string     `json:"first_name"`
	LastName                  string     `json:"last_name"`
	NEPH                      string     `json:"neph"`
	Category                  string     `json:"category"`
	CategoryLabel             string     `json:"category_label"`
	InitialEvaluationAccepted bool       `json:"initial_evaluation_accepted"`
	Trainings                 []Training `json:"trainings"`
}

func newStudent(id int64, ref, officeRef, first, last, neph string, trainings []dbq.TrainingListRow) Student {
	v := Student{Ref: ref, OfficeRef: officeRef, FirstName: first, LastName: last, NEPH: neph,
		Trainings: make([]Training, 0, len(trainings))}
	for _, t := range trainings {
		v.Trainings = append(v.Trainings, newTraining(t))
	}
	if len(v.Trainings) > 0 {
		first := v.Trainings[0]
		v.Category, v.CategoryLabel, v.InitialEvaluationAccepted = first.Category, first.CategoryLabel, first.InitialEvaluationAccepted
	}
	return v
}

type Instructor struct {
	Ref                 string `json:"ref"`
	FirstName           string `json:"first_name"`
	LastName            string `json:"last_name"`
	AuthorizationNumber string `json:"authorization_number"`
	// AuthorizationNumberValid tells the sender at once that lessons with this instructor
	// will be refused (the DSR's format check), without waiting for a lesson.
	AuthorizationNumberValid bool `json:"authorization_number_valid"`
	Simulator                bool `json:"simulator"`
}

func newInstructor(i dbq.Instructor) Instructor {
	_, valid := domain.NormalizeAuthorization(i.AuthorizationNumber)
	return Instructor{Ref: i.Ref, FirstName: i.FirstName, LastName: i.LastName,
		AuthorizationNumber: i.AuthorizationNumber, AuthorizationNumberValid: valid, Simulator: i.Simulator}
}
