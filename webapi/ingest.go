package webapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// The management software pushes its data with idempotent upserts by its own ids (refs).
// Each request is applied whole, in one transaction, or not at all.

type officeInput struct {
	Name string `json:"name"`
}

type instructorInput struct {
	FirstName           string `json:"first_name"`
	LastName            string `json:"last_name"`
	AuthorizationNumber string `json:"authorization_number"`
	Simulator           bool   `json:"simulator"`
}

type studentInput struct {
	OfficeRef                 string `json:"office_ref"`
	FirstName                 string `json:"first_name"`
	LastName                  string `json:"last_name"`
	NEPH                      string `json:"neph"`
	Category                  string `json:"category"`
	InitialEvaluationAccepted bool   `json:"initial_evaluation_accepted"`
}

type lessonInput struct {
	OfficeRef     string  `json:"office_ref"`
	StudentRef    string  `json:"student_ref"`
	InstructorRef string  `json:"instructor_ref"`
	Type          string  `json:"type"`
	Start         string  `json:"start"`
	End           string  `json:"end"`
	PlannedAt     *string `json:"planned_at"`
}

// Messages naming a reference the school does not have (or another school has: same answer).
const (
	msgUnknownOffice     = "Bureau inconnu : envoyez-le d'abord (PUT /v1/offices/{ref})."
	msgUnknownStudent    = "Élève inconnu : envoyez-le d'abord (PUT /v1/students/{ref})."
	msgUnknownInstructor = "Formateur inconnu : envoyez-le d'abord (PUT /v1/instructors/{ref})."
)

// readInput checks the path's ref and decodes the body strictly.
func readInput(c *gin.Context, dst any) (ref string, err error) {
	ref = c.Param("ref")
	if err := checkRef("ref", ref); err != nil {
		return "", err
	}
	return ref, decodeStrict(c, dst)
}

// upsertStatus is 201 when the row was just created, 200 when it was updated: an insert sets
// both timestamps to the same now(), an update moves updated_at only.
func upsertStatus(createdAt, updatedAt time.Time) int {
	if createdAt.Equal(updatedAt) {
		return http.StatusCreated
	}
	return http.StatusOK
}

func (s *Server) putOffice(c *gin.Context) {
	school := schoolOf(c)
	var in officeInput
	ref, err := readInput(c, &in)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var errs fieldErrors
	name := errs.cleanText("name", in.Name, true, maxNameLen)
	if err := errs.problem(); err != nil {
		_ = c.Error(err)
		return
	}
	var (
		view   officeView
		status int
	)
	err = db.WithTx(c.Request.Context(), s.Pool, func(q *dbq.Queries) error {
		o, err := q.OfficeUpsert(c.Request.Context(), dbq.OfficeUpsertParams{SchoolID: school.ID, Ref: ref, Name: name})
		if err != nil {
			return err
		}
		status = upsertStatus(o.CreatedAt, o.UpdatedAt)
		view, err = officeCard(c.Request.Context(), q, school.ID, o.ID)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(status, view)
}

func (s *Server) putInstructor(c *gin.Context) {
	school := schoolOf(c)
	var in instructorInput
	ref, err := readInput(c, &in)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var errs fieldErrors
	first := errs.cleanText("first_name", in.FirstName, false, maxNameLen)
	last := errs.cleanText("last_name", in.LastName, true, maxNameLen)
	// A missing or malformed number is stored, not refused: the instructor exists, and each
	// of their lessons shows the DSR's own wording of the problem until it is fixed.
	number := errs.cleanText("authorization_number", in.AuthorizationNumber, false, maxCodeLen)
	if n, ok := domain.NormalizeAuthorization(number); ok {
		number = n
	}
	if err := errs.problem(); err != nil {
		_ = c.Error(err)
		return
	}
	var (
		inst   dbq.Instructor
		status int
	)
	err = db.WithTx(c.Request.Context(), s.Pool, func(q *dbq.Queries) error {
		ctx := c.Request.Context()
		var err error
		inst, err = q.InstructorUpsert(ctx, dbq.InstructorUpsertParams{SchoolID: school.ID, Ref: ref,
			FirstName: first, LastName: last, AuthorizationNumber: number, Simulator: in.Simulator})
		if err != nil {
			return err
		}
		status = upsertStatus(inst.CreatedAt, inst.UpdatedAt)
		return reevaluate(ctx, q, school.ID, dbq.LessonFactsListParams{InstructorID: &inst.ID})
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(status, newInstructorView(inst))
}

func (s *Server) putStudent(c *gin.Context) {
	school := schoolOf(c)
	var in studentInput
	ref, err := readInput(c, &in)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var errs fieldErrors
	officeRef := errs.cleanText("office_ref", in.OfficeRef, true, maxRefLen)
	first := errs.cleanText("first_name", in.FirstName, true, maxNameLen)
	last := errs.cleanText("last_name", in.LastName, true, maxNameLen)
	// An empty NEPH is accepted: the student exists, and their lessons show NEPH_MANQUANT
	// until it is given. A NEPH that is given must be well formed.
	neph := errs.cleanText("neph", in.NEPH, false, maxCodeLen)
	if neph != "" {
		if n, ok := domain.NormalizeNEPH(neph); ok {
			neph = n
		} else {
			errs.add("neph", "Le NEPH doit comporter 12 chiffres.")
		}
	}
	category, ok := domain.ParseCategory(in.Category)
	if !ok {
		errs.add("category", "Catégorie de permis inconnue. Valeurs possibles : "+categoryList()+".")
	}
	var (
		student dbq.Student
		status  int
	)
	err = db.WithTx(c.Request.Context(), s.Pool, func(q *dbq.Queries) error {
		ctx := c.Request.Context()
		office, err := lookupOffice(ctx, q, school.ID, officeRef, &errs)
		if err != nil {
			return err
		}
		if err := errs.problem(); err != nil {
			return err
		}
		student, err = q.StudentUpsert(ctx, dbq.StudentUpsertParams{SchoolID: school.ID, Ref: ref, OfficeID: office.ID,
			FirstName: first, LastName: last, SearchName: domain.SearchKey(first + " " + last), Neph: neph,
			Category: string(category), InitialEvaluationAccepted: in.InitialEvaluationAccepted})
		if err != nil {
			return err
		}
		status = upsertStatus(student.CreatedAt, student.UpdatedAt)
		return reevaluate(ctx, q, school.ID, dbq.LessonFactsListParams{StudentID: &student.ID})
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(status, newStudentView(student, officeRef))
}

func (s *Server) putLesson(c *gin.Context) {
	school := schoolOf(c)
	var in lessonInput
	ref, err := readInput(c, &in)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var errs fieldErrors
	officeRef := errs.cleanText("office_ref", in.OfficeRef, true, maxRefLen)
	studentRef := errs.cleanText("student_ref", in.StudentRef, true, maxRefLen)
	instructorRef := errs.cleanText("instructor_ref", in.InstructorRef, true, maxRefLen)
	typ, ok := domain.ParseLessonType(in.Type)
	if !ok {
		errs.add("type", "Type de leçon inconnu. Valeurs possibles : "+lessonTypeList()+".")
	}
	start, startOK := errs.parseTime("start", in.Start, true)
	end, endOK := errs.parseTime("end", in.End, true)
	if startOK && endOK && !end.After(start) {
		errs.add("end", "La fin de la leçon doit être après son début.")
	}
	var plannedAt *time.Time
	if in.PlannedAt != nil {
		if t, ok := errs.parseTime("planned_at", *in.PlannedAt, false); ok {
			plannedAt = &t
		}
	}

	var (
		view   lessonView
		status = http.StatusOK
	)
	err = db.WithTx(c.Request.Context(), s.Pool, func(q *dbq.Queries) error {
		ctx := c.Request.Context()
		office, err := lookupOffice(ctx, q, school.ID, officeRef, &errs)
		if err != nil {
			return err
		}
		student, err := lookupStudent(ctx, q, school.ID, studentRef, &errs)
		if err != nil {
			return err
		}
		instructor, err := lookupInstructor(ctx, q, school.ID, instructorRef, &errs)
		if err != nil {
			return err
		}
		// Every bad field at once, the unknown refs included.
		if err := errs.problem(); err != nil {
			return err
		}

		// Locked until commit: a run cannot mark the lesson sending while it changes.
		existing, err := q.LessonGetByRefForUpdate(ctx, dbq.LessonGetByRefForUpdateParams{SchoolID: school.ID, Ref: ref})
		switch {
		case db.IsNotFound(err):
			status = http.StatusCreated
		case err != nil:
			return err
		default:
			if atDSR(existing.TransmissionStatus) {
				unchanged := existing.OfficeID == office.ID && existing.StudentID == student.ID &&
					existing.InstructorID == instructor.ID && existing.Type == string(typ) &&
					existing.StartsAt.Equal(start) && existing.EndsAt.Equal(end) &&
					(plannedAt == nil || existing.PlannedAt.Equal(*plannedAt))
				if !unchanged {
					return lockedLesson(existing.TransmissionStatus, "modifiée")
				}
				// A replay of what the DSR already has: answer it as it stands.
				view, err = lessonByID(ctx, q, school.ID, existing.ID)
				return err
			}
		}

		lesson, err := q.LessonUpsert(ctx, dbq.LessonUpsertParams{SchoolID: school.ID, Ref: ref, OfficeID: office.ID,
			StudentID: student.ID, InstructorID: instructor.ID, Type: string(typ), StartsAt: start, EndsAt: end,
			PlannedAt: plannedAt})
		if err != nil {
			return err
		}
		v := domain.Evaluate(lessonFacts(lesson, student, instructor, office))
		if err := setVerdict(ctx, q, lesson.ID, school.ID, office.ID, student.ID, lesson.StartsAt, lesson.EndsAt, v); err != nil {
			return err
		}
		view, err = lessonByID(ctx, q, school.ID, lesson.ID)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(status, view)
}

func (s *Server) cancelLesson(c *gin.Context) {
	school := schoolOf(c)
	ref, ok := lookupRef(c)
	if !ok {
		_ = c.Error(errLessonNotFound)
		return
	}
	var view lessonView
	err := db.WithTx(c.Request.Context(), s.Pool, func(q *dbq.Queries) error {
		ctx := c.Request.Context()
		existing, err := q.LessonGetByRefForUpdate(ctx, dbq.LessonGetByRefForUpdateParams{SchoolID: school.ID, Ref: ref})
		if db.IsNotFound(err) {
			return errLessonNotFound
		}
		if err != nil {
			return err
		}
		if atDSR(existing.TransmissionStatus) {
			return lockedLesson(existing.TransmissionStatus, "annulée")
		}
		if err := q.LessonCancel(ctx, dbq.LessonCancelParams{SchoolID: school.ID, ID: existing.ID}); err != nil {
			return err
		}
		if err := reevaluate(ctx, q, school.ID, dbq.LessonFactsListParams{LessonID: &existing.ID}); err != nil {
			return err
		}
		view, err = lessonByID(ctx, q, school.ID, existing.ID)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, view)
}

var errLessonNotFound = notFound("Leçon introuvable.")

// atDSR reports whether a lesson is at the DSR or on its way: its data can no longer change.
func atDSR(status string) bool {
	return status == string(domain.StatusTransmitted) || status == string(domain.StatusSending)
}

// lockedLesson is the 409 for a change to a lesson at the DSR; verb is "modifiée" or "annulée".
func lockedLesson(status, verb string) *Problem {
	if status == string(domain.StatusSending) {
		return conflict(typeBeingSent, "Cette leçon est en cours d'envoi à la DSR : elle ne peut pas être "+verb+" pour l'instant. Réessayez dans quelques minutes.")
	}
	return conflict(typeAlreadySent, "Cette leçon a déjà été transmise à la DSR : elle ne peut plus être "+verb+".")
}

func lessonByID(ctx context.Context, q *dbq.Queries, schoolID, lessonID int64) (lessonView, error) {
	row, err := q.LessonViewGet(ctx, dbq.LessonViewGetParams{SchoolID: schoolID, LessonID: lessonID})
	if err != nil {
		return lessonView{}, err
	}
	return newLessonView(row), nil
}

// The lookups of referenced rows lock them FOR SHARE until the write commits: a concurrent
// change of the office link, the student or the instructor re-evaluates their lessons, and
// must wait for (and so see) the lesson written here.

// lookupOffice finds a referenced office; an unknown one is a field error of "office_ref".
// An empty ref (already refused) is not looked up.
func lookupOffice(ctx context.Context, q *dbq.Queries, schoolID int64, ref string, errs *fieldErrors) (dbq.Office, error) {
	if ref == "" {
		return dbq.Office{}, nil
	}
	o, err := q.OfficeGetByRefForShare(ctx, dbq.OfficeGetByRefForShareParams{SchoolID: schoolID, Ref: ref})
	if db.IsNotFound(err) {
		errs.add("office_ref", msgUnknownOffice)
		return o, nil
	}
	return o, err
}

func lookupStudent(ctx context.Context, q *dbq.Queries, schoolID int64, ref string, errs *fieldErrors) (dbq.Student, error) {
	if ref == "" {
		return dbq.Student{}, nil
	}
	st, err := q.StudentGetByRefForShare(ctx, dbq.StudentGetByRefForShareParams{SchoolID: schoolID, Ref: ref})
	if db.IsNotFound(err) {
		errs.add("student_ref", msgUnknownStudent)
		return st, nil
	}
	return st, err
}

func lookupInstructor(ctx context.Context, q *dbq.Queries, schoolID int64, ref string, errs *fieldErrors) (dbq.Instructor, error) {
	if ref == "" {
		return dbq.Instructor{}, nil
	}
	in, err := q.InstructorGetByRefForShare(ctx, dbq.InstructorGetByRefForShareParams{SchoolID: schoolID, Ref: ref})
	if db.IsNotFound(err) {
		errs.add("instructor_ref", msgUnknownInstructor)
		return in, nil
	}
	return in, err
}

func categoryList() string {
	names := make([]string, 0, len(domain.Categories()))
	for _, c := range domain.Categories() {
		names = append(names, string(c))
	}
	return strings.Join(names, ", ")
}

func lessonTypeList() string {
	names := make([]string, 0, len(domain.LessonTypes()))
	for _, t := range domain.LessonTypes() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}
