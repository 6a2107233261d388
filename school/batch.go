package school

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"livret/db/dbq"
)

// A bulk sync (POST /v1/batch, docs/api.md "Bulk sync") is many PUTs in one request: each item
// is the body of its single PUT plus its ref, and goes through that PUT's own use case, in its
// own transaction. A bad item is that item's refusal only: the others are applied all the same,
// and nothing of it is written.

// MaxBatchItems bounds one batch, every kind together: a batch is answered in one go, item by
// item, so its size bounds how long the caller waits (a few seconds at this size).
const MaxBatchItems = 1000

// The kinds of a batch's items, as its results name them.
const (
	KindOffice     = "office"
	KindInstructor = "instructor"
	KindStudent    = "student"
	KindLesson     = "lesson"
)

// BatchItem is one item of a batch: the ref its single PUT takes from the path, and its body.
type BatchItem[T any] struct {
	Ref   string
	Input T
	// Refused is set by the HTTP layer when the item's JSON could not be read (unknown field,
	// wrong type): the item is answered with it and not applied.
	Refused *Problem
}

// BatchInput is a batch's items per kind. They are applied in this order, which is the order
// of their dependencies (a student names its office, a lesson its student and instructor), so
// an item may name one that comes before it in the same batch.
type BatchInput struct {
	Offices     []BatchItem[OfficeInput]
	Instructors []BatchItem[InstructorInput]
	Students    []BatchItem[StudentInput]
	Lessons     []BatchItem[LessonInput]
}

// Len is the number of items of every kind.
func (in BatchInput) Len() int {
	return len(in.Offices) + len(in.Instructors) + len(in.Students) + len(in.Lessons)
}

// BatchItemResult is what the item's single PUT would have answered, in short: its status,
// and when refused the problem's type, detail and field errors (the same French messages).
type BatchItemResult struct {
	Kind   string `json:"kind"`
	Ref    string `json:"ref"`
	Status int    `json:"status"`
	// Type and Detail are the refusal's problem type and French detail; empty when applied.
	Type   string       `json:"type,omitempty"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors"`
	// Transmission is a lesson's, as its PUT answers it: whether and when it will be sent.
	Transmission *Transmission `json:"transmission,omitempty"`
}

// BatchResult has one result per item, in the order they were applied: offices, instructors,
// students, lessons, each kind in the order of its list.
type BatchResult struct {
	Results []BatchItemResult `json:"results"`
}

// BatchTooLarge is the 413 of a batch of n items, over MaxBatchItems.
func BatchTooLarge(n int) *Problem {
	return &Problem{Type: TypeTooLarge, Title: "Lot trop volumineux", Status: http.StatusRequestEntityTooLarge,
		Detail: fmt.Sprintf("Un lot contient au plus 1 000 éléments (bureaux, formateurs, élèves et leçons ensemble) : "+
			"celui-ci en contient %d. Envoyez-le en plusieurs lots, dans le même ordre.", n)}
}

// msgBatchItemFailed is an item's answer when Livret itself failed on it (the database did not
// answer, say): the details are in Livret's log, never in the answer.
const msgBatchItemFailed = "Une erreur interne est survenue sur cet élément. Renvoyez-le : un envoi répété ne crée rien en double."

// Batch applies a batch's items one after the other, each through its PUT's use case. Its error
// is a refusal of the whole batch (too many items) or a request that ended (the caller went
// away): a bad item is only ever its own result.
func (s *Service) Batch(ctx context.Context, school dbq.School, in BatchInput) (BatchResult, error) {
	if n := in.Len(); n > MaxBatchItems {
		return BatchResult{}, BatchTooLarge(n)
	}
	out := BatchResult{Results: make([]BatchItemResult, 0, in.Len())}
	add := func(r BatchItemResult, err error) error {
		if err != nil {
			return err
		}
		out.Results = append(out.Results, r)
		return nil
	}
	for _, it := range in.Offices {
		if err := add(s.batchItem(ctx, KindOffice, it.Ref, it.Refused, func() (*Transmission, bool, error) {
			_, isNew, err := s.PutOffice(ctx, school, it.Ref, it.Input)
			return nil, isNew, err
		})); err != nil {
			return BatchResult{}, err
		}
	}
	for _, it := range in.Instructors {
		if err := add(s.batchItem(ctx, KindInstructor, it.Ref, it.Refused, func() (*Transmission, bool, error) {
			_, isNew, err := s.PutInstructor(ctx, school, it.Ref, it.Input)
			return nil, isNew, err
		})); err != nil {
			return BatchResult{}, err
		}
	}
	for _, it := range in.Students {
		if err := add(s.batchItem(ctx, KindStudent, it.Ref, it.Refused, func() (*Transmission, bool, error) {
			_, isNew, err := s.PutStudent(ctx, school, it.Ref, it.Input)
			return nil, isNew, err
		})); err != nil {
			return BatchResult{}, err
		}
	}
	for _, it := range in.Lessons {
		if err := add(s.batchItem(ctx, KindLesson, it.Ref, it.Refused, func() (*Transmission, bool, error) {
			l, isNew, err := s.PutLesson(ctx, school, it.Ref, it.Input)
			if err != nil {
				return nil, false, err
			}
			return &l.Transmission, isNew, nil
		})); err != nil {
			return BatchResult{}, err
		}
	}
	return out, nil
}

// batchItem checks an item's ref as its PUT checks the path's, applies it with put and says
// how that went. Its error is only a request that ended: the rest of the batch is not tried.
func (s *Service) batchItem(ctx context.Context, kind, ref string, refused *Problem, put func() (*Transmission, bool, error)) (BatchItemResult, error) {
	r := BatchItemResult{Kind: kind, Ref: ref, Errors: []FieldError{}}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	var err error
	var tr *Transmission
	var isNew bool
	switch {
	case refused != nil:
		err = refused
	default:
		if err = CheckRef("ref", ref); err == nil {
			tr, isNew, err = put()
		}
	}
	var p *Problem
	switch {
	case err == nil:
		r.Status, r.Transmission = http.StatusOK, tr
		if isNew {
			r.Status = http.StatusCreated
		}
		return r, nil
	case errors.As(err, &p):
		r.Status, r.Type, r.Detail = p.Status, p.Type, p.Detail
		if p.Errors != nil {
			r.Errors = p.Errors
		}
		return r, nil
	case ctx.Err() != nil:
		return r, ctx.Err()
	}
	// Only this item failed, and its transaction was rolled back: the others go on.
	s.log().ErrorContext(ctx, "batch item failed", "kind", kind, "error", err.Error())
	r.Status, r.Type, r.Detail = http.StatusInternalServerError, TypeInternal, msgBatchItemFailed
	return r, nil
}
