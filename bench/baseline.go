package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"livret/db/dbq"
	"livret/domain"
	"livret/dsr"
	"livret/worker"
)

// baseline does the same DSR calls and SQL writes as a run, in a plain loop with no
// Temporal: per office, BatchConcurrency goroutines; per student, find or create the
// contract; per lesson, mark sending, POST, mark transmitted. It is the floor Livret's
// orchestration is measured against.
func baseline(ctx context.Context, s *stack, sd *seeded, limitPerMin, concurrency int, before time.Time) error {
	// The same DSR client, token store and limiter as the worker's: only the orchestration differs.
	client := worker.NewDSRClient(s.workerConfig(limitPerMin))
	q := dbq.New(s.pool)
	g, ctx := errgroup.WithContext(ctx)
	for _, o := range sd.offices {
		g.Go(func() error {
			ids, err := q.TransmissionListDue(ctx, dbq.TransmissionListDueParams{OfficeID: o.office.ID, Before: before, Lim: 1 << 30})
			if err != nil {
				return err
			}
			rows, err := q.LessonSendList(ctx, dbq.LessonSendListParams{SchoolID: o.schoolID, LessonIds: ids})
			if err != nil {
				return err
			}
			acct := client.Account(o.accountID)
			var mu sync.Mutex
			contracts := map[int64]string{}
			refused := map[int64]bool{}
			contractOf := func(r dbq.LessonSendListRow) (string, bool, error) {
				mu.Lock()
				defer mu.Unlock()
				if id, ok := contracts[r.StudentID]; ok {
					return id, true, nil
				}
				if refused[r.StudentID] {
					return "", false, nil
				}
				found, err := acct.FindContracts(ctx, r.LessonFact.Neph)
				if err != nil {
					return "", false, err
				}
				if len(found) == 0 {
					c, err := acct.CreateContract(ctx, dsr.ContractRequest{NEPH: r.LessonFact.Neph, LastName: r.StudentLastName, FirstName: r.StudentFirstName, Category: "B"})
					if e, ok := dsr.AsError(err); ok && e.Kind == dsr.KindBusiness {
						refused[r.StudentID] = true
						return "", false, nil
					}
					if err != nil {
						return "", false, err
					}
					found = []dsr.Contract{c}
				}
				contracts[r.StudentID] = found[0].ID
				if _, err := q.ContractSave(ctx, dbq.ContractSaveParams{SchoolID: o.schoolID, StudentID: r.StudentID,
					TrainingID: r.LessonFact.TrainingID, DsrContractID: found[0].ID}); err != nil {
					return "", false, err
				}
				return found[0].ID, true, nil
			}
			work := make(chan dbq.LessonSendListRow)
			lg, lctx := errgroup.WithContext(ctx)
			for w := 0; w < concurrency; w++ {
				lg.Go(func() error {
					for r := range work {
						contract, ok, err := contractOf(r)
						if err != nil {
							return err
						}
						if !ok {
							if _, err := q.TransmissionMarkError(lctx, dbq.TransmissionMarkErrorParams{LessonID: r.ID,
								Code: string(domain.CodeEleveIntrouvable), Message: domain.CodeEleveIntrouvable.Message(), Origin: "dsr"}); err != nil {
								return err
							}
							continue
						}
						if _, err := q.TransmissionMarkSending(lctx, r.ID); err != nil {
							return err
						}
						id, err := acct.DeclareLesson(lctx, contract, dsr.LessonRequest{Start: r.LessonFact.StartsAt, End: r.LessonFact.EndsAt,
							Type: "CONDUITE", AuthorizationNumber: r.LessonFact.AuthorizationNumber, InstructorLastName: r.InstructorLastName,
							InstructorFirstName: r.InstructorFirstName})
						if err != nil {
							return fmt.Errorf("baseline: lesson %d: %w", r.ID, err)
						}
						if _, err := q.TransmissionMarkTransmitted(lctx, dbq.TransmissionMarkTransmittedParams{LessonID: r.ID, DsrLessonID: &id}); err != nil {
							return err
						}
					}
					return nil
				})
			}
			for _, r := range rows {
				select {
				case work <- r:
				case <-lctx.Done():
				}
			}
			close(work)
			return lg.Wait()
		})
	}
	return g.Wait()
}
