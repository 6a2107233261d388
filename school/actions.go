package school

import (
	"context"
	"net/url"
	"slices"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// The admin's actions: start an office's run now, resend a lesson in error after a fix.

// RunStarted names the run a start started (or found going).
type RunStarted struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
}

// StartRun starts the office's run now (POST /v1/offices/{ref}/runs).
func (s *Service) StartRun(ctx context.Context, school dbq.School, ref string) (RunStarted, error) {
	if err := Authorize(ctx, domain.PermSend); err != nil {
		return RunStarted{}, err
	}
	office, err := officeByRef(ctx, dbq.New(s.Pool), school.ID, ref)
	if err != nil {
		return RunStarted{}, err
	}
	if office.AccountID == nil {
		return RunStarted{}, Conflict(TypeNotLinked, "Ce bureau n'est pas connecté à un compte RdvPermis : connectez-le avant de lancer un envoi.")
	}
	workflowID, runID, err := s.Orchestrator.StartRun(ctx, school.ID, office.ID)
	if err != nil {
		return RunStarted{}, s.orchestratorProblem(ctx, "L'envoi n'a pas pu être lancé pour le moment : réessayez dans quelques minutes. Les leçons partiront de toute façon lors de l'envoi quotidien.", err)
	}
	return RunStarted{WorkflowID: workflowID, RunID: runID}, nil
}

// Resent is a resend's outcome: the lesson as it now stands and, when it went back to
// pending, the workflow sending it now (Started).
type Resent struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Lesson     Lesson `json:"lesson"`
	// Started is false when Livret's own checks still refuse the lesson: nothing was sent.
	Started bool `json:"-"`
}

// ResendLesson puts a lesson in error back to pending (POST /v1/lessons/{ref}/resend) and,
// unless Livret's own checks still refuse it, sends it at once.
func (s *Service) ResendLesson(ctx context.Context, school dbq.School, ref string) (Resent, error) {
	if err := Authorize(ctx, domain.PermSend); err != nil {
		return Resent{}, err
	}
	if !ValidLookupRef(ref) {
		return Resent{}, ErrLessonNotFound
	}
	var (
		view   Lesson
		lesson dbq.LessonGetByRefForUpdateRow
	)
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		lesson, err = q.LessonGetByRefForUpdate(ctx, dbq.LessonGetByRefForUpdateParams{SchoolID: school.ID, Ref: ref})
		if db.IsNotFound(err) || (err == nil && !seesOffice(ctx, lesson.OfficeID)) {
			return ErrLessonNotFound
		}
		if err != nil {
			return err
		}
		if st := domain.Status(lesson.TransmissionStatus); st != domain.StatusError {
			return Conflict(TypeNotInError, "Seule une leçon en erreur peut être renvoyée ; celle-ci est « "+st.Phrase()+" ».")
		}
		if _, err := q.TransmissionResend(ctx, dbq.TransmissionResendParams{SchoolID: school.ID, LessonID: lesson.ID}); err != nil {
			return err
		}
		if err := audit(ctx, q, school, AuditLessonResend, lessonObject(lesson.Ref)); err != nil {
			return err
		}
		// Livret's own checks first: a lesson they still refuse costs no DSR call.
		if err := Reevaluate(ctx, q, school.ID, Scope{LessonID: &lesson.ID}); err != nil {
			return err
		}
		view, err = s.lessonByID(ctx, q, school, lesson.ID)
		return err
	})
	if err != nil {
		return Resent{}, err
	}
	if view.Transmission.Status != string(domain.StatusPending) {
		return Resent{Lesson: view}, nil
	}
	workflowID, runID, err := s.Orchestrator.Resend(ctx, school.ID, lesson.OfficeID, lesson.ID)
	if err != nil {
		return Resent{}, s.orchestratorProblem(ctx, "La leçon est de nouveau en attente et partira lors du prochain envoi quotidien ; l'envoi immédiat n'a pas pu être lancé.", err)
	}
	return Resent{WorkflowID: workflowID, RunID: runID, Lesson: view, Started: true}, nil
}

// maxBulkResend bounds one "Renvoyer les N leçons": what one transaction puts back and one
// answer reports; the admin clicks again for the rest.
const maxBulkResend = 1000

// ResendFilter picks the lessons of a bulk resend, as the report's filters do (refs and
// YYYY-MM-DD dates, inclusive; empty: no filter).
type ResendFilter struct {
	Office  string `json:"office"`
	Student string `json:"student"`
	From    string `json:"from"`
	To      string `json:"to"`
	// Category: the lessons of one training category only.
	Category string `json:"category"`
}

// BulkResent is a bulk resend's outcome.
type BulkResent struct {
	// Resent lessons went back to pending and go with the office runs started now.
	Resent int `json:"resent"`
	// StillInError are those Livret's own checks stop after all (in error or not concerned:
	// their data or the office's link changed meanwhile): nothing was sent for them.
	StillInError int `json:"still_in_error"`
	// More is true when more lessons matched than one call takes (1,000).
	More bool         `json:"more"`
	Runs []RunStarted `json:"runs"`
	// Deferred is true when a run could not be started now: the lessons are pending and go
	// with the next daily run.
	Deferred bool `json:"deferred"`
}

// query is the filter as the report's query parameters.
func (f ResendFilter) query() url.Values {
	query := url.Values{}
	for k, v := range map[string]string{"office": f.Office, "student": f.Student, "from": f.From, "to": f.To, "category": f.Category} {
		if v != "" {
			query.Set(k, v)
		}
	}
	return query
}

// ResendableCount is how many lessons of the filter ResendLessons would put back: the N of
// "Renvoyer les N leçons".
func (s *Service) ResendableCount(ctx context.Context, school dbq.School, f ResendFilter) (int64, error) {
	if err := Authorize(ctx, domain.PermRead); err != nil {
		return 0, err
	}
	q := dbq.New(s.Pool)
	filter, err := s.filterOf(ctx, q, school, nil, f.query())
	if err != nil {
		return 0, err
	}
	return q.TransmissionCountResendable(ctx, dbq.TransmissionCountResendableParams{
		SchoolID: school.ID, OfficeID: filter.OfficeID, StudentID: filter.StudentID, FromAt: filter.FromAt, ToAt: filter.ToAt,
		Category: filter.Category, OfficeIds: filter.OfficeIDs})
}

// ResendLessons puts back to pending every lesson of the filter that the DSR refused
// (POST /v1/lessons/resend), then starts their offices' runs: the same refusal often hits
// a student's every lesson, fixed once at the DSR's end. Livret's own refusals are left
// alone: they change when the data does, not by resending.
func (s *Service) ResendLessons(ctx context.Context, school dbq.School, f ResendFilter) (BulkResent, error) {
	if err := Authorize(ctx, domain.PermSend); err != nil {
		return BulkResent{}, err
	}
	filter, err := s.filterOf(ctx, dbq.New(s.Pool), school, nil, f.query())
	if err != nil {
		return BulkResent{}, err
	}
	var out BulkResent
	offices := map[int64]bool{}
	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		rows, err := q.TransmissionListResendable(ctx, dbq.TransmissionListResendableParams{
			SchoolID: school.ID, OfficeID: filter.OfficeID, StudentID: filter.StudentID, FromAt: filter.FromAt, ToAt: filter.ToAt,
			Category: filter.Category, OfficeIds: filter.OfficeIDs, Lim: maxBulkResend + 1})
		if err != nil {
			return err
		}
		if len(rows) > maxBulkResend {
			rows, out.More = rows[:maxBulkResend], true
		}
		for _, r := range rows {
			if _, err := q.TransmissionResend(ctx, dbq.TransmissionResendParams{SchoolID: school.ID, LessonID: r.LessonID}); err != nil {
				if db.IsNotFound(err) { // no longer in error: a run or a resend took it meanwhile
					continue
				}
				return err
			}
			if err := Reevaluate(ctx, q, school.ID, Scope{LessonID: &r.LessonID}); err != nil {
				return err
			}
			t, err := q.TransmissionGet(ctx, dbq.TransmissionGetParams{SchoolID: school.ID, LessonID: r.LessonID})
			if err != nil {
				return err
			}
			if domain.Status(t.Status) == domain.StatusPending {
				out.Resent++
				offices[r.OfficeID] = true
			} else {
				out.StillInError++
			}
		}
		if n := out.Resent + out.StillInError; n > 0 { // nothing put back: no action to record
			return audit(ctx, q, school, AuditLessonsResend, lessonsObject(n, f))
		}
		return nil
	})
	if err != nil {
		return BulkResent{}, err
	}
	out.Runs = []RunStarted{}
	ids := make([]int64, 0, len(offices))
	for id := range offices {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		workflowID, runID, err := s.Orchestrator.StartRun(ctx, school.ID, id)
		if err != nil {
			// The lessons are pending: the daily run sends them anyway.
			s.log().ErrorContext(ctx, "temporal call failed", "error", err.Error())
			out.Deferred = true
			continue
		}
		out.Runs = append(out.Runs, RunStarted{WorkflowID: workflowID, RunID: runID})
	}
	return out, nil
}
