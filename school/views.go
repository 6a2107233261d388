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
	Status        string  `json:"status"`
	Code          *string `json:"code"`
	Message       *string `json:"message"`
	Hint          *string `json:"hint"`
	DSRLessonID   *string `json:"dsr_lesson_id"`
	TransmittedAt *string `json:"transmitted_at"`
	Attempts      int32   `json:"attempts"`
}

func newTransmission(status, code, message string, dsrLessonID *string, transmittedAt *time.Time, attempts int32) Transmission {
	status = string(domain.Status(status).Shown())
	hint := domain.Code(code).Hint()
	if code == "" && status == string(domain.StatusCancelled) {
		hint = domain.Evaluate(domain.LessonFacts{Cancelled: true}).Hint
	}
	return Transmission{Status: status, Code: nonEmpty(code), Message: nonEmpty(message), Hint: nonEmpty(hint),
		DSRLessonID: dsrLessonID, TransmittedAt: parisTimePtr(transmittedAt), Attempts: attempts}
}

type StudentRef struct {
	Ref       string `json:"ref"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// Lesson is one line of the report, and the answer to a lesson's PUT, cancel or resend.
type Lesson struct {
	Ref           string       `json:"ref"`
	OfficeRef     string       `json:"office_ref"`
	Student       StudentRef   `json:"student"`
	InstructorRef string       `json:"instructor_ref"`
	Type          string       `json:"type"`
	TypeLabel     string       `json:"type_label"`
	Start         string       `json:"start"`
	End           string       `json:"end"`
	PlannedAt     string       `json:"planned_at"`
	Slot          string       `json:"slot"` // "09/12/2021 15:00 - 16:00", as the report shows it
	Cancelled     bool         `json:"cancelled"`
	Transmission  Transmission `json:"transmission"`
}

// newLesson renders a report row.
func newLesson(r dbq.ReportLine) Lesson {
	return Lesson{
		Ref:           r.Ref,
		OfficeRef:     r.OfficeRef,
		Student:       StudentRef{Ref: r.StudentRef, FirstName: r.StudentFirstName, LastName: r.StudentLastName},
		InstructorRef: r.InstructorRef,
		Type:          r.Type,
		TypeLabel:     domain.LessonType(r.Type).Label(),
		Start:         parisTime(r.StartsAt),
		End:           parisTime(r.EndsAt),
		PlannedAt:     parisTime(r.PlannedAt),
		Slot:          domain.FormatLessonSlot(r.StartsAt, r.EndsAt),
		Cancelled:     r.CancelledAt != nil,
		Transmission:  newTransmission(r.Status, r.Code, r.Message, r.DsrLessonID, r.TransmittedAt, r.Attempts),
	}
}

type OfficeDSR struct {
	Linked         bool    `json:"linked"`
	AccountEmail   *string `json:"account_email"`
	LinkedAt       *string `json:"linked_at"` // the first link: kept across an unlink
	NeedsReconnect bool    `json:"needs_reconnect"`
}

// Office is an office's card in the report (docs/rules.md, "The report").
type Office struct {
	Ref        string    `json:"ref"`
	Name       string    `json:"name"`
	DSR        OfficeDSR `json:"dsr"`
	ErrorCount int64     `json:"error_count"`
	LastRun    *Run      `json:"last_run"`
}

func newOffice(o dbq.OfficeListRow, last *dbq.Run) Office {
	v := Office{
		Ref:  o.Ref,
		Name: o.Name,
		DSR: OfficeDSR{Linked: o.AccountID != nil, AccountEmail: o.AccountEmail,
			LinkedAt: parisTimePtr(o.LinkedAt), NeedsReconnect: o.NeedsReconnect},
		ErrorCount: o.ErrorCount,
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

type Student struct {
	Ref                       string `json:"ref"`
	OfficeRef                 string `json:"office_ref"`
	FirstName                 string `json:"first_name"`
	LastName                  string `json:"last_name"`
	NEPH                      string `json:"neph"`
	Category                  string `json:"category"`
	CategoryLabel             string `json:"category_label"`
	InitialEvaluationAccepted bool   `json:"initial_evaluation_accepted"`
}

func newStudent(s dbq.Student, officeRef string) Student {
	return Student{Ref: s.Ref, OfficeRef: officeRef, FirstName: s.FirstName, LastName: s.LastName,
		NEPH: s.Neph, Category: s.Category, CategoryLabel: domain.Category(s.Category).Label(),
		InitialEvaluationAccepted: s.InitialEvaluationAccepted}
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
