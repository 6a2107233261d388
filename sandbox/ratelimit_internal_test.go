package sandbox

import (
	"testing"
	"time"
)

func TestMaxCallsIn60s(t *testing.T) {
	t0 := time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)
	at := func(secs ...float64) []time.Time {
		var out []time.Time
		for _, s := range secs {
			out = append(out, t0.Add(time.Duration(s*float64(time.Second))))
		}
		return out
	}
	cases := []struct {
		name  string
		calls []time.Time
		want  int
	}{
		{"none", nil, 0},
		{"one", at(0), 1},
		{"exactly 60 s apart are two windows", at(0, 60), 1},
		{"just under 60 s apart", at(0, 59.999), 2},
		{"burst in the middle", at(0, 30, 31, 32, 89.5, 200), 4},
		{"unsorted input", at(32, 0, 31, 30), 4},
		{"sliding", at(0, 10, 20, 30, 40, 50, 60, 70), 6},
	}
	for _, tc := range cases {
		if got := maxCallsIn60s(tc.calls); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestLongestGap(t *testing.T) {
	t0 := time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)
	at := func(secs ...float64) []time.Time {
		var out []time.Time
		for _, s := range secs {
			out = append(out, t0.Add(time.Duration(s*float64(time.Second))))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		calls []time.Time
		want  time.Duration
	}{
		{"none", nil, 0},
		{"one", at(5), 0},
		{"even", at(0, 1, 2, 3), time.Second},
		{"a hole", at(0, 1, 9.5, 10.5), 8500 * time.Millisecond},
		{"unsorted input", at(10.5, 0, 9.5, 1), 8500 * time.Millisecond},
	} {
		if got := longestGap(tc.calls); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAdmitShrunkLimit(t *testing.T) {
	t0 := time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)
	a := &account{}
	for i := range 10 {
		if ok, _ := a.admit(t0.Add(time.Duration(i)*time.Second), 0); !ok {
			t.Fatal("no limit refused a call")
		}
	}
	// Limit lowered to 5 with 10 calls in the window: a slot frees when 6 of them have left,
	// i.e. when the call made at 5 s leaves at 65 s.
	ok, wait := a.admit(t0.Add(20*time.Second), 5)
	if ok || wait != 45*time.Second {
		t.Fatalf("admit = %v, %s; want a refusal for 45 s", ok, wait)
	}
	if ok, _ := a.admit(t0.Add(65*time.Second), 5); !ok {
		t.Fatal("the slot should be free at 65 s")
	}
}
