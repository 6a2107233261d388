package dsr_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"livret/domain"
	"livret/dsr"
	"livret/sandbox"
)

// sandboxNow: lessons before it are in the past for the sandbox.
var sandboxNow = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

const (
	clientID     = "livret"
	clientSecret = "s3cret"
	agrementA    = "E0203100010"
	agrementB    = "E0203100020"
	nephDupont   = "123456789012"
	accountA     = int64(1) // a1@ecole-a.fr
	accountB     = int64(2) // b@ecole-b.fr
)

// harness is a sandbox over real HTTP, an OAuth callback server capturing codes, and a dsr
// client with an in-memory token store.
type harness struct {
	t      *testing.T
	sb     *sandbox.Server
	ts     *httptest.Server
	clock  *sandbox.ManualClock
	ctl    *sandbox.Control
	cb     *httptest.Server
	codes  chan url.Values
	cfg    dsr.Config
	store  *dsr.MemoryTokenStore
	client *dsr.Client
}

type options struct {
	// wrap puts a handler in front of the sandbox (fault scenarios the sandbox cannot play).
	wrap    func(http.Handler) http.Handler
	timeout time.Duration
	limiter dsr.Limiter
}

func newHarness(t *testing.T, o options) *harness {
	t.Helper()
	h := &harness{t: t, clock: sandbox.NewManualClock(sandboxNow), codes: make(chan url.Values, 16)}
	h.sb = sandbox.New(sandbox.Options{Now: h.clock.Now, Logger: slog.New(slog.DiscardHandler), RandSeed: 7})
	var handler http.Handler = h.sb.Handler()
	if o.wrap != nil {
		handler = o.wrap(handler)
	}
	h.ts = httptest.NewServer(handler)
	h.cb = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.codes <- r.URL.Query()
		_, _ = io.WriteString(w, "Bureau connecté.")
	}))
	t.Cleanup(func() {
		h.ts.Close()
		h.cb.Close()
	})
	h.ctl = sandbox.NewControl(h.ts.URL, "")
	h.cfg = dsr.Config{
		BaseURL: h.ts.URL, ClientID: clientID, ClientSecret: clientSecret,
		RedirectURL: h.cb.URL + "/oauth/callback", Timeout: o.timeout,
		Logger: slog.New(slog.DiscardHandler), UserAgent: "livret-test/1",
	}
	h.store = dsr.NewMemoryTokenStore()
	h.client = dsr.New(h.cfg, h.store, o.limiter)

	ctx := context.Background()
	must(t, h.ctl.AddClient(ctx, sandbox.Client{ClientID: clientID, ClientSecret: clientSecret, RedirectURIs: []string{h.cfg.RedirectURL}}))
	for _, a := range []sandbox.Account{
		{Email: "a1@ecole-a.fr", Password: "pw-a1", Agrement: agrementA, SchoolName: "Auto-école A"},
		{Email: "a2@ecole-a.fr", Password: "pw-a2", Agrement: agrementA},
		{Email: "b@ecole-b.fr", Password: "pw-b", Agrement: agrementB, SchoolName: "Auto-école B"},
	} {
		_, err := h.ctl.AddAccount(ctx, a)
		must(t, err)
	}
	must(t, h.ctl.AddStudent(ctx, sandbox.Student{Nom: "Dupont", Prenom: "Léa", NEPH: nephDupont, Categories: []string{"B"}}))
	return h
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newBrowser is an HTTP client with a cookie jar that follows redirects, like a browser.
func newBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	must(t, err)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// authorize drives the browser through the authorization: GET the authorization URL, post
// the login form if one is shown (password == "" means the test expects none), and returns
// what the callback received.
func (h *harness) authorize(b *http.Client, email, password, verifier string) (callback url.Values, sawForm bool) {
	h.t.Helper()
	state := oauth2.GenerateVerifier()[:16]
	authURL := h.cfg.OAuth2().AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	resp, err := b.Get(authURL)
	must(h.t, err)
	page := readAll(h.t, resp)
	if resp.Request.URL.Host == mustParse(h.t, h.ts.URL).Host {
		// Still at RdvPermis: the login page.
		m := formAction.FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, "J'ai un compte, je me connecte") {
			h.t.Fatalf("no login form on %s: %s", resp.Request.URL, page)
		}
		if password == "" {
			h.t.Fatal("the login form was shown to a logged-in browser")
		}
		sawForm = true
		action := resp.Request.URL.ResolveReference(mustParse(h.t, html.UnescapeString(m[1])))
		if action.String() != authURL {
			h.t.Fatalf("the form posts to %s, not back to %s", action, authURL)
		}
		resp, err = b.PostForm(action.String(), url.Values{"email": {email}, "password": {password}})
		must(h.t, err)
		readAll(h.t, resp)
	}
	select {
	case callback = <-h.codes:
	default:
		h.t.Fatalf("the callback was not reached (last page %s, status %d)", resp.Request.URL, resp.StatusCode)
	}
	if callback.Get("state") != state {
		h.t.Fatalf("state %q came back as %q", state, callback.Get("state"))
	}
	return callback, sawForm
}

// link logs an account in with a fresh browser and stores its pair under accountID.
func (h *harness) link(accountID int64, email, password string) *oauth2.Token {
	h.t.Helper()
	verifier := oauth2.GenerateVerifier()
	cb, _ := h.authorize(newBrowser(h.t), email, password, verifier)
	tok, err := h.client.Exchange(context.Background(), cb.Get("code"), verifier)
	must(h.t, err)
	h.store.Put(accountID, tok)
	return tok
}

func (h *harness) ledger() sandbox.Ledger {
	h.t.Helper()
	l, err := h.ctl.Ledger(context.Background())
	must(h.t, err)
	return l
}

func (h *harness) setFaults(f sandbox.Faults) {
	h.t.Helper()
	must(h.t, h.ctl.SetFaults(context.Background(), f))
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return string(b)
}

func mustParse(t *testing.T, raw string) *url.URL {
	u, err := url.Parse(raw)
	must(t, err)
	return u
}

// lesson is a valid one-hour lesson on that day of June 2024 at hh:00 Paris.
func lesson(day, hour int) dsr.LessonRequest {
	start := time.Date(2024, 6, day, hour, 0, 0, 0, domain.Paris)
	return dsr.LessonRequest{
		Start: start, End: start.Add(time.Hour), Type: "CONDUITE",
		AuthorizationNumber: "A1234567890", InstructorLastName: "Martin", InstructorFirstName: "Paul",
	}
}

var dupont = dsr.ContractRequest{NEPH: nephDupont, LastName: "DUPONT", FirstName: "Léa", Category: "B"}

// wantKind asserts err is a *dsr.Error of that kind and returns it.
func wantKind(t *testing.T, err error, kind dsr.Kind) *dsr.Error {
	t.Helper()
	e, ok := dsr.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *dsr.Error", err, err)
	}
	if e.Kind != kind {
		t.Fatalf("kind %s, want %s: %v", e.Kind, kind, e)
	}
	return e
}
