package sandbox_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"livret/sandbox"
)

func TestLedgerCountsAndReset(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	tk := e.tokens()
	id := e.contract(tk.a1)                                                 // call 1 (a1)
	e.call(tk.a1, "POST", lessonPath(id), lessonBody(9))                    // 2 (a1)
	e.call(tk.a2, "POST", lessonPath(id), lessonBody(9))                    // 3 (a2): duplicate
	e.call(tk.a1, "POST", lessonPath(id), lessonBody(9))                    // 4 (a1): duplicate
	e.call("bogus", "GET", moi, nil)                                        // 5: no account
	e.call(tk.b, "GET", lessonPath(id)+"?du=2024-06-01&au=2024-06-30", nil) // 6 (b): refused

	l := e.ledger()
	if l.Calls != 6 || l.DuplicatesRefused != 2 || l.RateLimited != 0 || len(l.Contracts) != 1 || len(l.Lessons) != 1 {
		t.Fatalf("ledger = calls %d, duplicates %d, 429s %d, %d contracts, %d lessons", l.Calls, l.DuplicatesRefused, l.RateLimited, len(l.Contracts), len(l.Lessons))
	}
	c, ls := l.Contracts[0], l.Lessons[0]
	if c.IDContrat != id || c.NEPH != nephDupont || c.Agrement != agrementA {
		t.Fatalf("contract = %+v", c)
	}
	if ls.IDContrat != id || ls.Type != "CONDUITE" || ls.NumeroAutorisationFormateur != "A1234567890" ||
		!ls.RecuLe.Equal(sandboxNow) || ls.Debut.Format("2006-01-02T15:04:05-07:00") != "2024-06-10T09:00:00+02:00" || ls.Fin.Sub(ls.Debut).Hours() != 1 {
		t.Fatalf("lesson = %+v", ls)
	}
	calls := map[string]int{}
	for _, a := range l.Accounts {
		calls[a.Email] = a.Calls
		if a.MaxCallsIn60s != a.Calls { // all calls at the same sandbox instant, no limit hit
			t.Errorf("%s: max_calls_in_60s %d, calls %d", a.Email, a.MaxCallsIn60s, a.Calls)
		}
	}
	if calls["a1@ecole-a.fr"] != 3 || calls["a2@ecole-a.fr"] != 1 || calls["b@ecole-b.fr"] != 1 {
		t.Fatalf("per-account calls = %v", calls)
	}
	if ls.CompteID == "" || ls.CompteID != l.Contracts[0].CompteID {
		t.Fatalf("lesson compte_id %q, contract's %q", ls.CompteID, l.Contracts[0].CompteID)
	}

	// calls_since: the per-account call figures count only the calls accepted since then.
	ctx := context.Background()
	since, err := e.ctl.LedgerSince(ctx, sandboxNow)
	must(t, err)
	later, err := e.ctl.LedgerSince(ctx, sandboxNow.Add(time.Nanosecond))
	must(t, err)
	for i, a := range since.Accounts {
		b := later.Accounts[i]
		if a.AcceptedCalls != calls[a.Email] || a.FirstCallAt == nil || b.AcceptedCalls != 0 || b.FirstCallAt != nil || b.MaxCallsIn60s != 0 || b.Calls != a.Calls {
			t.Errorf("%s: since the calls %d accepted (first %v), since after them %d (first %v, busiest 60 s %d)", a.Email, a.AcceptedCalls, a.FirstCallAt, b.AcceptedCalls, b.FirstCallAt, b.MaxCallsIn60s)
		}
	}
	if len(later.Lessons) != 1 {
		t.Errorf("calls_since must not filter the lessons: %d", len(later.Lessons))
	}
	resp, err := http.Get(e.ts.URL + "/sandbox/ledger?calls_since=yesterday")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("calls_since=yesterday: %d, want 400", resp.StatusCode)
	}

	e.setFaults(sandbox.Faults{LatencyMS: 1})
	must(t, e.ctl.Reset(context.Background()))
	l = e.ledger()
	if l.Calls != 0 || len(l.Contracts)+len(l.Lessons)+len(l.Accounts) != 0 || l.DuplicatesRefused != 0 || l.Refreshes != 0 {
		t.Fatalf("after reset: %+v", l)
	}
	if f, _ := e.ctl.Faults(context.Background()); f.LatencyMS != 0 {
		t.Fatal("reset must clear the faults")
	}
	if r := e.call(tk.a1, "GET", moi, nil); r.status != 401 {
		t.Fatalf("a token survived the reset: %d", r.status)
	}
}

func TestConcurrentLessonPosts(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	e.setFaults(sandbox.Faults{RateLimitPerMin: sandbox.Int(0)})
	tk := e.tokens()
	id := e.contract(tk.a1)

	// 100 distinct slots, each posted twice at once by two accounts of the school.
	const slots = 100
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	for i := range 2 * slots {
		wg.Go(func() {
			token := tk.a1
			if i%2 == 1 {
				token = tk.a2
			}
			slot := i / 2
			r := e.call(token, "POST", lessonPath(id), lessonAt(1+slot/10, 8+slot%10))
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		})
		if i%50 == 0 {
			wg.Go(func() { e.ledger() }) // readers race with writers
		}
	}
	wg.Wait()
	l := e.ledger()
	if statuses[201] != slots || statuses[409] != slots || len(l.Lessons) != slots || l.DuplicatesRefused != slots {
		t.Fatalf("statuses %v, %d stored, %d duplicates refused; want %d of each", statuses, len(l.Lessons), l.DuplicatesRefused, slots)
	}
	seen := map[string]bool{}
	for _, ls := range l.Lessons {
		if seen[ls.IDLecon] {
			t.Fatalf("lesson id %s given twice", ls.IDLecon)
		}
		seen[ls.IDLecon] = true
	}
}

func TestSeedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.json")
	must(t, os.WriteFile(path, []byte(`{
	  "clients": [{"client_id": "livret", "client_secret": "s3cret", "redirect_uris": ["http://127.0.0.1:9/callback"]}],
	  "accounts": [{"email": "a1@ecole-a.fr", "password": "pw-a1", "agrement": "E0203100010", "school_name": "Auto-école A"},
	               {"email": "c@ecole-c.fr", "password": "pw-c", "agrement": "E0203100030"}],
	  "students": [{"nom": "Dupont-Lefèvre", "prenom": "Léa", "neph": "123456789012", "categories": ["B"]}],
	  "schools": [{"agrement": "E0203100030", "statut": "fermee"}]
	}`), 0o600))
	seed, err := sandbox.ReadSeedFile(path)
	must(t, err)
	e := newEnv(t, sandbox.Options{Seed: seed})
	e.contract(e.login("a1@ecole-a.fr", "pw-a1").AccessToken)
	r := e.call(e.login("c@ecole-c.fr", "pw-c").AccessToken, "GET", moi, nil)
	if !strings.Contains(r.body, `"statut":"fermee"`) {
		t.Fatalf("seeded school status: %s", r.body)
	}

	must(t, os.WriteFile(path, []byte(`{"clients": [], "acounts": []}`), 0o600))
	if _, err := sandbox.ReadSeedFile(path); err == nil {
		t.Fatal("a seed with a misspelt field must be refused")
	}
	if _, err := sandbox.Open(sandbox.Options{Seed: &sandbox.Seed{Students: []sandbox.Student{{Nom: "X", NEPH: "12"}}}}); err == nil {
		t.Fatal("a seed with an invalid NEPH must be refused")
	}
}

func TestStateFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	clk := newClock(sandboxNow)
	opts := sandbox.Options{Now: clk.Now, StateFile: path, Logger: quietLogger()}
	first := newEnv(t, opts)
	first.populate()
	tok := first.login("a1@ecole-a.fr", "pw-a1")
	id := first.contract(tok.AccessToken)
	first.call(tok.AccessToken, "POST", lessonPath(id), lessonBody(9))
	first.setFaults(sandbox.Faults{LatencyMS: 3})
	before := first.ledger()
	must(t, first.srv.Close())

	data, err := os.ReadFile(path)
	must(t, err)
	if strings.Contains(string(data), tok.AccessToken) || strings.Contains(string(data), tok.RefreshToken) {
		t.Fatal("the state file holds a usable token")
	}

	// Same seed applied again: idempotent, no second account.
	seed := &sandbox.Seed{Accounts: []sandbox.Account{{Email: "a1@ecole-a.fr", Password: "pw-a1", Agrement: agrementA}}}
	second := newEnv(t, sandbox.Options{Now: clk.Now, StateFile: path, Logger: quietLogger(), Seed: seed})
	after := second.ledger()
	if len(after.Contracts) != 1 || after.Contracts[0] != before.Contracts[0] || len(after.Lessons) != 1 ||
		after.Lessons[0].IDLecon != before.Lessons[0].IDLecon || !after.Lessons[0].Debut.Equal(before.Lessons[0].Debut) ||
		after.Calls != before.Calls || len(after.Accounts) != 3 {
		t.Fatalf("state lost across a restart:\nbefore %+v\nafter  %+v", before, after)
	}
	if f, _ := second.ctl.Faults(context.Background()); f.LatencyMS != 3 {
		t.Fatalf("faults lost: %+v", f)
	}
	// Tokens survive: a linked account keeps working across a sandbox restart.
	if r := second.call(tok.AccessToken, "POST", lessonPath(id), lessonBody(9)); r.status != 409 {
		t.Fatalf("old token on the restored state: %d %s", r.status, r.body)
	}
	if _, err := second.oauth().TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("refresh token lost across a restart: %v", err)
	}

	must(t, os.WriteFile(path, []byte("{not json"), 0o600))
	if _, err := sandbox.Open(sandbox.Options{StateFile: path}); err == nil {
		t.Fatal("a corrupt state file must stop the start, not be overwritten")
	}
}

func TestControlsAreGuarded(t *testing.T) {
	srv := sandbox.New(sandbox.Options{Logger: quietLogger()})
	ledger := func(remote, auth string) int {
		req := httptest.NewRequest("GET", "/sandbox/ledger", nil)
		req.RemoteAddr = remote
		req.Host = "localhost:8090" // httptest's example.com is not a control host
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	if got := ledger("127.0.0.1:5000", ""); got != 200 {
		t.Errorf("loopback: %d", got)
	}
	if got := ledger("[::1]:5000", ""); got != 200 {
		t.Errorf("IPv6 loopback: %d", got)
	}
	if got := ledger("203.0.113.7:5000", ""); got != 403 {
		t.Errorf("remote without a token configured: %d, want 403", got)
	}

	srv = sandbox.New(sandbox.Options{Logger: quietLogger(), ControlToken: "ctl-token"})
	if got := ledger("127.0.0.1:5000", ""); got != 401 {
		t.Errorf("token configured, none sent: %d, want 401", got)
	}
	if got := ledger("203.0.113.7:5000", "Bearer wrong"); got != 401 {
		t.Errorf("wrong token: %d, want 401", got)
	}
	if got := ledger("203.0.113.7:5000", "Bearer ctl-token"); got != 200 {
		t.Errorf("right token from afar: %d, want 200", got)
	}

	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	err := sandbox.NewControl(ts.URL, "").Reset(context.Background())
	var ce *sandbox.ControlError
	if !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized {
		t.Fatalf("Control without its token: %v", err)
	}
	must(t, sandbox.NewControl(ts.URL, "ctl-token").Reset(context.Background()))
}

func TestControlValidation(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	ctx := context.Background()
	bad := []error{
		e.ctl.AddClient(ctx, sandbox.Client{ClientID: "x", ClientSecret: "y", RedirectURIs: []string{"/relative"}}),
		e.ctl.AddStudent(ctx, sandbox.Student{Nom: "X", NEPH: "123", Categories: []string{"B"}}),
		e.ctl.AddStudent(ctx, sandbox.Student{Nom: "X", NEPH: "123456789012"}),
		e.ctl.SetSchoolStatus(ctx, agrementA, "ouvert"),
		e.ctl.SetSchoolStatus(ctx, "E12", "fermee"),
	}
	_, err := e.ctl.AddAccount(ctx, sandbox.Account{Email: "x@y.fr", Password: "p", Agrement: "12"})
	bad = append(bad, err)
	for i, err := range bad {
		var ce *sandbox.ControlError
		if !errors.As(err, &ce) || ce.Status != 400 || ce.Code != "REQUETE_INVALIDE" || ce.Message == "" {
			t.Errorf("case %d: %v, want a 400 REQUETE_INVALIDE", i, err)
		}
	}
	info, err := e.ctl.AddAccount(ctx, sandbox.Account{Email: "x@y.fr", Password: "p", Agrement: "E 02 031 000 10", SchoolName: "X"})
	must(t, err)
	if info.CompteID == "" || info.Agrement != agrementA || info.SchoolName != "X" {
		t.Fatalf("account = %+v", info)
	}
	_, err = e.ctl.AddAccount(ctx, sandbox.Account{Email: "X@y.fr", Password: "q", Agrement: agrementA})
	var ce *sandbox.ControlError
	if !errors.As(err, &ce) || ce.Status != http.StatusConflict {
		t.Fatalf("same e-mail twice: %v, want 409", err)
	}
}

// TestControlsRefuseCrossSite replays the probe of issue 18: a page elsewhere, open in the
// tester's browser, reset a loopback sandbox with a text/plain POST (no preflight), and a
// rebound foreign name reached it with a foreign Host. Each of those is refused and leaves
// the state alone; the typed Control still works.
func TestControlsRefuseCrossSite(t *testing.T) {
	srv := sandbox.New(sandbox.Options{Logger: quietLogger(), ControlHosts: []string{"Sandbox"}})
	ctx := context.Background()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	ctl := sandbox.NewControl(ts.URL, "")
	_, err := ctl.AddAccount(ctx, sandbox.Account{Email: "temoin@example.fr", Password: "p", Agrement: agrementA})
	must(t, err)
	reset := func(host, origin, contentType string) int {
		req := httptest.NewRequest("POST", "/sandbox/reset", strings.NewReader(`{}`))
		req.RemoteAddr = "127.0.0.1:5000"
		req.Host = host
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	refused := []struct {
		name, host, origin, contentType string
		want                            int
	}{
		{"the probe's text/plain POST", "evil.example:8090", "https://evil.example", "text/plain", 403},
		{"text/plain from loopback", "127.0.0.1:8090", "", "text/plain", 415},
		{"a form", "localhost:8090", "", "application/x-www-form-urlencoded", 415},
		{"no content type", "[::1]:8090", "", "", 415},
		{"foreign Host, JSON", "rebound.example:8090", "", "application/json", 403},
		{"foreign Origin, loopback Host", "127.0.0.1:8090", "https://evil.example", "application/json", 403},
		{"opaque Origin", "127.0.0.1:8090", "null", "application/json", 403},
	}
	for _, c := range refused {
		if got := reset(c.host, c.origin, c.contentType); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if l, err := ctl.Ledger(ctx); err != nil || len(l.Accounts) != 1 {
		t.Fatalf("a refused reset changed the state: %+v, %v", l, err)
	}
	// Loopback names with any port, a configured host, a same-host Origin: answered.
	for _, c := range [][2]string{{"127.0.0.1:1", ""}, {"localhost", "http://localhost:8090"}, {"[::1]:8090", ""}, {"sandbox:8090", "http://sandbox:8090"}} {
		if got := reset(c[0], c[1], "application/json; charset=utf-8"); got != http.StatusNoContent {
			t.Errorf("Host %s Origin %q: %d, want 204", c[0], c[1], got)
		}
	}
	must(t, ctl.Reset(ctx))

	if err := sandbox.CheckExposure("0.0.0.0:8090", ""); err == nil {
		t.Error("listening on every interface without a control token must be refused")
	}
	for _, ok := range [][2]string{{"127.0.0.1:8090", ""}, {"[::1]:0", ""}, {"localhost:8090", ""}, {"0.0.0.0:8090", "ctl-token"}} {
		if err := sandbox.CheckExposure(ok[0], ok[1]); err != nil {
			t.Errorf("CheckExposure(%s): %v", ok[0], err)
		}
	}
}
