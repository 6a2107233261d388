package domain

import "testing"

func TestSearchKey(t *testing.T) {
	cases := map[string]string{
		"Mélanie Perrin":      "melanie perrin",
		"  MÉLANIE   PERRIN ": "melanie perrin",
		"Lou Michel":          "lou michel",
		"Françoise Lœw":       "francoise lœw",
		"":                    "",
	}
	for in, want := range cases {
		if got := SearchKey(in); got != want {
			t.Errorf("SearchKey(%q) = %q, want %q", in, got, want)
		}
	}
}
