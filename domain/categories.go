package domain

// Category is a driving-licence category as the management software sends it.
type Category string

// The categories Livret stores. Only the B family is sent today; two-wheel categories are
// announced next (seed, "Évolutions à venir"): enabling one is a change to categoryTable.
const (
	CategoryB     Category = "B"      // permis B traditionnel
	CategoryBAuto Category = "B_AUTO" // boîte automatique
	CategoryBAAC  Category = "B_AAC"  // apprentissage anticipé de la conduite
	CategoryBCS   Category = "B_CS"   // conduite supervisée
	CategoryA1    Category = "A1"
	CategoryA2    Category = "A2"
	CategoryA     Category = "A"
	CategoryAM    Category = "AM"
	CategoryBE    Category = "BE"
	CategoryC     Category = "C"
	CategoryC1    Category = "C1"
	CategoryCE    Category = "CE"
	CategoryD     Category = "D"
)

type categoryInfo struct {
	label string
	// sent: lessons of students in this category go to the DSR.
	sent bool
	// dsrCode is the category as the DSR's training-contract call names it.
	dsrCode string
}

var categoryTable = map[Category]categoryInfo{
	CategoryB:     {label: "Permis B", sent: true, dsrCode: "B"},
	CategoryBAuto: {label: "Permis B boîte automatique", sent: true, dsrCode: "B"},
	CategoryBAAC:  {label: "Permis B (AAC)", sent: true, dsrCode: "B"},
	CategoryBCS:   {label: "Permis B (conduite supervisée)", sent: true, dsrCode: "B"},
	CategoryA1:    {label: "Permis A1", dsrCode: "A1"},
	CategoryA2:    {label: "Permis A2", dsrCode: "A2"},
	CategoryA:     {label: "Permis A", dsrCode: "A"},
	CategoryAM:    {label: "Permis AM", dsrCode: "AM"},
	CategoryBE:    {label: "Permis BE", dsrCode: "BE"},
	CategoryC:     {label: "Permis C", dsrCode: "C"},
	CategoryC1:    {label: "Permis C1", dsrCode: "C1"},
	CategoryCE:    {label: "Permis CE", dsrCode: "CE"},
	CategoryD:     {label: "Permis D", dsrCode: "D"},
}

// ParseCategory accepts a known category code.
func ParseCategory(s string) (Category, bool) {
	c := Category(s)
	_, ok := categoryTable[c]
	return c, ok
}

// Categories lists every known category code, in a stable order, for messages and docs.
func Categories() []Category {
	return []Category{CategoryB, CategoryBAuto, CategoryBAAC, CategoryBCS, CategoryA1, CategoryA2,
		CategoryA, CategoryAM, CategoryBE, CategoryC, CategoryC1, CategoryCE, CategoryD}
}

// Sent reports whether lessons of a student in this category are transmitted to the DSR.
func (c Category) Sent() bool { return categoryTable[c].sent }

// Label is the French name of the category.
func (c Category) Label() string {
	if info, ok := categoryTable[c]; ok {
		return info.label
	}
	return string(c)
}

// DSRCode is the licence category in the DSR's vocabulary.
func (c Category) DSRCode() string { return categoryTable[c].dsrCode }
