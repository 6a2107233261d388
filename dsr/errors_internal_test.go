package dsr

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"livret/domain"
)

// TestClassify is the retry table's source: every answer the DSR can give and its kind.
func TestClassify(t *testing.T) {
	cases := []struct {
		status int
		code   string
		want   Kind
	}{
		// The nine refusals, with their catalogue statuses, and the unknown contract.
		{409, "CONTRAT_DEJA_CONNU", KindBusiness},
		{403, "AUTO_ECOLE_FERMEE", KindBusiness},
		{404, "ELEVE_INTROUVABLE", KindBusiness},
		{422, "CATEGORIE_SANS_DEMANDE", KindBusiness},
		{422, "LECON_FUTURE", KindBusiness},
		{422, "DUREE_INVALIDE", KindBusiness},
		{403, "CONTRAT_NON_AUTORISE", KindBusiness},
		{409, "LECON_EN_DOUBLON", KindBusiness},
		{422, "FORMAT_AUTORISATION_INVALIDE", KindBusiness},
		{404, "CONTRAT_INTROUVABLE", KindBusiness},
		// Tokens.
		{401, "TOKEN_INVALIDE", KindReconnect},
		{401, "", KindReconnect},
		{400, "invalid_grant", KindReconnect},
		{401, "invalid_client", KindInvalidRequest},
		{400, "invalid_request", KindInvalidRequest},
		{400, "unsupported_grant_type", KindInvalidRequest},
		// Rate limit.
		{429, "TROP_DE_REQUETES", KindRateLimited},
		{429, "", KindRateLimited},
		// Faults on the way.
		{500, "", KindTransient},
		{502, "", KindTransient},
		{503, "", KindTransient},
		{504, "", KindTransient},
		{408, "", KindTransient},
		{503, "LECON_EN_DOUBLON", KindTransient}, // a 5xx is a fault whatever its body says
		{302, "", KindTransient},
		// Our own mistakes.
		{400, "REQUETE_INVALIDE", KindInvalidRequest},
		{400, "", KindInvalidRequest},
		{404, "", KindInvalidRequest},
		{405, "", KindInvalidRequest},
		{413, "", KindInvalidRequest},
		{422, "UN_CODE_INCONNU", KindInvalidRequest},
	}
	for _, tc := range cases {
		if got := classify(tc.status, tc.code); got != tc.want {
			t.Errorf("classify(%d, %q) = %s, want %s", tc.status, tc.code, got, tc.want)
		}
	}
	for _, code := range domain.DSRCodes() {
		e, _ := domain.Lookup(code)
		if classify(e.HTTPStatus, string(code)) != KindBusiness {
			t.Errorf("%s is not classified as a business refusal", code)
		}
	}
}

func TestRetryable(t *testing.T) {
	for k, want := range map[Kind]bool{KindTransient: true, KindRateLimited: true, KindReconnect: false, KindBusiness: false, KindInvalidRequest: false} {
		if (&Error{Kind: k}).Retryable() != want {
			t.Errorf("%s.Retryable() != %v", k, want)
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Sat, 15 Jun 2024 12:00:30 GMT": 30 * time.Second,
		"Sat, 15 Jun 2024 11:00:00 GMT": 0,
	} {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := retryAfter(h, now); got != want {
			t.Errorf("Retry-After %q = %s, want %s", v, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	got := redact("a SECRET b SECRET", "SECRET", "")
	if strings.Contains(got, "SECRET") {
		t.Fatalf("redact = %q", got)
	}
	long := strings.Repeat("é", 400)
	if got := redact(long); len(got) > 310 || !strings.HasSuffix(got, "…") {
		t.Fatalf("long text not bounded: %d bytes", len(got))
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Kind: KindBusiness, Code: domain.CodeLeconEnDoublon, HTTPStatus: 409, Op: "declare lesson", Message: domain.CodeLeconEnDoublon.Message()}
	want := "dsr declare lesson: business (HTTP 409 LECON_EN_DOUBLON): Cet élève a déjà une leçon renseignée à cette date et à cette heure"
	if e.Error() != want {
		t.Fatalf("Error() = %q", e.Error())
	}
	if got := (&Error{Kind: KindTransient, Op: "me", Message: "La DSR est injoignable."}).Error(); got != "dsr me: transient: La DSR est injoignable." {
		t.Fatalf("Error() = %q", got)
	}
}
