package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
	"livret/livretclient"
	"livret/webapi"
	"livret/worker"
)

func newOrchestrator(s *stack) *worker.Orchestrator { return worker.NewOrchestrator(s.client) }

// scenarioReport measures the report endpoints, through the real HTTP API, on one office
// holding c.reportSize lessons (2 % of them in error).
func scenarioReport(ctx context.Context, c config) ([]result, error) {
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
	api, err := fillReportOffice(ctx, s, web, c.reportSize)
	if err != nil {
		return nil, err
	}
	endpoints := []struct{ name, path string }{
		{"GET /v1/lessons?office (page 1)", "/v1/lessons?office=B1"},
		{"GET /v1/lessons?office&page=500", "/v1/lessons?office=B1&page=500"},
		{"GET /v1/lessons?office&status=error", "/v1/lessons?office=B1&status=error"},
		{"GET /v1/lessons?office&from&to", "/v1/lessons?office=B1&from=2024-06-01&to=2024-06-30"},
		{"GET /v1/students?q=", "/v1/students?q=eleve12"},
		{"GET /v1/students/{ref}/lessons", "/v1/students/S7/lessons"},
		{"GET /v1/offices", "/v1/offices"},
	}
	var out2 []result
	for _, e := range endpoints {
		var lat []time.Duration
		for i := 0; i < 120; i++ {
			// The raw answer: what is timed is the server's work and the transfer, not the
			// client's decoding.
			t0 := time.Now()
			a, err := api.Raw(ctx, http.MethodGet, e.path, nil)
			if err != nil {
				return nil, err
			}
			if a.Status != http.StatusOK {
				return nil, fmt.Errorf("GET %s: HTTP %d: %.300s", e.path, a.Status, a.Body)
			}
			if i >= 20 { // the first ones warm the caches
				lat = append(lat, time.Since(t0))
			}
		}
		out2 = append(out2, result{Scenario: "report", Variant: e.name, Lessons: c.reportSize,
			P50ms: float64(percentile(lat, 0.50).Microseconds()) / 1000, P95ms: float64(percentile(lat, 0.95).Microseconds()) / 1000})
	}
	return out2, nil
}

// benchAPI is Livret's API served in this process, over loopback HTTP.
type benchAPI struct {
	url    string
	server *webapi.Server
	srv    *http.Server
	admin  *livretclient.Client
}

func (a *benchAPI) close() { _ = a.srv.Close() }

// startAPI serves the webapi on the stack's database, as `livret webapi` does.
func startAPI(ctx context.Context, s *stack) (*benchAPI, error) {
	server, err := webapi.New(webapi.Config{PublicURL: "http://127.0.0.1:1", AdminToken: "operator-token-of-the-benchmarks-x", TokenKey: db.NewKeySpec("k"),
		DSR: s.dsrCfg, Pool: s.pool, Orchestrator: newOrchestrator(s), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &benchAPI{url: "http://" + ln.Addr().String(), server: server,
		srv: &http.Server{Handler: server.Handler(), ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = a.srv.Serve(ln) }()
	a.admin = livretclient.New(a.url, "operator-token-of-the-benchmarks-x")
	return a, nil
}

// fillReportOffice creates a school whose office B1 holds n lessons over two years (200
// students, 2 % of the lessons refused by the DSR, half transmitted) and returns its client.
func fillReportOffice(ctx context.Context, s *stack, a *benchAPI, n int) (*livretclient.Client, error) {
	created, err := a.admin.CreateSchool(ctx, livretclient.SchoolInput{Name: "Auto-école Rapport", Agrement: "E0999999999"})
	if err != nil {
		return nil, err
	}
	api := a.admin.WithToken(created.APIKey)
	if _, err := api.PutOffice(ctx, "B1", livretclient.OfficeInput{Name: "Bureau 1"}); err != nil {
		return nil, err
	}
	if _, err := api.PutInstructor(ctx, "I1", livretclient.InstructorInput{FirstName: "Jean", LastName: "Dupont", AuthorizationNumber: "A1234567890"}); err != nil {
		return nil, err
	}
	const students = 200
	for i := 0; i < students; i++ {
		if _, err := api.PutStudent(ctx, fmt.Sprintf("S%d", i), livretclient.StudentInput{OfficeRef: "B1", FirstName: "Camille",
			LastName: fmt.Sprintf("Élève%d", i), NEPH: fmt.Sprintf("%012d", i+1), Category: "B", InitialEvaluationAccepted: true}); err != nil {
			return nil, err
		}
	}
	q := dbq.New(s.pool)
	school, err := q.SchoolGetByAgrement(ctx, "E0999999999")
	if err != nil {
		return nil, err
	}
	office, _ := q.OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: school.ID, Ref: "B1"})
	instr, _ := q.InstructorGetByRef(ctx, dbq.InstructorGetByRefParams{SchoolID: school.ID, Ref: "I1"})
	var ids []int64
	for i := 0; i < students; i++ {
		st, err := q.StudentGetByRef(ctx, dbq.StudentGetByRefParams{SchoolID: school.ID, Ref: fmt.Sprintf("S%d", i)})
		if err != nil {
			return nil, err
		}
		ids = append(ids, st.ID)
	}
	trainings, err := q.TrainingList(ctx, dbq.TrainingListParams{SchoolID: school.ID, StudentIds: ids})
	if err != nil {
		return nil, err
	}
	trainingOf := map[int64]int64{}
	for _, t := range trainings {
		trainingOf[t.StudentID] = t.ID
	}
	// The lessons, in bulk: n over two years.
	for from := 0; from < n; from += 5000 {
		size := min(5000, n-from)
		p := dbq.LessonInsertManyParams{SchoolID: school.ID, OfficeID: office.ID, InstructorID: instr.ID, Type: string(domain.TypeConduite)}
		for i := from; i < from+size; i++ {
			k := i / students
			start := time.Date(2024, 1, 1, 8, 0, 0, 0, domain.Paris).AddDate(0, 0, k%700).Add(time.Duration(k/700) * time.Hour)
			p.Refs = append(p.Refs, fmt.Sprintf("L%d", i))
			p.StudentIds = append(p.StudentIds, ids[i%students])
			p.TrainingIds = append(p.TrainingIds, trainingOf[ids[i%students]])
			p.Starts = append(p.Starts, start)
			p.Ends = append(p.Ends, start.Add(time.Hour))
		}
		rows, err := q.LessonInsertMany(ctx, p)
		if err != nil {
			return nil, err
		}
		t := dbq.TransmissionInsertPendingManyParams{SchoolID: school.ID, OfficeID: office.ID}
		for _, r := range rows {
			t.LessonIds = append(t.LessonIds, r.ID)
			t.StudentIds = append(t.StudentIds, r.StudentID)
			t.Categories = append(t.Categories, "B")
			t.Starts = append(t.Starts, r.StartsAt)
			t.Ends = append(t.Ends, r.EndsAt)
		}
		if err := q.TransmissionInsertPendingMany(ctx, t); err != nil {
			return nil, err
		}
		for j, r := range rows {
			if j%50 == 0 { // 2 % refused
				_, _ = q.TransmissionMarkError(ctx, dbq.TransmissionMarkErrorParams{LessonID: r.ID, Code: string(domain.CodeDureeInvalide),
					Message: domain.CodeDureeInvalide.Message(), Origin: "dsr"})
			} else if j%2 == 0 {
				_, _ = q.TransmissionMarkTransmitted(ctx, dbq.TransmissionMarkTransmittedParams{LessonID: r.ID, DsrLessonID: ptr(fmt.Sprintf("LEC-%d", r.ID))})
			}
		}
	}
	_ = db.Analyze(ctx, s.pool) // as autovacuum would have by then
	return api, nil
}

func ptr[T any](v T) *T { return &v }
