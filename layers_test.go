// The layout's arrows, checked: docs/architecture.md ("Layout") says which folder may import
// which, and this test holds the code to it, so an arrow pointing back fails CI instead of
// waiting for a reviewer.
package layers_test

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// imports lists the direct imports of a package (not its tests').
func imports(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestLayersImportOnlyDownward(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list imports")
	}
	cases := []struct {
		pkg string
		// allowed are the only packages of Livret's it may import directly.
		allowed []string
		// forbidden are other packages it must not import (html/template: pages belong to webui).
		forbidden []string
	}{
		{"livret/domain", nil, nil},
		{"livret/db", []string{"livret/db/dbq"}, nil},
		// html/template: only the digest e-mail's HTML (TestOnlyTheDigestWritesHTMLInSchool).
		{"livret/school", []string{"livret/db", "livret/db/dbq", "livret/domain"}, []string{"github.com/gin-gonic/gin", "net/http/httptest"}},
		{"livret/dsr", []string{"livret/domain"}, nil},
		{"livret/mailer", nil, nil},
		{"livret/mailer/mailpit", nil, nil},
		{"livret/mailer/mailtest", []string{"livret/mailer", "livret/mailer/mailpit"}, nil},
		{"livret/sandbox", nil, nil},
		{"livret/activities", []string{"livret/db", "livret/db/dbq", "livret/domain", "livret/dsr", "livret/mailer", "livret/school"}, nil},
		{"livret/workflows", []string{"livret/activities", "livret/domain"}, nil},
		{"livret/webapi", []string{"livret/db", "livret/db/dbq", "livret/domain", "livret/dsr", "livret/school"}, []string{"html/template", "net/http/httptest"}},
		{"livret/webui", []string{"livret/db", "livret/db/dbq", "livret/domain", "livret/school"}, []string{"net/http/httptest"}},
		// It runs the Temporal server and livret-temporal-setup as programs; it links neither.
		{"livret/prodstack", []string{"livret/db", "livret/sandbox", "livret/worker", "livret/workflows"},
			[]string{"go.temporal.io/server/temporal", "go.temporal.io/server/tools/sql"}},
		{"livret/cmd/livret-temporal-setup", []string{"livret/worker", "livret/workflows"}, nil},
	}
	for _, c := range cases {
		for _, imp := range imports(t, c.pkg) {
			ours := imp == "livret" || strings.HasPrefix(imp, "livret/")
			if ours && !slices.Contains(c.allowed, imp) {
				t.Errorf("%s imports %s: docs/architecture.md allows only %v", c.pkg, imp, c.allowed)
			}
			if slices.Contains(c.forbidden, imp) {
				t.Errorf("%s imports %s", c.pkg, imp)
			}
		}
	}
}

// TestOnlyTheDigestWritesHTMLInSchool: pages belong to webui; the one HTML of school/ is the
// daily digest's e-mail body (school/digest.go), composed with the digest it is part of.
func TestOnlyTheDigestWritesHTMLInSchool(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("school", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "html/template" && filepath.Base(f) != "digest.go" {
				t.Errorf("%s imports html/template: pages belong to webui", f)
			}
		}
	}
}
