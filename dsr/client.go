package dsr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"golang.org/x/oauth2"

	"livret/domain"
)

// Limiter paces an account's API calls; Wait blocks until one more call may go. The
// cross-process limiter lives elsewhere (worker); nil means no pacing.
type Limiter interface {
	Wait(ctx context.Context, accountID int64) error
}

// Client talks to the DSR for any number of accounts. It is safe for concurrent use.
type Client struct {
	cfg     Config
	oauth   *oauth2.Config
	http    *http.Client
	store   TokenStore
	limiter Limiter
	log     *slog.Logger
	locks   accountLocks
	now     func() time.Time
}

// New returns a client. limiter may be nil.
func New(cfg Config, store TokenStore, limiter Limiter) *Client {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Client{
		cfg: cfg, oauth: cfg.OAuth2(), http: cfg.httpClient(),
		store: store, limiter: limiter, log: log, now: time.Now,
	}
}

// Account is the DSR seen through one RdvPermis account's tokens.
type Account struct {
	c  *Client
	id int64
}

// Account returns the calls made with that account's tokens.
func (c *Client) Account(accountID int64) *Account { return &Account{c: c, id: accountID} }

// Exchange trades an authorization code and its PKCE verifier for the account's first pair
// (the OAuth callback). A refused code is KindReconnect: the admin logs in again.
func (c *Client) Exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.timeout())
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.http)
	tok, err := c.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, tokenEndpointError("exchange code", err, code, verifier)
	}
	return tok, nil
}

// MeWithToken asks who a fresh token belongs to, before the account row exists (the OAuth
// callback). No refresh, no pacing: a 401 is KindReconnect.
func (c *Client) MeWithToken(ctx context.Context, tok *oauth2.Token) (Me, error) {
	var w wireMe
	ans, err := c.roundTrip(ctx, http.MethodGet, mePath, nil, nil, tok.AccessToken)
	if err != nil {
		return Me{}, transportError("me", err, tok.AccessToken, tok.RefreshToken)
	}
	if err := c.interpret("me", ans, &w, tok.AccessToken, tok.RefreshToken); err != nil {
		return Me{}, err
	}
	return w.toMe(), nil
}

// Me returns the account and its school.
func (a *Account) Me(ctx context.Context) (Me, error) {
	var w wireMe
	if err := a.call(ctx, "me", http.MethodGet, mePath, nil, nil, &w); err != nil {
		return Me{}, err
	}
	return w.toMe(), nil
}

// CreateContract creates a student's training contract. CONTRAT_DEJA_CONNU is a KindBusiness
// error: the caller looks the contract up with FindContracts.
func (a *Account) CreateContract(ctx context.Context, req ContractRequest) (Contract, error) {
	var w wireContractCreated
	if err := a.call(ctx, "create contract", http.MethodPost, contractsPath, nil, contractToWire(req), &w); err != nil {
		return Contract{}, err
	}
	if w.IDContrat == "" {
		return Contract{}, unreadable("create contract", http.StatusCreated)
	}
	return Contract{ID: w.IDContrat, NEPH: req.NEPH, LastName: req.LastName, FirstName: req.FirstName, Category: req.Category}, nil
}

// FindContracts lists a student's contracts visible to this account's school.
func (a *Account) FindContracts(ctx context.Context, neph string) ([]Contract, error) {
	var ws []wireContract
	if err := a.call(ctx, "find contracts", http.MethodGet, contractsPath, findContractsQuery(neph), nil, &ws); err != nil {
		return nil, err
	}
	out := make([]Contract, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.toContract())
	}
	return out, nil
}

// DeclareLesson declares a lesson on a contract and returns the DSR's lesson id. The DSR has
// no idempotency key: after a KindTransient failure the lesson may or may not be stored, and
// the caller must look it up (ListLessons) before posting again.
func (a *Account) DeclareLesson(ctx context.Context, contractID string, req LessonRequest) (string, error) {
	var w wireLessonCreated
	if err := a.call(ctx, "declare lesson", http.MethodPost, lessonsPath(contractID), nil, lessonToWire(req), &w); err != nil {
		return "", err
	}
	if w.IDLecon == "" {
		return "", unreadable("declare lesson", http.StatusCreated)
	}
	return w.IDLecon, nil
}

// ListLessons lists a contract's lessons starting on the Paris calendar days from..to, inclusive.
func (a *Account) ListLessons(ctx context.Context, contractID string, from, to time.Time) ([]Lesson, error) {
	var ws []wireLesson
	if err := a.call(ctx, "list lessons", http.MethodGet, lessonsPath(contractID), listLessonsQuery(from, to), nil, &ws); err != nil {
		return nil, err
	}
	out := make([]Lesson, 0, len(ws))
	for _, w := range ws {
		l, err := w.toLesson()
		if err != nil {
			return nil, unreadable("list lessons", http.StatusOK)
		}
		out = append(out, l)
	}
	return out, nil
}

// call makes one API call with the account's token: paced by the limiter, and on a 401
// refreshed once and retried at once; a second 401 means the account must reconnect.
func (a *Account) call(ctx context.Context, op, method, path string, query url.Values, in, out any) error {
	tok, err := a.c.Token(ctx, a.id)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		if a.c.limiter != nil {
			if err := a.c.limiter.Wait(ctx, a.id); err != nil {
				return &Error{Kind: KindTransient, Op: op, Message: "Attente du limiteur de débit interrompue.", cause: err}
			}
		}
		ans, err := a.c.roundTrip(ctx, method, path, query, in, tok.AccessToken)
		if err != nil {
			return transportError(op, err, tok.AccessToken, tok.RefreshToken)
		}
		if ans.status != http.StatusUnauthorized {
			return a.c.interpret(op, ans, out, tok.AccessToken, tok.RefreshToken)
		}
		if attempt == 2 {
			return &Error{Kind: KindReconnect, Code: domain.CodeTokenInvalide, HTTPStatus: ans.status, Op: op,
				Message: describe(KindReconnect, ans.status)}
		}
		if tok, err = a.c.ForceRefresh(ctx, a.id, tok.AccessToken); err != nil {
			return err
		}
	}
}

// maxAnswerBytes bounds what is read of an answer: a lesson list of a busy contract is a few
// hundred kilobytes at most.
const maxAnswerBytes = 8 << 20

type answer struct {
	status int
	header http.Header
	body   []byte
}

// roundTrip sends one request under the per-call timeout and reads the whole answer.
func (c *Client) roundTrip(ctx context.Context, method, path string, query url.Values, in any, accessToken string) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.timeout())
	defer cancel()
	target := c.cfg.baseURL() + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return answer{}, err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// codePattern is what a DSR error code looks like; anything else in the field is ignored.
var codePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// interpret turns an answer into out or into an *Error. secrets are redacted from any text
// taken from the answer.
func (c *Client) interpret(op string, ans answer, out any, secrets ...string) error {
	if ans.status >= 200 && ans.status < 300 {
		if out != nil && json.Unmarshal(ans.body, out) != nil {
			return unreadable(op, ans.status)
		}
		return nil
	}
	var w wireError
	_ = json.Unmarshal(ans.body, &w) // a 5xx from a gateway has no JSON: the code stays empty
	if !codePattern.MatchString(w.Code) || redact(w.Code, secrets...) != w.Code {
		w.Code = ""
	}
	kind := classify(ans.status, w.Code)
	e := &Error{Kind: kind, Code: domain.Code(w.Code), HTTPStatus: ans.status, Op: op,
		Message: describe(kind, ans.status), RetryAfter: retryAfter(ans.header, c.now())}
	switch kind {
	case KindBusiness:
		// The DSR's own words reach the admin; the catalogue's stand in if it sent none.
		e.Message = e.Code.Message()
		if w.Message != "" {
			e.Message = redact(w.Message, secrets...)
		}
	case KindInvalidRequest:
		if w.Message != "" {
			e.Message += " " + redact(w.Message, secrets...)
		}
	}
	return e
}

func unreadable(op string, status int) *Error {
	return &Error{Kind: KindTransient, Op: op, HTTPStatus: status, Message: "Réponse illisible de la DSR."}
}

// transportError is a call that got no answer: network, timeout, cancelled context. The kept
// cause is the inner error of the *url.Error, so errors.Is(err, context.DeadlineExceeded)
// works; the message names the URL, which never carries a token (tokens travel in headers
// and form bodies), and is redacted all the same.
func transportError(op string, err error, secrets ...string) *Error {
	msg := "La DSR est injoignable : " + redact(err.Error(), secrets...)
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "La DSR n'a pas répondu à temps."
	}
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	return &Error{Kind: KindTransient, Op: op, Message: msg, cause: cause}
}

// tokenEndpointError classifies a failure of the token endpoint. The oauth2 library's error
// is not kept: its text may quote the endpoint's body.
func tokenEndpointError(op string, err error, secrets ...string) *Error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return transportError(op, err, secrets...)
	}
	status := 0
	var header http.Header
	if re.Response != nil {
		status, header = re.Response.StatusCode, re.Response.Header
	}
	code := re.ErrorCode
	kind := classify(status, code)
	msg := describe(kind, status)
	if code != "" && redact(code, secrets...) == code && len(code) < 64 {
		msg += " (" + code + ")"
	}
	return &Error{Kind: kind, HTTPStatus: status, Op: op, Message: msg, RetryAfter: retryAfter(header, time.Now()),
		ClientRefused: code == oauthInvalidClient}
}
