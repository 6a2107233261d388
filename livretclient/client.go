// Package livretclient is a typed client of Livret's HTTP API (webapi/openapi.json), as a
// management software, a school admin's browser or an operator uses it. It is kept by hand
// and imports nothing of Livret's, so it sees the API only as its callers do: the demo, the
// benchmark and the end-to-end tests talk to Livret through it.
package livretclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// CallbackPath is where RdvPermis sends the admin's browser back after the login.
const CallbackPath = "/v1/oauth/callback"

// Client calls Livret's API at BaseURL with a bearer token: a school's API key, or the
// operator's token for POST /v1/schools.
type Client struct {
	BaseURL string
	Token   string
	// HTTP makes the calls (default: 60 s timeout). It must not follow redirects: connect
	// and the OAuth callback answer 302, and their Location is the answer.
	HTTP *http.Client
}

// New returns a client of the API at baseURL ("http://127.0.0.1:8080") with that token.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: NoRedirects(60 * time.Second)}
}

// WithToken is the same API seen with another token (the school's key after creating it).
func (c *Client) WithToken(token string) *Client {
	cc := *c
	cc.Token = token
	return &cc
}

// NoRedirects is an HTTP client that hands every redirect back to its caller.
func NoRedirects(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Answer is an HTTP answer as the client received it, for callers that look at more than a
// typed result: its headers, or its exact bytes.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// maxAnswer bounds what the client reads of one answer (the largest page is 100 lessons).
const maxAnswer = 16 << 20

// Raw sends one request (in, when not nil, as JSON) and returns the answer whatever its
// status; the error is only for a request that got no answer.
func (c *Client) Raw(ctx context.Context, method, path string, in any) (Answer, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return Answer{}, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return Answer{}, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return c.do(req)
}

func (c *Client) do(req *http.Request) (Answer, error) {
	hc := c.HTTP
	if hc == nil {
		hc = NoRedirects(60 * time.Second)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return Answer{}, err
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// call sends in and decodes a 2xx answer into out (when not nil); any other answer is a
// *Problem.
func (c *Client) call(ctx context.Context, method, path string, in, out any) (int, error) {
	a, err := c.Raw(ctx, method, path, in)
	if err != nil {
		return 0, err
	}
	if a.Status < 200 || a.Status > 299 {
		return a.Status, problemOf(method, path, a)
	}
	if out != nil {
		if err := json.Unmarshal(a.Body, out); err != nil {
			return a.Status, fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
		}
	}
	return a.Status, nil
}

// CreateSchool is POST /v1/schools (operator token).
func (c *Client) CreateSchool(ctx context.Context, in SchoolInput) (SchoolCreated, error) {
	var out SchoolCreated
	_, err := c.call(ctx, http.MethodPost, "/v1/schools", in, &out)
	return out, err
}

// Schools is the operator's GET /v1/schools (page from 1).
func (c *Client) Schools(ctx context.Context, page, perPage int) (SchoolPage, error) {
	var out SchoolPage
	path := "/v1/schools?page=" + strconv.Itoa(page) + "&per_page=" + strconv.Itoa(perPage)
	_, err := c.call(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// ReopenSchool is the operator's POST /v1/schools/{id}/reopen.
func (c *Client) ReopenSchool(ctx context.Context, id int64) (Reopened, error) {
	var out Reopened
	_, err := c.call(ctx, http.MethodPost, "/v1/schools/"+strconv.FormatInt(id, 10)+"/reopen", nil, &out)
	return out, err
}

// Settings is the school's GET /v1/school.
func (c *Client) Settings(ctx context.Context) (Settings, error) {
	var out Settings
	_, err := c.call(ctx, http.MethodGet, "/v1/school", nil, &out)
	return out, err
}

// ChangeSettings is PATCH /v1/school (a new scope judges the waiting lessons again).
func (c *Client) ChangeSettings(ctx context.Context, in SettingsInput) (Settings, error) {
	var out Settings
	_, err := c.call(ctx, http.MethodPatch, "/v1/school", in, &out)
	return out, err
}

// Offices is GET /v1/offices.
func (c *Client) Offices(ctx context.Context) ([]Office, error) {
	var out []Office
	_, err := c.call(ctx, http.MethodGet, "/v1/offices", nil, &out)
	return out, err
}

// Office is GET /v1/offices/{ref}: one office's card.
func (c *Client) Office(ctx context.Context, ref string) (Office, error) {
	var out Office
	_, err := c.call(ctx, http.MethodGet, "/v1/offices/"+url.PathEscape(ref), nil, &out)
	return out, err
}

// PutOffice is PUT /v1/offices/{ref}: created or replaced.
func (c *Client) PutOffice(ctx context.Context, ref string, in OfficeInput) (Office, error) {
	var out Office
	_, err := c.call(ctx, http.MethodPut, "/v1/offices/"+url.PathEscape(ref), in, &out)
	return out, err
}

// Connect is GET /v1/offices/{ref}/dsr/connect, the admin's "Se connecter": it returns the
// RdvPermis login URL to send the browser to. confirm links the office although another one
// is linked already (without it, that case is a 409 Problem with LogoutURL).
func (c *Client) Connect(ctx context.Context, ref string, confirm bool) (string, error) {
	path := "/v1/offices/" + url.PathEscape(ref) + "/dsr/connect"
	if confirm {
		path += "?confirm=1"
	}
	return c.redirect(ctx, http.MethodGet, path)
}

// OAuthCallback takes the browser back to Livret from RdvPermis: callbackURL is where the
// login sent it (CallbackPath with the code and state). No token is sent, as none comes
// back from RdvPermis: the state carries the authority. It returns the page Livret sends
// the browser to once the office is linked.
func (c *Client) OAuthCallback(ctx context.Context, callbackURL string) (string, error) {
	u, err := url.Parse(callbackURL)
	if err != nil {
		return "", err
	}
	if u.Path != CallbackPath {
		return "", fmt.Errorf("not Livret's OAuth callback: %s", u.Redacted())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, callbackURL, nil)
	if err != nil {
		return "", err
	}
	a, err := c.do(req)
	if err != nil {
		return "", err
	}
	if a.Status != http.StatusFound {
		return "", problemOf(http.MethodGet, CallbackPath, a)
	}
	return location(u, a), nil
}

// redirect makes a call whose good answer is a 302, and returns its absolute Location.
func (c *Client) redirect(ctx context.Context, method, path string) (string, error) {
	a, err := c.Raw(ctx, method, path, nil)
	if err != nil {
		return "", err
	}
	if a.Status != http.StatusFound {
		return "", problemOf(method, path, a)
	}
	base, err := url.Parse(c.BaseURL + path)
	if err != nil {
		return "", err
	}
	return location(base, a), nil
}

func location(base *url.URL, a Answer) string {
	loc := a.Header.Get("Location")
	if u, err := base.Parse(loc); err == nil {
		return u.String()
	}
	return loc
}

// Disconnect is POST /v1/offices/{ref}/dsr/disconnect.
func (c *Client) Disconnect(ctx context.Context, ref string) (Office, error) {
	var out Office
	_, err := c.call(ctx, http.MethodPost, "/v1/offices/"+url.PathEscape(ref)+"/dsr/disconnect", nil, &out)
	return out, err
}

// Runs is GET /v1/offices/{ref}/runs, newest first.
func (c *Client) Runs(ctx context.Context, office string) ([]Run, error) {
	var out []Run
	_, err := c.call(ctx, http.MethodGet, "/v1/offices/"+url.PathEscape(office)+"/runs", nil, &out)
	return out, err
}

// StartRun is POST /v1/offices/{ref}/runs, "Lancer l'envoi".
func (c *Client) StartRun(ctx context.Context, office string) (RunStarted, error) {
	var out RunStarted
	_, err := c.call(ctx, http.MethodPost, "/v1/offices/"+url.PathEscape(office)+"/runs", nil, &out)
	return out, err
}

// PutInstructor is PUT /v1/instructors/{ref}.
func (c *Client) PutInstructor(ctx context.Context, ref string, in InstructorInput) (Instructor, error) {
	var out Instructor
	_, err := c.call(ctx, http.MethodPut, "/v1/instructors/"+url.PathEscape(ref), in, &out)
	return out, err
}

// PutStudent is PUT /v1/students/{ref}.
func (c *Client) PutStudent(ctx context.Context, ref string, in StudentInput) (Student, error) {
	var out Student
	_, err := c.call(ctx, http.MethodPut, "/v1/students/"+url.PathEscape(ref), in, &out)
	return out, err
}

// SearchStudents is GET /v1/students?q= (at most 50).
func (c *Client) SearchStudents(ctx context.Context, q string) ([]Student, error) {
	var out []Student
	_, err := c.call(ctx, http.MethodGet, "/v1/students?"+url.Values{"q": {q}}.Encode(), nil, &out)
	return out, err
}

// StudentLessons is GET /v1/students/{ref}/lessons (q.Student is ignored).
func (c *Client) StudentLessons(ctx context.Context, ref string, q LessonQuery) (LessonPage, error) {
	q.Student = ""
	var out LessonPage
	_, err := c.call(ctx, http.MethodGet, "/v1/students/"+url.PathEscape(ref)+"/lessons"+q.encode(), nil, &out)
	return out, err
}

// PutLesson is PUT /v1/lessons/{ref}.
func (c *Client) PutLesson(ctx context.Context, ref string, in LessonInput) (Lesson, error) {
	var out Lesson
	_, err := c.call(ctx, http.MethodPut, "/v1/lessons/"+url.PathEscape(ref), in, &out)
	return out, err
}

// Lessons is GET /v1/lessons, the report.
func (c *Client) Lessons(ctx context.Context, q LessonQuery) (LessonPage, error) {
	var out LessonPage
	_, err := c.call(ctx, http.MethodGet, "/v1/lessons"+q.encode(), nil, &out)
	return out, err
}

// Lesson is GET /v1/lessons/{ref}: one lesson with its transmission.
func (c *Client) Lesson(ctx context.Context, ref string) (Lesson, error) {
	var out Lesson
	_, err := c.call(ctx, http.MethodGet, "/v1/lessons/"+url.PathEscape(ref), nil, &out)
	return out, err
}

// ResendLessons is POST /v1/lessons/resend: every lesson of the filter the DSR refused.
func (c *Client) ResendLessons(ctx context.Context, f ResendFilter) (BulkResent, error) {
	var out BulkResent
	_, err := c.call(ctx, http.MethodPost, "/v1/lessons/resend", f, &out)
	return out, err
}

// CancelLesson is POST /v1/lessons/{ref}/cancel.
func (c *Client) CancelLesson(ctx context.Context, ref string) (Lesson, error) {
	var out Lesson
	_, err := c.call(ctx, http.MethodPost, "/v1/lessons/"+url.PathEscape(ref)+"/cancel", nil, &out)
	return out, err
}

// ResendLesson is POST /v1/lessons/{ref}/resend. Started is nil when Livret's own checks
// still refuse the lesson (200): Lesson then says why.
func (c *Client) ResendLesson(ctx context.Context, ref string) (started *ResendStarted, lesson Lesson, err error) {
	path := "/v1/lessons/" + url.PathEscape(ref) + "/resend"
	a, err := c.Raw(ctx, http.MethodPost, path, nil)
	if err != nil {
		return nil, Lesson{}, err
	}
	switch a.Status {
	case http.StatusAccepted:
		var s ResendStarted
		if err := json.Unmarshal(a.Body, &s); err != nil {
			return nil, Lesson{}, fmt.Errorf("POST %s: decoding the answer: %w", path, err)
		}
		return &s, s.Lesson, nil
	case http.StatusOK:
		err := json.Unmarshal(a.Body, &lesson)
		return nil, lesson, err
	}
	return nil, Lesson{}, problemOf(http.MethodPost, path, a)
}

// PutWebhook is PUT /v1/webhooks/{ref}. created says whether it is new (201): only then
// does the answer carry its Secret.
func (c *Client) PutWebhook(ctx context.Context, ref string, in WebhookInput) (w Webhook, created bool, err error) {
	status, err := c.call(ctx, http.MethodPut, "/v1/webhooks/"+url.PathEscape(ref), in, &w)
	return w, status == http.StatusCreated, err
}

// Webhooks is GET /v1/webhooks.
func (c *Client) Webhooks(ctx context.Context) ([]Webhook, error) {
	var out []Webhook
	_, err := c.call(ctx, http.MethodGet, "/v1/webhooks", nil, &out)
	return out, err
}

// DeleteWebhook is DELETE /v1/webhooks/{ref}.
func (c *Client) DeleteWebhook(ctx context.Context, ref string) error {
	_, err := c.call(ctx, http.MethodDelete, "/v1/webhooks/"+url.PathEscape(ref), nil, nil)
	return err
}

// WebhookDeliveries is GET /v1/webhooks/{ref}/deliveries, newest first.
func (c *Client) WebhookDeliveries(ctx context.Context, ref string) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	_, err := c.call(ctx, http.MethodGet, "/v1/webhooks/"+url.PathEscape(ref)+"/deliveries", nil, &out)
	return out, err
}

// TestWebhook is POST /v1/webhooks/{ref}/test.
func (c *Client) TestWebhook(ctx context.Context, ref string) (WebhookTestSent, error) {
	var out WebhookTestSent
	_, err := c.call(ctx, http.MethodPost, "/v1/webhooks/"+url.PathEscape(ref)+"/test", nil, &out)
	return out, err
}

// Batch is POST /v1/batch, the bulk sync: at most MaxBatchItems items. A refused item is its
// own result, not an error; the error is for a batch refused whole (too many items, 413).
func (c *Client) Batch(ctx context.Context, in BatchInput) (BatchResult, error) {
	var out BatchResult
	_, err := c.call(ctx, http.MethodPost, "/v1/batch", in, &out)
	return out, err
}

// Ready is GET /readyz: nil once every dependency answers.
func (c *Client) Ready(ctx context.Context) error {
	_, err := c.call(ctx, http.MethodGet, "/readyz", nil, nil)
	return err
}

// Healthy is GET /healthz: nil while the process serves.
func (c *Client) Healthy(ctx context.Context) error {
	_, err := c.call(ctx, http.MethodGet, "/healthz", nil, nil)
	return err
}

func (q LessonQuery) encode() string {
	v := url.Values{}
	set := func(name, value string) {
		if value != "" {
			v.Set(name, value)
		}
	}
	set("office", q.Office)
	set("status", q.Status)
	set("from", q.From)
	set("to", q.To)
	set("student", q.Student)
	set("category", q.Category)
	if q.Page > 0 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.PerPage > 0 {
		v.Set("per_page", strconv.Itoa(q.PerPage))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// IsStatus reports whether err is the API's answer with that HTTP status.
func IsStatus(err error, status int) bool {
	var p *Problem
	return errors.As(err, &p) && p.Status == status
}
