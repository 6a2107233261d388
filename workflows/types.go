// Package workflows holds Livret's Temporal workflows: an office's daily run and the resend of
// one lesson. Workflow code is deterministic: no I/O, no clock but workflow.Now, no map
// ranges; everything that touches Postgres or the DSR is an activity.
//
// Inputs and results are structs that only ever gain fields: renaming or removing one would
// break the decoding of histories already recorded.
package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
)

// TaskQueue is the queue Livret's workers poll.
const TaskQueue = "livret"

// Workflow type names, registered explicitly so a Go rename never changes them.
const (
	OfficeDailyRunName     = "OfficeDailyRun"
	ScheduledOfficeRunName = "ScheduledOfficeRun"
	ResendLessonName       = "ResendLesson"
	AccountKeeperName      = "AccountKeeper"
	DailyDigestName        = "DailyDigest"
	ETPWarningsName        = "ETPWarnings"
)

// Search attributes an operator filters runs by in the Temporal UI.
var (
	SchoolIDKey     = temporal.NewSearchAttributeKeyInt64("LivretSchoolId")
	OfficeIDKey     = temporal.NewSearchAttributeKeyInt64("LivretOfficeId")
	BusinessDateKey = temporal.NewSearchAttributeKeyKeyword("LivretBusinessDate")
)

// ScheduleID is the id of an office's daily Schedule.
func ScheduleID(officeID int64) string { return fmt.Sprintf("livret-daily-%d", officeID) }

// RunID is the workflow id of an office's run for a business date (YYYY-MM-DD, Paris): the
// scheduled and the manual run of one day share it, so they never run side by side.
func RunID(officeID int64, businessDate string) string {
	return fmt.Sprintf("livret-run-%d-%s", officeID, businessDate)
}

// ResendID is the workflow id of the resend of one lesson.
func ResendID(lessonID int64) string { return fmt.Sprintf("livret-resend-%d", lessonID) }

// KeeperID is the workflow id of an account's token keeper.
func KeeperID(accountID int64) string { return fmt.Sprintf("livret-keeper-%d", accountID) }

// DigestScheduleID is the id of the one Schedule of the daily digests (and the workflow id
// its runs start under, with the scheduled time appended by Temporal).
const DigestScheduleID = "livret-digest"

// DigestID is the workflow id of a day's digest run started by hand (YYYY-MM-DD, Paris).
func DigestID(day string) string { return "livret-digest-" + day }

// ETPWarningScheduleID is the id of the one Schedule of the daily ETP warning check (06:30
// Paris, before the digests, so the morning's digest carries the day's warnings).
const ETPWarningScheduleID = "livret-etp-warnings"

// ETPWarningsID is the workflow id of a day's warning check started by hand.
func ETPWarningsID(day string) string { return "livret-etp-warnings-" + day }

// ETPWarningsInput starts the warning check of a day.
type ETPWarningsInput struct {
	// Day is the Paris day (YYYY-MM-DD) the check is made for; empty: the day the Schedule
	// fired for, or else the day the workflow starts.
	Day string
	// Carried across continue-as-new: where the listing stopped and the counts so far.
	AfterSchoolID int64
	Counts        ETPWarningCounts
}

// ETPWarningCounts are what became of the schools looked at.
type ETPWarningCounts struct {
	Warned        int
	NothingAtRisk int
}

// ETPWarningsResult is what a day's check returns.
type ETPWarningsResult struct {
	Day string
	// ComputationDate is the computation the check warned for (YYYY-MM-DD).
	ComputationDate string
	Counts          ETPWarningCounts
}

// OfficeRunInput starts an office's run.
type OfficeRunInput struct {
	SchoolID int64
	OfficeID int64
	// BusinessDate is the Paris day of the run (YYYY-MM-DD): lessons that ended before its
	// 00:00 are sent. Empty means the day the workflow starts.
	BusinessDate string
	// Trigger says who asked: "schedule", "manual".
	Trigger string
	// Carried across continue-as-new: where the load stopped and the counts so far.
	AfterLessonID int64
	Counts        RunCounts
	StartedAt     time.Time
}

// RunCounts are a run's outcomes.
type RunCounts struct {
	Transmitted int
	// Errors: the lessons of the run's batches left in error (the runs table's refused).
	Errors      int
	NotEligible int
	// Deferred lessons stay pending for a later run (account needs a new login, school closed).
	Deferred int
}

// Add sums two counts.
func (c RunCounts) Add(o RunCounts) RunCounts {
	return RunCounts{Transmitted: c.Transmitted + o.Transmitted, Errors: c.Errors + o.Errors,
		NotEligible: c.NotEligible + o.NotEligible, Deferred: c.Deferred + o.Deferred}
}

// OfficeRunResult is what a run returns (and records in the runs table). A run that fails
// returns its error instead, after recording the outcome "failed".
type OfficeRunResult struct {
	BusinessDate string
	Counts       RunCounts
	// Outcome: "completed", "school_closed", "needs_reconnect", "not_linked".
	Outcome string
}

// ScheduledRunInput is what an office's Schedule starts every day.
type ScheduledRunInput struct {
	SchoolID int64
	OfficeID int64
}

// ResendInput resends one lesson in error after its data was fixed.
type ResendInput struct {
	SchoolID int64
	OfficeID int64
	LessonID int64
}

// ResendResult is the lesson's new state.
type ResendResult struct {
	Status  string
	Code    string
	Message string
}

// KeeperInput keeps one RdvPermis account's refresh token alive between daily runs.
type KeeperInput struct {
	AccountID int64
}

// DailyDigestInput starts the digests of a day.
type DailyDigestInput struct {
	// Day is the Paris day (YYYY-MM-DD) of the digests; empty: the day the Schedule fired
	// for (its scheduled time), or else the day the workflow starts.
	Day string
	// Carried across continue-as-new: where the listing stopped and the counts so far.
	AfterSchoolID int64
	Counts        DigestCounts
}

// DigestCounts are what became of a day's digests.
type DigestCounts struct {
	Sent        int
	AlreadySent int
	NothingNew  int
	// Failed: digests the SMTP server still refused when their retries ran out.
	Failed int
}

// DailyDigestResult is what a day's digest run returns.
type DailyDigestResult struct {
	Day    string
	Counts DigestCounts
	// Skipped: the worker has no SMTP server (LIVRET_SMTP_URL): nothing was sent.
	Skipped bool
}

// WebhookTaskQueue is the queue of the webhook dispatchers and their deliveries, served by a
// worker of its own in every worker process: a slow or dead receiver never holds a slot of
// the daily runs' queue.
const WebhookTaskQueue = "livret-webhooks"

// WebhookDispatchName is the webhook dispatcher's workflow type.
const WebhookDispatchName = "WebhookDispatch"

// WakeSignal tells a dispatcher to look at its subscription's deliveries now: a new event, a
// subscription changed or tested. Its payload is empty.
const WakeSignal = "wake"

// WebhookDispatchID is the workflow id of a subscription's dispatcher: one per subscription.
func WebhookDispatchID(webhookID int64) string { return fmt.Sprintf("livret-webhook-%d", webhookID) }

// WebhookDispatchInput names the subscription a dispatcher delivers to.
type WebhookDispatchInput struct {
	WebhookID int64
}

// WebhookDispatchResult counts what one execution of a dispatcher did.
type WebhookDispatchResult struct {
	Delivered, Retried, Failed int
	// Gone: it ended because the subscription was deleted.
	Gone bool
}
