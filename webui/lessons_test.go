package webui

import (
	"testing"

	"livret/domain"
	"livret/school"
)

func TestStatusCellSaysTheLabelOnce(t *testing.T) {
	cell := func(st domain.Status, code domain.Code) string {
		msg := code.Message()
		text, _ := statusCell(school.Transmission{Status: string(st), Message: &msg})
		return text
	}
	for code, want := range map[domain.Code]string{
		domain.CodeCategorieNonConcernee:   "● Non concernée - Seuls les élèves en permis B sont transmis à la DSR.",
		domain.CodePlanifieeAvantConnexion: "● Non concernée - Elle a été planifiée avant la connexion du bureau à RdvPermis.",
	} {
		if got := cell(domain.StatusNotEligible, code); got != want {
			t.Errorf("%s: %q, want %q", code, got, want)
		}
	}
	// A message whose " : " is not a lead-in saying the label again is kept whole.
	if got, want := cell(domain.StatusError, domain.CodeNEPHInvalide), "● Erreur - "+domain.CodeNEPHInvalide.Message(); got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
