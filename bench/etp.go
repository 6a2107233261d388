package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
	"livret/livretclient"
	"livret/webapi"
)

// etpAt is the date the ETP is asked for: its computation is 23 December 2026 (the 25th is
// Christmas), its window 23 September to 22 December.
var etpAt = time.Date(2026, 12, 2, 12, 0, 0, 0, domain.Paris)

// scenarioETP measures GET /v1/etp (docs/api.md, "ETP"), through the real HTTP API, on two
// offices of c.etpSize lessons each: "histoire", 20 instructors' lessons over the months
// before the computation (a fifth of them or so in the window), and "dense", every lesson
// in the window (as many instructors as that takes). Lessons of every kind: B driving, AAC
// driving (×1.2), moto plateau, collective theory sessions of 8 students, unsupervised
// simulator lessons (capped at 5 h per student); 2 % refused by the DSR, 2 % pending.
func scenarioETP(ctx context.Context, c config) ([]result, error) {
	s, err := newStack(ctx, c.adminURL, c.dbConns)
	if err != nil {
		return nil, err
	}
	defer s.close()
	server, err := webapi.New(webapi.Config{PublicURL: "http://127.0.0.1:1", AdminToken: "operator-token-of-the-benchmarks-x", TokenKey: db.NewKeySpec("k"),
		DSR: s.dsrCfg, Pool: s.pool, Orchestrator: newOrchestrator(s), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	server.School.Now = func() time.Time { return etpAt }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: server.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	admin := livretclient.New("http://"+ln.Addr().String(), "operator-token-of-the-benchmarks-x")
	created, err := admin.CreateSchool(ctx, livretclient.SchoolInput{Name: "Auto-école ETP", Agrement: "E0888888888"})
	if err != nil {
		return nil, err
	}
	api := admin.WithToken(created.APIKey)
	etendu := "etendu"
	if _, err := api.ChangeSettings(ctx, livretclient.SettingsInput{Scope: &etendu}); err != nil {
		return nil, err
	}
	q := dbq.New(s.pool)
	school, err := q.SchoolGetByAgrement(ctx, "E0888888888")
	if err != nil {
		return nil, err
	}
	period := domain.ETPPeriodAt(etpAt, 0)
	windowDays := int(period.End().Sub(period.From).Hours()/24 + 0.5)
	inWindow := map[string]int{}
	for _, o := range []struct {
		ref         string
		instructors int
	}{
		{"histoire", 20},
		// Every lesson in the window: each instructor gives 11 a day on average (below).
		{"dense", c.etpSize/(windowDays*11) + 1},
	} {
		n, err := fillETPOffice(ctx, api, q, school.ID, o.ref, o.instructors, c.etpSize, period)
		if err != nil {
			return nil, fmt.Errorf("office %s: %w", o.ref, err)
		}
		inWindow[o.ref] = n
	}
	_ = db.Analyze(ctx, s.pool) // as autovacuum would have by then

	// The figures are checked once, through the typed client, before they are timed.
	for _, ref := range []string{"histoire", "dense"} {
		r, err := api.ETP(ctx, ref, "2026-12-02")
		if err != nil {
			return nil, err
		}
		if r.ComputationDate != "2026-12-23" || r.Totals.Lessons+r.Totals.AtRiskLessons != inWindow[ref] || r.Totals.CountedHours <= 0 {
			return nil, fmt.Errorf("office %s: unexpected figures: %d lessons in the window, %+v", ref, inWindow[ref], r.Totals)
		}
	}
	endpoints := []struct{ name, path, office string }{
		{"GET /v1/etp?office (history)", "/v1/etp?office=histoire&at=2026-12-02", "histoire"},
		{"GET /v1/etp?office&format=csv (history)", "/v1/etp?office=histoire&at=2026-12-02&format=csv", "histoire"},
		{"GET /v1/etp?office (dense)", "/v1/etp?office=dense&at=2026-12-02", "dense"},
		{"GET /v1/etp?office&format=csv (dense)", "/v1/etp?office=dense&at=2026-12-02&format=csv", "dense"},
		{"GET /v1/etp (school: both offices)", "/v1/etp?at=2026-12-02", ""},
	}
	var out []result
	// First as the bulk load leaves the tables (statistics only), then once vacuumed, as
	// autovacuum leaves them in time: the ETP's reads are index-only scans, which skip the
	// table only on pages marked all-visible.
	for _, state := range []string{"analyzed", "vacuumed"} {
		if state == "vacuumed" {
			if err := db.Vacuum(ctx, s.pool); err != nil {
				return nil, err
			}
		}
		for _, e := range endpoints {
			var lat []time.Duration
			for i := 0; i < 120; i++ {
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
			lessons, window := 2*c.etpSize, inWindow["histoire"]+inWindow["dense"]
			if e.office != "" {
				lessons, window = c.etpSize, inWindow[e.office]
			}
			out = append(out, result{Scenario: "etp", Variant: fmt.Sprintf("%s, %d lessons in the window, %s", e.name, window, state),
				Lessons: lessons, P50ms: float64(percentile(lat, 0.50).Microseconds()) / 1000, P95ms: float64(percentile(lat, 0.95).Microseconds()) / 1000})
		}
	}
	return out, nil
}

// fillETPOffice writes n lessons into a new office, the newest on the window's last day and
// going back one day at a time, and returns how many fall in the window. Each day, each
// instructor gives driving lessons from 08:00 to 18:00 (B, AAC, or moto plateau by the
// student's training), and on Tuesdays a collective theory session of 8 students from 18:00;
// four simulators run unsupervised from 08:00 to 18:00.
func fillETPOffice(ctx context.Context, api *livretclient.Client, q *dbq.Queries, schoolID int64, ref string,
	instructors, n int, period domain.ETPPeriod) (int, error) {
	if _, err := api.PutOffice(ctx, ref, livretclient.OfficeInput{Name: "Bureau " + ref}); err != nil {
		return 0, err
	}
	office, err := q.OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: schoolID, Ref: ref})
	if err != nil {
		return 0, err
	}
	var instrIDs []int64
	for i := 0; i <= instructors; i++ {
		in := livretclient.InstructorInput{FirstName: "Formateur", LastName: fmt.Sprintf("%s %d", ref, i),
			AuthorizationNumber: fmt.Sprintf("A%010d", len(ref)*100000+i+1)}
		if i == instructors { // the last one is the unsupervised simulator
			in = livretclient.InstructorInput{LastName: "Simulateur", AuthorizationNumber: domain.GenericSimulatorAuthorization, Simulator: true}
		}
		iref := fmt.Sprintf("%s-i%d", ref, i)
		if _, err := api.PutInstructor(ctx, iref, in); err != nil {
			return 0, err
		}
		got, err := q.InstructorGetByRef(ctx, dbq.InstructorGetByRefParams{SchoolID: schoolID, Ref: iref})
		if err != nil {
			return 0, err
		}
		instrIDs = append(instrIDs, got.ID)
	}
	simulator := instrIDs[instructors]
	// 400 students: 70 % B, 15 % B_AAC, 15 % A2.
	const students = 400
	type student struct {
		id, training int64
		category     domain.Category
	}
	var all, bOnly []student
	var ids []int64
	for i := 0; i < students; i++ {
		cat := domain.CategoryB
		switch i % 20 {
		case 0, 1, 2:
			cat = domain.CategoryBAAC
		case 3, 4, 5:
			cat = domain.CategoryA2
		}
		sref := fmt.Sprintf("%s-s%d", ref, i)
		if _, err := api.PutStudent(ctx, sref, livretclient.StudentInput{OfficeRef: ref, FirstName: "Camille", LastName: fmt.Sprintf("Élève %d", i),
			NEPH: fmt.Sprintf("%012d", len(ref)*1000+i+1), Category: string(cat), InitialEvaluationAccepted: true}); err != nil {
			return 0, err
		}
		st, err := q.StudentGetByRef(ctx, dbq.StudentGetByRefParams{SchoolID: schoolID, Ref: sref})
		if err != nil {
			return 0, err
		}
		ids = append(ids, st.ID)
		all = append(all, student{id: st.ID, category: cat})
	}
	trainings, err := q.TrainingList(ctx, dbq.TrainingListParams{SchoolID: schoolID, StudentIds: ids})
	if err != nil {
		return 0, err
	}
	trainingOf := map[int64]int64{}
	for _, t := range trainings {
		trainingOf[t.StudentID] = t.ID
	}
	for i := range all {
		all[i].training = trainingOf[all[i].id]
		if all[i].category == domain.CategoryB {
			bOnly = append(bOnly, all[i])
		}
	}

	// Lessons are written in batches of one instructor and one type (LessonInsertMany).
	type batchKey struct {
		instructor int64
		typ        domain.LessonType
	}
	batches := map[batchKey]*dbq.LessonInsertManyParams{}
	var written []dbq.LessonInsertManyRow
	var categories = map[int64]domain.Category{}
	flush := func(k batchKey) error {
		p := batches[k]
		if p == nil || len(p.Refs) == 0 {
			return nil
		}
		rows, err := q.LessonInsertMany(ctx, *p)
		if err != nil {
			return err
		}
		t := dbq.TransmissionInsertPendingManyParams{SchoolID: schoolID, OfficeID: office.ID}
		for _, r := range rows {
			t.LessonIds = append(t.LessonIds, r.ID)
			t.StudentIds = append(t.StudentIds, r.StudentID)
			t.Categories = append(t.Categories, string(categories[r.StudentID]))
			t.Starts = append(t.Starts, r.StartsAt)
			t.Ends = append(t.Ends, r.EndsAt)
		}
		if err := q.TransmissionInsertPendingMany(ctx, t); err != nil {
			return err
		}
		written = append(written, rows...)
		delete(batches, k)
		return nil
	}
	count, inWindow := 0, 0
	add := func(instructor int64, typ domain.LessonType, st student, start time.Time, length time.Duration) error {
		k := batchKey{instructor, typ}
		p := batches[k]
		if p == nil {
			p = &dbq.LessonInsertManyParams{SchoolID: schoolID, OfficeID: office.ID, InstructorID: instructor, Type: string(typ)}
			batches[k] = p
		}
		p.Refs = append(p.Refs, fmt.Sprintf("%s-l%d", ref, count))
		p.StudentIds = append(p.StudentIds, st.id)
		p.TrainingIds = append(p.TrainingIds, st.training)
		p.Starts = append(p.Starts, start)
		p.Ends = append(p.Ends, start.Add(length))
		categories[st.id] = st.category
		count++
		if !start.Before(period.From) && start.Before(period.End()) {
			inWindow++
		}
		if len(p.Refs) >= 5000 {
			return flush(k)
		}
		return nil
	}
	for d := 0; count < n; d++ {
		day := period.To.AddDate(0, 0, -d)
		for i := 0; i < instructors && count < n; i++ {
			for h := 8; h < 18 && count < n; h++ {
				st := all[(d*31+i*7+h)%len(all)]
				typ := domain.TypeConduite
				if st.category == domain.CategoryA2 {
					typ = domain.TypePlateau
				}
				if err := add(instrIDs[i], typ, st, day.Add(time.Duration(h)*time.Hour), time.Hour); err != nil {
					return 0, err
				}
			}
			if day.Weekday() == time.Tuesday {
				for k := 0; k < 8 && count < n; k++ {
					if err := add(instrIDs[i], domain.TypeCode, bOnly[(d*13+i*8+k)%len(bOnly)], day.Add(18*time.Hour), 2*time.Hour); err != nil {
						return 0, err
					}
				}
			}
		}
		for sim := 0; sim < 4; sim++ {
			for h := 8; h < 18 && count < n; h += 2 {
				st := bOnly[(d*17+sim*5+h)%len(bOnly)]
				if err := add(simulator, domain.TypeSimulateur, st, day.Add(time.Duration(h)*time.Hour), 2*time.Hour); err != nil {
					return 0, err
				}
			}
		}
	}
	for k := range batches {
		if err := flush(k); err != nil {
			return 0, err
		}
	}
	// 2 % refused by the DSR, 2 % left pending, the rest transmitted: the run's own statements,
	// eight at a time.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for j, r := range written {
		g.Go(func() error {
			var err error
			switch j % 50 {
			case 0:
				_, err = q.TransmissionMarkError(gctx, dbq.TransmissionMarkErrorParams{LessonID: r.ID, Code: string(domain.CodeEleveIntrouvable),
					Message: domain.CodeEleveIntrouvable.Message(), Origin: "dsr"})
			case 1:
			default:
				_, err = q.TransmissionMarkTransmitted(gctx, dbq.TransmissionMarkTransmittedParams{LessonID: r.ID, DsrLessonID: ptr(fmt.Sprintf("LEC-%d", r.ID))})
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return inWindow, nil
}
