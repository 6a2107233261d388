package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"livret/domain"
	"livret/dsr"
)

// Handling is what Livret does with one kind of DSR answer: the retry table of
// docs/architecture.md ("Retry table"), kept here as one table (retryTable) with one test per row.
type Handling int

const (
	// Retry: a transient fault (network, timeout, 5xx). The activity fails with a retryable
	// error and Temporal retries it with exponential back-off (1 s → 5 min, for 24 h).
	Retry Handling = iota + 1
	// RetryAfter: 429. Retried after the DSR's Retry-After, through NextRetryDelay.
	RetryAfter
	// Reconnect: the refresh token was refused (the DSR client already refreshed once and
	// retried once on a 401). The account is marked "reconnexion nécessaire"; no retry.
	Reconnect
	// StopSchool: AUTO_ECOLE_FERMEE. The school is flagged closed and its runs stop.
	StopSchool
	// RecordStudent: the student cannot get a contract; their lessons are in error.
	RecordStudent
	// LookupContract: CONTRAT_DEJA_CONNU. Look the contract up and use it.
	LookupContract
	// RecordLesson: a refusal of this lesson, recorded in the DSR's words, never retried.
	RecordLesson
	// Reconcile: LECON_EN_DOUBLON. Look the lesson up at the DSR: ours means transmitted.
	Reconcile
	// Invalid: the DSR refused our request as malformed. A bug of ours: fail, no retry.
	Invalid
	// AccessRefused: the DSR refused Livret's own OAuth client (invalid_client): a
	// configuration error of ours that an operator must fix. Fail, no retry.
	AccessRefused
)

// Error types of the activities' ApplicationErrors. The workflows' retry policies name the
// non-retryable ones; keep the strings stable (recorded histories carry them).
const (
	ErrTypeTransient      = "DSRTransient"
	ErrTypeRateLimited    = "DSRRateLimited"
	ErrTypeNeedsReconnect = "DSRNeedsReconnect"
	ErrTypeSchoolClosed   = "DSRSchoolClosed"
	ErrTypeInvalidRequest = "DSRInvalidRequest"
	ErrTypeAccessRefused  = "DSRAccessRefused"
	// ErrTypeSMTP: the SMTP server did not take a digest (refused, unreachable, timed out).
	// Retryable: the digest is stored, and sending it again is safe for its receivers, who
	// see the same Message-ID.
	ErrTypeSMTP = "SMTPFailed"
	// ErrTypeWorkerStopping: the worker is stopping (SIGTERM, a rolling restart) and hands
	// the rest of its batch back to Temporal, which gives it to another worker at once.
	// Retryable, and benign: the SDK logs it at debug level, not as an activity error.
	ErrTypeWorkerStopping = "WorkerStopping"
)

// handBackDelay is how soon Temporal retries a handed-back activity, whatever its attempt
// count (NextRetryDelay overrides the policy's back-off): another worker is waiting.
const handBackDelay = 200 * time.Millisecond

// handBack is the error a stopping worker's activity ends with, having recorded what it did.
func handBack() error {
	return temporal.NewApplicationErrorWithOptions("the worker is stopping: the rest of the activity's work is handed back",
		ErrTypeWorkerStopping, temporal.ApplicationErrorOptions{NextRetryDelay: handBackDelay, Category: temporal.ApplicationErrorCategoryBenign})
}

// workerStopping says whether the worker running this activity has begun to stop. Its
// activities then finish the call in hand, record it and hand the rest back, instead of
// running on until the worker's stop timeout cancels them mid-call (docs/runbook.md,
// "Rolling restart").
func workerStopping(ctx context.Context) bool {
	if !activity.IsActivity(ctx) {
		return false
	}
	select {
	case <-activity.GetWorkerStopChannel(ctx):
		return true
	default:
		return false
	}
}

// NonRetryableErrorTypes are the error types no retry can cure.
var NonRetryableErrorTypes = []string{ErrTypeNeedsReconnect, ErrTypeSchoolClosed, ErrTypeInvalidRequest, ErrTypeAccessRefused}

type retryRow struct {
	name     string
	match    func(e *dsr.Error) bool
	handling Handling
}

func kindIs(k dsr.Kind) func(*dsr.Error) bool {
	return func(e *dsr.Error) bool { return e.Kind == k }
}

func codeIn(codes ...domain.Code) func(*dsr.Error) bool {
	return func(e *dsr.Error) bool {
		for _, c := range codes {
			if e.Code == c {
				return true
			}
		}
		return false
	}
}

// retryTable is the table of docs/architecture.md ("Retry table"), first match wins.
var retryTable = []retryRow{
	{"network error, timeout, 5xx", kindIs(dsr.KindTransient), Retry},
	{"429", kindIs(dsr.KindRateLimited), RetryAfter},
	{"401 then refresh refused", kindIs(dsr.KindReconnect), Reconnect},
	{"AUTO_ECOLE_FERMEE", codeIn(domain.CodeAutoEcoleFermee), StopSchool},
	{"ELEVE_INTROUVABLE, CATEGORIE_SANS_DEMANDE", codeIn(domain.CodeEleveIntrouvable, domain.CodeCategorieSansDemande), RecordStudent},
	{"CONTRAT_DEJA_CONNU", codeIn(domain.CodeContratDejaConnu), LookupContract},
	{"LECON_EN_DOUBLON", codeIn(domain.CodeLeconEnDoublon), Reconcile},
	{"LECON_FUTURE, DUREE_INVALIDE, FORMAT_AUTORISATION_INVALIDE, CONTRAT_NON_AUTORISE, CONTRAT_INTROUVABLE",
		codeIn(domain.CodeLeconFuture, domain.CodeDureeInvalide, domain.CodeFormatAutorisationInvalide,
			domain.CodeContratNonAutorise, domain.CodeContratIntrouvable), RecordLesson},
	{"other business refusal", kindIs(dsr.KindBusiness), RecordLesson},
	{"Livret's OAuth client refused (invalid_client)", func(e *dsr.Error) bool { return e.ClientRefused }, AccessRefused},
	{"malformed request", kindIs(dsr.KindInvalidRequest), Invalid},
}

// HandlingOf returns how an error from the DSR client is handled. An error that is not the
// DSR's (the database, a cancelled context) is transient.
func HandlingOf(err error) Handling {
	e, ok := dsr.AsError(err)
	if !ok {
		return Retry
	}
	for _, row := range retryTable {
		if row.match(e) {
			return row.handling
		}
	}
	return Retry
}

// failure turns an error that ends an activity into the typed ApplicationError its handling
// calls for. The DSR's error is never wrapped with %w into another error: the type would be
// lost to the retry policy. Its text carries no token (the DSR client guarantees it).
func failure(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return err
	}
	e, isDSR := dsr.AsError(err)
	msg := err.Error()
	switch HandlingOf(err) {
	case RetryAfter:
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeRateLimited, temporal.ApplicationErrorOptions{
			NextRetryDelay: e.RetryAfter,
		})
	case Reconnect:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeNeedsReconnect, nil)
	case StopSchool:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeSchoolClosed, nil)
	case Invalid:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeInvalidRequest, nil)
	case AccessRefused:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeAccessRefused, nil)
	}
	if isDSR {
		return temporal.NewApplicationError(msg, ErrTypeTransient)
	}
	// The database or the context: a plain error, retried by the default policy.
	return err
}

func asDSR(err error) (*dsr.Error, bool) { return dsr.AsError(err) }

// smtpFailure is the error of a digest the SMTP server did not take: retryable, typed. Its
// text is the mailer's, which never carries the password.
func smtpFailure(err error) error {
	return temporal.NewApplicationError(err.Error(), ErrTypeSMTP)
}
