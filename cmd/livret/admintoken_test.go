//go:build !nodev

package main

import (
	"context"
	"strings"
	"testing"
)

// TestWeakAdminTokenRefusedAtStartup: `livret webapi` and `livret dev` stop at once, before
// dialling anything, on an operator token that is short or one character repeated (issue
// 18's probe found one of any length accepted).
func TestWeakAdminTokenRefusedAtStartup(t *testing.T) {
	t.Setenv("LIVRET_TOKEN_KEY", "")
	t.Setenv("LIVRET_DATA_DIR", t.TempDir())
	for _, token := range []string{"admin", strings.Repeat("z", 40)} {
		t.Setenv("LIVRET_ADMIN_TOKEN", token)
		for name, run := range map[string]func(context.Context, []string) error{"webapi": runWebapi, "dev": runDev} {
			err := run(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), "LIVRET_ADMIN_TOKEN") {
				t.Errorf("livret %s with LIVRET_ADMIN_TOKEN=%q: %v, want a refusal naming it", name, token, err)
			}
		}
	}
}
