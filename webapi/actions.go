package webapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// The admin's actions: start an office's run now, resend a lesson in error after a fix.

type runStarted struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
}

// startRun is POST /v1/offices/{ref}/runs.
func (s *Server) startRun(c *gin.Context) {
	ctx := c.Request.Context()
	school := schoolOf(c)
	ref, ok := lookupRef(c)
	if !ok {
		_ = c.Error(errOfficeNotFound)
		return
	}
	office, err := dbq.New(s.Pool).OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: school.ID, Ref: ref})
	if db.IsNotFound(err) {
		_ = c.Error(errOfficeNotFound)
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	if office.AccountID == nil {
		_ = c.Error(conflict(typeNotLinked, "Ce bureau n'est pas connecté à un compte RdvPermis : connectez-le avant de lancer un envoi."))
		return
	}
	workflowID, runID, err := s.Orchestrator.StartRun(ctx, school.ID, office.ID)
	if err != nil {
		_ = c.Error(orchestratorProblem("L'envoi n'a pas pu être lancé pour le moment : réessayez dans quelques minutes. Les leçons partiront de toute façon lors de l'envoi quotidien.", err, s, c))
		return
	}
	c.JSON(http.StatusAccepted, runStarted{WorkflowID: workflowID, RunID: runID})
}

type resendStarted struct {
	WorkflowID string     `json:"workflow_id"`
	RunID      string     `json:"run_id"`
	Lesson     lessonView `json:"lesson"`
}

// resendLesson is POST /v1/lessons/{ref}/resend: a lesson in error goes back to pending and,
// unless Livret's own checks still refuse it, is sent at once.
func (s *Server) resendLesson(c *gin.Context) {
	ctx := c.Request.Context()
	school := schoolOf(c)
	ref, ok := lookupRef(c)
	if !ok {
		_ = c.Error(errLessonNotFound)
		return
	}
	var (
		view     lessonView
		lesson   dbq.LessonGetByRefForUpdateRow
		previous string
	)
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		lesson, err = q.LessonGetByRefForUpdate(ctx, dbq.LessonGetByRefForUpdateParams{SchoolID: school.ID, Ref: ref})
		if db.IsNotFound(err) {
			return errLessonNotFound
		}
		if err != nil {
			return err
		}
		previous = lesson.TransmissionStatus
		if previous != string(domain.StatusError) {
			return conflict(typeNotInError, "Seule une leçon en erreur peut être renvoyée ; celle-ci est « "+statusLabel(previous)+" ».")
		}
		if _, err := q.TransmissionResend(ctx, dbq.TransmissionResendParams{SchoolID: school.ID, LessonID: lesson.ID}); err != nil {
			return err
		}
		// Livret's own checks first: a lesson they still refuse costs no DSR call.
		if err := reevaluate(ctx, q, school.ID, dbq.LessonFactsListParams{LessonID: &lesson.ID}); err != nil {
			return err
		}
		view, err = lessonByID(ctx, q, school.ID, lesson.ID)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	if view.Transmission.Status != string(domain.StatusPending) {
		c.JSON(http.StatusOK, view)
		return
	}
	workflowID, runID, err := s.Orchestrator.Resend(ctx, school.ID, lesson.OfficeID, lesson.ID)
	if err != nil {
		_ = c.Error(orchestratorProblem("La leçon est de nouveau en attente et partira lors du prochain envoi quotidien ; l'envoi immédiat n'a pas pu être lancé.", err, s, c))
		return
	}
	c.JSON(http.StatusAccepted, resendStarted{WorkflowID: workflowID, RunID: runID, Lesson: view})
}

// statusLabel is a status in the report's French words.
func statusLabel(status string) string {
	switch domain.Status(status) {
	case domain.StatusPending, domain.StatusSending:
		return "en attente"
	case domain.StatusTransmitted:
		return "transmise"
	case domain.StatusError:
		return "en erreur"
	case domain.StatusNotEligible:
		return "non concernée"
	case domain.StatusCancelled:
		return "annulée"
	}
	return status
}
