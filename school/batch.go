package school

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"sync"

	"livret/db/dbq"
	"livret/domain"
)

// A bulk sync (POST /v1/batch, docs/api.md "Bulk sync") is many PUTs in one request: each item
// is the body of its single PUT plus its ref, and goes through that PUT's own use case, in its
// own transaction. A bad item is that item's refusal only: the others are applied all the same,
// and nothing of it is written. The lists go in dependency order, one after the other; the
// items of one list go a few at once (batchWorkers), which is what makes a batch faster than
// the same PUTs sent one by one (BENCHMARKS.md, scenario bulk).

// MaxBatchItems bounds one batch, every kind together: a batch is answered in one go, once
// every item was tried, so its size bounds how long the caller waits (about a second here).
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

// Batch applies a batch's items, list after list, each through its PUT's use case. Its error
// is a refusal of the whole batch (too many items) or a request that ended (the caller went
// away; what was applied until then stays, and a replay is safe): a bad item is only ever its
// own result.
func (s *Service) Batch(ctx context.Context, school dbq.School, in BatchInput) (BatchResult, error) {
	if err := Authorize(ctx, domain.PermSend); err != nil {
		return BatchResult{}, err
	}
	if n := in.Len(); n > MaxBatchItems {
		return BatchResult{}, BatchTooLarge(n)
	}
	out := BatchResult{Results: make([]BatchItemResult, in.Len())}
	rest := out.Results
	next := func(n int) []BatchItemResult {
		r := rest[:n]
		rest = rest[n:]
		return r
	}
	workers := s.batchWorkers()
	if err := applyList(ctx, s, workers, KindOffice, in.Offices, next(len(in.Offices)), func(ref string, in OfficeInput) (*Transmission, bool, error) {
		_, isNew, err := s.PutOffice(ctx, school, ref, in)
		return nil, isNew, err
	}); err != nil {
		return BatchResult{}, err
	}
	if err := applyList(ctx, s, workers, KindInstructor, in.Instructors, next(len(in.Instructors)), func(ref string, in InstructorInput) (*Transmission, bool, error) {
		_, isNew, err := s.PutInstructor(ctx, school, ref, in)
		return nil, isNew, err
	}); err != nil {
		return BatchResult{}, err
	}
	if err := applyList(ctx, s, workers, KindStudent, in.Students, next(len(in.Students)), func(ref string, in StudentInput) (*Transmission, bool, error) {
		_, isNew, err := s.PutStudent(ctx, school, ref, in)
		return nil, isNew, err
	}); err != nil {
		return BatchResult{}, err
	}
	if err := applyList(ctx, s, workers, KindLesson, in.Lessons, next(len(in.Lessons)), func(ref string, in LessonInput) (*Transmission, bool, error) {
		l, isNew, err := s.PutLesson(ctx, school, ref, in)
		if err != nil {
			return nil, false, err
		}
		return &l.Transmission, isNew, nil
	}); err != nil {
		return BatchResult{}, err
	}
	return out, nil
}

// batchWorkers is how many items of one list a batch applies at once, each on its own
// connection: Service.BatchWorkers, else up to maxBatchWorkers but half the pool at most, so
// that a batch never holds every connection of the API.
func (s *Service) batchWorkers() int {
	if s.BatchWorkers > 0 {
		return s.BatchWorkers
	}
	if s.Pool == nil {
		return 1
	}
	return max(1, min(maxBatchWorkers, int(s.Pool.Config().MaxConns)/2))
}

const maxBatchWorkers = 4

// applyList applies one list's items into results (same length, same order). The items of
// a list do not depend on each other, only on earlier lists, so several go at once; items
// with the same ref go to the same worker, in their order, so the later one is the update.
func applyList[T any](ctx context.Context, s *Service, workers int, kind string, items []BatchItem[T], results []BatchItemResult,
	put func(ref string, in T) (*Transmission, bool, error)) error {
	workers = min(workers, len(items))
	if workers <= 1 {
		for i, it := range items {
			r, err := s.batchItem(ctx, kind, it.Ref, it.Refused, func() (*Transmission, bool, error) { return put(it.Ref, it.Input) })
			if err != nil {
				return err
			}
			results[i] = r
		}
		return nil
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Outside the handler's goroutine, the API's panic recovery cannot see a panic:
			// it is the request's failure (a 500), not the process's.
			defer func() {
				if v := recover(); v != nil {
					errs[w] = fmt.Errorf("batch %s worker panic: %v", kind, v)
				}
			}()
			for i, it := range items {
				if refWorker(it.Ref, workers) != w {
					continue
				}
				r, err := s.batchItem(ctx, kind, it.Ref, it.Refused, func() (*Transmission, bool, error) { return put(it.Ref, it.Input) })
				if err != nil {
					errs[w] = err
					return
				}
				results[i] = r
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // the request ended (every worker then stops), or a worker panicked
		}
	}
	return nil
}

// refWorker spreads refs over the workers, the same ref always to the same one.
func refWorker(ref string, workers int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(ref))
	return int(h.Sum32() % uint32(workers))
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
