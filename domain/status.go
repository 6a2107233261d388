package domain

// Status is the state of one lesson towards the DSR (docs/architecture.md, "Lesson states").
type Status string

const (
	StatusPending     Status = "pending"      // will go in the next run
	StatusSending     Status = "sending"      // a run is declaring it now (internal)
	StatusTransmitted Status = "transmitted"  // at the DSR
	StatusError       Status = "error"        // refused; data must be fixed
	StatusNotEligible Status = "not_eligible" // will not be sent; nothing to fix
	StatusCancelled   Status = "cancelled"
)

// statusInfo is what a status means to a school: the one table of its French words.
type statusInfo struct {
	// Shown is the status a school sees: "sending" is Livret's own business, and for the
	// school the lesson still waits.
	Shown Status
	// Label is the report's word ("● Transmise"); Phrase fits in a sentence ("celle-ci est
	// « transmise »").
	Label, Phrase string
	// AtDSR: the DSR has the lesson or may have it; its data can no longer change.
	AtDSR bool
}

var statuses = map[Status]statusInfo{
	StatusPending:     {Shown: StatusPending, Label: "En attente", Phrase: "en attente"},
	StatusSending:     {Shown: StatusPending, Label: "En attente", Phrase: "en attente", AtDSR: true},
	StatusTransmitted: {Shown: StatusTransmitted, Label: "Transmise", Phrase: "transmise", AtDSR: true},
	StatusError:       {Shown: StatusError, Label: "Erreur", Phrase: "en erreur"},
	StatusNotEligible: {Shown: StatusNotEligible, Label: "Non concernée", Phrase: "non concernée"},
	StatusCancelled:   {Shown: StatusCancelled, Label: "Annulée", Phrase: "annulée"},
}

// Statuses lists every status, in the order of the lesson's life.
func Statuses() []Status {
	return []Status{StatusPending, StatusSending, StatusTransmitted, StatusError, StatusNotEligible, StatusCancelled}
}

// Known reports whether s is one of Livret's statuses.
func (s Status) Known() bool { _, ok := statuses[s]; return ok }

// Shown is the status as a school sees it ("sending" shows as "pending").
func (s Status) Shown() Status {
	if i, ok := statuses[s]; ok {
		return i.Shown
	}
	return s
}

// Label is the status in the report's French words ("Transmise").
func (s Status) Label() string {
	if i, ok := statuses[s]; ok {
		return i.Label
	}
	return string(s)
}

// Phrase is the status as a French sentence says it ("en erreur").
func (s Status) Phrase() string {
	if i, ok := statuses[s]; ok {
		return i.Phrase
	}
	return string(s)
}

// AtDSR reports whether the lesson is at the DSR or on its way: its data can no longer change.
func (s Status) AtDSR() bool { return statuses[s].AtDSR }

// ShownAs lists the stored statuses a school's filter on shown status s matches ("pending"
// includes "sending").
func ShownAs(s Status) []Status {
	var out []Status
	for _, st := range Statuses() {
		if statuses[st].Shown == s {
			out = append(out, st)
		}
	}
	return out
}

// Event is what moves a lesson from one status to another.
type Event string

const (
	// EventVerdict: Livret's own rules judged the lesson (at entry, or after its student,
	// instructor or office changed, or when a run loads it).
	EventVerdict Event = "verdict"
	// EventMarkSending: a run is about to POST it (committed before the call).
	EventMarkSending Event = "mark_sending"
	// EventUnmarkSending: a group marked it sending from pending and a fault stopped the
	// group before its POST: nothing of it left Livret, so it waits again.
	EventUnmarkSending Event = "unmark_sending"
	// EventTransmitted: the DSR holds it (a 201, or found by the look-up).
	EventTransmitted Event = "transmitted"
	// EventRefused: the DSR refused it (or its contract), in its own words.
	EventRefused Event = "refused"
	// EventResend: the admin fixed the data and asks for one more try.
	EventResend Event = "resend"
	// EventReopen: the operator reopened a school the DSR had reported closed; the lessons
	// refused for that reason only wait again.
	EventReopen Event = "reopen"
)

// Origin says who set an error: a DSR refusal stays until the admin resends, as a fix of
// ours cannot know the DSR would now accept it.
type Origin string

const (
	OriginLivret Origin = "livret"
	OriginDSR    Origin = "dsr"
)

// Transition is one allowed move of the lesson status machine.
type Transition struct {
	From  Status
	Event Event
	To    []Status
	// FromOrigin, when set, restricts From to errors of that origin.
	FromOrigin Origin
	// Code, when set, restricts From to errors of that code.
	Code Code
	Why  string
}

// verdicts are the statuses Livret's own rules give (Evaluate).
var verdicts = []Status{StatusPending, StatusError, StatusNotEligible, StatusCancelled}

// Transitions is the lesson status machine: every move a lesson's transmission may make.
// The SQL statements that change a transmission guard on these rules; db's tests check each
// guard against this table (TestTransmissionGuardsFollowTheStatusTable).
var Transitions = []Transition{
	{From: StatusPending, Event: EventVerdict, To: verdicts, Why: "not sent yet: Livret's rules decide"},
	{From: StatusNotEligible, Event: EventVerdict, To: verdicts, Why: "its data changed: judged again"},
	{From: StatusCancelled, Event: EventVerdict, To: verdicts, Why: "re-judged like any untransmitted lesson"},
	{From: StatusError, FromOrigin: OriginLivret, Event: EventVerdict, To: verdicts, Why: "Livret's own refusal: a fix lifts it"},
	{From: StatusError, FromOrigin: OriginDSR, Event: EventVerdict, To: []Status{StatusNotEligible, StatusCancelled},
		Why: "a DSR refusal stays until the admin resends, unless the lesson is no longer to be sent at all"},
	{From: StatusPending, Event: EventMarkSending, To: []Status{StatusSending}, Why: "committed before the POST"},
	{From: StatusSending, Event: EventMarkSending, To: []Status{StatusSending}, Why: "a retry: looked up at the DSR before any new POST"},
	{From: StatusSending, Event: EventUnmarkSending, To: []Status{StatusPending},
		Why: "marked by this attempt from pending and never posted (TransmissionUnmarkSending guards on the mark's attempts)"},
	{From: StatusPending, Event: EventTransmitted, To: []Status{StatusTransmitted}},
	{From: StatusSending, Event: EventTransmitted, To: []Status{StatusTransmitted}},
	{From: StatusPending, Event: EventRefused, To: []Status{StatusError}, Why: "a contract refusal reaches lessons not yet marked"},
	{From: StatusSending, Event: EventRefused, To: []Status{StatusError}},
	{From: StatusError, Event: EventResend, To: []Status{StatusPending}, Why: "the admin fixed the data"},
	{From: StatusError, Event: EventReopen, Code: CodeAutoEcoleFermee, To: []Status{StatusPending},
		Why: "the school is open again: only the lessons refused for its closing wait again"},
}

// CanMove reports whether a lesson in status from (with that error origin and code) may move
// to status to on event.
func CanMove(from Status, origin Origin, code Code, event Event, to Status) bool {
	for _, t := range Transitions {
		if t.From != from || t.Event != event {
			continue
		}
		if t.FromOrigin != "" && t.FromOrigin != origin {
			continue
		}
		if t.Code != "" && t.Code != code {
			continue
		}
		for _, s := range t.To {
			if s == to {
				return true
			}
		}
	}
	return false
}
