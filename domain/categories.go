package domain

// Category is a driving-licence category as the management software sends it: the category
// of one of a student's trainings (docs/rules.md, "Trainings").
type Category string

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
	CategoryC1    Category = "C1"
	CategoryC     Category = "C"
	CategoryCE    Category = "CE"
	CategoryD1    Category = "D1"
	CategoryD     Category = "D"
)

// Group is a family of categories that share the DSR's lesson types and, for the ETP, a
// count (docs/rules.md, "The sending table").
type Group string

const (
	GroupB     Group = "B"
	GroupMoto  Group = "moto"
	GroupLourd Group = "lourd" // heavy vehicles and trailers
	// GroupNone: stored, never sent (AM and anything the DSR's logbook does not cover).
	GroupNone Group = ""
)

type categoryInfo struct {
	label string
	group Group
	// dsrCode is the category as the DSR's training-contract call names it: the B variants
	// are one B contract at the DSR.
	dsrCode string
}

var categoryTable = map[Category]categoryInfo{
	CategoryB:     {label: "Permis B", group: GroupB, dsrCode: "B"},
	CategoryBAuto: {label: "Permis B boîte automatique", group: GroupB, dsrCode: "B"},
	CategoryBAAC:  {label: "Permis B (AAC)", group: GroupB, dsrCode: "B"},
	CategoryBCS:   {label: "Permis B (conduite supervisée)", group: GroupB, dsrCode: "B"},
	CategoryA1:    {label: "Permis A1", group: GroupMoto, dsrCode: "A1"},
	CategoryA2:    {label: "Permis A2", group: GroupMoto, dsrCode: "A2"},
	CategoryA:     {label: "Permis A", group: GroupMoto, dsrCode: "A"},
	CategoryAM:    {label: "Permis AM", group: GroupNone, dsrCode: "AM"},
	CategoryBE:    {label: "Permis BE", group: GroupLourd, dsrCode: "BE"},
	CategoryC1:    {label: "Permis C1", group: GroupLourd, dsrCode: "C1"},
	CategoryC:     {label: "Permis C", group: GroupLourd, dsrCode: "C"},
	CategoryCE:    {label: "Permis CE", group: GroupLourd, dsrCode: "CE"},
	CategoryD1:    {label: "Permis D1", group: GroupLourd, dsrCode: "D1"},
	CategoryD:     {label: "Permis D", group: GroupLourd, dsrCode: "D"},
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
		CategoryA, CategoryAM, CategoryBE, CategoryC1, CategoryC, CategoryCE, CategoryD1, CategoryD}
}

// Group is the category's family; GroupNone for a category never sent or unknown.
func (c Category) Group() Group { return categoryTable[c].group }

// Label is the French name of the category.
func (c Category) Label() string {
	if info, ok := categoryTable[c]; ok {
		return info.label
	}
	return string(c)
}

// DSRCode is the licence category in the DSR's vocabulary: the training contract's category.
// Two trainings with one DSR code (B then B_AUTO) find the same contract at the DSR.
func (c Category) DSRCode() string { return categoryTable[c].dsrCode }
