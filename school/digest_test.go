package school_test

import (
	"context"
	"crypto/sha256"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"livret/db/dbq"
	"livret/db/dbtest"
	"livret/domain"
	"livret/school"
)

type digestFixture struct {
	t       *testing.T
	pool    *pgxpool.Pool
	q       *dbq.Queries
	school  dbq.School
	office  dbq.Office
	student dbq.Student
	train   dbq.Training
	jean    dbq.Instructor
}

func newDigestFixture(t *testing.T, emails ...string) *digestFixture {
	t.Helper()
	pool := dbtest.New(t)
	ctx := context.Background()
	q := dbq.New(pool)
	key := sha256.Sum256([]byte("key"))
	f := &digestFixture{t: t, pool: pool, q: q}
	var err error
	f.school, err = q.SchoolCreate(ctx, dbq.SchoolCreateParams{Name: "Auto-école Lauriane", Agrement: "E0203100010", ApiKeyHash: key[:]})
	f.must(err)
	f.school, err = q.SchoolSetAlertEmails(ctx, dbq.SchoolSetAlertEmailsParams{ID: f.school.ID, AlertEmails: emails})
	f.must(err)
	f.office, err = q.OfficeUpsert(ctx, dbq.OfficeUpsertParams{SchoolID: f.school.ID, Ref: "lauriane", Name: "AE Lauriane Centre"})
	f.must(err)
	f.student, err = q.StudentUpsert(ctx, dbq.StudentUpsertParams{SchoolID: f.school.ID, Ref: "lea", OfficeID: f.office.ID,
		FirstName: "Léa", LastName: "Perrin", SearchName: "lea perrin", Neph: "123456789012"})
	f.must(err)
	f.train, err = q.TrainingUpsert(ctx, dbq.TrainingUpsertParams{SchoolID: f.school.ID, StudentID: f.student.ID, Category: "B",
		InitialEvaluationAccepted: true})
	f.must(err)
	f.jean, err = q.InstructorUpsert(ctx, dbq.InstructorUpsertParams{SchoolID: f.school.ID, Ref: "jean", FirstName: "Jean",
		LastName: "Dupont", AuthorizationNumber: "A1234567890"})
	f.must(err)
	return f
}

func (f *digestFixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// lesson adds a lesson at start (Paris) with the given verdict: status error with a code
// writes a lesson.error event, as the trigger does for every path.
func (f *digestFixture) lesson(ref string, start time.Time, status string, code domain.Code) dbq.Lesson {
	f.t.Helper()
	ctx := context.Background()
	l, err := f.q.LessonUpsert(ctx, dbq.LessonUpsertParams{SchoolID: f.school.ID, Ref: ref, OfficeID: f.office.ID,
		StudentID: f.student.ID, TrainingID: f.train.ID, InstructorID: f.jean.ID, Type: "conduite",
		StartsAt: start, EndsAt: start.Add(time.Hour)})
	f.must(err)
	f.verdict(l, status, code)
	return l
}

func (f *digestFixture) verdict(l dbq.Lesson, status string, code domain.Code) {
	f.t.Helper()
	_, err := f.q.TransmissionSetVerdict(context.Background(), dbq.TransmissionSetVerdictParams{LessonID: l.ID, SchoolID: f.school.ID,
		OfficeID: f.office.ID, StudentID: f.student.ID, Category: "B", StartsAt: l.StartsAt, EndsAt: l.EndsAt,
		Status: status, Code: string(code), Message: code.Message()})
	f.must(err)
}

func (f *digestFixture) claim(day string) (dbq.Digest, bool) {
	f.t.Helper()
	d, ok, err := school.ClaimDigest(context.Background(), f.pool, school.DigestRequest{SchoolID: f.school.ID, Day: day,
		PublicURL: "https://livret.example.fr/"})
	f.must(err)
	return d, ok
}

func (f *digestFixture) undigested() int {
	f.t.Helper()
	var n int
	f.must(f.pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox_events WHERE school_id = $1 AND digest_id IS NULL
		AND type IN ('lesson.error', 'office.needs_reconnect', 'etp.at_risk')`, f.school.ID).Scan(&n))
	return n
}

func wantIn(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, body)
		}
	}
}

// TestDigestComposed: the day's digest reports the lessons refused since the last one that
// are still in error, grouped by code with the catalogue's French message and hint, each
// listed in Paris time with its student and office, with a link to the report; it is stored
// with its recipients and Message-ID, and takes its events. Claimed again, the day gives the
// same digest; the next day, with nothing new, none.
func TestDigestComposed(t *testing.T) {
	t.Parallel()
	f := newDigestFixture(t, "gerant@lauriane.fr", "sud@lauriane.fr")
	// 5 January, 09:00 and 11:00 Paris (08:00, 10:00 UTC).
	l1 := f.lesson("L1", time.Date(2026, 1, 5, 9, 0, 0, 0, domain.Paris), "error", domain.CodeEleveIntrouvable)
	f.lesson("L2", time.Date(2026, 1, 5, 11, 0, 0, 0, domain.Paris), "error", domain.CodeEleveIntrouvable)
	f.lesson("L3", time.Date(2026, 1, 6, 14, 30, 0, 0, domain.Paris), "error", domain.CodeDureeInvalide)
	f.lesson("L4", time.Date(2026, 1, 6, 16, 0, 0, 0, domain.Paris), "pending", "")
	// L1 is refused again with another code: one lesson, counted by its code now.
	f.verdict(l1, "error", domain.CodeNEPHInvalide)

	d, ok := f.claim("2026-01-07")
	if !ok {
		t.Fatal("no digest")
	}
	if d.MessageID != "<digest-"+itoa(f.school.ID)+"-2026-01-07@livret>" || d.SentAt != nil ||
		strings.Join(d.Recipients, ",") != "gerant@lauriane.fr,sud@lauriane.fr" || d.Day.Format(time.DateOnly) != "2026-01-07" {
		t.Fatalf("digest row %+v", d)
	}
	if d.Subject != "Livret – 3 leçons en erreur à corriger (récapitulatif du 07/01/2026)" {
		t.Errorf("subject %q", d.Subject)
	}
	wantIn(t, "text", d.TextBody,
		"Voici le récapitulatif Livret du mercredi 7 janvier 2026 pour Auto-école Lauriane.",
		"3 leçons en erreur à corriger depuis le dernier récapitulatif.",
		"* 1 × "+domain.CodeEleveIntrouvable.Message()+"\n  À faire : "+domain.CodeEleveIntrouvable.Hint(),
		"* 1 × "+domain.CodeDureeInvalide.Message(),
		"* 1 × "+domain.CodeNEPHInvalide.Message(),
		"- 05/01/2026 09:00 - 10:00 · Léa Perrin · AE Lauriane Centre · NEPH_INVALIDE\n",
		"- 05/01/2026 11:00 - 12:00 · Léa Perrin · AE Lauriane Centre · ELEVE_INTROUVABLE\n",
		"- 06/01/2026 14:30 - 15:30 · Léa Perrin · AE Lauriane Centre · DUREE_INVALIDE\n",
		"Les leçons en erreur : https://livret.example.fr/ui/lessons?tab=erreurs",
		"Pour les changer : https://livret.example.fr/ui/parametres")
	if strings.Contains(d.TextBody, "&") || strings.Contains(d.TextBody, "déjà corrigée") || strings.Contains(d.TextBody, "reconnecter") {
		t.Errorf("text:\n%s", d.TextBody)
	}
	wantIn(t, "html", d.HtmlBody, `<html lang="fr">`, "<strong>Auto-école Lauriane</strong>",
		"<td>05/01/2026 09:00 - 10:00</td><td>Léa Perrin</td><td>AE Lauriane Centre</td>",
		`<a href="https://livret.example.fr/ui/lessons?tab=erreurs">Voir les leçons en erreur dans Livret</a>`,
		// html/template escapes the catalogue's apostrophes and quotes.
		"Vérifiez l&#39;orthographe du nom et le NEPH dans la fiche élève.")
	if n := f.undigested(); n != 0 {
		t.Errorf("%d events left untaken", n)
	}

	// The same day again: the stored digest, even with a new error meanwhile.
	f.lesson("L5", time.Date(2026, 1, 7, 8, 0, 0, 0, domain.Paris), "error", domain.CodeLeconFuture)
	again, ok := f.claim("2026-01-07")
	if !ok || again.ID != d.ID || again.TextBody != d.TextBody {
		t.Fatalf("second claim of the day: %+v, %v", again, ok)
	}
	// The next day: L5 only, alone in its digest.
	next, ok := f.claim("2026-01-08")
	if !ok || next.ID == d.ID || !strings.Contains(next.Subject, "1 leçon en erreur à corriger") ||
		!strings.Contains(next.TextBody, "LECON_FUTURE") || strings.Contains(next.TextBody, "DUREE_INVALIDE") {
		t.Fatalf("next day's digest %+v", next)
	}
	// And the day after, nothing new: no digest.
	if _, ok := f.claim("2026-01-09"); ok {
		t.Fatal("a digest with nothing new")
	}
}

// No digest when nothing is new: no alert address, no event, or every reported lesson
// fixed and no office still to reconnect. Fixed lessons' events wait; the next digest says
// they are fixed.
func TestDigestNothingNew(t *testing.T) {
	t.Parallel()
	f := newDigestFixture(t)
	l := f.lesson("L1", time.Date(2026, 1, 5, 9, 0, 0, 0, domain.Paris), "error", domain.CodeNEPHManquant)
	if _, ok := f.claim("2026-01-06"); ok {
		t.Fatal("a digest without alert addresses")
	}
	if f.undigested() != 1 {
		t.Fatal("a school without addresses had its events taken")
	}
	var err error
	f.school, err = f.q.SchoolSetAlertEmails(context.Background(), dbq.SchoolSetAlertEmailsParams{ID: f.school.ID, AlertEmails: []string{"gerant@lauriane.fr"}})
	f.must(err)
	// Fixed before the digest: nothing to say.
	f.verdict(l, "pending", "")
	if _, ok := f.claim("2026-01-06"); ok {
		t.Fatal("a digest of a fixed lesson")
	}
	if f.undigested() != 1 {
		t.Fatal("events taken without a digest")
	}
	// A new error: the digest reports it, and the fixed one as fixed.
	f.lesson("L2", time.Date(2026, 1, 6, 9, 0, 0, 0, domain.Paris), "error", domain.CodeHorairesInvalides)
	d, ok := f.claim("2026-01-07")
	if !ok {
		t.Fatal("no digest")
	}
	wantIn(t, "text", d.TextBody, "1 leçon en erreur à corriger depuis le dernier récapitulatif. 1 autre leçon signalée en erreur est déjà corrigée.",
		"HORAIRES_INVALIDES")
	if strings.Contains(d.TextBody, "NEPH_MANQUANT") || f.undigested() != 0 {
		t.Fatalf("digest:\n%s", d.TextBody)
	}
}

// An office whose account needs a new login is reported with what to do, while it still
// needs it; hours at risk are shown field by field, whatever their data.
func TestDigestOfficesAndHoursAtRisk(t *testing.T) {
	t.Parallel()
	f := newDigestFixture(t, "gerant@lauriane.fr")
	ctx := context.Background()
	var accountID int64
	f.must(f.pool.QueryRow(ctx, `INSERT INTO dsr_accounts (school_id, dsr_account_id, email, access_token_enc, refresh_token_enc, key_id, access_expires_at)
		VALUES ($1, 'C1', 'direction@lauriane.fr', '\x00', '\x00', 'k1', now()) RETURNING id`, f.school.ID).Scan(&accountID))
	_, err := f.q.OfficeLink(ctx, dbq.OfficeLinkParams{SchoolID: f.school.ID, ID: f.office.ID, AccountID: &accountID})
	f.must(err)
	f.must(f.q.AccountMarkNeedsReconnect(ctx, accountID))
	_, err = f.q.OutboxEmit(ctx, dbq.OutboxEmitParams{SchoolID: f.school.ID, Type: "etp.at_risk",
		Data: []byte(`{"instructor_name":"Jean Dupont","group":"B","at_risk_hours":1.5,"window":{"from":"2025-07-01"},"zeta":true}`)})
	f.must(err)

	d, ok := f.claim("2026-01-07")
	if !ok {
		t.Fatal("no digest")
	}
	if d.Subject != "Livret – 1 bureau à reconnecter, 1 alerte d'heures à risque (récapitulatif du 07/01/2026)" {
		t.Errorf("subject %q", d.Subject)
	}
	wantIn(t, "text", d.TextBody, "== 1 bureau à reconnecter à RdvPermis ==",
		"- AE Lauriane Centre (lauriane), compte RdvPermis direction@lauriane.fr", school.ReconnectHint,
		"Les bureaux : https://livret.example.fr/ui/offices",
		"== Heures à risque ==", "  Formateur : Jean Dupont\n  Catégorie : B\n  Heures à risque : 1,5\n  window : {\"from\":\"2025-07-01\"}\n  zeta : oui")
	if strings.Contains(d.TextBody, "Leçons en erreur") {
		t.Errorf("text:\n%s", d.TextBody)
	}
	wantIn(t, "html", d.HtmlBody, "<strong>AE Lauriane Centre</strong> (lauriane)", "<li>Heures à risque : 1,5</li>")

	// Reconnected before the next digest: nothing to say.
	reconnect := func() {
		_, err := f.pool.Exec(ctx, `UPDATE dsr_accounts SET needs_reconnect = false WHERE id = $1`, accountID)
		f.must(err)
	}
	reconnect()
	f.must(f.q.AccountMarkNeedsReconnect(ctx, accountID)) // refused again: a new event
	reconnect()                                           // and a new login before the digest
	if _, ok := f.claim("2026-01-08"); ok {
		t.Fatal("a digest of an office already reconnected")
	}
}

// Claims of one school and day at once give one digest.
func TestDigestClaimedOnceAtOnce(t *testing.T) {
	t.Parallel()
	f := newDigestFixture(t, "gerant@lauriane.fr")
	f.lesson("L1", time.Date(2026, 1, 5, 9, 0, 0, 0, domain.Paris), "error", domain.CodeNEPHManquant)
	var wg sync.WaitGroup
	ids := make([]int64, 4)
	errs := make([]error, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, _, err := school.ClaimDigest(context.Background(), f.pool, school.DigestRequest{SchoolID: f.school.ID, Day: "2026-01-06"})
			ids[i], errs[i] = d.ID, err
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] == 0 || ids[i] != ids[0] {
			t.Fatalf("claims: %v %v", ids, errs)
		}
	}
	var n int
	f.must(f.pool.QueryRow(context.Background(), `SELECT count(*) FROM digests`).Scan(&n))
	if n != 1 {
		t.Fatalf("%d digests", n)
	}
	// Without a public URL, no link.
	d, _ := f.claim("2026-01-06")
	if strings.Contains(d.TextBody, "http") || strings.Contains(d.HtmlBody, "href") {
		t.Errorf("links without LIVRET_PUBLIC_URL:\n%s\n%s", d.TextBody, d.HtmlBody)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
