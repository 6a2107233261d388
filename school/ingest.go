package school

import (
	"context"
	"strings"
	"time"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// The management software pushes its data with idempotent upserts by its own ids (refs).
// Each request is applied whole, in one transaction, or not at all.

// OfficeInput is the body of PUT /v1/offices/{ref}.
type OfficeInput struct {
	Name string `json:"name"`
}

// InstructorInput is the body of PUT /v1/instructors/{ref}.
type InstructorInput struct {
	FirstName           string `json:"first_name"`
	LastName            string `json:"last_name"`
	AuthorizationNumber string `json:"authorization_number"`
	Simulator           bool   `json:"simulator"`
}

// StudentInput is the body of PUT /v1/students/{ref}.
type StudentInput struct {
	OfficeRef string `json:"office_ref"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	NEPH      string `json:"neph"`
	// The one-training form: this training is written, the student's others are kept.
	Category                  string `json:"category"`
	InitialEvaluationAccepted bool   `json:"initial_evaluation_accepted"`
	// Trainings, when sent, are all of the student's trainings (one per category).
	Trainings *[]TrainingInput `json:"trainings"`
}

// LessonInput is the body of PUT /v1/lessons/{ref}.
type LessonInput struct {
	OfficeRef     string  `json:"office_ref"`
	StudentRef    string  `json:"student_ref"`
	InstructorRef string  `json:"instructor_ref"`
	Type          string  `json:"type"`
	Start         string  `json:"start"`
	End           string  `json:"end"`
	PlannedAt     *string `json:"planned_at"`
	// Category names the lesson's training; required only when the student has several.
	Category *string `json:"category"`
	// SessionRef ties the lessons of one collective session (one per attending student).
	SessionRef string `json:"session_ref"`
}

// Messages naming a reference the school does not have (or another school has: same answer).
const (
	msgUnknownOffice     = "Bureau inconnu : envoyez-le d'abord (PUT /v1/offices/{ref})."
	msgUnknownStudent    = "Élève inconnu : envoyez-le d'abord (PUT /v1/students/{ref})."
	msgUnknownInstructor = "Formateur inconnu : envoyez-le d'abord (PUT /v1/instructors/{ref})."
)

// created is true when the row was just inserted: an insert sets both timestamps to the
// same now(), an update moves updated_at only.
func created(createdAt, updatedAt time.Time) bool { return createdAt.Equal(updatedAt) }

// PutOffice creates or updates an office; isNew says which.
func (s *Service) PutOffice(ctx context.Context, school dbq.School, ref string, in OfficeInput) (view Office, isNew bool, err error) {
	if err := Authorize(ctx, domain.PermSend); err != nil {
		return Office{}, false, err
	}
	var errs fieldErrors
	name := errs.cleanText("name", in.Name, true, maxNameLen)
	if err := errs.problem(); err != nil {
		return Office{}, false, err
	}
	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		o, err := q.OfficeUpsert(ctx, dbq.OfficeUpsertParams{SchoolID: school.ID, Ref: ref, Name: name})
		if err != nil {
			return err
		}
		isNew = created(o.CreatedAt, o.UpdatedAt)
		view, err = s.officeCard(ctx, q, school, o.ID)
		return err
	})
	return view, isNew, err
}

// PutInstructor creates or updates an instructor and judges their lessons again.
func (s *Service) PutInstructor(ctx context.Context, school dbq.School, ref string, in InstructorInput) (view Instructor, isNew bool, err error) {
	if err := Authorize(ctx, domain.PermSend); err != nil {
		return Instructor{}, false, err
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
		return Instructor{}, false, err
	}
	var inst dbq.Instructor
	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		inst, err = q.InstructorUpsert(ctx, dbq.InstructorUpsertParams{SchoolID: school.ID, Ref: ref,
			FirstName: first, LastName: last, AuthorizationNumber: number, Simulator: in.Simulator})
		if err != nil {
			return err
		}
		isNew = created(inst.CreatedAt, inst.UpdatedAt)
		return Reevaluate(ctx, q, school.ID, Scope{InstructorID: &inst.ID})
	})
	if err != nil {
		return Instructor{}, false, err
	}
	return newInstructor(inst), isNew, nil
}

// PutStudent creates or updates a student and judges their lessons again.
func (s *Service) PutStudent(ctx context.Context, school dbq.School, ref string, in StudentInput) (view Student, isNew bool, err error) {
	if err := Authorize(ctx, domain.PermSend); err != nil {
		return Student{}, false, err
	}
	var errs fieldErrors
	officeRef := errs.cleanText("office_ref", in.OfficeRef, true, maxRefLen)
	first := errs.cleanText("first_name", in.FirstName, true, maxNameLen)
	last := errs.cleanText("last_name", in.LastName, true, maxNameLen)
	// A missing or malformed NEPH is stored as given, not refused (the same policy as the
	// authorisation number's): the student exists, and each of their lessons says in French
	// why it will not go (NEPH_MANQUANT, NEPH_INVALIDE) until the NEPH is fixed. Only what
	// cannot be stored at all (too long, control characters) is a 422.
	neph := errs.cleanText("neph", in.NEPH, false, maxCodeLen)
	if n, ok := domain.NormalizeNEPH(neph); ok {
		neph = n
	}
	trainings, all := parseTrainings(in, &errs)
	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		office, err := lookupOffice(ctx, q, school.ID, officeRef, &errs)
		if err != nil {
			return err
		}
		if err := errs.problem(); err != nil {
			return err
		}
		student, err := q.StudentUpsert(ctx, dbq.StudentUpsertParams{SchoolID: school.ID, Ref: ref, OfficeID: office.ID,
			FirstName: first, LastName: last, SearchName: domain.SearchKey(first + " " + last), Neph: neph})
		if err != nil {
			return err
		}
		isNew = created(student.CreatedAt, student.UpdatedAt)
		if err := saveTrainings(ctx, q, school.ID, student.ID, trainings, all, &errs); err != nil {
			return err
		}
		if err := errs.problem(); err != nil {
			return err // rolled back: nothing half-written
		}
		if err := Reevaluate(ctx, q, school.ID, Scope{StudentID: &student.ID}); err != nil {
			return err
		}
		ts, err := studentTrainings(ctx, q, school.ID, []int64{student.ID})
		if err != nil {
			return err
		}
		view = newStudent(student.ID, student.Ref, officeRef, student.FirstName, student.LastName, student.Neph, ts[student.ID])
		return nil
	})
	if err != nil {
		return Student{}, false, err
	}
	return view, isNew, nil
}

// PutLesson creates or updates a lesson and judges it, in one transaction: the answer says
// at once whether it will be sent, and why not.
func (s *Service) PutLesson(ctx context.Context, school dbq.School, ref string, in LessonInput) (view Lesson, isNew bool, err error) {
	if err := Authorize(ctx, domain.PermSend); err != nil {
		return Lesson{}, false, err
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
	sessionRef := errs.cleanText("session_ref", in.SessionRef, false, maxRefLen)
	var plannedAt *time.Time
	if in.PlannedAt != nil {
		if t, ok := errs.parseTime("planned_at", *in.PlannedAt, false); ok {
			plannedAt = &t
		}
	}

	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
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
		// The student's trainings change only with the student's row (PutStudent upserts it),
		// which lookupStudent holds FOR SHARE: they cannot change, nor one of them go, until
		// this lesson is written.
		var training dbq.TrainingListRow
		if student.ID != 0 {
			ts, err := studentTrainings(ctx, q, school.ID, []int64{student.ID})
			if err != nil {
				return err
			}
			training, _ = lessonTraining(ts[student.ID], in.Category, &errs)
		}
		// Every bad field at once, the unknown refs included.
		if err := errs.problem(); err != nil {
			return err
		}

		// Locked until commit: a run cannot mark the lesson sending while it changes.
		existing, err := q.LessonGetByRefForUpdate(ctx, dbq.LessonGetByRefForUpdateParams{SchoolID: school.ID, Ref: ref})
		switch {
		case db.IsNotFound(err):
			isNew = true
		case err != nil:
			return err
		default:
			if domain.Status(existing.TransmissionStatus).AtDSR() {
				unchanged := existing.OfficeID == office.ID && existing.StudentID == student.ID &&
					existing.InstructorID == instructor.ID && existing.Type == string(typ) &&
					existing.TrainingID == training.ID && existing.SessionRef == sessionRef &&
					existing.StartsAt.Equal(start) && existing.EndsAt.Equal(end) &&
					(plannedAt == nil || existing.PlannedAt.Equal(*plannedAt))
				if !unchanged {
					return lockedLesson(existing.TransmissionStatus, "modifiée")
				}
				// A replay of what the DSR already has: answer it as it stands.
				view, err = s.lessonByID(ctx, q, school, existing.ID)
				return err
			}
		}

		lesson, err := q.LessonUpsert(ctx, dbq.LessonUpsertParams{SchoolID: school.ID, Ref: ref, OfficeID: office.ID,
			StudentID: student.ID, TrainingID: training.ID, InstructorID: instructor.ID, Type: string(typ),
			SessionRef: sessionRef, StartsAt: start, EndsAt: end, PlannedAt: plannedAt})
		if err != nil {
			return err
		}
		if err := Reevaluate(ctx, q, school.ID, Scope{LessonID: &lesson.ID}); err != nil {
			return err
		}
		view, err = s.lessonByID(ctx, q, school, lesson.ID)
		return err
	})
	return view, isNew, err
}

// CancelLesson cancels a lesson not yet at the DSR.
func (s *Service) CancelLesson(ctx context.Context, school dbq.School, ref string) (view Lesson, err error) {
	if err := Authorize(ctx, domain.PermSend); err != nil {
		return Lesson{}, err
	}
	if !ValidLookupRef(ref) {
		return Lesson{}, ErrLessonNotFound
	}
	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		existing, err := q.LessonGetByRefForUpdate(ctx, dbq.LessonGetByRefForUpdateParams{SchoolID: school.ID, Ref: ref})
		if db.IsNotFound(err) || (err == nil && !seesOffice(ctx, existing.OfficeID)) {
			return ErrLessonNotFound
		}
		if err != nil {
			return err
		}
		if domain.Status(existing.TransmissionStatus).AtDSR() {
			return lockedLesson(existing.TransmissionStatus, "annulée")
		}
		if err := q.LessonCancel(ctx, dbq.LessonCancelParams{SchoolID: school.ID, ID: existing.ID}); err != nil {
			return err
		}
		if err := audit(ctx, q, school, AuditLessonCancel, lessonObject(existing.Ref)); err != nil {
			return err
		}
		if err := Reevaluate(ctx, q, school.ID, Scope{LessonID: &existing.ID}); err != nil {
			return err
		}
		view, err = s.lessonByID(ctx, q, school, existing.ID)
		return err
	})
	return view, err
}

// lockedLesson is the 409 for a change to a lesson at the DSR; verb is "modifiée" or "annulée".
func lockedLesson(status, verb string) *Problem {
	if status == string(domain.StatusSending) {
		return Conflict(TypeBeingSent, "Cette leçon est en cours d'envoi à la DSR : elle ne peut pas être "+verb+" pour l'instant. Réessayez dans quelques minutes.")
	}
	return Conflict(TypeAlreadySent, "Cette leçon a déjà été transmise à la DSR : elle ne peut plus être "+verb+".")
}

func (s *Service) lessonByID(ctx context.Context, q *dbq.Queries, school dbq.School, lessonID int64) (Lesson, error) {
	row, err := q.LessonViewGet(ctx, dbq.LessonViewGetParams{SchoolID: school.ID, LessonID: lessonID})
	if err != nil {
		return Lesson{}, err
	}
	return newLesson(row.ReportLine, s.clock(school)), nil
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
	if db.IsNotFound(err) || (err == nil && !seesOffice(ctx, o.ID)) {
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
