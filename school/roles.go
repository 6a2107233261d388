package school

import (
	"context"

	"livret/db/dbq"
)

// Office scoping (docs/rules.md, "Roles"): a bureau person sees the offices they are given
// and nothing of the others, which answer exactly as an absent object does. Listings are
// narrowed in SQL (the queries' office_ids condition), single objects by seesOffice once read.

// officeScope is the office_ids of the listing queries for the actor of ctx: nil (every office
// of the school) but for an office-scoped role, whose offices it is (never nil then, so a
// bureau person given no office sees nothing, not everything).
func officeScope(ctx context.Context) []int64 {
	a, ok := ActorOf(ctx)
	if !ok || !a.Role.OfficeScoped() {
		return nil
	}
	if a.OfficeIDs == nil {
		return []int64{}
	}
	return a.OfficeIDs
}

// seesOffice reports whether the actor of ctx may see the office (Livret's own work does).
func seesOffice(ctx context.Context, officeID int64) bool {
	a, ok := ActorOf(ctx)
	return !ok || a.SeesOffice(officeID)
}

// seesStudent reports whether the actor of ctx may see the student: an office-scoped role
// sees the students attached to one of its offices or having a lesson in one.
func seesStudent(ctx context.Context, q *dbq.Queries, studentID int64) (bool, error) {
	ids := officeScope(ctx)
	if ids == nil {
		return true, nil
	}
	return q.StudentSeenByOffices(ctx, dbq.StudentSeenByOfficesParams{StudentID: studentID, OfficeIds: ids})
}
