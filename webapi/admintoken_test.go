package webapi_test

import (
	"strings"
	"testing"

	"livret/webapi"
)

// TestAdminTokenStrength: the probe of issue 18 found an operator token of any length
// accepted. A short one, or one character repeated, is now refused at startup with an
// English error naming the variable; a random 32-character one passes.
func TestAdminTokenStrength(t *testing.T) {
	for _, bad := range []string{"", "x", "bench-admin", strings.Repeat("a", 31), strings.Repeat("a", 64), strings.Repeat("é", 40)} {
		err := webapi.CheckAdminToken(bad)
		if err == nil || !strings.Contains(err.Error(), "LIVRET_ADMIN_TOKEN") {
			t.Errorf("CheckAdminToken(%q) = %v, want a refusal naming LIVRET_ADMIN_TOKEN", bad, err)
		}
	}
	for _, good := range []string{"Qk9X2vR7tLmN4pZs8wYc1bHdFgJeKaUo", "operator-token-for-the-webapi-tests"} {
		if err := webapi.CheckAdminToken(good); err != nil {
			t.Errorf("CheckAdminToken(%q): %v", good, err)
		}
	}
}
