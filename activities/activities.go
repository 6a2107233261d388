// Package activities holds Livret's Temporal activities: everything the daily run does that
// touches PostgreSQL or the DSR. Each activity classifies its failures once, into the typed
// application errors of errors.go, so that the workflow's retry policy sees the right type.
package activities

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"livret/db"
	"livret/dsr"
	"livret/mailer"
)

// Activities is registered on the worker as one struct; its methods are the activities.
type Activities struct {
	Pool    *pgxpool.Pool
	DSR     *dsr.Client
	Metrics *Metrics
	// Limiter is the accounts' rate limiter the DSR client paces calls with: a paced batch
	// reserves its groups' slots through it (DeclareLessons). Nil: no limit.
	Limiter *RateLimiter
	// Mailer sends the daily digests (LIVRET_SMTP_URL); nil: no digest is sent.
	Mailer *mailer.Mailer
	// PublicURL is where the admin pages are served, for the digests' links ("" for none).
	PublicURL string
	// ETPWindowMonths is the deployment's ETP window (LIVRET_ETP_WINDOW_MONTHS); 0 keeps
	// the rules' own (domain.ETPRulesAt).
	ETPWindowMonths int
	// Sealer opens the webhook subscriptions' secrets.
	Sealer *db.Sealer
	// WebhookHTTP POSTs webhook deliveries (default NewWebhookHTTPClient()).
	WebhookHTTP *http.Client
	// WebhookRetryScale multiplies the webhook retry schedule and its 24 hours
	// (domain.WebhookRetry): 1 (or 0) in production; tests and drills shrink it.
	WebhookRetryScale float64
	// Now is the clock for what is not the database's (tests inject one).
	Now func() time.Time
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Activity names, registered explicitly so that a Go rename never changes them.
const (
	LoadDueLessonsName          = "LoadDueLessons"
	EnsureTrainingContractsName = "EnsureTrainingContracts"
	DeclareLessonsName          = "DeclareLessons"
	RecordRunName               = "RecordRun"
	KeepAccountAliveName        = "KeepAccountAlive"
	LessonStateName             = "LessonState"
	ListDigestSchoolsName       = "ListDigestSchools"
	SendDigestName              = "SendDigest"
	WarnETPSchoolsName          = "WarnETPSchools"
)

// LoadInput asks for the next page of an office's due lessons.
type LoadInput struct {
	SchoolID      int64
	OfficeID      int64
	Before        time.Time // the run's day, 00:00 Europe/Paris
	AfterLessonID int64
	Limit         int
}

// Blocked reasons: why a run cannot send anything now.
const (
	BlockedNotLinked      = "not_linked"
	BlockedSchoolClosed   = "school_closed"
	BlockedNeedsReconnect = "needs_reconnect"
)

// LoadResult is one page of due lessons, or why none can be sent.
type LoadResult struct {
	LessonIDs []int64
	AccountID int64
	// Blocked is set when the office cannot send now; Waiting then counts its due lessons.
	Blocked string
	Waiting int
	// NoContract lists the lessons whose student has no training contract yet.
	NoContract []int64
}

// BatchInput names a batch of lessons of one office.
type BatchInput struct {
	SchoolID  int64
	OfficeID  int64
	LessonIDs []int64
	// Before: only lessons that ended before it are declared (rule 8).
	Before time.Time
}

// ContractsResult counts the contracts a batch needed.
type ContractsResult struct {
	Created int
	Found   int
	// Refused counts lessons put in error because their student's contract was refused.
	Refused int
}

// DeclareResult counts a batch's outcomes.
type DeclareResult struct {
	Transmitted int
	Errors      int
	NotEligible int
	// Deferred lessons stay pending (not due yet, or sent meanwhile by another run).
	Deferred int
}

// RecordInput is a run's summary, written to the runs table when the run starts, ends or
// fails (RecordRun).
type RecordInput struct {
	SchoolID   int64
	OfficeID   int64
	WorkflowID string
	// RunID is the run's key with WorkflowID: the run id of its first execution (kept across
	// continue-as-new), or, in runs recorded before that, of its last.
	RunID        string
	BusinessDate string
	StartedAt    time.Time
	Transmitted  int
	// Errors counts the lessons this run's batches left in error, written to the column
	// refused; the name stays so that inputs recorded before still decode. The column errors
	// is the office's lessons in error, which RecordRun counts itself.
	Errors      int
	NotEligible int
	Deferred    int
	// Outcome: "running" (the run starts), "failed", or how it ended ("completed",
	// "school_closed", "needs_reconnect", "not_linked").
	Outcome string
	// Failure is the French sentence the school reads when the run failed, else "".
	Failure string
}

// KeepAliveInput names the account whose refresh token must not lapse.
type KeepAliveInput struct {
	AccountID int64
}

// KeepAliveResult says when the keeper must come back.
type KeepAliveResult struct {
	// Stop: the account needs a new login or no office uses it any more.
	Stop bool
	// Next is when to refresh again.
	Next time.Time
}

// ListDigestSchoolsInput asks for the next page of the schools a day's digest run visits.
type ListDigestSchoolsInput struct {
	// Day is the Paris day of the digests (YYYY-MM-DD).
	Day           string
	AfterSchoolID int64
	Limit         int
}

// ListDigestSchoolsResult is a page of schools, by id.
type ListDigestSchoolsResult struct {
	SchoolIDs []int64
	// Unconfigured: this worker has no SMTP server (LIVRET_SMTP_URL): no digest is sent.
	Unconfigured bool
}

// SendDigestInput names the digest of one school and one Paris day.
type SendDigestInput struct {
	SchoolID int64
	Day      string
}

// SendDigest outcomes.
const (
	DigestSent          = "sent"
	DigestAlreadySent   = "already_sent"
	DigestNothingNew    = "nothing_new"
	DigestNotConfigured = "not_configured"
)

// SendDigestResult says what became of the digest.
type SendDigestResult struct {
	// Outcome: DigestSent, DigestAlreadySent, DigestNothingNew, DigestNotConfigured.
	Outcome    string
	DigestID   int64
	Recipients int
}
