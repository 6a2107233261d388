package mailpit_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"livret/mailer/mailpit"
)

// One mailpit everywhere: the version the code names is the one CI installs and the one
// compose runs in staging.
func TestVersionPinnedEverywhere(t *testing.T) {
	root := filepath.Join("..", "..")
	for file, want := range map[string]string{
		".ci/run":            "MAILPIT_VERSION=" + mailpit.Version + "\n",
		"docker-compose.yml": "image: axllent/mailpit:" + mailpit.Version + "\n",
	} {
		b, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not pin %q", file, strings.TrimSpace(want))
		}
	}
}
