package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"livret/sandbox"
)

// clock is an injectable sandbox clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// errorTable is the DSR's error table (docs/dsr.md, "Errors"), typed again from the document
// rather than read from the sandbox's catalogue, so that a slip in the catalogue fails a test.
var errorTable = map[string]struct {
	status  int
	message string
}{
	"CONTRAT_DEJA_CONNU":           {409, "Ce contrat de formation est déjà connu en base de données"},
	"AUTO_ECOLE_FERMEE":            {403, "L'auto-école est fermée"},
	"ELEVE_INTROUVABLE":            {404, "Le duo NOM NEPH de l'élève ne permet pas de le retrouver en base"},
	"CATEGORIE_SANS_DEMANDE":       {422, "L'élève que vous recherchez n'a pas de demande pour cette catégorie de permis"},
	"LECON_FUTURE":                 {422, "Il n'est pas possible de déclarer une leçon dans le futur"},
	"DUREE_INVALIDE":               {422, "La durée renseignée n'est pas valide. Elle doit être comprise entre 30 et 240 min."},
	"CONTRAT_NON_AUTORISE":         {403, "Cette auto-école n'est pas autorisée à ajouter une leçon sur ce contrat"},
	"LECON_EN_DOUBLON":             {409, "Cet élève a déjà une leçon renseignée à cette date et à cette heure"},
	"FORMAT_AUTORISATION_INVALIDE": {422, "Le format du numéro d'autorisation du formateur n'est pas valide."},
	"TOKEN_INVALIDE":               {401, "Jeton d'accès invalide ou expiré"},
	// The document gives no wording for these two; they are the sandbox's own.
	"TROP_DE_REQUETES":    {429, "Trop de requêtes"},
	"CONTRAT_INTROUVABLE": {404, "Contrat de formation introuvable"},
	// Modelled, not published (docs/dsr.md, "Categories and lesson types").
	"TYPE_NON_AUTORISE": {422, "Ce type de leçon n'est pas autorisé pour la catégorie de ce contrat de formation."},
}

// sandboxNow is the sandbox's "now" in most tests: lessons before it are in the past.
var sandboxNow = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

const (
	clientID     = "livret"
	clientSecret = "s3cret"
	agrementA    = "E0203100010"
	agrementB    = "E0203100020"
	nephDupont   = "123456789012"
)

// env is one sandbox served over real HTTP, with a registered client, one school with an
// account and a student.
type env struct {
	t        *testing.T
	srv      *sandbox.Server
	ts       *httptest.Server
	clock    *clock
	ctl      *sandbox.Control
	redirect string
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newEnv(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	e := &env{t: t, clock: newClock(sandboxNow), redirect: "http://127.0.0.1:9/callback"}
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	if opts.RandSeed == 0 {
		opts.RandSeed = 42
	}
	e.srv = sandbox.New(opts)
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(func() {
		e.ts.Close()
		_ = e.srv.Close()
	})
	e.ctl = sandbox.NewControl(e.ts.URL, opts.ControlToken)
	ctx := context.Background()
	must(t, e.ctl.AddClient(ctx, sandbox.Client{ClientID: clientID, ClientSecret: clientSecret, RedirectURIs: []string{e.redirect}}))
	return e
}

// populate adds the usual reference data: school A with two accounts, school B with one, and
// student DUPONT.
func (e *env) populate() {
	ctx := context.Background()
	for _, a := range []sandbox.Account{
		{Email: "a1@ecole-a.fr", Password: "pw-a1", Agrement: agrementA, SchoolName: "Auto-école A"},
		{Email: "a2@ecole-a.fr", Password: "pw-a2", Agrement: agrementA},
		{Email: "b@ecole-b.fr", Password: "pw-b", Agrement: agrementB, SchoolName: "Auto-école B"},
	} {
		_, err := e.ctl.AddAccount(ctx, a)
		must(e.t, err)
	}
	must(e.t, e.ctl.AddStudent(ctx, sandbox.Student{Nom: "Dupont-Lefèvre", Prenom: "Léa", NEPH: nephDupont, Categories: []string{"B"}}))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) oauth() *oauth2.Config {
	return &oauth2.Config{
		ClientID: clientID, ClientSecret: clientSecret, RedirectURL: e.redirect,
		Scopes: []string{"rdvpermis", "livret_numerique:read", "livret_numerique:write", "offline_access"},
		Endpoint: oauth2.Endpoint{
			AuthURL:   e.ts.URL + "/realms/formation/protocol/openid-connect/auth",
			TokenURL:  e.ts.URL + "/realms/formation/protocol/openid-connect/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// browser is an HTTP client with a cookie jar that does not follow redirects, so tests see
// each hop.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	must(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// authorize runs GET auth (and the login form when shown) and returns the code from the
// redirect. The form is only posted when password != "".
func (e *env) authorize(b *http.Client, email, password, verifier string) (code string, sawForm bool) {
	e.t.Helper()
	authURL := e.oauth().AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier))
	resp, err := b.Get(authURL)
	must(e.t, err)
	body := readAll(e.t, resp)
	if resp.StatusCode == http.StatusOK {
		sawForm = true
		if !strings.Contains(body, "Je me connecte") {
			e.t.Fatalf("login page without its button: %s", body)
		}
		resp, err = b.PostForm(authURL, url.Values{"email": {email}, "password": {password}})
		must(e.t, err)
		readAll(e.t, resp)
	}
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("authorization answered %d, want a 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(e.t, err)
	if loc.Query().Get("state") != "st4te" {
		e.t.Fatalf("redirect lost the state: %s", loc)
	}
	return loc.Query().Get("code"), sawForm
}

// login runs the whole code flow for an account and returns its tokens.
func (e *env) login(email, password string) *oauth2.Token {
	e.t.Helper()
	verifier := oauth2.GenerateVerifier()
	code, _ := e.authorize(browser(e.t), email, password, verifier)
	tok, err := e.oauth().Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	must(e.t, err)
	return tok
}

// reply is a raw HTTP answer.
type reply struct {
	status int
	header http.Header
	body   string
}

func (r reply) errorBody(t *testing.T) (code, message string) {
	t.Helper()
	var e struct{ Code, Message string }
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", r.body, err)
	}
	return e.Code, e.Message
}

// call sends one /api request with a bearer token; body is JSON-encoded unless it is a string.
func (e *env) call(token, method, path string, body any) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		must(e.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	must(e.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: readAll(e.t, resp)}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return string(b)
}

func (e *env) ledger() sandbox.Ledger {
	e.t.Helper()
	l, err := e.ctl.Ledger(context.Background())
	must(e.t, err)
	return l
}

func (e *env) setFaults(f sandbox.Faults) {
	e.t.Helper()
	must(e.t, e.ctl.SetFaults(context.Background(), f))
}

// lessonBody is a valid lesson on 10 June 2024, hh:00 Paris, lasting one hour.
func lessonBody(hour int) map[string]string { return lessonAt(10, hour) }

// lessonAt is a valid one-hour lesson on that day of June 2024 at hh:00 Paris.
func lessonAt(day, hour int) map[string]string {
	start := time.Date(2024, 6, day, hour, 0, 0, 0, paris())
	return map[string]string{
		"debut": start.Format(time.RFC3339), "fin": start.Add(time.Hour).Format(time.RFC3339),
		"type": "CONDUITE", "numero_autorisation_formateur": "A1234567890",
		"nom_formateur": "Martin", "prenom_formateur": "Paul",
	}
}

// parisZone is loaded by the test itself, not taken from the sandbox, so a wrong zone there
// shows up as a wrong time here.
var parisZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return loc
}()

func paris() *time.Location { return parisZone }

// contract creates DUPONT's contract as the given token's school and returns its id.
func (e *env) contract(token string) string {
	e.t.Helper()
	r := e.call(token, "POST", "/api/v1/contrats-formation", map[string]string{"neph": nephDupont, "nom": "DUPONT-LEFEVRE", "prenom": "Léa", "categorie": "B"})
	if r.status != http.StatusCreated {
		e.t.Fatalf("contract creation: %d %s", r.status, r.body)
	}
	var out struct {
		IDContrat string `json:"id_contrat"`
	}
	must(e.t, json.Unmarshal([]byte(r.body), &out))
	if !strings.HasPrefix(out.IDContrat, "CF-") {
		e.t.Fatalf("contract id %q", out.IDContrat)
	}
	return out.IDContrat
}
