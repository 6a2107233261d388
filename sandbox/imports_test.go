package sandbox_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNothingOfLivret keeps the sandbox independent of Livret (docs/dsr.md,
// "Independence of the sandbox"): no package of this module but the sandbox's own may be in
// its build, nor in its tests' build. It asks the go command rather than reading import lines,
// so an import through a dependency is caught too.
func TestImportsNothingOfLivret(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		// go test puts its own toolchain first in PATH, so this means the test binary runs
		// on its own, away from any toolchain: nothing to ask.
		t.Skipf("no go command to list the imports with: %v", err)
	}
	self := goList(t, goCmd, "-f", "{{.ImportPath}}", ".")
	// One line per package of the main module in the build: its path, then the package it is
	// compiled for when it is a test variant ("livret/sandbox [livret/sandbox.test]").
	out := goList(t, goCmd, "-deps", "-test", "-f",
		"{{with .Module}}{{if .Main}}{{$.ImportPath}}\t{{$.ForTest}}{{end}}{{end}}", ".")
	seen := false
	for line := range strings.Lines(out) {
		path, forTest, _ := strings.Cut(strings.TrimSpace(line), "\t")
		switch {
		case path == "":
		case path == self:
			seen = true
		case forTest == self, path == self+".test", strings.HasPrefix(path, self+"/"):
		default:
			t.Errorf("the sandbox's build includes %s: the stand-in for the DSR must not share Livret's code", path)
		}
	}
	if !seen {
		t.Fatalf("go list did not list %s itself; the listing cannot be trusted:\n%s", self, out)
	}
}

func goList(t *testing.T, goCmd string, args ...string) string {
	t.Helper()
	cmd := exec.Command(goCmd, append([]string{"list"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}
