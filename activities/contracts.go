package activities

import (
	"context"

	"go.temporal.io/sdk/activity"

	"livret/db/dbq"
	"livret/domain"
	"livret/dsr"
	"livret/school"
)

// EnsureTrainingContracts gives every training of the batch a training contract at the DSR
// (contracts are per student and category: a student with a B and an A2 training holds two),
// created on the training's first lesson sent and reused afterwards. It looks the contract up
// (by NEPH, then the category) before creating one, so a retry after a lost answer creates
// nothing twice; a training the DSR refuses has its lessons of the batch put in error in the
// DSR's words, and the refusal shows on the student's training.
func (a *Activities) EnsureTrainingContracts(ctx context.Context, in BatchInput) (ContractsResult, error) {
	q := dbq.New(a.Pool)
	rows, err := q.LessonSendList(ctx, dbq.LessonSendListParams{SchoolID: in.SchoolID, LessonIds: in.LessonIDs})
	if err != nil {
		return ContractsResult{}, err
	}
	// The trainings that need a contract, in lesson order, each with its lessons.
	var trainings []int64
	lessons := map[int64][]dbq.LessonSendListRow{}
	for _, r := range rows {
		if r.DsrContractID != nil || r.LessonFact.AccountID == nil || !sendable(r) {
			continue
		}
		t := r.LessonFact.TrainingID
		if _, seen := lessons[t]; !seen {
			trainings = append(trainings, t)
		}
		lessons[t] = append(lessons[t], r)
	}
	var res ContractsResult
	for i, trainingID := range trainings {
		activity.RecordHeartbeat(ctx, i)
		first := lessons[trainingID][0]
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
				if err := a.markContractRefused(ctx, q, trainingID, err); err != nil {
					return res, err
				}
				for _, r := range lessons[trainingID] {
					if err := a.markError(ctx, q, r.ID, err); err != nil {
						return res, err
					}
					res.Refused++
				}
				continue
			case StopSchool:
				return res, a.stopSchool(ctx, q, in.SchoolID, lessons[trainingID], err)
			case Reconnect:
				return res, a.needsReconnect(ctx, q, *first.LessonFact.AccountID, err)
			}
			return res, failure(err)
		}
		if _, err := q.ContractSave(ctx, dbq.ContractSaveParams{SchoolID: in.SchoolID, StudentID: first.StudentID,
			TrainingID: trainingID, DsrContractID: id}); err != nil {
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

// ensureContract finds the training's contract at the DSR or creates it.
func (a *Activities) ensureContract(ctx context.Context, acct *dsr.Account, r dbq.LessonSendListRow) (id string, found bool, err error) {
	neph, _ := domain.NormalizeNEPH(r.LessonFact.Neph)
	category := domain.Category(r.LessonFact.Category).DSRCode()
	if id, ok, err := a.findContract(ctx, acct, neph, category); err != nil || ok {
		return id, ok, err
	}
	started := a.now()
	c, err := acct.CreateContract(ctx, dsr.ContractRequest{
		NEPH: neph, LastName: r.StudentLastName, FirstName: r.StudentFirstName, Category: category,
	})
	a.Metrics.observe("create_contract", a.now().Sub(started).Seconds(), err)
	if err == nil {
		return c.ID, false, nil
	}
	if HandlingOf(err) == LookupContract {
		// "déjà connu": ours if this school can see it (an earlier answer was lost).
		if id, ok, lookErr := a.findContract(ctx, acct, neph, category); lookErr != nil || ok {
			return id, ok, lookErr
		}
	}
	return "", false, err
}

// findContract looks for the school's contract of this NEPH and category (the DSR lists
// every category's contract of the NEPH).
func (a *Activities) findContract(ctx context.Context, acct *dsr.Account, neph, category string) (string, bool, error) {
	started := a.now()
	contracts, err := acct.FindContracts(ctx, neph)
	a.Metrics.observe("find_contracts", a.now().Sub(started).Seconds(), err)
	if err != nil {
		return "", false, err
	}
	for _, c := range contracts {
		if c.NEPH == neph && c.Category == category {
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

// markContractRefused shows the DSR's refusal of a training's contract on the training.
func (a *Activities) markContractRefused(ctx context.Context, q *dbq.Queries, trainingID int64, err error) error {
	code, message := domain.Code("DSR"), err.Error()
	if e, ok := dsr.AsError(err); ok {
		code, message = e.Code, e.Message
		if message == "" {
			message = code.Message()
		}
	}
	return q.TrainingSetContractRefusal(ctx, dbq.TrainingSetContractRefusalParams{ID: trainingID, Code: string(code), Message: message})
}
