package webapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"livret/school"
)

// ginParam turns gin's ":ref" into OpenAPI's "{ref}".
var ginParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// TestOpenAPIMatchesRouter keeps /openapi.json true: every route of the router is in the
// document, and the document lists no route the router lacks.
func TestOpenAPIMatchesRouter(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Fatalf("openapi %q, want 3.0.x", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routed := map[string]bool{}
	for _, r := range (&Server{}).router().Routes() {
		routed[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	var missing, extra []string
	for k := range routed {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !routed[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("routes missing from openapi.json: %v\nroutes openapi.json lists but the router lacks: %v", missing, extra)
	}
	if len(routed) < 20 {
		t.Fatalf("only %d routes: the walk is broken", len(routed))
	}
}

// TestOpenAPIReferencesResolve: every $ref of the document points at a component it defines.
func TestOpenAPIReferencesResolve(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	refs := 0
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				refs++
				var node any = doc
				for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, ok := node.(map[string]any)
					if !ok || m[part] == nil {
						t.Errorf("unresolved $ref %s", ref)
						return
					}
					node = m[part]
				}
			}
			for _, child := range x {
				walk(child)
			}
		case []any:
			for _, child := range x {
				walk(child)
			}
		}
	}
	walk(doc)
	if refs == 0 {
		t.Fatal("no $ref found: the walk is broken")
	}
}

// TestUnexpectedErrorsAreGeneric: a panic or a plain error becomes a logged 500 problem that
// reveals nothing of the error.
func TestUnexpectedErrorsAreGeneric(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	r := s.router()
	r.GET("/boom", func(*gin.Context) { panic("secret panic detail") })
	r.GET("/fail", func(c *gin.Context) { _ = c.Error(errors.New("secret error detail")) })
	for _, path := range []string{"/boom", "/fail"} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusInternalServerError || rec.Header().Get("Content-Type") != ProblemContentType {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Header().Get("Content-Type"))
		}
		var p map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p["type"] != school.TypeInternal || p["status"] != float64(500) {
			t.Fatalf("%s: %s", path, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "secret") {
			t.Fatalf("%s leaks the error: %s", path, rec.Body)
		}
	}
	for _, want := range []string{"handler panic", "secret panic detail", "request failed", "secret error detail", `"status":500`} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("the log lacks %q:\n%s", want, logs.String())
		}
	}
}

// TestOpenAPIBatchItemsFollowTheirPUTs: a batch item is its PUT's body plus "ref", so each
// Batch<Kind> schema has exactly the properties and required fields of <Kind>Input, and ref.
func TestOpenAPIBatchItemsFollowTheirPUTs(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Required   []string                   `json:"required"`
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Office", "Instructor", "Student", "Lesson"} {
		item, put := doc.Components.Schemas["Batch"+kind], doc.Components.Schemas[kind+"Input"]
		if len(item.Properties) != len(put.Properties)+1 || item.Properties["ref"] == nil {
			t.Errorf("Batch%s has %d properties, %sInput %d (+ ref)", kind, len(item.Properties), kind, len(put.Properties))
		}
		for name, schema := range put.Properties {
			if !bytes.Equal(item.Properties[name], schema) {
				t.Errorf("Batch%s.%s differs from %sInput.%s", kind, name, kind, name)
			}
		}
		want := append([]string{"ref"}, put.Required...)
		if strings.Join(item.Required, ",") != strings.Join(want, ",") {
			t.Errorf("Batch%s requires %v, want %v", kind, item.Required, want)
		}
	}
}
