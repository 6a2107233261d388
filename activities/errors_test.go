package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"livret/domain"
	"livret/dsr"
)

// One row per line of the retry table of docs/architecture.md: the handling, and the error the
// activity fails with when the handling ends it.
func TestRetryTable(t *testing.T) {
	cases := []struct {
		row       string
		err       error
		handling  Handling
		errType   string // "" when the handling records instead of failing
		retryable bool
		delay     time.Duration
	}{
		{"network error", &dsr.Error{Kind: dsr.KindTransient, Op: "declare lesson"}, Retry, ErrTypeTransient, true, 0},
		{"timeout", &dsr.Error{Kind: dsr.KindTransient, Op: "declare lesson"}, Retry, ErrTypeTransient, true, 0},
		{"5xx", &dsr.Error{Kind: dsr.KindTransient, HTTPStatus: 503}, Retry, ErrTypeTransient, true, 0},
		{"429 with Retry-After", &dsr.Error{Kind: dsr.KindRateLimited, HTTPStatus: 429, RetryAfter: 42 * time.Second}, RetryAfter, ErrTypeRateLimited, true, 42 * time.Second},
		{"401 then refresh refused", &dsr.Error{Kind: dsr.KindReconnect, HTTPStatus: 401, Code: domain.CodeTokenInvalide}, Reconnect, ErrTypeNeedsReconnect, false, 0},
		{"AUTO_ECOLE_FERMEE", business(domain.CodeAutoEcoleFermee), StopSchool, ErrTypeSchoolClosed, false, 0},
		{"ELEVE_INTROUVABLE", business(domain.CodeEleveIntrouvable), RecordStudent, "", false, 0},
		{"CATEGORIE_SANS_DEMANDE", business(domain.CodeCategorieSansDemande), RecordStudent, "", false, 0},
		{"CONTRAT_DEJA_CONNU", business(domain.CodeContratDejaConnu), LookupContract, "", false, 0},
		{"LECON_FUTURE", business(domain.CodeLeconFuture), RecordLesson, "", false, 0},
		{"DUREE_INVALIDE", business(domain.CodeDureeInvalide), RecordLesson, "", false, 0},
		{"FORMAT_AUTORISATION_INVALIDE", business(domain.CodeFormatAutorisationInvalide), RecordLesson, "", false, 0},
		{"CONTRAT_NON_AUTORISE", business(domain.CodeContratNonAutorise), RecordLesson, "", false, 0},
		{"LECON_EN_DOUBLON", business(domain.CodeLeconEnDoublon), Reconcile, "", false, 0},
		{"Livret's OAuth client refused (invalid_client)", &dsr.Error{Kind: dsr.KindInvalidRequest, HTTPStatus: 401, Op: "refresh token", ClientRefused: true}, AccessRefused, ErrTypeAccessRefused, false, 0},
		{"malformed request", &dsr.Error{Kind: dsr.KindInvalidRequest, HTTPStatus: 400}, Invalid, ErrTypeInvalidRequest, false, 0},
		{"database error", errors.New("connection reset"), Retry, "", true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.row, func(t *testing.T) {
			if got := HandlingOf(tc.err); got != tc.handling {
				t.Fatalf("HandlingOf = %d, want %d", got, tc.handling)
			}
			if tc.errType == "" && tc.handling != Retry {
				return // recorded on the lesson, never an activity failure
			}
			f := failure(tc.err)
			var appErr *temporal.ApplicationError
			if !errors.As(f, &appErr) {
				if tc.errType != "" {
					t.Fatalf("failure() = %T, want an ApplicationError", f)
				}
				return // a plain error: retried by the default policy
			}
			if appErr.Type() != tc.errType || appErr.NonRetryable() == tc.retryable {
				t.Fatalf("failure() = %s retryable=%v, want %s retryable=%v", appErr.Type(), !appErr.NonRetryable(), tc.errType, tc.retryable)
			}
			if appErr.NextRetryDelay() != tc.delay {
				t.Fatalf("NextRetryDelay = %s, want %s", appErr.NextRetryDelay(), tc.delay)
			}
			isNonRetryableType := false
			for _, typ := range NonRetryableErrorTypes {
				isNonRetryableType = isNonRetryableType || typ == tc.errType
			}
			if isNonRetryableType == tc.retryable {
				t.Fatalf("%s: the workflows' NonRetryableErrorTypes disagree with the table", tc.errType)
			}
		})
	}
}

func business(c domain.Code) error {
	return &dsr.Error{Kind: dsr.KindBusiness, Code: c, Message: c.Message(), HTTPStatus: 422}
}

func TestFailureKeepsTheTypeThroughWrapping(t *testing.T) {
	// An ApplicationError already typed passes through unchanged.
	typed := temporal.NewNonRetryableApplicationError("closed", ErrTypeSchoolClosed, nil)
	if failure(typed) != typed {
		t.Fatal("a typed error must not be re-wrapped")
	}
}

func TestRetryBriefly(t *testing.T) {
	ctx := context.Background()
	calls := 0
	err := retryBriefly(ctx, func() error {
		calls++
		if calls < 3 {
			return &dsr.Error{Kind: dsr.KindTransient}
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("transient faults are retried: %v after %d calls", err, calls)
	}
	calls = 0
	err = retryBriefly(ctx, func() error { calls++; return business(domain.CodeDureeInvalide) })
	if err == nil || calls != 1 {
		t.Fatalf("a refusal is never retried: %d calls", calls)
	}
	calls = 0
	err = retryBriefly(ctx, func() error {
		calls++
		return &dsr.Error{Kind: dsr.KindRateLimited, RetryAfter: time.Minute}
	})
	if err == nil || calls != 1 {
		t.Fatalf("a long Retry-After is left to Temporal: %d calls", calls)
	}
	calls = 0
	err = retryBriefly(ctx, func() error { calls++; return &dsr.Error{Kind: dsr.KindTransient} })
	if err == nil || calls != briefTries {
		t.Fatalf("brief retries are bounded: %d calls", calls)
	}
}

// A digest the SMTP server did not take is retried: a typed, retryable error the workflows'
// retry policy does not stop.
func TestSMTPFailureIsRetryable(t *testing.T) {
	f := smtpFailure(errors.New("mailer: send to 127.0.0.1:25: dial tcp: connection refused"))
	var appErr *temporal.ApplicationError
	if !errors.As(f, &appErr) || appErr.Type() != ErrTypeSMTP || appErr.NonRetryable() {
		t.Fatalf("smtpFailure = %v", f)
	}
	for _, typ := range NonRetryableErrorTypes {
		if typ == ErrTypeSMTP {
			t.Fatal("SMTPFailed is listed non-retryable")
		}
	}
}
