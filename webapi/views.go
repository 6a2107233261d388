package webapi

import (
	"time"

	"livret/db/dbq"
	"livret/domain"
)

// The JSON the API answers with. Times are RFC 3339 in French local time, as the DSR and
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

// transmissionView is a lesson's state towards the DSR.
type transmissionView struct {
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

func newTransmissionView(status, code, message string, dsrLessonID *string, transmittedAt *time.Time, attempts int32) transmissionView {
	if status == string(domain.StatusSending) {
		status = string(domain.StatusPending)
	}
	hint := domain.Code(code).Hint()
	if code == "" && status == string(domain.StatusCancelled) {
		hint = domain.Evaluate(domain.LessonFacts{Cancelled: true}).Hint
	}
	return transmissionView{Status: status, Code: nonEmpty(code), Message: nonEmpty(message), Hint: nonEmpty(hint),
		DSRLessonID: dsrLessonID, TransmittedAt: parisTimePtr(transmittedAt), Attempts: attempts}
}

type studentRefView struct {
	Ref       string `json:"ref"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// lessonView is one line of the report, and the answer to a lesson's PUT, cancel or resend.
type lessonView struct {
	Ref           string           `json:"ref"`
	OfficeRef     string           `json:"office_ref"`
	Student       studentRefView   `json:"student"`
	InstructorRef string           `json:"instructor_ref"`
	Type          string           `json:"type"`
	TypeLabel     string           `json:"type_label"`
	Start         string           `json:"start"`
	End           string           `json:"end"`
	PlannedAt     string           `json:"planned_at"`
	Slot          string           `json:"slot"` // "09/12/2021 15:00 - 16:00", as the report shows it
	Cancelled     bool             `json:"cancelled"`
	Transmission  transmissionView `json:"transmission"`
}

// newLessonView renders a report row. LessonReportPageRow converts to LessonViewGetRow: both
// queries select the same columns.
func newLessonView(r dbq.LessonViewGetRow) lessonView {
	return lessonView{
		Ref:           r.Ref,
		OfficeRef:     r.OfficeRef,
		Student:       studentRefView{Ref: r.StudentRef, FirstName: r.StudentFirstName, LastName: r.StudentLastName},
		InstructorRef: r.InstructorRef,
		Type:          r.Type,
		TypeLabel:     domain.LessonType(r.Type).Label(),
		Start:         parisTime(r.StartsAt),
		End:           parisTime(r.EndsAt),
		PlannedAt:     parisTime(r.PlannedAt),
		Slot:          domain.FormatLessonSlot(r.StartsAt, r.EndsAt),
		Cancelled:     r.CancelledAt != nil,
		Transmission:  newTransmissionView(r.Status, r.Code, r.Message, r.DsrLessonID, r.TransmittedAt, r.Attempts),
	}
}

type officeDSRView struct {
	Linked         bool    `json:"linked"`
	AccountEmail   *string `json:"account_email"`
	LinkedAt       *string `json:"linked_at"` // the first link: kept across an unlink
	NeedsReconnect bool    `json:"needs_reconnect"`
}

// officeView is an office's card in the report (seed §7).
type officeView struct {
	Ref        string        `json:"ref"`
	Name       string        `json:"name"`
	DSR        officeDSRView `json:"dsr"`
	ErrorCount int64         `json:"error_count"`
	LastRun    *runView      `json:"last_run"`
}

func newOfficeView(o dbq.OfficeListRow, last *dbq.Run) officeView {
	v := officeView{
		Ref:  o.Ref,
		Name: o.Name,
		DSR: officeDSRView{Linked: o.AccountID != nil, AccountEmail: o.AccountEmail,
			LinkedAt: parisTimePtr(o.LinkedAt), NeedsReconnect: o.NeedsReconnect},
		ErrorCount: o.ErrorCount,
	}
	if last != nil {
		r := newRunView(*last)
		v.LastRun = &r
	}
	return v
}

// runView is one run of an office with its counts.
type runView struct {
	WorkflowID   string `json:"workflow_id"`
	RunID        string `json:"run_id"`
	BusinessDate string `json:"business_date"`
	StartedAt    string `json:"started_at"`
	FinishedAt   string `json:"finished_at"`
	Transmitted  int32  `json:"transmitted"`
	Errors       int32  `json:"errors"`
	NotEligible  int32  `json:"not_eligible"`
	Deferred     int32  `json:"deferred"`
	Outcome      string `json:"outcome"`
}

func newRunView(r dbq.Run) runView {
	return runView{
		WorkflowID: r.WorkflowID, RunID: r.RunID,
		// A date column: its calendar date is the Paris business date as stored.
		BusinessDate: r.BusinessDate.Format(time.DateOnly),
		StartedAt:    parisTime(r.StartedAt), FinishedAt: parisTime(r.FinishedAt),
		Transmitted: r.Transmitted, Errors: r.Errors, NotEligible: r.NotEligible, Deferred: r.Deferred,
		Outcome: r.Outcome,
	}
}

type studentView struct {
	Ref                       string `json:"ref"`
	OfficeRef                 string `json:"office_ref"`
	FirstName                 string `json:"first_name"`
	LastName                  string `json:"last_name"`
	NEPH                      string `json:"neph"`
	Category                  string `json:"category"`
	CategoryLabel             string `json:"category_label"`
	InitialEvaluationAccepted bool   `json:"initial_evaluation_accepted"`
}

func newStudentView(s dbq.Student, officeRef string) studentView {
	return studentView{Ref: s.Ref, OfficeRef: officeRef, FirstName: s.FirstName, LastName: s.LastName,
		NEPH: s.Neph, Category: s.Category, CategoryLabel: domain.Category(s.Category).Label(),
		InitialEvaluationAccepted: s.InitialEvaluationAccepted}
}

type instructorView struct {
	Ref                 string `json:"ref"`
	FirstName           string `json:"first_name"`
	LastName            string `json:"last_name"`
	AuthorizationNumber string `json:"authorization_number"`
	// AuthorizationNumberValid tells the sender at once that lessons with this instructor
	// will be refused (the DSR's format check), without waiting for a lesson.
	AuthorizationNumberValid bool `json:"authorization_number_valid"`
	Simulator                bool `json:"simulator"`
}

func newInstructorView(i dbq.Instructor) instructorView {
	_, valid := domain.NormalizeAuthorization(i.AuthorizationNumber)
	return instructorView{Ref: i.Ref, FirstName: i.FirstName, LastName: i.LastName,
		AuthorizationNumber: i.AuthorizationNumber, AuthorizationNumberValid: valid, Simulator: i.Simulator}
}
