// Package deploy holds what operators run next to Livret (Prometheus's scrape configuration
// and alert rules, Grafana's dashboard); its tests check those files against the code, so
// that a renamed metric or a broken rule fails CI instead of a silent alert.
package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"livret/activities"
	"livret/db"
)

// livretMetrics are the metric names Livret's processes export, read off collectors built
// with the real constructors: the worker's domain counters and the web API's state gauges.
func livretMetrics(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	activities.NewMetrics(reg)
	reg.MustRegister(&db.StateCollector{})
	names := map[string]bool{}
	ch := make(chan *prometheus.Desc, 64)
	go func() { reg.Describe(ch); close(ch) }()
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		m := fq.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read a name from %s", d)
		}
		names[m[1]] = true
	}
	return names
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert string `yaml:"alert"`
			Expr  string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var livretName = regexp.MustCompile(`\blivret_[a-z0-9_]+`)

// Every livret_* name an alert reads is one the code exports: otherwise the alert can never
// fire, and nothing else would say so.
func TestAlertRulesReadMetricsLivretExports(t *testing.T) {
	exported := livretMetrics(t)
	raw, err := os.ReadFile(filepath.Join("prometheus", "rules", "livret.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(raw, &rf); err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			used := livretName.FindAllString(r.Expr, -1)
			if len(used) == 0 {
				t.Errorf("alert %s reads no Livret metric: %s", r.Alert, r.Expr)
			}
			for _, name := range used {
				if !exported[name] {
					t.Errorf("alert %s reads %s, which Livret does not export (exported: %v)", r.Alert, name, keys(exported))
				}
			}
		}
	}
	// The list: failed runs, accounts to reconnect, refusals by code, webhooks
	// failing, DSR 429s.
	for _, want := range []string{"LivretRunsFailed", "LivretAccountsNeedReconnect", "LivretRefusalsHigh", "LivretWebhooksFailing", "LivretDSRRateLimited"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s in livret.rules.yml", want)
		}
	}
}

// Every metric the dashboard plots is one the code exports (livret_*) or one the Temporal SDK
// at go.mod's version names in its constants (temporal_*): a panel on a renamed metric would
// stay empty without a word.
func TestDashboardPlotsExportedMetrics(t *testing.T) {
	exported := livretMetrics(t)
	raw, err := os.ReadFile(filepath.Join("grafana", "dashboards", "livret.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	sdkDir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/sdk").Output()
	if err != nil {
		t.Fatalf("go list the SDK module: %v", err)
	}
	constants, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(sdkDir)), "internal", "common", "metrics", "constants.go"))
	if err != nil {
		t.Fatal(err)
	}
	sdkName := regexp.MustCompile(`\btemporal_[a-z0-9_]+`)
	var sdkPlotted int
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q plots nothing", p.Title)
		}
		for _, tg := range p.Targets {
			for _, name := range livretName.FindAllString(tg.Expr, -1) {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
				if !exported[base] {
					t.Errorf("panel %q plots %s, which Livret does not export", p.Title, name)
				}
			}
			for _, name := range sdkName.FindAllString(tg.Expr, -1) {
				sdkPlotted++
				if !strings.Contains(string(constants), `"`+strings.TrimPrefix(name, "temporal_")+`"`) {
					t.Errorf("panel %q plots %s, which the SDK does not emit", p.Title, name)
				}
			}
		}
	}
	if sdkPlotted == 0 {
		t.Error("the dashboard plots none of the SDK's metrics")
	}
}

// promtool checks the configuration and the rules, and runs the rules' unit tests (each
// alert fires on what should fire it, not on what should not). Debian's prometheus package
// ships it.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian package prometheus): the rules are not checked")
	}
	for _, args := range [][]string{
		{"check", "config", "prometheus.yml"},
		{"check", "rules", "rules/livret.rules.yml"},
		{"test", "rules", "rules/livret.rules.test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func keys(m map[string]bool) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}
