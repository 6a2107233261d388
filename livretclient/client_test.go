package livretclient

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestTypesMatchTheOpenAPIDocument: each struct has exactly the properties of its schema in
// webapi/openapi.json, read as a file so that the package keeps importing nothing of Livret's.
func TestTypesMatchTheOpenAPIDocument(t *testing.T) {
	b, err := os.ReadFile("../webapi/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	types := map[string]any{
		"FieldError": FieldError{}, "Problem": Problem{}, "Transmission": Transmission{}, "StudentRef": StudentRef{},
		"Lesson": Lesson{}, "LessonPage": LessonPage{}, "LessonInput": LessonInput{}, "OfficeInput": OfficeInput{},
		"OfficeDSR": OfficeDSR{}, "Run": Run{}, "Office": Office{}, "InstructorInput": InstructorInput{},
		"Instructor": Instructor{}, "StudentInput": StudentInput{}, "Student": Student{}, "SchoolInput": SchoolInput{},
		"SchoolCreated": SchoolCreated{}, "RunStarted": RunStarted{}, "ResendStarted": ResendStarted{},
		"SchoolInfo": SchoolInfo{}, "SchoolPage": SchoolPage{}, "Reopened": Reopened{},
		"LessonCounts": LessonCounts{}, "ResendFilter": ResendFilter{}, "BulkResent": BulkResent{},
		"Contract": Contract{}, "Training": Training{}, "TrainingInput": TrainingInput{}, "Settings": Settings{},
		"SettingsInput": SettingsInput{}, "Webhook": Webhook{}, "WebhookInput": WebhookInput{},
		"WebhookDelivery": WebhookDelivery{}, "WebhookAttempt": WebhookAttempt{}, "WebhookTestSent": WebhookTestSent{},
		"BatchInput": BatchInput{}, "BatchOffice": BatchOffice{},
		"BatchInstructor": BatchInstructor{}, "BatchStudent": BatchStudent{}, "BatchLesson": BatchLesson{},
		"BatchResult": BatchResult{}, "BatchItemResult": BatchItemResult{},
		"ETPReport": ETPReport{}, "ETPInstructor": ETPInstructor{}, "ETPFigures": ETPFigures{}, "ETPAtRisk": ETPAtRisk{},
		"ETPEstimate": ETPEstimate{}, "User": User{}, "UserInput": UserInput{}, "UserPatch": UserPatch{},
		"APIKey": APIKey{}, "APIKeyInput": APIKeyInput{}, "APIKeyCreated": APIKeyCreated{},
		"AuditEntry": AuditEntry{}, "AuditPage": AuditPage{},
	}
	for name, schema := range doc.Components.Schemas {
		v, ok := types[name]
		if !ok {
			if name != "Health" { // GET /healthz and /readyz: Ready and Healthy only look at the status
				t.Errorf("schema %s has no type in livretclient", name)
			}
			continue
		}
		var want []string
		for p := range schema.Properties {
			want = append(want, p)
		}
		got := jsonNames(reflect.TypeOf(v))
		sort.Strings(want)
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: fields %v, the schema has %v", name, got, want)
		}
	}
}

// jsonNames lists a struct's JSON names, those of an embedded struct (a batch item's PUT body)
// included, as encoding/json flattens them.
func jsonNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonNames(f.Type)...)
			continue
		}
		if name, _, _ := strings.Cut(tag, ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

func TestProblemsAreTypedErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/lessons/l-1":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"type":"urn:livret:problem:validation","title":"Requête invalide","status":422,` +
				`"detail":"La leçon est invalide.","errors":[{"field":"end","message":"La fin précède le début."}]}`))
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("upstream down"))
		}
	}))
	defer srv.Close()
	c := New(srv.URL, "key")
	ctx := context.Background()

	_, err := c.PutLesson(ctx, "l-1", LessonInput{Start: time.Now(), End: time.Now()})
	var p *Problem
	if !errors.As(err, &p) {
		t.Fatalf("PutLesson: %v, want a *Problem", err)
	}
	if p.Status != 422 || p.Type != "urn:livret:problem:validation" || len(p.Errors) != 1 || p.Errors[0].Field != "end" || p.Method != "PUT" {
		t.Errorf("problem: %+v", p)
	}
	if !IsStatus(err, http.StatusUnprocessableEntity) || !strings.Contains(err.Error(), "La fin précède le début.") {
		t.Errorf("error %q", err)
	}

	_, err = c.Offices(ctx)
	if !IsStatus(err, http.StatusBadGateway) || !strings.Contains(err.Error(), "upstream down") {
		t.Errorf("a plain-text failure: %v", err)
	}
}

func TestRequests(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/dsr/connect"):
			w.Header().Set("Location", "http://rdvpermis.example/auth?state=s")
			w.WriteHeader(http.StatusFound)
		case r.URL.Path == CallbackPath:
			w.Header().Set("Location", "/ui/offices")
			w.WriteHeader(http.StatusFound)
		case strings.HasSuffix(r.URL.Path, "/resend"):
			if strings.Contains(r.URL.Path, "refused") {
				_, _ = w.Write([]byte(`{"ref":"refused","transmission":{"status":"error","code":"NEPH_MANQUANT"}}`))
				return
			}
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"workflow_id":"w","run_id":"r","lesson":{"ref":"ok","transmission":{"status":"pending"}}}`))
		default:
			_, _ = w.Write([]byte(`{"items":[],"total":3}`))
		}
	}))
	defer srv.Close()
	c := New(srv.URL+"/", "key")
	ctx := context.Background()

	page, err := c.Lessons(ctx, LessonQuery{Office: "centre", Status: "error,pending", PerPage: 1})
	if err != nil || page.Total != 3 {
		t.Fatalf("Lessons: %+v %v", page, err)
	}
	auth, err := c.Connect(ctx, "centre", true)
	if err != nil || auth != "http://rdvpermis.example/auth?state=s" {
		t.Fatalf("Connect: %q %v", auth, err)
	}
	next, err := c.OAuthCallback(ctx, srv.URL+CallbackPath+"?code=c&state=s")
	if err != nil || next != srv.URL+"/ui/offices" {
		t.Fatalf("OAuthCallback: %q %v", next, err)
	}
	if _, err := c.OAuthCallback(ctx, srv.URL+"/elsewhere?code=c"); err == nil {
		t.Error("OAuthCallback follows a URL that is not Livret's callback")
	}
	started, lesson, err := c.ResendLesson(ctx, "ok")
	if err != nil || started == nil || started.WorkflowID != "w" || lesson.Ref != "ok" {
		t.Errorf("ResendLesson started: %+v %+v %v", started, lesson, err)
	}
	started, lesson, err = c.ResendLesson(ctx, "refused")
	if err != nil || started != nil || lesson.Transmission.CodeOr() != "NEPH_MANQUANT" {
		t.Errorf("ResendLesson refused: %+v %+v %v", started, lesson, err)
	}

	want := []string{
		"GET /v1/lessons?office=centre&per_page=1&status=error%2Cpending Bearer key",
		"GET /v1/offices/centre/dsr/connect?confirm=1 Bearer key",
		"GET /v1/oauth/callback?code=c&state=s ", // the browser comes back from RdvPermis without a key
		"POST /v1/lessons/ok/resend Bearer key",
		"POST /v1/lessons/refused/resend Bearer key",
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}
