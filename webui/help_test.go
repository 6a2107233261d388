package webui

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"livret/domain"
)

// TestHelpListsTheWholeCatalogue: every code of docs/rules.md's catalogue tables ("Messages
// and hints") is on the help page, with domain's message and hint, and in the right list.
func TestHelpListsTheWholeCatalogue(t *testing.T) {
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	if len(documented) < 20 {
		t.Fatalf("found %d codes in docs/rules.md: the tables' shape changed", len(documented))
	}
	wantStatus := map[string]domain.Status{"erreurs-dsr": domain.StatusError, "erreurs-livret": domain.StatusError, "non-concernees": domain.StatusNotEligible}
	shown := map[string]bool{}
	for _, g := range newHelpPage(1, 30).Groups {
		for _, e := range g.Entries {
			entry, ok := domain.Lookup(domain.Code(e.Code))
			switch {
			case !ok:
				t.Errorf("%s: not in domain's catalogue", e.Code)
			case withoutLabel(entry.Message, entry.Status.Label()) != e.Message || entry.Hint != e.Hint || e.Hint == "":
				t.Errorf("%s: %q / %q, not domain's words", e.Code, e.Message, e.Hint)
			case entry.Status != wantStatus[g.ID]:
				t.Errorf("%s is %s, listed under %s", e.Code, entry.Status, g.Title)
			}
			if shown[e.Code] {
				t.Errorf("%s listed twice", e.Code)
			}
			shown[e.Code] = true
		}
	}
	for code := range documented {
		if !shown[code] {
			t.Errorf("%s is in docs/rules.md but not on the help page", code)
		}
	}
	for code := range shown {
		if !documented[code] {
			t.Errorf("%s is on the help page but not in docs/rules.md", code)
		}
	}
}

// TestHelpShowsTheSendingTable: each row of domain's sending table is on the help page, in
// its group's row, under étendu, and under guide too when the row holds in scope guide; a
// group that sends nothing in a scope says so.
func TestHelpShowsTheSendingTable(t *testing.T) {
	rows := map[string]sendingRow{}
	for _, r := range newHelpPage(1, 30).Sending {
		rows[r.Group] = r
	}
	for _, g := range []domain.Group{domain.GroupB, domain.GroupMoto, domain.GroupLourd, domain.GroupNone} {
		if _, ok := rows[g.Label()]; !ok {
			t.Errorf("no row for %s", g.Label())
		}
	}
	for _, r := range domain.SendingTable() {
		row := rows[r.Group.Label()]
		label := typeSent(r.Group, r.Type)
		if !slices.Contains(row.Etendu, label) {
			t.Errorf("%s / %s: not under étendu (%v)", r.Group.Label(), label, row.Etendu)
		}
		if r.Guide != slices.Contains(row.Guide, label) {
			t.Errorf("%s / %s: under guide %v, want %v", r.Group.Label(), label, !r.Guide, r.Guide)
		}
	}
	if none := rows[domain.GroupNone.Label()]; none.Guide != nil || none.Etendu != nil {
		t.Errorf("the categories never sent send %+v", none)
	}
	if moto := rows[domain.GroupMoto.Label()]; moto.Guide != nil || moto.From != "01/01/2024" {
		t.Errorf("moto: guide %v, from %q", moto.Guide, moto.From)
	}
	if code := typeSent(domain.GroupB, domain.TypeCode); code != "Cours de code (donné par un formateur)" {
		t.Errorf("B's code: %q", code)
	}
}
