package domain

import "testing"

func TestStatusLabels(t *testing.T) {
	cases := []struct {
		s             Status
		shown         Status
		label, phrase string
		atDSR         bool
	}{
		{StatusPending, StatusPending, "En attente", "en attente", false},
		{StatusSending, StatusPending, "En attente", "en attente", true},
		{StatusTransmitted, StatusTransmitted, "Transmise", "transmise", true},
		{StatusError, StatusError, "Erreur", "en erreur", false},
		{StatusNotEligible, StatusNotEligible, "Non concernée", "non concernée", false},
		{StatusCancelled, StatusCancelled, "Annulée", "annulée", false},
	}
	if len(cases) != len(Statuses()) {
		t.Fatalf("%d statuses, %d cases", len(Statuses()), len(cases))
	}
	for _, c := range cases {
		if c.s.Shown() != c.shown || c.s.Label() != c.label || c.s.Phrase() != c.phrase || c.s.AtDSR() != c.atDSR || !c.s.Known() {
			t.Errorf("%s: shown %s label %q phrase %q atDSR %v", c.s, c.s.Shown(), c.s.Label(), c.s.Phrase(), c.s.AtDSR())
		}
	}
	if Status("sent").Known() {
		t.Error("an unknown status is known")
	}
	if got := ShownAs(StatusPending); len(got) != 2 || got[0] != StatusPending || got[1] != StatusSending {
		t.Errorf("pending shows %v", got)
	}
	if got := ShownAs(StatusSending); len(got) != 0 {
		t.Errorf("nothing is shown as sending: %v", got)
	}
}

func TestTransitions(t *testing.T) {
	cases := []struct {
		from   Status
		origin Origin
		code   Code
		event  Event
		to     Status
		want   bool
	}{
		{StatusPending, OriginLivret, "", EventVerdict, StatusError, true},
		{StatusSending, OriginLivret, "", EventVerdict, StatusError, false},
		{StatusTransmitted, OriginDSR, "", EventVerdict, StatusPending, false},
		{StatusError, OriginLivret, CodeDureeInvalide, EventVerdict, StatusPending, true},
		{StatusError, OriginDSR, CodeDureeInvalide, EventVerdict, StatusPending, false},
		{StatusError, OriginDSR, CodeDureeInvalide, EventVerdict, StatusCancelled, true},
		{StatusPending, OriginLivret, "", EventMarkSending, StatusSending, true},
		{StatusError, OriginLivret, "", EventMarkSending, StatusSending, false},
		{StatusSending, OriginLivret, "", EventTransmitted, StatusTransmitted, true},
		{StatusTransmitted, OriginDSR, "", EventRefused, StatusError, false},
		{StatusError, OriginDSR, CodeLeconFuture, EventResend, StatusPending, true},
		{StatusPending, OriginLivret, "", EventResend, StatusPending, false},
		{StatusError, OriginDSR, CodeAutoEcoleFermee, EventReopen, StatusPending, true},
		{StatusError, OriginDSR, CodeLeconFuture, EventReopen, StatusPending, false},
	}
	for _, c := range cases {
		if got := CanMove(c.from, c.origin, c.code, c.event, c.to); got != c.want {
			t.Errorf("%s(%s %s) --%s--> %s: %v, want %v", c.from, c.origin, c.code, c.event, c.to, got, c.want)
		}
	}
	for _, tr := range Transitions {
		if !tr.From.Known() || len(tr.To) == 0 {
			t.Errorf("transition %+v", tr)
		}
	}
}
