package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"livret/activities"
	"livret/domain"
)

// failureOf says, for the school, why a run stopped on err: the error types the activities
// classify into (activities/errors.go), a cancellation, or an activity that outlasted its
// retries. Anything else is Livret's own fault. Deterministic: it reads only err.
func failureOf(err error) domain.RunFailure {
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		return domain.RunFailureInterrupted
	}
	// A timeout after 24 h of retries carries the last attempt's error: this finds it too.
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case activities.ErrTypeAccessRefused:
			return domain.RunFailureAccessRefused
		case activities.ErrTypeTransient, activities.ErrTypeRateLimited:
			return domain.RunFailureDSRUnavailable
		}
		return domain.RunFailureInternal
	}
	var timeout *temporal.TimeoutError
	var actErr *temporal.ActivityError
	if errors.As(err, &timeout) && errors.As(err, &actErr) {
		switch actErr.ActivityType().GetName() {
		case activities.EnsureTrainingContractsName, activities.DeclareLessonsName:
			return domain.RunFailureDSRUnavailable
		}
	}
	return domain.RunFailureInternal
}
