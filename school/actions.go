package school

import (
	"context"

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
		if db.IsNotFound(err) {
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
		// Livret's own checks first: a lesson they still refuse costs no DSR call.
		if err := Reevaluate(ctx, q, school.ID, Scope{LessonID: &lesson.ID}); err != nil {
			return err
		}
		view, err = lessonByID(ctx, q, school.ID, lesson.ID)
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
