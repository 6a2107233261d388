package dsr

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"livret/domain"
)

// Kind says what a failure calls for; the retry policy keys on it.
type Kind int

const (
	// KindTransient: network error, timeout, 5xx, unreadable answer. Retry with back-off.
	KindTransient Kind = iota + 1
	// KindRateLimited: 429. Retry after RetryAfter.
	KindRateLimited
	// KindReconnect: the refresh was refused (invalid_grant) or the DSR kept refusing the
	// token. The office needs a new login; never retried.
	KindReconnect
	// KindBusiness: one of the DSR's refusals (domain.DSRCodes) or CONTRAT_INTROUVABLE.
	// Recorded, never retried.
	KindBusiness
	// KindInvalidRequest: the DSR refused the request itself (400 and other 4xx): a Livret bug
	// or misconfiguration. Never retried.
	KindInvalidRequest
)

func (k Kind) String() string {
	switch k {
	case KindTransient:
		return "transient"
	case KindRateLimited:
		return "rate_limited"
	case KindReconnect:
		return "reconnect"
	case KindBusiness:
		return "business"
	case KindInvalidRequest:
		return "invalid_request"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is every failure of this package.
type Error struct {
	Kind Kind
	// Code is the DSR's code when it sent one (LECON_EN_DOUBLON, TOKEN_INVALIDE…).
	Code domain.Code
	// Message is French: the DSR's exact wording for a business refusal, else a description.
	// It never holds a token.
	Message    string
	HTTPStatus int // 0 when no answer came
	// RetryAfter is the DSR's Retry-After (429, 503), zero when absent.
	RetryAfter time.Duration
	// Op names the call: "declare lesson", "refresh token"…
	Op string
	// ClientRefused: the token endpoint refused Livret's own OAuth client (invalid_client),
	// its credentials at the DSR, not the account's login. Kind is KindInvalidRequest: an
	// operator must fix the configuration.
	ClientRefused bool

	cause error // for errors.Is(err, context.DeadlineExceeded); never a token-bearing error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("dsr ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(e.Kind.String())
	if e.HTTPStatus != 0 || e.Code != "" {
		b.WriteString(" (")
		if e.HTTPStatus != 0 {
			b.WriteString("HTTP " + strconv.Itoa(e.HTTPStatus))
			if e.Code != "" {
				b.WriteString(" ")
			}
		}
		b.WriteString(string(e.Code))
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.cause }

// Retryable reports whether the same call may succeed later without anyone fixing anything.
func (e *Error) Retryable() bool { return e.Kind == KindTransient || e.Kind == KindRateLimited }

// AsError finds the *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsKind reports whether err is an *Error of that kind.
func IsKind(err error, k Kind) bool {
	e, ok := AsError(err)
	return ok && e.Kind == k
}

// classify is the one place an answer becomes a Kind. code is the DSR's error code or, for the
// token endpoint, the RFC 6749 error; status is the HTTP status. The order of the cases is the
// policy: a 5xx is transient whatever its body says, invalid_grant means a new login.
func classify(status int, code string) Kind {
	switch {
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status >= 500, status == http.StatusRequestTimeout:
		return KindTransient
	case code == oauthInvalidGrant:
		return KindReconnect
	case code == oauthInvalidClient:
		return KindInvalidRequest // our client credentials: an operator must fix the config
	case status == http.StatusUnauthorized:
		return KindReconnect
	case status >= 400 && isBusinessCode(code):
		return KindBusiness
	case status >= 400:
		return KindInvalidRequest
	default:
		// A 1xx or 3xx where an answer or an error was due: treat as a fault on the way.
		return KindTransient
	}
}

// describe is the French Message of a failure that carries no DSR wording.
func describe(kind Kind, status int) string {
	switch kind {
	case KindRateLimited:
		return domain.CodeTropDeRequetes.Message()
	case KindReconnect:
		return "La connexion au compte RdvPermis doit être renouvelée : reconnectez le bureau."
	case KindInvalidRequest:
		return fmt.Sprintf("La DSR a refusé la requête (HTTP %d).", status)
	}
	if status != 0 {
		return fmt.Sprintf("La DSR est indisponible (HTTP %d).", status)
	}
	return "La DSR est injoignable."
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// redact removes secrets from text that came from the network or from another library, and
// bounds its length: an echoing proxy or a chatty server must not put a token in an error.
func redact(text string, secrets ...string) string {
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "[masqué]")
		}
	}
	const maxLen = 300
	if len(text) > maxLen {
		text = strings.ToValidUTF8(text[:maxLen], "") + "…"
	}
	return text
}
