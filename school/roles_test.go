package school_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"livret/db/dbq"
	"livret/db/dbtest"
	"livret/domain"
	"livret/school"
)

// rolesFixture: one school, offices nord and sud; léa is of nord, hugo of sud, and max of sud
// with a lesson at nord. Lessons: l-lea (nord), l-hugo (sud), l-max (nord).
type rolesFixture struct {
	t      *testing.T
	svc    *school.Service
	q      *dbq.Queries
	school dbq.School
	nord   dbq.Office
	sud    dbq.Office
}

func newRolesFixture(t *testing.T) *rolesFixture {
	pool := dbtest.New(t)
	ctx := context.Background()
	f := &rolesFixture{t: t, svc: &school.Service{Pool: pool}, q: dbq.New(pool)}
	key := sha256.Sum256([]byte("roles"))
	var err error
	f.school, err = f.q.SchoolCreate(ctx, dbq.SchoolCreateParams{Name: "Auto-école Rôles", Agrement: "E0203100010", ApiKeyHash: key[:]})
	f.must(err)
	for _, o := range []string{"nord", "sud"} {
		_, _, err := f.svc.PutOffice(ctx, f.school, o, school.OfficeInput{Name: "Bureau " + o})
		f.must(err)
	}
	f.nord, err = f.q.OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: f.school.ID, Ref: "nord"})
	f.must(err)
	f.sud, err = f.q.OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: f.school.ID, Ref: "sud"})
	f.must(err)
	_, _, err = f.svc.PutInstructor(ctx, f.school, "jean", school.InstructorInput{FirstName: "Jean", LastName: "Dupont", AuthorizationNumber: "A1234567890"})
	f.must(err)
	for _, st := range []struct{ ref, office, first string }{{"lea", "nord", "Léa"}, {"hugo", "sud", "Hugo"}, {"max", "sud", "Max"}} {
		_, _, err := f.svc.PutStudent(ctx, f.school, st.ref, school.StudentInput{OfficeRef: st.office, FirstName: st.first, LastName: "Martin",
			NEPH: "123456789012", Category: "B", InitialEvaluationAccepted: true})
		f.must(err)
	}
	for _, l := range []struct{ ref, office, student, start string }{
		{"l-lea", "nord", "lea", "2026-11-02T10:00:00+01:00"}, {"l-hugo", "sud", "hugo", "2026-11-03T10:00:00+01:00"},
		{"l-max", "nord", "max", "2026-11-04T10:00:00+01:00"}} {
		_, _, err := f.svc.PutLesson(ctx, f.school, l.ref, school.LessonInput{OfficeRef: l.office, StudentRef: l.student, InstructorRef: "jean",
			Type: "conduite", Start: l.start, End: l.start[:11] + "11:00:00+01:00"})
		f.must(err)
	}
	return f
}

func (f *rolesFixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *rolesFixture) as(role domain.Role, offices ...int64) context.Context {
	return school.WithActor(context.Background(), school.Actor{SchoolID: f.school.ID, Kind: school.ActorUser, UserID: 7,
		Label: string(role) + "@roles.fr", Role: role, OfficeIDs: offices})
}

func (f *rolesFixture) auditRows() []dbq.AuditLog {
	f.t.Helper()
	rows, err := f.q.AuditList(context.Background(), dbq.AuditListParams{SchoolID: f.school.ID, Lim: 100})
	f.must(err)
	return rows
}

func lessonRefs(p school.LessonPage) []string {
	var out []string
	for _, l := range p.Items {
		out = append(out, l.Ref)
	}
	slices.Sort(out)
	return out
}

func wantStatus(t *testing.T, what string, err error, status int) *school.Problem {
	t.Helper()
	var p *school.Problem
	if !errors.As(err, &p) || p.Status != status {
		t.Fatalf("%s: got %v, want a %d problem", what, err, status)
	}
	return p
}

// A bureau person of nord sees nord's offices, lessons and students (max has a lesson at
// nord) and nothing of sud: sud's objects answer exactly as absent ones do.
func TestBureauSeesItsOfficesOnly(t *testing.T) {
	f := newRolesFixture(t)
	bureau := f.as(domain.RoleBureau, f.nord.ID)
	gerant := f.as(domain.RoleGerant)

	offices, err := f.svc.Offices(bureau, f.school)
	f.must(err)
	if len(offices) != 1 || offices[0].Ref != "nord" {
		t.Fatalf("bureau's offices: %+v, want nord only", offices)
	}
	if all, err := f.svc.Offices(gerant, f.school); err != nil || len(all) != 2 {
		t.Fatalf("gerant's offices: %d, %v; want 2", len(all), err)
	}

	page, err := f.svc.Lessons(bureau, f.school, url.Values{})
	f.must(err)
	if got := lessonRefs(page); !slices.Equal(got, []string{"l-lea", "l-max"}) || page.Total != 2 {
		t.Fatalf("bureau's report: %v (total %d), want l-lea, l-max", got, page.Total)
	}
	if page, err := f.svc.Lessons(f.as(domain.RoleLecture), f.school, url.Values{}); err != nil || page.Total != 3 {
		t.Fatalf("lecture's report: total %d, %v; want 3", page.Total, err)
	}

	// Another office's object: the same answer as an absent one, word for word.
	pairs := []struct {
		what           string
		other, missing func() error
	}{
		{"office", func() error { _, err := f.svc.Office(bureau, f.school, "sud"); return err },
			func() error { _, err := f.svc.Office(bureau, f.school, "ouest"); return err }},
		{"runs", func() error { _, err := f.svc.Runs(bureau, f.school, "sud"); return err },
			func() error { _, err := f.svc.Runs(bureau, f.school, "ouest"); return err }},
		{"lesson", func() error { _, err := f.svc.Lesson(bureau, f.school, "l-hugo"); return err },
			func() error { _, err := f.svc.Lesson(bureau, f.school, "l-absent"); return err }},
		{"cancel", func() error { _, err := f.svc.CancelLesson(bureau, f.school, "l-hugo"); return err },
			func() error { _, err := f.svc.CancelLesson(bureau, f.school, "l-absent"); return err }},
		{"student lessons", func() error { _, err := f.svc.StudentLessons(bureau, f.school, "hugo", url.Values{}); return err },
			func() error { _, err := f.svc.StudentLessons(bureau, f.school, "absent", url.Values{}); return err }},
		{"office filter", func() error { _, err := f.svc.Lessons(bureau, f.school, url.Values{"office": {"sud"}}); return err },
			func() error { _, err := f.svc.Lessons(bureau, f.school, url.Values{"office": {"ouest"}}); return err }},
		{"ETP office", func() error { _, err := f.svc.ETP(bureau, f.school, url.Values{"office": {"sud"}}); return err },
			func() error { _, err := f.svc.ETP(bureau, f.school, url.Values{"office": {"ouest"}}); return err }},
		{"disconnect", func() error { _, err := f.svc.Disconnect(bureau, f.school, "sud"); return err },
			func() error { _, err := f.svc.Disconnect(bureau, f.school, "ouest"); return err }},
	}
	for _, p := range pairs {
		other, missing := p.other(), p.missing()
		if other == nil || missing == nil || !reflect.DeepEqual(other, missing) {
			t.Errorf("%s: another office's answers %#v, an absent one %#v: want the same refusal", p.what, other, missing)
		}
	}
	if _, err := f.svc.Lesson(gerant, f.school, "l-hugo"); err != nil {
		t.Fatalf("gerant reads sud's lesson: %v", err)
	}

	// Students: attached to nord (léa) or with a lesson at nord (max), not hugo.
	found, err := f.svc.SearchStudents(bureau, f.school, "martin")
	f.must(err)
	var names []string
	for _, s := range found {
		names = append(names, s.Ref)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"lea", "max"}) {
		t.Fatalf("bureau's student search: %v, want lea, max", names)
	}
	page, err = f.svc.StudentLessons(bureau, f.school, "max", url.Values{})
	f.must(err)
	if got := lessonRefs(page); !slices.Equal(got, []string{"l-max"}) {
		t.Fatalf("max's lessons for nord's bureau: %v", got)
	}

	// A bureau person given no office sees nothing, not everything.
	if page, err := f.svc.Lessons(f.as(domain.RoleBureau), f.school, url.Values{}); err != nil || page.Total != 0 {
		t.Fatalf("bureau without office: total %d, %v; want 0", page.Total, err)
	}
	if n, err := f.svc.ResendableCount(bureau, f.school, school.ResendFilter{}); err != nil || n != 0 {
		t.Fatalf("resendable: %d, %v", n, err)
	}
}

// An audit row exists if and only if the action committed, with the actor of the context.
func TestAuditRowIffActionCommitted(t *testing.T) {
	f := newRolesFixture(t)
	bureau := f.as(domain.RoleBureau, f.nord.ID)

	// Refused by role, by office, by state: nothing done, nothing written.
	wantStatus(t, "lecture cancels", func() error { _, err := f.svc.CancelLesson(f.as(domain.RoleLecture), f.school, "l-lea"); return err }(), http.StatusForbidden)
	wantStatus(t, "nord's bureau cancels sud's lesson", func() error { _, err := f.svc.CancelLesson(bureau, f.school, "l-hugo"); return err }(), http.StatusNotFound)
	wantStatus(t, "resend of a lesson not in error", func() error { _, err := f.svc.ResendLesson(bureau, f.school, "l-lea"); return err }(), http.StatusConflict)
	wantStatus(t, "bureau changes the scope", func() error {
		_, err := f.svc.ChangeSettings(bureau, f.school, school.SettingsInput{Scope: new("etendu")})
		return err
	}(), http.StatusForbidden)
	if rows := f.auditRows(); len(rows) != 0 {
		t.Fatalf("refused actions wrote %d audit rows: %+v", len(rows), rows)
	}

	if _, err := f.svc.CancelLesson(bureau, f.school, "l-lea"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ChangeSettings(f.as(domain.RoleGerant), f.school, school.SettingsInput{Scope: new("etendu")}); err != nil {
		t.Fatal(err)
	}
	// The same scope again changes nothing: no row.
	if _, err := f.svc.ChangeSettings(f.as(domain.RoleGerant), f.school, school.SettingsInput{Scope: new("etendu")}); err != nil {
		t.Fatal(err)
	}
	rows := f.auditRows()
	if len(rows) != 2 {
		t.Fatalf("audit rows: %+v, want the cancel and the scope", rows)
	}
	scope, cancel := rows[0], rows[1] // newest first
	if cancel.Action != school.AuditLessonCancel || cancel.Object != "leçon l-lea" || cancel.ActorKind != "user" ||
		cancel.ActorLabel != "bureau@roles.fr" || cancel.UserID == nil || *cancel.UserID != 7 {
		t.Errorf("cancel's row: %+v", cancel)
	}
	if scope.Action != school.AuditSchoolScope || scope.ActorLabel != "gerant@roles.fr" {
		t.Errorf("scope's row: %+v", scope)
	}

	// The trail: gerant only, paged as the other listings.
	wantStatus(t, "bureau reads the trail", func() error { _, err := f.svc.AuditTrail(bureau, f.school, url.Values{}); return err }(), http.StatusNotFound)
	trail, err := f.svc.AuditTrail(f.as(domain.RoleGerant), f.school, url.Values{"per_page": {"1"}, "page": {"2"}})
	f.must(err)
	if trail.Total != 2 || len(trail.Items) != 1 || trail.Items[0].Action != school.AuditLessonCancel || trail.Page != 2 || trail.PerPage != 1 {
		t.Fatalf("trail page 2 of 1: %+v", trail)
	}
	if school.AuditLabel(school.AuditOfficeLink) != "a relié le bureau" {
		t.Errorf("label of office.link: %q", school.AuditLabel(school.AuditOfficeLink))
	}
}
