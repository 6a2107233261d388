package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Control is a typed client of the /sandbox/ controls, for tests, drills and benchmarks.
type Control struct {
	// BaseURL is the sandbox's root, e.g. "http://127.0.0.1:8090".
	BaseURL string
	// Token is the control token (LIVRET_SANDBOX_TOKEN), empty for a loopback sandbox.
	Token string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
}

// NewControl returns a Control for the sandbox at baseURL.
func NewControl(baseURL, token string) *Control {
	return &Control{BaseURL: strings.TrimRight(baseURL, "/"), Token: token}
}

// ControlError is a refused control call.
type ControlError struct {
	Method, Path string
	Status       int
	Code         string
	Message      string
}

func (e *ControlError) Error() string {
	return fmt.Sprintf("sandbox control %s %s: HTTP %d %s: %s", e.Method, e.Path, e.Status, e.Code, e.Message)
}

// AddClient registers (or replaces) a software editor.
func (c *Control) AddClient(ctx context.Context, client Client) error {
	return c.do(ctx, http.MethodPost, "/sandbox/clients", client, nil)
}

// AddAccount creates a RdvPermis account (and its school, open, when the agrement is new).
func (c *Control) AddAccount(ctx context.Context, a Account) (AccountInfo, error) {
	var info AccountInfo
	err := c.do(ctx, http.MethodPost, "/sandbox/accounts", a, &info)
	return info, err
}

// AddStudent records (or replaces) a student's ANTS record.
func (c *Control) AddStudent(ctx context.Context, s Student) error {
	return c.do(ctx, http.MethodPost, "/sandbox/students", s, nil)
}

// SetSchoolStatus opens or closes a school (StatutOuverte, StatutFermee).
func (c *Control) SetSchoolStatus(ctx context.Context, agrement, statut string) error {
	return c.do(ctx, http.MethodPut, "/sandbox/schools/"+url.PathEscape(agrement), map[string]string{"statut": statut}, nil)
}

// SetFaults replaces the whole fault set; Faults{} clears it.
func (c *Control) SetFaults(ctx context.Context, f Faults) error {
	return c.do(ctx, http.MethodPut, "/sandbox/faults", f, nil)
}

// Faults returns the effective fault set.
func (c *Control) Faults(ctx context.Context) (Faults, error) {
	var f Faults
	err := c.do(ctx, http.MethodGet, "/sandbox/faults", nil, &f)
	return f, err
}

// Ledger returns what the sandbox stored and counted since the last reset.
func (c *Control) Ledger(ctx context.Context) (Ledger, error) {
	var l Ledger
	err := c.do(ctx, http.MethodGet, "/sandbox/ledger", nil, &l)
	return l, err
}

// LedgerSince is the Ledger whose per-account call figures count the calls accepted at or
// after since only (GET /sandbox/ledger?calls_since=).
func (c *Control) LedgerSince(ctx context.Context, since time.Time) (Ledger, error) {
	var l Ledger
	err := c.do(ctx, http.MethodGet, "/sandbox/ledger?calls_since="+url.QueryEscape(since.UTC().Format(time.RFC3339Nano)), nil, &l)
	return l, err
}

// Reset empties the sandbox.
func (c *Control) Reset(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/sandbox/reset", nil, nil)
}

func (c *Control) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	// A POST or PUT always carries JSON, even one without arguments ({} for a reset): the
	// controls refuse any other content type, which is what keeps cross-site forms out.
	sendsJSON := in != nil || method == http.MethodPost || method == http.MethodPut
	if sendsJSON {
		b := []byte("{}")
		if in != nil {
			var err error
			if b, err = json.Marshal(in); err != nil {
				return err
			}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return err
	}
	if sendsJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox control %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("sandbox control %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e errorBody
		_ = json.Unmarshal(data, &e)
		return &ControlError{Method: method, Path: path, Status: resp.StatusCode, Code: string(e.Code), Message: e.Message}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("sandbox control %s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}
