package webui

import (
	"slices"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"livret/school"
)

// sortOffices orders office cards as a French reader expects ("Agence du Centre" before
// "Agence Sud", "Écully" among the E), not by bytes as the use case's list comes; the ref
// breaks ties, so the order is stable.
func sortOffices(offices []school.Office) {
	// A Collator keeps buffers: one per call, never shared between requests.
	col := collate.New(language.French)
	slices.SortStableFunc(offices, func(a, b school.Office) int {
		if c := col.CompareString(a.Name, b.Name); c != 0 {
			return c
		}
		return col.CompareString(a.Ref, b.Ref)
	})
}
