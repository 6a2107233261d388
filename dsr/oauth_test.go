package dsr_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"livret/domain"
	"livret/dsr"
	"livret/sandbox"
)

func TestConfig(t *testing.T) {
	cfg := dsr.Config{BaseURL: "https://dsr.example/", ClientID: "c", ClientSecret: "s", RedirectURL: "https://livret.example/cb"}
	o := cfg.OAuth2()
	if o.Endpoint.AuthURL != "https://dsr.example/realms/formation/protocol/openid-connect/auth" ||
		o.Endpoint.TokenURL != "https://dsr.example/realms/formation/protocol/openid-connect/token" ||
		o.Endpoint.AuthStyle == oauth2.AuthStyleAutoDetect {
		t.Fatalf("endpoint = %+v", o.Endpoint)
	}
	if strings.Join(o.Scopes, " ") != "rdvpermis livret_numerique:read livret_numerique:write offline_access" {
		t.Fatalf("scopes = %v", o.Scopes)
	}
	if cfg.LogoutURL() != "https://dsr.example/realms/formation/protocol/openid-connect/logout" {
		t.Fatalf("logout = %s", cfg.LogoutURL())
	}
}

func TestCodeFlowWithPKCE(t *testing.T) {
	h := newHarness(t, options{})
	ctx := context.Background()
	browser := newBrowser(t)

	verifier := oauth2.GenerateVerifier()
	cb, sawForm := h.authorize(browser, "a1@ecole-a.fr", "pw-a1", verifier)
	if !sawForm {
		t.Fatal("a new browser must see the login form")
	}
	code := cb.Get("code")

	// A wrong verifier is refused, and spends the code.
	if _, err := h.client.Exchange(ctx, code, oauth2.GenerateVerifier()); err == nil {
		t.Fatal("wrong verifier accepted")
	} else {
		wantKind(t, err, dsr.KindReconnect)
	}
	if _, err := h.client.Exchange(ctx, code, verifier); err == nil {
		t.Fatal("a code survived a failed exchange")
	}

	// A fresh code with the right verifier works once.
	verifier = oauth2.GenerateVerifier()
	cb, sawForm = h.authorize(browser, "", "", verifier)
	if sawForm {
		t.Fatal("the logged-in browser saw the form again")
	}
	tok, err := h.client.Exchange(ctx, cb.Get("code"), verifier)
	must(t, err)
	if tok.AccessToken == "" || tok.RefreshToken == "" || time.Until(tok.Expiry) < 250*time.Second {
		t.Fatalf("token pair incomplete: expiry %s", tok.Expiry)
	}
	if got := dsr.RefreshExpiresIn(tok); got != 1800*time.Second {
		t.Fatalf("refresh lifetime %s, want 30 min", got)
	}
	_, err = h.client.Exchange(ctx, cb.Get("code"), verifier)
	if e := wantKind(t, err, dsr.KindReconnect); !strings.Contains(e.Message, "invalid_grant") {
		t.Fatalf("code reuse: %v", e)
	}

	me, err := h.client.MeWithToken(ctx, tok)
	must(t, err)
	if me.Email != "a1@ecole-a.fr" || me.School.Agrement != agrementA || me.School.Name != "Auto-école A" || me.School.Closed() || me.AccountID == "" {
		t.Fatalf("me = %+v", me)
	}

	// SSO: a second office, same browser, same account, no form.
	verifier = oauth2.GenerateVerifier()
	cb, sawForm = h.authorize(browser, "", "", verifier)
	if sawForm {
		t.Fatal("SSO must not show the form")
	}
	tok2, err := h.client.Exchange(ctx, cb.Get("code"), verifier)
	must(t, err)
	me2, err := h.client.MeWithToken(ctx, tok2)
	must(t, err)
	if me2.AccountID != me.AccountID {
		t.Fatalf("SSO linked %s, want %s", me2.AccountID, me.AccountID)
	}

	// Logout at RdvPermis, then the next office links another account through the form.
	resp, err := browser.Get(h.cfg.LogoutURL())
	must(t, err)
	if page := readAll(t, resp); !strings.Contains(page, "Vous êtes déconnecté de RdvPermis.") {
		t.Fatalf("logout page: %s", page)
	}
	verifier = oauth2.GenerateVerifier()
	cb, sawForm = h.authorize(browser, "b@ecole-b.fr", "pw-b", verifier)
	if !sawForm {
		t.Fatal("after logout the form must be shown")
	}
	tok3, err := h.client.Exchange(ctx, cb.Get("code"), verifier)
	must(t, err)
	if me3, err := h.client.MeWithToken(ctx, tok3); err != nil || me3.School.Agrement != agrementB {
		t.Fatalf("after logout: %+v %v", me3, err)
	}
}

func TestRefreshRotates(t *testing.T) {
	h := newHarness(t, options{})
	ctx := context.Background()
	first := h.link(accountA, "a1@ecole-a.fr", "pw-a1")

	second, err := h.client.ForceRefresh(ctx, accountA, first.AccessToken)
	must(t, err)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh did not rotate the pair")
	}
	if stored, _ := h.store.Token(ctx, accountA); stored.AccessToken != second.AccessToken {
		t.Fatal("the new pair was not saved")
	}
	// The old refresh token is dead at the DSR.
	_, err = h.cfg.OAuth2().TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("old refresh token: %v, want invalid_grant", err)
	}
	// ForceRefresh with a token that is no longer the stored one refreshes nothing.
	before := h.ledger().Refreshes
	third, err := h.client.ForceRefresh(ctx, accountA, first.AccessToken)
	must(t, err)
	if third.AccessToken != second.AccessToken || h.ledger().Refreshes != before {
		t.Fatal("a stale ForceRefresh refreshed again")
	}
	// A worker that restored the spent pair finds out at once: reconnect, not retry.
	h.store.Put(accountA, first)
	_, err = h.client.ForceRefresh(ctx, accountA, first.AccessToken)
	if e := wantKind(t, err, dsr.KindReconnect); e.Retryable() {
		t.Fatal("a reconnect error must not be retryable")
	}
}

func TestConcurrentRefreshHitsTheDSROnce(t *testing.T) {
	for _, mode := range []string{"expired in the store", "refused by the DSR (401)"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, options{})
			tok := h.link(accountA, "a1@ecole-a.fr", "pw-a1")
			if mode == "expired in the store" {
				expired := *tok
				expired.Expiry = time.Now().Add(-time.Minute)
				h.store.Put(accountA, &expired)
			} else {
				// The sandbox says the access token is dead; the client still thinks it valid.
				h.clock.Advance(sandbox.DefaultAccessTTL + time.Second)
			}
			acct := h.client.Account(accountA)
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for range 20 {
				wg.Go(func() {
					if _, err := acct.Me(context.Background()); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if got := h.ledger().Refreshes; got != 1 {
				t.Fatalf("%d refreshes reached the DSR, want exactly 1", got)
			}
			if got := h.store.Saves(); got != 1 {
				t.Fatalf("%d pairs saved, want 1", got)
			}
		})
	}
}

func TestRefreshRefusedMeansReconnect(t *testing.T) {
	h := newHarness(t, options{})
	h.link(accountA, "a1@ecole-a.fr", "pw-a1")
	// Past the refresh lifetime both tokens are dead: the 401 leads to a refused refresh.
	h.clock.Advance(sandbox.DefaultRefreshTTL + time.Second)
	_, err := h.client.Account(accountA).Me(context.Background())
	e := wantKind(t, err, dsr.KindReconnect)
	if e.Op != "refresh token" || e.HTTPStatus != http.StatusBadRequest {
		t.Fatalf("error = %+v", e)
	}
	if got := h.ledger().Refreshes; got != 1 {
		t.Fatalf("%d refresh attempts, want 1 (never retried)", got)
	}
	// An account with no pair at all needs a login too.
	_, err = h.client.Account(99).Me(context.Background())
	wantKind(t, err, dsr.KindReconnect)
}

// Livret's own client refused at the refresh (its secret rotated at the DSR): a configuration
// error of Livret's, not the account's lost login.
func TestRefreshWithARefusedClient(t *testing.T) {
	h := newHarness(t, options{})
	h.link(accountA, "a1@ecole-a.fr", "pw-a1")
	must(t, h.ctl.AddClient(context.Background(), sandbox.Client{ClientID: clientID, ClientSecret: "rotated",
		RedirectURIs: []string{h.cfg.RedirectURL}}))
	h.clock.Advance(sandbox.DefaultAccessTTL + time.Second) // the access token is dead: a refresh is due
	_, err := h.client.Account(accountA).Me(context.Background())
	e := wantKind(t, err, dsr.KindInvalidRequest)
	if !e.ClientRefused || e.Op != "refresh token" || e.HTTPStatus != http.StatusUnauthorized || e.Retryable() {
		t.Fatalf("error = %+v", e)
	}
	// A malformed request is not a refused client.
	req := lesson(10, 10)
	req.Type = "CODE"
	h2 := newHarness(t, options{})
	h2.link(accountA, "a1@ecole-a.fr", "pw-a1")
	if e := wantKind(t, declare(h2, h2.client.Account(accountA), req), dsr.KindInvalidRequest); e.ClientRefused {
		t.Fatalf("a malformed request reads as a refused client: %+v", e)
	}
}

func TestSecond401MeansReconnect(t *testing.T) {
	h := newHarness(t, options{wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"code":"TOKEN_INVALIDE","message":"Jeton d'accès invalide ou expiré"}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	}})
	h.link(accountA, "a1@ecole-a.fr", "pw-a1")
	_, err := h.client.Account(accountA).Me(context.Background())
	e := wantKind(t, err, dsr.KindReconnect)
	if e.Code != domain.CodeTokenInvalide || e.HTTPStatus != 401 {
		t.Fatalf("error = %+v", e)
	}
	if got := h.ledger().Refreshes; got != 1 {
		t.Fatalf("%d refreshes, want exactly one before giving up", got)
	}
}
