package webui

import (
	"slices"
	"testing"

	"livret/school"
)

func TestSortOfficesInFrench(t *testing.T) {
	var offices []school.Office
	for i, name := range []string{"Agence Sud", "agence nord", "Écully", "Agence du Centre", "Eaubonne", "Zola", "Agence Sud"} {
		offices = append(offices, school.Office{Ref: string(rune('g' - i)), Name: name})
	}
	sortOffices(offices)
	var got []string
	for _, o := range offices {
		got = append(got, o.Name+"/"+o.Ref)
	}
	want := []string{"Agence du Centre/d", "agence nord/f", "Agence Sud/a", "Agence Sud/g", "Eaubonne/c", "Écully/e", "Zola/b"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}
