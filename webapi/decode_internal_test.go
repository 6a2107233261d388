package webapi

import (
	"errors"
	"testing"
)

// TestIngestJSONTextRefusals: what encoding/json accepts silently though it means nothing
// (issue 18's probe) is refused with a 400 naming the field by its path; the same text
// written correctly passes.
func TestIngestJSONTextRefusals(t *testing.T) {
	refused := map[string]string{
		"{\"last_name\":\"Dupont\xff\"}":                            "last_name",
		`{"last_name":"Dupont\ud800"}`:                              "last_name",
		`{"last_name":"Dupont","last_name":"Durand"}`:               "last_name",
		`{"a":{"b":1,"b":2}}`:                                       "a.b",
		`{"lessons":[{"ref":"x"},{"ref":"y","ref":"z"}]}`:           "lessons[1].ref",
		`{"lessons":[{"ref":"x"},{"r":["ok","bad\udfff"]}]}`:        "lessons[1].r[1]",
		"{\"k\xfe\":1}":                                             "k\uFFFD",
		`{"x":[1,{"y":2}],"z":{"w":"a"},"lessons":[{"a":1,"a":1}]}`: "lessons[0].a",
	}
	for body, field := range refused {
		err := checkJSONText([]byte(body))
		var p *Problem
		if !errors.As(err, &p) || p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("%q: %v (%+v), want a 400 naming %s", body, err, p, field)
		}
	}
	for _, body := range []string{`{"last_name":"Dupont","first_name":"Zoé 🚗"}`, `{"a":{"b":1},"b":{"a":1},"c":[{"a":1},{"a":2}]}`, `{"n":"\u00e9"}`} {
		if err := checkJSONText([]byte(body)); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}
