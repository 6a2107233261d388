package activities_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"livret/activities"
	"livret/db/dbq"
	"livret/domain"
	"livret/dsr"
	"livret/sandbox"
)

// EnsureTrainingContracts, row by row of the retry table (docs/architecture.md, "Retry table"). The rows that
// the DSR only answers to a lesson (LECON_*, CONTRAT_NON_AUTORISE) are DeclareLessons'.

const (
	nephLea  = "120675000001"
	nephNina = "120675000003"
	nephTom  = "120675000004"
)

func TestContractsCreatedOnceThenReused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	tom := e.student("E-TOM", "Blanc", nephTom, "B")
	l1 := e.lesson(lea, "L1", june10(9), time.Hour)
	l2 := e.lesson(lea, "L2", june10(11), time.Hour)
	l3 := e.lesson(tom, "L3", june10(9), time.Hour)
	in := e.batch(l1, l2, l3)

	res, err := e.contracts(in)
	if err != nil {
		t.Fatal(err)
	}
	if res != (activities.ContractsResult{Created: 2}) {
		t.Fatalf("result %+v, want 2 created (one per student, not per lesson)", res)
	}
	ledger := e.ledger()
	if len(ledger.Contracts) != 2 {
		t.Fatalf("the DSR holds %d contracts, want 2", len(ledger.Contracts))
	}
	byNEPH := map[string]string{}
	for _, c := range ledger.Contracts {
		byNEPH[c.NEPH] = c.IDContrat
	}
	if e.contractOf(l1) != byNEPH[nephLea] || e.contractOf(l2) != byNEPH[nephLea] || e.contractOf(l3) != byNEPH[nephTom] {
		t.Fatalf("Livret's contracts %q %q %q, the DSR's %v", e.contractOf(l1), e.contractOf(l2), e.contractOf(l3), byNEPH)
	}
	calls := ledger.Calls

	// A retry of the activity (or the next batch) has nothing left to do: no DSR call at all.
	res, err = e.contracts(in)
	if err != nil || res != (activities.ContractsResult{}) {
		t.Fatalf("second attempt: %+v %v", res, err)
	}
	if again := e.ledger(); again.Calls != calls || len(again.Contracts) != 2 {
		t.Fatalf("second attempt called the DSR: %d calls (was %d), %d contracts", again.Calls, calls, len(again.Contracts))
	}
	for _, l := range []dbq.Lesson{l1, l2, l3} {
		e.wantStatus(l, domain.StatusPending, "")
	}
}

// A contract the school already has at the DSR (opened by a colleague's account of the same
// school) is looked up and used, not created again.
func TestContractFoundAtTheDSRIsUsed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	l := e.lesson(lea, "L1", june10(9), time.Hour)
	colleague := e.outsider("secretariat@plesses.fr", agrement)
	theirs, err := colleague.CreateContract(e.ctx, dsr.ContractRequest{NEPH: nephLea, LastName: "PERRIN", FirstName: "Léa", Category: "B"})
	e.must(err, "colleague's contract")

	res, err := e.contracts(e.batch(l))
	if err != nil || res != (activities.ContractsResult{Found: 1}) {
		t.Fatalf("%+v %v, want the contract found", res, err)
	}
	if got := e.contractOf(l); got != theirs.ID {
		t.Fatalf("Livret holds contract %q, the DSR %q", got, theirs.ID)
	}
	if n := len(e.ledger().Contracts); n != 1 {
		t.Fatalf("the DSR holds %d contracts, want 1", n)
	}
}

// Row "network error, timeout, 5xx": a retryable failure; no contract is half-made, the
// lessons stay pending, and the next attempt creates the contract once.
func TestContractsTransientFaultsAreRetryable(t *testing.T) {
	t.Parallel()
	for _, f := range transientFaults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			lea := e.student("E-LEA", "Perrin", nephLea, "B")
			l := e.lesson(lea, "L1", june10(9), time.Hour)
			acts := f.arrange(e)

			err := e.runWith(acts, activities.EnsureTrainingContractsName, e.batch(l), nil)
			wantAppError(t, err, activities.ErrTypeTransient, true)
			e.wantStatus(l, domain.StatusPending, "")
			e.quiesce()
			if e.contractOf(l) != "" {
				t.Fatal("Livret holds a contract after a failed attempt")
			}

			e.faults(sandbox.Faults{})
			res, err := e.contracts(e.batch(l))
			if err != nil || res.Created+res.Found != 1 {
				t.Fatalf("next attempt: %+v %v", res, err)
			}
			if n := len(e.ledger().Contracts); n != 1 {
				t.Fatalf("the DSR holds %d contracts, want 1", n)
			}
		})
	}
}

// The DSR stores the contract and the answer is lost (an empty 502 or a closed connection):
// the retry looks the contract up and finds it instead of creating a second one.
func TestContractsLostAnswerCreatesNothingTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	tom := e.student("E-TOM", "Blanc", nephTom, "B")
	l1 := e.lesson(lea, "L1", june10(9), time.Hour)
	l2 := e.lesson(tom, "L2", june10(9), time.Hour)
	e.faults(sandbox.Faults{DropAfterCommitRate: 1})

	res, err := e.contracts(e.batch(l1, l2))
	if err != nil {
		t.Fatal(err)
	}
	// Every creation's answer was lost, so every contract was found on the retry.
	if res != (activities.ContractsResult{Found: 2}) {
		t.Fatalf("result %+v, want both found after their lost answers", res)
	}
	ledger := e.ledger()
	if len(ledger.Contracts) != 2 {
		t.Fatalf("the DSR holds %d contracts, want 2", len(ledger.Contracts))
	}
	for _, c := range ledger.Contracts {
		if c.NEPH == nephLea && e.contractOf(l1) != c.IDContrat || c.NEPH == nephTom && e.contractOf(l2) != c.IDContrat {
			t.Fatalf("Livret's contracts %q %q, the DSR's %+v", e.contractOf(l1), e.contractOf(l2), ledger.Contracts)
		}
	}
}

// Row "429": the account is past its limit at the DSR; the activity fails retryable with
// NextRetryDelay set to the DSR's Retry-After, and has created nothing.
func TestContractsRateLimitedRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	l := e.lesson(lea, "L1", june10(9), time.Hour)
	e.spendTheMinute()

	err := e.run(activities.EnsureTrainingContractsName, e.batch(l), nil)
	appErr := wantAppError(t, err, activities.ErrTypeRateLimited, true)
	if got := appErr.NextRetryDelay(); got != time.Minute {
		t.Fatalf("NextRetryDelay %s, want the DSR's Retry-After of 60 s", got)
	}
	ledger := e.ledger()
	if len(ledger.Contracts) != 0 || ledger.RateLimited != 1 {
		t.Fatalf("contracts %d, 429s %d: want none created after one 429", len(ledger.Contracts), ledger.RateLimited)
	}
	e.wantStatus(l, domain.StatusPending, "")
}

// Row "401 TOKEN_INVALIDE": the DSR no longer takes the access token (its clock says it has
// expired); the client refreshes once, saves the new pair and goes on.
func TestContractsTokenRefusedThenRefreshed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	l := e.lesson(lea, "L1", june10(9), time.Hour)
	old := e.storedToken()
	e.clock.Advance(sandbox.DefaultAccessTTL + time.Second)

	res, err := e.contracts(e.batch(l))
	if err != nil || res != (activities.ContractsResult{Created: 1}) {
		t.Fatalf("%+v %v", res, err)
	}
	e.wantRefreshedOnce(old)
}

// Row "401, refresh refused (invalid_grant)": the refresh token has lapsed too. The account
// is marked "reconnexion nécessaire", nothing retries, the lessons stay pending.
func TestContractsRefreshRefusedNeedsReconnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	l := e.lesson(lea, "L1", june10(9), time.Hour)
	e.clock.Advance(sandbox.DefaultRefreshTTL + time.Second)

	err := e.run(activities.EnsureTrainingContractsName, e.batch(l), nil)
	wantAppError(t, err, activities.ErrTypeNeedsReconnect, false)
	acct, err := e.q.AccountGet(e.ctx, e.account.ID)
	e.must(err, "account")
	if !acct.NeedsReconnect {
		t.Fatal("the account is not marked needs_reconnect")
	}
	e.wantStatus(l, domain.StatusPending, "")
	if n := len(e.ledger().Contracts); n != 0 {
		t.Fatalf("%d contracts created", n)
	}
}

// Row "AUTO_ECOLE_FERMEE": non-retryable; the school is flagged closed and the lessons the
// refusal was about are in error.
func TestContractsSchoolClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	l1 := e.lesson(lea, "L1", june10(9), time.Hour)
	l2 := e.lesson(lea, "L2", june10(11), time.Hour)
	e.must(e.ctl.SetSchoolStatus(e.ctx, agrement, sandbox.StatutFermee), "close the school")

	err := e.run(activities.EnsureTrainingContractsName, e.batch(l1, l2), nil)
	wantAppError(t, err, activities.ErrTypeSchoolClosed, false)
	school, err := e.q.SchoolGet(e.ctx, e.school.ID)
	e.must(err, "school")
	if school.ClosedAt == nil {
		t.Fatal("the school is not flagged closed")
	}
	e.wantRefusal(l1, domain.CodeAutoEcoleFermee)
	e.wantRefusal(l2, domain.CodeAutoEcoleFermee)
}

// Rows "ELEVE_INTROUVABLE" and "CATEGORIE_SANS_DEMANDE": that student's lessons are in error
// in the DSR's words; the other students get their contracts and the activity completes.
func TestContractsRefusedStudentsAreRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	nina := e.student("E-NINA", "Roux", nephNina) // unknown at the ANTS
	tom := e.student("E-TOM", "Blanc", nephTom, "A")
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	n1 := e.lesson(nina, "N1", june10(9), time.Hour)
	n2 := e.lesson(nina, "N2", june10(11), time.Hour)
	t1 := e.lesson(tom, "T1", june10(9), time.Hour)
	l1 := e.lesson(lea, "L1", june10(9), time.Hour)

	res, err := e.contracts(e.batch(n1, n2, t1, l1))
	if err != nil {
		t.Fatal(err)
	}
	if res != (activities.ContractsResult{Created: 1, Refused: 3}) {
		t.Fatalf("result %+v, want 1 created and 3 lessons refused", res)
	}
	e.wantRefusal(n1, domain.CodeEleveIntrouvable)
	e.wantRefusal(n2, domain.CodeEleveIntrouvable)
	e.wantRefusal(t1, domain.CodeCategorieSansDemande)
	if tr := e.transmission(n1); tr.Message != "Le duo NOM NEPH de l'élève ne permet pas de le retrouver en base" {
		t.Errorf("message %q, want the DSR's", tr.Message)
	}
	if tr := e.transmission(t1); tr.Message != "L'élève que vous recherchez n'a pas de demande pour cette catégorie de permis" {
		t.Errorf("message %q, want the DSR's", tr.Message)
	}
	e.wantStatus(l1, domain.StatusPending, "")
	if e.contractOf(l1) == "" || e.contractOf(n1) != "" || e.contractOf(t1) != "" {
		t.Fatalf("contracts: lea %q nina %q tom %q", e.contractOf(l1), e.contractOf(n1), e.contractOf(t1))
	}
	// A refused student is not asked for again: its lessons are no longer to send.
	calls := e.ledger().Calls
	if res, err := e.contracts(e.batch(n1, n2, t1, l1)); err != nil || res != (activities.ContractsResult{}) {
		t.Fatalf("second attempt %+v %v", res, err)
	}
	if e.ledger().Calls != calls {
		t.Fatal("the second attempt asked the DSR again about refused students")
	}
}

// Row "CONTRAT_DEJA_CONNU", visible to this school: a colleague's account of the same school
// creates the contract between Livret's look-up and its create (the hook orders a real call
// of theirs before Livret's POST; the sandbox answers both). Livret looks again and uses it.
func TestContractAlreadyKnownIsLookedUpAndUsed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	l := e.lesson(lea, "L1", june10(9), time.Hour)
	colleague := e.outsider("secretariat@plesses.fr", agrement)
	var (
		fired  atomic.Bool
		theirs atomic.Value
	)
	e.beforeRequests(func(r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/contrats-formation" && fired.CompareAndSwap(false, true) {
			c, err := colleague.CreateContract(r.Context(), dsr.ContractRequest{NEPH: nephLea, LastName: "PERRIN", FirstName: "Léa", Category: "B"})
			if err != nil {
				t.Errorf("colleague's contract: %v", err)
				return
			}
			theirs.Store(c.ID)
		}
	})

	res, err := e.contracts(e.batch(l))
	if err != nil || res != (activities.ContractsResult{Found: 1}) {
		t.Fatalf("%+v %v, want the contract found after CONTRAT_DEJA_CONNU", res, err)
	}
	if !fired.Load() {
		t.Fatal("Livret never tried to create the contract: the case was not played")
	}
	if got := e.contractOf(l); got == "" || got != theirs.Load() {
		t.Fatalf("Livret holds %q, the colleague created %v", got, theirs.Load())
	}
	if n := len(e.ledger().Contracts); n != 1 {
		t.Fatalf("the DSR holds %d contracts, want 1", n)
	}
	e.wantStatus(l, domain.StatusPending, "")
}

// Row "CONTRAT_DEJA_CONNU", not visible to this school: another school holds the student's
// contract. The lessons are in error in the DSR's words; the activity completes.
func TestContractAlreadyKnownElsewhereIsAnError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	l := e.lesson(lea, "L1", june10(9), time.Hour)
	other := e.outsider("contact@autre-ecole.fr", otherAgrement)
	_, err := other.CreateContract(e.ctx, dsr.ContractRequest{NEPH: nephLea, LastName: "PERRIN", FirstName: "Léa", Category: "B"})
	e.must(err, "the other school's contract")

	res, err := e.contracts(e.batch(l))
	if err != nil || res != (activities.ContractsResult{Refused: 1}) {
		t.Fatalf("%+v %v, want the lesson refused", res, err)
	}
	e.wantRefusal(l, domain.CodeContratDejaConnu)
	if tr := e.transmission(l); tr.Message != "Ce contrat de formation est déjà connu en base de données" {
		t.Errorf("message %q, want the DSR's", tr.Message)
	}
	if e.contractOf(l) != "" {
		t.Fatal("Livret took another school's contract")
	}
}

// Contracts are per training: a student with a B and an A2 training gets one contract per
// category, each found by its category at the DSR; a refusal of one (no ANTS request for A2)
// puts that training's lessons in error and shows on that training, not on the other.
func TestContractsPerTraining(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.q.SchoolSetScope(e.ctx, dbq.SchoolSetScopeParams{ID: e.school.ID, Scope: string(domain.ScopeEtendu)})
	e.must(err, "scope")
	lea := e.student("E-LEA", "Perrin", nephLea, "B") // the ANTS knows Léa for B only
	a2, err := e.q.TrainingUpsert(e.ctx, dbq.TrainingUpsertParams{SchoolID: e.school.ID, StudentID: lea.ID, Category: "A2", InitialEvaluationAccepted: true})
	e.must(err, "A2 training")
	tom := e.student("E-TOM", "Blanc", nephTom, "B", "A2")
	tomA2, err := e.q.TrainingUpsert(e.ctx, dbq.TrainingUpsertParams{SchoolID: e.school.ID, StudentID: tom.ID, Category: "A2", InitialEvaluationAccepted: true})
	e.must(err, "Tom's A2 training")
	plateau := func(st dbq.Student, training int64, ref string, start time.Time) dbq.Lesson {
		l, err := e.q.LessonUpsert(e.ctx, dbq.LessonUpsertParams{SchoolID: e.school.ID, Ref: ref, OfficeID: st.OfficeID,
			StudentID: st.ID, TrainingID: training, InstructorID: e.instructor.ID, Type: string(domain.TypePlateau),
			StartsAt: start, EndsAt: start.Add(time.Hour)})
		e.must(err, "plateau")
		_, err = e.q.TransmissionSetVerdict(e.ctx, dbq.TransmissionSetVerdictParams{LessonID: l.ID, SchoolID: e.school.ID,
			OfficeID: st.OfficeID, StudentID: st.ID, Category: "A2", StartsAt: l.StartsAt, EndsAt: l.EndsAt, Status: string(domain.StatusPending)})
		e.must(err, "plateau's transmission")
		return l
	}
	leaB := e.lesson(lea, "L-LEA-B", june10(9), time.Hour)
	leaA2 := plateau(lea, a2.ID, "L-LEA-A2", june10(11))
	tomB := e.lesson(tom, "L-TOM-B", june10(9), time.Hour)
	tomA2L := plateau(tom, tomA2.ID, "L-TOM-A2", june10(11))
	// Tom's A2 contract exists already at the DSR (a colleague's account): found by category.
	colleague := e.outsider("secretariat@plesses.fr", agrement)
	theirs, err := colleague.CreateContract(e.ctx, dsr.ContractRequest{NEPH: nephTom, LastName: "BLANC", FirstName: "Léa", Category: "A2"})
	e.must(err, "Tom's A2 contract")

	res, err := e.contracts(e.batch(leaB, leaA2, tomB, tomA2L))
	if err != nil {
		t.Fatal(err)
	}
	if res != (activities.ContractsResult{Created: 2, Found: 1, Refused: 1}) {
		t.Fatalf("result %+v, want Léa's and Tom's B created, Tom's A2 found, Léa's A2 refused", res)
	}
	if e.contractOf(tomA2L) != theirs.ID || e.contractOf(tomB) == "" || e.contractOf(tomB) == theirs.ID {
		t.Fatalf("Tom's contracts: B %q, A2 %q (the DSR's A2 %q)", e.contractOf(tomB), e.contractOf(tomA2L), theirs.ID)
	}
	e.wantStatus(leaA2, domain.StatusError, domain.CodeCategorieSansDemande)
	e.wantStatus(leaB, domain.StatusPending, "")
	ts, err := e.q.TrainingList(e.ctx, dbq.TrainingListParams{SchoolID: e.school.ID, StudentIds: []int64{lea.ID}})
	e.must(err, "Léa's trainings")
	for _, tr := range ts {
		switch {
		case tr.Category == "B" && (tr.DsrContractID == nil || tr.ContractCode != ""):
			t.Errorf("Léa's B training: %+v", tr)
		case tr.Category == "A2" && (tr.DsrContractID != nil || tr.ContractCode != string(domain.CodeCategorieSansDemande) || tr.ContractMessage == ""):
			t.Errorf("Léa's A2 training: %+v", tr)
		}
	}
}
