package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"livret/livretclient"
)

// scenarioBulk measures a bulk sync: the same c.bulkItems items (offices, instructors,
// students, lessons) pushed into one school per variant of one Livret, through POST /v1/batch
// in batches of 1,000 (its items four, two or one at a time: Service.BatchWorkers), and as
// single PUTs, from one client and from several at once. The variants take turns, 1,000 items
// each, so that a change in the machine's load falls on all of them alike.
func scenarioBulk(ctx context.Context, c config) ([]result, error) {
	s, err := newStack(ctx, c.adminURL, c.dbConns)
	if err != nil {
		return nil, err
	}
	defer s.close()
	web, err := startAPI(ctx, s)
	if err != nil {
		return nil, err
	}
	defer web.close()

	type variant struct {
		name string
		send func(ctx context.Context, api *livretclient.Client, chunk livretclient.BatchInput) (requests int, err error)
	}
	var variants []variant
	for _, w := range []struct {
		workers int
		name    string
	}{{4, "4 items at once (a pool of 8+ connections)"}, {2, "2 items at once (pgxpool's default of 4 connections)"}, {1, "1 item at a time"}} {
		variants = append(variants, variant{"POST /v1/batch, " + w.name, func(ctx context.Context, api *livretclient.Client, chunk livretclient.BatchInput) (int, error) {
			web.server.School.BatchWorkers = w.workers
			return 1, sendBatch(ctx, api, chunk)
		}})
	}
	single := len(variants) // the reference: single PUTs from one client
	variants = append(variants, variant{"single PUTs, 1 client", func(ctx context.Context, api *livretclient.Client, chunk livretclient.BatchInput) (int, error) {
		return sendSingles(ctx, api, chunk, 1)
	}}, variant{fmt.Sprintf("single PUTs, %d clients", c.bulkClients), func(ctx context.Context, api *livretclient.Client, chunk livretclient.BatchInput) (int, error) {
		return sendSingles(ctx, api, chunk, c.bulkClients)
	}})
	apis := make([]*livretclient.Client, len(variants))
	for i := range variants {
		agrement := fmt.Sprintf("E07%08d", i)
		created, err := web.admin.CreateSchool(ctx, livretclient.SchoolInput{Name: "Auto-école " + agrement, Agrement: agrement})
		if err != nil {
			return nil, err
		}
		apis[i] = web.admin.WithToken(created.APIKey)
		// Kept-alive connections for every client at once (Go's default keeps 2 idle).
		apis[i].HTTP = livretclient.NoRedirects(5 * time.Minute)
		apis[i].HTTP.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	}
	items := bulkData(c.bulkItems)
	walls := make([]time.Duration, len(variants))
	requests := make([]int, len(variants))
	for _, chunk := range batches(items) {
		for i, v := range variants {
			start := time.Now()
			n, err := v.send(ctx, apis[i], chunk)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", v.name, err)
			}
			walls[i] += time.Since(start)
			requests[i] += n
		}
	}
	web.server.School.BatchWorkers = 0
	var out []result
	for i, v := range variants {
		// Everything is there: the school's report lists every lesson.
		page, err := apis[i].Lessons(ctx, livretclient.LessonQuery{})
		if err != nil {
			return nil, err
		}
		if page.Total != len(items.Lessons) {
			return nil, fmt.Errorf("%s: %d lessons in the report, %d sent", v.name, page.Total, len(items.Lessons))
		}
		out = append(out, result{Scenario: "bulk", Variant: v.name, Items: items.Len(), Requests: requests[i],
			WallS: walls[i].Seconds(), ItemsPerS: float64(items.Len()) / walls[i].Seconds()})
	}
	for i := range out {
		out[i].Ratio = out[i].ItemsPerS / out[single].ItemsPerS
	}
	return out, nil
}

// bulkData is n items as a management software's first sync sends them: per 500 items, 1
// office, 4 instructors, 95 students (one B training each) and 400 lessons of the past year.
func bulkData(n int) livretclient.BatchInput {
	offices, instructors := max(1, n/500), max(1, n/125)
	students := max(1, n*19/100)
	lessons := max(0, n-offices-instructors-students)
	var in livretclient.BatchInput
	for i := range offices {
		in.Offices = append(in.Offices, livretclient.BatchOffice{Ref: fmt.Sprintf("B%d", i),
			OfficeInput: livretclient.OfficeInput{Name: fmt.Sprintf("Bureau %d", i)}})
	}
	for i := range instructors {
		in.Instructors = append(in.Instructors, livretclient.BatchInstructor{Ref: fmt.Sprintf("I%d", i),
			InstructorInput: livretclient.InstructorInput{FirstName: "Jean", LastName: fmt.Sprintf("Dupont%d", i),
				AuthorizationNumber: fmt.Sprintf("A%010d", i+1)}})
	}
	for i := range students {
		in.Students = append(in.Students, livretclient.BatchStudent{Ref: fmt.Sprintf("S%d", i),
			StudentInput: livretclient.StudentInput{OfficeRef: fmt.Sprintf("B%d", i%offices), FirstName: "Camille",
				LastName: fmt.Sprintf("Élève%d", i), NEPH: fmt.Sprintf("%012d", 120675000000+i), Category: "B",
				InitialEvaluationAccepted: true}})
	}
	for i := range lessons {
		st := i % students
		// Each student's lessons a day apart, 08:00–09:00 Paris.
		start := time.Date(2025, 1, 1, 8, 0, 0, 0, time.FixedZone("CET", 3600)).AddDate(0, 0, i/students)
		in.Lessons = append(in.Lessons, livretclient.BatchLesson{Ref: fmt.Sprintf("L%d", i),
			LessonInput: livretclient.LessonInput{OfficeRef: fmt.Sprintf("B%d", st%offices), StudentRef: fmt.Sprintf("S%d", st),
				InstructorRef: fmt.Sprintf("I%d", i%instructors), Type: "conduite", Start: start, End: start.Add(time.Hour)}})
	}
	return in
}

// batches cuts the items, in their order, into batches of MaxBatchItems: a batch holds what
// the ones before it need.
func batches(in livretclient.BatchInput) []livretclient.BatchInput {
	var out []livretclient.BatchInput
	for in.Len() > 0 {
		var b livretclient.BatchInput
		room := livretclient.MaxBatchItems
		b.Offices, in.Offices, room = cut(in.Offices, room)
		b.Instructors, in.Instructors, room = cut(in.Instructors, room)
		b.Students, in.Students, room = cut(in.Students, room)
		b.Lessons, in.Lessons, _ = cut(in.Lessons, room)
		out = append(out, b)
	}
	return out
}

// sendBatch sends one batch and expects every item created.
func sendBatch(ctx context.Context, api *livretclient.Client, b livretclient.BatchInput) error {
	out, err := api.Batch(ctx, b)
	if err != nil {
		return err
	}
	if len(out.Results) != b.Len() {
		return fmt.Errorf("%d results for %d items", len(out.Results), b.Len())
	}
	for _, r := range out.Results {
		if r.Status != http.StatusCreated {
			return fmt.Errorf("%s %s: status %d %s %v", r.Kind, r.Ref, r.Status, r.Detail, r.Errors)
		}
	}
	return nil
}

func cut[T any](items []T, room int) (taken, rest []T, left int) {
	n := min(len(items), room)
	return items[:n], items[n:], room - n
}

// sendSingles sends each item as its single PUT, list after list (a lesson needs its
// student), each list's items from the given number of clients at once.
func sendSingles(ctx context.Context, api *livretclient.Client, in livretclient.BatchInput, clients int) (int, error) {
	var puts []func() error
	flush := func() error {
		err := parallel(puts, clients)
		puts = puts[:0]
		return err
	}
	n := 0
	for _, o := range in.Offices {
		puts = append(puts, func() error { _, err := api.PutOffice(ctx, o.Ref, o.OfficeInput); return err })
	}
	n += len(puts)
	if err := flush(); err != nil {
		return n, err
	}
	for _, i := range in.Instructors {
		puts = append(puts, func() error { _, err := api.PutInstructor(ctx, i.Ref, i.InstructorInput); return err })
	}
	n += len(puts)
	if err := flush(); err != nil {
		return n, err
	}
	for _, st := range in.Students {
		puts = append(puts, func() error { _, err := api.PutStudent(ctx, st.Ref, st.StudentInput); return err })
	}
	n += len(puts)
	if err := flush(); err != nil {
		return n, err
	}
	for _, l := range in.Lessons {
		puts = append(puts, func() error { _, err := api.PutLesson(ctx, l.Ref, l.LessonInput); return err })
	}
	n += len(puts)
	return n, flush()
}

// parallel runs fns from the given number of goroutines and returns the first error.
func parallel(fns []func() error, workers int) error {
	next := make(chan func() error)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fn := range next {
				if err := fn(); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for _, fn := range fns {
		next <- fn
	}
	close(next)
	wg.Wait()
	return first
}
