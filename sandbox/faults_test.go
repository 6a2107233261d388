package sandbox_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"livret/sandbox"
)

const moi = "/api/v2/auto-ecole/moi"

func TestRateLimitNeverExceedsNInAnyWindow(t *testing.T) {
	const limit = 5
	e := newEnv(t, sandbox.Options{})
	e.populate()
	// The clock runs for hours in this test: the token must outlive it.
	e.setFaults(sandbox.Faults{RateLimitPerMin: sandbox.Int(limit), AccessTTLS: 100_000})
	tk := e.login("a1@ecole-a.fr", "pw-a1").AccessToken

	rng := rand.New(rand.NewPCG(1, 2))
	var accepted []time.Time
	refused := 0
	for range 400 {
		// Bursts and pauses: up to 20 s between calls, often none.
		if rng.IntN(3) == 0 {
			e.clock.Advance(time.Duration(rng.IntN(20_000)) * time.Millisecond)
		}
		r := e.call(tk, "GET", moi, nil)
		switch r.status {
		case http.StatusOK:
			accepted = append(accepted, e.clock.Now())
		case http.StatusTooManyRequests:
			refused++
			secs, err := strconv.Atoi(r.header.Get("Retry-After"))
			if err != nil || secs < 1 || secs > 60 {
				t.Fatalf("Retry-After %q, want whole seconds in [1,60]", r.header.Get("Retry-After"))
			}
			if code, msg := r.errorBody(t); code != "TROP_DE_REQUETES" || msg != errorTable["TROP_DE_REQUETES"].message {
				t.Fatalf("429 body %s %q", code, msg)
			}
		default:
			t.Fatalf("status %d", r.status)
		}
	}
	// Every window (t-60s, t] ending at an accepted call holds at most limit calls.
	for i, end := range accepted {
		n := 0
		for _, at := range accepted[:i+1] {
			if end.Sub(at) < time.Minute {
				n++
			}
		}
		if n > limit {
			t.Fatalf("%d calls accepted in the 60 s before %s, limit %d", n, end, limit)
		}
	}
	if refused == 0 {
		t.Fatal("the test never reached the limit")
	}
	l := e.ledger()
	var acct sandbox.LedgerAccount
	for _, a := range l.Accounts {
		if a.Email == "a1@ecole-a.fr" {
			acct = a
		}
	}
	if acct.MaxCallsIn60s != limit || acct.RateLimited != refused || acct.Calls != 400 || l.RateLimited != refused {
		t.Fatalf("ledger account %+v (global rate_limited %d), want max %d, %d refused of 400", acct, l.RateLimited, limit, refused)
	}
}

func TestRetryAfterTellsWhenASlotFrees(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	tk := e.login("a1@ecole-a.fr", "pw-a1").AccessToken
	e.setFaults(sandbox.Faults{RateLimitPerMin: sandbox.Int(3)})
	for range 3 {
		if r := e.call(tk, "GET", moi, nil); r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
		e.clock.Advance(10 * time.Second)
	}
	// Calls at 0, 10, 20 s; now 30 s: the first leaves the window at 60 s.
	for range 5 { // refused calls take no slot: the answer does not move
		r := e.call(tk, "GET", moi, nil)
		if r.status != 429 || r.header.Get("Retry-After") != "30" {
			t.Fatalf("got %d Retry-After %q, want 429 and 30", r.status, r.header.Get("Retry-After"))
		}
	}
	e.clock.Advance(29*time.Second + 500*time.Millisecond)
	if r := e.call(tk, "GET", moi, nil); r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Fatalf("half a second early: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	e.clock.Advance(500 * time.Millisecond)
	if r := e.call(tk, "GET", moi, nil); r.status != 200 {
		t.Fatalf("after Retry-After: %d", r.status)
	}
	// Another account of the same school has its own budget.
	tk2 := e.login("a2@ecole-a.fr", "pw-a2").AccessToken
	if r := e.call(tk2, "GET", moi, nil); r.status != 200 {
		t.Fatalf("other account: %d", r.status)
	}
	// 0 means no limit.
	e.setFaults(sandbox.Faults{RateLimitPerMin: sandbox.Int(0)})
	for range 10 {
		if r := e.call(tk, "GET", moi, nil); r.status != 200 {
			t.Fatalf("unlimited: %d", r.status)
		}
	}
}

func TestDefaultRateLimitIs210(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	tk := e.login("a1@ecole-a.fr", "pw-a1").AccessToken
	for i := range 211 {
		r := e.call(tk, "GET", moi, nil)
		if want := map[bool]int{true: 429, false: 200}[i == 210]; r.status != want {
			t.Fatalf("call %d: %d, want %d", i+1, r.status, want)
		}
	}
}

func TestOutageAnd5xxAnd429Faults(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	e.setFaults(sandbox.Faults{AccessTTLS: 100_000}) // outlives the outage
	tk := e.login("a1@ecole-a.fr", "pw-a1").AccessToken

	until := sandboxNow.Add(10 * time.Minute)
	e.setFaults(sandbox.Faults{OutageUntil: &until})
	if r := e.call(tk, "GET", moi, nil); r.status != 503 {
		t.Fatalf("during the outage: %d", r.status)
	}
	// The token endpoint is not the API: logins keep working during an API outage.
	e.login("a2@ecole-a.fr", "pw-a2")
	e.clock.Advance(10 * time.Minute)
	if r := e.call(tk, "GET", moi, nil); r.status != 200 {
		t.Fatalf("after the outage: %d", r.status)
	}

	e.setFaults(sandbox.Faults{Error5xxRate: 1})
	seen := map[int]bool{}
	for range 30 {
		r := e.call(tk, "GET", moi, nil)
		if r.status < 500 {
			t.Fatalf("5xx rate 1 answered %d", r.status)
		}
		seen[r.status] = true
	}
	if !seen[500] || !seen[502] || !seen[503] {
		t.Fatalf("5xx statuses seen: %v", seen)
	}

	e.setFaults(sandbox.Faults{Rate429: 1})
	before := e.ledger().RateLimited
	r := e.call(tk, "GET", moi, nil)
	if code, _ := r.errorBody(t); r.status != 429 || r.header.Get("Retry-After") != "1" || code != "TROP_DE_REQUETES" {
		t.Fatalf("injected 429: %d %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if got := e.ledger().RateLimited; got != before+1 {
		t.Fatalf("rate_limited %d, want %d", got, before+1)
	}

	e.setFaults(sandbox.Faults{Error5xxRate: 0.5})
	ok, failed := 0, 0
	for range 100 {
		if e.call(tk, "GET", moi, nil).status == 200 {
			ok++
		} else {
			failed++
		}
	}
	if ok < 25 || failed < 25 {
		t.Fatalf("5xx rate 0.5: %d ok, %d failed", ok, failed)
	}
}

func TestDropAfterCommitStoresThenFails(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	tk := e.login("a1@ecole-a.fr", "pw-a1").AccessToken
	e.setFaults(sandbox.Faults{DropAfterCommitRate: 1})

	post := func(path string, body any) (status int, closed bool) {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(string(data)))
		req.Header.Set("Authorization", "Bearer "+tk)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, true
		}
		if b := readAll(t, resp); b != "" {
			t.Fatalf("dropped answer has a body: %q", b)
		}
		return resp.StatusCode, false
	}
	status, closed := post("/api/v1/contrats-formation", map[string]string{"neph": nephDupont, "nom": "DUPONT-LEFEVRE", "prenom": "Léa", "categorie": "B"})
	if !closed && status != 502 {
		t.Fatalf("contract POST answered %d", status)
	}
	l := e.ledger()
	if len(l.Contracts) != 1 {
		t.Fatalf("the contract was not stored: %+v", l.Contracts)
	}
	id := l.Contracts[0].IDContrat

	modes := map[string]int{}
	for h := range 20 {
		status, closed := post(lessonPath(id), lessonAt(1+h/10, 8+h%10))
		switch {
		case closed:
			modes["closed"]++
		case status == 502:
			modes["502"]++
		default:
			t.Fatalf("lesson POST answered %d", status)
		}
	}
	if modes["closed"] == 0 || modes["502"] == 0 {
		t.Fatalf("both failure modes expected: %v", modes)
	}
	l = e.ledger()
	if len(l.Lessons) != 20 {
		t.Fatalf("%d lessons stored, want all 20", len(l.Lessons))
	}
	// The client's recovery: the lesson is listed.
	e.setFaults(sandbox.Faults{})
	r := e.call(tk, "GET", lessonPath(id)+"?du=2024-06-01&au=2024-06-30", nil)
	var listed []map[string]string
	must(t, json.Unmarshal([]byte(r.body), &listed))
	if len(listed) != 20 {
		t.Fatalf("listed %d lessons", len(listed))
	}
}

func TestLatencyHonoursCancellation(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	tk := e.login("a1@ecole-a.fr", "pw-a1").AccessToken

	e.setFaults(sandbox.Faults{LatencyMS: 150})
	start := time.Now()
	if r := e.call(tk, "GET", moi, nil); r.status != 200 || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("latency not applied: %d after %s", r.status, time.Since(start))
	}

	e.setFaults(sandbox.Faults{LatencyMS: 60_000})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+moi, nil)
	req.Header.Set("Authorization", "Bearer "+tk)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("a 60 s latency must outlast a 100 ms client timeout")
	}
	// httptest.Server.Close waits for running handlers: a sleep that ignored the
	// cancellation would hold it for a minute.
	start = time.Now()
	e.ts.Close()
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("the latency sleep outlived its caller by %s", waited)
	}
}

func TestFaultsReplaceAndDefaults(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	ctx := context.Background()
	get := func() sandbox.Faults {
		f, err := e.ctl.Faults(ctx)
		must(t, err)
		return f
	}
	f := get()
	if f.AccessTTLS != 300 || f.RefreshTTLS != 1800 || f.RateLimitPerMin == nil || *f.RateLimitPerMin != 210 || f.LatencyMS != 0 {
		t.Fatalf("defaults = %+v", f)
	}
	e.setFaults(sandbox.Faults{LatencyMS: 5, RateLimitPerMin: sandbox.Int(0), AccessTTLS: 2})
	if f := get(); f.LatencyMS != 5 || *f.RateLimitPerMin != 0 || f.AccessTTLS != 2 || f.RefreshTTLS != 1800 {
		t.Fatalf("after PUT = %+v", f)
	}
	// A PUT replaces the whole set: what it omits goes back to its default.
	e.setFaults(sandbox.Faults{Rate429: 0.1})
	if f := get(); f.LatencyMS != 0 || *f.RateLimitPerMin != 210 || f.AccessTTLS != 300 || f.Rate429 != 0.1 {
		t.Fatalf("after a second PUT = %+v", f)
	}
	for _, body := range []string{`{"error_5xx_rate":2}`, `{"latency_ms":-1}`, `{"rate_limit_per_min":-3}`, `{"outage_until":"demain"}`, `{"latence":5}`, `{"latency_ms":"5"}`} {
		req, _ := http.NewRequest("PUT", e.ts.URL+"/sandbox/faults", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		if b := readAll(t, resp); resp.StatusCode != 400 || !strings.Contains(b, "REQUETE_INVALIDE") {
			t.Errorf("%s: %d %s", body, resp.StatusCode, b)
		}
	}
	req, _ := http.NewRequest("PUT", e.ts.URL+"/sandbox/faults", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	readAll(t, resp)
	if f := get(); f.Rate429 != 0 || *f.RateLimitPerMin != 210 {
		t.Fatalf("{} must clear: %+v", f)
	}
}
