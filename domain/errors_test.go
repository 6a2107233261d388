package domain

import "testing"

func TestDSRCatalogue(t *testing.T) {
	want := []struct {
		code    Code
		status  int
		message string
	}{
		{CodeContratDejaConnu, 409, "Ce contrat de formation est déjà connu en base de données"},
		{CodeAutoEcoleFermee, 403, "L'auto-école est fermée"},
		{CodeEleveIntrouvable, 404, "Le duo NOM NEPH de l'élève ne permet pas de le retrouver en base"},
		{CodeCategorieSansDemande, 422, "L'élève que vous recherchez n'a pas de demande pour cette catégorie de permis"},
		{CodeLeconFuture, 422, "Il n'est pas possible de déclarer une leçon dans le futur"},
		{CodeDureeInvalide, 422, "La durée renseignée n'est pas valide. Elle doit être comprise entre 30 et 240 min."},
		{CodeContratNonAutorise, 403, "Cette auto-école n'est pas autorisée à ajouter une leçon sur ce contrat"},
		{CodeLeconEnDoublon, 409, "Cet élève a déjà une leçon renseignée à cette date et à cette heure"},
		{CodeFormatAutorisationInvalide, 422, "Le format du numéro d'autorisation du formateur n'est pas valide."},
		// docs/dsr.md, "Categories and activity types".
		{CodeTypeNonAutorise, 422, "Ce type de leçon n'est pas autorisé pour la catégorie de ce contrat de formation."},
	}
	if len(DSRCodes()) != len(want) {
		t.Fatalf("DSRCodes() has %d codes, want %d", len(DSRCodes()), len(want))
	}
	for i, w := range want {
		if DSRCodes()[i] != w.code {
			t.Errorf("DSRCodes()[%d] = %s, want %s", i, DSRCodes()[i], w.code)
		}
		e, ok := Lookup(w.code)
		if !ok {
			t.Fatalf("%s missing from the catalogue", w.code)
		}
		if e.Code != w.code || e.HTTPStatus != w.status || e.Message != w.message {
			t.Errorf("%s = %d %q, want %d %q", w.code, e.HTTPStatus, e.Message, w.status, w.message)
		}
		if e.Hint == "" || e.Status != StatusError {
			t.Errorf("%s: every DSR refusal is an error with a hint", w.code)
		}
	}
}

func TestEveryCodeHasFrenchWords(t *testing.T) {
	for code, e := range catalogue {
		if e.Message == "" || e.Hint == "" {
			t.Errorf("%s lacks a message or a hint", code)
		}
		if code.Message() != e.Message || code.Hint() != e.Hint {
			t.Errorf("%s accessors disagree with the catalogue", code)
		}
	}
	if Code("INCONNU").Message() != "INCONNU" {
		t.Error("an unknown code renders as itself")
	}
}

// TestEveryCodeIsListed: the catalogue is the DSR's codes and Livret's, each listed once.
func TestEveryCodeIsListed(t *testing.T) {
	listed := map[Code]bool{CodeTokenInvalide: true, CodeTropDeRequetes: true, CodeContratIntrouvable: true} // protocol errors, and a code outside the DSR's published table
	for _, c := range append(DSRCodes(), LivretCodes()...) {
		if listed[c] {
			t.Errorf("%s listed twice", c)
		}
		listed[c] = true
	}
	for c := range catalogue {
		if !listed[c] {
			t.Errorf("%s is in the catalogue but in neither list", c)
		}
	}
}
