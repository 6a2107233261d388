package webapi

import "testing"

// TestHoursPerETP: LIVRET_ETP_HOURS_PER_ETP is a positive decimal, with a point or a comma;
// empty is no estimate; anything else stops the API at start.
func TestHoursPerETP(t *testing.T) {
	for raw, want := range map[string]float64{"": 0, "  ": 0, "455": 455, "455.5": 455.5, "455,5": 455.5, " 12 ": 12} {
		if got, err := parseHoursPerETP(raw); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", raw, got, err, want)
		}
	}
	for _, raw := range []string{"0", "-3", "abc", "NaN", "Inf", "1e400", "4,5,5"} {
		if _, err := parseHoursPerETP(raw); err == nil {
			t.Errorf("%q accepted", raw)
		}
	}
}
