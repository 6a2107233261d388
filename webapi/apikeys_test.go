package webapi_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"livret/db/dbq"
	livschool "livret/school"
)

// TestAPIKeys: a named key works at once and is shown once; the list never shows a key or its
// hash; a revoked key answers 401 at once; refusals name the field in French and write no
// audit row; creation and revocation are audited in the key's name.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.createSchool("Auto-école Lauriane", agrementA)
	// The key POST /v1/schools answered is the school's first named key.
	e.do("GET", "/v1/school", a.Key, nil).want(t, http.StatusOK)

	var created struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
		Key  string `json:"key"`
	}
	ans := e.do("POST", "/v1/api-keys", a.Key, map[string]any{"name": "  Logiciel de planning  "}).want(t, http.StatusCreated)
	ans.json(t, &created)
	if !strings.HasPrefix(created.Key, livschool.APIKeyPrefix) || created.Name != "Logiciel de planning" || created.ID == 0 {
		t.Fatalf("created %s", ans.body)
	}
	if ans.header.Get("Cache-Control") != "no-store" {
		t.Fatal("the new key's answer may be cached")
	}
	e.do("GET", "/v1/offices", created.Key, nil).want(t, http.StatusOK)

	list := e.do("GET", "/v1/api-keys", a.Key, nil).want(t, http.StatusOK)
	var keys []livschool.APIKey
	list.json(t, &keys)
	if len(keys) != 2 || keys[0].Name != livschool.FirstKeyName || keys[1].Name != "Logiciel de planning" || keys[1].LastUsed == nil {
		t.Fatalf("keys: %s", list.body)
	}
	for _, k := range []string{a.Key, created.Key} {
		if strings.Contains(string(list.body), k) || strings.Contains(string(list.body), hex.EncodeToString(livschool.APIKeyHash(k))) {
			t.Fatal("the list shows a key or its hash")
		}
	}

	audits := func() []dbq.AuditLog {
		rows, err := dbq.New(e.pool).AuditList(ctx, dbq.AuditListParams{SchoolID: a.ID, Lim: 100})
		must(t, err)
		return rows
	}
	// Refusals: French, naming the field, nothing written.
	for _, c := range []struct {
		body   any
		status int
		msg    string
	}{
		{map[string]any{"name": "   "}, http.StatusUnprocessableEntity, "Champ obligatoire."},
		{map[string]any{"name": strings.Repeat("é", 101)}, http.StatusUnprocessableEntity, "100 caractères au plus."},
		{map[string]any{"name": "Logiciel de planning"}, http.StatusConflict, "Ce nom est déjà celui d'une clé active de l'auto-école."},
	} {
		p := e.do("POST", "/v1/api-keys", a.Key, c.body).wantProblem(t, c.status)
		if p.message("name") != c.msg {
			t.Fatalf("%v: %+v", c.body, p)
		}
	}
	e.do("POST", "/v1/api-keys", a.Key, map[string]any{"nom": "x"}).wantProblem(t, http.StatusBadRequest)
	if rows := audits(); len(rows) != 1 || rows[0].Action != "api_key.create" || rows[0].Object != "Logiciel de planning" ||
		rows[0].ActorKind != "api_key" || rows[0].ActorLabel != livschool.FirstKeyName || rows[0].ApiKeyID == nil || *rows[0].ApiKeyID != keys[0].ID {
		t.Fatalf("audit after one creation and refusals: %+v", rows)
	}

	// Revoked: 401 at once; a second revocation, another id: 404.
	e.do("DELETE", fmt.Sprintf("/v1/api-keys/%d", created.ID), a.Key, nil).want(t, http.StatusNoContent)
	e.do("GET", "/v1/offices", created.Key, nil).wantProblem(t, http.StatusUnauthorized)
	e.do("DELETE", fmt.Sprintf("/v1/api-keys/%d", created.ID), a.Key, nil).wantProblem(t, http.StatusNotFound)
	e.do("DELETE", "/v1/api-keys/999999", a.Key, nil).wantProblem(t, http.StatusNotFound)
	e.do("DELETE", "/v1/api-keys/abc", a.Key, nil).wantProblem(t, http.StatusNotFound)
	b := e.createSchool("Auto-école B", agrementB)
	e.do("DELETE", fmt.Sprintf("/v1/api-keys/%d", keys[0].ID), b.Key, nil).wantProblem(t, http.StatusNotFound)
	e.do("GET", "/v1/school", a.Key, nil).want(t, http.StatusOK)
	if rows := audits(); len(rows) != 2 || rows[0].Action != "api_key.revoke" || rows[0].Object != "Logiciel de planning" {
		t.Fatalf("audit after the revocation: %+v", rows)
	}
	// The revoked name may be given to the replacement.
	e.do("POST", "/v1/api-keys", a.Key, map[string]any{"name": "Logiciel de planning"}).want(t, http.StatusCreated)
}

// TestAPIKeyLastUse: the door records a key's use, at most once a minute (on an injected
// clock: no timing).
func TestAPIKeyLastUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.createSchool("Auto-école Lauriane", agrementA)
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	svc := &livschool.Service{Pool: e.pool, Now: func() time.Time { return now }}
	lastUsed := func() time.Time {
		t.Helper()
		keys, err := dbq.New(e.pool).ApiKeyList(ctx, a.ID)
		must(t, err)
		if keys[0].LastUsedAt == nil {
			t.Fatal("no last use recorded")
		}
		return keys[0].LastUsedAt.UTC()
	}
	use := func() {
		t.Helper()
		sc, actor, err := svc.AuthenticateKey(ctx, a.Key)
		must(t, err)
		if sc.ID != a.ID || actor.Kind != livschool.ActorAPIKey || actor.Label != livschool.FirstKeyName || actor.APIKeyID == 0 {
			t.Fatalf("school %d, actor %+v", sc.ID, actor)
		}
	}
	use()
	first := now
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("last use %v, want %v", got, first)
	}
	now = now.Add(59 * time.Second)
	use()
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("last use written again within the minute: %v", got)
	}
	now = now.Add(2 * time.Second)
	use()
	if got := lastUsed(); !got.Equal(now) {
		t.Fatalf("last use %v, want %v", got, now)
	}
	if _, _, err := svc.AuthenticateKey(ctx, "lvk_inconnue"); err == nil {
		t.Fatal("an unknown key authenticated")
	}
}

// TestUIKeysPage: the keys page lists, creates (showing the new key once, with its warning)
// and revokes after a confirmation; the revoked key answers 401.
func TestUIKeysPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	ui := e.uiAgent(t)
	ui.signIn(a.Key)
	ui.get("/ui/cles").want(t, http.StatusOK).has(t, "Clés d'API", livschool.FirstKeyName, "Créer la clé")
	page := ui.post("/ui/cles", url.Values{"name": {"Logiciel de planning"}}, true).want(t, http.StatusCreated)
	page.has(t, "Copiez cette clé maintenant : elle ne sera plus affichée.", "Logiciel de planning")
	m := regexp.MustCompile(`<code id="nouvelle-cle">(lvk_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no key shown:\n%s", page.body)
	}
	key := m[1]
	e.do("GET", "/v1/offices", key, nil).want(t, http.StatusOK)
	list := ui.get("/ui/cles").want(t, http.StatusOK)
	list.hasNot(t, key, "Copiez cette clé")
	ui.post("/ui/cles", url.Values{"name": {"Logiciel de planning"}}, true).want(t, http.StatusConflict).has(t, "Nom de la clé")
	ui.post("/ui/cles", url.Values{"name": {"x"}}, false).want(t, http.StatusForbidden)

	keys, err := dbq.New(e.pool).ApiKeyList(context.Background(), a.ID)
	must(t, err)
	id := fmt.Sprint(keys[1].ID)
	ui.post("/ui/cles/"+id+"/revoquer", nil, true).want(t, http.StatusOK).has(t, "Confirmer la révocation")
	e.do("GET", "/v1/offices", key, nil).want(t, http.StatusOK) // not before the confirmation
	ui.post("/ui/cles/"+id+"/revoquer", url.Values{"confirm": {"1"}}, true).redirect(t, "/ui/cles?msg=cle-revoquee")
	e.do("GET", "/v1/offices", key, nil).wantProblem(t, http.StatusUnauthorized)
	ui.get("/ui/cles").want(t, http.StatusOK).has(t, "Révoquée le")
	ui.post("/ui/cles/"+id+"/revoquer", url.Values{"confirm": {"1"}}, true).want(t, http.StatusNotFound)
}
