package drills

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"livret/db/dbtest"
	"livret/livretclient"
	"livret/sandbox"
	"livret/worker/workertest"
)

// TestSecretsAfterARun: a whole run with short-lived access tokens (so the workers refresh
// them, again and again) and a webhook subscription the workers sign deliveries for, then
// the HTTP API read through a `livret webapi` process. Not one token the DSR issued, nor the
// school's API key, the operator's token, the OAuth client secret, the token encryption key
// or the webhook secret (shown once, in the answer that created it), may then be found in clear (or hex, or base64) in any
// table, any workflow history, any log line of the worker and API processes, or any answer.
func TestSecretsAfterARun(t *testing.T) {
	var mu sync.Mutex
	var tokens []string
	d := &drill{name: "secrets"}
	d.start(t, workertest.Options{TokensIssued: func(access, refresh string) {
		mu.Lock()
		defer mu.Unlock()
		tokens = append(tokens, access, refresh)
	}})
	ctx := context.Background()
	d.s.Must(d.s.Sandbox.SetFaults(ctx, sandbox.Faults{AccessTTLS: 4, LatencyMS: 40, RateLimitPerMin: sandbox.Int(0)}), "faults")
	d.seed(t, 300)
	api, apiLog := startWebapi(t, d)
	// The management software subscribes: its webhook secret is in that one answer, and the
	// workers open it to sign every delivery.
	rx := workertest.NewReceiver(t)
	key := workertest.SchoolAPIKey(d.schools[0].Agrement)
	school := api.WithToken(key)
	hook, _, err := school.PutWebhook(ctx, "logiciel", livretclient.WebhookInput{URL: rx.URL, Events: []string{"lesson.transmitted", "run.completed"}})
	if err != nil || !strings.HasPrefix(hook.Secret, "whsec_") {
		t.Fatalf("subscribe: %v", err)
	}
	d.launch(t, 2)
	d.wait(t, 5*time.Minute)
	got := rx.WaitFor(t, 2*time.Minute, "deliveries", func(all []workertest.Received) bool { return len(all) >= 10 })
	if err := workertest.VerifySignature(hook.Secret, got[0]); err != nil {
		t.Fatal(err)
	}
	if r := d.check(t); r.failed() != "" {
		t.Fatalf("the run itself failed: %+v", r)
	}
	if refreshes := d.s.Ledger().Refreshes; refreshes < 3 {
		t.Fatalf("%d refreshes: the workers must have handled several token pairs", refreshes)
	}

	// The API, as a school's software and admin read it.
	var answers []string
	for _, req := range []struct{ method, path string }{
		{"GET", "/v1/offices"}, {"GET", "/v1/lessons?per_page=100"}, {"GET", "/v1/lessons?status=transmitted&per_page=100"},
		{"GET", "/v1/offices/B0/runs"}, {"POST", "/v1/offices/B1/runs"}, {"GET", "/v1/offices/B2/dsr/connect?confirm=1"},
		{"POST", "/v1/offices/B3/dsr/disconnect"}, {"GET", "/v1/students/S0/lessons"}, {"GET", "/v1/students?q=eleve"}, {"GET", "/readyz"}, {"GET", "/metrics"},
		{"GET", "/v1/webhooks"}, {"GET", "/v1/webhooks/logiciel/deliveries"},
	} {
		answers = append(answers, call(t, school, req.method, req.path))
	}
	if !strings.Contains(answers[1], `"transmitted"`) {
		t.Fatalf("the API did not show the run's lessons: %.300s", answers[1])
	}

	mu.Lock()
	issued := append([]string(nil), tokens...)
	mu.Unlock()
	secrets := map[string]string{"the school's API key": key, "the other school's API key": workertest.SchoolAPIKey(d.schools[1].Agrement),
		"the operator's token":    webapiAdminToken,
		"the OAuth client secret": workertest.ClientSecret, "the token encryption key": tokenKeyMaterial(t, d.s.KeySpec),
		"the webhook secret": hook.Secret, "the webhook key": strings.TrimPrefix(hook.Secret, "whsec_")}
	for i, tok := range issued {
		secrets[fmt.Sprintf("DSR token %d of %d", i+1, len(issued))] = tok
	}

	places := map[string]string{"database": dbtest.Dump(t, d.s.Pool, 0), "workflow histories": dumpHistories(t, d), "webapi log": readFile(t, apiLog)}
	logs, _ := filepath.Glob(filepath.Join(d.logDir, "*.log"))
	for _, name := range logs {
		places[filepath.Base(name)] = readFile(t, name)
	}
	for i, a := range answers {
		places[fmt.Sprintf("answer %d", i)] = a
	}
	if !strings.Contains(places["database"], "dsr_accounts") || !strings.Contains(places["workflow histories"], "DeclareLessons") ||
		len(logs) != 2 || !strings.Contains(places["webapi log"], "/v1/offices") {
		t.Fatal("a place was not captured: the test would prove nothing")
	}
	for where, text := range places {
		for name, secret := range secrets {
			if len(secret) < 16 {
				t.Fatalf("%s is too short to search for", name)
			}
			for _, form := range []string{secret, hex.EncodeToString([]byte(secret)),
				base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret))} {
				if strings.Contains(text, form) {
					t.Errorf("%s found in %s", name, where)
				}
			}
		}
	}
	t.Logf("%d DSR tokens, %d other secrets, searched in %d places", len(issued), len(secrets)-len(issued), len(places))
}

const webapiAdminToken = "operator-token-for-the-secrets-test"

// startWebapi starts a `livret webapi` process on the drill's stack; it returns a client of
// it (without a key) and its log file.
func startWebapi(t *testing.T, d *drill) (*livretclient.Client, string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logName := filepath.Join(d.logDir, "webapi.out")
	logf, err := os.Create(logName)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(livretBinary, "webapi")
	cmd.Env = append(os.Environ(), d.s.Environment()...)
	cmd.Env = append(cmd.Env, "LIVRET_HTTP_ADDR="+addr, "LIVRET_ADMIN_TOKEN="+webapiAdminToken)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	})
	api := livretclient.New("http://"+addr, "")
	deadline := time.Now().Add(time.Minute)
	for {
		err := api.Healthy(context.Background())
		if err == nil {
			return api, logName
		}
		if time.Now().After(deadline) {
			t.Fatalf("livret webapi did not answer: %v\n%s", err, readFile(t, logName))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// call makes one request and returns the whole answer, headers included: a secret could
// travel in either.
func call(t *testing.T, api *livretclient.Client, method, path string) string {
	a, err := api.Raw(context.Background(), method, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status >= 500 {
		t.Fatalf("%s %s: %d %s", method, path, a.Status, a.Body)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", method, path)
	_ = a.Header.Write(&b)
	b.Write(a.Body)
	return b.String()
}

// tokenKeyMaterial is the base64 key of a LIVRET_TOKEN_KEY spec ("id:base64key").
func tokenKeyMaterial(t *testing.T, spec string) string {
	_, key, ok := strings.Cut(strings.Split(spec, ",")[0], ":")
	if !ok {
		t.Fatalf("token key spec %q", spec)
	}
	return key
}

// dumpHistories is every event of every workflow of the namespace, as JSON text: activity
// inputs and results are where a token would travel if one were passed around.
func dumpHistories(t *testing.T, d *drill) string {
	ctx := context.Background()
	var b strings.Builder
	var next []byte
	for {
		resp, err := d.s.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: d.s.Namespace, NextPageToken: next})
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range resp.Executions {
			it := d.s.Client.GetWorkflowHistory(ctx, ex.Execution.WorkflowId, ex.Execution.RunId, false, 0)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					t.Fatal(err)
				}
				js, err := protojson.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				b.Write(js)
				b.WriteByte('\n')
			}
		}
		if next = resp.NextPageToken; len(next) == 0 {
			return b.String()
		}
	}
}

func readFile(t *testing.T, name string) string {
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
