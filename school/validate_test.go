package school

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// TestIngestFormatCharsRefused: a bidirectional override or another Cf character in a name
// is refused naming the field (issue 18's probe); accents, apostrophes and hyphens pass.
func TestIngestFormatCharsRefused(t *testing.T) {
	for _, bad := range []string{"Dupont\u202Eesrever", "Du\u200Bpont", "\uFEFFDupont", "Du\u2066pont", "Dupont\u00AD"} {
		var errs fieldErrors
		if v := errs.cleanText("last_name", bad, true, maxNameLen); v != "" || len(errs) != 1 || errs[0].Field != "last_name" {
			t.Errorf("%q: kept %q, errors %+v", bad, v, errs)
		}
	}
	for _, good := range []string{"Dupont", "N'Guessan-Éloïse", "Zoé 🚗", "李"} {
		var errs fieldErrors
		if v := errs.cleanText("last_name", good, true, maxNameLen); v != good || len(errs) != 0 {
			t.Errorf("%q: kept %q, errors %+v", good, v, errs)
		}
	}
}

// TestIngestTimeOffsetsRefused: time.Parse takes "+24:00" and "+01:60"; no clock shows them.
func TestIngestTimeOffsetsRefused(t *testing.T) {
	for _, bad := range []string{"2024-03-05T10:00:00+24:00", "2024-03-05T10:00:00+23:59", "2024-03-05T10:00:00+01:60", "2024-03-05T10:00:00+14:01", "2024-03-05T10:00:00-12:30"} {
		var errs fieldErrors
		if _, ok := errs.parseTime("start", bad, true); ok || len(errs) != 1 || errs[0].Field != "start" {
			t.Errorf("%s: accepted (%+v)", bad, errs)
		}
	}
	for _, good := range []string{"2024-03-05T10:00:00+01:00", "2024-03-05T10:00:00Z", "2024-03-05T10:00:00+14:00", "2024-03-05T10:00:00-12:00", "2024-03-05T10:00:00+05:45", "2024-03-05T10:00:00.5-03:30"} {
		var errs fieldErrors
		if _, ok := errs.parseTime("start", good, true); !ok {
			t.Errorf("%s: refused %+v", good, errs)
		}
	}
}

// TestReportFilterValuesCapped: a status filter of 100,000 values (or a parameter sent 51
// times) is a 400 naming the parameter, before any query runs.
func TestReportFilterValuesCapped(t *testing.T) {
	for _, q := range []url.Values{
		{"status": {strings.TrimSuffix(strings.Repeat("error,", 100000), ",")}},
		{"status": {strings.TrimSuffix(strings.Repeat("error,", maxFilterValues+1), ",")}},
		{"office": make([]string, maxFilterValues+1)},
	} {
		err := checkFilterSizes(q)
		var p *Problem
		var name string
		for n := range q {
			name = n
		}
		if !errors.As(err, &p) || p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != name {
			t.Errorf("%s (%d values): %v", name, len(q[name]), err)
		}
	}
	ok := url.Values{"status": {"pending,transmitted,error,not_eligible,cancelled"}, "office": {"lauriane"}}
	if err := checkFilterSizes(ok); err != nil {
		t.Errorf("a real filter: %v", err)
	}
}
