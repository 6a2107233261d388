package activities

import (
	"context"

	"go.temporal.io/sdk/activity"

	"livret/db/dbq"
	"livret/domain"
	"livret/dsr"
	"livret/school"
)

// EnsureTrainingContracts gives every student of the batch a training contract at the DSR,
// created on the student's first lesson sent and reused afterwards. It looks the contract up
// before creating one, so a retry after a lost answer creates nothing twice; a student the
// DSR refuses has their lessons of the batch put in error in the DSR's words.
func (a *Activities) EnsureTrainingContracts(ctx context.Context, in BatchInput) (ContractsResult, error) {
	q := dbq.New(a.Pool)
	rows, err := q.LessonSendList(ctx, dbq.LessonSendListParams{SchoolID: in.SchoolID, LessonIds: in.LessonIDs})
	if err != nil {
		return ContractsResult{}, err
	}
	// The students that need a contract, in lesson order, each with their lessons.
	var students []int64
	lessons := map[int64][]dbq.LessonSendListRow{}
	for _, r := range rows {
		if r.DsrContractID != nil || r.LessonFact.AccountID == nil || !sendable(r) {
			continue
		}
		if _, seen := lessons[r.StudentID]; !seen {
			students = append(students, r.StudentID)
		}
		lessons[r.StudentID] = append(lessons[r.StudentID], r)
	}
	var res ContractsResult
	for i, studentID := range students {
		activity.RecordHeartbeat(ctx, i)
		first := lessons[studentID][0]
		acct := a.DSR.Account(*first.LessonFact.AccountID)
		var (
			id    string
			found bool
		)
		err := retryBriefly(ctx, func() (err error) {
			id, found, err = a.ensureContract(ctx, acct, first)
			return err
		})
		if err != nil {
			switch HandlingOf(err) {
			case RecordStudent, LookupContract, RecordLesson:
				for _, r := range lessons[studentID] {
					if err := a.markError(ctx, q, r.ID, err); err != nil {
						return res, err
					}
					res.Refused++
				}
				continue
			case StopSchool:
				return res, a.stopSchool(ctx, q, in.SchoolID, lessons[studentID], err)
			case Reconnect:
				return res, a.needsReconnect(ctx, q, *first.LessonFact.AccountID, err)
			}
			return res, failure(err)
		}
		if _, err := q.ContractSave(ctx, dbq.ContractSaveParams{SchoolID: in.SchoolID, StudentID: studentID, DsrContractID: id}); err != nil {
			return res, err
		}
		if found {
			res.Found++
		} else {
			res.Created++
		}
	}
	return res, nil
}

// ensureContract finds the student's contract at the DSR or creates it.
func (a *Activities) ensureContract(ctx context.Context, acct *dsr.Account, r dbq.LessonSendListRow) (id string, found bool, err error) {
	neph, _ := domain.NormalizeNEPH(r.LessonFact.Neph)
	if id, ok, err := a.findContract(ctx, acct, neph); err != nil || ok {
		return id, ok, err
	}
	started := a.now()
	c, err := acct.CreateContract(ctx, dsr.ContractRequest{
		NEPH: neph, LastName: r.StudentLastName, FirstName: r.StudentFirstName,
		Category: domain.Category(r.LessonFact.Category).DSRCode(),
	})
	a.Metrics.observe("create_contract", a.now().Sub(started).Seconds(), err)
	if err == nil {
		return c.ID, false, nil
	}
	if HandlingOf(err) == LookupContract {
		// "déjà connu": ours if this school can see it (an earlier answer was lost).
		if id, ok, lookErr := a.findContract(ctx, acct, neph); lookErr != nil || ok {
			return id, ok, lookErr
		}
	}
	return "", false, err
}

func (a *Activities) findContract(ctx context.Context, acct *dsr.Account, neph string) (string, bool, error) {
	started := a.now()
	contracts, err := acct.FindContracts(ctx, neph)
	a.Metrics.observe("find_contracts", a.now().Sub(started).Seconds(), err)
	if err != nil {
		return "", false, err
	}
	for _, c := range contracts {
		if c.NEPH == neph {
			return c.ID, true, nil
		}
	}
	return "", false, nil
}

// sendable reports whether a lesson of a batch is still to be declared by Livret's rules.
func sendable(r dbq.LessonSendListRow) bool {
	switch domain.Status(r.Status) {
	case domain.StatusSending:
		return true // it may be at the DSR already: never re-judged, only reconciled
	case domain.StatusPending:
		return domain.Evaluate(school.Facts(r.LessonFact)).Pending()
	}
	return false
}
