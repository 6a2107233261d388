package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
	"livret/dsr"
	"livret/sandbox"
	"livret/worker"
)

// shape is what to seed: accounts, each with its offices, students and lessons per office.
type shape struct {
	Accounts          int
	CentralisedEvery  int // every Nth account has two offices sharing it (0: none)
	StudentsPerOffice int
	LessonsPerOffice  int
	// ErrorShare of students unknown at the ANTS: their lessons end in ELEVE_INTROUVABLE.
	ErrorShare float64
}

type seededOffice struct {
	schoolID int64
	office   dbq.Office
	lessons  int
	// students with their contract-to-be data, for the baseline
	accountID int64
}

type seeded struct {
	offices  []seededOffice
	accounts []int64 // Livret account ids
	compte   map[string]bool
	lessons  int
	eligible int // lessons whose student is known at the ANTS
}

// seed creates the schools, accounts (linked through the sandbox's real login), offices,
// students (at the ANTS too) and lessons. prefix keeps two seeds (Livret's and the
// baseline's) apart.
func seed(ctx context.Context, s *stack, sh shape, prefix string) (*seeded, error) {
	q := dbq.New(s.pool)
	out := &seeded{compte: map[string]bool{}}
	dsrClient := worker.NewDSRClient(s.workerConfig(0)) // linking only: no limit
	// NEPHs are unique per seed: the DSR refuses a second contract for the same NEPH.
	nephSeq, _ := strconv.Atoi(prefix)
	nephSeq *= 1e9
	for a := 0; a < sh.Accounts; a++ {
		agrement := fmt.Sprintf("E%s%09d", prefix, a)
		key := sha256.Sum256([]byte(agrement))
		school, err := q.SchoolCreate(ctx, dbq.SchoolCreateParams{Name: "Auto-école " + agrement, Agrement: agrement, ApiKeyHash: key[:]})
		if err != nil {
			return nil, err
		}
		// The API's door reads the school's named keys: the key is the first of them.
		if _, err := q.ApiKeyCreate(ctx, dbq.ApiKeyCreateParams{SchoolID: school.ID, Name: "Clé principale", KeyHash: key[:]}); err != nil {
			return nil, err
		}
		email := fmt.Sprintf("compte%s%d@bench.fr", prefix, a)
		if _, err := s.control.AddAccount(ctx, sandbox.Account{Email: email, Password: "pw", Agrement: agrement, SchoolName: school.Name}); err != nil {
			return nil, err
		}
		instructor, err := q.InstructorUpsert(ctx, dbq.InstructorUpsertParams{SchoolID: school.ID, Ref: "I1",
			FirstName: "Jean", LastName: "Dupont", AuthorizationNumber: "A1234567890"})
		if err != nil {
			return nil, err
		}
		offices := 1
		if sh.CentralisedEvery > 0 && a%sh.CentralisedEvery == 0 {
			offices = 2
		}
		browser := sandbox.NewBrowser()
		var accountID int64
		for o := 0; o < offices; o++ {
			office, err := q.OfficeUpsert(ctx, dbq.OfficeUpsertParams{SchoolID: school.ID, Ref: fmt.Sprintf("B%d", o), Name: fmt.Sprintf("Bureau %d", o)})
			if err != nil {
				return nil, err
			}
			acct, err := link(ctx, s, dsrClient, browser, school.ID, office.ID, email)
			if err != nil {
				return nil, err
			}
			accountID = acct
			if err := seedLessons(ctx, s, q, sh, school.ID, office.ID, instructor.ID, &nephSeq, out); err != nil {
				return nil, err
			}
			out.offices = append(out.offices, seededOffice{schoolID: school.ID, office: office, lessons: sh.LessonsPerOffice, accountID: acct})
		}
		out.accounts = append(out.accounts, accountID)
	}
	return out, nil
}

// link does what the OAuth callback does, through the sandbox's real login page.
func link(ctx context.Context, s *stack, c *dsr.Client, browser *http.Client, schoolID, officeID int64, email string) (int64, error) {
	cfg := s.dsrCfg.OAuth2()
	verifier := oauth2.GenerateVerifier()
	loc, err := sandbox.BrowserLogin(ctx, browser, cfg.AuthCodeURL("bench", oauth2.S256ChallengeOption(verifier)), email, "pw")
	if err != nil {
		return 0, err
	}
	tok, err := c.Exchange(ctx, loc.Query().Get("code"), verifier)
	if err != nil {
		return 0, err
	}
	me, err := c.MeWithToken(ctx, tok)
	if err != nil {
		return 0, err
	}
	var id int64
	err = db.WithTx(ctx, s.pool, func(q *dbq.Queries) error {
		acct, err := s.tokens.LinkAccount(ctx, q, schoolID, me.AccountID, me.Email, tok)
		if err != nil {
			return err
		}
		id = acct.ID
		_, err = q.OfficeLink(ctx, dbq.OfficeLinkParams{SchoolID: schoolID, ID: officeID, AccountID: &acct.ID})
		return err
	})
	return id, err
}

func seedLessons(ctx context.Context, s *stack, q *dbq.Queries, sh shape, schoolID, officeID, instructorID int64, nephSeq *int, out *seeded) error {
	var studentIDs, trainingIDs []int64
	var known []bool
	for st := 0; st < sh.StudentsPerOffice; st++ {
		*nephSeq++
		neph := fmt.Sprintf("%012d", *nephSeq)
		last := fmt.Sprintf("Eleve%d", *nephSeq)
		student, err := q.StudentUpsert(ctx, dbq.StudentUpsertParams{SchoolID: schoolID, Ref: fmt.Sprintf("S%d-%d", officeID, st), OfficeID: officeID,
			FirstName: "Camille", LastName: last, SearchName: domain.SearchKey("Camille " + last), Neph: neph})
		if err != nil {
			return err
		}
		training, err := q.TrainingUpsert(ctx, dbq.TrainingUpsertParams{SchoolID: schoolID, StudentID: student.ID, Category: "B",
			InitialEvaluationAccepted: true})
		if err != nil {
			return err
		}
		trainingIDs = append(trainingIDs, training.ID)
		isKnown := float64(st) >= sh.ErrorShare*float64(sh.StudentsPerOffice)
		if isKnown {
			if err := s.control.AddStudent(ctx, sandbox.Student{Nom: strings.ToUpper(last), Prenom: "Camille", NEPH: neph, Categories: []string{"B"}}); err != nil {
				return err
			}
		}
		studentIDs = append(studentIDs, student.ID)
		known = append(known, isKnown)
	}
	const chunk = 5000
	for from := 0; from < sh.LessonsPerOffice; from += chunk {
		n := min(chunk, sh.LessonsPerOffice-from)
		p := dbq.LessonInsertManyParams{SchoolID: schoolID, OfficeID: officeID, InstructorID: instructorID, Type: string(domain.TypeConduite)}
		for i := from; i < from+n; i++ {
			st := i % len(studentIDs)
			// Each student's lessons an hour apart on successive days of 2026, 08:00–09:00.
			k := i / len(studentIDs)
			start := time.Date(2026, 1, 1, 8, 0, 0, 0, domain.Paris).AddDate(0, 0, k%300).Add(time.Duration(k/300) * time.Hour)
			p.Refs = append(p.Refs, fmt.Sprintf("L%d-%d", officeID, i))
			p.StudentIds = append(p.StudentIds, studentIDs[st])
			p.TrainingIds = append(p.TrainingIds, trainingIDs[st])
			p.Starts = append(p.Starts, start)
			p.Ends = append(p.Ends, start.Add(time.Hour))
			if known[st] {
				out.eligible++
			}
		}
		rows, err := q.LessonInsertMany(ctx, p)
		if err != nil {
			return err
		}
		t := dbq.TransmissionInsertPendingManyParams{SchoolID: schoolID, OfficeID: officeID}
		for _, r := range rows {
			t.LessonIds = append(t.LessonIds, r.ID)
			t.StudentIds = append(t.StudentIds, r.StudentID)
			t.Categories = append(t.Categories, "B")
			t.Starts = append(t.Starts, r.StartsAt)
			t.Ends = append(t.Ends, r.EndsAt)
		}
		if err := q.TransmissionInsertPendingMany(ctx, t); err != nil {
			return err
		}
		out.lessons += n
	}
	return nil
}
