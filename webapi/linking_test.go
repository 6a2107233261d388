package webapi_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"livret/webapi"
	"livret/workflows"
)

// seedWarning is the vendor guide's text (docs/rules.md, "Linking offices"), word for word.
const seedWarning = `Si vous avez déjà connecté un autre bureau à la DSR et souhaitez connecter celui-ci à un compte RDV Permis différent, déconnectez-vous d'abord sur le site de RDV Permis. Sinon, cliquez sur "Connexion".`

// scheduleExists asks Temporal whether the office's daily Schedule exists. Describing a
// Schedule queries its scheduler workflow, which a test server under -race and load may take
// longer than one RPC timeout to answer: only a definite answer counts.
func (e *env) scheduleExists(officeID int64) bool {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, err := e.temporal.ScheduleClient().GetHandle(context.Background(), workflows.ScheduleID(officeID)).Describe(context.Background())
		var notFound *serviceerror.NotFound
		switch {
		case err == nil:
			return true
		case errors.As(err, &notFound):
			return false
		case time.Now().After(deadline):
			e.t.Fatalf("describe schedule of office %d: %v", officeID, err)
		}
		time.Sleep(time.Second)
	}
}

type officeCard struct {
	Ref string `json:"ref"`
	DSR struct {
		Linked         bool    `json:"linked"`
		AccountEmail   *string `json:"account_email"`
		LinkedAt       *string `json:"linked_at"`
		NeedsReconnect bool    `json:"needs_reconnect"`
	} `json:"dsr"`
}

func (e *env) officeCards(key string) map[string]officeCard {
	e.t.Helper()
	var list []officeCard
	e.do("GET", "/v1/offices", key, nil).want(e.t, http.StatusOK).json(e.t, &list)
	out := map[string]officeCard{}
	for _, o := range list {
		out[o.Ref] = o
	}
	return out
}

// TestLinkingCentralised: every office on the same RdvPermis account (docs/rules.md, "Linking offices"). The second
// office gets the warning, then links with no password.
func TestLinkingCentralised(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école des Plesses", agrementA)
	e.addAccount(emailA1, passwordA1, agrementA)
	e.put(a.Key, "/v1/offices/b1", map[string]any{"name": "Agence centre"})
	e.put(a.Key, "/v1/offices/b2", map[string]any{"name": "Agence gare"})
	browser := e.browser()

	first := e.linked(a.Key, "b1", false, browser, &login{emailA1, passwordA1})
	if !first.sawForm {
		t.Fatal("the first office must go through RdvPermis's login form")
	}
	b1 := e.office(a.ID, "b1")
	if b1.AccountID == nil || b1.LinkedAt == nil || !e.scheduleExists(b1.ID) {
		t.Fatalf("office 1 after linking: %+v", b1)
	}

	// Another office is linked: the seed's warning, with RdvPermis's logout link.
	f := e.link(a.Key, "b2", false, browser, nil)
	p := f.connect.wantProblem(t, http.StatusConflict)
	if p.Detail != seedWarning || linkWarning != seedWarning {
		t.Fatalf("warning %q", p.Detail)
	}
	if p.LogoutURL != e.sandbox.URL+"/realms/formation/protocol/openid-connect/logout" {
		t.Fatalf("logout_url %q", p.LogoutURL)
	}
	if e.count("oauth_states") != 1 {
		t.Fatal("a refused connect stored a state")
	}

	// "Connexion": RdvPermis knows the browser, no password, same account.
	second := e.linked(a.Key, "b2", true, browser, nil)
	if second.sawForm {
		t.Fatal("the second office saw the login form")
	}
	b2 := e.office(a.ID, "b2")
	if b2.AccountID == nil || *b2.AccountID != *b1.AccountID || e.count("dsr_accounts") != 1 {
		t.Fatalf("office 2 linked to account %v, office 1 to %v", b2.AccountID, *b1.AccountID)
	}
	if !e.scheduleExists(b2.ID) {
		t.Fatal("office 2 has no Schedule")
	}
	cards := e.officeCards(a.Key)
	for _, ref := range []string{"b1", "b2"} {
		c := cards[ref]
		if !c.DSR.Linked || c.DSR.AccountEmail == nil || *c.DSR.AccountEmail != emailA1 || c.DSR.LinkedAt == nil || c.DSR.NeedsReconnect {
			t.Fatalf("card %s: %+v", ref, c)
		}
	}

	// "Se déconnecter": unlinked, Schedule gone, the other office untouched, link time kept.
	var card officeCard
	e.do("POST", "/v1/offices/b2/dsr/disconnect", a.Key, nil).want(t, http.StatusOK).json(t, &card)
	if card.DSR.Linked || card.DSR.AccountEmail != nil || card.DSR.LinkedAt == nil {
		t.Fatalf("disconnected card: %+v", card)
	}
	if e.scheduleExists(b2.ID) {
		t.Fatal("office 2's Schedule survived the disconnect")
	}
	if !e.scheduleExists(b1.ID) || !e.officeCards(a.Key)["b1"].DSR.Linked {
		t.Fatal("disconnecting office 2 touched office 1")
	}
	if got := e.office(a.ID, "b2"); got.AccountID != nil || got.LinkedAt == nil || !got.LinkedAt.Equal(*b2.LinkedAt) {
		t.Fatalf("office 2 after disconnect: %+v", got)
	}
	// Idempotent.
	e.do("POST", "/v1/offices/b2/dsr/disconnect", a.Key, nil).want(t, http.StatusOK)
	e.do("POST", "/v1/offices/inconnu/dsr/disconnect", a.Key, nil).wantProblem(t, http.StatusNotFound)
}

// TestLinkingDecentralised: offices on different accounts of the same school (docs/rules.md, "Linking offices"): log
// out at RdvPermis, then link the next office with the other account.
func TestLinkingDecentralised(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école David", agrementA)
	e.addAccount("roche@david.fr", "pw-roche", agrementA)
	e.addAccount("sables@david.fr", "pw-sables", agrementA)
	e.put(a.Key, "/v1/offices/roche", map[string]any{"name": "Agence de La Roche s/Yon"})
	e.put(a.Key, "/v1/offices/sables", map[string]any{"name": "Agence des Sables d'Olonne"})
	browser := e.browser()

	e.linked(a.Key, "roche", false, browser, &login{"roche@david.fr", "pw-roche"})
	warning := e.link(a.Key, "sables", false, browser, nil).connect.wantProblem(t, http.StatusConflict)

	// "Site de Rdv Permis": log out there.
	resp, err := browser.Get(warning.LogoutURL)
	must(t, err)
	e.read(resp).want(t, http.StatusOK)

	second := e.linked(a.Key, "sables", true, browser, &login{"sables@david.fr", "pw-sables"})
	if !second.sawForm {
		t.Fatal("after logging out, RdvPermis must ask for the other account's password")
	}
	roche, sables := e.office(a.ID, "roche"), e.office(a.ID, "sables")
	if roche.AccountID == nil || sables.AccountID == nil || *roche.AccountID == *sables.AccountID || e.count("dsr_accounts") != 2 {
		t.Fatalf("accounts: roche %v, sables %v", roche.AccountID, sables.AccountID)
	}
	cards := e.officeCards(a.Key)
	if *cards["roche"].DSR.AccountEmail != "roche@david.fr" || *cards["sables"].DSR.AccountEmail != "sables@david.fr" {
		t.Fatalf("cards: %+v", cards)
	}
	if !e.scheduleExists(roche.ID) || !e.scheduleExists(sables.ID) {
		t.Fatal("each linked office has its Schedule")
	}
}

// TestLinkingRefusals: a state is single use, short-lived and unforgeable; an account of
// another school is refused; no redirect target is taken from the request.
func TestLinkingRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	e.addAccount(emailA1, passwordA1, agrementA)
	e.addAccount("autre@ecole-b.fr", "pw-b", agrementB)
	for _, ref := range []string{"o1", "o2", "o3", "o4"} {
		e.put(a.Key, "/v1/offices/"+ref, map[string]any{"name": "Bureau " + ref})
	}
	accounts := func() int { return e.count("dsr_accounts") }

	// Forged and missing states.
	for _, q := range []string{"?state=forged&code=abc", "?code=abc", "", "?state=&code=abc"} {
		p := e.do("GET", webapi.CallbackPath+q, "", nil).wantProblem(t, http.StatusBadRequest)
		if p.Detail == "" {
			t.Fatal("no explanation")
		}
	}

	// Replayed: the callback URL of a successful link, used again.
	ok := e.linked(a.Key, "o1", false, e.browser(), &login{emailA1, passwordA1})
	resp, err := e.browser().Get(ok.callback.String())
	must(t, err)
	e.read(resp).wantProblem(t, http.StatusBadRequest)
	if e.office(a.ID, "o1").AccountID == nil || accounts() != 1 {
		t.Fatal("the replay changed the link")
	}

	// Expired: a state past its TTL is refused even with a good code.
	connect := e.do("GET", "/v1/offices/o2/dsr/connect?confirm=1", a.Key, nil).want(t, http.StatusFound)
	state := mustParse(t, connect.header.Get("Location")).Query().Get("state")
	sum := sha256.Sum256([]byte(state))
	tag, err := e.pool.Exec(context.Background(), "UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE state_hash = $1", sum[:])
	must(t, err)
	if tag.RowsAffected() != 1 {
		t.Fatal("the state is not stored by its hash")
	}
	b := e.browser()
	resp, err = b.Get(connect.header.Get("Location"))
	must(t, err)
	e.read(e.submitLogin(b, resp, login{emailA1, passwordA1})).wantProblem(t, http.StatusBadRequest)
	if e.office(a.ID, "o2").AccountID != nil {
		t.Fatal("an expired state linked the office")
	}

	// RdvPermis's error: refused, and the state is spent.
	connect = e.do("GET", "/v1/offices/o2/dsr/connect?confirm=1", a.Key, nil).want(t, http.StatusFound)
	state = mustParse(t, connect.header.Get("Location")).Query().Get("state")
	p := e.do("GET", webapi.CallbackPath+"?error=access_denied&state="+url.QueryEscape(state), "", nil).wantProblem(t, http.StatusBadRequest)
	if p.Type != "urn:livret:problem:oauth" || !contains(p.Detail, "access_denied") {
		t.Fatalf("RdvPermis error: %+v", p)
	}
	e.do("GET", webapi.CallbackPath+"?code=x&state="+url.QueryEscape(state), "", nil).wantProblem(t, http.StatusBadRequest)

	// An account of another school (another agrément): refused, nothing stored.
	f := e.link(a.Key, "o3", true, e.browser(), &login{"autre@ecole-b.fr", "pw-b"})
	p = f.final.wantProblem(t, http.StatusConflict)
	if p.Type != "urn:livret:problem:account-of-another-school" || !contains(p.Detail, agrementB) || p.LogoutURL == "" {
		t.Fatalf("other school: %+v", p)
	}
	if e.office(a.ID, "o3").AccountID != nil || accounts() != 1 {
		t.Fatal("an account of another school was linked")
	}

	// No redirect target from the request, ever.
	for _, param := range []string{"redirect", "next", "return_to", "redirect_uri"} {
		p := e.do("GET", "/v1/offices/o4/dsr/connect?confirm=1&"+param+"=https://evil.example/", a.Key, nil).wantProblem(t, http.StatusBadRequest)
		if p.message(param) == "" {
			t.Fatalf("%s not named: %+v", param, p)
		}
	}
	// Unknown office, no key, wrong key.
	e.do("GET", "/v1/offices/inconnu/dsr/connect", a.Key, nil).wantProblem(t, http.StatusNotFound)
	e.do("GET", "/v1/offices/o4/dsr/connect", "", nil).wantProblem(t, http.StatusUnauthorized)
	e.do("GET", "/v1/offices/o4/dsr/connect", "lvk_wrong", nil).wantProblem(t, http.StatusUnauthorized)

	// The authorization request carries PKCE (S256) and our registered callback.
	connect = e.do("GET", "/v1/offices/o4/dsr/connect?confirm=1", a.Key, nil).want(t, http.StatusFound)
	q := mustParse(t, connect.header.Get("Location")).Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("redirect_uri") != e.api.URL+webapi.CallbackPath ||
		len(q.Get("state")) < 43 {
		t.Fatalf("authorization request: %v", q)
	}
	if connect.header.Get("Cache-Control") != "no-store" || ok.final.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatal("the redirect may be cached, or the callback's URL sent on as a Referer")
	}
}

// TestLinkingStateOfAnotherSchool: a callback that pairs one school's state with the code
// RdvPermis issued for another school's request (a state carried over by an attacker, or a
// swapped link) is refused: the state's PKCE verifier does not match the code's challenge.
// Neither school is linked, both states are spent, and the honest code is spent too.
func TestLinkingStateOfAnotherSchool(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	b := e.createSchool("Auto-école B", agrementB)
	e.addAccount(emailA1, passwordA1, agrementA)
	e.put(a.Key, "/v1/offices/oa", map[string]any{"name": "Bureau A"})
	e.put(b.Key, "/v1/offices/ob", map[string]any{"name": "Bureau B"})
	before := map[int64]string{a.ID: e.snapshot(a.ID), b.ID: e.snapshot(b.ID)}

	stateOf := func(connect answer) string {
		return mustParse(t, connect.header.Get("Location")).Query().Get("state")
	}
	// School B asks to connect, and stops there.
	connectB := e.do("GET", "/v1/offices/ob/dsr/connect?confirm=1", b.Key, nil).want(t, http.StatusFound)
	stateB := stateOf(connectB)

	// School A's admin logs in at RdvPermis; the browser is stopped before the callback.
	connectA := e.do("GET", "/v1/offices/oa/dsr/connect?confirm=1", a.Key, nil).want(t, http.StatusFound)
	stateA := stateOf(connectA)
	browser := e.browser()
	browser.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == webapi.CallbackPath {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := browser.Get(connectA.header.Get("Location"))
	must(t, err)
	back := e.read(e.submitLogin(browser, resp, login{emailA1, passwordA1})).want(t, http.StatusFound)
	callback := mustParse(t, back.header.Get("Location"))
	codeA := callback.Query().Get("code")
	if callback.Query().Get("state") != stateA || codeA == "" {
		t.Fatalf("RdvPermis sent back %s", callback)
	}

	// B's state with A's code: refused, nothing linked.
	p := e.do("GET", webapi.CallbackPath+"?state="+url.QueryEscape(stateB)+"&code="+url.QueryEscape(codeA), "", nil).wantProblem(t, http.StatusBadRequest)
	if p.Detail == "" {
		t.Fatal("no explanation")
	}
	// B's state is spent; A's code was spent by the failed exchange, so even A's own
	// callback is refused now and the admin starts again.
	e.do("GET", webapi.CallbackPath+"?state="+url.QueryEscape(stateB)+"&code="+url.QueryEscape(codeA), "", nil).wantProblem(t, http.StatusBadRequest)
	e.do("GET", webapi.CallbackPath+"?state="+url.QueryEscape(stateA)+"&code="+url.QueryEscape(codeA), "", nil).wantProblem(t, http.StatusBadRequest)
	if e.count("dsr_accounts") != 0 || e.office(a.ID, "oa").AccountID != nil || e.office(b.ID, "ob").AccountID != nil {
		t.Fatal("a swapped state linked an office")
	}
	var unspent int
	must(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM oauth_states WHERE used_at IS NULL").Scan(&unspent))
	if unspent != 0 || e.count("oauth_states") != 2 {
		t.Fatalf("%d of %d states left unspent", unspent, e.count("oauth_states"))
	}
	// Nothing else of either school changed.
	withoutStates := func(snapshot string) string {
		var keep []string
		for _, line := range strings.Split(snapshot, "\n") {
			if !strings.HasPrefix(line, "oauth_states ") {
				keep = append(keep, line)
			}
		}
		return strings.Join(keep, "\n")
	}
	for _, s := range []school{a, b} {
		if got := withoutStates(e.snapshot(s.ID)); got != withoutStates(before[s.ID]) {
			t.Fatalf("school %d changed:\n%s\nwas\n%s", s.ID, got, before[s.ID])
		}
	}
}
