package webapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"livret/db"
	"livret/db/dbq"
	"livret/db/dbtest"
	"livret/dsr"
	"livret/sandbox"
	livschool "livret/school"
	"livret/webapi"
	"livret/webui"
	"livret/worker"
	"livret/worker/workertest"
)

const (
	adminToken   = "operator-token-for-the-webapi-tests"
	clientID     = "livret"
	clientSecret = "livret-secret"
	agrementA    = "E0203100010"
	agrementB    = "E0203100020"
)

// syncBuffer is the log sink: the server logs from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is one Livret API over real HTTP, on a fresh database, with the DSR sandbox over real
// HTTP and a real in-process Temporal server.
type env struct {
	t        testing.TB
	pool     *pgxpool.Pool
	srv      *webapi.Server
	api      *httptest.Server
	sandbox  *httptest.Server
	ctl      *sandbox.Control
	temporal client.Client
	logs     *syncBuffer
	answers  *answerLog
	mails    *mailBox
}

// mail is one e-mail the API sent (its SendMail), for the people's tests.
type mail struct{ To, Subject, Text string }

// mailBox keeps every e-mail the API sent.
type mailBox struct {
	mu   sync.Mutex
	sent []mail
}

func (m *mailBox) send(_ context.Context, to, subject, text string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, mail{To: to, Subject: subject, Text: text})
	return nil
}

func (m *mailBox) all() []mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mail(nil), m.sent...)
}

var mailLink = regexp.MustCompile(`/ui/(?:invitation|mot-de-passe)\?token=[A-Za-z0-9_-]+`)

// lastLink is the path of the link of the last e-mail sent to to.
func (e *env) lastLink(to string) string {
	e.t.Helper()
	ms := e.mails.all()
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].To == to {
			if l := mailLink.FindString(ms[i].Text); l != "" {
				return l
			}
		}
	}
	e.t.Fatalf("no e-mail with a link to %s", to)
	return ""
}

// answerLog keeps every answer body of the API, for the secrets test.
type answerLog struct {
	mu     sync.Mutex
	bodies []string
}

func (l *answerLog) add(body string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bodies = append(l.bodies, body)
}

func (l *answerLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.bodies...)
}

// newEnv is an env with a real Temporal server for t.
func newEnv(t *testing.T) *env {
	t.Helper()
	return setupEnv(t, workertest.NewTemporal(t).GetDefaultClient())
}

// newEnvTB is an env for a fuzz target or a benchmark: the same real Temporal server,
// started without a *testing.T (workertest needs one), stopped with tb.
func newEnvTB(tb testing.TB) *env {
	tb.Helper()
	ts := temporaltest.NewServer()
	tb.Cleanup(ts.Stop)
	return setupEnv(tb, ts.GetDefaultClient())
}

// with is the same env reporting to another test (a fuzz target's iteration).
func (e *env) with(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

func setupEnv(t testing.TB, temporal client.Client) *env {
	t.Helper()
	e := &env{t: t, pool: dbtest.New(t), logs: &syncBuffer{}, answers: &answerLog{}, temporal: temporal, mails: &mailBox{}}

	sb := sandbox.New(sandbox.Options{Logger: slog.New(slog.DiscardHandler), RandSeed: 7})
	e.sandbox = httptest.NewServer(sb.Handler())
	t.Cleanup(e.sandbox.Close)
	e.ctl = sandbox.NewControl(e.sandbox.URL, "")

	// The API's URL is the OAuth redirect's, so the server is started before the handler exists.
	var handler http.Handler = http.NotFoundHandler()
	e.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.api.Close)
	must(t, e.ctl.AddClient(context.Background(), sandbox.Client{ClientID: clientID, ClientSecret: clientSecret,
		RedirectURIs: []string{e.api.URL + webapi.CallbackPath}}))

	srv, err := webapi.New(webapi.Config{
		PublicURL:    e.api.URL,
		AdminToken:   adminToken,
		TokenKey:     db.NewKeySpec("k1"),
		DSR:          dsr.Config{BaseURL: e.sandbox.URL, ClientID: clientID, ClientSecret: clientSecret, Timeout: 10 * time.Second},
		Pool:         e.pool,
		Orchestrator: worker.NewOrchestrator(e.temporal),
		SendMail:     e.mails.send,
		Logger:       slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	must(t, err)
	e.srv = srv
	srv.Pages = webui.New(srv.School, srv.Sealer, srv.Logger)
	handler = srv.Handler()
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// answer is one HTTP answer of the API.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", a.status, err, a.body)
	}
}

func (a answer) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	a.json(t, &m)
	return m
}

// problem is the RFC 9457 answer as a client reads it.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	LogoutURL string `json:"logout_url"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// wantProblem checks the status, the media type and the problem's members, and returns it.
func (a answer) wantProblem(t testing.TB, status int) problem {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != webapi.ProblemContentType {
		t.Fatalf("Content-Type %q, want %q", ct, webapi.ProblemContentType)
	}
	var raw map[string]json.RawMessage
	a.json(t, &raw)
	for _, member := range []string{"type", "title", "status", "detail", "errors"} {
		if _, ok := raw[member]; !ok {
			t.Fatalf("problem without %q: %s", member, a.body)
		}
	}
	var p problem
	a.json(t, &p)
	if p.Status != status || p.Type == "" || p.Title == "" || p.Detail == "" {
		t.Fatalf("incomplete problem: %s", a.body)
	}
	return p
}

// fields lists the fields a problem names.
func (p problem) fields() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

func (p problem) message(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

func (a answer) want(t testing.TB, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	return a
}

// noRedirect is an API client: the API's redirects are looked at, not followed.
var noRedirect = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// do calls the API. body is JSON-encoded unless it is a string or []byte (sent as is).
func (e *env) do(method, path, key string, body any) answer {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		must(e.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.api.URL+path, rd)
	must(e.t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := noRedirect.Do(req)
	must(e.t, err)
	return e.read(resp)
}

func (e *env) read(resp *http.Response) answer {
	e.t.Helper()
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	must(e.t, err)
	if resp.Request.URL.Host == mustParse(e.t, e.api.URL).Host { // the API's answers, not RdvPermis's pages
		e.answers.add(string(data))
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

// school is a school created through the operator's route.
type school struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Agrement string `json:"agrement"`
	Key      string `json:"api_key"`
}

func (e *env) createSchool(name, agrement string) school {
	e.t.Helper()
	var s school
	e.do("POST", "/v1/schools", adminToken, map[string]string{"name": name, "agrement": agrement}).want(e.t, http.StatusCreated).json(e.t, &s)
	if !strings.HasPrefix(s.Key, livschool.APIKeyPrefix) || s.ID == 0 {
		e.t.Fatalf("school created as %+v", s)
	}
	return s
}

// put upserts an object and expects 200 or 201.
func (e *env) put(key, path string, body any) answer {
	e.t.Helper()
	a := e.do("PUT", path, key, body)
	if a.status != http.StatusOK && a.status != http.StatusCreated {
		e.t.Fatalf("PUT %s: %d %s", path, a.status, a.body)
	}
	return a
}

func (e *env) addAccount(email, password, agrement string) {
	e.t.Helper()
	_, err := e.ctl.AddAccount(context.Background(), sandbox.Account{Email: email, Password: password, Agrement: agrement, SchoolName: "Auto-école " + agrement})
	must(e.t, err)
}

func (e *env) office(schoolID int64, ref string) dbq.Office {
	e.t.Helper()
	o, err := dbq.New(e.pool).OfficeGetByRef(context.Background(), dbq.OfficeGetByRefParams{SchoolID: schoolID, Ref: ref})
	must(e.t, err)
	return o
}

// browser is an admin's browser: it keeps RdvPermis's session cookie and follows redirects,
// except into Livret's own pages (/ui/…, not part of this package), so the callback's answer
// is what it ends on.
func (e *env) browser() *http.Client {
	e.t.Helper()
	jar, err := cookiejar.New(nil)
	must(e.t, err)
	apiHost := mustParse(e.t, e.api.URL).Host
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if req.URL.Host == apiHost && strings.HasPrefix(req.URL.Path, "/ui/") {
				return http.ErrUseLastResponse
			}
			return nil
		}}
}

func mustParse(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	must(t, err)
	return u
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// login is a RdvPermis account's credentials; nil means the browser is expected to be sent
// back with no form (it is logged in already).
type login struct{ email, password string }

// linkFlow is what linking an office looked like.
type linkFlow struct {
	connect  answer // the API's answer to connect
	sawForm  bool
	callback *url.URL // the callback URL RdvPermis sent the browser to (code and state)
	final    answer   // the API's answer at the callback
}

// link drives one linking: connect (with confirm when asked), RdvPermis's login page in the
// browser when one is shown, and the callback. It stops at the first refusal.
func (e *env) link(key, officeRef string, confirm bool, b *http.Client, who *login) linkFlow {
	e.t.Helper()
	path := "/v1/offices/" + officeRef + "/dsr/connect"
	if confirm {
		path += "?confirm=1"
	}
	var f linkFlow
	f.connect = e.do("GET", path, key, nil)
	if f.connect.status != http.StatusFound {
		return f
	}
	authURL := f.connect.header.Get("Location")
	if !strings.HasPrefix(authURL, e.sandbox.URL+"/realms/formation/protocol/openid-connect/auth?") {
		e.t.Fatalf("connect redirects to %q, not to RdvPermis", authURL)
	}
	resp, err := b.Get(authURL)
	must(e.t, err)
	if resp.Request.URL.Host == mustParse(e.t, e.sandbox.URL).Host {
		if who == nil {
			e.t.Fatal("the login form was shown to a browser already logged in")
		}
		f.sawForm = true
		resp = e.submitLogin(b, resp, *who)
	} else if who != nil {
		e.t.Fatal("RdvPermis sent the browser back without the login form")
	}
	f.callback = resp.Request.URL
	if f.callback.Path != webapi.CallbackPath {
		e.t.Fatalf("the browser ended at %s, not at the callback", f.callback)
	}
	f.final = e.read(resp)
	return f
}

// submitLogin fills in RdvPermis's login form, the page resp shows, and posts it.
func (e *env) submitLogin(b *http.Client, resp *http.Response, who login) *http.Response {
	e.t.Helper()
	page := e.read(resp)
	m := formAction.FindSubmatch(page.body)
	if m == nil || !strings.Contains(string(page.body), "J'ai un compte, je me connecte") {
		e.t.Fatalf("no login form at RdvPermis: %s", page.body)
	}
	action := resp.Request.URL.ResolveReference(mustParse(e.t, html.UnescapeString(string(m[1]))))
	resp, err := b.PostForm(action.String(), url.Values{"email": {who.email}, "password": {who.password}})
	must(e.t, err)
	return resp
}

// linked runs a linking expected to succeed.
func (e *env) linked(key, officeRef string, confirm bool, b *http.Client, who *login) linkFlow {
	e.t.Helper()
	f := e.link(key, officeRef, confirm, b, who)
	f.connect.want(e.t, http.StatusFound)
	f.final.want(e.t, http.StatusFound)
	if loc := f.final.header.Get("Location"); loc != webapi.LinkedPage {
		e.t.Fatalf("after linking the browser goes to %q, want %q", loc, webapi.LinkedPage)
	}
	return f
}

// snapshot is every row of a school, as JSON text, in a stable order: two snapshots are
// equal when nothing of that school changed.
func (e *env) snapshot(schoolID int64) string {
	e.t.Helper()
	return dbtest.Dump(e.t, e.pool, schoolID, "schools", "dsr_accounts", "offices", "oauth_states", "students", "instructors",
		"lessons", "training_contracts", "transmissions", "runs", "webhooks", "outbox_events")
}

// count is the number of rows of a table.
func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	must(e.t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
	return n
}

func ptr[T any](v T) *T { return &v }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// newRecorder serves one request in process.
func newRecorder(h http.Handler, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

// linkWarning is the vendor guide's warning before linking a second office.
var linkWarning = livschool.LinkWarning
