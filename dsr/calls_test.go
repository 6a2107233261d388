package dsr_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"livret/domain"
	"livret/dsr"
	"livret/sandbox"
)

func TestTypedCalls(t *testing.T) {
	h := newHarness(t, options{})
	h.link(accountA, "a1@ecole-a.fr", "pw-a1")
	h.link(3, "a2@ecole-a.fr", "pw-a2")
	ctx := context.Background()
	acct := h.client.Account(accountA)

	me, err := acct.Me(ctx)
	must(t, err)
	if me.Email != "a1@ecole-a.fr" || me.School.Status != "ouverte" {
		t.Fatalf("me = %+v", me)
	}
	c, err := acct.CreateContract(ctx, dsr.ContractRequest{NEPH: nephDupont, LastName: "dupont", FirstName: "Léa", Category: "B"})
	must(t, err)
	if !strings.HasPrefix(c.ID, "CF-") || c.NEPH != nephDupont {
		t.Fatalf("contract = %+v", c)
	}
	// Another account of the same school finds it (recovery after a lost answer).
	found, err := h.client.Account(3).FindContracts(ctx, nephDupont)
	must(t, err)
	if len(found) != 1 || found[0].ID != c.ID || found[0].Category != "B" {
		t.Fatalf("found = %+v", found)
	}

	req := lesson(10, 23) // 23:00–00:00 Paris: ends on the next calendar day
	id, err := acct.DeclareLesson(ctx, c.ID, req)
	must(t, err)
	got, err := acct.ListLessons(ctx, c.ID, req.Start, req.Start)
	must(t, err)
	if len(got) != 1 || got[0].ID != id || !got[0].Start.Equal(req.Start) || !got[0].End.Equal(req.End) ||
		got[0].Type != "CONDUITE" || got[0].AuthorizationNumber != "A1234567890" {
		t.Fatalf("listed = %+v", got)
	}
	// The list goes by Paris days: the 11th holds nothing, whatever UTC says.
	if none, err := acct.ListLessons(ctx, c.ID, req.End, req.End); err != nil || len(none) != 0 {
		t.Fatalf("11 June = %+v %v", none, err)
	}
	l := h.ledger()
	if len(l.Lessons) != 1 || l.Lessons[0].Debut.Format(time.RFC3339) != "2024-06-10T23:00:00+02:00" {
		t.Fatalf("the DSR stored %+v", l.Lessons)
	}
}

func TestBusinessRefusals(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		code domain.Code
		do   func(h *harness, a, b *dsr.Account) error
	}{
		{domain.CodeContratDejaConnu, func(h *harness, a, b *dsr.Account) error {
			_, err := a.CreateContract(ctx, dupont)
			must(h.t, err)
			_, err = b.CreateContract(ctx, dupont)
			return err
		}},
		{domain.CodeAutoEcoleFermee, func(h *harness, a, b *dsr.Account) error {
			must(h.t, h.ctl.SetSchoolStatus(ctx, agrementA, sandbox.StatutFermee))
			_, err := a.CreateContract(ctx, dupont)
			return err
		}},
		{domain.CodeEleveIntrouvable, func(h *harness, a, b *dsr.Account) error {
			req := dupont
			req.LastName = "DURAND"
			_, err := a.CreateContract(ctx, req)
			return err
		}},
		{domain.CodeCategorieSansDemande, func(h *harness, a, b *dsr.Account) error {
			req := dupont
			req.Category = "A2"
			_, err := a.CreateContract(ctx, req)
			return err
		}},
		{domain.CodeLeconFuture, func(h *harness, a, b *dsr.Account) error {
			req := lesson(15, 15) // 15:00–16:00 Paris on the sandbox's "today": it is 14:00 there
			return declare(h, a, req)
		}},
		{domain.CodeDureeInvalide, func(h *harness, a, b *dsr.Account) error {
			req := lesson(10, 13)
			req.End = req.Start.Add(25 * time.Minute) // Mélanie Perrin's simulator lesson
			return declare(h, a, req)
		}},
		{domain.CodeContratNonAutorise, func(h *harness, a, b *dsr.Account) error {
			c, err := a.CreateContract(ctx, dupont)
			must(h.t, err)
			_, err = b.DeclareLesson(ctx, c.ID, lesson(10, 10))
			return err
		}},
		{domain.CodeLeconEnDoublon, func(h *harness, a, b *dsr.Account) error {
			c, err := a.CreateContract(ctx, dupont)
			must(h.t, err)
			_, err = a.DeclareLesson(ctx, c.ID, lesson(10, 10))
			must(h.t, err)
			_, err = a.DeclareLesson(ctx, c.ID, lesson(10, 10))
			return err
		}},
		{domain.CodeFormatAutorisationInvalide, func(h *harness, a, b *dsr.Account) error {
			req := lesson(10, 10)
			req.AuthorizationNumber = "12345" // Lou Michel's instructor
			return declare(h, a, req)
		}},
		{domain.CodeTypeNonAutorise, func(h *harness, a, b *dsr.Account) error {
			c, err := a.CreateContract(ctx, dupont)
			must(h.t, err)
			req := lesson(10, 10)
			req.Type = "PLATEAU" // a two-wheel type on a B contract
			_, err = a.DeclareLesson(ctx, c.ID, req)
			return err
		}},
		{dsr.CodeContratIntrouvable, func(h *harness, a, b *dsr.Account) error {
			_, err := a.DeclareLesson(ctx, "CF-inconnu", lesson(10, 10))
			return err
		}},
	}
	if len(cases) != len(domain.DSRCodes())+1 {
		t.Fatal("every DSR code needs a case")
	}
	for _, tc := range cases {
		t.Run(string(tc.code), func(t *testing.T) {
			h := newHarness(t, options{})
			h.link(accountA, "a1@ecole-a.fr", "pw-a1")
			h.link(accountB, "b@ecole-b.fr", "pw-b")
			err := tc.do(h, h.client.Account(accountA), h.client.Account(accountB))
			e := wantKind(t, err, dsr.KindBusiness)
			want := "Contrat de formation introuvable"
			status := http.StatusNotFound
			if entry, ok := domain.Lookup(tc.code); ok {
				want, status = entry.Message, entry.HTTPStatus
			}
			if e.Code != tc.code || e.Message != want || e.HTTPStatus != status || e.Retryable() {
				t.Fatalf("error = %+v, want %s %d %q", e, tc.code, status, want)
			}
			if !strings.Contains(e.Error(), string(tc.code)) || !strings.Contains(e.Error(), want) {
				t.Fatalf("Error() = %q", e.Error())
			}
		})
	}
}

func declare(h *harness, a *dsr.Account, req dsr.LessonRequest) error {
	c, err := a.CreateContract(context.Background(), dupont)
	must(h.t, err)
	_, err = a.DeclareLesson(context.Background(), c.ID, req)
	return err
}

func TestInvalidRequestIsNotRetryable(t *testing.T) {
	h := newHarness(t, options{})
	h.link(accountA, "a1@ecole-a.fr", "pw-a1")
	req := lesson(10, 10)
	req.Type = "CODE"
	err := declare(h, h.client.Account(accountA), req)
	e := wantKind(t, err, dsr.KindInvalidRequest)
	if e.HTTPStatus != 400 || e.Retryable() || !strings.Contains(e.Message, "« type »") {
		t.Fatalf("error = %+v", e)
	}
}

func TestRateLimited(t *testing.T) {
	h := newHarness(t, options{})
	h.link(accountA, "a1@ecole-a.fr", "pw-a1")
	acct := h.client.Account(accountA)
	ctx := context.Background()

	h.setFaults(sandbox.Faults{Rate429: 1})
	_, err := acct.Me(ctx)
	if e := wantKind(t, err, dsr.KindRateLimited); e.RetryAfter != time.Second || !e.Retryable() || e.Code != domain.CodeTropDeRequetes {
		t.Fatalf("injected 429: %+v", e)
	}

	// The real limit: one call a minute, on a sandbox clock that does not move.
	h.setFaults(sandbox.Faults{RateLimitPerMin: sandbox.Int(1)})
	_, err = acct.Me(ctx)
	must(t, err)
	_, err = acct.Me(ctx)
	if e := wantKind(t, err, dsr.KindRateLimited); e.RetryAfter != time.Minute || e.HTTPStatus != 429 {
		t.Fatalf("limit 429: %+v", e)
	}
}

func TestTransientFaults(t *testing.T) {
	h := newHarness(t, options{timeout: 300 * time.Millisecond})
	h.link(accountA, "a1@ecole-a.fr", "pw-a1")
	acct := h.client.Account(accountA)
	ctx := context.Background()

	h.setFaults(sandbox.Faults{Error5xxRate: 1})
	for range 5 {
		_, err := acct.Me(ctx)
		if e := wantKind(t, err, dsr.KindTransient); e.HTTPStatus < 500 || !e.Retryable() {
			t.Fatalf("5xx: %+v", e)
		}
	}
	until := sandboxNow.Add(time.Hour)
	h.setFaults(sandbox.Faults{OutageUntil: &until})
	_, err := acct.Me(ctx)
	if e := wantKind(t, err, dsr.KindTransient); e.HTTPStatus != 503 {
		t.Fatalf("outage: %+v", e)
	}

	h.setFaults(sandbox.Faults{LatencyMS: 5000})
	start := time.Now()
	_, err = acct.Me(ctx)
	wantKind(t, err, dsr.KindTransient)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("timeout: %v after %s", err, time.Since(start))
	}

	// Drop after commit: the client cannot tell, the ledger and the list can.
	h.setFaults(sandbox.Faults{})
	c, err := acct.CreateContract(ctx, dupont)
	must(t, err)
	h.setFaults(sandbox.Faults{DropAfterCommitRate: 1})
	req := lesson(10, 10)
	for i := range 4 { // both failure modes: a closed connection and an empty 502
		req = lesson(10, 8+i)
		_, err = acct.DeclareLesson(ctx, c.ID, req)
		wantKind(t, err, dsr.KindTransient)
	}
	h.setFaults(sandbox.Faults{})
	got, err := acct.ListLessons(ctx, c.ID, req.Start, req.End)
	must(t, err)
	if len(got) != 4 || !got[3].Start.Equal(req.Start) {
		t.Fatalf("after the dropped answers the DSR lists %+v", got)
	}
	if l := h.ledger(); len(l.Lessons) != 4 {
		t.Fatalf("ledger holds %d lessons", len(l.Lessons))
	}
}

// countingLimiter counts Wait calls and can refuse them.
type countingLimiter struct {
	calls  atomic.Int64
	refuse atomic.Bool
}

func (l *countingLimiter) Wait(ctx context.Context, accountID int64) error {
	l.calls.Add(1)
	if l.refuse.Load() {
		return context.Canceled
	}
	return nil
}

func TestLimiterAndUserAgent(t *testing.T) {
	lim := &countingLimiter{}
	var (
		mu     sync.Mutex
		agents = map[string]bool{}
	)
	h := newHarness(t, options{limiter: lim, wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/sandbox/") && r.Method == http.MethodPost || strings.HasPrefix(r.URL.Path, "/api/") {
				mu.Lock()
				agents[r.URL.Path+" "+r.UserAgent()] = true
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}})
	h.link(accountA, "a1@ecole-a.fr", "pw-a1")
	acct := h.client.Account(accountA)
	ctx := context.Background()
	_, err := acct.Me(ctx)
	must(t, err)
	// A 401 costs a refresh (not paced) and a second API call (paced).
	h.clock.Advance(sandbox.DefaultAccessTTL)
	_, err = acct.Me(ctx)
	must(t, err)
	if got, calls := lim.calls.Load(), h.ledger().Calls; got != 3 || calls != 3 {
		t.Fatalf("limiter waited %d times for %d API calls, want 3 and 3", got, calls)
	}
	for path, want := range map[string]bool{
		"/api/v2/auto-ecole/moi livret-test/1":                          true,
		"/realms/formation/protocol/openid-connect/token livret-test/1": true,
	} {
		if agents[path] != want {
			t.Errorf("no call %q seen; saw %v", path, agents)
		}
	}

	lim.refuse.Store(true)
	_, err = acct.Me(ctx)
	wantKind(t, err, dsr.KindTransient)
	if calls := h.ledger().Calls; calls != 3 {
		t.Fatal("a call went out although the limiter refused it")
	}
}

// TestErrorsNeverShowTokens puts the tokens where a careless client would copy them into an
// error: an echoing server, a business message, the code field, the token endpoint's
// description.
func TestErrorsNeverShowTokens(t *testing.T) {
	var scenario atomic.Value
	scenario.Store("")
	h := newHarness(t, options{wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			s := scenario.Load().(string)
			switch {
			case s == "refresh" && strings.HasSuffix(r.URL.Path, "/token"):
				_ = r.ParseForm()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(400)
				_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"token ` + r.PostForm.Get("refresh_token") + ` is dead"}`))
				return
			case s != "" && s != "refresh" && strings.HasPrefix(r.URL.Path, "/api/"):
				w.Header().Set("Content-Type", "application/json")
				switch s {
				case "500":
					w.WriteHeader(500)
					_, _ = w.Write([]byte("upstream said: Authorization: Bearer " + auth))
				case "400":
					w.WriteHeader(400)
					_, _ = w.Write([]byte(`{"code":"REQUETE_INVALIDE","message":"jeton ` + auth + ` refusé"}`))
				case "409":
					w.WriteHeader(409)
					_, _ = w.Write([]byte(`{"code":"LECON_EN_DOUBLON","message":"doublon pour ` + auth + `"}`))
				case "code":
					w.WriteHeader(422)
					_, _ = w.Write([]byte(`{"code":"` + auth + `","message":"x"}`))
				case "garbage":
					w.WriteHeader(200)
					_, _ = w.Write([]byte(auth + " is not JSON"))
				}
				return
			}
			next.ServeHTTP(w, r)
		})
	}})
	tok := h.link(accountA, "a1@ecole-a.fr", "pw-a1")
	acct := h.client.Account(accountA)
	for _, s := range []string{"500", "400", "409", "code", "garbage", "refresh"} {
		t.Run(s, func(t *testing.T) {
			scenario.Store(s)
			var err error
			if s == "refresh" {
				_, err = h.client.ForceRefresh(context.Background(), accountA, tok.AccessToken)
			} else {
				_, err = acct.Me(context.Background())
			}
			e, ok := dsr.AsError(err)
			if !ok {
				t.Fatalf("error %v", err)
			}
			for _, secret := range []string{tok.AccessToken, tok.RefreshToken} {
				if strings.Contains(err.Error(), secret) || strings.Contains(e.Message, secret) || strings.Contains(string(e.Code), secret) {
					t.Fatalf("a token leaked into the error: %q", err.Error())
				}
			}
			t.Logf("%s → %v", s, err)
		})
	}
}
