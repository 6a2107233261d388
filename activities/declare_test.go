package activities_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"livret/activities"
	"livret/db/dbq"
	"livret/domain"
	"livret/dsr"
	"livret/sandbox"
)

// DeclareLessons, row by row of the retry table (docs/architecture.md, "Retry table"), and the exactly-once
// paths: the sending mark, the look-up of a lesson left sending, LECON_EN_DOUBLON.

// declarable is one student with a contract at the DSR and the given lessons of 10 June.
func declarable(e *env, hours ...int) (dbq.Student, []dbq.Lesson) {
	e.t.Helper()
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	var ls []dbq.Lesson
	for _, h := range hours {
		ls = append(ls, e.lesson(lea, fmt.Sprintf("L-%02d", h), june10(h), time.Hour))
	}
	e.mustContracts(e.batch(ls...))
	return lea, ls
}

func TestDeclareTransmitsEachLessonOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea, ls := declarable(e, 8, 10, 14)
	// Not due: it ends on the run's day, which the school may still cancel until midnight.
	today := e.lesson(lea, "L-TODAY", runDay.Add(8*time.Hour), time.Hour)
	// Judged again before sending: its instructor lost the authorisation number meanwhile.
	bad := e.lesson(lea, "L-BAD", june10(16), time.Hour)
	noNumber, err := e.q.InstructorUpsert(e.ctx, dbq.InstructorUpsertParams{SchoolID: e.school.ID, Ref: "I-NEW", FirstName: "Paul", LastName: "Martin"})
	e.must(err, "instructor")
	_, err = e.q.LessonUpsert(e.ctx, dbq.LessonUpsertParams{SchoolID: e.school.ID, Ref: bad.Ref, OfficeID: e.office.ID, StudentID: lea.ID,
		TrainingID: e.trainingOf(lea).ID, InstructorID: noNumber.ID, Type: bad.Type, StartsAt: bad.StartsAt, EndsAt: bad.EndsAt})
	e.must(err, "change of instructor")
	in := e.batch(append(ls, today, bad)...)

	res, err := e.declare(in)
	if err != nil {
		t.Fatal(err)
	}
	if res != (activities.DeclareResult{Transmitted: 3, Errors: 1, Deferred: 1}) {
		t.Fatalf("result %+v", res)
	}
	ledger := e.ledger()
	e.wantDSRLessons(ledger, 3)
	for _, l := range ls {
		e.wantTransmitted(l, ledger)
	}
	e.wantStatus(today, domain.StatusPending, "")
	if tr := e.wantStatus(bad, domain.StatusError, domain.CodeAutorisationManquante); tr.Origin != "livret" {
		t.Errorf("Livret's own refusal has origin %q", tr.Origin)
	}

	// A second attempt (a retry, the next batch of the run) sends nothing again.
	res, err = e.declare(in)
	if err != nil || res != (activities.DeclareResult{Transmitted: 3, Errors: 1, Deferred: 1}) {
		t.Fatalf("second attempt: %+v %v", res, err)
	}
	if again := e.ledger(); len(again.Lessons) != 3 || again.DuplicatesRefused != 0 || again.Calls != ledger.Calls {
		t.Fatalf("second attempt reached the DSR: %d lessons, %d duplicates, %d calls (was %d)",
			len(again.Lessons), again.DuplicatesRefused, again.Calls, ledger.Calls)
	}
}

// A retried attempt resumes after the last lesson its predecessor heartbeated as done.
func TestDeclareResumesFromHeartbeat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ls := declarable(e, 8, 10)
	ae := activityEnv(e.acts)
	ae.SetHeartbeatDetails(1) // the previous attempt finished the first lesson
	val, err := ae.ExecuteActivity(activities.DeclareLessonsName, e.batch(ls...))
	if err != nil {
		t.Fatal(err)
	}
	var res activities.DeclareResult
	e.must(val.Get(&res), "result")
	ledger := e.ledger()
	e.wantDSRLessons(ledger, 1)
	e.wantStatus(ls[0], domain.StatusPending, "")
	e.wantTransmitted(ls[1], ledger)
	if res != (activities.DeclareResult{Transmitted: 1, Deferred: 1}) {
		t.Fatalf("result %+v", res)
	}
}

// Row "network error, timeout, 5xx": a retryable failure. The lesson was marked sending
// before its POST, so the next attempt looks it up first, finds it absent and posts it: once.
func TestDeclareTransientFaultsAreRetryable(t *testing.T) {
	t.Parallel()
	for _, f := range transientFaults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			_, ls := declarable(e, 8)
			acts := f.arrange(e)

			err := e.runWith(acts, activities.DeclareLessonsName, e.batch(ls...), nil)
			wantAppError(t, err, activities.ErrTypeTransient, true)
			e.wantStatus(ls[0], domain.StatusSending, "")
			e.quiesce()
			landed := e.ledger().Lessons
			if len(landed) > 1 || len(landed) == 1 && !f.mayLand {
				t.Fatalf("the DSR holds %d lessons after the fault", len(landed))
			}

			e.faults(sandbox.Faults{})
			res, err := e.declare(e.batch(ls...))
			if err != nil || res != (activities.DeclareResult{Transmitted: 1}) {
				t.Fatalf("next attempt: %+v %v", res, err)
			}
			ledger := e.ledger()
			e.wantDSRLessons(ledger, 1)
			tr := e.wantTransmitted(ls[0], ledger)
			if ledger.DuplicatesRefused != 0 {
				t.Fatalf("%d duplicates refused: the lesson was posted twice", ledger.DuplicatesRefused)
			}
			if len(landed) == 1 && (tr.DsrLessonID == nil || *tr.DsrLessonID != landed[0].IDLecon) {
				t.Fatalf("transmitted as %v, the POST that timed out stored %s", tr.DsrLessonID, landed[0].IDLecon)
			}
		})
	}
}

// The DSR stores every lesson and loses every answer: the retries look each lesson up and
// find it, so nothing is posted twice and every lesson carries the DSR's id.
func TestDeclareLostAnswersAreReconciled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ls := declarable(e, 8, 10, 14)
	e.faults(sandbox.Faults{DropAfterCommitRate: 1})

	res, err := e.declare(e.batch(ls...))
	if err != nil || res != (activities.DeclareResult{Transmitted: 3}) {
		t.Fatalf("%+v %v", res, err)
	}
	ledger := e.ledger()
	e.wantDSRLessons(ledger, 3)
	for _, l := range ls {
		e.wantTransmitted(l, ledger)
	}
	if ledger.DuplicatesRefused != 0 {
		t.Fatalf("%d duplicates refused: a lesson was posted again after its lost answer", ledger.DuplicatesRefused)
	}
}

// Row "429": past the account's limit the activity fails retryable, NextRetryDelay being
// the DSR's Retry-After; the lesson stays sending and goes once the minute is over.
func TestDeclareRateLimitedRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ls := declarable(e, 8)
	e.spendTheMinute()

	_, err := e.declare(e.batch(ls...))
	appErr := wantAppError(t, err, activities.ErrTypeRateLimited, true)
	if got := appErr.NextRetryDelay(); got != time.Minute {
		t.Fatalf("NextRetryDelay %s, want the DSR's Retry-After of 60 s", got)
	}
	e.wantStatus(ls[0], domain.StatusSending, "")
	e.wantDSRLessons(e.ledger(), 0)

	e.clock.Advance(time.Minute)
	e.faults(sandbox.Faults{})
	if res, err := e.declare(e.batch(ls...)); err != nil || res.Transmitted != 1 {
		t.Fatalf("after the wait: %+v %v", res, err)
	}
	e.wantTransmitted(ls[0], e.ledger())
}

// An injected 429 with a short Retry-After (a gateway's) is waited out inside the activity a
// few times, then handed to Temporal with NextRetryDelay set to it.
func TestDeclareShortRetryAfterIsHandedToTemporal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ls := declarable(e, 8)
	e.faults(sandbox.Faults{Rate429: 1})

	_, err := e.declare(e.batch(ls...))
	appErr := wantAppError(t, err, activities.ErrTypeRateLimited, true)
	if got := appErr.NextRetryDelay(); got != time.Second {
		t.Fatalf("NextRetryDelay %s, want the sandbox's Retry-After of 1 s", got)
	}
	if l := e.ledger(); l.RateLimited < 2 || len(l.Lessons) != 0 {
		t.Fatalf("%d 429s, %d lessons: want the activity to have tried again before giving up", l.RateLimited, len(l.Lessons))
	}
}

// Row "401 TOKEN_INVALIDE": the DSR's clock says the access token has expired; the client
// refreshes once, saves the new pair and posts again at once.
func TestDeclareTokenRefusedThenRefreshed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ls := declarable(e, 8)
	old := e.storedToken()
	e.clock.Advance(sandbox.DefaultAccessTTL + time.Second)

	res, err := e.declare(e.batch(ls...))
	if err != nil || res != (activities.DeclareResult{Transmitted: 1}) {
		t.Fatalf("%+v %v", res, err)
	}
	e.wantRefreshedOnce(old)
	ledger := e.ledger()
	e.wantDSRLessons(ledger, 1)
	e.wantTransmitted(ls[0], ledger)
}

// Row "401, refresh refused": the account is marked "reconnexion nécessaire", the activity
// fails non-retryable, and the lessons wait for the new login (not in error): the next load
// says why the office is blocked and counts them.
func TestDeclareRefreshRefusedNeedsReconnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ls := declarable(e, 8, 10)
	e.clock.Advance(sandbox.DefaultRefreshTTL + time.Second)

	_, err := e.declare(e.batch(ls...))
	wantAppError(t, err, activities.ErrTypeNeedsReconnect, false)
	acct, err := e.q.AccountGet(e.ctx, e.account.ID)
	e.must(err, "account")
	if !acct.NeedsReconnect {
		t.Fatal("the account is not marked needs_reconnect")
	}
	e.wantDSRLessons(e.ledger(), 0)
	// The first lesson had been marked sending before its POST; the admin sees it pending.
	e.wantStatus(ls[0], domain.StatusSending, "")
	e.wantStatus(ls[1], domain.StatusPending, "")
	var state activities.LessonState
	e.must(e.run(activities.LessonStateName, activities.LessonRef{SchoolID: e.school.ID, LessonID: ls[0].ID}, &state), "state")
	if state.Status != string(domain.StatusPending) {
		t.Fatalf("the admin sees %q", state.Status)
	}
	load := e.load(activities.LoadInput{})
	if load.Blocked != activities.BlockedNeedsReconnect || load.Waiting != 2 || len(load.LessonIDs) != 0 {
		t.Fatalf("load %+v, want the office blocked with 2 lessons waiting", load)
	}
}

// Row "AUTO_ECOLE_FERMEE": non-retryable; the school is flagged closed, the lesson the DSR
// refused is in error in its words, the rest of the batch waits for the reopening.
func TestDeclareSchoolClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ls := declarable(e, 8, 10)
	e.must(e.ctl.SetSchoolStatus(e.ctx, agrement, sandbox.StatutFermee), "close the school")

	_, err := e.declare(e.batch(ls...))
	wantAppError(t, err, activities.ErrTypeSchoolClosed, false)
	school, err := e.q.SchoolGet(e.ctx, e.school.ID)
	e.must(err, "school")
	if school.ClosedAt == nil {
		t.Fatal("the school is not flagged closed")
	}
	e.wantRefusal(ls[0], domain.CodeAutoEcoleFermee)
	e.wantStatus(ls[1], domain.StatusPending, "")
	e.wantDSRLessons(e.ledger(), 0)
	if load := e.load(activities.LoadInput{}); load.Blocked != activities.BlockedSchoolClosed || load.Waiting != 1 {
		t.Fatalf("load %+v, want the school closed with 1 lesson waiting", load)
	}
}

// Rows "ELEVE_INTROUVABLE, CATEGORIE_SANS_DEMANDE" are the DSR's answers to a contract; once
// EnsureTrainingContracts recorded them, DeclareLessons counts those lessons as errors,
// posts nothing for them and completes with the others sent.
func TestDeclareSkipsStudentsRefusedTheirContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	nina := e.student("E-NINA", "Roux", nephNina)
	tom := e.student("E-TOM", "Blanc", nephTom, "A")
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	n := e.lesson(nina, "N1", june10(9), time.Hour)
	tm := e.lesson(tom, "T1", june10(9), time.Hour)
	l := e.lesson(lea, "L1", june10(9), time.Hour)
	in := e.batch(n, tm, l)
	if res, err := e.contracts(in); err != nil || res.Refused != 2 {
		t.Fatalf("contracts %+v %v", res, err)
	}

	res, err := e.declare(in)
	if err != nil || res != (activities.DeclareResult{Transmitted: 1, Errors: 2}) {
		t.Fatalf("%+v %v", res, err)
	}
	e.wantRefusal(n, domain.CodeEleveIntrouvable)
	e.wantRefusal(tm, domain.CodeCategorieSansDemande)
	ledger := e.ledger()
	e.wantDSRLessons(ledger, 1)
	e.wantTransmitted(l, ledger)
}

// Row "LECON_FUTURE": the DSR's clock is behind Livret's, so a lesson Livret holds as over
// is in the DSR's future. That lesson is in error, never retried; the batch goes on.
func TestDeclareLessonInTheFuture(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea, ls := declarable(e, 8)
	later := e.lesson(lea, "L-LATER", sandboxNow.Add(time.Hour), time.Hour) // 13:00–14:00, the DSR's now is 12:00
	in := e.batch(later, ls[0])
	in.Before = runDay.AddDate(0, 0, 1) // Livret's run is the next day's

	res, err := e.declare(in)
	if err != nil || res != (activities.DeclareResult{Transmitted: 1, Errors: 1}) {
		t.Fatalf("%+v %v", res, err)
	}
	e.wantRefusal(later, domain.CodeLeconFuture)
	ledger := e.ledger()
	e.wantDSRLessons(ledger, 1)
	e.wantTransmitted(ls[0], ledger)
	// Recorded, not retried: a second attempt leaves it alone.
	calls := ledger.Calls
	if _, err := e.declare(in); err != nil || e.ledger().Calls != calls {
		t.Fatalf("the refused lesson was tried again: %v", err)
	}
}

// Rows "DUREE_INVALIDE" and "FORMAT_AUTORISATION_INVALIDE". Livret's own rules refuse such a
// lesson before any POST, so the DSR's refusal comes only to a lesson whose data changed
// after an interrupted attempt marked it sending (a sending lesson is looked up, then posted
// as it now is, never judged again). The instructor's number can change so through the API;
// a sending lesson's own times cannot, the test changes them at the data layer.
func TestDeclareRefusalsOfTheLessonItself(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		code   domain.Code
		change func(e *env, st dbq.Student, l dbq.Lesson)
	}{
		{"DUREE_INVALIDE", domain.CodeDureeInvalide, func(e *env, st dbq.Student, l dbq.Lesson) {
			_, err := e.q.LessonUpsert(e.ctx, dbq.LessonUpsertParams{SchoolID: e.school.ID, Ref: l.Ref, OfficeID: l.OfficeID, StudentID: st.ID,
				TrainingID: l.TrainingID, InstructorID: l.InstructorID, Type: l.Type, StartsAt: l.StartsAt, EndsAt: l.StartsAt.Add(20 * time.Minute)})
			e.must(err, "shorten the lesson")
		}},
		{"FORMAT_AUTORISATION_INVALIDE", domain.CodeFormatAutorisationInvalide, func(e *env, _ dbq.Student, _ dbq.Lesson) {
			_, err := e.q.InstructorUpsert(e.ctx, dbq.InstructorUpsertParams{SchoolID: e.school.ID, Ref: e.instructor.Ref,
				FirstName: e.instructor.FirstName, LastName: e.instructor.LastName, AuthorizationNumber: "12345"})
			e.must(err, "change the instructor's number")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			st, ls := declarable(e, 8)
			e.markSending(ls[0])
			c.change(e, st, ls[0])

			res, err := e.declare(e.batch(ls...))
			if err != nil || res != (activities.DeclareResult{Errors: 1}) {
				t.Fatalf("%+v %v", res, err)
			}
			e.wantRefusal(ls[0], c.code)
			if tr := e.transmission(ls[0]); tr.Message != c.code.Message() {
				t.Errorf("message %q, want the DSR's %q", tr.Message, c.code.Message())
			}
			e.wantDSRLessons(e.ledger(), 0)
		})
	}
}

// Row "CONTRAT_NON_AUTORISE": the contract Livret holds for the student is another school's
// (a transfer, say). The lesson is in error; the activity completes.
func TestDeclareOnAnotherSchoolsContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	l := e.lesson(lea, "L1", june10(8), time.Hour)
	other := e.outsider("contact@autre-ecole.fr", otherAgrement)
	theirs, err := other.CreateContract(e.ctx, dsr.ContractRequest{NEPH: nephLea, LastName: "PERRIN", FirstName: "Léa", Category: "B"})
	e.must(err, "the other school's contract")
	e.saveContract(lea, theirs.ID)

	res, err := e.declare(e.batch(l))
	if err != nil || res != (activities.DeclareResult{Errors: 1}) {
		t.Fatalf("%+v %v", res, err)
	}
	e.wantRefusal(l, domain.CodeContratNonAutorise)
	e.wantDSRLessons(e.ledger(), 0)
}

// The same refusal met on the look-up of a lesson left sending: the DSR refuses to list the
// contract's lessons as it would refuse the POST, so the lesson is in error too, rather than
// the batch failing as if the DSR were down.
func TestDeclareSendingLessonOnAnotherSchoolsContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	l := e.lesson(lea, "L1", june10(8), time.Hour)
	next := e.lesson(lea, "L2", june10(10), time.Hour)
	other := e.outsider("contact@autre-ecole.fr", otherAgrement)
	theirs, err := other.CreateContract(e.ctx, dsr.ContractRequest{NEPH: nephLea, LastName: "PERRIN", FirstName: "Léa", Category: "B"})
	e.must(err, "the other school's contract")
	e.saveContract(lea, theirs.ID)
	e.markSending(l)

	res, err := e.declare(e.batch(l, next))
	if err != nil || res != (activities.DeclareResult{Errors: 2}) {
		t.Fatalf("%+v %v: want both lessons refused, the batch completed", res, err)
	}
	e.wantRefusal(l, domain.CodeContratNonAutorise)
	e.wantRefusal(next, domain.CodeContratNonAutorise)
}

// CONTRAT_INTROUVABLE (the DSR does not know the contract Livret holds) is recorded on the
// lesson like the table's last row.
func TestDeclareOnAnUnknownContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	l := e.lesson(lea, "L1", june10(8), time.Hour)
	e.saveContract(lea, "CF-0000000000000000")

	res, err := e.declare(e.batch(l))
	if err != nil || res != (activities.DeclareResult{Errors: 1}) {
		t.Fatalf("%+v %v", res, err)
	}
	e.wantRefusal(l, domain.CodeContratIntrouvable)
}

// Row "LECON_EN_DOUBLON": the DSR already holds the lesson on our contract at that start
// (the school declared it by hand on the DSR's site): Livret counts it as transmitted, under
// the DSR's id.
func TestDeclareDuplicateOfOursIsReconciled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ls := declarable(e, 8)
	l := ls[0]
	byHand, err := e.livretAccount().DeclareLesson(e.ctx, e.contractOf(l), dsr.LessonRequest{Start: l.StartsAt, End: l.EndsAt,
		Type: "CONDUITE", AuthorizationNumber: "A1234567890", InstructorLastName: "Dupont", InstructorFirstName: "Jean"})
	e.must(err, "declared by hand")

	res, err := e.declare(e.batch(l))
	if err != nil || res != (activities.DeclareResult{Transmitted: 1}) {
		t.Fatalf("%+v %v", res, err)
	}
	ledger := e.ledger()
	if ledger.DuplicatesRefused != 1 {
		t.Fatalf("%d duplicates refused: the case was not played", ledger.DuplicatesRefused)
	}
	e.wantDSRLessons(ledger, 1)
	if tr := e.wantTransmitted(l, ledger); tr.DsrLessonID == nil || *tr.DsrLessonID != byHand {
		t.Fatalf("transmitted as %v, the DSR holds %s", tr.DsrLessonID, byHand)
	}
}

// The sending → look-up path: a lesson an interrupted attempt left sending is looked up at
// the DSR first. If the DSR holds it (the POST landed, its answer was lost) it is transmitted
// under that id and not posted again; if not, it is posted.
func TestDeclareSendingLessonIsLookedUpFirst(t *testing.T) {
	t.Parallel()
	t.Run("at the DSR", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		_, ls := declarable(e, 8, 10)
		l := ls[0]
		e.markSending(l)
		landed, err := e.livretAccount().DeclareLesson(e.ctx, e.contractOf(l), dsr.LessonRequest{Start: l.StartsAt, End: l.EndsAt,
			Type: "CONDUITE", AuthorizationNumber: "A1234567890", InstructorLastName: "Dupont", InstructorFirstName: "Jean"})
		e.must(err, "the interrupted attempt's POST")

		res, err := e.declare(e.batch(ls...))
		if err != nil || res != (activities.DeclareResult{Transmitted: 2}) {
			t.Fatalf("%+v %v", res, err)
		}
		ledger := e.ledger()
		if ledger.DuplicatesRefused != 0 {
			t.Fatalf("%d duplicates refused: the lesson was posted again", ledger.DuplicatesRefused)
		}
		e.wantDSRLessons(ledger, 2)
		if tr := e.wantTransmitted(l, ledger); tr.DsrLessonID == nil || *tr.DsrLessonID != landed {
			t.Fatalf("transmitted as %v, the DSR holds %s", tr.DsrLessonID, landed)
		}
		e.wantTransmitted(ls[1], ledger)
	})
	t.Run("not at the DSR", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		_, ls := declarable(e, 8)
		e.markSending(ls[0])

		res, err := e.declare(e.batch(ls...))
		if err != nil || res != (activities.DeclareResult{Transmitted: 1}) {
			t.Fatalf("%+v %v", res, err)
		}
		ledger := e.ledger()
		e.wantDSRLessons(ledger, 1)
		e.wantTransmitted(ls[0], ledger)
		if tr := e.transmission(ls[0]); tr.Attempts != 2 {
			t.Fatalf("%d attempts recorded, want 2 (the interrupted one and this one)", tr.Attempts)
		}
	})
}

// A start with a fraction of a second (the API keeps microseconds) reaches the DSR to the
// second; the look-up after a lost answer must still recognise the lesson as ours.
func TestDeclareLostAnswerOfALessonStartingMidSecond(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	l := e.lesson(lea, "L1", june10(8).Add(500*time.Millisecond), time.Hour)
	e.mustContracts(e.batch(l))
	e.faults(sandbox.Faults{DropAfterCommitRate: 1})

	res, err := e.declare(e.batch(l))
	if err != nil || res != (activities.DeclareResult{Transmitted: 1}) {
		t.Fatalf("%+v %v: the DSR holds the lesson, Livret must say transmitted", res, err)
	}
	ledger := e.ledger()
	if len(ledger.Lessons) != 1 {
		t.Fatalf("the DSR holds %d lessons", len(ledger.Lessons))
	}
	if tr := e.wantStatus(l, domain.StatusTransmitted, ""); tr.DsrLessonID == nil || *tr.DsrLessonID != ledger.Lessons[0].IDLecon {
		t.Fatalf("transmitted as %v, the DSR holds %s", tr.DsrLessonID, ledger.Lessons[0].IDLecon)
	}
}

// Two lessons of one student at the same start in Livret (the management software sent the
// same lesson twice under two refs): the DSR takes the first and refuses the second as
// LECON_EN_DOUBLON. The second is not at the DSR and must not be shown as transmitted under
// the first one's id.
func TestDeclareTwoLessonsOfOursAtOneStart(t *testing.T) {
	// Today the second lesson's LECON_EN_DOUBLON is reconciled onto the first one's DSR
	// lesson: both read transmitted under one id, and the run counts two. Telling them apart
	// needs Livret to know which DSR ids its other lessons already hold (a query by
	// dsr_lesson_id), which belongs with the SQL rework of issue 13.
	t.Skip("known bug: a second lesson of ours at the same start is reconciled onto the first's DSR lesson")
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	first := e.lesson(lea, "L1", june10(8), time.Hour)
	second := e.lesson(lea, "L1-BIS", june10(8), time.Hour)
	e.mustContracts(e.batch(first))

	res, err := e.declare(e.batch(first, second))
	if err != nil {
		t.Fatal(err)
	}
	ledger := e.ledger()
	e.wantDSRLessons(ledger, 1)
	e.wantTransmitted(first, ledger)
	e.wantRefusal(second, domain.CodeLeconEnDoublon)
	if res != (activities.DeclareResult{Transmitted: 1, Errors: 1}) {
		t.Fatalf("result %+v", res)
	}
}

// stopAtCall is a DSR limiter that lets every call go and, before call number n, closes
// stop: the worker begins to stop while that call is in hand.
type stopAtCall struct {
	mu    sync.Mutex
	calls int
	n     int
	stop  chan struct{}
}

func (l *stopAtCall) Wait(context.Context, int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls++; l.calls == l.n {
		close(l.stop)
	}
	return nil
}

// A rolling restart: the worker starts to stop while a batch is under way. The activity
// makes the POST in hand, records it with those before, and hands the rest back (a
// retryable, benign WorkerStopping error, retried within a second): the lessons it did not
// post are pending again, not sending, so the next attempt — on another worker — posts them
// without a look-up, each once.
func TestDeclareHandsBackWhenTheWorkerStops(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, ls := declarable(e, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)
	stop := make(chan struct{})
	acts := &activities.Activities{Pool: e.pool, DSR: dsr.New(e.cfg, e.store, &stopAtCall{n: 4, stop: stop})}
	ae := activityEnv(acts)
	ae.SetWorkerStopChannel(stop)
	_, err := ae.ExecuteActivity(activities.DeclareLessonsName, e.batch(ls...))
	appErr := wantAppError(t, err, activities.ErrTypeWorkerStopping, true)
	if appErr.Category() != temporal.ApplicationErrorCategoryBenign || appErr.NextRetryDelay() <= 0 || appErr.NextRetryDelay() > time.Second {
		t.Fatalf("hand-back: category %v, next retry in %v: want benign, within a second", appErr.Category(), appErr.NextRetryDelay())
	}
	ledger := e.ledger()
	e.wantDSRLessons(ledger, 4)
	for i, l := range ls {
		if i < 4 {
			e.wantTransmitted(l, ledger)
		} else {
			e.wantStatus(l, domain.StatusPending, "")
		}
	}

	res, err := e.declare(e.batch(ls...))
	if err != nil || res != (activities.DeclareResult{Transmitted: len(ls)}) {
		t.Fatalf("the attempt after the hand-back: %+v %v", res, err)
	}
	after := e.ledger()
	e.wantDSRLessons(after, len(ls))
	if after.DuplicatesRefused != 0 || after.Calls-ledger.Calls != len(ls)-4 {
		t.Fatalf("the next attempt made %d calls for %d lessons left, %d duplicates refused", after.Calls-ledger.Calls, len(ls)-4, after.DuplicatesRefused)
	}
	for _, l := range ls {
		e.wantTransmitted(l, after)
	}
}
